//! Collects what a scan finds over any source: one collector per thread, merged at the end,
//! and the opt-in live check of what was found.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::ScanStats;
use super::region::{Regions, Summary};
use super::shared_lines::Lines;
use crate::config::SensitiveMatcher;
use crate::detect::lines;
use crate::detect::notebook::Notebook;
use crate::detect::{AddedLines, Scanner};
use crate::error::Result;
use crate::finding::{CommitRef, Finding, Location, Match};
use crate::git::{BlobMemo, ChangeSet, Entry, Repo, SkipReason, Verdict, WalkOptions, WalkStats};
use crate::redact::Redactor;
use crate::report::{Mode, Warning, WarningKind};
use crate::verify;

/// The commit a visited text belongs to, for history and push scans.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CommitOrigin {
    pub(crate) id: git2::Oid,
    /// A shallow clone's boundary commit: its tree is a baseline, not what it added.
    pub(crate) shallow_boundary: bool,
}

impl CommitOrigin {
    /// A commit whose parents are known.
    pub(crate) fn of(id: git2::Oid) -> CommitOrigin {
        CommitOrigin {
            id,
            shallow_boundary: false,
        }
    }

    fn reference(self) -> CommitRef {
        CommitRef {
            id: self.id.to_string(),
            shallow_boundary: self.shallow_boundary,
        }
    }
}

/// Which name of a change a secret is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Name {
    /// The file's path.
    Path,
    /// A symlink's target.
    SymlinkTarget,
}

/// Accumulates what a scan finds, over any source; one per thread, merged at the end.
pub(crate) struct Collector<'a> {
    sensitive: &'a SensitiveMatcher,
    block_sensitive: bool,
    scanner: &'a Scanner,
    mode: Mode,
    pub(crate) findings: Vec<Finding>,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) suppressed: BTreeMap<String, usize>,
    pub(crate) stats: ScanStats,
    /// Only with `--verify`: the secrets of the findings, by fingerprint.
    pub(crate) secrets: Vec<(String, crate::finding::Secret)>,
    /// Where blobs found clean are remembered, when many commits may reach the same blob.
    memo: Option<&'a BlobMemo>,
    /// Where what each blob's search found is remembered, so that the next version of a file
    /// is searched only around what changed (history scans).
    regions: Option<&'a Regions<'a>>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(
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
            stats: ScanStats::default(),
            secrets: Vec::new(),
            memo: None,
            regions: None,
        }
    }

    pub(crate) fn scanner(&self) -> &'a Scanner {
        self.scanner
    }

    /// Remembers what each blob's search found in `regions`, and searches a modified blob
    /// only around what changed when its old version's summary is there.
    pub(crate) fn summarising(mut self, regions: &'a Regions<'a>) -> Collector<'a> {
        self.regions = Some(regions);
        self
    }

    /// Whether what `memo` remembers of a blob answers for it at `path`: not where the path
    /// names a provider, whose rules then take their context from it.
    pub(crate) fn trusts_memo_at(&self, path: &[u8]) -> bool {
        !(self.scanner).path_adds_context(&String::from_utf8_lossy(path))
    }

    /// Remembers in `memo` every blob found clean, and trusts what it holds.
    pub(crate) fn remembering(mut self, memo: &'a BlobMemo) -> Collector<'a> {
        self.memo = Some(memo);
        self
    }

    /// An empty collector with the same settings, for another thread.
    pub(crate) fn fork(&self) -> Collector<'a> {
        Collector {
            memo: self.memo,
            regions: self.regions,
            ..Collector::new(
                self.sensitive,
                self.block_sensitive,
                self.scanner,
                self.mode,
            )
        }
    }

    /// Puts the findings from `first_finding` on and the warnings from `first_warning` on (one
    /// change set's) in a stable order: path, line, column; whatever thread found them.
    pub(crate) fn sort_from(&mut self, first_finding: usize, first_warning: usize) {
        // A file's content before its name, whichever thread found which first.
        self.findings[first_finding..].sort_by(|a, b| {
            (a.path(), a.line, a.column, &a.rule_id, a.part() as u8).cmp(&(
                b.path(),
                b.line,
                b.column,
                &b.rule_id,
                b.part() as u8,
            ))
        });
        self.warnings[first_warning..].sort_by(|a, b| a.path.cmp(&b.path));
    }

    /// Adds another collector's counts and secrets, and its findings and warnings at the end.
    pub(crate) fn absorb(&mut self, other: Collector<'_>) {
        self.findings.extend(other.findings);
        self.warnings.extend(other.warnings);
        for (origin, count) in other.suppressed {
            *self.suppressed.entry(origin).or_insert(0) += count;
        }
        self.stats.add(&other.stats);
        self.secrets.extend(other.secrets);
    }

    /// A secret in a file's name or a symlink's target: the commit adds it like content.
    /// `path` is the file's path (allowlists apply to it; a finding shows it redacted).
    pub(crate) fn visit_name(
        &mut self,
        name: &str,
        path: &str,
        kind: Name,
        commit: Option<CommitOrigin>,
    ) {
        let candidates = self.scanner.candidates(name.as_bytes());
        if candidates.is_empty() {
            return;
        }
        let scan = self
            .scanner
            .scan(path, name.as_bytes(), &AddedLines::All, candidates);
        for (origin, count) in scan.suppressed {
            *self.suppressed.entry(origin).or_insert(0) += count;
        }
        // Redacting runs the rules over the path again: only for a path that has a finding.
        let shown = if scan.matches.is_empty() {
            String::new()
        } else {
            Redactor::new(self.scanner).redact(path)
        };
        for found in scan.matches {
            let path = shown.clone();
            let location = match kind {
                Name::Path => Location::FileName { path },
                Name::SymlinkTarget => Location::SymlinkTarget { path },
            };
            let commit = commit.map(CommitOrigin::reference);
            self.findings.push(Finding::new(found, location, commit));
        }
        self.secrets.extend(scan.secrets);
    }

    /// A commit or tag message, scanned whole like a new file.
    pub(crate) fn visit_message(
        &mut self,
        text: &[u8],
        location: Location,
        commit: Option<CommitOrigin>,
    ) {
        self.stats.messages_scanned += 1;
        self.stats.bytes_scanned += text.len() as u64;
        let candidates = self.scanner.candidates(text);
        if candidates.is_empty() {
            return;
        }
        let scan = self.scanner.scan("", text, &AddedLines::All, candidates);
        for (origin, count) in scan.suppressed {
            *self.suppressed.entry(origin).or_insert(0) += count;
        }
        for found in scan.matches {
            let commit = commit.map(CommitOrigin::reference);
            self.findings
                .push(Finding::new(found, location.clone(), commit));
        }
        self.secrets.extend(scan.secrets);
    }

    /// The names a change adds: a new path, and a symlink's target.
    pub(crate) fn visit_names(
        &mut self,
        repo: &Repo,
        change: &crate::git::Change,
        commit: Option<CommitOrigin>,
    ) -> Result<()> {
        let path = String::from_utf8_lossy(&change.path);
        if change.new_path {
            self.visit_name(&path, &path, Name::Path, commit);
        }
        if change.mode == git2::FileMode::Link {
            let target = repo.blob_bytes(change.id)?;
            let target = String::from_utf8_lossy(&target);
            self.visit_name(&target, &path, Name::SymlinkTarget, commit);
        }
        Ok(())
    }

    pub(crate) fn visit(&mut self, entry: Entry<'_>, commit: Option<CommitOrigin>) -> Result<()> {
        let path = match &entry {
            Entry::Text { path, .. } | Entry::Clean { path, .. } => path.to_string(),
            Entry::Skipped { path, .. } => path.clone(),
        };
        // Every path this scan prints is redacted where it holds a secret.
        let shown = Redactor::new(self.scanner).redact(&path);
        if self.mode == Mode::Files {
            self.visit_name(&path, &path, Name::Path, commit);
        }
        // A .env-style file matters when a commit adds it, not in every file of a tree; a
        // symlink or submodule of that name holds no credentials.
        let by_mode = matches!(
            entry,
            Entry::Skipped {
                reason: SkipReason::Submodule | SkipReason::Symlink,
                ..
            }
        );
        if self.sensitive.matches(&path) && self.mode != Mode::Files && !by_mode {
            self.warnings.push(Warning {
                kind: WarningKind::SensitiveFile,
                message: "a file that holds credentials by convention is staged; keep it out of git (`git rm --cached` it and add it to .gitignore)".to_string(),
                path: shown.clone(),
                blocks: self.block_sensitive,
            });
        }
        let (path, content, added, id) = match entry {
            Entry::Text {
                path,
                content,
                added,
                id,
            } => (path, content, added, id),
            Entry::Clean {
                size, lines, added, ..
            } => {
                self.stats.files_scanned += 1;
                self.stats.bytes_scanned += size;
                self.count_undiffed(&added, lines);
                return Ok(());
            }
            Entry::Skipped { reason, .. } => {
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
                    SkipReason::Submodule => (
                        WarningKind::Submodule,
                        "not scanned: a submodule (scan it in its own repository)".to_string(),
                    ),
                    SkipReason::Symlink => (
                        WarningKind::Symlink,
                        "not scanned: a symlink (its content is the target's path)".to_string(),
                    ),
                };
                self.warnings.push(Warning {
                    kind,
                    path: shown,
                    message,
                    blocks: false,
                });
                return Ok(());
            }
        };
        self.stats.files_scanned += 1;
        self.stats.bytes_scanned += content.len() as u64;
        let summarise = self.summarises(path, content, id);
        let lines = summarise.map(|(regions, _)| regions.lines(content));
        if let (Some((regions, id)), Some(lines)) = (summarise, &lines)
            && let Some(summary) = self.clean_around_change(regions, (content, lines), &added)?
        {
            regions.remember(id, summary, lines);
            return self.record_clean(content, &added, Some(id));
        }
        // No match that could be a finding, whatever the change adds: no line diff needed.
        let candidates = self.scanner.candidates(content);
        let plain = summarise.map(|_| candidates.plain().clone());
        let hits = (self.scanner).hits_at(path, content, candidates);
        if let (Some((regions, id)), Some(plain), Some(lines)) = (summarise, plain, lines) {
            regions.remember(id, Summary::of_whole(&plain, &hits), &lines);
        }
        if hits.is_empty() {
            return self.record_clean(content, &added, id);
        }
        self.record((path, &shown), content, added, &hits, commit)
    }

    /// Where a blob's summary is kept: in a history scan, for a blob whose path names no
    /// provider (the path would take part in its hits) and that is searched in parts alike.
    fn summarises(
        &self,
        path: &str,
        content: &[u8],
        id: Option<git2::Oid>,
    ) -> Option<(&'a Regions<'a>, git2::Oid)> {
        let regions = self.regions?;
        let id = id?;
        (Regions::can_summarise(content) && self.trusts_memo_at(path.as_bytes()))
            .then_some((regions, id))
    }

    /// The summary of a modified blob found to hold no hit by searching around what changed
    /// since its old version, whose summary is known; `None` when that cannot decide.
    fn clean_around_change(
        &self,
        regions: &Regions<'_>,
        new: (&[u8], &Lines),
        added: &crate::git::Added<'_>,
    ) -> Result<Option<Summary>> {
        let Some((old, before)) =
            (added.sole_old()).and_then(|old| Some((old, regions.summary(old)?)))
        else {
            return Ok(None);
        };
        // The old version's line hashes, kept when it was searched; else its bytes, read again.
        let hashes = match regions.take_line_hashes(old) {
            Some(hashes) => hashes,
            None => match added.old_blob()? {
                Some(blob) => regions.lines(blob.content()).hashes().to_vec(),
                None => return Ok(None),
            },
        };
        Ok(regions.clean(new, &hashes, &before))
    }

    /// A blob without hits: remembered as clean, its lines counted without a diff.
    fn record_clean(
        &mut self,
        content: &[u8],
        added: &crate::git::Added<'_>,
        id: Option<git2::Oid>,
    ) -> Result<()> {
        let lines = lines::line_count(content);
        if let (Some(memo), Some(id)) = (self.memo, id) {
            let size = content.len() as u64;
            memo.insert(id, Verdict::Clean { size, lines });
        }
        self.count_undiffed(added, lines);
        Ok(())
    }

    /// Counts a blob that needed no line diff: all its lines when it is new, else one diff
    /// skipped.
    fn count_undiffed(&mut self, added: &crate::git::Added<'_>, lines: u64) {
        match added.without_diff() {
            Some(all) => self.stats.added_lines += all.count(lines),
            None => self.stats.diffs_skipped += 1,
        }
    }

    /// The findings of one blob from its [`Hits`](crate::detect::Hits): the line diff only when
    /// there are hits.
    /// `path` is the file's path (allowlists apply to it) and its printed, redacted form.
    fn record(
        &mut self,
        (path, shown): (&str, &str),
        content: &[u8],
        added: crate::git::Added<'_>,
        hits: &crate::detect::Hits,
        commit: Option<CommitOrigin>,
    ) -> Result<()> {
        if hits.is_empty() {
            self.count_undiffed(&added, lines::line_count(content));
            return Ok(());
        }
        let added = added.lines()?;
        self.stats.added_lines += added.count(lines::line_count(content));
        if added.is_empty() {
            return Ok(());
        }
        let blob = self.scanner.scan_hits(path, content, &added, hits);
        for (origin, count) in blob.suppressed {
            *self.suppressed.entry(origin).or_insert(0) += count;
        }
        let notebook = (!blob.matches.is_empty() && is_notebook(path))
            .then(|| Notebook::parse(content))
            .flatten();
        for found in blob.matches {
            self.warn_unknown_rule_ids(content, &found, shown);
            let cell = notebook.as_ref().and_then(|notebook| {
                let offset = lines::offset_of(content, found.line, found.column)?;
                let mut cell = notebook.locate(content, offset)?;
                cell.redact_names(|name| Redactor::new(self.scanner).redact(name));
                Some(cell)
            });
            let location = Location::File {
                path: shown.to_string(),
                cell,
            };
            let commit = commit.map(CommitOrigin::reference);
            self.findings.push(Finding::new(found, location, commit));
        }
        self.secrets.extend(blob.secrets);
        Ok(())
    }
}

impl Collector<'_> {
    /// Warns of an inline allow on a finding's line (or the line before) that names no rule:
    /// it allows nothing, and says which rule id was probably meant.
    fn warn_unknown_rule_ids(&mut self, content: &[u8], finding: &Match, shown: &str) {
        let line = finding.line;
        let rules = self.scanner.rules();
        let ids: Vec<&str> = rules.iter().map(|r| r.id()).collect();
        let markers: Vec<&str> = (rules.allow.same_line.iter())
            .chain(&rules.allow.next_line)
            .map(String::as_str)
            .collect();
        for number in line.saturating_sub(1).max(1)..=line {
            let Some(start) = lines::offset_of(content, number, 1) else {
                continue;
            };
            let end = memchr::memchr(b'\n', &content[start..]).map_or(content.len(), |i| start + i);
            let found =
                crate::detect::directive::unknown_rule_ids(&content[start..end], &markers, &ids);
            for (written, closest) in found {
                let message = format!(
                    "line {number}: `tokenguard:allow {}` names no rule, so it allows nothing; the closest rule id is `{closest}`, and the secret on line {line} is a `{}` (`tokenguard rules` lists the ids)",
                    Redactor::new(self.scanner).redact(&written),
                    finding.rule_id
                );
                if !self
                    .warnings
                    .iter()
                    .any(|w| w.path == shown && w.message == message)
                {
                    self.warnings.push(Warning {
                        kind: WarningKind::UnknownRuleId,
                        path: shown.to_string(),
                        message,
                        blocks: false,
                    });
                }
            }
        }
    }
}

/// A Jupyter notebook, by its extension (as Jupyter and GitHub tell them).
fn is_notebook(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("ipynb"))
}

/// Below this many changed files one thread does it all: threads cost more than they save.
pub(crate) const PARALLEL_MIN_CHANGES: usize = 16;

/// How many threads scan `set`: one for a small set, else one per core (at most eight).
/// `cores` is asked once: the answer reads three cgroup files (a small commit's eleven system
/// calls), and a thread started early may have asked already.
pub(crate) fn threads_for(set: &ChangeSet, cores: &OnceLock<usize>) -> usize {
    if set.changes.len() < PARALLEL_MIN_CHANGES {
        return 1;
    }
    cores_in(cores)
}

/// The cores a scan may use (at most eight), asked once into `cores`.
pub(crate) fn cores_in(cores: &OnceLock<usize>) -> usize {
    *cores.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(8)))
}

/// Visits every change of a set, on all cores when the set is large: each thread opens its
/// own handle on the repository (libgit2 handles are not shared between threads) and takes
/// the next change from a shared counter. Findings keep a stable order (path, line, column).
pub(crate) fn visit_change_set(
    repo: &Repo,
    set: &ChangeSet,
    walk: WalkOptions,
    commit: Option<CommitOrigin>,
    collector: &mut Collector<'_>,
) -> Result<()> {
    let first_finding = collector.findings.len();
    let first_warning = collector.warnings.len();
    let threads = threads_for(set, &OnceLock::new());
    if threads < 2 {
        let others = repo.trees(&set.other_parents)?;
        let mut skips = WalkStats::default();
        for change in &set.changes {
            if !change.path_only {
                repo.visit_change(change, &others, walk, None, &mut skips, &mut |entry| {
                    collector.visit(entry, commit)
                })?;
            }
            collector.visit_names(repo, change, commit)?;
        }
        collector.stats.add_walk(&skips);
    } else {
        let next = AtomicUsize::new(0);
        let template = collector.fork();
        let results = on_threads(repo, threads, |repo| {
            visit_shared(repo, set, &next, &template, walk, commit)
        });
        for result in results {
            collector.absorb(result?);
        }
    }
    collector.sort_from(first_finding, first_warning);
    Ok(())
}

/// One thread's share of `set`: the next change from `next`, until none is left, into a fork
/// of `template`.
pub(crate) fn visit_shared<'a>(
    repo: &Repo,
    set: &ChangeSet,
    next: &AtomicUsize,
    template: &Collector<'a>,
    walk: WalkOptions,
    commit: Option<CommitOrigin>,
) -> Result<Collector<'a>> {
    let mut local = template.fork();
    let others = repo.trees(&set.other_parents)?;
    let mut skips = WalkStats::default();
    while let Some(change) = set.changes.get(next.fetch_add(1, Ordering::Relaxed)) {
        if !change.path_only {
            repo.visit_change(change, &others, walk, None, &mut skips, &mut |entry| {
                local.visit(entry, commit)
            })?;
        }
        local.visit_names(repo, change, commit)?;
    }
    local.stats.add_walk(&skips);
    Ok(local)
}

/// Runs `work` on `threads` threads, each with its own repository handle (libgit2 handles are
/// not shared between threads), and returns what each returned. The calling thread is the
/// first of them, with `repo`: it only waited, and its thread's spawn and the repository's
/// open (a score of system calls: config files, `HEAD`) were on the way to the scan.
pub(crate) fn on_threads<T: Send>(
    repo: &Repo,
    threads: usize,
    work: impl Fn(&Repo) -> Result<T> + Sync,
) -> Vec<Result<T>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads)
            .map(|_| {
                let work = &work;
                scope.spawn(move || work(&Repo::open()?))
            })
            .collect();
        let mut results = vec![work(repo)];
        results.extend(handles.into_iter().map(|handle| {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }));
        results
    })
}

/// `--verify`: asks each provider about the found tokens (one request per distinct secret),
/// records the answer on each finding, and puts live tokens first.
pub(crate) fn check_liveness(
    collector: &mut Collector<'_>,
    scanner: &Scanner,
    timeout: std::time::Duration,
) {
    let secrets = std::mem::take(&mut collector.secrets);
    // Lookups by fingerprint and rule id: a scan can find tens of thousands of secrets.
    let rule_of: std::collections::HashMap<&str, &str> = collector
        .findings
        .iter()
        .map(|f| (f.fingerprint.as_str(), f.rule_id.as_str()))
        .collect();
    let checks: Vec<verify::Check<'_>> = secrets
        .into_iter()
        .filter_map(|(fingerprint, secret)| {
            let rule = scanner.rules().get(rule_of.get(fingerprint.as_str())?)?;
            Some(verify::Check {
                fingerprint,
                spec: rule.verify(),
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
        .sort_by_key(|f| !matches!(f.verification, Some(crate::finding::Status::Live)));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calling thread is the first worker, with the caller's handle; the others are
    /// threads of their own, each with a handle it opened (or its error).
    #[test]
    fn the_calling_thread_works_first_with_the_callers_repository() {
        let dir = tempfile::tempdir().unwrap();
        git2::Repository::init(dir.path()).unwrap();
        let repo = Repo::open_at(dir.path());
        let caller = std::thread::current().id();
        // The handle's address: a `Repo` is not shared between threads.
        let address = |handle: &Repo| std::ptr::from_ref(handle) as usize;
        let callers = address(&repo);
        let results = on_threads(&repo, 3, |handle| {
            Ok((std::thread::current().id(), address(handle) == callers))
        });
        assert_eq!(results.len(), 3);
        assert_eq!(results[0].as_ref().ok(), Some(&(caller, true)));
        for (id, same) in results[1..].iter().flatten() {
            assert!(*id != caller && !same);
        }
    }
}
