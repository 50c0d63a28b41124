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
use crate::finding::Finding;
use crate::git::{Entry, Repo, StagedStats, WalkOptions, unified_diff};
use crate::redact::Redactor;
use crate::report::Mode;
use crate::report::fix::{EnvChange, FileChange, FixReport, ManualStep, Staging};
use crate::scan::collect::{Collector, visit_change_set};

mod code;
mod config_files;
mod docker;
mod literal;
mod notebook;
mod plan;
mod writer;

use plan::{EnvFile, Family, Rewrite};

/// Whether `tokenguard fix` can replace a secret in this file by itself (the blocked-commit
/// report names it as the first remedy then).
pub(super) fn fixable(path: &str) -> bool {
    Family::of(path, b"").fixable()
}

/// One secret found, with what the fix needs to know about it.
struct Found {
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
    let fix = plan_fix(&repo, &root, &scanner, &found, &staged_dotenv, staged_mode)?;
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
    let set = repo.staged_changes(&mut collector.stats)?;
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
    let mut stats = StagedStats::default();
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
        found.extend(pair_secrets(scan.findings, scan.secrets));
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

/// What a fix writes, and the report of it.
struct Fix {
    /// Files to replace: path, new content, whether to re-stage.
    writes: Vec<(String, String, bool)>,
    /// `.env` files: path relative to the root, full new content.
    env_writes: Vec<(String, String)>,
    gitignore: Option<String>,
    unstage: Vec<String>,
    report: FixReport,
}

fn plan_fix(
    repo: &Repo,
    root: &Path,
    scanner: &Scanner,
    found: &[Found],
    staged_dotenv: &[String],
    staged_mode: bool,
) -> Result<Fix> {
    let rules = scanner.rules();
    let mut report = FixReport::default();
    let mut env_files: BTreeMap<String, (EnvFile, String, bool)> = BTreeMap::new();
    let mut writes = Vec::new();
    // The diff's context lines can hold other secrets (older lines, allowed ones): every rule
    // match is redacted, besides the secrets being moved.
    let redactor = Redactor::new(scanner).with_known(found.iter().map(|f| &f.secret));
    let redact_all = |text: &str| redactor.redact(text);

    let mut by_path: BTreeMap<&str, Vec<&Found>> = BTreeMap::new();
    for item in found {
        by_path.entry(&item.finding.path).or_default().push(item);
    }
    let mut dotenv_files: BTreeSet<String> = staged_dotenv.iter().cloned().collect();
    for (path, items) in by_path {
        let bytes = std::fs::read(root.join(path)).ok();
        let family = Family::of(path, bytes.as_deref().unwrap_or(b""));
        if family == Family::DotEnv {
            dotenv_files.insert(path.to_string());
            continue;
        }
        let manual =
            |report: &mut FixReport, item: &Found, line: u64, variable: &str, reason: String| {
                report.manual.push(ManualStep {
                    location: format!("{}:{line}", item.finding.path),
                    rule_id: item.finding.rule_id.clone(),
                    variable: variable.to_string(),
                    reason: redact_all(&reason),
                });
            };
        let Some(content) = bytes.and_then(|b| String::from_utf8(b).ok()) else {
            for item in items {
                manual(
                    &mut report,
                    item,
                    item.finding.line,
                    "-",
                    "the file is missing from the working tree or is not UTF-8 text: fix it by hand".into(),
                );
            }
            continue;
        };
        // The .env a value goes to: beside a compose file (compose reads that one), else at
        // the top of the worktree.
        let env_path = match (family, path.rsplit_once('/')) {
            (Family::Compose, Some((dir, _))) => format!("{dir}/.env"),
            _ => ".env".to_string(),
        };
        let (env, _, _) = match env_files.entry(env_path.clone()) {
            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::btree_map::Entry::Vacant(entry) => {
                let full = root.join(&env_path);
                let text = writer::read_or_empty(&full)?;
                let existed = full.exists();
                entry.insert((EnvFile::parse(&text), text, existed))
            }
        };
        let mut edits = Vec::new();
        let mut reads = BTreeSet::new();
        let mut notes = BTreeSet::new();
        let mut manual_here = Vec::new();
        let mut seen_secrets = BTreeSet::new();
        for item in &items {
            if !seen_secrets.insert(item.secret.clone()) {
                continue;
            }
            let Ok(secret) = std::str::from_utf8(&item.secret) else {
                manual(
                    &mut report,
                    item,
                    item.finding.line,
                    "-",
                    "the secret is not UTF-8 text".into(),
                );
                continue;
            };
            let rule = rules.rules.iter().find(|r| r.id() == item.finding.rule_id);
            let provider_vars = rule
                .map(|r| rules.provider(r).env_vars.clone())
                .unwrap_or_default();
            let generic = item.finding.provider_key == "generic";
            for (start, _) in content.match_indices(secret) {
                let end = start + secret.len();
                let wanted = plan::variable_name(
                    family,
                    &content,
                    start,
                    &provider_vars,
                    &item.finding.rule_id,
                    generic,
                );
                let var = env.assign(&wanted, secret);
                match plan::rewrite(family, &content, start, end, &var) {
                    Rewrite::Edits { edits: e, note } => {
                        edits.extend(e);
                        reads.insert(family.read_of(&var));
                        notes.extend(note);
                    }
                    Rewrite::Manual(reason) => {
                        let line = content[..start].matches('\n').count() as u64 + 1;
                        manual_here.push((item, line, var, reason));
                    }
                }
            }
        }
        let mut fixed = plan::apply_edits(&content, &edits);
        if family == Family::Notebook
            && fixed != content
            && serde_json::from_str::<serde_json::Value>(&fixed).is_err()
        {
            for item in &items {
                manual(
                    &mut report,
                    item,
                    item.finding.line,
                    "-",
                    "the fixed notebook would not be valid JSON: fix the cell by hand".into(),
                );
            }
            fixed = content.clone();
            edits.clear();
        }
        for (item, line, var, reason) in manual_here {
            manual(&mut report, item, line, &var, reason);
        }
        let present = items.iter().any(|item| {
            !item.secret.is_empty()
                && content
                    .as_bytes()
                    .windows(item.secret.len())
                    .any(|w| w == item.secret)
        });
        if edits.is_empty() && present {
            // Only manual steps for this file.
            continue;
        }
        let staging = if !staged_mode && !repo.is_staged(path)? {
            Staging::NotStaged
        } else if repo.worktree_matches_index(path)? {
            Staging::Restaged
        } else {
            Staging::StageHunk
        };
        let diff = unified_diff(path, content.as_bytes(), fixed.as_bytes())?;
        // From the `---` line on: the `diff --git` and `index` lines name buffers, not commits.
        let diff = redact_all(diff.find("\n--- ").map_or(&diff[..], |at| &diff[at + 1..]));
        report.files.push(FileChange {
            path: path.to_string(),
            reads: reads.into_iter().collect(),
            diff,
            staging,
            notes: notes.into_iter().collect(),
        });
        if fixed != content {
            writes.push((path.to_string(), fixed, staging == Staging::Restaged));
        }
    }

    let mut env_writes = Vec::new();
    let mut to_ignore: Vec<String> = Vec::new();
    for (env_path, (env, text, existed)) in env_files {
        if !env.added.is_empty() {
            let lines: Vec<String> = env
                .added
                .iter()
                .map(|(name, value)| writer::env_line(name, value))
                .collect();
            report.env_files.push(EnvChange {
                path: env_path.clone(),
                lines: lines.iter().map(|l| redact_all(l)).collect(),
                created: !existed,
            });
            env_writes.push((env_path.clone(), writer::appended(&text, &lines)));
        }
        if !repo.is_ignored(&env_path)? {
            to_ignore.push(".env".to_string());
        }
    }
    let unstage: Vec<String> = if staged_mode {
        dotenv_files.iter().cloned().collect()
    } else {
        dotenv_files
            .iter()
            .filter(|p| repo.is_staged(p).unwrap_or(false) && !repo.head_has(p).unwrap_or(true))
            .cloned()
            .collect()
    };
    for path in &dotenv_files {
        if !repo.is_ignored(path)? {
            let name = path.rsplit('/').next().unwrap_or(path);
            to_ignore.push(if name == ".env" {
                ".env".to_string()
            } else {
                format!("/{path}")
            });
        }
    }
    for path in &unstage {
        report.unstaged.push((path.clone(), repo.head_has(path)?));
    }
    to_ignore.sort();
    to_ignore.dedup();
    let gitignore = if to_ignore.is_empty() {
        None
    } else {
        let text = writer::read_or_empty(&root.join(".gitignore"))?;
        report.ignored = to_ignore.clone();
        Some(writer::appended(&text, &to_ignore))
    };
    let mut providers: BTreeSet<(String, String)> = BTreeSet::new();
    for item in found {
        if let Some(provider) = rules.providers.get(&item.finding.provider_key)
            && !provider.revoke_url.is_empty()
        {
            providers.insert((provider.name.clone(), provider.revoke_url.to_string()));
        }
    }
    report.providers = providers.into_iter().collect();
    Ok(Fix {
        writes,
        env_writes,
        gitignore,
        unstage,
        report,
    })
}

/// Writes a planned fix: `.gitignore` and `.env` first (the value is safe before it leaves the
/// code), then the files, then the index.
fn apply(repo: &Repo, root: &Path, fix: &Fix) -> Result<()> {
    if let Some(text) = &fix.gitignore {
        writer::write_atomic(&root.join(".gitignore"), text.as_bytes(), 0o644)?;
    }
    for (path, text) in &fix.env_writes {
        writer::write_atomic(&root.join(path), text.as_bytes(), writer::ENV_MODE)?;
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
    Ok(())
}
