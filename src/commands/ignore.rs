//! `tokenguard ignore FINGERPRINT --reason ...`: records a reviewed finding in the ignore file.

use std::io::Write;

use super::repository_root;
use crate::cli::IgnoreArgs;
use crate::config::{self, IGNORE_FILE};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;

pub(super) fn run(args: &IgnoreArgs) -> Result<ExitStatus> {
    // Reports print lower case; a fingerprint copied from elsewhere may be upper case.
    let fingerprint = args.fingerprint.trim().to_ascii_lowercase();
    if !config::is_fingerprint(&fingerprint) {
        return Err(Error::Usage(format!(
            "{:?} is not a fingerprint: copy the 32 hex digits a report prints next to a finding",
            crate::redact::typed(&args.fingerprint)
        )));
    }
    let root = repository_root().ok_or_else(|| {
        Error::NotARepository(
            "tokenguard ignore writes .tokenguardignore at the top of a worktree".into(),
        )
    })?;
    let path = root.join(IGNORE_FILE);
    let (existing, known) = config::ignore_file_for_append(&path)?;
    let mut stdout = std::io::stdout().lock();
    if known.contains(&fingerprint) {
        writeln!(stdout, "{fingerprint} is already in {}", path.display())?;
        return Ok(ExitStatus::Clean);
    }
    // The file is committed: a token pasted into the reason must not go with it.
    let reason = crate::redact::typed(&args.reason.replace(['\n', '\r'], " "));
    let separator = if existing.is_empty() || existing.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    let text = format!("{existing}{separator}{fingerprint}  # {reason}\n");
    std::fs::write(&path, text).map_err(|source| Error::WriteFile {
        path: path.clone(),
        source,
    })?;
    writeln!(
        stdout,
        "added {fingerprint} to {} ({reason})",
        path.display()
    )?;
    Ok(ExitStatus::Clean)
}
