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

/// One secret on one added line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule_id: String,
    /// Key of the provider in the rules file (`replicate`).
    #[serde(skip)]
    pub provider_key: String,
    pub provider: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// The file's path, redacted where it holds a secret; empty for a message.
    pub path: String,
    /// Where the secret is when not in a file's content: the path, a symlink's target, a
    /// commit or tag message.
    #[serde(skip_serializing_if = "Part::is_content")]
    pub part: Part,
    /// 1-based line in the staged file.
    pub line: u64,
    /// 1-based column in bytes, as ripgrep and compilers count.
    pub column: u64,
    /// In a Jupyter notebook: the cell (and output) and the line in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<CellLocation>,
    pub secret_redacted: String,
    pub fingerprint: String,
    /// How the secret was hidden, when it was found through a decoded view
    /// ("base64-encoded", "URL-encoded", "UTF-16LE", "UTF-16BE").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// The commit that adds the secret, for history and push scans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The commit is a shallow clone's boundary: the secret is in its tree, but which commit
    /// added it is unknown (its parents were not fetched).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shallow_boundary: bool,
    /// The annotated tag whose message holds the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// What the provider said, with `--verify` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Status>,
}

/// Where a secret sits, before it becomes a [`Finding`].
#[derive(Debug, Clone, Copy)]
pub struct Location<'a> {
    pub path: &'a str,
    pub line: u64,
    pub column: u64,
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

impl Finding {
    pub fn new(rule: RuleInfo<'_>, location: Location<'_>, secret: &[u8]) -> Finding {
        Finding {
            rule_id: rule.id.to_string(),
            provider_key: rule.provider_key.to_string(),
            provider: rule.provider.to_string(),
            severity: rule.severity,
            confidence: rule.confidence,
            path: location.path.to_string(),
            part: Part::Content,
            line: location.line,
            column: location.column,
            cell: None,
            secret_redacted: crate::redact::secret(secret),
            fingerprint: fingerprint(rule.id, secret),
            encoding: None,
            commit: None,
            shallow_boundary: false,
            tag: None,
            verification: None,
        }
    }
}

impl Finding {
    /// What a reader needs besides path, line and column to find the secret: how it was
    /// encoded. Empty for a plain secret in a file.
    pub fn notes(&self) -> Vec<String> {
        let part = matches!(self.part, Part::Path | Part::SymlinkTarget)
            .then(|| self.part.label().to_string());
        part.into_iter()
            .chain(self.encoding.iter().cloned())
            .collect()
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
