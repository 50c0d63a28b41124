//! Orchestration: builds the scanner once, walks the staged change, writes the report.

use std::io::{IsTerminal, Write};

use crate::cli::{Cli, ColorChoice, Command, Format, ListFormat, RulesAction, RulesArgs, ScanArgs};
use crate::error::{Error, Result};
use crate::examples;
use crate::report::{self, Outcome};
use crate::rules::{BUILTIN_RULES, RuleSet};
use crate::scan::Scanner;
use crate::staged::StagedChange;

/// The process exit status, decided once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    /// Nothing found: the commit may proceed.
    Clean = 0,
    /// At least one finding: the commit is blocked.
    Blocked = 1,
    /// The check could not run: the commit is blocked too (fail closed).
    Error = 2,
}

/// Runs one command and returns how the process should exit.
pub fn run(cli: &Cli) -> Result<ExitStatus> {
    configure_color(cli.color);
    match &cli.command {
        Command::ScanStaged(args) => scan_staged(args),
        Command::Rules(args) => list_rules(args),
    }
}

fn configure_color(choice: ColorChoice) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let enabled = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
    };
    colored::control::set_override(enabled);
}

fn scan_staged(args: &ScanArgs) -> Result<ExitStatus> {
    let scanner = Scanner::new(RuleSet::builtin()?);
    let staged = StagedChange::open()?;
    let mut outcome = Outcome::default();
    let mut findings = Vec::new();
    let mut suppressed_inline = 0;
    staged.for_each_file(&mut outcome.stats.staged, |file, added| {
        let content = file.content();
        let candidates = scanner.candidates(content);
        if !candidates.is_empty() {
            let blob = scanner.scan(&file.display_path(), content, added, &candidates);
            suppressed_inline += blob.suppressed_inline;
            findings.extend(blob.findings);
        }
        Ok(())
    })?;
    outcome.findings = findings;
    outcome.stats.suppressed_inline = suppressed_inline;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Human => report::human::write(&mut stdout, &outcome, scanner.rules())?,
        Format::Json => report::json::write(&mut stdout, &outcome)?,
    }
    stdout.flush()?;
    Ok(if outcome.findings.is_empty() {
        ExitStatus::Clean
    } else {
        ExitStatus::Blocked
    })
}

fn list_rules(args: &RulesArgs) -> Result<ExitStatus> {
    if let Some(RulesAction::Check { rules }) = &args.action {
        return check_rules(rules.as_deref());
    }
    let rules = RuleSet::builtin()?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        ListFormat::Human => report::rules::write_table(&mut stdout, &rules)?,
        ListFormat::Json => report::rules::write_json(&mut stdout, &rules)?,
        ListFormat::Markdown => report::rules::write_markdown(&mut stdout, &rules)?,
    }
    Ok(ExitStatus::Clean)
}

fn check_rules(path: Option<&std::path::Path>) -> Result<ExitStatus> {
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
    let rule_count = set.as_ref().map_or(0, |s| s.rules.len());
    if let Some(set) = set {
        problems.extend(examples::check(&Scanner::new(set)));
    }
    let mut stdout = std::io::stdout().lock();
    for problem in &problems {
        writeln!(stdout, "{origin}: {problem}")?;
    }
    if problems.is_empty() {
        writeln!(
            stdout,
            "{origin}: {rule_count} rules ok: each matched its examples in every context and missed its negatives"
        )?;
        Ok(ExitStatus::Clean)
    } else {
        writeln!(stdout, "{origin}: {} problems", problems.len())?;
        Ok(ExitStatus::Blocked)
    }
}

/// Replaces the default panic message, which could quote data, with one that names only the
/// source location, and says the commit is blocked.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "tokenguard: internal error at {location} (a bug; please report it); the commit is \
             blocked; to commit anyway, deliberately: git commit --no-verify"
        );
    }));
}
