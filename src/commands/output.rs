//! `--output [FORMAT:]FILE`: after a scan, each report file is rendered whole and then put in
//! place atomically (a temporary file beside it, then a rename), so a CI job that uploads it
//! never reads half a report; the terminal gets the human report as well.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::cli::{OutputTarget, ScanFormat};
use crate::error::{Error, Result};

/// A new report file's mode before the umask: what any tool writing a file gives it.
const NEW_FILE_MODE: u32 = 0o666;

/// The format a file gets: its `FORMAT:` prefix, else `--format` when that names a machine
/// format, else what its name says (`.json`, `.sarif`), else the human report.
pub(super) fn format_of(target: &OutputTarget, format: ScanFormat) -> ScanFormat {
    if let Some(format) = target.format {
        return format;
    }
    if format != ScanFormat::Human {
        return format;
    }
    match target.path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("json") => ScanFormat::Json,
        Some(ext) if ext.eq_ignore_ascii_case("sarif") => ScanFormat::Sarif,
        _ => ScanFormat::Human,
    }
}

/// Renders a report with `render` (colour off: a file is no terminal) and replaces `path`
/// with it atomically.
pub(super) fn write_report(
    path: &Path,
    render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
) -> Result<()> {
    let colour = colored::control::SHOULD_COLORIZE.should_colorize();
    colored::control::set_override(false);
    let mut report = Vec::new();
    let rendered = render(&mut report);
    colored::control::set_override(colour);
    rendered?;
    replace_atomically(path, &report)
}

/// Replaces `path` with `content`: the old file stays whole until the rename. An existing
/// file keeps its mode (never widened); a symlink in its place is replaced, not followed.
pub(super) fn replace_atomically(path: &Path, content: &[u8]) -> Result<()> {
    let error = |source: std::io::Error| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    let kept_mode = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(Error::OutputIsDirectory(path.to_path_buf()));
        }
        Ok(meta) if meta.is_file() => Some(meta.permissions().mode() & 0o7777),
        Ok(_) => None,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(error(err)),
    };
    let mode = kept_mode.unwrap_or(NEW_FILE_MODE);
    super::atomic::replace_file(path, content, mode, kept_mode.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(text: &str) -> OutputTarget {
        text.parse().unwrap()
    }

    #[test]
    fn a_files_format_comes_from_its_prefix_then_format_then_its_name() {
        let cases = [
            ("sarif:r.json", ScanFormat::Json, ScanFormat::Sarif),
            ("r.txt", ScanFormat::Json, ScanFormat::Json),
            ("r.sarif", ScanFormat::Human, ScanFormat::Sarif),
            ("r.JSON", ScanFormat::Human, ScanFormat::Json),
            ("report", ScanFormat::Human, ScanFormat::Human),
            ("human:r.json", ScanFormat::Sarif, ScanFormat::Human),
        ];
        for (text, format, expected) in cases {
            assert_eq!(format_of(&target(text), format), expected, "{text}");
        }
    }

    #[test]
    fn replacing_keeps_the_mode_and_never_follows_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        replace_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let outside = dir.path().join("outside");
        std::fs::write(&outside, "keep").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        replace_atomically(&link, b"report").unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "report");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
        // Nothing is left beside them.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 3);
    }
}
