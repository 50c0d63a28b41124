//! What a commit changes against its first parent, read off the two trees directly: the
//! history scan's common case, a commit that adds or edits files without also deleting any,
//! where no rename can pair an added file with a deleted one. libgit2's diff walked every
//! changed directory through its generic iterators and ran its similarity detection on each
//! commit (an eighth of openai-python's history scan). A commit that both adds and deletes
//! files, or whose trees hold anything out of git's form (an unsorted tree, an unusual mode),
//! is left to libgit2's diff and rename detection, so the changes are the same either way,
//! in the same order (by path, as libgit2 lists them).

use std::cmp::Ordering;

use git2::{Oid, Tree, TreeEntry};

use super::Repo;
use super::staged::{TREE_MODE, is_regular};
use super::visit::Change;
use crate::error::{Error, Result};

/// What the walk has found so far.
#[derive(Default)]
struct Found {
    changes: Vec<Change>,
    added: bool,
    deleted: u64,
}

/// Why the walk gives the commit to libgit2.
struct Undecided;

/// One tree entry as the walk compares it.
#[derive(Clone, Copy)]
struct Item<'t> {
    name: &'t [u8],
    id: Oid,
    mode: i32,
}

impl Item<'_> {
    fn is_tree(&self) -> bool {
        self.mode == TREE_MODE
    }
}

impl Repo {
    /// The changes from `old` (the first parent's tree; `None` for a root commit) to `new`, and
    /// how many files the commit deletes; `None` when libgit2 must decide (see the module).
    pub(super) fn tree_changes(
        &self,
        old: Option<&Tree<'_>>,
        new: &Tree<'_>,
    ) -> Result<Option<(Vec<Change>, u64)>> {
        let mut found = Found::default();
        let mut path = Vec::new();
        match self.compare_trees(&mut path, old, Some(new), &mut found)? {
            Ok(()) => Ok(Some((found.changes, found.deleted))),
            Err(Undecided) => Ok(None),
        }
    }

    /// Compares two versions of the directory at `path` (which ends in `/`, or is empty).
    fn compare_trees(
        &self,
        path: &mut Vec<u8>,
        old: Option<&Tree<'_>>,
        new: Option<&Tree<'_>>,
        found: &mut Found,
    ) -> Result<std::result::Result<(), Undecided>> {
        let (old_entries, new_entries) = (entries(old), entries(new));
        let (Ok(old), Ok(new)) = (items(&old_entries), items(&new_entries)) else {
            return Ok(Err(Undecided));
        };
        let (mut i, mut j) = (0, 0);
        while i < old.len() || j < new.len() {
            let order = match (old.get(i), new.get(j)) {
                (Some(a), Some(b)) => tree_order(a, b),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            let step = match order {
                Ordering::Less => {
                    i += 1;
                    self.gone(path, old[i - 1], found)?
                }
                Ordering::Greater => {
                    j += 1;
                    self.arrived(path, new[j - 1], found)?
                }
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                    self.changed(path, old[i - 1], new[j - 1], found)?
                }
            };
            if step.is_err() || (found.added && found.deleted > 0) {
                return Ok(Err(Undecided));
            }
        }
        Ok(Ok(()))
    }

    /// An entry only the parent has: its files are deleted.
    fn gone(
        &self,
        path: &mut Vec<u8>,
        item: Item<'_>,
        found: &mut Found,
    ) -> Result<std::result::Result<(), Undecided>> {
        if !item.is_tree() {
            found.deleted += 1;
            return Ok(Ok(()));
        }
        let tree = self.tree(item.id)?;
        self.in_subdirectory(path, item.name, |repo, path| {
            repo.compare_trees(path, Some(&tree), None, found)
        })
    }

    /// An entry only the commit has: its files are added.
    fn arrived(
        &self,
        path: &mut Vec<u8>,
        item: Item<'_>,
        found: &mut Found,
    ) -> Result<std::result::Result<(), Undecided>> {
        if item.is_tree() {
            let tree = self.tree(item.id)?;
            return self.in_subdirectory(path, item.name, |repo, path| {
                repo.compare_trees(path, None, Some(&tree), found)
            });
        }
        found.added = true;
        found.changes.push(change(path, item, None, true));
        Ok(Ok(()))
    }

    /// An entry both have under one name.
    fn changed(
        &self,
        path: &mut Vec<u8>,
        old: Item<'_>,
        new: Item<'_>,
        found: &mut Found,
    ) -> Result<std::result::Result<(), Undecided>> {
        if old.id == new.id && old.mode == new.mode {
            return Ok(Ok(()));
        }
        match (old.is_tree(), new.is_tree()) {
            (true, true) => {
                let (old_tree, new_tree) = (self.tree(old.id)?, self.tree(new.id)?);
                self.in_subdirectory(path, new.name, |repo, path| {
                    repo.compare_trees(path, Some(&old_tree), Some(&new_tree), found)
                })
            }
            // A file that became a directory or the other way round: libgit2 deletes one and
            // adds the other.
            (true, false) | (false, true) => Ok(Err(Undecided)),
            // An edit, a mode change or a type change (file, symlink, submodule): the blob it
            // replaces counts only when it was a regular file.
            (false, false) => {
                let before = is_regular(old.mode as u32).then_some(old.id);
                found.changes.push(change(path, new, before, false));
                Ok(Ok(()))
            }
        }
    }

    /// Runs `walk` with `name/` appended to `path`, and takes it off again.
    fn in_subdirectory(
        &self,
        path: &mut Vec<u8>,
        name: &[u8],
        walk: impl FnOnce(&Repo, &mut Vec<u8>) -> Result<std::result::Result<(), Undecided>>,
    ) -> Result<std::result::Result<(), Undecided>> {
        let len = path.len();
        path.extend_from_slice(name);
        path.push(b'/');
        let result = walk(self, path);
        path.truncate(len);
        result
    }

    fn tree(&self, id: Oid) -> Result<Tree<'_>> {
        self.repo
            .find_tree(id)
            .map_err(Error::git(format!("cannot read the tree {id}")))
    }
}

/// A tree's entries (`None`: no tree).
fn entries<'t>(tree: Option<&'t Tree<'_>>) -> Vec<TreeEntry<'t>> {
    tree.map_or_else(Vec::new, |tree| tree.iter().collect())
}

/// The walk's view of `entries`, each read once from libgit2, checked to be in git's order
/// with modes git writes; `Err` otherwise.
fn items<'e>(entries: &'e [TreeEntry<'_>]) -> std::result::Result<Vec<Item<'e>>, Undecided> {
    let items: Vec<Item<'e>> = entries.iter().map(item).collect();
    let in_form = items.iter().all(|item| {
        matches!(
            item.mode,
            TREE_MODE | 0o100644 | 0o100755 | 0o120000 | 0o160000
        )
    }) && (items.windows(2))
        .all(|pair| tree_order(&pair[0], &pair[1]) == Ordering::Less);
    if in_form { Ok(items) } else { Err(Undecided) }
}

fn item<'e>(entry: &'e TreeEntry<'_>) -> Item<'e> {
    Item {
        name: entry.name_bytes(),
        id: entry.id(),
        mode: entry.filemode_raw(),
    }
}

/// git's order of a tree's entries: by name, a directory's name as if it ended in `/`. The
/// names' common length is compared as slices; only what follows it goes byte by byte.
fn tree_order(a: &Item<'_>, b: &Item<'_>) -> Ordering {
    let common = a.name.len().min(b.name.len());
    a.name[..common]
        .cmp(&b.name[..common])
        .then_with(|| key_from(a, common).cmp(key_from(b, common)))
}

/// An entry's name from byte `from` on, then a slash if it is a directory.
fn key_from<'n>(item: &Item<'n>, from: usize) -> impl Iterator<Item = u8> + 'n {
    let slash = item.is_tree().then_some(b'/');
    item.name[from..].iter().copied().chain(slash)
}

fn change(dir: &[u8], item: Item<'_>, old: Option<Oid>, new_path: bool) -> Change {
    let mut path = dir.to_vec();
    path.extend_from_slice(item.name);
    Change {
        path,
        id: item.id,
        mode: super::visit::filemode(item.mode as u32),
        old,
        new_path,
        path_only: false,
        staged_file: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::staged::NewSide;
    use crate::git::visit::WalkStats;
    use crate::test_support::{git, write};

    type Summary = (Vec<(String, Oid, FileModeBits, Option<Oid>, bool)>, u64);
    type FileModeBits = i32;

    fn summary(changes: Vec<Change>, deleted: u64) -> Summary {
        let changes = changes
            .into_iter()
            .map(|c| {
                let path = String::from_utf8(c.path).unwrap();
                (path, c.id, i32::from(c.mode), c.old, c.new_path)
            })
            .collect();
        (changes, deleted)
    }

    /// The order compared from the names' common length on is the order of the whole names
    /// with a slash after each directory's, for names that differ anywhere or nowhere.
    #[test]
    fn tree_order_is_by_name_with_a_slash_after_a_directory() {
        let whole = |item: &Item<'_>| {
            let mut key = item.name.to_vec();
            key.extend(item.is_tree().then_some(b'/'));
            key
        };
        let mut names = vec![Vec::new()];
        for _ in 0..3 {
            let longer: Vec<Vec<u8>> = (names.iter())
                .flat_map(|name| {
                    (b"-./0a".iter()).map(move |byte| [name.as_slice(), &[*byte]].concat())
                })
                .collect();
            names.extend(longer);
        }
        names.sort_unstable();
        names.dedup();
        let id = Oid::ZERO_SHA1;
        for a in &names {
            for b in &names {
                for (a_mode, b_mode) in [(0o100644, 0o100644), (TREE_MODE, 0o100644)]
                    .into_iter()
                    .chain([(0o100644, TREE_MODE), (TREE_MODE, TREE_MODE)])
                {
                    let x = Item {
                        name: a,
                        id,
                        mode: a_mode,
                    };
                    let y = Item {
                        name: b,
                        id,
                        mode: b_mode,
                    };
                    assert_eq!(tree_order(&x, &y), whole(&x).cmp(&whole(&y)), "{a:?} {b:?}");
                }
            }
        }
    }

    /// Commits of every kind the walk decides (added files and directories, edits, mode and
    /// type changes, a submodule, deletions alone, names that sort differently as files and
    /// as directories) give what libgit2's diff with rename detection gives, in its order;
    /// the commits that add and delete, or turn a file into a directory, are left to it.
    #[test]
    fn changes_are_libgit2s_for_every_commit_decided() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        let commit = |message: &str| {
            git(root, &["add", "-A"]);
            git(root, &["commit", "-q", "--allow-empty", "-m", message]);
        };
        write(root, "a/x.py", "x = 1\n");
        write(root, "a.b", "dot\n");
        write(root, "a0", "zero\n");
        commit("root");
        write(root, "a/x.py", "x = 2\n");
        write(root, "a/new/deep/y.py", "y = 1\n");
        write(root, "a-b/z.py", "z = 1\n");
        commit("edit and add");
        git(root, &["update-index", "--chmod=+x", "a/x.py"]);
        git(root, &["commit", "-q", "-m", "mode"]);
        std::fs::remove_file(root.join("a0")).unwrap();
        std::os::unix::fs::symlink("a.b", root.join("a0")).unwrap();
        commit("typechange");
        let gitlink = "160000,1111111111111111111111111111111111111111,mod";
        git(root, &["update-index", "--add", "--cacheinfo", gitlink]);
        git(root, &["commit", "-q", "-m", "submodule"]);
        std::fs::remove_file(root.join("a0")).unwrap();
        write(root, "a0", "a file again\n");
        commit("typechange back");
        std::fs::remove_dir_all(root.join("a/new")).unwrap();
        commit("delete a directory");
        std::fs::remove_file(root.join("a-b/z.py")).unwrap();
        write(root, "moved/z.py", "z = 1\n");
        commit("move");
        std::fs::remove_file(root.join("a.b")).unwrap();
        write(root, "a.b/inner.py", "now a directory\n");
        commit("file to directory");

        let repo = Repo {
            repo: git2::Repository::open(root).unwrap(),
        };
        let mut decided = Vec::new();
        for id in repo.range_commits("HEAD").unwrap() {
            let commit = repo.repo.find_commit(id).unwrap();
            let tree = commit.tree().unwrap();
            let parent = commit.parents().next().map(|p| p.tree().unwrap());
            let mut stats = WalkStats::default();
            let theirs = repo
                .libgit2_changes(parent.as_ref(), NewSide::Tree(&tree), &mut stats)
                .unwrap();
            let theirs = summary(theirs, stats.deleted_files);
            if let Some((ours, deleted)) = repo.tree_changes(parent.as_ref(), &tree).unwrap() {
                assert_eq!(summary(ours, deleted), theirs, "{:?}", commit.message());
                decided.push(commit.message().unwrap().trim().to_string());
            }
        }
        let expected = [
            "root",
            "edit and add",
            "mode",
            "typechange",
            "submodule",
            "typechange back",
            "delete a directory",
        ];
        assert_eq!(decided, expected);
    }
}
