//! Whole files: every file of a tree (`scan-tree`), or named files and directories as the next
//! commit would hold them (`scan-files`).

use std::path::{Path, PathBuf};

use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;

use git2::{ObjectType, Status, StatusOptions, StatusShow, TreeWalkMode, TreeWalkResult};

use super::Repo;
use super::visit::{
    Entry, SkipReason, WalkOptions, WalkStats, filemode, skip_reason, visit_content,
};
use crate::error::{Error, Result};

impl Repo {
    /// Visits every file of the tree `rev` points to (default HEAD), whole.
    pub fn walk_tree(
        &self,
        rev: &str,
        walk: WalkOptions,
        stats: &mut WalkStats,
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
    /// content the next commit would hold), else the file on disk. A directory (or the
    /// repository itself) stands for every tracked file below it and every untracked one that
    /// `.gitignore` does not exclude; works before the first commit too.
    pub fn walk_paths(
        &self,
        paths: &[PathBuf],
        walk: WalkOptions,
        stats: &mut WalkStats,
        mut visit: impl FnMut(Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        let index = self.index()?;
        let root = self
            .workdir()
            .ok_or_else(|| Error::NotARepository("scan-files needs a worktree".to_string()))?;
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        // A path named twice, or inside a directory also named, is visited once.
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        for path in paths {
            let relative = repo_relative(&root, path)?;
            let on_disk = root.join(&relative);
            let prefix = format!("{}/", relative.trim_end_matches('/'));
            let under = |p: &str| p == relative || relative.is_empty() || p.starts_with(&prefix);
            let mut found = false;
            for entry in index.iter() {
                let entry_path = String::from_utf8_lossy(&entry.path);
                // Unmerged paths have no single staged version.
                if !under(&entry_path) || (entry.flags >> 12) & 3 != 0 {
                    continue;
                }
                found = true;
                if seen.insert(entry.path.clone()) {
                    let mode = filemode(entry.mode);
                    self.visit_whole_blob(&entry.path, entry.id, mode, walk, stats, &mut visit)?;
                }
            }
            let is_dir = relative.is_empty() || on_disk.is_dir();
            if !is_dir {
                if found || !seen.insert(relative.as_bytes().to_vec()) {
                    continue;
                }
                // A file named on the command line is read even when .gitignore excludes it.
                self.visit_disk_file(&relative, &on_disk, path, walk, stats, &mut visit)?;
                continue;
            }
            for untracked in self.untracked_under(&relative)? {
                if !seen.insert(untracked.clone()) {
                    continue;
                }
                let bytes = untracked.strip_suffix(b"/").unwrap_or(&untracked);
                let file = root.join(std::ffi::OsStr::from_bytes(bytes));
                let name = String::from_utf8_lossy(&untracked);
                self.visit_disk_file(&name, &file, &file, walk, stats, &mut visit)?;
            }
        }
        Ok(())
    }

    /// An untracked file on disk: a symlink or a nested repository is skipped (and listed
    /// with `-v`), anything else read whole.
    fn visit_disk_file(
        &self,
        relative: &str,
        file: &Path,
        named: &Path,
        walk: WalkOptions,
        stats: &mut WalkStats,
        visit: &mut impl FnMut(Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        let read_error = |source| Error::Read {
            path: named.to_path_buf(),
            source,
        };
        let kind = std::fs::symlink_metadata(file)
            .map_err(read_error)?
            .file_type();
        let reason = if kind.is_symlink() {
            Some(SkipReason::Symlink)
        } else if kind.is_dir() {
            // git lists an untracked nested repository as one directory entry.
            Some(SkipReason::Submodule)
        } else {
            None
        };
        if let Some(reason) = reason {
            return visit_content(relative, b"", Some(reason), stats, visit);
        }
        let content = std::fs::read(file).map_err(read_error)?;
        let reason = skip_reason(content.len() as u64, &content, walk);
        visit_content(relative, &content, reason, stats, visit)
    }

    /// Untracked files below `relative` (the whole worktree when empty) that `.gitignore`
    /// does not exclude, as git status lists them with `--untracked-files=all`.
    fn untracked_under(&self, relative: &str) -> Result<Vec<Vec<u8>>> {
        let mut options = StatusOptions::new();
        options
            .show(StatusShow::Workdir)
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        if !relative.is_empty() {
            options.pathspec(relative.trim_end_matches('/'));
        }
        let statuses = self
            .repo
            .statuses(Some(&mut options))
            .map_err(Error::git("cannot list the untracked files"))?;
        let prefix = format!("{}/", relative.trim_end_matches('/'));
        let mut paths: Vec<Vec<u8>> = statuses
            .iter()
            .filter(|s| s.status().contains(Status::WT_NEW))
            .map(|s| s.path_bytes().to_vec())
            .filter(|p| relative.is_empty() || p.starts_with(prefix.as_bytes()))
            .collect();
        paths.sort();
        Ok(paths)
    }
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
        .map_err(|_| Error::OutsideRepository(path.to_path_buf()))?;
    Ok(relative.to_string_lossy().replace('\\', "/"))
}
