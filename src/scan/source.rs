//! What a scan reads: one [`Source`] per command (the commit being made, files, a tree, the
//! commits of a range or push with their tags' messages), chosen from the arguments and the
//! [`Environment`], and read entry by entry into the collector, each entry with its origin
//! (the commit that adds it, when there is one).

use std::path::PathBuf;

use git2::Oid;

use super::collect::Collector;
use super::environment::{Environment, FrameworkRefs};
use super::history;
use super::progress::{Progress, Work};
use crate::error::{Error, Result};
use crate::finding::Location;
use crate::git::{Entry, Repo, TagMessage, WalkOptions, WalkStats, parse_ref_updates};
use crate::report::{Mode, ShallowBaseline};

/// What a scan reads.
pub enum Source {
    /// The commit being made.
    Staged,
    /// Files, whole.
    Paths(Vec<PathBuf>),
    /// Every file of a tree, whole.
    Tree(String),
    /// What each commit adds, its message, and the messages of annotated tags on them.
    Commits(Vec<Oid>, Vec<TagMessage>, Mode),
}

impl Source {
    /// `scan-staged` as a hook and under the pre-commit framework: the framework's pre-push
    /// stage names a range; `pre-commit run --all-files` (the framework, nothing staged) or
    /// file names with nothing staged mean "scan these files", never "clean after zero bytes".
    pub fn staged(repo: &Repo, paths: &[PathBuf], env: &Environment) -> Result<Source> {
        if let Some(refs) = &env.framework_refs {
            return Ok(Source::Commits(
                framework_range(repo, refs)?,
                Vec::new(),
                Mode::Push,
            ));
        }
        if (env.framework || !paths.is_empty()) && repo.nothing_staged()? {
            return Ok(Source::Paths(paths.to_vec()));
        }
        Ok(Source::Staged)
    }

    /// `scan-range`: the selected commits and the annotated tags on them.
    pub fn range(repo: &Repo, selection: &[String]) -> Result<Source> {
        let (commits, tags) = repo.select_commits_and_tags(selection)?;
        Ok(Source::Commits(commits, tags, Mode::History))
    }

    /// `scan-push`: the ref updates on stdin (pre-push or pre-receive format), or the
    /// framework's range.
    pub fn push(repo: &Repo, remote: Option<&str>, env: &Environment) -> Result<Source> {
        if let Some(refs) = &env.framework_refs {
            return Ok(Source::Commits(
                framework_range(repo, refs)?,
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

    /// How the report words what was scanned.
    pub fn mode(&self) -> Mode {
        match self {
            Source::Staged => Mode::Commit,
            Source::Paths(_) | Source::Tree(_) => Mode::Files,
            Source::Commits(_, _, mode) => *mode,
        }
    }

    /// Progress for the long scans (files, commits) when run by hand: never for the commit
    /// being made (the hook's quiet path, and small by nature), under the pre-commit framework
    /// (which captures stderr) or with `-q`.
    pub(super) fn progress(&self, quiet: bool, env: &Environment) -> Result<Progress> {
        let work = match self {
            Source::Commits(commits, _, _) => Work::Commits(commits.len() as u64),
            Source::Staged | Source::Paths(_) | Source::Tree(_) => Work::Files,
        };
        let wanted = !quiet && !env.framework && !matches!(self, Source::Staged);
        Progress::new(work, wanted)
    }

    /// Reads every entry into `collector`; a shallow clone's boundary commits go to
    /// `baseline`.
    pub(super) fn read(
        &self,
        repo: &Repo,
        reading: Reading<'_>,
        collector: &mut Collector<'_>,
        baseline: &mut ShallowBaseline,
    ) -> Result<()> {
        let Reading {
            walk,
            progress,
            plain_history,
        } = reading;
        match self {
            Source::Staged => super::early::visit_staged(repo, walk, collector),
            Source::Paths(paths) => {
                let paths = match paths.is_empty() {
                    true => vec![PathBuf::from(".")],
                    false => paths.clone(),
                };
                let mut stats = WalkStats::default();
                repo.walk_paths(&paths, walk, &mut stats, |entry| {
                    progress.step(entry_bytes(&entry));
                    collector.visit(entry, None)
                })?;
                collector.stats.add_walk(&stats);
                Ok(())
            }
            Source::Tree(rev) => {
                let mut stats = WalkStats::default();
                repo.walk_tree(rev, walk, &mut stats, |entry| {
                    progress.step(entry_bytes(&entry));
                    collector.visit(entry, None)
                })?;
                collector.stats.add_walk(&stats);
                Ok(())
            }
            Source::Commits(commits, tags, _) => {
                let boundaries = repo.shallow_boundaries()?;
                let order = match (boundaries.is_empty(), plain_history) {
                    (true, false) => history::Order::Parallel,
                    (true, true) => history::Order::Plain,
                    (false, _) => history::Order::Shallow(&boundaries, baseline),
                };
                history::visit_commits(repo, commits, walk, order, collector, progress)?;
                for tag in tags {
                    collector.visit_message(
                        &tag.message,
                        Location::TagMessage {
                            tag: tag.name.clone(),
                        },
                        None,
                    );
                }
                Ok(())
            }
        }
    }
}

/// How a source is read besides what it is.
pub(super) struct Reading<'p> {
    pub(super) walk: WalkOptions,
    pub(super) progress: &'p mut Progress,
    /// Commit by commit on one thread (the tests' reference for the parallel visit).
    pub(super) plain_history: bool,
}

/// The commits of the framework's FROM..TO; an all-zero FROM (a new branch) means everything
/// TO has that the remote-tracking refs do not.
fn framework_range(repo: &Repo, refs: &FrameworkRefs) -> Result<Vec<Oid>> {
    if refs.from.chars().all(|c| c == '0') {
        let update = crate::git::RefUpdate {
            local_ref: refs.to.clone(),
            new: Oid::from_str(&refs.to)
                .map_err(Error::git("PRE_COMMIT_TO_REF is not a commit id"))?,
            old: Oid::ZERO_SHA1,
        };
        return repo.update_commits(&update, &[format!("refs/remotes/{}/*", refs.remote)]);
    }
    repo.range_commits(&format!("{}..{}", refs.from, refs.to))
}

/// The size of a blob a walk hands over, for the progress line.
fn entry_bytes(entry: &Entry<'_>) -> u64 {
    match entry {
        Entry::Text { content, .. } => content.len() as u64,
        Entry::Clean { size, .. } => *size,
        Entry::Skipped { .. } => 0,
    }
}
