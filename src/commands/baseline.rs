//! `tokenguard baseline [REV] --reason R [--verify]`: adopting tokenguard on an existing
//! repository. Records every finding `scan-tree REV` reports today in `.tokenguardignore`,
//! so that CI on the tree passes and anything new still blocks; refuses, with `--verify`,
//! to record a token its provider says is live.

use std::io::Write;

use super::settings_for;
use crate::cli::BaselineArgs;
use crate::config::{self, ConfigOptions, IGNORE_FILE};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::finding::{Finding, Status};
use crate::git::Repo;
use crate::scan::{Checks, Environment, Source, gather};

pub(super) fn run(
    args: &BaselineArgs,
    options: &ConfigOptions,
    env: &Environment,
) -> Result<ExitStatus> {
    let reason = crate::redact::typed(&args.reason.replace(['\n', '\r'], " "));
    if reason.trim().is_empty() {
        return Err(Error::Usage(
            "--reason must say why today's findings are accepted (it is kept in .tokenguardignore)"
                .into(),
        ));
    }
    let repo = Repo::open()?;
    let root = repo
        .workdir()
        .map(std::path::Path::to_path_buf)
        .ok_or_else(|| {
            Error::NotARepository(
                "tokenguard baseline writes .tokenguardignore at the top of a worktree".into(),
            )
        })?;
    let path = root.join(IGNORE_FILE);
    let (existing, known) = config::ignore_file_for_append(&path)?;
    let checks = Checks {
        verify: args.verify,
        verify_timeout: args.verify_timeout,
        quiet: false,
    };
    let settings = settings_for(options, repo.workdir())?;
    if let Some(seconds) = settings.scan.timeout {
        super::start_watchdog(seconds, Some(crate::report::Mode::Files));
    }
    let source = Source::Tree(args.rev.clone());
    let (outcome, _) = gather(&repo, &source, checks, settings, env)?;
    let mut stdout = std::io::stdout().lock();
    let live: Vec<&Finding> = outcome
        .findings
        .iter()
        .filter(|f| f.verification == Some(Status::Live))
        .collect();
    if !live.is_empty() {
        writeln!(
            stdout,
            "tokenguard: refusing to record {} finding(s) that the provider says are live; revoke them (and remove them from the tree) first, nothing was written:",
            live.len()
        )?;
        for finding in live {
            writeln!(stdout, "  {}", describe(finding))?;
        }
        return Ok(ExitStatus::Blocked);
    }
    let mut recorded: Vec<&Finding> = Vec::new();
    for finding in &outcome.findings {
        let seen = known.contains(&finding.fingerprint)
            || recorded
                .iter()
                .any(|r| r.fingerprint == finding.fingerprint);
        if !seen {
            recorded.push(finding);
        }
    }
    if recorded.is_empty() {
        writeln!(
            stdout,
            "nothing to record: scan-tree {} reports no finding that {} does not hold already",
            args.rev, IGNORE_FILE
        )?;
        return Ok(ExitStatus::Clean);
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for finding in &recorded {
        text.push_str(&format!(
            "{}  # {reason} (baseline: {} {}:{})\n",
            finding.fingerprint,
            finding.rule_id,
            printable(finding.path()),
            finding.line
        ));
    }
    std::fs::write(&path, text).map_err(|source| Error::WriteFile {
        path: path.clone(),
        source,
    })?;
    writeln!(
        stdout,
        "recorded {} finding(s) of {} in {} ({reason}):",
        recorded.len(),
        args.rev,
        path.display()
    )?;
    for finding in recorded {
        writeln!(stdout, "  {}", describe(finding))?;
    }
    writeln!(
        stdout,
        "commit {IGNORE_FILE}; new findings still block. Rotate any of these that was ever real."
    )?;
    Ok(ExitStatus::Clean)
}

/// One finding on one line, redacted.
fn describe(finding: &Finding) -> String {
    format!(
        "{}:{}:{}  {}  {}  fingerprint {}",
        printable(finding.path()),
        finding.line,
        finding.column,
        finding.rule_id,
        finding.secret_redacted,
        finding.fingerprint
    )
}

/// A path on one line of a text file or a terminal: control characters replaced.
fn printable(path: &str) -> String {
    path.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
