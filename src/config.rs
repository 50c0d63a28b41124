//! User configuration: the repository's `.tokenguard.toml` (or `--config PATH`, or
//! `TOKENGUARD_CONFIG`) layered over the user's `$XDG_CONFIG_HOME/tokenguard/config.toml`,
//! parsed strictly and merged with the built-in rules into one [`Settings`] before any scan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::bytes::RegexBuilder;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::glob::Glob;
use crate::policy::{AllowList, Policy, Target};
use crate::rules::{Provider, RuleSet, RuleSpec};

/// The name of the repository-level config file, at the worktree's top level.
pub const REPO_CONFIG: &str = ".tokenguard.toml";
/// The fingerprint ignore file, at the worktree's top level.
pub const IGNORE_FILE: &str = ".tokenguardignore";

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
struct RuleSpans {
    #[serde(default)]
    rules: Vec<RuleIdSpan>,
}

#[derive(Deserialize)]
struct RuleIdSpan {
    id: Spanned<String>,
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
    text: String,
    file: ConfigFile,
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
    fn error_at(&self, offset: usize, message: impl Into<String>) -> Error {
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

/// Scan options after merging: the highest layer that sets one wins.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ScanSettings {
    pub max_file_size: Option<u64>,
    pub scan_binary: bool,
    pub block_sensitive_files: bool,
    pub verify: bool,
}

/// One merged value and the layer it came from, for `tokenguard config`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sourced {
    pub value: String,
    pub origin: String,
}

/// Everything a scan runs with: rules (built-in and custom), what is allowed, scan options,
/// and where each came from.
#[derive(Debug)]
pub struct Settings {
    pub rules: RuleSet,
    pub policy: Policy,
    pub scan: ScanSettings,
    pub sensitive: SensitiveMatcher,
    /// Labels of the layers, lowest first.
    pub layers: Vec<(LayerKind, PathBuf)>,
    /// Each merged entry with its origin, keyed by setting name.
    pub sources: BTreeMap<String, Vec<Sourced>>,
}

impl Settings {
    /// Built-in rules merged with `layers` (lowest first) and the ignore file, if any.
    pub fn build(layers: &[Layer], ignore_file: Option<&Path>) -> Result<Settings> {
        let mut rules = RuleSet::builtin()?;
        let mut policy = Policy::default();
        let mut scan = ScanSettings::default();
        let mut sources: BTreeMap<String, Vec<Sourced>> = BTreeMap::new();
        let mut note = |key: &str, value: String, origin: &str| {
            sources.entry(key.to_string()).or_default().push(Sourced {
                value,
                origin: origin.to_string(),
            })
        };

        for layer in layers {
            let origin = layer.label();
            add_custom_rules(layer, &mut rules)?;
            for spec in &layer.file.rules {
                note("rules", spec.id.clone(), &origin);
            }
            for id in &layer.file.disable {
                if !rules.rules.iter().any(|r| r.id() == id.get_ref()) {
                    return Err(layer.error_at(
                        id.span().start,
                        format!("unknown rule id {:?} in disable", id.get_ref()),
                    ));
                }
                policy.disabled.insert(id.get_ref().clone(), origin.clone());
                note("disable", id.get_ref().clone(), &origin);
            }
            let section = &layer.file.scan;
            if let Some(size) = &section.max_file_size {
                let bytes = parse_size(size.get_ref())
                    .map_err(|message| layer.error_at(size.span().start, message))?;
                scan.max_file_size = Some(bytes);
                note("scan.max_file_size", bytes.to_string(), &origin);
            }
            if let Some(value) = section.scan_binary {
                scan.scan_binary = value;
                note("scan.scan_binary", value.to_string(), &origin);
            }
            if let Some(value) = section.block_sensitive_files {
                scan.block_sensitive_files = value;
                note("scan.block_sensitive_files", value.to_string(), &origin);
            }
            if let Some(value) = &section.verify {
                // A cloned repository must never make the hook send tokens anywhere.
                if layer.kind != LayerKind::User {
                    return Err(layer.error_at(
                        value.span().start,
                        "verify can be turned on only in the user config or with --verify, never by a repository's file",
                    ));
                }
                scan.verify = *value.get_ref();
                note("scan.verify", value.get_ref().to_string(), &origin);
            }
            let allow = &layer.file.allow;
            extend_allow_list(
                layer,
                &mut policy.global,
                &allow.paths,
                &allow.values,
                &allow.regexes,
            )?;
            for entry in allow.paths.iter().map(|p| p.get_ref()) {
                note("allow.paths", entry.clone(), &origin);
            }
            for value in &allow.values {
                note(
                    "allow.values",
                    crate::finding::redact(value.as_bytes()),
                    &origin,
                );
            }
            for regex in &allow.regexes {
                note(
                    "allow.regexes",
                    format!("{} (against the {:?})", regex.regex.get_ref(), regex.target)
                        .to_lowercase(),
                    &origin,
                );
            }
            for per_rule in &allow.rule {
                let id = per_rule.id.get_ref();
                if !rules.rules.iter().any(|r| r.id() == id) {
                    return Err(layer.error_at(
                        per_rule.id.span().start,
                        format!("unknown rule id {id:?} in [[allow.rule]]"),
                    ));
                }
                let list = policy.per_rule.entry(id.clone()).or_default();
                extend_allow_list(
                    layer,
                    list,
                    &per_rule.paths,
                    &per_rule.values,
                    &per_rule.regexes,
                )?;
                note(
                    &format!("allow.rule.{id}"),
                    format!(
                        "{} paths, {} values, {} regexes",
                        per_rule.paths.len(),
                        per_rule.values.len(),
                        per_rule.regexes.len()
                    ),
                    &origin,
                );
            }
        }

        if let Some(path) = ignore_file.filter(|p| p.is_file()) {
            let origin = IGNORE_FILE.to_string();
            for fingerprint in read_ignore_file(path)? {
                note("ignore", fingerprint.clone(), &origin);
                policy.ignored.insert(fingerprint, origin.clone());
            }
        }

        let compile = |patterns: &[String]| -> Result<Vec<Glob>> {
            patterns
                .iter()
                .map(|p| {
                    Glob::new(p).map_err(|message| Error::Rules {
                        path: "config/rules.toml (built in)".into(),
                        message,
                    })
                })
                .collect()
        };
        let sensitive = SensitiveMatcher {
            patterns: compile(&rules.sensitive_files.patterns)?,
            except: compile(&rules.sensitive_files.except)?,
        };
        Ok(Settings {
            rules,
            policy,
            scan,
            sensitive,
            layers: layers.iter().map(|l| (l.kind, l.path.clone())).collect(),
            sources,
        })
    }
}

/// `.env`-style file names, compiled.
#[derive(Debug, Clone)]
pub struct SensitiveMatcher {
    patterns: Vec<Glob>,
    except: Vec<Glob>,
}

impl SensitiveMatcher {
    /// True for `.env`-style files, which hold credentials by convention.
    pub fn matches(&self, path: &str) -> bool {
        self.patterns.iter().any(|g| g.is_match(path))
            && !self.except.iter().any(|g| g.is_match(path))
    }
}

fn add_custom_rules(layer: &Layer, rules: &mut RuleSet) -> Result<()> {
    if layer.file.rules.is_empty() && layer.file.providers.is_empty() {
        return Ok(());
    }
    let spans: RuleSpans = toml::from_str(&layer.text).unwrap_or(RuleSpans { rules: Vec::new() });
    let mut specs = layer.file.rules.clone();
    // Live checks send tokens over the network: only the user's own files may define them,
    // never a repository's (or an environment variable's).
    if !matches!(layer.kind, LayerKind::User | LayerKind::CommandLine) {
        for spec in &mut specs {
            spec.verify = None;
        }
    }
    let result = rules.extend(layer.file.providers.clone(), specs);
    let Err(problems) = result else {
        return Ok(());
    };
    let (index, message) = problems.into_iter().next().expect("errors are never empty");
    let (offset, message) = match index {
        Some(i) => {
            let span = spans.rules.get(i).map_or(0, |r| r.id.span().start);
            let id = &layer.file.rules[i].id;
            (span, format!("rule {id}: {message}"))
        }
        None => (0, message),
    };
    Err(layer.error_at(offset, message))
}

fn extend_allow_list(
    layer: &Layer,
    list: &mut AllowList,
    paths: &[Spanned<String>],
    values: &[String],
    regexes: &[AllowRegex],
) -> Result<()> {
    let origin = layer.label();
    for path in paths {
        let glob = Glob::new(path.get_ref()).map_err(|m| layer.error_at(path.span().start, m))?;
        if glob.matches_everything() {
            return Err(layer.error_at(
                path.span().start,
                format!(
                    "allow path {:?} matches every file; that would turn the hook off",
                    path.get_ref()
                ),
            ));
        }
        list.paths.push((glob, origin.clone()));
    }
    for value in values {
        if value.len() < 8 {
            return Err(layer.error_at(
                0,
                format!("allow value {value:?} is too short to name one secret (8 bytes at least)"),
            ));
        }
        list.values.push((value.clone(), origin.clone()));
    }
    for entry in regexes {
        let pattern = entry.regex.get_ref();
        let regex = RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                layer.error_at(
                    entry.regex.span().start,
                    format!("invalid regex: {}", e.to_string().replace('\n', " ")),
                )
            })?;
        // A regex that matches the empty string (`.*`, `^`, `x?`) matches every input.
        if regex.is_match(b"") {
            return Err(layer.error_at(
                entry.regex.span().start,
                format!("allow regex {pattern:?} matches everything; that would turn the hook off"),
            ));
        }
        list.regexes.push((regex, entry.target, origin.clone()));
    }
    Ok(())
}

/// Reads `.tokenguardignore`.
pub fn read_ignore_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_ignore_file(&text, path)
}

/// Parses an ignore file's text: one fingerprint per line, an optional `# reason` after it;
/// `path` names the file in errors.
pub fn parse_ignore_file(text: &str, path: &Path) -> Result<Vec<String>> {
    let mut fingerprints = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        if !is_fingerprint(content) {
            let column = line.find(content).unwrap_or(0) + 1;
            return Err(Error::Config {
                path: path.display().to_string(),
                line: index + 1,
                column,
                message: format!(
                    "not a fingerprint (32 hex digits, then an optional # reason): {content:?}"
                ),
            });
        }
        fingerprints.push(content.to_string());
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

fn parse_size(size: &ByteSize) -> std::result::Result<u64, String> {
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
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" => 1 << 10,
        "mb" => 1_000_000,
        "mib" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (B, KB, KiB, MB, MiB, GB, GiB)"
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

    #[test]
    fn fingerprints() {
        assert!(is_fingerprint(&"a".repeat(32)));
        assert!(!is_fingerprint(&"A".repeat(32)));
        assert!(!is_fingerprint("abc"));
    }
}
