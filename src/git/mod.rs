//! Git access: the only code that uses git2 or reads git's files. It answers one question per
//! command: what the commit being made adds (`staged`), what a range of commits or a push adds
//! (`history`), which commits a history scan selects (`range`, git's own rev-list), which files a tree or a path holds (`files`), and how two blobs differ
//! (`line_diff`); each answer is handed over blob by blob (`visit`), with the line numbers a
//! change adds computed on request.
//!
//! The new side of `scan-staged` is the index git is committing from (`GIT_INDEX_FILE` during
//! `git commit -a`, `git commit <paths>` and `--amend`) and the old side HEAD's tree, or the
//! empty tree on the first commit. Working-tree files are read for untracked paths named on
//! the `scan-files` command line, and in place of a staged blob when git would call them
//! unchanged by their stat data or their bytes hash to its id (`disk_blob`), which is cheaper
//! than inflating the object and the same bytes.
//!
//! This stage never matches a rule, never reads the configuration and never prints.

use std::path::{Path, PathBuf};

use git2::{ErrorCode, Repository, Tree};

use crate::error::{Error, Result};

mod command;
mod conversion;
mod disk_blob;
mod files;
mod helper;
mod history;
/// git's index file and its cache tree, read directly.
pub mod index;
mod index_file;
mod index_tree;
mod line_diff;
mod memo;
mod range;
mod scissors;
mod split_index;
mod staged;
mod tree_diff;
mod visit;
mod worktree;

pub use command::{Git, git_stdout};
pub use helper::{Helper, Job, NoHelper};
pub use history::{RefUpdate, TagMessage, parse_ref_updates};
pub use line_diff::{CommonEnds, added_lines_between, common_ends};
pub use memo::{BlobMemo, Verdict};
pub use scissors::{CommentChar, before_git_scissors, message_had_no_editor};
pub use visit::{Added, Change, ChangeSet, Entry, SkipReason, WalkOptions, WalkStats, is_binary};
pub use worktree::unified_diff;

/// The repository, opened as git opens it for a hook.
pub struct Repo {
    repo: Repository,
}

impl Repo {
    /// The repository at `dir`, for tests that need a handle of their own.
    #[cfg(test)]
    pub(crate) fn open_at(dir: &std::path::Path) -> Repo {
        let repo = Repository::open(dir).expect("a test repository opens");
        Repo { repo }
    }

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

    /// The bytes of the regular file at `path` (from the top) in HEAD's tree: `None` when
    /// HEAD is unborn or holds no such file (a symlink or a directory there counts as none).
    pub fn head_file(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(tree) = self.head_tree()? else {
            return Ok(None);
        };
        let Ok(entry) = tree.get_path(Path::new(path)) else {
            return Ok(None);
        };
        if !matches!(entry.filemode(), 0o100644 | 0o100755) {
            return Ok(None);
        }
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(Error::git(format!("cannot read HEAD:{path}")))?;
        Ok(Some(blob.content().to_vec()))
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
}
