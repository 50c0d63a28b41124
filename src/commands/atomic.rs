//! Replacing a file atomically, for every command that writes into a repository (`fix`,
//! `--output`): an interrupted run leaves the old file or the new one, never half of one.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Replaces `path` with `content` through a temporary file beside it (so the rename stays on
/// one file system), created with `mode` under the umask; with `exact`, its bits are set to
/// `mode` afterwards (an existing file's own mode, which the umask may have narrowed). The
/// error says which step failed: writing the new content, or renaming it into place.
pub(super) fn replace_file(path: &Path, content: &[u8], mode: u32, exact: bool) -> Result<()> {
    let temporary = temporary_path(path);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)?;
        if exact {
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        file.write_all(content)?;
        file.sync_all()
    })()
    .map_err(Error::writing(path))
    .and_then(|()| {
        std::fs::rename(&temporary, path).map_err(|source| Error::Rename {
            from: temporary.clone(),
            to: path.to_path_buf(),
            source,
        })
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// `.NAME.tokenguard-PID.tmp` beside `path`.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tokenguard-{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_rename_says_rename_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory in the file's place: the content is written, the rename fails.
        let target = dir.path().join("report.json");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), "x").unwrap();
        let error = replace_file(&target, b"{}", 0o644, false).unwrap_err();
        assert!(matches!(error, Error::Rename { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.starts_with("cannot rename "), "{message}");
        assert!(
            message.contains(" to ") && message.contains("report.json"),
            "{message}"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "the temporary file is removed");
    }

    #[test]
    fn a_failed_write_says_write() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("missing-dir").join("report.json");
        let error = replace_file(&target, b"{}", 0o644, false).unwrap_err();
        assert!(error.to_string().starts_with("cannot write "), "{error}");
    }
}
