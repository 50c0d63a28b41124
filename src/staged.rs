//! The only git2 code: what a commit adds, blob by blob.
//!
//! For `scan-staged` the new side is the index git is committing from (`GIT_INDEX_FILE` during
//! `git commit -a`, `git commit <paths>` and `--amend`) and the old side HEAD's tree, or the
//! empty tree on the first commit; during a merge a line counts only when it is new against
//! both parents. For ranges and pushes each commit is compared with its parents the same way.
//! `scan-tree` and `scan-files` hand over whole files. Working-tree files are read only for
//! untracked paths named on the `scan-files` command line.

use std::path::{Path, PathBuf};

use git2::{
    Delta, DiffFindOptions, DiffOptions, ErrorCode, FileMode, Index, ObjectType, Oid, Patch,
    Repository, Sort, Tree, TreeWalkMode, TreeWalkResult,
};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::index;
use crate::lines::AddedLines;

/// Git treats a blob as binary when its first 8000 bytes hold a NUL (`FIRST_FEW_BYTES`).
const BINARY_PROBE_LEN: usize = 8000;

/// Counts of what the walk saw and skipped.
#[derive(Debug, Default, Clone, Serialize)]
pub struct StagedStats {
    pub files_scanned: u64,
    /// Lines counted as added: every line of new files, and the diffs that were computed.
    pub added_lines: u64,
    pub bytes_scanned: u64,
    pub commits_scanned: u64,
    /// Modified files with no rule keyword: no line diff was needed to clear them.
    pub diffs_skipped: u64,
    pub binary_skipped: u64,
    pub too_large_skipped: u64,
    pub submodules_skipped: u64,
    pub symlinks_skipped: u64,
    pub deleted_files: u64,
    pub unmerged_skipped: u64,
}

impl StagedStats {
    /// Adds another walker's counts (scans run on several threads).
    pub fn add(&mut self, other: &StagedStats) {
        self.files_scanned += other.files_scanned;
        self.added_lines += other.added_lines;
        self.bytes_scanned += other.bytes_scanned;
        self.commits_scanned += other.commits_scanned;
        self.diffs_skipped += other.diffs_skipped;
        self.binary_skipped += other.binary_skipped;
        self.too_large_skipped += other.too_large_skipped;
        self.submodules_skipped += other.submodules_skipped;
        self.symlinks_skipped += other.symlinks_skipped;
        self.deleted_files += other.deleted_files;
        self.unmerged_skipped += other.unmerged_skipped;
    }
}

/// What the walk is told by the configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions {
    /// Blobs larger than this are skipped (and reported); `None`: no limit.
    pub max_file_size: Option<u64>,
    /// Scan blobs git calls binary too.
    pub scan_binary: bool,
}

/// One blob, as a walk hands it over.
pub enum Entry<'a> {
    /// A text blob, and how to get the lines the change adds to it. The diff is computed only
    /// on request: a blob without any rule keyword cannot add a finding, so it needs none.
    Text {
        path: &'a str,
        content: &'a [u8],
        added: Added<'a>,
    },
    /// A blob that is part of the change but not scanned.
    Skipped { path: String, reason: SkipReason },
}

/// The lines a change adds to one blob, computed on request.
pub struct Added<'a> {
    repo: Option<&'a Repo>,
    /// The blob this one replaces (a regular file), if any.
    old: Option<Oid>,
    /// During a merge, the other parents' trees: a line is new only against all of them.
    others: &'a [Tree<'a>],
    path: &'a [u8],
    content: &'a [u8],
}

impl Added<'_> {
    /// Known without a diff: every line of a new file, of a whole-file scan.
    pub fn without_diff(&self) -> Option<AddedLines> {
        (self.old.is_none() && self.others.is_empty()).then_some(AddedLines::All)
    }

    /// git's own line diff (xdiff, through libgit2) against the old blob and, during a merge,
    /// against every other parent.
    pub fn lines(&self) -> Result<AddedLines> {
        if let Some(all) = self.without_diff() {
            return Ok(all);
        }
        let repo = self
            .repo
            .expect("a blob with an old side comes from a repository");
        let path = String::from_utf8_lossy(self.path);
        let mut added = repo.added_lines(self.old, self.content, &path)?;
        for other in self.others {
            if added.is_empty() {
                break;
            }
            match tree_blob(other, self.path) {
                None => {}
                Some(id) => {
                    added = added.intersect(&repo.added_lines(Some(id), self.content, &path)?);
                }
            }
        }
        Ok(added)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    Binary,
    TooLarge { size: u64, limit: u64 },
}

/// One ref update of a push (pre-push) or of a receive (pre-receive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub local_ref: String,
    pub new: Oid,
    pub old: Oid,
}

/// A tree entry's mode for a directory.
const TREE_MODE: i32 = 0o040000;

/// One changed path: the new blob, and the blob it replaces when that was a regular file.
#[derive(Debug, Clone)]
pub struct Change {
    pub path: Vec<u8>,
    pub id: Oid,
    pub mode: FileMode,
    pub old: Option<Oid>,
}

/// What one commit (being made, or made) adds: its changed paths, and for a merge the trees
/// of the parents other than the first.
#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    pub changes: Vec<Change>,
    pub other_parents: Vec<Oid>,
}

/// What the cache-tree comparison collects: changed paths, and the blobs HEAD had that the
/// index no longer has at their path (to tell moves from deletions).
#[derive(Default)]
struct FastDiff {
    changes: Vec<Change>,
    deleted: Vec<(Vec<u8>, Oid)>,
}

/// git's default rename threshold: half of the content in common.
const RENAME_SIMILARITY: f64 = 0.5;
/// Above this many (added, deleted) candidate pairs, libgit2's rename detection decides.
const MAX_RENAME_PAIRS: usize = 10_000;

fn extension(path: &[u8]) -> &[u8] {
    let name = path.rsplit(|b| *b == b'/').next().unwrap_or(path);
    match memchr::memrchr(b'.', name) {
        Some(dot) if dot > 0 => &name[dot..],
        _ => b"",
    }
}

/// Lines without their terminator; a final newline does not start another line.
fn text_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let empty = text.is_empty();
    text.split(|byte| *byte == b'\n').filter(move |_| !empty)
}

/// Share of lines two texts have in common, as 2 * common / (lines of a + lines of b).
fn line_similarity(a: &[u8], b: &[u8]) -> f64 {
    use std::collections::HashMap;
    let mut counts: HashMap<&[u8], i64> = HashMap::new();
    let mut total = 0usize;
    for line in text_lines(a) {
        *counts.entry(line).or_default() += 1;
        total += 1;
    }
    let mut common = 0usize;
    for line in text_lines(b) {
        total += 1;
        if let Some(count) = counts.get_mut(line).filter(|c| **c > 0) {
            *count -= 1;
            common += 1;
        }
    }
    if total == 0 {
        0.0
    } else {
        2.0 * common as f64 / total as f64
    }
}

fn is_regular(mode: u32) -> bool {
    matches!(mode, 0o100644 | 0o100755 | 0o100664)
}

/// What a walk compares: the new side of the diff.
enum NewSide<'a> {
    Index(&'a Index),
    Tree(&'a Tree<'a>),
}

/// The repository, opened as git opens it for a hook.
pub struct Repo {
    repo: Repository,
}

impl Repo {
    /// Opens the repository as git would for a hook: `GIT_DIR`, `GIT_INDEX_FILE` and the other
    /// `GIT_*` variables first, else discovery upward from the current directory.
    pub fn open() -> Result<Repo> {
        // libgit2 re-hashes every object it reads (SHA-1 with collision detection), which git
        // does only in fsck; zlib's own checksum still catches corrupt objects. This was a
        // fifth of a large first commit's time.
        git2::opts::strict_hash_verification(false);
        match Repository::open_from_env() {
            Ok(repo) => Ok(Repo { repo }),
            Err(err) if err.code() == ErrorCode::NotFound => {
                let cwd = std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default();
                Err(Error::NotARepository(cwd))
            }
            Err(err) => Err(Error::git("cannot open the repository")(err)),
        }
    }

    /// The worktree's top level, where repository configuration lives.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// What the commit being made adds: the index against HEAD, and against MERGE_HEAD too
    /// while a merge is being concluded.
    pub fn staged_changes(&self, stats: &mut StagedStats) -> Result<ChangeSet> {
        if self.repo.is_bare() {
            return Err(Error::NotARepository(
                "a bare repository has no index to commit from".to_string(),
            ));
        }
        let head = self.head_tree()?;
        let merge_head = self.merge_head()?;
        if merge_head.is_none()
            && let Some(changes) = self.fast_changes(head.as_ref(), stats)?
        {
            return Ok(ChangeSet {
                changes,
                other_parents: Vec::new(),
            });
        }
        let index = self.index()?;
        let mut other_parents = Vec::new();
        if let Some(merge_head) = merge_head {
            let commit = self
                .repo
                .find_commit(merge_head)
                .map_err(Error::git("cannot read the commit MERGE_HEAD points to"))?;
            other_parents.push(commit.tree_id());
        }
        let changes = self.libgit2_changes(head.as_ref(), NewSide::Index(&index), stats)?;
        Ok(ChangeSet {
            changes,
            other_parents,
        })
    }

    /// True when the index has nothing to commit (it equals HEAD's tree).
    pub fn nothing_staged(&self) -> Result<bool> {
        let mut stats = StagedStats::default();
        let set = self.staged_changes(&mut stats)?;
        Ok(set.changes.is_empty() && stats.deleted_files == 0 && stats.unmerged_skipped == 0)
    }

    /// What one commit added against its parents (all of them, for a merge).
    pub fn commit_changes(&self, id: Oid, stats: &mut StagedStats) -> Result<ChangeSet> {
        let commit = self
            .repo
            .find_commit(id)
            .map_err(Error::git(format!("cannot read commit {id}")))?;
        let tree = commit
            .tree()
            .map_err(Error::git(format!("cannot read the tree of {id}")))?;
        let parents: Vec<Tree<'_>> = commit
            .parents()
            .map(|p| p.tree())
            .collect::<std::result::Result<_, _>>()
            .map_err(Error::git(format!("cannot read the parents of {id}")))?;
        stats.commits_scanned += 1;
        let changes = self.libgit2_changes(parents.first(), NewSide::Tree(&tree), stats)?;
        Ok(ChangeSet {
            changes,
            other_parents: parents.iter().skip(1).map(|t| t.id()).collect(),
        })
    }

    /// The trees of `ids`, for [`Repo::visit_change`] during a merge.
    pub fn trees(&self, ids: &[Oid]) -> Result<Vec<Tree<'_>>> {
        ids.iter()
            .map(|id| {
                self.repo
                    .find_tree(*id)
                    .map_err(Error::git(format!("cannot read the tree {id}")))
            })
            .collect()
    }

    /// Visits every file of the tree `rev` points to (default HEAD), whole.
    pub fn walk_tree(
        &self,
        rev: &str,
        walk: WalkOptions,
        stats: &mut StagedStats,
        mut visit: impl FnMut(Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        let tree = self
            .repo
            .revparse_single(rev)
            .and_then(|object| object.peel_to_tree())
            .map_err(Error::git(format!("cannot resolve {rev:?} to a tree")))?;
        let mut files = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(ObjectType::Blob) || entry.kind() == Some(ObjectType::Commit) {
                let mut path = dir.as_bytes().to_vec();
                path.extend_from_slice(entry.name_bytes());
                files.push((path, entry.id(), entry.filemode()));
            }
            TreeWalkResult::Ok
        })
        .map_err(Error::git(format!("cannot walk the tree of {rev:?}")))?;
        for (path, id, mode) in files {
            self.visit_whole_blob(&path, id, filemode(mode as u32), walk, stats, &mut visit)?;
        }
        Ok(())
    }

    /// Visits the named files whole: the staged version when the index tracks the path (the
    /// content the next commit would hold), else the file on disk. A directory stands for
    /// every tracked file below it.
    pub fn walk_paths(
        &self,
        paths: &[PathBuf],
        walk: WalkOptions,
        stats: &mut StagedStats,
        mut visit: impl FnMut(Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        let index = self.index()?;
        let root = self
            .workdir()
            .ok_or_else(|| Error::NotARepository("scan-files needs a worktree".to_string()))?;
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        for path in paths {
            let relative = repo_relative(&root, path)?;
            let prefix = format!("{}/", relative.trim_end_matches('/'));
            let tracked: Vec<_> = index
                .iter()
                .filter(|e| {
                    let p = String::from_utf8_lossy(&e.path);
                    p == relative || relative.is_empty() || p.starts_with(&prefix)
                })
                .collect();
            if !tracked.is_empty() {
                for entry in tracked {
                    let mode = filemode(entry.mode);
                    self.visit_whole_blob(&entry.path, entry.id, mode, walk, stats, &mut visit)?;
                }
                continue;
            }
            let on_disk = root.join(&relative);
            let content = std::fs::read(&on_disk).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let reason = skip_reason(content.len() as u64, &content, walk);
            visit_content(&relative, &content, reason, stats, &mut visit)?;
        }
        Ok(())
    }

    /// The commits of `spec` oldest first: `A..B` is what B has and A has not; a single
    /// revision is everything reachable from it.
    pub fn range_commits(&self, spec: &str) -> Result<Vec<Oid>> {
        let mut revwalk = self.revwalk()?;
        let pushed = if spec.contains("..") {
            revwalk.push_range(spec)
        } else {
            self.repo
                .revparse_single(spec)
                .and_then(|object| object.peel_to_commit())
                .and_then(|commit| revwalk.push(commit.id()))
        };
        pushed.map_err(Error::git(format!("cannot resolve the range {spec:?}")))?;
        revwalk
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(Error::git(format!("cannot walk the range {spec:?}")))
    }

    /// The commits a ref update adds, oldest first: reachable from `new` but not from `old`
    /// (when the receiving side has it) nor from any ref in `known_refs` (globs such as
    /// `refs/remotes/origin/*`, what the other side already has).
    pub fn update_commits(&self, update: &RefUpdate, known_refs: &[String]) -> Result<Vec<Oid>> {
        let mut revwalk = self.revwalk()?;
        let context = || format!("cannot walk the commits of {}", update.local_ref);
        revwalk.push(update.new).map_err(Error::git(context()))?;
        if !update.old.is_zero() && self.repo.find_commit(update.old).is_ok() {
            revwalk.hide(update.old).map_err(Error::git(context()))?;
        }
        for glob in known_refs {
            revwalk.hide_glob(glob).map_err(Error::git(context()))?;
        }
        revwalk
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(Error::git(context()))
    }

    fn revwalk(&self) -> Result<git2::Revwalk<'_>> {
        let mut revwalk = self
            .repo
            .revwalk()
            .map_err(Error::git("cannot walk the history"))?;
        revwalk
            .set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .map_err(Error::git("cannot walk the history"))?;
        Ok(revwalk)
    }

    fn index(&self) -> Result<Index> {
        if self.repo.is_bare() {
            return Err(Error::NotARepository(
                "a bare repository has no index to commit from".to_string(),
            ));
        }
        self.repo
            .index()
            .map_err(Error::git("cannot read the index"))
    }

    /// HEAD's tree, or `None` before the first commit (an unborn branch).
    fn head_tree(&self) -> Result<Option<Tree<'_>>> {
        match self.repo.head() {
            Ok(head) => head
                .peel_to_tree()
                .map(Some)
                .map_err(Error::git("cannot read the commit HEAD points to")),
            Err(err) if matches!(err.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => {
                Ok(None)
            }
            Err(err) => Err(Error::git("cannot resolve HEAD")(err)),
        }
    }

    /// The commit being merged, while `git merge` waits for its merge commit.
    fn merge_head(&self) -> Result<Option<Oid>> {
        let path = self.repo.path().join("MERGE_HEAD");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Read { path, source }),
        };
        // An octopus merge lists several heads; each line is one parent.
        let first = text.lines().next().unwrap_or("").trim();
        Oid::from_str(first)
            .map(Some)
            .map_err(Error::git("MERGE_HEAD does not hold a commit id"))
    }

    /// The changed paths by libgit2's diff with rename detection; deletions and unmerged
    /// paths are counted.
    fn libgit2_changes(
        &self,
        old: Option<&Tree<'_>>,
        new: NewSide<'_>,
        stats: &mut StagedStats,
    ) -> Result<Vec<Change>> {
        let mut options = DiffOptions::new();
        options.include_typechange(true).skip_binary_check(true);
        let mut diff = match new {
            NewSide::Index(index) => {
                self.repo
                    .diff_tree_to_index(old, Some(index), Some(&mut options))
            }
            NewSide::Tree(tree) => self
                .repo
                .diff_tree_to_tree(old, Some(tree), Some(&mut options)),
        }
        .map_err(Error::git("cannot compute the change"))?;
        // Renames and moves add nothing by themselves: pair deleted and added files.
        let mut find = DiffFindOptions::new();
        find.renames(true);
        diff.find_similar(Some(&mut find))
            .map_err(Error::git("cannot detect renames"))?;
        let mut changes = Vec::new();
        for delta in diff.deltas() {
            let status = delta.status();
            match status {
                Delta::Added
                | Delta::Modified
                | Delta::Renamed
                | Delta::Copied
                | Delta::Typechange => {}
                Delta::Deleted => {
                    stats.deleted_files += 1;
                    continue;
                }
                Delta::Conflicted => {
                    stats.unmerged_skipped += 1;
                    continue;
                }
                _ => continue,
            }
            let new_file = delta.new_file();
            let old_file = delta.old_file();
            let old = match (status, old_file.mode()) {
                (Delta::Added, _) => None,
                (_, FileMode::Blob | FileMode::BlobExecutable) => Some(old_file.id()),
                _ => None,
            };
            changes.push(Change {
                path: new_file.path_bytes().unwrap_or_default().to_vec(),
                id: new_file.id(),
                mode: new_file.mode(),
                old,
            });
        }
        Ok(changes)
    }

    /// Hands one changed blob to `visit`: skipped (mode, size, binary), or its content with
    /// the lines it adds against `change.old` and `others` (a merge's other parents' trees).
    pub fn visit_change(
        &self,
        change: &Change,
        others: &[Tree<'_>],
        walk: WalkOptions,
        stats: &mut StagedStats,
        visit: &mut impl FnMut(Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        if !is_scannable_mode(change.mode, stats) {
            return Ok(());
        }
        let id = change.id;
        let path = String::from_utf8_lossy(&change.path).into_owned();
        let unreadable = || Error::git(format!("cannot read the staged blob {id} of {path}"));
        if let Some(limit) = walk.max_file_size {
            // The object header gives the size without inflating the blob.
            let odb = self
                .repo
                .odb()
                .map_err(Error::git("cannot open the object database"))?;
            let (size, _) = odb.read_header(id).map_err(unreadable())?;
            if size as u64 > limit {
                stats.too_large_skipped += 1;
                let reason = SkipReason::TooLarge {
                    size: size as u64,
                    limit,
                };
                return visit(Entry::Skipped { path, reason });
            }
        }
        let blob = self.repo.find_blob(id).map_err(unreadable())?;
        let content = blob.content();
        if !walk.scan_binary && is_binary(content) {
            stats.binary_skipped += 1;
            return visit(Entry::Skipped {
                path,
                reason: SkipReason::Binary,
            });
        }
        // A parent that already has this exact blob means the merge adds nothing here.
        if others
            .iter()
            .any(|tree| tree_blob(tree, &change.path) == Some(id))
        {
            return Ok(());
        }
        visit(Entry::Text {
            path: &path,
            content,
            added: Added {
                repo: Some(self),
                old: change.old,
                others,
                path: &change.path,
                content,
            },
        })
    }

    /// The staged change read through the index's cache tree, as git reads it: directories
    /// whose cache-tree entry equals HEAD's tree are skipped without reading them. `None`
    /// when the index needs libgit2 (conflicts, a split or sparse index, an unknown version)
    /// or when added and deleted files might pair up as renames with edits, which libgit2's
    /// similarity detection decides.
    fn fast_changes(
        &self,
        head: Option<&Tree<'_>>,
        stats: &mut StagedStats,
    ) -> Result<Option<Vec<Change>>> {
        let path = self.index_path();
        let data = match std::fs::read(&path) {
            Ok(data) => data,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Read { path, source }),
        };
        let parsed = index::parse(&data).map_err(|index::Corrupt(message)| Error::Index {
            path: path.clone(),
            message,
        })?;
        let index::Parsed::Index(parsed) = parsed else {
            return Ok(None);
        };
        let mut diff = FastDiff::default();
        self.compare_dir(
            b"",
            parsed.cache_tree.as_ref(),
            head.cloned(),
            &parsed.entries,
            &mut diff,
        )?;
        // A blob that disappears in one place and appears in another is a pure move.
        let mut deleted = diff.deleted;
        let mut changes = Vec::with_capacity(diff.changes.len());
        for change in diff.changes {
            if change.old.is_none()
                && let Some(at) = deleted.iter().position(|(_, id)| *id == change.id)
            {
                deleted.swap_remove(at);
                continue;
            }
            changes.push(change);
        }
        // A move with edits: the new file is compared with the old one, as git's rename
        // detection would pair them, so only the edits count as added.
        let added = changes.iter().filter(|c| c.old.is_none()).count();
        if added * deleted.len() > MAX_RENAME_PAIRS {
            return Ok(None);
        }
        if added > 0 && !deleted.is_empty() {
            self.pair_edited_moves(&mut changes, &mut deleted)?;
        }
        stats.deleted_files += deleted.len() as u64;
        Ok(Some(changes))
    }

    /// Pairs each added file with the deleted file of the same extension it most resembles
    /// (at least half of the lines in common).
    fn pair_edited_moves(
        &self,
        changes: &mut [Change],
        deleted: &mut Vec<(Vec<u8>, Oid)>,
    ) -> Result<()> {
        let read = |id: Oid| {
            self.repo
                .find_blob(id)
                .map(|blob| blob.content().to_vec())
                .map_err(Error::git(format!("cannot read the blob {id}")))
        };
        for change in changes.iter_mut().filter(|c| c.old.is_none()) {
            let ext = extension(&change.path);
            let candidates: Vec<usize> = (0..deleted.len())
                .filter(|&i| extension(&deleted[i].0) == ext)
                .collect();
            if candidates.is_empty() {
                continue;
            }
            let new = read(change.id)?;
            let mut best: Option<(usize, f64)> = None;
            for i in candidates {
                let old = read(deleted[i].1)?;
                let similarity = line_similarity(&old, &new);
                if similarity >= RENAME_SIMILARITY && best.is_none_or(|(_, s)| similarity > s) {
                    best = Some((i, similarity));
                }
            }
            if let Some((i, _)) = best {
                change.old = Some(deleted.swap_remove(i).1);
            }
        }
        Ok(())
    }

    /// Compares one directory of the index (`entries`, all under `prefix`) with HEAD's tree
    /// for it, recursing only where the cache tree cannot vouch for it.
    fn compare_dir(
        &self,
        prefix: &[u8],
        node: Option<&index::CacheTree>,
        head: Option<Tree<'_>>,
        entries: &[index::IndexEntry],
        diff: &mut FastDiff,
    ) -> Result<()> {
        if let (Some(node), Some(tree)) = (node, &head)
            && node.oid.is_some_and(|oid| oid == tree.id().as_bytes())
        {
            return Ok(());
        }
        let mut in_head: std::collections::HashMap<Vec<u8>, (Oid, i32)> = head
            .iter()
            .flat_map(|tree| tree.iter())
            .map(|e| (e.name_bytes().to_vec(), (e.id(), e.filemode())))
            .collect();
        let mut i = 0;
        while i < entries.len() {
            let rest = &entries[i].path[prefix.len()..];
            if let Some(slash) = memchr::memchr(b'/', rest) {
                let name = &rest[..slash];
                let mut sub = prefix.to_vec();
                sub.extend_from_slice(name);
                sub.push(b'/');
                // A linear walk, not a binary search: it holds even for an unsorted index.
                let end = i + entries[i..]
                    .iter()
                    .take_while(|e| e.path.starts_with(&sub))
                    .count();
                let head_sub = match in_head.remove(name) {
                    Some((id, mode)) if mode == TREE_MODE => Some(
                        self.repo
                            .find_tree(id)
                            .map_err(Error::git(format!("cannot read the tree {id} of HEAD")))?,
                    ),
                    Some((id, _)) => {
                        diff.deleted.push((sub[..sub.len() - 1].to_vec(), id));
                        None
                    }
                    None => None,
                };
                self.compare_dir(
                    &sub,
                    node.and_then(|n| n.child(name)),
                    head_sub,
                    &entries[i..end],
                    diff,
                )?;
                i = end;
                continue;
            }
            let entry = &entries[i];
            let id =
                Oid::from_bytes(&entry.oid).map_err(Error::git("bad object id in the index"))?;
            let old = match in_head.remove(rest) {
                Some((old, mode)) if mode == TREE_MODE => {
                    self.collect_deleted(&entry.path, old, diff)?;
                    None
                }
                Some((old, mode)) if old == id && mode as u32 == entry.mode => {
                    i += 1;
                    continue;
                }
                Some((old, mode)) if is_regular(mode as u32) => Some(old),
                Some((old, _)) => {
                    diff.deleted.push((entry.path.clone(), old));
                    None
                }
                None => None,
            };
            diff.changes.push(Change {
                path: entry.path.clone(),
                id,
                mode: filemode(entry.mode),
                old,
            });
            i += 1;
        }
        for (name, (id, mode)) in in_head {
            let mut path = prefix.to_vec();
            path.extend_from_slice(&name);
            if mode == TREE_MODE {
                self.collect_deleted(&path, id, diff)?;
            } else {
                diff.deleted.push((path, id));
            }
        }
        Ok(())
    }

    /// Every blob of a tree (at `path` in HEAD) that the index no longer has.
    fn collect_deleted(&self, path: &[u8], tree: Oid, diff: &mut FastDiff) -> Result<()> {
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(Error::git(format!("cannot read the tree {tree} of HEAD")))?;
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(ObjectType::Blob) {
                let mut full = path.to_vec();
                full.push(b'/');
                full.extend_from_slice(dir.as_bytes());
                full.extend_from_slice(entry.name_bytes());
                diff.deleted.push((full, entry.id()));
            }
            TreeWalkResult::Ok
        })
        .map_err(Error::git("cannot walk a deleted directory of HEAD"))
    }

    /// The index git commits from: `GIT_INDEX_FILE` (relative to the current directory, as
    /// git reads it) or the repository's own.
    fn index_path(&self) -> PathBuf {
        match std::env::var_os("GIT_INDEX_FILE").filter(|v| !v.is_empty()) {
            Some(path) => {
                let path = PathBuf::from(path);
                match std::env::current_dir() {
                    Ok(cwd) if path.is_relative() => cwd.join(path),
                    _ => path,
                }
            }
            None => self.repo.path().join("index"),
        }
    }

    /// The lines `new` adds to the blob `old`: all of them when there is no old blob, else the
    /// `+` side of git's own line diff (xdiff, through libgit2).
    fn added_lines(&self, old: Option<Oid>, new: &[u8], path: &str) -> Result<AddedLines> {
        let Some(old_id) = old else {
            return Ok(AddedLines::All);
        };
        let old = self.repo.find_blob(old_id).map_err(Error::git(format!(
            "cannot read the committed blob {old_id} of {path}"
        )))?;
        added_lines_between(old.content(), new)
            .map_err(|source| Error::git(format!("cannot diff {path}"))(source))
    }

    fn visit_whole_blob(
        &self,
        path: &[u8],
        id: Oid,
        mode: FileMode,
        walk: WalkOptions,
        stats: &mut StagedStats,
        visit: &mut impl FnMut(Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        if !is_scannable_mode(mode, stats) {
            return Ok(());
        }
        let path = String::from_utf8_lossy(path).into_owned();
        let blob = self
            .repo
            .find_blob(id)
            .map_err(Error::git(format!("cannot read the blob {id} of {path}")))?;
        let content = blob.content();
        let reason = skip_reason(content.len() as u64, content, walk);
        visit_content(&path, content, reason, stats, visit)
    }
}

/// The lines of `new` that git's line diff (xdiff, through libgit2) marks as added against
/// `old`, 1-based. Needs no repository.
pub fn added_lines_between(old: &[u8], new: &[u8]) -> std::result::Result<AddedLines, git2::Error> {
    let mut options = DiffOptions::new();
    options.context_lines(0).force_text(true);
    let patch = Patch::from_buffers(old, None, new, None, Some(&mut options))?;
    // With no context lines, every new-side line of a hunk is an added line.
    let mut ranges = Vec::with_capacity(patch.num_hunks());
    for index in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(index)?;
        if hunk.new_lines() > 0 {
            let first = u64::from(hunk.new_start());
            ranges.push((first, first + u64::from(hunk.new_lines()) - 1));
        }
    }
    Ok(AddedLines::from_ranges(ranges))
}

/// Reads the pre-push (`<local ref> <local oid> <remote ref> <remote oid>`) or pre-receive
/// (`<old oid> <new oid> <ref>`) lines git writes to a hook's stdin. Deleted refs add nothing
/// and are left out.
pub fn parse_ref_updates(input: &str) -> Result<Vec<RefUpdate>> {
    let mut updates = Vec::new();
    for (number, line) in input.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let oid = |text: &str| {
            Oid::from_str(text).map_err(|_| {
                Error::Usage(format!(
                    "hook input line {}: {text:?} is not an object id",
                    number + 1
                ))
            })
        };
        let update = match fields.as_slice() {
            [] => continue,
            [local_ref, local, _remote_ref, remote] => RefUpdate {
                local_ref: local_ref.to_string(),
                new: oid(local)?,
                old: oid(remote)?,
            },
            [old, new, reference] => RefUpdate {
                local_ref: reference.to_string(),
                new: oid(new)?,
                old: oid(old)?,
            },
            _ => {
                return Err(Error::Usage(format!(
                    "hook input line {}: expected the pre-push or pre-receive format",
                    number + 1
                )));
            }
        };
        if !update.new.is_zero() {
            updates.push(update);
        }
    }
    Ok(updates)
}

/// Regular files are scanned; symlinks (their blob is a target path) and submodules are
/// counted and skipped.
fn is_scannable_mode(mode: FileMode, stats: &mut StagedStats) -> bool {
    match mode {
        FileMode::Blob | FileMode::BlobExecutable => true,
        FileMode::Link => {
            stats.symlinks_skipped += 1;
            false
        }
        FileMode::Commit => {
            stats.submodules_skipped += 1;
            false
        }
        _ => false,
    }
}

fn filemode(raw: u32) -> FileMode {
    match raw {
        0o100755 => FileMode::BlobExecutable,
        0o120000 => FileMode::Link,
        0o160000 => FileMode::Commit,
        0o040000 => FileMode::Tree,
        _ => FileMode::Blob,
    }
}

fn skip_reason(size: u64, content: &[u8], walk: WalkOptions) -> Option<SkipReason> {
    if let Some(limit) = walk.max_file_size.filter(|limit| size > *limit) {
        return Some(SkipReason::TooLarge { size, limit });
    }
    (!walk.scan_binary && is_binary(content)).then_some(SkipReason::Binary)
}

fn visit_content(
    path: &str,
    content: &[u8],
    skip: Option<SkipReason>,
    stats: &mut StagedStats,
    visit: &mut impl FnMut(Entry<'_>) -> Result<()>,
) -> Result<()> {
    match skip {
        Some(reason) => {
            match reason {
                SkipReason::Binary => stats.binary_skipped += 1,
                SkipReason::TooLarge { .. } => stats.too_large_skipped += 1,
            }
            visit(Entry::Skipped {
                path: path.to_string(),
                reason,
            })
        }
        None => visit(Entry::Text {
            path,
            content,
            added: Added {
                repo: None,
                old: None,
                others: &[],
                path: path.as_bytes(),
                content,
            },
        }),
    }
}

/// The blob at `path` in `tree`, if there is a regular file there.
fn tree_blob(tree: &Tree<'_>, path: &[u8]) -> Option<Oid> {
    use std::os::unix::ffi::OsStrExt;
    let entry = tree
        .get_path(Path::new(std::ffi::OsStr::from_bytes(path)))
        .ok()?;
    (entry.kind() == Some(ObjectType::Blob)).then(|| entry.id())
}

/// `path` (relative to the current directory, or absolute) as a `/`-separated path relative
/// to the worktree's top level.
fn repo_relative(root: &Path, path: &Path) -> Result<String> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?
            .join(path)
    };
    let absolute = absolute.canonicalize().unwrap_or(absolute);
    let relative = absolute
        .strip_prefix(root)
        .map_err(|_| Error::Usage(format!("{} is outside the repository", path.display())))?;
    Ok(relative.to_string_lossy().replace('\\', "/"))
}

/// Git's own test: a NUL byte within the first 8000 bytes.
pub fn is_binary(content: &[u8]) -> bool {
    memchr::memchr(0, &content[..content.len().min(BINARY_PROBE_LEN)]).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_detection_follows_git() {
        let mut late_nul = vec![b'a'; BINARY_PROBE_LEN];
        late_nul.push(0);
        let cases: [(&[u8], bool); 4] = [
            (b"", false),
            (b"text\n", false),
            (b"\x89PNG\r\n\x1a\n\0\0", true),
            (&late_nul, false),
        ];
        for (content, expected) in cases {
            assert_eq!(is_binary(content), expected);
        }
    }

    #[test]
    fn hook_input_formats() {
        let a = "1".repeat(40);
        let b = "2".repeat(40);
        let zero = "0".repeat(40);
        let input = format!(
            "refs/heads/main {a} refs/heads/main {b}\n\
             refs/heads/gone {zero} refs/heads/gone {b}\n\
             {b} {a} refs/heads/feature\n"
        );
        let updates = parse_ref_updates(&input).unwrap();
        assert_eq!(updates.len(), 2, "the deletion adds nothing");
        assert_eq!(updates[0].local_ref, "refs/heads/main");
        assert_eq!(updates[0].new.to_string(), a);
        assert_eq!(updates[0].old.to_string(), b);
        assert_eq!(updates[1].local_ref, "refs/heads/feature");
        assert!(parse_ref_updates("only two").is_err());
        assert!(parse_ref_updates("x y z").is_err());
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn similarity_of_lines() {
        assert_eq!(line_similarity(b"a\nb\n", b"a\nb\n"), 1.0);
        assert_eq!(line_similarity(b"new dir\n", b"a\n"), 0.0);
        assert_eq!(line_similarity(b"a\nb\nc\nd\n", b"a\nb\nx\ny\n"), 0.5);
        assert_eq!(line_similarity(b"", b""), 0.0);
    }

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_WORK_TREE")
            .output()
            .unwrap();
        assert!(status.status.success(), "git {args:?}: {status:?}");
    }

    fn commit_all(dir: &Path) {
        git(dir, &["add", "-A"]);
        git(
            dir,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-q",
                "-m",
                "base",
            ],
        );
    }

    fn write(dir: &Path, path: &str, text: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// (path, new blob, old blob) for every changed regular file, by libgit2's full diff.
    fn libgit2_changes(repo: &Repo) -> Vec<(String, Oid, Option<Oid>)> {
        let head = repo.head_tree().unwrap();
        let index = repo.repo.index().unwrap();
        let mut diff = repo
            .repo
            .diff_tree_to_index(head.as_ref(), Some(&index), None)
            .unwrap();
        diff.find_similar(Some(DiffFindOptions::new().renames(true)))
            .unwrap();
        let mut out = Vec::new();
        for delta in diff.deltas() {
            if delta.status() == Delta::Deleted {
                continue;
            }
            let new = delta.new_file();
            let old = delta.old_file();
            let old = (delta.status() != Delta::Added
                && matches!(old.mode(), FileMode::Blob | FileMode::BlobExecutable))
            .then(|| old.id());
            if delta.status() == Delta::Renamed && old == Some(new.id()) {
                continue;
            }
            let path = String::from_utf8_lossy(new.path_bytes().unwrap()).into_owned();
            out.push((path, new.id(), old));
        }
        out.sort();
        out
    }

    #[test]
    fn cache_tree_comparison_agrees_with_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        for d in 0..8 {
            for f in 0..6 {
                write(
                    root,
                    &format!("d{d}/sub{}/f{f}.txt", f % 2),
                    &format!("{d} {f}\n"),
                );
            }
        }
        write(root, "top.txt", "top\n");
        write(root, "gone/a.txt", "a\n");
        write(root, "turn/into-file/x.txt", "x\n");
        commit_all(root);

        write(root, "d0/sub0/f0.txt", "changed\n");
        write(root, "d1/new.txt", "new file in an old dir\n");
        write(root, "brand/new/dir.txt", "new dir\n");
        std::fs::rename(root.join("d2/sub1/f1.txt"), root.join("d3/moved.txt")).unwrap();
        std::fs::remove_dir_all(root.join("gone")).unwrap();
        std::fs::remove_file(root.join("d4/sub0/f2.txt")).unwrap();
        std::fs::remove_dir_all(root.join("turn/into-file")).unwrap();
        write(root, "turn/into-file", "now a file\n");
        git(root, &["add", "-A"]);
        git(root, &["update-index", "--chmod=+x", "d5/sub1/f3.txt"]);

        let repo = Repository::open(root).map(|repo| Repo { repo }).unwrap();
        let head = repo.head_tree().unwrap();
        let mut stats = StagedStats::default();
        let fast = repo.fast_changes(head.as_ref(), &mut stats).unwrap();
        let fast = fast.expect("no edited renames here: the fast path applies");
        let mut fast: Vec<(String, Oid, Option<Oid>)> = fast
            .into_iter()
            .map(|c| (String::from_utf8_lossy(&c.path).into_owned(), c.id, c.old))
            .collect();
        fast.sort();
        assert_eq!(fast, libgit2_changes(&repo));
        // gone/a.txt, d4/sub0/f2.txt and turn/into-file/x.txt (the move pairs up).
        assert_eq!(stats.deleted_files, 3);
    }

    #[test]
    fn an_edited_move_is_compared_with_its_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        let body: String = (0..40).map(|i| format!("line {i}\n")).collect();
        write(root, "old.txt", &body);
        commit_all(root);
        std::fs::remove_file(root.join("old.txt")).unwrap();
        write(root, "new.txt", &format!("{body}one more\n"));
        git(root, &["add", "-A"]);
        let repo = Repository::open(root).map(|repo| Repo { repo }).unwrap();
        let head = repo.head_tree().unwrap();
        let fast = repo
            .fast_changes(head.as_ref(), &mut StagedStats::default())
            .unwrap()
            .unwrap();
        let old = head.unwrap().get_path(Path::new("old.txt")).unwrap().id();
        assert_eq!(fast.len(), 1);
        assert_eq!(
            fast[0].old,
            Some(old),
            "paired with the file it was moved from"
        );
    }
}
