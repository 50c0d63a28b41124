//! Config layers: the repository's `.tokenguard.toml` (or `--config PATH`, or
//! `TOKENGUARD_CONFIG`) layered over the user's `$XDG_CONFIG_HOME/tokenguard/config.toml`,
//! parsed strictly; [`super::Settings`] merges them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::Settings;
use crate::detect::policy::Target;
use crate::detect::rules::{Provider, RuleSpec};
use crate::error::{Error, Result};

/// The name of the repository-level config file, at the worktree's top level.
pub const REPO_CONFIG: &str = ".tokenguard.toml";

/// A config file as written. Unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub disable: Vec<Spanned<String>>,
    #[serde(default)]
    pub scan: ScanSection,
    #[serde(default)]
    pub allow: AllowSection,
    #[serde(default)]
    pub output: OutputSection,
    #[serde(default)]
    pub providers: BTreeMap<String, Provider>,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSection {
    /// Bytes, or a string such as "10MB" / "512KiB". Default: no limit.
    pub max_file_size: Option<Spanned<ByteSize>>,
    /// Scan blobs git calls binary too (default false).
    pub scan_binary: Option<bool>,
    /// Block, not only warn, when a `.env`-style file is staged (default false).
    pub block_sensitive_files: Option<bool>,
    /// Run the live check on every scan (user config only: it sends tokens to providers).
    pub verify: Option<Spanned<bool>>,
    /// Seconds a scan may run before it fails closed, as `--timeout` (which wins).
    pub timeout: Option<Spanned<f64>>,
}

/// How reports are written, per repository or user.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// How much a blocked commit's report says: "short" (default) or "full" (every
    /// provider's rotation checklist, as `-v`).
    pub detail: Option<crate::report::context::Detail>,
    /// What the pre-commit and pre-push hooks print when nothing is found: "line"
    /// (default) or "silent".
    pub clean: Option<crate::report::context::Clean>,
}

/// A size as written: a number of bytes, or a string with a unit.
#[derive(Debug, Clone)]
pub enum ByteSize {
    Bytes(u64),
    Text(String),
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct SizeVisitor;
        impl serde::de::Visitor<'_> for SizeVisitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size in bytes or a string such as \"10MB\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize::Bytes)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<ByteSize, E> {
                Ok(ByteSize::Bytes(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<ByteSize, E> {
                Ok(ByteSize::Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSection {
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub regexes: Vec<AllowRegex>,
    /// Allow lists that apply to one rule only.
    #[serde(default)]
    pub rule: Vec<RuleAllow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowRegex {
    pub regex: Spanned<String>,
    /// Whether the regex is matched against the secret or the whole line.
    pub target: Target,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleAllow {
    pub id: Spanned<String>,
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub regexes: Vec<AllowRegex>,
}

/// Only the spans of custom rule ids, read beside the full parse to point errors at a line.
#[derive(Deserialize)]
pub(super) struct RuleSpans {
    #[serde(default)]
    pub(super) rules: Vec<RuleIdSpan>,
}

#[derive(Deserialize)]
pub(super) struct RuleIdSpan {
    pub(super) id: Spanned<String>,
}

/// Where a layer comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerKind {
    /// `$XDG_CONFIG_HOME/tokenguard/config.toml`.
    User,
    /// `.tokenguard.toml` at the repository root.
    Repository,
    /// `--config PATH`.
    CommandLine,
    /// `TOKENGUARD_CONFIG`.
    Environment,
}

/// One parsed config file.
#[derive(Debug)]
pub struct Layer {
    pub kind: LayerKind,
    pub path: PathBuf,
    pub(super) text: String,
    pub(super) file: ConfigFile,
}

impl Layer {
    /// How reports name this layer ("suppressed by .tokenguard.toml").
    pub fn label(&self) -> String {
        match self.kind {
            LayerKind::Repository => REPO_CONFIG.to_string(),
            LayerKind::User => format!("user config {}", self.path.display()),
            LayerKind::CommandLine | LayerKind::Environment => self.path.display().to_string(),
        }
    }

    /// An error at byte `offset` of this file, as `path:line:column: message`.
    pub(super) fn error_at(&self, offset: usize, message: impl Into<String>) -> Error {
        let (line, column) = line_column(&self.text, offset);
        Error::Config {
            path: self.path.display().to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// Where to look for configuration.
#[derive(Debug, Clone, Default)]
pub struct ConfigOptions {
    /// `--config PATH`.
    pub config: Option<PathBuf>,
    /// `--no-config`: built-in rules only.
    pub no_config: bool,
}

/// Finds and parses the layers, lowest first: user, then the repository's (or the one named by
/// `--config` or `TOKENGUARD_CONFIG`, which replace it).
pub fn load_layers(options: &ConfigOptions, repo_root: Option<&Path>) -> Result<Vec<Layer>> {
    if options.no_config {
        return Ok(Vec::new());
    }
    let mut layers = Vec::new();
    if let Some(path) = user_config_path().filter(|p| p.is_file()) {
        layers.push(read_layer(LayerKind::User, path)?);
    }
    let env = std::env::var_os("TOKENGUARD_CONFIG").filter(|v| !v.is_empty());
    let project = match (&options.config, env) {
        (Some(path), _) => Some((LayerKind::CommandLine, path.clone())),
        (None, Some(path)) => Some((LayerKind::Environment, PathBuf::from(path))),
        (None, None) => repo_root
            .map(|root| root.join(REPO_CONFIG))
            .filter(|p| p.is_file())
            .map(|p| (LayerKind::Repository, p)),
    };
    if let Some((kind, path)) = project {
        layers.push(read_layer(kind, path)?);
    }
    Ok(layers)
}

fn user_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("tokenguard").join("config.toml"))
}

fn read_layer(kind: LayerKind, path: PathBuf) -> Result<Layer> {
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    parse_layer(kind, path, text)
}

fn parse_layer(kind: LayerKind, path: PathBuf, text: String) -> Result<Layer> {
    let mut layer = Layer {
        kind,
        path,
        text,
        file: ConfigFile::default(),
    };
    layer.file = toml::from_str(&layer.text).map_err(|err| {
        let offset = err.span().map_or(0, |span| span.start);
        layer.error_at(offset, err.message().trim().replace('\n', " "))
    })?;
    Ok(layer)
}

/// Parses `text` as a repository's config file and merges it over the built-in rules: what a
/// scan would run with. For the fuzzer and for tools; the path only names the file in errors.
pub fn settings_from_text(text: &str, path: &Path) -> Result<Settings> {
    let layer = parse_layer(LayerKind::Repository, path.to_path_buf(), text.to_string())?;
    Settings::build(&[layer], None)
}

pub(super) fn parse_size(size: &ByteSize) -> std::result::Result<u64, String> {
    let text = match size {
        ByteSize::Bytes(bytes) => return Ok(*bytes),
        ByteSize::Text(text) => text.trim(),
    };
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("bad size {text:?} (write bytes, or e.g. \"10MB\")"))?;
    let written = unit.trim();
    let factor: u64 = match written.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" => 1 << 10,
        "mb" => 1_000_000,
        "mib" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown size unit {written:?} (B, KB, KiB, MB, MiB, GB, GiB)"
            ));
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("size {text:?} is too large"))
}

/// 1-based line and column (in bytes) of `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.len()
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let cases = [
            (ByteSize::Bytes(10), Ok(10)),
            (ByteSize::Text("10MB".into()), Ok(10_000_000)),
            (ByteSize::Text("512 KiB".into()), Ok(512 * 1024)),
            (ByteSize::Text("1GiB".into()), Ok(1 << 30)),
        ];
        for (size, expected) in cases {
            assert_eq!(parse_size(&size), expected);
        }
        assert!(parse_size(&ByteSize::Text("ten".into())).is_err());
        assert!(parse_size(&ByteSize::Text("10 parsecs".into())).is_err());
    }

    #[test]
    fn positions() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ab", 0), (1, 1));
    }
}
