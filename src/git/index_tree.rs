//! The tree ids git would write for the index's directories (`git write-tree`), computed from
//! the index entries where the cache tree has no valid entry for a directory. The staged
//! comparison skips a directory whose id equals HEAD's tree there without reading that tree:
//! after `git add` has invalidated the cache tree (every entry, in the bench's 500 modified
//! files), reading HEAD's 1,754 trees was half of that scan's time.
//!
//! What is hashed is git's tree object for exactly the entries the comparison treats as part
//! of the commit (intent-to-add entries are not), so an equal id means an equal directory.
//! A directory this cannot put into git's form (a sparse index's directory entry, one holding
//! only intent-to-add entries) has no id here, and is compared entry by entry as before.

use std::collections::HashMap;
use std::ops::Range;

use sha1::{Digest, Sha1};

use super::index::{CacheTree, Entries};

const OID_LEN: usize = 20;
const TREE_MODE: u32 = 0o040000;

/// Tree ids computed so far, by directory: its first entry's position and the length of its
/// path with the `/` (unique within one list of entries). `None`: it has none here.
#[derive(Default)]
pub(super) struct TreeIds {
    /// Whether ids are computed at all (see [`TreeIds::for_cache_tree`]); the default is not.
    computing: bool,
    ids: HashMap<(usize, usize), Option<[u8; OID_LEN]>>,
}

impl TreeIds {
    /// Ids computed only when the cache tree vouches for no directory at all (or there is
    /// none): what `git add -A` and `git add .` leave. Staged path by path (`git add <file>`),
    /// git invalidates just the directories above each changed path, and those differ from
    /// HEAD's: hashing them is work for nothing (2% of a one-file change's instructions).
    pub(super) fn for_cache_tree(cache_tree: Option<&CacheTree>) -> TreeIds {
        TreeIds {
            computing: cache_tree.is_none_or(|root| !vouches_for_any(root)),
            ids: HashMap::new(),
        }
    }

    /// The id of the directory whose entries are `range` (paths starting with their first
    /// `dir_len` bytes, the directory's path and its `/`; 0 for the top), taking a valid
    /// cache-tree entry's word for a subdirectory, as git's `write-tree` does.
    pub(super) fn of<E: Entries + ?Sized>(
        &mut self,
        entries: &E,
        range: Range<usize>,
        dir_len: usize,
        node: Option<&CacheTree>,
    ) -> Option<[u8; OID_LEN]> {
        if let Some(oid) = node.and_then(|node| node.oid) {
            return Some(oid);
        }
        if !self.computing {
            return None;
        }
        if let Some(known) = self.ids.get(&(range.start, dir_len)) {
            return *known;
        }
        let id = self.compute(entries, range.clone(), dir_len, node);
        self.ids.insert((range.start, dir_len), id);
        id
    }

    fn compute<E: Entries + ?Sized>(
        &mut self,
        entries: &E,
        range: Range<usize>,
        dir_len: usize,
        node: Option<&CacheTree>,
    ) -> Option<[u8; OID_LEN]> {
        let mut body = Vec::new();
        let mut i = range.start;
        while i < range.end {
            let rest = &entries.path(i)[dir_len..];
            if let Some(slash) = memchr::memchr(b'/', rest) {
                let name = &rest[..slash];
                let sub_len = dir_len + slash + 1;
                let end = super::staged::directory_end(entries, i..range.end, sub_len);
                // A sparse directory entry (`name/` itself) is not in git's tree form.
                if name.is_empty() || entries.path(i).len() == sub_len {
                    return None;
                }
                let child = node.and_then(|node| node.child(name));
                let id = self.of(entries, i..end, sub_len, child)?;
                push_entry(&mut body, TREE_MODE, name, &id);
                i = end;
                continue;
            }
            if !entries.intent_to_add(i) {
                let (id, mode) = entries.id_and_mode(i);
                push_entry(&mut body, mode, rest, id);
            }
            i += 1;
        }
        // git leaves out a directory with nothing to commit; HEAD cannot have it either.
        if body.is_empty() {
            return None;
        }
        let mut hasher = Sha1::new();
        hasher.update(format!("tree {}\0", body.len()).as_bytes());
        hasher.update(&body);
        Some(hasher.finalize().into())
    }
}

/// Whether any directory's cache-tree entry is valid.
fn vouches_for_any(node: &CacheTree) -> bool {
    node.oid.is_some() || node.children.iter().any(vouches_for_any)
}

/// One entry of a tree object: `<octal mode> <name>\0<20-byte id>`, the mode without leading
/// zeros (`40000` for a directory).
fn push_entry(body: &mut Vec<u8>, mode: u32, name: &[u8], id: &[u8]) {
    let mut digits = [0u8; 11];
    let mut at = digits.len();
    let mut rest = mode;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest & 7) as u8;
        rest >>= 3;
        if rest == 0 {
            break;
        }
    }
    body.extend_from_slice(&digits[at..]);
    body.push(b' ');
    body.extend_from_slice(name);
    body.push(0);
    body.extend_from_slice(id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::Repo;
    use crate::git::index_file::StagedIndex;
    use crate::test_support::{git, write};

    /// Every directory's id, computed from the index alone (no cache tree), is the one
    /// `git write-tree` writes, with names that sort differently as files and as directories
    /// (`a.b`, `a/`, `a0`), modes (executable, symlink, submodule) and an intent-to-add entry
    /// (not part of the tree).
    #[test]
    fn computed_ids_are_the_trees_git_writes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        for path in [
            "a.b", "a/x", "a/y/z", "a-b", "a0", "b/c/d/e", "b/c.txt", "b/c/f", "top",
        ] {
            write(root, path, &format!("{path}\n"));
        }
        write(root, "a/y/run.sh", "#!/bin/sh\n");
        std::os::unix::fs::symlink("../top", root.join("b/link")).unwrap();
        git(root, &["add", "-A"]);
        git(root, &["update-index", "--chmod=+x", "a/y/run.sh"]);
        let sub = "1111111111111111111111111111111111111111";
        let gitlink = format!("160000,{sub},b/c/module");
        git(root, &["update-index", "--add", "--cacheinfo", &gitlink]);
        write(root, "b/later.txt", "not yet\n");
        git(root, &["add", "-N", "b/later.txt"]);
        let written = git(root, &["write-tree"]);

        let repo = Repo {
            repo: git2::Repository::open(root).unwrap(),
        };
        let Some(StagedIndex::Located(located)) = repo.read_staged_index().unwrap() else {
            panic!("a version 2 index, read in place");
        };
        let entries: &dyn Entries = &*located;
        let mut ids = TreeIds::for_cache_tree(None);
        let hex = |id: Option<[u8; OID_LEN]>| git2::Oid::from_bytes(&id.unwrap()).unwrap();
        let all = 0..entries.count();
        assert_eq!(hex(ids.of(entries, all, 0, None)).to_string(), written);
        for dir in ["a", "a/y", "b", "b/c", "b/c/d"] {
            let prefix = format!("{dir}/");
            let first = (0..entries.count())
                .find(|&i| entries.path(i).starts_with(prefix.as_bytes()))
                .unwrap();
            let end = (first..entries.count())
                .find(|&i| !entries.path(i).starts_with(prefix.as_bytes()))
                .unwrap_or(entries.count());
            let id = hex(ids.of(entries, first..end, prefix.len(), None));
            assert_eq!(
                id.to_string(),
                git(root, &["rev-parse", &format!("{written}:{dir}")])
            );
        }
    }

    /// Ids are computed only when the cache tree vouches for no directory: staged path by
    /// path, the invalid directories are the changed ones.
    #[test]
    fn ids_are_computed_only_when_no_cache_tree_entry_is_valid() {
        let node = |name: &str, oid: Option<[u8; OID_LEN]>, children| CacheTree {
            name: name.as_bytes().to_vec(),
            oid,
            children,
        };
        let entries = [crate::git::index::IndexEntry {
            path: b"a/x".to_vec(),
            mode: 0o100644,
            oid: [7; OID_LEN],
            stage: 0,
            intent_to_add: false,
            stat: None,
            unwatched: false,
        }];
        let entries = &entries[..];
        let invalid = node("", None, vec![node("a", None, Vec::new())]);
        let one_valid = node("", None, vec![node("b", Some([1; OID_LEN]), Vec::new())]);
        let child = invalid.child(b"a");
        let mut all_invalid = TreeIds::for_cache_tree(Some(&invalid));
        assert!(all_invalid.of(entries, 0..1, 2, child).is_some());
        let mut path_by_path = TreeIds::for_cache_tree(Some(&one_valid));
        assert_eq!(path_by_path.of(entries, 0..1, 2, None), None);
    }
}
