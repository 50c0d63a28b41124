//! The merged settings: built-in rules, custom rules and allowlists of every layer, the ignore
//! file and the scan options, compiled into one value before any scan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::bytes::{Regex, RegexBuilder};
use toml::Spanned;

use super::guard::{self, Samples};
use super::guard_cache;
use super::ignore::{IGNORE_FILE, read_ignore_file};
use super::layers::{AllowRegex, Layer, LayerKind, RuleSpans, parse_size};
use crate::detect::glob::Glob;
use crate::detect::policy::{AllowList, Policy, Target};
use crate::detect::rules::RuleSet;
use crate::error::{Error, Result};
use crate::redact;

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

/// How reports are written (`[output]`).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct OutputSettings {
    pub detail: crate::report::context::Detail,
    pub clean: crate::report::context::Clean,
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
    pub output: OutputSettings,
    pub sensitive: SensitiveMatcher,
    /// Labels of the layers, lowest first.
    pub layers: Vec<(LayerKind, PathBuf)>,
    /// Each merged entry with its origin, keyed by setting name.
    pub sources: BTreeMap<String, Vec<Sourced>>,
}

impl Settings {
    /// Built-in rules merged with `layers` (lowest first) and the ignore file, if any.
    pub fn build(layers: &[Layer], ignore_file: Option<&Path>) -> Result<Settings> {
        let mut merge = Merge {
            rules: RuleSet::builtin()?,
            policy: Policy::default(),
            scan: ScanSettings::default(),
            output: OutputSettings::default(),
            sources: BTreeMap::new(),
            samples: None,
            last_disable: None,
        };
        for (index, layer) in layers.iter().enumerate() {
            merge.layer(index, layer)?;
        }
        merge.refuse_every_rule_disabled(layers)?;
        if let Some(path) = ignore_file.filter(|p| p.is_file()) {
            merge.ignore_file(path)?;
        }
        let sensitive = SensitiveMatcher::builtin(&merge.rules)?;
        Ok(Settings {
            rules: merge.rules,
            policy: merge.policy,
            scan: merge.scan,
            output: merge.output,
            sensitive,
            layers: layers.iter().map(|l| (l.kind, l.path.clone())).collect(),
            sources: merge.sources,
        })
    }
}

/// The settings while the layers are merged into them, lowest first.
struct Merge {
    rules: RuleSet,
    policy: Policy,
    scan: ScanSettings,
    output: OutputSettings,
    sources: BTreeMap<String, Vec<Sourced>>,
    /// Tokens of every rule, drawn when the first allow regex needs judging (again after a
    /// layer adds custom rules, so that theirs count too).
    samples: Option<Samples>,
    /// The layer and offset of the last `disable` entry, to point at if every rule is off.
    last_disable: Option<(usize, usize)>,
}

impl Merge {
    /// Records one merged entry and the layer it came from, for `tokenguard config`.
    fn note(&mut self, key: &str, value: String, origin: &str) {
        note_into(&mut self.sources, key, value, origin);
    }

    /// Merges one layer, section by section.
    fn layer(&mut self, index: usize, layer: &Layer) -> Result<()> {
        let origin = layer.label();
        add_custom_rules(layer, &mut self.rules)?;
        if !layer.file.rules.is_empty() {
            self.samples = None;
        }
        for name in layer.file.providers.keys() {
            self.note("providers", name.clone(), &origin);
        }
        for spec in &layer.file.rules {
            self.note("rules", spec.id.clone(), &origin);
        }
        self.disable(index, layer, &origin)?;
        self.scan_section(layer, &origin)?;
        if let Some(detail) = layer.file.output.detail {
            self.output.detail = detail;
            let value = format!("{detail:?}").to_lowercase();
            self.note("output.detail", value, &origin);
        }
        if let Some(clean) = layer.file.output.clean {
            self.output.clean = clean;
            let value = format!("{clean:?}").to_lowercase();
            self.note("output.clean", value, &origin);
        }
        self.allow_section(layer, &origin)
    }

    /// `disable = [...]`: every id must name a rule.
    fn disable(&mut self, index: usize, layer: &Layer, origin: &str) -> Result<()> {
        for id in &layer.file.disable {
            if self.rules.get(id.get_ref()).is_none() {
                return Err(layer.error_at(
                    id.span().start,
                    format!("unknown rule id {:?} in disable", id.get_ref()),
                ));
            }
            self.policy
                .disabled
                .insert(id.get_ref().clone(), origin.to_string());
            self.last_disable = Some((index, id.span().start));
            self.note("disable", id.get_ref().clone(), origin);
        }
        Ok(())
    }

    /// `[scan]`: the highest layer that sets an option wins.
    fn scan_section(&mut self, layer: &Layer, origin: &str) -> Result<()> {
        let section = &layer.file.scan;
        if let Some(size) = &section.max_file_size {
            let bytes = parse_size(size.get_ref())
                .map_err(|message| layer.error_at(size.span().start, message))?;
            self.scan.max_file_size = Some(bytes);
            self.note("scan.max_file_size", bytes.to_string(), origin);
        }
        if let Some(value) = section.scan_binary {
            self.scan.scan_binary = value;
            self.note("scan.scan_binary", value.to_string(), origin);
        }
        if let Some(value) = section.block_sensitive_files {
            self.scan.block_sensitive_files = value;
            self.note("scan.block_sensitive_files", value.to_string(), origin);
        }
        if let Some(value) = &section.verify {
            // A cloned repository must never make the hook send tokens anywhere.
            if layer.kind != LayerKind::User {
                return Err(layer.error_at(
                    value.span().start,
                    "verify can be turned on only in the user config or with --verify, never by a repository's file",
                ));
            }
            self.scan.verify = *value.get_ref();
            self.note("scan.verify", value.get_ref().to_string(), origin);
        }
        if let Some(value) = &section.timeout {
            let seconds = *value.get_ref();
            if !(seconds.is_finite() && seconds > 0.0) {
                return Err(layer.error_at(
                    value.span().start,
                    format!("timeout must be a positive number of seconds, not {seconds}"),
                ));
            }
            self.scan.timeout = Some(seconds);
            self.note("scan.timeout", seconds.to_string(), origin);
        }
        Ok(())
    }

    /// `[allow]` and its `[[allow.rule]]` lists, each regex judged against every rule's tokens.
    fn allow_section(&mut self, layer: &Layer, origin: &str) -> Result<()> {
        let allow = &layer.file.allow;
        let mut judge = Judge {
            rules: &self.rules,
            samples: &mut self.samples,
            only_rule: None,
            compiled: Vec::new(),
        };
        let global = (&allow.paths[..], &allow.values[..], &allow.regexes[..]);
        extend_allow_list(layer, &mut self.policy.global, global, &mut judge)?;
        judge.judge_together(layer)?;
        let global_regexes = judge.compiled;
        let sources = &mut self.sources;
        let mut note =
            |key: &str, value: String, origin: &str| note_into(sources, key, value, origin);
        note_allow_list(&mut note, "allow", global, origin);
        for per_rule in &allow.rule {
            let id = per_rule.id.get_ref();
            if self.rules.get(id).is_none() {
                return Err(layer.error_at(
                    per_rule.id.span().start,
                    format!("unknown rule id {id:?} in [[allow.rule]]"),
                ));
            }
            let list = self.policy.per_rule.entry(id.clone()).or_default();
            let mut judge = Judge {
                rules: &self.rules,
                samples: &mut self.samples,
                only_rule: Some(id),
                compiled: global_regexes.clone(),
            };
            let entries = (
                &per_rule.paths[..],
                &per_rule.values[..],
                &per_rule.regexes[..],
            );
            extend_allow_list(layer, list, entries, &mut judge)?;
            judge.judge_together(layer)?;
            note_allow_list(&mut note, &format!("allow.rule.{id}"), entries, origin);
        }
        Ok(())
    }

    /// Every rule off is the hook off, however it is written.
    fn refuse_every_rule_disabled(&self, layers: &[Layer]) -> Result<()> {
        if let Some((index, offset)) = self.last_disable
            && self
                .rules
                .iter()
                .all(|rule| self.policy.disabled.contains_key(rule.id()))
        {
            return Err(layers[index].error_at(
                offset,
                "disable lists every rule; that would turn the hook off (uninstall it instead: tokenguard uninstall)",
            ));
        }
        Ok(())
    }

    /// The fingerprints of `.tokenguardignore`.
    fn ignore_file(&mut self, path: &Path) -> Result<()> {
        let origin = IGNORE_FILE.to_string();
        for fingerprint in read_ignore_file(path)? {
            self.note("ignore", fingerprint.clone(), &origin);
            self.policy.ignored.insert(fingerprint, origin.clone());
        }
        Ok(())
    }
}

fn note_into(sources: &mut BTreeMap<String, Vec<Sourced>>, key: &str, value: String, origin: &str) {
    sources.entry(key.to_string()).or_default().push(Sourced {
        value,
        origin: origin.to_string(),
    });
}

/// `.env`-style file names, compiled.
#[derive(Debug, Clone)]
pub struct SensitiveMatcher {
    patterns: Vec<Glob>,
    except: Vec<Glob>,
}

impl SensitiveMatcher {
    /// The built-in catalog's `.env`-style patterns and their exceptions.
    fn builtin(rules: &RuleSet) -> Result<SensitiveMatcher> {
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
        Ok(SensitiveMatcher {
            patterns: compile(&rules.sensitive_files.patterns)?,
            except: compile(&rules.sensitive_files.except)?,
        })
    }

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
            spec.verify = None.into();
        }
    }
    let result = rules.extend(layer.file.providers.clone(), specs);
    let Err(problems) = result else {
        return Ok(());
    };
    let problem = problems.into_iter().next().expect("errors are never empty");
    let message = problem.message;
    let (offset, message) = match problem.index {
        Some(i) => {
            let span = spans.rules.get(i).map_or(0, |r| r.id.span().start);
            let id = &layer.file.rules[i].id;
            (span, format!("rule {id}: {message}"))
        }
        None => (0, message),
    };
    Err(layer.error_at(offset, message))
}

/// One layer's allow list as written: paths, values, regexes.
type AllowEntries<'a> = (&'a [Spanned<String>], &'a [String], &'a [AllowRegex]);

/// What allow regexes are judged against (see [`guard`]).
struct Judge<'a> {
    rules: &'a RuleSet,
    samples: &'a mut Option<Samples>,
    /// The rule a per-rule list belongs to.
    only_rule: Option<&'a str>,
    /// The regexes of this layer that apply to the list, with their offsets in the file: a
    /// per-rule list counts the layer's global regexes too.
    compiled: Vec<(Regex, Target, usize)>,
}

impl Judge<'_> {
    /// Judges the list's regexes together, per target: regexes that each pass may still hide
    /// every token between them (a first-character class split in five).
    fn judge_together(&mut self, layer: &Layer) -> Result<()> {
        for target in [Target::Secret, Target::Line] {
            let regexes: Vec<&Regex> = self
                .compiled
                .iter()
                .filter(|(_, t, _)| *t == target)
                .map(|(regex, _, _)| regex)
                .collect();
            if regexes.len() < 2 {
                continue;
            }
            if let Some(why) = verdict(self.rules, self.samples, &regexes, target, self.only_rule) {
                let last = self.compiled.iter().rfind(|(_, t, _)| *t == target);
                let offset = last.map_or(0, |(_, _, offset)| *offset);
                return Err(layer.error_at(
                    offset,
                    format!(
                        "the {} allow regexes against the {} here are too broad together: they {why}",
                        regexes.len(),
                        match target {
                            Target::Secret => "secret",
                            Target::Line => "line",
                        }
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The guard's verdict on `regexes` taken together; samples are drawn only when no earlier run
/// passed the same regexes against the same rules (see [`guard_cache`]).
fn verdict(
    rules: &RuleSet,
    samples: &mut Option<Samples>,
    regexes: &[&Regex],
    target: Target,
    only_rule: Option<&str>,
) -> Option<String> {
    let key = guard_cache::key(rules, regexes, target, only_rule);
    if guard_cache::passed(&key) {
        return None;
    }
    let samples = samples.get_or_insert_with(|| Samples::new(rules));
    let why = samples.judge(rules, regexes, target, only_rule);
    if why.is_none() {
        guard_cache::record(&key);
    }
    why
}

/// Records an allow list for `tokenguard config`: every entry as written (case kept), with
/// secret-shaped text redacted.
fn note_allow_list(
    note: &mut impl FnMut(&str, String, &str),
    key: &str,
    (paths, values, regexes): AllowEntries<'_>,
    origin: &str,
) {
    for path in paths {
        note(
            &format!("{key}.paths"),
            redact::config_value(path.get_ref()),
            origin,
        );
    }
    for value in values {
        note(
            &format!("{key}.values"),
            crate::redact::secret(value.as_bytes()),
            origin,
        );
    }
    for regex in regexes {
        let target = match regex.target {
            Target::Secret => "secret",
            Target::Line => "line",
        };
        note(
            &format!("{key}.regexes"),
            format!(
                "{} (against the {target})",
                redact::config_value(regex.regex.get_ref())
            ),
            origin,
        );
    }
}

fn extend_allow_list(
    layer: &Layer,
    list: &mut AllowList,
    (paths, values, regexes): AllowEntries<'_>,
    judge: &mut Judge<'_>,
) -> Result<()> {
    let origin = layer.label();
    for path in paths {
        let shown = redact::config_value(path.get_ref());
        let glob = Glob::new(path.get_ref()).map_err(|m| layer.error_at(path.span().start, m))?;
        if glob.matches_everything() {
            return Err(layer.error_at(
                path.span().start,
                format!("allow path {shown:?} matches every file; that would turn the hook off"),
            ));
        }
        if let Some(why) = guard::judge_glob(&glob) {
            return Err(layer.error_at(
                path.span().start,
                format!("allow path {shown:?} is too broad: it {why}"),
            ));
        }
        list.paths.push((glob, origin.clone()));
    }
    for value in values {
        if value.len() < 8 {
            return Err(layer.error_at(
                0,
                format!(
                    "allow value {:?} is too short to name one secret (8 bytes at least)",
                    crate::redact::secret(value.as_bytes())
                ),
            ));
        }
        list.values.push((value.clone(), origin.clone()));
    }
    for entry in regexes {
        let pattern = entry.regex.get_ref();
        let shown = redact::config_value(pattern);
        let regex = RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                layer.error_at(
                    entry.regex.span().start,
                    format!(
                        "invalid regex: {}",
                        redact::config_value(&e.to_string().replace('\n', " "))
                    ),
                )
            })?;
        // A regex that matches the empty string (`.*`, `^`, `x?`) matches every input.
        if regex.is_match(b"") {
            return Err(layer.error_at(
                entry.regex.span().start,
                format!("allow regex {shown:?} matches everything; that would turn the hook off"),
            ));
        }
        let target = entry.target;
        if let Some(why) = verdict(
            judge.rules,
            judge.samples,
            &[&regex],
            target,
            judge.only_rule,
        ) {
            return Err(layer.error_at(
                entry.regex.span().start,
                format!("allow regex {shown:?} is too broad: it {why}"),
            ));
        }
        judge
            .compiled
            .push((regex.clone(), entry.target, entry.regex.span().start));
        list.regexes.push((regex, entry.target, origin.clone()));
    }
    Ok(())
}
