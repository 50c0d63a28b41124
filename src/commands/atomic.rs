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
