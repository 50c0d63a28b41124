//! The only git2 code: what the commit being made would add, blob by blob.
//!
//! The new side is the index git is committing from (`GIT_INDEX_FILE` during `git commit -a`,
//! `git commit <paths>` and `--amend`), the old side is HEAD's tree, or the empty tree on the
//! first commit. Working-tree files are never read.

use git2::{
    Blob, Delta, DiffFindOptions, DiffOptions, ErrorCode, FileMode, Index, Oid, Patch, Repository,
    Tree,
};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::lines::{self, AddedLines};

/// Git treats a blob as binary when its first 8000 bytes hold a NUL (`FIRST_FEW_BYTES`).
const BINARY_PROBE_LEN: usize = 8000;

/// Counts of what the walk saw and skipped.
#[derive(Debug, Default, Clone, Serialize)]
pub struct StagedStats {
    pub files_scanned: u64,
    pub added_lines: u64,
    pub bytes_scanned: u64,
    pub binary_skipped: u64,
    pub too_large_skipped: u64,
    pub submodules_skipped: u64,
    pub symlinks_skipped: u64,
    pub deleted_files: u64,
    pub unmerged_skipped: u64,
}

/// What the walk is told by the configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions {
    /// Blobs larger than this are skipped (and reported); `None`: no limit.
    pub max_file_size: Option<u64>,
    /// Scan blobs git calls binary too.
    pub scan_binary: bool,
}

/// One staged blob, as the walk hands it over.
pub enum Staged<'a, 'repo> {
    /// A text blob and the lines the commit adds to it (never empty).
    Text {
        file: &'a StagedFile<'repo>,
        added: &'a AddedLines,
    },
    /// A blob that is part of the commit but not scanned.
    Skipped { path: String, reason: SkipReason },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    Binary,
    TooLarge { size: u64, limit: u64 },
}

/// The repository, the index being committed and the tree it is compared with.
pub struct StagedChange {
    repo: Repository,
    index: Index,
    head_tree: Option<Oid>,
}

/// One text blob that the commit adds or changes.
pub struct StagedFile<'repo> {
    repo: &'repo Repository,
    path: Vec<u8>,
    old: Option<Oid>,
    new: Blob<'repo>,
}

impl StagedChange {
    /// Opens the repository as git would for a hook: `GIT_DIR`, `GIT_INDEX_FILE` and the other
    /// `GIT_*` variables first, else discovery upward from the current directory.
    pub fn open() -> Result<StagedChange> {
        let repo = open_repository()?;
        if repo.is_bare() {
            return Err(Error::NotARepository(
                "a bare repository has no index to commit from".to_string(),
            ));
        }
        let index = repo.index().map_err(Error::git("cannot read the index"))?;
        let head_tree = head_tree(&repo)?.map(|tree| tree.id());
        Ok(StagedChange {
            repo,
            index,
            head_tree,
        })
    }

    /// The worktree's top level, where repository configuration lives.
    pub fn workdir(&self) -> Option<&std::path::Path> {
        self.repo.workdir()
    }

    /// Calls `visit` with every blob the commit adds or modifies, in path order: text blobs
    /// with the lines they add, and the blobs it skips (binary, too large). Counts everything.
    pub fn for_each_file(
        &self,
        walk: WalkOptions,
        stats: &mut StagedStats,
        mut visit: impl FnMut(Staged<'_, '_>) -> Result<()>,
    ) -> Result<()> {
        let tree = match self.head_tree {
            Some(id) => Some(
                self.repo
                    .find_tree(id)
                    .map_err(Error::git("cannot read the tree of HEAD"))?,
            ),
            None => None,
        };
        let mut options = DiffOptions::new();
        options.include_typechange(true).skip_binary_check(true);
        let mut diff = self
            .repo
            .diff_tree_to_index(tree.as_ref(), Some(&self.index), Some(&mut options))
            .map_err(Error::git("cannot compare the index with HEAD"))?;
        // Renames and moves add nothing by themselves: pair deleted and added files.
        let mut find = DiffFindOptions::new();
        find.renames(true);
        diff.find_similar(Some(&mut find))
            .map_err(Error::git("cannot detect renames"))?;

        let odb = self
            .repo
            .odb()
            .map_err(Error::git("cannot open the object database"))?;
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
            let path = new_file.path_bytes().unwrap_or_default().to_vec();
            match new_file.mode() {
                FileMode::Blob | FileMode::BlobExecutable => {}
                // A symlink's blob is its target path, not content.
                FileMode::Link => {
                    stats.symlinks_skipped += 1;
                    continue;
                }
                FileMode::Commit => {
                    stats.submodules_skipped += 1;
                    continue;
                }
                _ => continue,
            }
            let unreadable = || {
                Error::git(format!(
                    "cannot read the staged blob {} of {}",
                    new_file.id(),
                    String::from_utf8_lossy(&path)
                ))
            };
            if let Some(limit) = walk.max_file_size {
                // The object header gives the size without inflating the blob.
                let (size, _) = odb.read_header(new_file.id()).map_err(unreadable())?;
                if size as u64 > limit {
                    stats.too_large_skipped += 1;
                    let path = String::from_utf8_lossy(&path).into_owned();
                    let reason = SkipReason::TooLarge {
                        size: size as u64,
                        limit,
                    };
                    visit(Staged::Skipped { path, reason })?;
                    continue;
                }
            }
            let new = self.repo.find_blob(new_file.id()).map_err(unreadable())?;
            if !walk.scan_binary && is_binary(new.content()) {
                stats.binary_skipped += 1;
                let path = String::from_utf8_lossy(&path).into_owned();
                visit(Staged::Skipped {
                    path,
                    reason: SkipReason::Binary,
                })?;
                continue;
            }
            let old_file = delta.old_file();
            let old = match (status, old_file.mode()) {
                (Delta::Added, _) => None,
                (_, FileMode::Blob | FileMode::BlobExecutable) => Some(old_file.id()),
                _ => None,
            };
            stats.files_scanned += 1;
            stats.bytes_scanned += new.content().len() as u64;
            let file = StagedFile {
                repo: &self.repo,
                path,
                old,
                new,
            };
            let added = file.added_lines()?;
            stats.added_lines += added.count(lines::line_count(file.content()));
            // A pure rename or a removal-only edit adds nothing to scan.
            if !added.is_empty() {
                visit(Staged::Text {
                    file: &file,
                    added: &added,
                })?;
            }
        }
        Ok(())
    }
}

impl StagedFile<'_> {
    /// The staged content.
    pub fn content(&self) -> &[u8] {
        self.new.content()
    }

    /// The path as git stores it, shown lossily where it is not UTF-8.
    pub fn display_path(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }

    /// The lines this commit adds to the file: all of them for a new file, else the `+` side
    /// of git's own line diff (xdiff, through libgit2) against the old blob.
    pub fn added_lines(&self) -> Result<AddedLines> {
        let Some(old_id) = self.old else {
            return Ok(AddedLines::All);
        };
        let old = self.repo.find_blob(old_id).map_err(Error::git(format!(
            "cannot read the committed blob {old_id} of {}",
            self.display_path()
        )))?;
        let mut options = DiffOptions::new();
        options.context_lines(0).force_text(true);
        let patch = Patch::from_blobs(&old, None, &self.new, None, Some(&mut options))
            .map_err(Error::git(format!("cannot diff {}", self.display_path())))?;
        // With no context lines, every new-side line of a hunk is an added line.
        let mut ranges = Vec::with_capacity(patch.num_hunks());
        for index in 0..patch.num_hunks() {
            let (hunk, _) = patch
                .hunk(index)
                .map_err(Error::git(format!("cannot diff {}", self.display_path())))?;
            if hunk.new_lines() > 0 {
                let first = u64::from(hunk.new_start());
                ranges.push((first, first + u64::from(hunk.new_lines()) - 1));
            }
        }
        Ok(AddedLines::from_ranges(ranges))
    }
}

fn open_repository() -> Result<Repository> {
    match Repository::open_from_env() {
        Ok(repo) => Ok(repo),
        Err(err) if err.code() == ErrorCode::NotFound => {
            let cwd = std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            Err(Error::NotARepository(cwd))
        }
        Err(err) => Err(Error::git("cannot open the repository")(err)),
    }
}

/// HEAD's tree, or `None` before the first commit (an unborn branch).
fn head_tree(repo: &Repository) -> Result<Option<Tree<'_>>> {
    match repo.head() {
        Ok(head) => head
            .peel_to_tree()
            .map(Some)
            .map_err(Error::git("cannot read the commit HEAD points to")),
        Err(err) if matches!(err.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
        Err(err) => Err(Error::git("cannot resolve HEAD")(err)),
    }
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
}
