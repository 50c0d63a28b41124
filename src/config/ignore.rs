//! The fingerprint ignore file (`.tokenguardignore`): one fingerprint a line, with a reason.

use std::path::Path;

use crate::error::{Error, Result};

/// The fingerprint ignore file, at the worktree's top level.
pub const IGNORE_FILE: &str = ".tokenguardignore";

/// Reads `.tokenguardignore`.
pub fn read_ignore_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_ignore_file(&text, path)
}

/// The ignore file's text, empty when there is none yet, and the fingerprints it holds: what
/// a command that appends to it starts from. A malformed file is an error, never appended to.
pub fn ignore_file_for_append(path: &Path) -> Result<(String, Vec<String>)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let known = parse_ignore_file(&text, path)?;
    Ok((text, known))
}

/// Parses an ignore file's text: one fingerprint per line, an optional `# reason` after it;
/// `path` names the file in errors.
pub fn parse_ignore_file(text: &str, path: &Path) -> Result<Vec<String>> {
    let mut fingerprints = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let written = line.split('#').next().unwrap_or("").trim();
        if written.is_empty() {
            continue;
        }
        // Either case, as `tokenguard ignore` accepts it; reports print lower case.
        let content = written.to_ascii_lowercase();
        if !is_fingerprint(&content) {
            let column = line.find(written).unwrap_or(0) + 1;
            return Err(Error::Config {
                path: path.display().to_string(),
                line: index + 1,
                column,
                message: format!(
                    "not a fingerprint (32 hex digits, then an optional # reason): {:?}",
                    crate::redact::config_value(written)
                ),
            });
        }
        fingerprints.push(content);
    }
    Ok(fingerprints)
}

/// True for the fingerprints reports print: 32 lower-case hex digits.
pub fn is_fingerprint(text: &str) -> bool {
    text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints() {
        assert!(is_fingerprint(&"a".repeat(32)));
        assert!(!is_fingerprint(&"A".repeat(32)));
        assert!(!is_fingerprint("abc"));
    }
}
