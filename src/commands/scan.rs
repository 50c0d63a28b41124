//! The scan commands (`scan-staged`, `scan-files`, `scan-tree`, `scan-range`, `scan-push`):
//! what each reads, one scanner over it, and the report.

use std::io::Write;
use std::path::PathBuf;

use super::collect::{Collector, check_liveness, visit_change_set};
use super::progress::{Progress, Work};
use super::settings_for;
use crate::cli::{ScanArgs, ScanFormat};
use crate::config::{ConfigOptions, Settings};
use crate::detect::Scanner;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::finding::Part;
use crate::git::{Repo, StagedStats, TagMessage, WalkOptions, parse_ref_updates};
use crate::report::{self, Mode, Outcome};

/// `scan-staged`: what the commit being made adds.
pub(super) fn staged(
    paths: &[PathBuf],
    output: &ScanArgs,
    options: &ConfigOptions,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    let source = staged_source(&repo, paths)?;
    scan(&repo, source, output, options)
}

/// `scan-files`: named files and directories, whole.
pub(super) fn files(
    paths: &[PathBuf],
    output: &ScanArgs,
    options: &ConfigOptions,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    scan(&repo, Source::Paths(paths.to_vec()), output, options)
}

/// `scan-tree`: every file of a tree, whole.
pub(super) fn tree(rev: &str, output: &ScanArgs, options: &ConfigOptions) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    scan(&repo, Source::Tree(rev.to_string()), output, options)
}

/// `scan-range`: what each commit of a range adds.
pub(super) fn range(
    selection: &[String],
    output: &ScanArgs,
    options: &ConfigOptions,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    let commits = repo.select_commits(selection)?;
    let tags = repo.tags_on(&commits)?;
    scan(
        &repo,
        Source::Commits(commits, tags, Mode::History),
        output,
        options,
    )
}

/// `scan-push`: what a push (or a receive) adds.
pub(super) fn push(
    remote: Option<&str>,
    output: &ScanArgs,
    options: &ConfigOptions,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    let source = push_source(&repo, remote)?;
    scan(&repo, source, output, options)
}

/// What a scan reads.
pub(super) enum Source {
    /// The commit being made.
    Staged,
    /// Files, whole.
    Paths(Vec<PathBuf>),
    /// Every file of a tree, whole.
    Tree(String),
    /// What each commit adds, its message, and the messages of annotated tags on them.
    Commits(Vec<git2::Oid>, Vec<TagMessage>, Mode),
}

/// `scan-staged` as a hook and under the pre-commit framework: the framework's pre-push stage
/// names a range; `pre-commit run --all-files` (the framework, nothing staged) or file names
/// with nothing staged mean "scan these files", never "clean after zero bytes".
fn staged_source(repo: &Repo, paths: &[PathBuf]) -> Result<Source> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some((from, to)) = framework_refs() {
        return Ok(Source::Commits(
            framework_range(repo, &from, &to)?,
            Vec::new(),
            Mode::Push,
        ));
    }
    let framework = var("PRE_COMMIT").is_some();
    if (framework || !paths.is_empty()) && repo.nothing_staged()? {
        return Ok(Source::Paths(paths.to_vec()));
    }
    Ok(Source::Staged)
}

/// The framework's pre-push range, only when the framework runs us (it sets PRE_COMMIT=1):
/// the same variables left over in a shell must not turn a plain hook into a range scan.
fn framework_refs() -> Option<(String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    var("PRE_COMMIT")?;
    Some((var("PRE_COMMIT_FROM_REF")?, var("PRE_COMMIT_TO_REF")?))
}

/// The commits of the framework's FROM..TO; an all-zero FROM (a new branch) means everything
/// TO has that the remote-tracking refs do not.
fn framework_range(repo: &Repo, from: &str, to: &str) -> Result<Vec<git2::Oid>> {
    if from.chars().all(|c| c == '0') {
        let remote = std::env::var("PRE_COMMIT_REMOTE_NAME").unwrap_or_else(|_| "origin".into());
        let update = crate::git::RefUpdate {
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
    if let Some((from, to)) = framework_refs() {
        return Ok(Source::Commits(
            framework_range(repo, &from, &to)?,
            Vec::new(),
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
    let (known, mode): (Vec<String>, Mode) = match remote {
        Some(remote) => (vec![format!("refs/remotes/{remote}/*")], Mode::Push),
        None if repo.workdir().is_none() => (vec!["refs/*".to_string()], Mode::Server),
        None => (Vec::new(), Mode::Push),
    };
    let mut commits = Vec::new();
    for update in &updates {
        for id in repo.update_commits(update, &known)? {
            if !commits.contains(&id) {
                commits.push(id);
            }
        }
    }
    let tags = repo.pushed_tags(&updates);
    Ok(Source::Commits(commits, tags, mode))
}

/// Progress for the long scans (files, commits) when run by hand: never for the commit being
/// made (the hook's quiet path, and small by nature), under the pre-commit framework (which
/// captures stderr) or with `-q`.
fn progress_for(source: &Source, quiet: bool) -> Result<Progress> {
    let work = match source {
        Source::Commits(commits, _, _) => Work::Commits(commits.len() as u64),
        Source::Staged | Source::Paths(_) | Source::Tree(_) => Work::Files,
    };
    let framework = std::env::var_os("PRE_COMMIT").is_some_and(|v| !v.is_empty());
    let wanted = !quiet && !framework && !matches!(source, Source::Staged);
    Progress::new(work, wanted)
}

/// The size of a blob a walk hands over, for the progress line.
fn entry_bytes(entry: &crate::git::Entry<'_>) -> u64 {
    match entry {
        crate::git::Entry::Text { content, .. } => content.len() as u64,
        crate::git::Entry::Clean { size, .. } => *size,
        crate::git::Entry::Skipped { .. } => 0,
    }
}

fn scan(
    repo: &Repo,
    source: Source,
    output: &ScanArgs,
    options: &ConfigOptions,
) -> Result<ExitStatus> {
    let checks = Checks {
        verify: output.verify,
        verify_timeout: output.verify_timeout,
        quiet: output.quiet,
    };
    let (outcome, scanner) = gather(repo, source, checks, options)?;
    let status = write_outcome(outcome, output, &scanner);
    // The process ends after the report: freeing the compiled rules, automata and regexes one
    // by one costs more than a small commit's whole scan takes (0.6 M instructions).
    std::mem::forget(scanner);
    status
}

/// Writes the report in the format asked for; the exit status follows from the outcome.
pub(super) fn write_outcome(
    outcome: Outcome,
    output: &ScanArgs,
    scanner: &Scanner,
) -> Result<ExitStatus> {
    let status = if outcome.blocks() && !output.exit_zero {
        ExitStatus::Blocked
    } else {
        ExitStatus::Clean
    };
    // With --output, the files get the machine report and the terminal the human one.
    for target in &output.outputs {
        let format = super::output::format_of(target, output.format);
        super::output::write_report(&target.path, |file| {
            render(file, format, &outcome, output, scanner)
        })?;
    }
    let format = match output.outputs.is_empty() {
        true => output.format,
        false => ScanFormat::Human,
    };
    let mut stdout = std::io::stdout().lock();
    let written =
        render(&mut stdout, format, &outcome, output, scanner).and_then(|()| stdout.flush());
    match written {
        // A reader that stopped early (`| head`) does not change what was found.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(status),
        Err(err) => Err(err.into()),
        Ok(()) => Ok(status),
    }
}

/// One report of `outcome` in `format`.
fn render(
    out: &mut impl Write,
    format: ScanFormat,
    outcome: &Outcome,
    output: &ScanArgs,
    scanner: &Scanner,
) -> std::io::Result<()> {
    match format {
        ScanFormat::Human => {
            let options = report::human::Options {
                quiet: output.quiet,
                verbose: output.verbose,
                suggest_fix: outcome.mode == Mode::Commit
                    && outcome
                        .findings
                        .iter()
                        .any(|f| super::fix::fixable(&f.path)),
            };
            report::human::write(out, outcome, scanner.rules(), options)
        }
        ScanFormat::Json => report::json::write(out, outcome),
        ScanFormat::Sarif => report::sarif::write(out, outcome, scanner.rules()),
    }
}

/// How a scan runs besides what it reads: the live check and the progress line.
pub(super) struct Checks {
    pub(super) verify: bool,
    pub(super) verify_timeout: f64,
    /// No progress line (`-q`).
    pub(super) quiet: bool,
}

/// Reads `source` with the settings of `options`, scans it and, with `verify` (or `verify`
/// in the user config), checks what was found; the scanner comes back for the report.
pub(super) fn gather(
    repo: &Repo,
    source: Source,
    checks: Checks,
    options: &ConfigOptions,
) -> Result<(Outcome, Scanner)> {
    let Checks {
        verify,
        verify_timeout,
        quiet,
    } = checks;
    let settings = match (&source, repo.workdir()) {
        // A server's receive: the repository's files as its default branch holds them.
        (Source::Commits(_, _, Mode::Server), None) => {
            super::server_config::settings(repo, options)?
        }
        (_, workdir) => settings_for(options, workdir)?,
    };
    let mode = match &source {
        Source::Staged => Mode::Commit,
        Source::Paths(_) | Source::Tree(_) => Mode::Files,
        Source::Commits(_, _, mode) => *mode,
    };
    if let Some(seconds) = settings.scan.timeout {
        super::start_watchdog(seconds, Some(mode));
    }
    let walk = WalkOptions {
        max_file_size: settings.scan.max_file_size,
        scan_binary: settings.scan.scan_binary,
    };
    let block_sensitive = settings.scan.block_sensitive_files;
    let verify = verify || settings.scan.verify;
    let Settings {
        rules,
        policy,
        sensitive,
        ..
    } = settings;
    // Benchmarks only: the same scan without the decoding layer, to measure what it costs.
    let decoding = std::env::var_os("TOKENGUARD_MEASURE_WITHOUT_DECODING").is_none();
    let scanner = Scanner::with_policy(rules, policy)
        .keeping_secrets(verify)
        .with_decoding(decoding);
    let mut collector = Collector::new(&sensitive, block_sensitive, &scanner, mode);
    let mut baseline = report::ShallowBaseline::default();
    let mut progress = progress_for(&source, quiet)?;
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
            repo.walk_paths(&paths, walk, &mut stats, |e| {
                progress.step(entry_bytes(&e));
                collector.visit(e, None)
            })?;
            collector.stats.add(&stats);
        }
        Source::Tree(rev) => {
            let mut stats = StagedStats::default();
            repo.walk_tree(rev, walk, &mut stats, |e| {
                progress.step(entry_bytes(&e));
                collector.visit(e, None)
            })?;
            collector.stats.add(&stats);
        }
        Source::Commits(commits, tags, _) => {
            let boundaries = repo.shallow_boundaries()?;
            if boundaries.is_empty() {
                super::range_scan::visit_commits(
                    repo,
                    commits,
                    walk,
                    &mut collector,
                    &mut progress,
                )?;
            } else {
                // A shallow clone: commit by commit, so that each boundary commit's tree is
                // counted as a baseline rather than as what it added.
                for id in commits {
                    let first_finding = collector.findings.len();
                    let lines_before = collector.stats.added_lines;
                    let before = collector.stats.bytes_scanned;
                    let set = repo.commit_changes(*id, &mut collector.stats)?;
                    visit_change_set(repo, &set, walk, Some(*id), &mut collector)?;
                    if boundaries.contains(id) {
                        // Its parents were not fetched: its tree is a baseline, not what it added.
                        for finding in &mut collector.findings[first_finding..] {
                            finding.shallow_boundary = true;
                        }
                        baseline.lines += collector.stats.added_lines - lines_before;
                        collector.stats.added_lines = lines_before;
                        baseline.commits.push(id.to_string());
                    }
                    let message = repo.commit_message(*id)?;
                    collector.visit_message(&message, Part::CommitMessage, Some(*id), None);
                    progress.step(collector.stats.bytes_scanned - before);
                }
            }
            for tag in tags {
                collector.visit_message(&tag.message, Part::TagMessage, None, Some(&tag.name));
            }
        }
    }
    progress.finish();
    if verify {
        let timeout = std::time::Duration::from_secs_f64(verify_timeout.clamp(0.1, 120.0));
        check_liveness(&mut collector, &scanner, timeout);
    }
    let outcome = Outcome {
        mode,
        findings: collector.findings,
        warnings: collector.warnings,
        stats: report::Stats {
            staged: collector.stats,
            suppressed: collector.suppressed,
            shallow: baseline,
        },
    };
    Ok((outcome, scanner))
}
