//! What a range of commits adds (`scan-range`, `scan-push`), one [`visit_commit`] each, on
//! all cores: the commits' change sets are computed in parallel, then their changed blobs are
//! visited in parallel, each blob searched once however many commits reach it. The report is the same, byte for byte, as
//! visiting one commit after another (`TOKENGUARD_TEST_PLAIN_HISTORY=1`, which the tests
//! compare against): commits in range order, each commit's findings by path, line and column.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use git2::{Oid, Tree};

use super::ScanStats;
use super::collect::{Collector, CommitOrigin, on_threads, visit_change_set};
use super::progress::Progress;
use super::region::Regions;
use crate::error::{Error, Result};
use crate::finding::{Finding, Location};
use crate::git::{BlobMemo, ChangeSet, Repo, WalkOptions, WalkStats};
use crate::report::{ShallowBaseline, Warning};

/// Commits whose change sets are held at once: bounds memory on long histories (a change is
/// a path and two ids) while giving every thread enough to do.
const BATCH: usize = 512;

/// How a range's commits are visited.
pub(super) enum Order<'a> {
    /// Change sets and blobs on all cores, each blob searched once.
    Parallel,
    /// Commit by commit on one thread: the reference the tests compare the parallel visit
    /// with (`TOKENGUARD_TEST_PLAIN_HISTORY`).
    Plain,
    /// A shallow clone: commit by commit, so that each boundary commit's tree is counted as a
    /// baseline rather than as what it added.
    Shallow(&'a HashSet<Oid>, &'a mut ShallowBaseline),
}

/// Visits what each of `commits` adds, in their order.
pub(super) fn visit_commits(
    repo: &Repo,
    commits: &[Oid],
    walk: WalkOptions,
    order: Order<'_>,
    collector: &mut Collector<'_>,
    progress: &mut Progress,
) -> Result<()> {
    let mut boundaries = match order {
        Order::Parallel => return visit_in_parallel(repo, commits, walk, collector, progress),
        Order::Plain => None,
        Order::Shallow(boundaries, baseline) => Some((boundaries, baseline)),
    };
    for id in commits {
        let before = collector.stats.bytes_scanned;
        let mut walked = WalkStats::default();
        let set = repo.commit_changes(*id, &mut walked)?;
        collector.stats.add_walk(&walked);
        let boundary = match &mut boundaries {
            Some((ids, baseline)) if ids.contains(id) => Some(&mut **baseline),
            _ => None,
        };
        visit_commit(
            repo,
            *id,
            Content::Unvisited(&set, walk),
            boundary,
            collector,
        )?;
        progress.advance(1, collector.stats.bytes_scanned - before);
    }
    Ok(())
}

/// A commit's changes and message: still to visit, or visited already (on other threads).
pub(super) enum Content<'s> {
    Unvisited(&'s ChangeSet, WalkOptions),
    Visited(CommitOutput),
}

/// One commit: what its blobs add, the names it adds and its message, in that order, each
/// change set's findings sorted by path, line and column. A shallow clone's `boundary` commit
/// (its parents were not fetched) counts what its tree holds as a baseline instead.
pub(super) fn visit_commit(
    repo: &Repo,
    id: Oid,
    content: Content<'_>,
    boundary: Option<&mut ShallowBaseline>,
    collector: &mut Collector<'_>,
) -> Result<()> {
    let first_finding = collector.findings.len();
    let lines_before = collector.stats.added_lines;
    let commit = CommitOrigin {
        id,
        shallow_boundary: boundary.is_some(),
    };
    let message_findings = match content {
        Content::Unvisited(set, walk) => {
            visit_change_set(repo, set, walk, Some(commit), collector)?;
            None
        }
        Content::Visited(output) => {
            let first_warning = collector.warnings.len();
            collector.findings.extend(output.findings);
            collector.warnings.extend(output.warnings);
            collector.findings.extend(output.names);
            collector.sort_from(first_finding, first_warning);
            Some(output.message)
        }
    };
    if let Some(baseline) = boundary {
        baseline.lines += collector.stats.added_lines - lines_before;
        collector.stats.added_lines = lines_before;
        baseline.commits.push(id.to_string());
    }
    match message_findings {
        Some(findings) => collector.findings.extend(findings),
        None => visit_message(repo, id, collector)?,
    }
    Ok(())
}

/// A commit's message, scanned whole.
fn visit_message(repo: &Repo, id: Oid, collector: &mut Collector<'_>) -> Result<()> {
    let message = repo.commit_message(id)?;
    collector.visit_message(
        &message,
        Location::CommitMessage,
        Some(CommitOrigin::of(id)),
    );
    Ok(())
}

/// [`visit_commits`] on all cores, batch by batch.
fn visit_in_parallel(
    repo: &Repo,
    commits: &[Oid],
    walk: WalkOptions,
    collector: &mut Collector<'_>,
    progress: &mut Progress,
) -> Result<()> {
    let memo = BlobMemo::default();
    let regions = Regions::new(collector.scanner());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    for batch in commits.chunks(BATCH) {
        let before = collector.stats.bytes_scanned;
        let batch = change_sets(repo, batch, threads, &mut collector.stats)?;
        let remembered = (&memo, &regions);
        visit_batch(repo, &batch, walk, remembered, threads, collector)?;
        progress.advance(
            batch.ids.len() as u64,
            collector.stats.bytes_scanned - before,
        );
    }
    Ok(())
}

/// The first failure in range order (commit, then change), as a plain scan would meet it.
#[derive(Default)]
struct FirstError {
    failed: AtomicBool,
    error: Mutex<Option<((usize, usize), Error)>>,
}

impl FirstError {
    fn record(&self, at: (usize, usize), error: Error) {
        self.failed.store(true, Ordering::Relaxed);
        let mut slot = self
            .error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.as_ref().is_none_or(|(first, _)| at < *first) {
            *slot = Some((at, error));
        }
    }

    fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    fn into_result(self) -> Result<()> {
        let slot = self
            .error
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.map_or(Ok(()), |(_, error)| Err(error))
    }
}

/// A batch of commits: their ids, change sets and messages.
struct Batch<'b> {
    ids: &'b [Oid],
    sets: Vec<ChangeSet>,
    messages: Vec<Vec<u8>>,
}

/// Each commit's change set against its parents, and its message (from the same lookup of the
/// commit), computed in parallel.
fn change_sets<'b>(
    repo: &Repo,
    batch: &'b [Oid],
    threads: usize,
    stats: &mut ScanStats,
) -> Result<Batch<'b>> {
    let next = AtomicUsize::new(0);
    type Read = Option<(ChangeSet, Vec<u8>)>;
    let sets: Vec<Mutex<Read>> = batch.iter().map(|_| Mutex::new(None)).collect();
    let first_error = FirstError::default();
    let counts = on_threads(repo, threads.min(batch.len()).max(1), |repo| {
        let mut stats = WalkStats::default();
        while !first_error.failed() {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some(id) = batch.get(at) else { break };
            match repo.commit_changes_and_message(*id, &mut stats) {
                Ok(set) => *lock(&sets[at]) = Some(set),
                Err(error) => first_error.record((at, 0), error),
            }
        }
        Ok(stats)
    });
    for count in counts {
        stats.add_walk(&count?);
    }
    first_error.into_result()?;
    let (sets, messages) = sets
        .into_iter()
        .map(|set| {
            set.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .unwrap_or_default()
        })
        .unzip();
    Ok(Batch {
        ids: batch,
        sets,
        messages,
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What one commit produced: its blobs' findings and warnings in the order they were visited,
/// what the names it adds hold, and what its message holds.
#[derive(Default)]
pub(super) struct CommitOutput {
    findings: Vec<Finding>,
    warnings: Vec<Warning>,
    names: Vec<Finding>,
    message: Vec<Finding>,
}

/// One piece of a batch's work for a thread.
#[derive(Debug, Clone, Copy)]
enum Work {
    /// A changed blob of a commit (its change's index).
    Blob { commit: usize, change: usize },
    /// The names a commit's changes add, and its message.
    Names { commit: usize },
}

/// Where a failure stands in a plain scan's order within its commit: change by change, a
/// change's blob and then its names (a message was read with the change set).
fn blob_order(change: usize) -> usize {
    2 * change
}

fn names_order(change: usize) -> usize {
    2 * change + 1
}

/// The batch's work in commit order: each commit's changed blobs, then its names and message.
fn batch_work(sets: &[ChangeSet]) -> Vec<Work> {
    let mut work = Vec::new();
    for (commit, set) in sets.iter().enumerate() {
        // A pure move adds only a name, which its commit's names and message read.
        let blobs = (0..set.changes.len()).filter(|&change| !set.changes[change].path_only);
        work.extend(blobs.map(|change| Work::Blob { commit, change }));
        work.push(Work::Names { commit });
    }
    work
}

/// Visits every changed blob of the batch, and every commit's names and message, on all
/// threads, then appends the findings and warnings to `collector` commit by commit, each
/// commit's sorted as a plain visit sorts them.
fn visit_batch(
    repo: &Repo,
    batch: &Batch<'_>,
    walk: WalkOptions,
    (memo, regions): (&BlobMemo, &Regions<'_>),
    threads: usize,
    collector: &mut Collector<'_>,
) -> Result<()> {
    let work = batch_work(&batch.sets);
    let outputs: Vec<Mutex<CommitOutput>> = (batch.ids.iter())
        .map(|_| Mutex::new(CommitOutput::default()))
        .collect();
    let next = AtomicUsize::new(0);
    let first_error = FirstError::default();
    let template = collector.fork();
    let locals = on_threads(repo, threads.min(work.len()).max(1), |repo| {
        let mut worker = Worker {
            repo,
            batch,
            walk,
            memo,
            local: template.fork().remembering(memo).summarising(regions),
            skips: WalkStats::default(),
            others: None,
        };
        while !first_error.failed() {
            let Some(&item) = work.get(next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            let done = match item {
                Work::Blob { commit, change } => worker.visit_blob(commit, change, &outputs),
                Work::Names { commit } => worker.visit_names(commit, &outputs),
            };
            if let Err((at, error)) = done {
                first_error.record(at, error);
                break;
            }
        }
        worker.local.stats.add_walk(&worker.skips);
        Ok(worker.local)
    });
    for local in locals {
        collector.absorb(local?);
    }
    first_error.into_result()?;
    for (output, id) in outputs.into_iter().zip(batch.ids) {
        let output = output
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        visit_commit(repo, *id, Content::Visited(output), None, collector)?;
    }
    Ok(())
}

/// A failure with where it stands in a plain scan's order (commit, then place in the commit).
type Failure = ((usize, usize), Error);

/// One thread's share of a batch: its repository handle and collector.
struct Worker<'w, 'r> {
    repo: &'r Repo,
    batch: &'w Batch<'w>,
    walk: WalkOptions,
    memo: &'w BlobMemo,
    local: Collector<'w>,
    skips: WalkStats,
    /// A merge's other parents' trees, for the commit they were last read for.
    others: Option<(usize, Vec<Tree<'r>>)>,
}

impl Worker<'_, '_> {
    /// What one changed blob adds, into its commit's output.
    fn visit_blob(
        &mut self,
        commit: usize,
        change: usize,
        outputs: &[Mutex<CommitOutput>],
    ) -> std::result::Result<(), Failure> {
        let at = (commit, blob_order(change));
        let set = &self.batch.sets[commit];
        if (self.others.as_ref()).is_none_or(|(for_commit, _)| *for_commit != commit) {
            let trees = self.repo.trees(&set.other_parents).map_err(|e| (at, e))?;
            self.others = Some((commit, trees));
        }
        let trees = (self.others.as_ref()).map_or(&[][..], |(_, trees)| trees.as_slice());
        let (findings, warnings) = (self.local.findings.len(), self.local.warnings.len());
        let change = &set.changes[change];
        let memo = self.local.trusts_memo_at(&change.path).then_some(self.memo);
        let origin = Some(CommitOrigin::of(self.batch.ids[commit]));
        let local = &mut self.local;
        (self.repo)
            .visit_change(
                change,
                trees,
                self.walk,
                memo,
                &mut self.skips,
                &mut |entry| local.visit(entry, origin),
            )
            .map_err(|e| (at, e))?;
        let mut output = lock(&outputs[commit]);
        output.findings.extend(local.findings.drain(findings..));
        output.warnings.extend(local.warnings.drain(warnings..));
        Ok(())
    }

    /// The names a commit's changes add and its message, into its output.
    fn visit_names(
        &mut self,
        commit: usize,
        outputs: &[Mutex<CommitOutput>],
    ) -> std::result::Result<(), Failure> {
        let id = self.batch.ids[commit];
        let (findings, warnings) = (self.local.findings.len(), self.local.warnings.len());
        for (index, change) in self.batch.sets[commit].changes.iter().enumerate() {
            (self.local)
                .visit_names(self.repo, change, Some(CommitOrigin::of(id)))
                .map_err(|e| ((commit, names_order(index)), e))?;
        }
        let names: Vec<Finding> = self.local.findings.drain(findings..).collect();
        (self.local).visit_message(
            &self.batch.messages[commit],
            Location::CommitMessage,
            Some(CommitOrigin::of(id)),
        );
        let mut output = lock(&outputs[commit]);
        output.names = names;
        output.message = self.local.findings.drain(findings..).collect();
        output
            .warnings
            .extend(self.local.warnings.drain(warnings..));
        Ok(())
    }
}
