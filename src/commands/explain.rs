//! `tokenguard explain RULE|FINGERPRINT`: the whole story of a rule, or of a staged finding
//! named by the fingerprint a report printed.

use std::io::Write;

use super::{repository_root, settings_for};
use crate::cli::ExplainArgs;
use crate::config::ConfigOptions;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::git::Repo;
use crate::report::{self, catalog::Catalog};
use crate::scan::{Checks, Environment, Source, gather};

pub(super) fn run(
    args: &ExplainArgs,
    options: &ConfigOptions,
    env: &Environment,
) -> Result<ExitStatus> {
    let what = args.what.trim();
    let is_fingerprint = what.len() == 32 && what.bytes().all(|b| b.is_ascii_hexdigit());
    let mut text = Vec::new();
    if is_fingerprint {
        let repo = Repo::open()?;
        let checks = Checks {
            verify: false,
            verify_timeout: 5.0,
            quiet: true,
        };
        let settings = settings_for(options, repo.workdir())?;
        let (outcome, scanner) = gather(&repo, &Source::Staged, checks, settings, env)?;
        let wanted = what.to_ascii_lowercase();
        let Some(finding) = outcome.findings.iter().find(|f| f.fingerprint == wanted) else {
            return Err(Error::Usage(format!(
                "no staged finding has the fingerprint {wanted}: stage the file again, or give the rule id the report printed (tokenguard rules lists them)"
            )));
        };
        let catalog = Catalog::of_rules(scanner.rules(), [finding.rule_id.as_str()]);
        let rule = catalog
            .rule(&finding.rule_id)
            .ok_or_else(|| unknown(&finding.rule_id))?;
        report::explain::write(
            &mut text,
            rule,
            catalog.provider(rule.provider),
            Some(finding),
        )?;
    } else {
        let settings = settings_for(options, repository_root().as_deref())?;
        let catalog = Catalog::of_rules(&settings.rules, [what]);
        let rule = catalog.rule(what).ok_or_else(|| unknown(what))?;
        report::explain::write(&mut text, rule, catalog.provider(rule.provider), None)?;
    }
    let text = String::from_utf8_lossy(&text);
    let text = match report::wrap::terminal_width() {
        Some(width) => report::wrap::wrap(&text, width),
        None => text.into_owned(),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(ExitStatus::Clean)
}

fn unknown(what: &str) -> Error {
    Error::Usage(format!(
        "{what:?} is neither a rule id nor a fingerprint (32 hex digits): tokenguard rules lists the rules"
    ))
}
