//! `tokenguard fix [PATHS] [--apply]`: turns a blocked commit into a fixed one. Each secret the
//! staged change adds (or, with PATHS, each secret in those files on disk) is replaced in the
//! working tree by the idiomatic read of an environment variable for the file's language, the
//! value moves to a `.env` that git ignores, and a staged `.env` leaves the index. Preview by
//! default; `--apply` writes. A file is re-staged only when its working-tree version equalled
//! the staged one, so partial staging (`git add -p`) is respected.

use std::collections::{BTreeMap, BTreeSet};

use std::io::Write;
use std::path::{Path, PathBuf};

use super::settings_for;
use crate::cli::FixArgs;
use crate::config::ConfigOptions;
use crate::detect::{AddedLines, Scanner};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::finding::{Finding, Location};
use crate::git::{Entry, Repo, WalkOptions, WalkStats};
use crate::report::Mode;
use crate::scan::collect::{Collector, visit_change_set};

mod check;
mod code;
mod config_files;
mod docker;
mod envfile;
mod literal;
mod notebook;
mod paths;
mod plan;
mod planner;
mod redaction;
mod tokens;
mod writer;

use plan::Family;
use planner::{Fix, Planner};

/// Whether `tokenguard fix` can replace a secret in this file by itself (the blocked-commit
/// report names it as the first remedy then).
pub(super) fn fixable(path: &str) -> bool {
    Family::of(path, b"").fixable()
}

/// One secret found, with what the fix needs to know about it.
pub(super) struct Found {
    finding: Finding,
    secret: Vec<u8>,
}

pub(super) fn run(args: &FixArgs, options: &ConfigOptions) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    let root = repo
        .workdir()
        .ok_or_else(|| Error::NotARepository("tokenguard fix needs a worktree".to_string()))?
        .to_path_buf();
    let settings = settings_for(options, Some(&root))?;
    let walk = WalkOptions {
        max_file_size: settings.scan.max_file_size,
        scan_binary: settings.scan.scan_binary,
    };
    let sensitive = settings.sensitive.clone();
    let scanner = Scanner::with_policy(settings.rules, settings.policy).keeping_secrets(true);
    let staged_mode = args.paths.is_empty();
    let (found, staged_dotenv) = if staged_mode {
        find_staged(&repo, &scanner, &sensitive, walk)?
    } else {
        (
            find_in_paths(&repo, &root, &scanner, &args.paths, walk)?,
            Vec::new(),
        )
    };
    let fix = Planner::new(&repo, &root, &scanner, staged_mode, args.replace_env)
        .plan(&found, &staged_dotenv)?;
    if args.apply {
        apply(&repo, &root, &fix)?;
    }
    let mut report = fix.report;
    report.applied = args.apply;
    let scope = if staged_mode {
        "the staged change"
    } else {
        "the named files"
    };
    let mut stdout = std::io::stdout().lock();
    crate::report::fix::write(&mut stdout, &report, scope)?;
    stdout.flush()?;
    Ok(if report.complete() {
        ExitStatus::Clean
    } else {
        ExitStatus::Blocked
    })
}

/// The secrets the staged change adds, and the staged `.env`-style files.
fn find_staged(
    repo: &Repo,
    scanner: &Scanner,
    sensitive: &crate::config::SensitiveMatcher,
    walk: WalkOptions,
) -> Result<(Vec<Found>, Vec<String>)> {
    let mut collector = Collector::new(sensitive, false, scanner, Mode::Commit);
    let mut walked = WalkStats::default();
    let set = repo.staged_changes(&mut walked)?;
    collector.stats.add_walk(&walked);
    visit_change_set(repo, &set, walk, None, &mut collector)?;
    let dotenv: Vec<String> = collector
        .warnings
        .iter()
        .filter(|w| plan::is_dotenv(w.path.rsplit('/').next().unwrap_or(&w.path)))
        .map(|w| w.path.clone())
        .collect();
    Ok((pair_secrets(collector.findings, collector.secrets), dotenv))
}

/// The secrets in the named files (directories: their tracked files and the untracked ones
/// git does not ignore), read from disk: that is what the fix edits.
fn find_in_paths(
    repo: &Repo,
    root: &Path,
    scanner: &Scanner,
    paths: &[PathBuf],
    walk: WalkOptions,
) -> Result<Vec<Found>> {
    let mut files = BTreeSet::new();
    let mut stats = WalkStats::default();
    repo.walk_paths(paths, walk, &mut stats, |entry| {
        if let Entry::Text { path, .. } = entry {
            files.insert(path.to_string());
        }
        Ok(())
    })?;
    let mut found = Vec::new();
    for path in files {
        let full = root.join(&path);
        let content = match std::fs::read(&full) {
            Ok(content) => content,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(Error::Read { path: full, source }),
        };
        let candidates = scanner.candidates(&content);
        if candidates.is_empty() {
            continue;
        }
        let scan = scanner.scan(&path, &content, &AddedLines::All, candidates);
        let findings = scan.matches.into_iter().map(|found| {
            let location = Location::File {
                path: path.clone(),
                cell: None,
            };
            Finding::new(found, location, None)
        });
        found.extend(pair_secrets(findings.collect(), scan.secrets));
    }
    Ok(found)
}

/// Findings with their secrets (the scanner keeps them by fingerprint).
fn pair_secrets(
    findings: Vec<Finding>,
    secrets: Vec<(String, crate::finding::Secret)>,
) -> Vec<Found> {
    let by_fingerprint: BTreeMap<String, Vec<u8>> =
        secrets.into_iter().map(|(f, s)| (f, s.0)).collect();
    findings
        .into_iter()
        .filter_map(|finding| {
            let secret = by_fingerprint.get(&finding.fingerprint)?.clone();
            Some(Found { finding, secret })
        })
        .collect()
}

/// Writes a planned fix: `.gitignore` and `.env` first (the value is safe before it leaves the
/// code), then the files, then the index.
fn apply(repo: &Repo, root: &Path, fix: &Fix) -> Result<()> {
    if let Some((target, text, _)) = &fix.gitignore {
        writer::write_atomic(target, text.as_bytes(), 0o644)?;
    }
    for (target, text) in &fix.env_writes {
        writer::write_atomic(target, text.as_bytes(), writer::ENV_MODE)?;
    }
    for (path, text, _) in &fix.writes {
        writer::write_atomic(&root.join(path), text.as_bytes(), 0o644)?;
    }
    for path in &fix.unstage {
        repo.unstage(path)?;
    }
    for (path, _, restage) in &fix.writes {
        if *restage {
            repo.stage(path)?;
        }
    }
    if let Some((_, _, true)) = &fix.gitignore {
        repo.stage(".gitignore")?;
    }
    Ok(())
}
