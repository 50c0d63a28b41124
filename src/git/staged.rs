//! What the commit being made adds: the index against HEAD (or the empty tree before the first
//! commit), and against MERGE_HEAD too while a merge is being concluded. The index is read
//! directly with its cache tree where it can be, as git reads it; libgit2 decides otherwise.

use git2::{
    Delta, DiffFindOptions, DiffOptions, FileMode, Index, ObjectType, Oid, Tree, TreeWalkMode,
    TreeWalkResult,
};

use std::collections::HashMap;
use std::ops::Range;

use super::conversion::Conversion;
use super::disk_blob::StagedFile;
use super::helper::{Helper, NoHelper};
use super::index::Entries;
use super::index_file::StagedIndex;
use super::index_tree::TreeIds;
use super::line_diff::{extension, line_similarity};
use super::visit::{Change, ChangeSet, WalkStats, filemode};
use super::{Repo, index, index_file};
use crate::error::{Error, Result};

/// A tree entry's mode for a directory.
pub(super) const TREE_MODE: i32 = 0o040000;

/// What the cache-tree comparison collects: changed paths, and the blobs HEAD had that the
/// index no longer has at their path (to tell moves from deletions); and the tree ids
/// computed for the index's directories on the way.
#[derive(Default)]
struct FastDiff {
    changes: Vec<Change>,
    deleted: Vec<(Vec<u8>, Oid)>,
    tree_ids: TreeIds,
}

/// git's default rename threshold: half of the content in common.
const RENAME_SIMILARITY: f64 = 0.5;
/// Above this many (added, deleted) candidate pairs, libgit2's rename detection decides.
const MAX_RENAME_PAIRS: usize = 10_000;

/// The change's working-tree file may stand in for its blob by its stat data (so far).
fn stat_vouches(change: &Change) -> bool {
    change.staged_file.is_some_and(|staged| staged.stat_vouches)
}

pub(super) fn is_regular(mode: u32) -> bool {
    matches!(mode, 0o100644 | 0o100755 | 0o100664)
}

/// What a walk compares: the new side of the diff.
pub(super) enum NewSide<'a> {
    Index(&'a Index),
    Tree(&'a Tree<'a>),
}

impl Repo {
    /// What the commit being made adds: the index against HEAD, and against MERGE_HEAD too
    /// while a merge is being concluded.
    pub fn staged_changes(&self, stats: &mut WalkStats) -> Result<ChangeSet> {
        self.staged_changes_with(stats, &NoHelper)
    }

    /// [`Repo::staged_changes`], with `helper`'s thread for the work that would otherwise wait
    /// on a thread of its own (a large commit's `.gitattributes` look-ups).
    pub fn staged_changes_with(
        &self,
        stats: &mut WalkStats,
        helper: &dyn Helper,
    ) -> Result<ChangeSet> {
        if self.repo.is_bare() {
            return Err(Error::NotARepository(
                "a bare repository has no index to commit from".to_string(),
            ));
        }
        let head = self.head_tree()?;
        let merge_head = self.merge_head()?;
        if merge_head.is_none()
            && let Some(changes) = self.fast_changes(head.as_ref(), stats, helper)?
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
        let mut stats = WalkStats::default();
        let set = self.staged_changes(&mut stats)?;
        Ok(set.changes.is_empty() && stats.deleted_files == 0 && stats.unmerged_skipped == 0)
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
    pub(super) fn libgit2_changes(
        &self,
        old: Option<&Tree<'_>>,
        new: NewSide<'_>,
        stats: &mut WalkStats,
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
                new_path: matches!(status, Delta::Added | Delta::Renamed | Delta::Copied),
                path_only: false,
                staged_file: None,
            });
        }
        Ok(changes)
    }

    /// The staged change read through the index's cache tree, as git reads it: directories
    /// whose cache-tree entry equals HEAD's tree are skipped without reading them, as are a
    /// sparse index's directories equal to HEAD's. `None` when the index needs libgit2
    /// (conflicts, entries out of git's order, an unknown version or required extension)
    /// or when added and deleted files might pair up as renames with edits, which libgit2's
    /// similarity detection decides.
    fn fast_changes(
        &self,
        head: Option<&Tree<'_>>,
        stats: &mut WalkStats,
        helper: &dyn Helper,
    ) -> Result<Option<Vec<Change>>> {
        let diff = match self.read_staged_index()? {
            None => return Ok(None),
            Some(StagedIndex::Located(located)) => {
                // Unmerged paths are counted by libgit2's comparison, which also sorts.
                if located.has_conflicts || !located.sorted {
                    return Ok(None);
                }
                let cache_tree = located.cache_tree.as_ref();
                let diff = self.compared(&*located, cache_tree, located.written, head, helper)?;
                // A command reads the index once and ends soon after: freeing its nodes one by
                // one is work for nothing.
                std::mem::forget(located);
                diff
            }
            Some(StagedIndex::Merged(index)) => {
                if index.has_conflicts() {
                    return Ok(None);
                }
                let entries = &index.entries[..];
                let cache_tree = index.cache_tree.as_ref();
                let diff = self.compared(entries, cache_tree, index.written, head, helper)?;
                std::mem::forget(index);
                diff
            }
        };
        self.pair_moves(diff, stats)
    }

    /// [`Self::fast_diff`] with the files vouched for. `helper` hears how many changes to
    /// expect: a first commit's before the comparison (its index's entries, less any
    /// intent-to-add ones), every commit's after it.
    fn compared<E: Entries + ?Sized>(
        &self,
        entries: &E,
        cache_tree: Option<&index::CacheTree>,
        written: Option<index::FileTime>,
        head: Option<&Tree<'_>>,
        helper: &dyn Helper,
    ) -> Result<FastDiff> {
        if head.is_none() {
            helper.expect(entries.count());
        }
        let mut diff = self.fast_diff(entries, cache_tree, head)?;
        helper.expect(diff.changes.len());
        self.vouch_for_files(&mut diff.changes, entries, written, helper);
        Ok(diff)
    }

    fn fast_diff<E: Entries + ?Sized>(
        &self,
        entries: &E,
        cache_tree: Option<&index::CacheTree>,
        head: Option<&Tree<'_>>,
    ) -> Result<FastDiff> {
        // A first commit changes every entry: its list is made once, not grown ten times.
        let first_commit = if head.is_none() { entries.count() } else { 0 };
        let mut diff = FastDiff {
            changes: Vec::with_capacity(first_commit),
            tree_ids: TreeIds::for_cache_tree(cache_tree),
            ..FastDiff::default()
        };
        let all = 0..entries.count();
        self.compare_dir(b"", cache_tree, head.cloned(), entries, all, &mut diff)?;
        Ok(diff)
    }

    /// Pure moves keep only their new name; moves with edits are compared with the file they
    /// came from. `None` when there are too many candidate pairs for this (libgit2 decides).
    fn pair_moves(&self, diff: FastDiff, stats: &mut WalkStats) -> Result<Option<Vec<Change>>> {
        // Nothing deleted (a first commit, or only additions and edits): nothing moved. The
        // list is kept as it is, not copied (a first commit's is 1,700 entries of 40 MB).
        if diff.deleted.is_empty() {
            return Ok(Some(diff.changes));
        }
        // A blob that disappears in one place and appears in another is a pure move.
        let mut deleted = diff.deleted;
        let mut changes = Vec::with_capacity(diff.changes.len());
        for mut change in diff.changes {
            if change.old.is_none()
                && let Some(at) = deleted.iter().position(|(_, id)| *id == change.id)
            {
                // Only its name is new: that is scanned, its content is not.
                deleted.swap_remove(at);
                change.old = Some(change.id);
                change.path_only = true;
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

    /// Keeps the stat data's word for a file only where git would take it: not for a racy
    /// entry, nor for a path git converts on check-in.
    fn vouch_for_files<E: Entries + ?Sized>(
        &self,
        changes: &mut [Change],
        entries: &E,
        written: Option<index::FileTime>,
        helper: &dyn Helper,
    ) {
        let Some(workdir) = self.repo.workdir() else {
            return;
        };
        let mut vouching = false;
        for staged in changes.iter_mut().filter_map(|c| c.staged_file.as_mut()) {
            staged.stat_vouches &= !staged.stat.is_racy(written);
            vouching |= staged.stat_vouches;
        }
        if !vouching {
            return;
        }
        let paths = (0..entries.count()).map(|i| entries.path(i));
        let mut conversion = Conversion::new(&self.repo, workdir, paths);
        let vouching = changes.iter().filter(|c| stat_vouches(c));
        conversion.look_up(vouching.map(|c| &c.path[..]), helper);
        for change in changes.iter_mut() {
            if let Some(staged) = change.staged_file.as_mut().filter(|s| s.stat_vouches) {
                staged.stat_vouches = !conversion.may_convert(&change.path);
            }
        }
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

    /// Compares one directory of the index (`entries` in `range`, all under `prefix`) with
    /// HEAD's tree for it, recursing only where the cache tree cannot vouch for it.
    fn compare_dir<E: Entries + ?Sized>(
        &self,
        prefix: &[u8],
        node: Option<&index::CacheTree>,
        head: Option<Tree<'_>>,
        entries: &E,
        range: Range<usize>,
        diff: &mut FastDiff,
    ) -> Result<()> {
        if let (Some(node), Some(tree)) = (node, &head)
            && node.oid.is_some_and(|oid| oid == tree.id().as_bytes())
        {
            return Ok(());
        }
        let mut in_head: HashMap<Vec<u8>, (Oid, i32)> = head
            .iter()
            .flat_map(|tree| tree.iter())
            .map(|e| (e.name_bytes().to_vec(), (e.id(), e.filemode())))
            .collect();
        // A first commit's directories are new: nothing to look up (and hash) in HEAD.
        let mut take_from_head = |name: &[u8]| {
            if in_head.is_empty() {
                None
            } else {
                in_head.remove(name)
            }
        };
        let mut i = range.start;
        while i < range.end {
            let path = entries.path(i);
            let rest = &path[prefix.len()..];
            if let Some(slash) = memchr::memchr(b'/', rest) {
                let name = &rest[..slash];
                let end = directory_end(entries, i..range.end, prefix.len() + slash + 1);
                let subtree = take_from_head(name);
                self.compare_subdir(prefix, name, node, subtree, entries, i..end, diff)?;
                i = end;
                continue;
            }
            if entries.intent_to_add(i) {
                // Not part of the commit: HEAD's file there, if any, counts as deleted.
                i += 1;
                continue;
            }
            let before = take_from_head(rest);
            // Unchanged, the common case: decided without copying the entry out.
            let (id, mode) = entries.id_and_mode(i);
            if before.is_none_or(|(old, old_mode)| old.as_bytes() != id || old_mode as u32 != mode)
            {
                self.compare_file(entries.entry(i), before, diff)?;
            }
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

    /// Compares the subdirectory `name` of `prefix` (the entries in `range`) with what HEAD
    /// has there (`in_head`: a tree, a file, or nothing).
    #[allow(clippy::too_many_arguments)]
    fn compare_subdir<E: Entries + ?Sized>(
        &self,
        prefix: &[u8],
        name: &[u8],
        parent: Option<&index::CacheTree>,
        in_head: Option<(Oid, i32)>,
        entries: &E,
        range: Range<usize>,
        diff: &mut FastDiff,
    ) -> Result<()> {
        let node = parent.and_then(|n| n.child(name));
        // git's own shortcut: a valid cache-tree entry equal to HEAD's tree id vouches for the
        // whole directory, without reading HEAD's tree object; else the id git would write
        // for the directory's entries, computed from them.
        if let Some((id, TREE_MODE)) = in_head {
            let dir_len = prefix.len() + name.len() + 1;
            let tree = diff.tree_ids.of(entries, range.clone(), dir_len, node);
            if tree.is_some_and(|tree| tree == id.as_bytes()) {
                return Ok(());
            }
        }
        let mut sub = prefix.to_vec();
        sub.extend_from_slice(name);
        sub.push(b'/');
        let head_sub = match in_head {
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
        if range.len() == 1 && entries.path(range.start) == sub {
            let sparse = entries.entry(range.start);
            if sparse.is_sparse_dir() {
                // A sparse index's directory: equal to HEAD's tree, or compared file by file
                // with the files of its tree.
                let id = index_file::oid(&sparse)?;
                if head_sub.as_ref().is_none_or(|tree| tree.id() != id) {
                    let mut files = Vec::new();
                    self.tree_entries(&sub, id, &mut files)?;
                    let all = 0..files.len();
                    // Ids computed for the index's entries are keyed by their positions in it:
                    // none are computed for `files`.
                    let index_ids = std::mem::take(&mut diff.tree_ids);
                    self.compare_dir(&sub, None, head_sub, &files[..], all, diff)?;
                    diff.tree_ids = index_ids;
                }
                return Ok(());
            }
        }
        self.compare_dir(&sub, node, head_sub, entries, range, diff)
    }

    /// One file of the index against what HEAD has at its path.
    fn compare_file(
        &self,
        entry: index::IndexEntry,
        in_head: Option<(Oid, i32)>,
        diff: &mut FastDiff,
    ) -> Result<()> {
        let id = Oid::from_bytes(&entry.oid).map_err(Error::git("bad object id in the index"))?;
        let new_path = in_head.is_none();
        let old = match in_head {
            Some((old, mode)) if mode == TREE_MODE => {
                self.collect_deleted(&entry.path, old, diff)?;
                None
            }
            Some((old, mode)) if old == id && mode as u32 == entry.mode => return Ok(()),
            Some((old, mode)) if is_regular(mode as u32) => Some(old),
            Some((old, _)) => {
                diff.deleted.push((entry.path.clone(), old));
                None
            }
            None => None,
        };
        diff.changes.push(Change {
            id,
            mode: filemode(entry.mode),
            old,
            new_path,
            path_only: false,
            staged_file: entry.stat.map(|stat| StagedFile {
                stat,
                stat_vouches: !entry.unwatched,
            }),
            path: entry.path,
        });
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
}

/// The end of the directory whose entries start at `range.start` and share its path's first
/// `dir_len` bytes (the directory's path and its `/`). The entries are in git's order (by path
/// bytes), so the directory's are contiguous and found by binary search.
pub(super) fn directory_end<E: Entries + ?Sized>(
    entries: &E,
    range: Range<usize>,
    dir_len: usize,
) -> usize {
    let dir = &entries.path(range.start)[..dir_len];
    let (mut low, mut high) = (range.start + 1, range.end);
    while low < high {
        let mid = low + (high - low) / 2;
        if entries.path(mid).starts_with(dir) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    low
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;
    use crate::test_support::{git, write};
    use git2::Repository;
    use std::path::Path;

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

    /// (path, new blob, old blob) for every changed regular file, by libgit2's full diff.
    pub(super) fn libgit2_changes(repo: &Repo) -> Vec<(String, Oid, Option<Oid>)> {
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
        let mut stats = WalkStats::default();
        let fast = repo
            .fast_changes(head.as_ref(), &mut stats, &NoHelper)
            .unwrap();
        let fast = fast.expect("no edited renames here: the fast path applies");
        // A pure move is kept for its new name only; libgit2 reports no content for it.
        let moved: Vec<String> = fast
            .iter()
            .filter(|c| c.path_only)
            .map(|c| String::from_utf8_lossy(&c.path).into_owned())
            .collect();
        assert_eq!(moved, ["d3/moved.txt"]);
        let mut fast: Vec<(String, Oid, Option<Oid>)> = fast
            .into_iter()
            .filter(|c| !c.path_only)
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
            .fast_changes(head.as_ref(), &mut WalkStats::default(), &NoHelper)
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

    /// Records what a helper is told to expect.
    #[derive(Default)]
    struct Expecting(std::cell::RefCell<Vec<usize>>);

    impl Helper for Expecting {
        fn lend(&self, job: crate::git::Job) -> std::result::Result<(), crate::git::Job> {
            Err(job)
        }

        fn expect(&self, changes: usize) {
            self.0.borrow_mut().push(changes);
        }
    }

    /// A first commit's helper hears of its entries before they are compared, then of the
    /// changes found; a later commit's only of its changes.
    #[test]
    fn a_helper_hears_of_a_first_commits_entries_before_the_comparison() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        for name in ["a.txt", "b/c.txt", "b/d.txt"] {
            write(dir.path(), name, name);
        }
        git(dir.path(), &["add", "-A"]);
        let repo = Repo::open_at(dir.path());
        let first = Expecting::default();
        let set = repo.staged_changes_with(&mut WalkStats::default(), &first);
        assert_eq!(set.unwrap().changes.len(), 3);
        assert_eq!(first.0.into_inner(), [3, 3]);
        commit_all(dir.path());
        write(dir.path(), "b/c.txt", "changed");
        git(dir.path(), &["add", "-A"]);
        let later = Expecting::default();
        let set = repo.staged_changes_with(&mut WalkStats::default(), &later);
        assert_eq!(set.unwrap().changes.len(), 1);
        assert_eq!(later.0.into_inner(), [1]);
    }

    /// A first commit's list of changes is made at its full length, and handed on as it is
    /// when nothing was deleted: no copy of it is made on the way.
    #[test]
    fn a_first_commits_changes_are_listed_once() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        for i in 0..37 {
            write(dir.path(), &format!("d/f{i}.txt"), "x");
        }
        git(dir.path(), &["add", "-A"]);
        let repo = Repo::open_at(dir.path());
        let Some(index_file::StagedIndex::Located(located)) = repo.read_staged_index().unwrap()
        else {
            panic!("a plain index is read directly");
        };
        let diff = repo.fast_diff(&*located, None, None).unwrap();
        assert_eq!((diff.changes.len(), diff.changes.capacity()), (37, 37));
        let listed = diff.changes.as_ptr();
        let changes = repo.pair_moves(diff, &mut WalkStats::default());
        let changes = changes.unwrap().unwrap();
        assert_eq!(changes.as_ptr(), listed);
    }
}
