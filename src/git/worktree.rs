//! The working tree beside the index, for `tokenguard fix`: whether a file on disk still equals
//! its staged version (so re-staging it cannot swallow hunks the user left unstaged), staging
//! and unstaging one path, whether a path is ignored, and a unified diff of two buffers.
//!
//! Staging goes through git itself (`git add`, `git rm --cached`, `git reset`): it applies the
//! user's filters (autocrlf, clean filters) and writes every index format git can read.

use std::path::Path;

use super::{Git, Repo};
use crate::error::{Error, Result};

impl Repo {
    /// True when the file on disk equals its staged version as git compares them (after
    /// filters): `git diff --quiet` over that one path. An untracked path is never equal.
    pub fn worktree_matches_index(&self, path: &str) -> Result<bool> {
        if !self.is_staged(path)? {
            return Ok(false);
        }
        let status = self.git(&["diff", "--quiet", "--"], path)?;
        Ok(status.success())
    }

    /// True when the staged version of `path` is HEAD's (nothing of it is staged).
    pub fn index_matches_head(&self, path: &str) -> Result<bool> {
        Ok(self
            .git(&["diff", "--cached", "--quiet", "--"], path)?
            .success())
    }

    /// True when the index has an entry for `path` (stage 0).
    pub fn is_staged(&self, path: &str) -> Result<bool> {
        let index = self
            .repo
            .index()
            .map_err(Error::git("cannot read the index"))?;
        Ok(index.get_path(Path::new(path), 0).is_some())
    }

    /// Every path of the index git commits from (each once, whatever its stage).
    pub fn staged_paths(&self) -> Result<Vec<String>> {
        let index = self.index()?;
        let mut paths: Vec<String> = index
            .iter()
            .map(|entry| String::from_utf8_lossy(&entry.path).into_owned())
            .collect();
        paths.dedup();
        Ok(paths)
    }

    /// True when HEAD's tree has `path`.
    pub fn head_has(&self, path: &str) -> Result<bool> {
        Ok(match self.head_tree()? {
            Some(tree) => tree.get_path(Path::new(path)).is_ok(),
            None => false,
        })
    }

    /// `git add -- path`: the file on disk becomes the staged version.
    pub fn stage(&self, path: &str) -> Result<()> {
        self.git_ok(&["add", "--"], path)
    }

    /// Takes `path` out of the next commit and keeps the file on disk: the staged version goes
    /// back to HEAD's (`git reset`), or leaves the index when HEAD does not have it
    /// (`git rm --cached`).
    pub fn unstage(&self, path: &str) -> Result<()> {
        if self.head_has(path)? {
            self.git_ok(&["reset", "-q", "--"], path)
        } else {
            self.git_ok(&["rm", "--cached", "-q", "--"], path)
        }
    }

    /// True when git ignores `path` (a repository-relative name, which need not exist).
    pub fn is_ignored(&self, path: &str) -> Result<bool> {
        // check-ignore answers 0 for ignored, 1 for not ignored, 128 for an error.
        let status = self.git(&["check-ignore", "-q", "--no-index", "--"], path)?;
        match status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(Error::GitFailed {
                command: format!("check-ignore for {path}"),
                status,
            }),
        }
    }

    /// Runs git in the worktree's top level with one literal pathspec after `args`.
    fn git(&self, args: &[&str], path: &str) -> Result<std::process::ExitStatus> {
        let root = self
            .workdir()
            .ok_or_else(|| Error::NotARepository("fix needs a worktree".to_string()))?;
        let literal = format!(":(literal){path}");
        let pathspec = if args.first() == Some(&"check-ignore") {
            path
        } else {
            literal.as_str()
        };
        Git::in_dir(root).args(args).arg(pathspec).status()
    }

    fn git_ok(&self, args: &[&str], path: &str) -> Result<()> {
        let status = self.git(args, path)?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::GitFailed {
                command: format!("{} {path}", args.join(" ")),
                status,
            })
        }
    }
}

/// A unified diff of `old` and `new` for `path` (git's own line diff, three lines of context),
/// or an empty string when they are equal.
pub fn unified_diff(path: &str, old: &[u8], new: &[u8]) -> Result<String> {
    let mut options = git2::DiffOptions::new();
    options.context_lines(3);
    let mut patch = git2::Patch::from_buffers(
        old,
        Some(Path::new(path)),
        new,
        Some(Path::new(path)),
        Some(&mut options),
    )
    .map_err(Error::git(format!("cannot diff {path}")))?;
    let buf = patch
        .to_buf()
        .map_err(Error::git(format!("cannot diff {path}")))?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_the_path_and_the_changed_line() {
        let diff = unified_diff("a.py", b"x = 1\ny = 2\n", b"x = 1\ny = 3\n").unwrap();
        assert!(diff.contains("--- a/a.py"), "{diff}");
        assert!(diff.contains("-y = 2\n+y = 3\n"), "{diff}");
        assert_eq!(unified_diff("a.py", b"same\n", b"same\n").unwrap(), "");
    }
}
