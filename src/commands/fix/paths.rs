//! Where a fix may write: only inside the worktree. A path with a symbolic link among its
//! leading directories is refused, as git refuses a path "beyond a symbolic link"; a `.env` or
//! `.gitignore` that is itself a link keeps its link and is written through only when the
//! link's target stays inside the worktree (and outside `.git`).

use std::path::{Path, PathBuf};

/// The first leading directory of `rel` (relative to `root`) that is a symbolic link.
pub(super) fn symlinked_parent(root: &Path, rel: &str) -> Option<String> {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let mut at = root.to_path_buf();
    for (i, part) in parts.iter().enumerate().take(parts.len().saturating_sub(1)) {
        at.push(part);
        let is_link = std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink());
        if is_link {
            return Some(parts[..=i].join("/"));
        }
    }
    None
}

/// Why a file of the worktree cannot be edited in place, if it cannot: a link among its
/// directories, or the file itself a link.
pub(super) fn refuse_edit(root: &Path, rel: &str) -> Option<String> {
    if let Some(link) = symlinked_parent(root, rel) {
        return Some(beyond_link(rel, &link));
    }
    let full = root.join(rel);
    let is_link = std::fs::symlink_metadata(full).is_ok_and(|m| m.file_type().is_symlink());
    is_link.then(|| {
        format!(
            "{rel} is a symbolic link on disk: tokenguard edits only regular files of the \
             repository; fix the file it points to by hand"
        )
    })
}

/// The file to write for `rel` (`.env`, `.gitignore`): the path itself, or for a symbolic
/// link its target when that is inside the worktree; else why not.
pub(super) fn write_target(root: &Path, rel: &str) -> Result<PathBuf, String> {
    if let Some(link) = symlinked_parent(root, rel) {
        return Err(beyond_link(rel, &link));
    }
    let full = root.join(rel);
    let is_link = std::fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(full);
    }
    let outside = || {
        format!(
            "{rel} is a symbolic link to a file outside the repository (or to none): \
             tokenguard writes only inside the repository"
        )
    };
    let target = std::fs::canonicalize(&full).map_err(|_| outside())?;
    let root = std::fs::canonicalize(root).map_err(|_| outside())?;
    let inside = target.starts_with(&root) && !target.starts_with(root.join(".git"));
    if inside && target.is_file() {
        Ok(target)
    } else {
        Err(outside())
    }
}

fn beyond_link(rel: &str, link: &str) -> String {
    format!(
        "{rel} is beyond a symbolic link ({link} is a link): tokenguard, like git, writes \
         nothing through it; fix the file by hand"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_among_the_directories_are_refused_and_inside_targets_followed() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("real")).unwrap();
        std::fs::write(root.join("real/.env"), "A=1\n").unwrap();
        std::fs::write(outside.path().join(".env"), "B=2\n").unwrap();
        symlink(outside.path(), root.join("out")).unwrap();
        symlink("real/.env", root.join(".env")).unwrap();
        symlink(outside.path().join(".env"), root.join("real/.env.local")).unwrap();
        assert_eq!(symlinked_parent(root, "out/app.py").as_deref(), Some("out"));
        assert_eq!(symlinked_parent(root, "real/app.py"), None);
        assert!(write_target(root, "out/.env").is_err());
        assert!(refuse_edit(root, "out/app.py").is_some());
        assert!(refuse_edit(root, ".env").is_some());
        assert_eq!(
            write_target(root, ".env").unwrap(),
            std::fs::canonicalize(root.join("real/.env")).unwrap()
        );
        assert!(write_target(root, "real/.env.local").is_err());
        assert_eq!(
            write_target(root, "new/.env").unwrap(),
            root.join("new/.env")
        );
    }
}
