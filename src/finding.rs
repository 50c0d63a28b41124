//! A finding as reported. The secret itself never leaves this module: a finding keeps only a
//! redacted form (from [`crate::redact`]) and a fingerprint.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::detect::notebook::CellLocation;
use crate::detect::rules::{Confidence, Severity};

/// What the provider said about a token (`--verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "status", content = "reason")]
pub enum Status {
    /// The provider accepted it: revoke it now.
    Live,
    /// The provider refused it (401/403).
    Invalid,
    /// Anything else (429, 5xx, time-out, no network, no check defined), and why.
    Unknown(String),
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Invalid => "invalid",
            Status::Unknown(_) => "unknown",
        }
    }
}

/// A secret on its way to a provider; its Debug output never shows it.
pub struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// Which part of a commit a secret is in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// A file's content (line and column in the file).
    #[default]
    Content,
    /// The file's path itself (column: the byte in the path).
    Path,
    /// A symlink's target (column: the byte in the target).
    SymlinkTarget,
    /// A commit's message (line and column in the message).
    CommitMessage,
    /// An annotated tag's message (line and column in the message).
    TagMessage,
}

impl Part {
    fn is_content(&self) -> bool {
        *self == Part::Content
    }

    /// How a report names it: "file name", "commit message", ...
    pub fn label(self) -> &'static str {
        match self {
            Part::Content => "file content",
            Part::Path => "file name",
            Part::SymlinkTarget => "symlink target",
            Part::CommitMessage => "commit message",
            Part::TagMessage => "tag message",
        }
    }

    /// A commit or tag message, not a file.
    pub fn is_message(self) -> bool {
        matches!(self, Part::CommitMessage | Part::TagMessage)
    }
}

/// A secret the scanner found in one text, before the text's origin is known: the rule, the
/// line and column in the text, the redacted secret, its fingerprint and the encoding that hid
/// it. With its [`Location`] (and commit) it becomes a [`Finding`].
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub rule_id: String,
    pub provider_key: String,
    pub provider: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// 1-based line in the text.
    pub line: u64,
    /// 1-based column in bytes.
    pub column: u64,
    pub secret_redacted: String,
    pub fingerprint: String,
    /// How the secret was hidden, when it was found through a decoded view.
    pub encoding: Option<String>,
}

/// What a finding needs to know about its rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo<'a> {
    pub id: &'a str,
    pub provider_key: &'a str,
    pub provider: &'a str,
    pub severity: Severity,
    pub confidence: Confidence,
}

impl Match {
    /// The match of `secret` at `line`, `column` of a text, by `rule`.
    pub fn new(rule: RuleInfo<'_>, (line, column): (u64, u64), secret: &[u8]) -> Match {
        Match {
            rule_id: rule.id.to_string(),
            provider_key: rule.provider_key.to_string(),
            provider: rule.provider.to_string(),
            severity: rule.severity,
            confidence: rule.confidence,
            line,
            column,
            secret_redacted: crate::redact::secret(secret),
            fingerprint: fingerprint(rule.id, secret),
            encoding: None,
        }
    }
}

/// Which text of a commit (or of a set of files) a secret is in. Paths are as printed:
/// redacted where they hold a secret.
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    /// A file's content (line and column in the file); in a Jupyter notebook, also the cell
    /// (and output) and the line in it.
    File {
        path: String,
        cell: Option<CellLocation>,
    },
    /// The file's path itself (column: the byte in the path).
    FileName { path: String },
    /// A symlink's target (column: the byte in the target); `path` is the symlink's.
    SymlinkTarget { path: String },
    /// A commit's message (line and column in the message).
    CommitMessage,
    /// An annotated tag's message (line and column in the message).
    TagMessage { tag: String },
}

impl Location {
    pub fn part(&self) -> Part {
        match self {
            Location::File { .. } => Part::Content,
            Location::FileName { .. } => Part::Path,
            Location::SymlinkTarget { .. } => Part::SymlinkTarget,
            Location::CommitMessage => Part::CommitMessage,
            Location::TagMessage { .. } => Part::TagMessage,
        }
    }

    /// The file's path as printed; empty for a message.
    pub fn path(&self) -> &str {
        match self {
            Location::File { path, .. }
            | Location::FileName { path }
            | Location::SymlinkTarget { path } => path,
            Location::CommitMessage | Location::TagMessage { .. } => "",
        }
    }
}

/// The commit that adds a secret, for history and push scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRef {
    pub id: String,
    /// The commit is a shallow clone's boundary: the secret is in its tree, but which commit
    /// added it is unknown (its parents were not fetched).
    pub shallow_boundary: bool,
}

/// One secret on one added line, in a file, a name or a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    /// Key of the provider in the rules file (`replicate`).
    pub provider_key: String,
    pub provider: String,
    pub severity: Severity,
    pub confidence: Confidence,
    location: Location,
    /// 1-based line in the file or message.
    pub line: u64,
    /// 1-based column in bytes, as ripgrep and compilers count.
    pub column: u64,
    pub secret_redacted: String,
    pub fingerprint: String,
    /// How the secret was hidden, when it was found through a decoded view
    /// ("base64-encoded", "URL-encoded", "UTF-16LE", "UTF-16BE").
    pub encoding: Option<String>,
    commit: Option<CommitRef>,
    /// What the provider said, with `--verify` only (the live check runs after the scan).
    pub verification: Option<Status>,
}

impl Finding {
    /// The finding of `found` in the text at `location`, added by `commit` if a commit is
    /// scanned.
    pub fn new(found: Match, location: Location, commit: Option<CommitRef>) -> Finding {
        let Match {
            rule_id,
            provider_key,
            provider,
            severity,
            confidence,
            line,
            column,
            secret_redacted,
            fingerprint,
            encoding,
        } = found;
        Finding {
            rule_id,
            provider_key,
            provider,
            severity,
            confidence,
            location,
            line,
            column,
            secret_redacted,
            fingerprint,
            encoding,
            commit,
            verification: None,
        }
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Where the secret is: a file's content, its name, a symlink's target, a message.
    pub fn part(&self) -> Part {
        self.location.part()
    }

    /// The file's path as printed (redacted where it holds a secret); empty for a message.
    pub fn path(&self) -> &str {
        self.location.path()
    }

    /// In a Jupyter notebook: the cell (and output) and the line in it.
    pub fn cell(&self) -> Option<&CellLocation> {
        match &self.location {
            Location::File { cell, .. } => cell.as_ref(),
            _ => None,
        }
    }

    /// The commit that adds the secret, for history and push scans.
    pub fn commit(&self) -> Option<&str> {
        self.commit.as_ref().map(|commit| commit.id.as_str())
    }

    /// The commit is a shallow clone's boundary (see [`CommitRef`]).
    pub fn shallow_boundary(&self) -> bool {
        self.commit
            .as_ref()
            .is_some_and(|commit| commit.shallow_boundary)
    }

    /// The annotated tag whose message holds the secret.
    pub fn tag(&self) -> Option<&str> {
        match &self.location {
            Location::TagMessage { tag } => Some(tag),
            _ => None,
        }
    }

    /// In a notebook cell's output rather than its source.
    pub fn in_notebook_output(&self) -> bool {
        self.cell().is_some_and(|cell| cell.output.is_some())
    }

    /// What a reader needs besides path, line and column to find the secret: how it was
    /// encoded. Empty for a plain secret in a file.
    pub fn notes(&self) -> Vec<String> {
        let part = matches!(self.part(), Part::Path | Part::SymlinkTarget)
            .then(|| self.part().label().to_string());
        part.into_iter()
            .chain(self.encoding.iter().cloned())
            .collect()
    }
}

/// The JSON report's finding: flat, in this field order (docs/schema/report.schema.json).
#[derive(Serialize)]
struct FindingJson<'a> {
    rule_id: &'a str,
    provider: &'a str,
    severity: Severity,
    confidence: Confidence,
    path: &'a str,
    #[serde(skip_serializing_if = "Part::is_content")]
    part: Part,
    line: u64,
    column: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    cell: Option<&'a CellLocation>,
    secret_redacted: &'a str,
    fingerprint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    shallow_boundary: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<&'a Status>,
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        FindingJson {
            rule_id: &self.rule_id,
            provider: &self.provider,
            severity: self.severity,
            confidence: self.confidence,
            path: self.path(),
            part: self.part(),
            line: self.line,
            column: self.column,
            cell: self.cell(),
            secret_redacted: &self.secret_redacted,
            fingerprint: &self.fingerprint,
            encoding: self.encoding.as_deref(),
            commit: self.commit(),
            shallow_boundary: self.shallow_boundary(),
            tag: self.tag(),
            verification: self.verification.as_ref(),
        }
        .serialize(serializer)
    }
}

/// A stable identifier of (rule, secret): the same wherever the secret moves, and revealing
/// nothing about it (128 bits of SHA-256).
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"tokenguard-fingerprint-v1\0");
    hasher.update(rule_id.as_bytes());
    hasher.update(b"\0");
    hasher.update(secret);
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_rule_and_secret_only() {
        let a = fingerprint("replicate-api-token", b"secret-one");
        assert_eq!(a, fingerprint("replicate-api-token", b"secret-one"));
        assert_ne!(a, fingerprint("replicate-api-token", b"secret-two"));
        assert_ne!(a, fingerprint("baseten-api-key", b"secret-one"));
        assert_eq!(a.len(), 32);
        assert!(!a.contains("secret"));
    }
}
