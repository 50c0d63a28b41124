//! Orchestration: builds the settings and scanner once, walks the staged change, writes the
//! report; and the small commands around it (rules, config, ignore).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::cli::{
    Cli, ColorChoice, Command, ConfigArgs, Format, IgnoreArgs, ListFormat, RulesAction, RulesArgs,
    ScanArgs,
};
use crate::config::{self, ConfigOptions, IGNORE_FILE, Settings};
use crate::error::{Error, Result};
use crate::examples;
use crate::report::{self, Outcome, Warning, WarningKind};
use crate::rules::{BUILTIN_RULES, RuleSet};
use crate::scan::Scanner;
use crate::staged::{SkipReason, Staged, StagedChange, WalkOptions};

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
    let options = ConfigOptions {
        config: cli.config.clone(),
        no_config: cli.no_config,
    };
    match &cli.command {
        Command::ScanStaged(args) => scan_staged(args, &options),
        Command::Rules(args) => rules_command(args, &options),
        Command::Config(args) => show_config(args, &options),
        Command::Ignore(args) => ignore(args),
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

/// Settings for a repository rooted at `workdir` (config layers and the ignore file there).
fn settings_for(options: &ConfigOptions, workdir: Option<&std::path::Path>) -> Result<Settings> {
    let layers = config::load_layers(options, workdir)?;
    let ignore_file = match options.no_config {
        true => None,
        false => workdir.map(|root| root.join(IGNORE_FILE)),
    };
    Settings::build(&layers, ignore_file.as_deref())
}

fn scan_staged(args: &ScanArgs, options: &ConfigOptions) -> Result<ExitStatus> {
    let staged = StagedChange::open()?;
    let settings = settings_for(options, staged.workdir())?;
    let walk = WalkOptions {
        max_file_size: settings.scan.max_file_size,
        scan_binary: settings.scan.scan_binary,
    };
    let block_sensitive = settings.scan.block_sensitive_files;
    let sensitive = |path: &str| settings.is_sensitive(path);
    let scanner = Scanner::with_policy(settings.rules.clone(), settings.policy.clone());

    let mut outcome = Outcome::default();
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    let mut suppressed = std::collections::BTreeMap::new();
    staged.for_each_file(walk, &mut outcome.stats.staged, |entry| {
        let path = match &entry {
            Staged::Text { file, .. } => file.display_path(),
            Staged::Skipped { path, .. } => path.clone(),
        };
        if sensitive(&path) {
            warnings.push(Warning {
                kind: WarningKind::SensitiveFile,
                message: "a file that holds credentials by convention is staged; keep it out of git (add it to .gitignore and `git restore --staged` it)".to_string(),
                path: path.clone(),
                blocks: block_sensitive,
            });
        }
        match entry {
            Staged::Text { file, added } => {
                let content = file.content();
                let candidates = scanner.candidates(content);
                if !candidates.is_empty() {
                    let blob = scanner.scan(&path, content, added, &candidates);
                    for (origin, count) in blob.suppressed {
                        *suppressed.entry(origin).or_insert(0) += count;
                    }
                    findings.extend(blob.findings);
                }
            }
            Staged::Skipped {
                reason: SkipReason::TooLarge { size, limit },
                ..
            } => warnings.push(Warning {
                kind: WarningKind::TooLarge,
                message: format!("not scanned: {size} bytes is over the configured max_file_size of {limit} bytes"),
                path,
                blocks: false,
            }),
            Staged::Skipped { .. } => {}
        }
        Ok(())
    })?;
    outcome.findings = findings;
    outcome.warnings = warnings;
    outcome.stats.suppressed = suppressed;

    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Human => report::human::write(&mut stdout, &outcome, scanner.rules())?,
        Format::Json => report::json::write(&mut stdout, &outcome)?,
    }
    stdout.flush()?;
    Ok(if outcome.blocks() {
        ExitStatus::Blocked
    } else {
        ExitStatus::Clean
    })
}

fn rules_command(args: &RulesArgs, options: &ConfigOptions) -> Result<ExitStatus> {
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

fn show_config(args: &ConfigArgs, options: &ConfigOptions) -> Result<ExitStatus> {
    let root = repository_root();
    let settings = settings_for(options, root.as_deref())?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Human => report::config::write_human(&mut stdout, &settings, root.as_deref())?,
        Format::Json => report::config::write_json(&mut stdout, &settings)?,
    }
    Ok(ExitStatus::Clean)
}

fn ignore(args: &IgnoreArgs) -> Result<ExitStatus> {
    if !config::is_fingerprint(&args.fingerprint) {
        return Err(Error::Usage(format!(
            "{:?} is not a fingerprint: copy the 32 hex digits a report prints next to a finding",
            args.fingerprint
        )));
    }
    let root = repository_root().ok_or_else(|| {
        Error::NotARepository(
            "tokenguard ignore writes .tokenguardignore at the top of a worktree".into(),
        )
    })?;
    let path = root.join(IGNORE_FILE);
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(Error::Read { path, source }),
    };
    let mut stdout = std::io::stdout().lock();
    if config::read_ignore_file_text(&existing).contains(&args.fingerprint) {
        writeln!(
            stdout,
            "{} is already in {}",
            args.fingerprint,
            path.display()
        )?;
        return Ok(ExitStatus::Clean);
    }
    let reason = args.reason.replace(['\n', '\r'], " ");
    let separator = if existing.is_empty() || existing.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    let text = format!("{existing}{separator}{}  # {reason}\n", args.fingerprint);
    std::fs::write(&path, text).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    writeln!(
        stdout,
        "added {} to {} ({reason})",
        args.fingerprint,
        path.display()
    )?;
    Ok(ExitStatus::Clean)
}

/// The worktree's top level when run inside a repository.
fn repository_root() -> Option<PathBuf> {
    StagedChange::open()
        .ok()
        .and_then(|s| s.workdir().map(PathBuf::from))
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
