//! The merged settings: built-in rules, custom rules and allowlists of every layer, the ignore
//! file and the scan options, compiled into one value before any scan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::bytes::RegexBuilder;
use toml::Spanned;

use super::ignore::{IGNORE_FILE, read_ignore_file};
use super::layers::{AllowRegex, Layer, LayerKind, RuleSpans, parse_size};
use crate::detect::glob::Glob;
use crate::detect::policy::{AllowList, Policy};
use crate::detect::rules::RuleSet;
use crate::error::{Error, Result};

/// Scan options after merging: the highest layer that sets one wins.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ScanSettings {
    pub max_file_size: Option<u64>,
    pub scan_binary: bool,
    pub block_sensitive_files: bool,
    pub verify: bool,
    /// Seconds a scan may run (`--timeout` wins); `None`: no limit.
    pub timeout: Option<f64>,
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
            if let Some(value) = &section.timeout {
                let seconds = *value.get_ref();
                if !(seconds.is_finite() && seconds > 0.0) {
                    return Err(layer.error_at(
                        value.span().start,
                        format!("timeout must be a positive number of seconds, not {seconds}"),
                    ));
                }
                scan.timeout = Some(seconds);
                note("scan.timeout", seconds.to_string(), &origin);
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
