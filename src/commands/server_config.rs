//! A server's pre-receive scan (`scan-push` in a bare repository) runs with the repository's
//! own `.tokenguard.toml` and `.tokenguardignore` as its default branch holds them before the
//! push (HEAD), never as the pushed commits hold them: a pusher must not be able to allow their
//! own token by pushing an ignore entry with it. What a team committed (through review) is
//! honoured, so a push the developers' hooks pass is not rejected by the server for it.

use std::path::{Path, PathBuf};

use super::settings_for;
use crate::config::{ConfigOptions, IGNORE_FILE, REPO_CONFIG, Settings};
use crate::error::{Error, Result};
use crate::git::Repo;

/// The settings for a receive: the layers and ignore file as for a work tree, with the
/// repository's own files read from HEAD's tree.
pub(super) fn settings(repo: &Repo, options: &ConfigOptions) -> Result<Settings> {
    let mut files = Vec::new();
    if !options.no_config {
        for name in [REPO_CONFIG, IGNORE_FILE] {
            if let Some(bytes) = repo.head_file(name)? {
                files.push((name, bytes));
            }
        }
    }
    if files.is_empty() {
        return settings_for(options, None);
    }
    // The config layers read files from a directory: a private one of our own, removed after.
    let dir = private_dir()?;
    let written = files.iter().try_for_each(|(name, bytes)| {
        std::fs::write(dir.join(name), bytes).map_err(|source| Error::WriteFile {
            path: dir.join(name),
            source,
        })
    });
    let settings = written.and_then(|()| settings_for(options, Some(&dir)));
    let _ = std::fs::remove_dir_all(&dir);
    settings.map_err(|err| name_as_head(err, &dir))
}

/// A new directory only this process can read, in the system's temporary directory.
fn private_dir() -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::env::temp_dir().join(format!("tokenguard-receive-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|source| Error::WriteFile {
            path: dir.clone(),
            source,
        })?;
    Ok(dir)
}

/// Errors name the files as git does (`HEAD:.tokenguard.toml`), not our temporary copies.
fn name_as_head(err: Error, dir: &Path) -> Error {
    let rename = |path: &str| match Path::new(path).strip_prefix(dir) {
        Ok(relative) => format!("HEAD:{}", relative.display()),
        Err(_) => path.to_string(),
    };
    match err {
        Error::Config {
            path,
            line,
            column,
            message,
        } => Error::Config {
            path: rename(&path),
            line,
            column,
            message,
        },
        Error::Read { path, source } => Error::Read {
            path: PathBuf::from(rename(&path.to_string_lossy())),
            source,
        },
        other => other,
    }
}
