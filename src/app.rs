//! Orchestration: builds the settings and scanner once, walks the staged change, writes the
//! report; and the small commands around it (rules, config, ignore).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::cli::{
    Cli, ColorChoice, Command, ConfigArgs, Format, IgnoreArgs, ListFormat, RulesAction, RulesArgs,
    ScanArgs, ScanFormat,
};
use crate::config::{self, ConfigOptions, IGNORE_FILE, SensitiveMatcher, Settings};
use crate::error::{Error, Result};
use crate::examples;
use crate::finding::Finding;
use crate::install;
use crate::lines;
use crate::report::{self, Mode, Outcome, Warning, WarningKind};
use crate::rules::{BUILTIN_RULES, RuleSet};
use crate::scan::Scanner;
use crate::staged::{
    ChangeSet, Entry, Repo, SkipReason, StagedStats, WalkOptions, parse_ref_updates,
};
use crate::verify;

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
        Command::ScanStaged { paths, output } => {
            let repo = Repo::open()?;
            let source = staged_source(&repo, paths)?;
            scan(&repo, source, output, &options)
        }
        Command::ScanFiles { paths, output } => {
            let repo = Repo::open()?;
            scan(&repo, Source::Paths(paths.clone()), output, &options)
        }
        Command::ScanTree { rev, output } => {
            let repo = Repo::open()?;
            scan(&repo, Source::Tree(rev.clone()), output, &options)
        }
        Command::ScanRange { range, output } => {
            let repo = Repo::open()?;
            let commits = repo.range_commits(range)?;
            scan(
                &repo,
                Source::Commits(commits, Mode::History),
                output,
                &options,
            )
        }
        Command::ScanPush { remote, output, .. } => {
            let repo = Repo::open()?;
            let source = push_source(&repo, remote.as_deref())?;
            scan(&repo, source, output, &options)
        }
        Command::Install(args) => install::install(args),
        Command::Uninstall(args) => install::uninstall(args),
        Command::Rules(args) => rules_command(args, &options),
        Command::Config(args) => show_config(args, &options),
        Command::Ignore(args) => ignore(args),
    }
}

fn configure_color(choice: ColorChoice) {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    let enabled = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR") => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE") => true,
        ColorChoice::Auto => std::io::stdout().is_terminal(),
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

/// What a scan reads.
enum Source {
    /// The commit being made.
    Staged,
    /// Files, whole.
    Paths(Vec<PathBuf>),
    /// Every file of a tree, whole.
    Tree(String),
    /// What each commit adds.
    Commits(Vec<git2::Oid>, Mode),
}

/// `scan-staged` as a hook and under the pre-commit framework: the framework's pre-push stage
/// names a range; `pre-commit run --all-files` (the framework, nothing staged) or file names
/// with nothing staged mean "scan these files", never "clean after zero bytes".
fn staged_source(repo: &Repo, paths: &[PathBuf]) -> Result<Source> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(from), Some(to)) = (var("PRE_COMMIT_FROM_REF"), var("PRE_COMMIT_TO_REF")) {
        return Ok(Source::Commits(
            framework_range(repo, &from, &to)?,
            Mode::Push,
        ));
    }
    let framework = var("PRE_COMMIT").is_some();
    if (framework || !paths.is_empty()) && repo.nothing_staged()? {
        return Ok(Source::Paths(paths.to_vec()));
    }
    Ok(Source::Staged)
}

/// The commits of the framework's FROM..TO; an all-zero FROM (a new branch) means everything
/// TO has that the remote-tracking refs do not.
fn framework_range(repo: &Repo, from: &str, to: &str) -> Result<Vec<git2::Oid>> {
    if from.chars().all(|c| c == '0') {
        let remote = std::env::var("PRE_COMMIT_REMOTE_NAME").unwrap_or_else(|_| "origin".into());
        let update = crate::staged::RefUpdate {
            local_ref: to.to_string(),
            new: git2::Oid::from_str(to)
                .map_err(Error::git("PRE_COMMIT_TO_REF is not a commit id"))?,
            old: git2::Oid::ZERO_SHA1,
        };
        return repo.update_commits(&update, &[format!("refs/remotes/{remote}/*")]);
    }
    repo.range_commits(&format!("{from}..{to}"))
}

/// `scan-push`: the ref updates on stdin (pre-push or pre-receive format), or the framework's
/// range.
fn push_source(repo: &Repo, remote: Option<&str>) -> Result<Source> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(from), Some(to)) = (var("PRE_COMMIT_FROM_REF"), var("PRE_COMMIT_TO_REF")) {
        return Ok(Source::Commits(
            framework_range(repo, &from, &to)?,
            Mode::Push,
        ));
    }
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input).map_err(|source| {
        Error::Read {
            path: PathBuf::from("<stdin>"),
            source,
        }
    })?;
    let updates = parse_ref_updates(&input)?;
    // What the other side has already: the remote-tracking refs for a push; every existing
    // ref for a server receiving one (new objects are not referenced yet).
    let known: Vec<String> = match remote {
        Some(remote) => vec![format!("refs/remotes/{remote}/*")],
        None if repo.workdir().is_none() => vec!["refs/*".to_string()],
        None => Vec::new(),
    };
    let mut commits = Vec::new();
    for update in &updates {
        for id in repo.update_commits(update, &known)? {
            if !commits.contains(&id) {
                commits.push(id);
            }
        }
    }
    Ok(Source::Commits(commits, Mode::Push))
}

/// Accumulates what a scan finds, over any source; one per thread, merged at the end.
struct Collector<'a> {
    sensitive: &'a SensitiveMatcher,
    block_sensitive: bool,
    scanner: &'a Scanner,
    mode: Mode,
    findings: Vec<Finding>,
    warnings: Vec<Warning>,
    suppressed: BTreeMap<String, usize>,
    stats: StagedStats,
    /// Only with `--verify`: the secrets of the findings, by fingerprint.
    secrets: Vec<(String, verify::Secret)>,
}

impl<'a> Collector<'a> {
    fn new(
        sensitive: &'a SensitiveMatcher,
        block_sensitive: bool,
        scanner: &'a Scanner,
        mode: Mode,
    ) -> Collector<'a> {
        Collector {
            sensitive,
            block_sensitive,
            scanner,
            mode,
            findings: Vec::new(),
            warnings: Vec::new(),
            suppressed: BTreeMap::new(),
            stats: StagedStats::default(),
            secrets: Vec::new(),
        }
    }

    /// An empty collector with the same settings, for another thread.
    fn fork(&self) -> Collector<'a> {
        Collector::new(
            self.sensitive,
            self.block_sensitive,
            self.scanner,
            self.mode,
        )
    }

    fn absorb(&mut self, other: Collector<'_>) {
        self.findings.extend(other.findings);
        self.warnings.extend(other.warnings);
        for (origin, count) in other.suppressed {
            *self.suppressed.entry(origin).or_insert(0) += count;
        }
        self.stats.add(&other.stats);
        self.secrets.extend(other.secrets);
    }

    fn visit(&mut self, entry: Entry<'_>, commit: Option<git2::Oid>) -> Result<()> {
        let path = match &entry {
            Entry::Text { path, .. } => path.to_string(),
            Entry::Skipped { path, .. } => path.clone(),
        };
        // A .env-style file matters when a commit adds it, not in every file of a tree.
        if self.sensitive.matches(&path) && self.mode != Mode::Files {
            self.warnings.push(Warning {
                kind: WarningKind::SensitiveFile,
                message: "a file that holds credentials by convention is staged; keep it out of git (add it to .gitignore and `git restore --staged` it)".to_string(),
                path: path.clone(),
                blocks: self.block_sensitive,
            });
        }
        let (path, content, added) = match entry {
            Entry::Text {
                path,
                content,
                added,
            } => (path, content, added),
            Entry::Skipped { path, reason } => {
                let (kind, message) = match reason {
                    SkipReason::TooLarge { size, limit } => (
                        WarningKind::TooLarge,
                        format!(
                            "not scanned: {size} bytes is over the configured max_file_size of {limit} bytes"
                        ),
                    ),
                    SkipReason::Binary => (
                        WarningKind::Binary,
                        "not scanned: binary (a NUL in the first 8000 bytes)".to_string(),
                    ),
                };
                self.warnings.push(Warning {
                    kind,
                    path,
                    message,
                    blocks: false,
                });
                return Ok(());
            }
        };
        self.stats.files_scanned += 1;
        self.stats.bytes_scanned += content.len() as u64;
        // No keyword, no finding: such a blob needs no line diff at all.
        let candidates = self.scanner.candidates(content);
        if candidates.is_empty() {
            match added.without_diff() {
                Some(all) => self.stats.added_lines += all.count(lines::line_count(content)),
                None => self.stats.diffs_skipped += 1,
            }
            return Ok(());
        }
        let added = added.lines()?;
        self.stats.added_lines += added.count(lines::line_count(content));
        if added.is_empty() {
            return Ok(());
        }
        let blob = self.scanner.scan(path, content, &added, &candidates);
        for (origin, count) in blob.suppressed {
            *self.suppressed.entry(origin).or_insert(0) += count;
        }
        for mut finding in blob.findings {
            finding.commit = commit.map(|c| c.to_string());
            self.findings.push(finding);
        }
        self.secrets.extend(blob.secrets);
        Ok(())
    }
}

/// Below this many changed files one thread does it all: threads cost more than they save.
const PARALLEL_MIN_CHANGES: usize = 16;

/// Visits every change of a set, on all cores when the set is large: each thread opens its
/// own handle on the repository (libgit2 handles are not shared between threads) and takes
/// the next change from a shared counter. Findings keep a stable order (path, line, column).
fn visit_change_set(
    repo: &Repo,
    set: &ChangeSet,
    walk: WalkOptions,
    commit: Option<git2::Oid>,
    collector: &mut Collector<'_>,
) -> Result<()> {
    let first_finding = collector.findings.len();
    let first_warning = collector.warnings.len();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || set.changes.len() < PARALLEL_MIN_CHANGES {
        let others = repo.trees(&set.other_parents)?;
        let mut skips = StagedStats::default();
        for change in &set.changes {
            repo.visit_change(change, &others, walk, &mut skips, &mut |entry| {
                collector.visit(entry, commit)
            })?;
        }
        collector.stats.add(&skips);
    } else {
        let next = AtomicUsize::new(0);
        let locals: Vec<Collector<'_>> = (0..threads).map(|_| collector.fork()).collect();
        let results: Vec<Result<Collector<'_>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = locals
                .into_iter()
                .map(|mut local| {
                    let next = &next;
                    scope.spawn(move || {
                        let repo = Repo::open()?;
                        let others = repo.trees(&set.other_parents)?;
                        let mut skips = StagedStats::default();
                        while let Some(change) =
                            set.changes.get(next.fetch_add(1, Ordering::Relaxed))
                        {
                            repo.visit_change(change, &others, walk, &mut skips, &mut |entry| {
                                local.visit(entry, commit)
                            })?;
                        }
                        local.stats.add(&skips);
                        Ok(local)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        for result in results {
            collector.absorb(result?);
        }
    }
    collector.findings[first_finding..].sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
    });
    collector.warnings[first_warning..].sort_by(|a, b| a.path.cmp(&b.path));
    Ok(())
}

/// `--verify`: asks each provider about the found tokens (one request per distinct secret),
/// records the answer on each finding, and puts live tokens first.
fn check_liveness(collector: &mut Collector<'_>, scanner: &Scanner, timeout: std::time::Duration) {
    let secrets = std::mem::take(&mut collector.secrets);
    let checks: Vec<verify::Check<'_>> = secrets
        .into_iter()
        .filter_map(|(fingerprint, secret)| {
            let finding = collector
                .findings
                .iter()
                .find(|f| f.fingerprint == fingerprint)?;
            let rule = scanner
                .rules()
                .rules
                .iter()
                .find(|r| r.id() == finding.rule_id)?;
            Some(verify::Check {
                fingerprint,
                spec: rule.spec.verify.as_ref(),
                secret,
            })
        })
        .collect();
    let options = verify::Options {
        timeout,
        ..verify::Options::default()
    };
    let statuses = verify::verify_all(checks, options);
    for finding in &mut collector.findings {
        finding.verification = statuses.get(&finding.fingerprint).cloned();
    }
    // Live tokens first: they need revoking now.
    collector
        .findings
        .sort_by_key(|f| !matches!(f.verification, Some(verify::Status::Live)));
}

fn scan(
    repo: &Repo,
    source: Source,
    output: &ScanArgs,
    options: &ConfigOptions,
) -> Result<ExitStatus> {
    let settings = settings_for(options, repo.workdir())?;
    let walk = WalkOptions {
        max_file_size: settings.scan.max_file_size,
        scan_binary: settings.scan.scan_binary,
    };
    let block_sensitive = settings.scan.block_sensitive_files;
    let verify = output.verify || settings.scan.verify;
    let Settings {
        rules,
        policy,
        sensitive,
        ..
    } = settings;
    let scanner = Scanner::with_policy(rules, policy).keeping_secrets(verify);
    let mode = match &source {
        Source::Staged => Mode::Commit,
        Source::Paths(_) | Source::Tree(_) => Mode::Files,
        Source::Commits(_, mode) => *mode,
    };
    let mut collector = Collector::new(&sensitive, block_sensitive, &scanner, mode);
    match &source {
        Source::Staged => {
            let set = repo.staged_changes(&mut collector.stats)?;
            visit_change_set(repo, &set, walk, None, &mut collector)?;
        }
        Source::Paths(paths) => {
            let paths = if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths.clone()
            };
            let mut stats = StagedStats::default();
            repo.walk_paths(&paths, walk, &mut stats, |e| collector.visit(e, None))?;
            collector.stats.add(&stats);
        }
        Source::Tree(rev) => {
            let mut stats = StagedStats::default();
            repo.walk_tree(rev, walk, &mut stats, |e| collector.visit(e, None))?;
            collector.stats.add(&stats);
        }
        Source::Commits(commits, _) => {
            for id in commits {
                let set = repo.commit_changes(*id, &mut collector.stats)?;
                visit_change_set(repo, &set, walk, Some(*id), &mut collector)?;
            }
        }
    }
    if verify {
        let timeout = std::time::Duration::from_secs_f64(output.verify_timeout.clamp(0.1, 120.0));
        check_liveness(&mut collector, &scanner, timeout);
    }
    let outcome = Outcome {
        mode,
        findings: collector.findings,
        warnings: collector.warnings,
        stats: report::Stats {
            staged: collector.stats,
            suppressed: collector.suppressed,
        },
    };

    let status = if outcome.blocks() && !output.exit_zero {
        ExitStatus::Blocked
    } else {
        ExitStatus::Clean
    };
    let mut stdout = std::io::stdout().lock();
    let written = match output.format {
        ScanFormat::Human => report::human::write(&mut stdout, &outcome, scanner.rules(), output),
        ScanFormat::Json => report::json::write(&mut stdout, &outcome),
        ScanFormat::Sarif => report::sarif::write(&mut stdout, &outcome, scanner.rules()),
    }
    .and_then(|()| stdout.flush());
    match written {
        // A reader that stopped early (`| head`) does not change what was found.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(status),
        Err(err) => Err(err.into()),
        Ok(()) => Ok(status),
    }
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
    // A malformed ignore file is reported, not appended to.
    if config::parse_ignore_file(&existing, &path)?.contains(&args.fingerprint) {
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
    Repo::open()
        .ok()
        .and_then(|repo| repo.workdir().map(PathBuf::from))
}

/// Replaces every string a built-in rule's regex matches (its secret group) with the redacted
/// form: for error messages, which can quote a config file or a path.
pub fn redact_secrets(text: &str) -> String {
    let Ok(rules) = RuleSet::builtin() else {
        return text.to_string();
    };
    let mut spans: Vec<(usize, usize)> = rules
        .rules
        .iter()
        .flat_map(|rule| {
            rule.regex()
                .captures_iter(text.as_bytes())
                .filter_map(|caps| caps.get(1).map(|m| (m.start(), m.end())))
                .collect::<Vec<_>>()
        })
        .collect();
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in spans {
        if start < at {
            continue;
        }
        let (Some(before), Some(secret)) = (text.get(at..start), text.get(start..end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(&crate::finding::redact(secret.as_bytes()));
        at = end;
    }
    out.push_str(&text[at..]);
    out
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
