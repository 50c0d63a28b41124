//! Writing a fix: every file is replaced atomically (a temporary file beside it, then a
//! rename), so an interrupted run leaves either the old or the new file, never half of one.
//! A `.env` is created with mode 0600 and only ever appended to.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Error, Result};

/// Owner read and write only: a file of secrets.
pub(super) const ENV_MODE: u32 = 0o600;

/// Replaces `path` with `content` atomically, keeping its permissions (`mode` for a new file).
pub(super) fn write_atomic(path: &Path, content: &[u8], new_mode: u32) -> Result<()> {
    let error = |source: std::io::Error| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    let mode = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => new_mode,
        Err(err) => return Err(error(err)),
    };
    crate::commands::atomic::replace_file(path, content, mode, true)
}

/// The text of `path`, or empty when it does not exist.
pub(super) fn read_or_empty(path: &Path) -> Result<String> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| Error::NotText(path.to_path_buf())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// `existing` with `lines` appended, each on its own line.
pub(super) fn appended(existing: &str, lines: &[String]) -> String {
    let mut text = existing.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// One `NAME=value` line of a `.env` file; quoted when the value holds anything a shell or a
/// dotenv loader would read differently.
pub(super) fn env_line(name: &str, value: &str) -> String {
    let plain = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-.+/=:@~,".contains(&b));
    if plain {
        format!("{name}={value}")
    } else {
        format!("{name}='{}'", value.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_keeps_the_mode_and_creates_new_files_private() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("run.sh");
        std::fs::write(&script, "old").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        write_atomic(&script, b"new", ENV_MODE).unwrap();
        assert_eq!(std::fs::read_to_string(&script).unwrap(), "new");
        let mode = std::fs::metadata(&script).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        let env = dir.path().join(".env");
        write_atomic(&env, b"A=1\n", ENV_MODE).unwrap();
        let mode = std::fs::metadata(&env).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary file is left behind");
    }

    #[test]
    fn env_lines_quote_what_a_loader_would_split() {
        assert_eq!(env_line("A", "r8_abc-DEF.1"), "A=r8_abc-DEF.1");
        assert_eq!(env_line("A", "a b'c"), "A='a b'\\''c'");
        assert_eq!(appended("X=1", &["A=2".to_string()]), "X=1\nA=2\n");
    }
}
