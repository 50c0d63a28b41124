//! `tokenguard rules` (list the catalog) and `tokenguard rules check` (validate a rules file
//! and run every rule's examples).

use std::io::Write;

use super::{repository_root, settings_for};
use crate::cli::{ListFormat, RulesAction, RulesArgs};
use crate::config::ConfigOptions;
use crate::detect::Scanner;
use crate::detect::examples;
use crate::detect::rules::{BUILTIN_RULES, RuleSet};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::report;

pub(super) fn run(args: &RulesArgs, options: &ConfigOptions) -> Result<ExitStatus> {
    if let Some(RulesAction::Check { rules }) = &args.action {
        return check_rules(rules.as_deref(), options);
    }
    let settings = settings_for(options, repository_root().as_deref())?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        ListFormat::Human => report::rules::write_table(&mut stdout, &settings.rules)?,
        ListFormat::Json => report::rules::write_json(&mut stdout, &settings.rules)?,
        ListFormat::Markdown => report::rules::write_markdown(&mut stdout, &settings.rules)?,
    }
    Ok(ExitStatus::Clean)
}

/// Validates a rules file (and the configuration's custom rules on top of the built-in ones)
/// and runs every rule's examples; each problem is printed with its rule id.
fn check_rules(path: Option<&std::path::Path>, options: &ConfigOptions) -> Result<ExitStatus> {
    let (text, origin) = match path {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?,
            path.display().to_string(),
        ),
        None => (BUILTIN_RULES.to_string(), "built-in rules".to_string()),
    };
    let (set, mut problems) = RuleSet::check_toml(&text, &origin)?;
    let mut rule_count = 0;
    if let Some(set) = set {
        let set = match path {
            Some(_) => set,
            // Config errors (file:line:column) end the check with status 2, like a scan.
            None => settings_for(options, repository_root().as_deref())?.rules,
        };
        rule_count = set.rules.len();
        problems.extend(examples::check(&Scanner::new(set)));
    }
    let mut stdout = std::io::stdout().lock();
    for problem in &problems {
        writeln!(stdout, "{origin}: {problem}")?;
    }
    if problems.is_empty() {
        writeln!(
            stdout,
            "{rule_count} rules ok: each matched its examples in every context and missed its negatives"
        )?;
        Ok(ExitStatus::Clean)
    } else {
        writeln!(stdout, "{} problems", problems.len())?;
        Ok(ExitStatus::Blocked)
    }
}
