//! Whole files: every file of a tree (`scan-tree`), or named files and directories as the next
//! commit would hold them (`scan-files`).

use std::path::{Path, PathBuf};

use git2::{ObjectType, TreeWalkMode, TreeWalkResult};

use super::Repo;
use super::visit::{Entry, StagedStats, WalkOptions, filemode, skip_reason, visit_content};
use crate::error::{Error, Result};

impl Repo {
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
