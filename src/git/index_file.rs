//! The index git commits from, as git reads it: the file (`GIT_INDEX_FILE` or the repository's),
//! merged with its shared index when split, and handed to libgit2 as an in-memory index (with
//! a sparse index's directories expanded from their trees) when libgit2 must compare it:
//! libgit2 reads neither a split nor a sparse index, nor an index without a checksum.

use git2::{IndexEntry as Libgit2Entry, IndexTime, Oid, TreeWalkMode, TreeWalkResult};

use super::Repo;
use super::index::{self, FileTime, Index, IndexEntry, LocatedIndex};
use super::split_index;
use crate::error::{Error, Result};

/// The index the staged scan compares: one file read in place, or a split index merged.
pub(super) enum StagedIndex {
    Located(Box<LocatedIndex>),
    Merged(Index),
}

impl Repo {
    /// The index file parsed and, when split, merged with its shared index; `None` when this
    /// reader does not know its version or a required extension (libgit2 may).
    pub(super) fn read_index(&self) -> Result<Option<Index>> {
        Ok(self.read_staged_index()?.map(|read| match read {
            StagedIndex::Located(located) => located.into_index(),
            StagedIndex::Merged(index) => index,
        }))
    }

    /// The index file with its entries located but not copied out, or merged with its shared
    /// index when split; `None` when this reader does not know its version or a required
    /// extension (libgit2 may).
    pub(super) fn read_staged_index(&self) -> Result<Option<StagedIndex>> {
        let path = self.index_path();
        let (data, written) = match read_with_mtime(&path) {
            Ok(read) => read,
            // No index yet: nothing is staged.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Some(StagedIndex::Merged(Index {
                    entries: Vec::new(),
                    cache_tree: None,
                    link: None,
                    written: None,
                })));
            }
            Err(source) => return Err(Error::Read { path, source }),
        };
        let corrupt = |path: &std::path::Path| {
            let path = path.to_path_buf();
            move |index::Corrupt(message)| Error::Index { path, message }
        };
        let index::Scanned::Index(mut located) = index::scan(data).map_err(corrupt(&path))? else {
            return Ok(None);
        };
        located.written = written;
        let Some(link) = located.link.clone() else {
            return Ok(Some(StagedIndex::Located(located)));
        };
        // git keeps the shared index in the repository's git directory (for a worktree, its
        // own), beside the index it splits.
        let shared_path = self.repo.path().join(link.shared_file_name());
        let (shared_data, shared_written) =
            read_with_mtime(&shared_path).map_err(|source| Error::Read {
                path: shared_path.clone(),
                source,
            })?;
        let index::Parsed::Index(mut shared) =
            index::parse(&shared_data).map_err(corrupt(&shared_path))?
        else {
            return Ok(None);
        };
        shared.written = shared_written;
        split_index::merge(located.into_index(), &link, shared)
            .map(|merged| Some(StagedIndex::Merged(merged)))
            .map_err(corrupt(&path))
    }

    /// The index as libgit2 should compare it: built from this reader's entries (sparse
    /// directories expanded, intent-to-add entries left out) when it can read the file, else
    /// libgit2's own reading of it.
    pub(super) fn index(&self) -> Result<git2::Index> {
        if self.repo.is_bare() {
            return Err(Error::NotARepository(
                "a bare repository has no index to commit from".to_string(),
            ));
        }
        let Some(parsed) = self.read_index()? else {
            return self
                .repo
                .index()
                .map_err(Error::git("cannot read the index"));
        };
        let mut built = git2::Index::new().map_err(Error::git("cannot build the index"))?;
        for entry in self.expanded_entries(parsed.entries)? {
            let mut raw = libgit2_entry(&entry.path, entry.mode, oid(&entry)?);
            raw.flags |= u16::from(entry.stage) << 12;
            built
                .add(&raw)
                .map_err(Error::git("cannot build the index"))?;
        }
        Ok(built)
    }

    /// The committed entries, every sparse directory replaced by the files of its tree.
    pub(super) fn expanded_entries(&self, entries: Vec<IndexEntry>) -> Result<Vec<IndexEntry>> {
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries.into_iter().filter(|e| !e.intent_to_add) {
            if entry.is_sparse_dir() {
                self.tree_entries(&entry.path, oid(&entry)?, &mut out)?;
            } else {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// Every file of the tree `id`, as index entries under `prefix` (which ends in `/`).
    pub(super) fn tree_entries(
        &self,
        prefix: &[u8],
        id: Oid,
        out: &mut Vec<IndexEntry>,
    ) -> Result<()> {
        let tree = self.repo.find_tree(id).map_err(Error::git(format!(
            "cannot read the tree {id} of a sparse directory"
        )))?;
        let first = out.len();
        let walked = tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() != Some(git2::ObjectType::Tree) {
                let mut path = prefix.to_vec();
                path.extend_from_slice(dir.as_bytes());
                path.extend_from_slice(entry.name_bytes());
                let mut oid = [0u8; 20];
                oid.copy_from_slice(entry.id().as_bytes());
                out.push(IndexEntry {
                    path,
                    mode: entry.filemode() as u32,
                    oid,
                    stage: 0,
                    intent_to_add: false,
                    stat: None,
                    unwatched: false,
                });
            }
            TreeWalkResult::Ok
        });
        walked.map_err(Error::git(format!(
            "cannot walk the tree {id} of a sparse directory"
        )))?;
        // The staged comparison finds a directory's entries by binary search: git's order is
        // the walk's for a well-formed tree, and made so for any other.
        out[first..].sort_by(|a, b| a.path.cmp(&b.path));
        Ok(())
    }
}

/// A file's bytes and the mtime of exactly those bytes (git replaces the index by renaming a
/// new file over it, so the open file keeps its own mtime); `None` for a zero mtime, which
/// git takes as "no timestamp".
fn read_with_mtime(path: &std::path::Path) -> std::io::Result<(Vec<u8>, Option<FileTime>)> {
    use std::os::unix::fs::MetadataExt;
    let mut file = std::fs::File::open(path)?;
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut data)?;
    let meta = file.metadata()?;
    let written = (meta.mtime() as u32, meta.mtime_nsec() as u32);
    Ok((data, (written.0 != 0).then_some(written)))
}

pub(super) fn oid(entry: &IndexEntry) -> Result<Oid> {
    Oid::from_bytes(&entry.oid).map_err(Error::git("bad object id in the index"))
}

fn libgit2_entry(path: &[u8], mode: u32, id: Oid) -> Libgit2Entry {
    Libgit2Entry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: 0,
        flags_extended: 0,
        path: path.to_vec(),
    }
}
