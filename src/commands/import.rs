//! `tokenguard import`: moves a repository over from gitleaks or detect-secrets. What their
//! files allow (`.gitleaks.toml`, `.gitleaksignore`, `.secrets.baseline`) becomes entries of
//! `.tokenguard.toml` and `.tokenguardignore`, each judged by the same guards as one written
//! by hand; the summary says what was taken, what was translated into what, and what was
//! left out and why.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::cli::ImportArgs;
use crate::config::{self, ConfigOptions, IGNORE_FILE, REPO_CONFIG, ignore_file_for_append};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::git::Repo;
use crate::scan::{Checks, Environment, Source, gather};

mod detect_secrets;
mod gitleaks;

/// An allowlist entry for `.tokenguard.toml`'s `[allow]`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Path(String),
    Regex { regex: String, target: &'static str },
}

impl Entry {
    fn key(&self) -> &'static str {
        match self {
            Entry::Path(_) => "paths",
            Entry::Regex { .. } => "regexes",
        }
    }

    /// The entry as a TOML array element.
    fn toml(&self) -> String {
        let quote = |text: &str| toml::Value::String(text.to_string()).to_string();
        match self {
            Entry::Path(glob) => quote(glob),
            Entry::Regex { regex, target } => {
                format!("{{ regex = {}, target = {} }}", quote(regex), quote(target))
            }
        }
    }
}

/// An allowlist entry read from another tool's file, before the guards judge it.
struct Candidate {
    /// Where it came from, e.g. `.gitleaks.toml allowlist path "^vendor/"`.
    source: String,
    entry: Entry,
    /// How it was changed on the way, if it was.
    translated: Option<String>,
}

/// A finding another tool recorded by place, to be recorded here by fingerprint.
struct Lookup {
    source: String,
    /// The tree to look in: a commit, or HEAD.
    rev: String,
    path: String,
    line: u64,
}

/// Everything read, then judged.
#[derive(Default)]
struct Plan {
    candidates: Vec<Candidate>,
    lookups: Vec<Lookup>,
    /// (what, into what) kept as is / translated, and (what, why) left out.
    taken: Vec<(String, String)>,
    translated: Vec<(String, String)>,
    left_out: Vec<(String, String)>,
}

impl Plan {
    fn candidate(&mut self, candidate: Candidate) {
        self.candidates.push(candidate);
    }

    fn left_out(&mut self, what: impl Into<String>, why: impl Into<String>) {
        self.left_out.push((what.into(), why.into()));
    }

    fn accept(&mut self, source: String, into: String, translated: Option<String>) {
        match translated {
            Some(how) => self.translated.push((source, format!("{into} ({how})"))),
            None => self.taken.push((source, into)),
        }
    }
}

pub(super) fn run(
    args: &ImportArgs,
    options: &ConfigOptions,
    env: &Environment,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    let root = repo
        .workdir()
        .ok_or(Error::NoWorkTree { command: "import" })?
        .to_path_buf();
    let mut plan = Plan::default();
    let mut read = Vec::new();
    if let Some(text) = read_optional(&root.join(".gitleaks.toml"))? {
        gitleaks::read_config(&text, &mut plan)?;
        read.push(".gitleaks.toml");
    }
    if let Some(text) = read_optional(&root.join(".gitleaksignore"))? {
        gitleaks::read_ignore(&text, &mut plan);
        read.push(".gitleaksignore");
    }
    if let Some(text) = read_optional(&root.join(".secrets.baseline"))? {
        detect_secrets::read_baseline(&text, &mut plan)?;
        read.push(".secrets.baseline");
    }
    let mut stdout = std::io::stdout().lock();
    if read.is_empty() {
        writeln!(
            stdout,
            "nothing to import: no .gitleaks.toml, .gitleaksignore or .secrets.baseline at {}",
            root.display()
        )?;
        return Ok(ExitStatus::Clean);
    }
    let existing = read_optional(&root.join(REPO_CONFIG))?;
    let entries = judge_candidates(&mut plan, existing.as_deref());
    let fingerprints = look_up(&repo, &mut plan, options, env)?;
    writeln!(stdout, "tokenguard import: read {}", read.join(", "))?;
    write_summary(&mut stdout, &plan)?;
    if args.dry_run {
        writeln!(stdout, "--dry-run: nothing was written")?;
        return Ok(ExitStatus::Clean);
    }
    write_config(&root, existing.as_deref(), &entries, &mut stdout)?;
    write_ignore(&root, &fingerprints, &mut stdout)?;
    Ok(ExitStatus::Clean)
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Each candidate through the guards, alone: the ones that pass, not already in `existing`.
fn judge_candidates(plan: &mut Plan, existing: Option<&str>) -> Vec<Entry> {
    let present = existing.map(present_entries).unwrap_or_default();
    let mut entries: Vec<Entry> = Vec::new();
    for candidate in std::mem::take(&mut plan.candidates) {
        let Candidate {
            source,
            entry,
            translated,
        } = candidate;
        if entries.contains(&entry) || present.contains(&entry.toml()) {
            plan.left_out(source, "already there");
            continue;
        }
        let text = format!("[allow]\n{} = [{}]\n", entry.key(), entry.toml());
        match config::settings_from_text(&text, Path::new(REPO_CONFIG)) {
            Ok(_) => {
                plan.accept(
                    source,
                    format!("[allow] {} {}", entry.key(), entry.toml()),
                    translated,
                );
                entries.push(entry);
            }
            Err(Error::Config { message, .. }) => plan.left_out(source, message),
            Err(err) => plan.left_out(source, err.to_string()),
        }
    }
    entries
}

/// The `[allow]` entries a config file holds already, as TOML array elements.
fn present_entries(text: &str) -> Vec<String> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let Some(allow) = table.get("allow").and_then(|a| a.as_table()) else {
        return Vec::new();
    };
    let mut present = Vec::new();
    for item in allow
        .get("paths")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
    {
        present.extend(item.as_str().map(|p| Entry::Path(p.to_string()).toml()));
    }
    for item in allow
        .get("regexes")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
    {
        let regex = item.get("regex").and_then(|r| r.as_str());
        let target = match item.get("target").and_then(|t| t.as_str()) {
            Some("line") => "line",
            _ => "secret",
        };
        present.extend(regex.map(|regex| {
            Entry::Regex {
                regex: regex.to_string(),
                target,
            }
            .toml()
        }));
    }
    present
}

/// The fingerprints of the findings the lookups name, each with the reason to record.
fn look_up(
    repo: &Repo,
    plan: &mut Plan,
    options: &ConfigOptions,
    env: &Environment,
) -> Result<Vec<(String, String)>> {
    let mut by_rev: BTreeMap<String, Vec<Lookup>> = BTreeMap::new();
    for lookup in std::mem::take(&mut plan.lookups) {
        by_rev.entry(lookup.rev.clone()).or_default().push(lookup);
    }
    let mut fingerprints: Vec<(String, String)> = Vec::new();
    for (rev, lookups) in by_rev {
        let checks = Checks {
            verify: false,
            verify_timeout: 5.0,
            quiet: true,
        };
        let source = Source::Tree(rev.clone());
        let gathered = super::settings_for(options, repo.workdir())
            .and_then(|settings| gather(repo, &source, checks, settings, env));
        let findings = match gathered {
            Ok((outcome, _)) => outcome.findings,
            Err(_) => {
                for lookup in lookups {
                    plan.left_out(
                        lookup.source,
                        format!("{rev} is not a commit of this repository"),
                    );
                }
                continue;
            }
        };
        for lookup in lookups {
            let found: Vec<_> = findings
                .iter()
                .filter(|f| f.path() == lookup.path && f.line == lookup.line)
                .collect();
            if found.is_empty() {
                plan.left_out(
                    lookup.source,
                    format!(
                        "tokenguard finds nothing at {}:{} in {rev} (or it is ignored already)",
                        lookup.path, lookup.line
                    ),
                );
                continue;
            }
            for finding in found {
                let reason = format!("imported from {}", lookup.source);
                plan.accept(
                    lookup.source.clone(),
                    format!(
                        "{IGNORE_FILE} {} ({} at {}:{})",
                        finding.fingerprint,
                        finding.rule_id,
                        finding.path(),
                        finding.line
                    ),
                    Some("found again by tokenguard, recorded by its fingerprint".to_string()),
                );
                if !fingerprints.iter().any(|(f, _)| *f == finding.fingerprint) {
                    fingerprints.push((finding.fingerprint.clone(), reason));
                }
            }
        }
    }
    Ok(fingerprints)
}

fn write_summary(out: &mut impl Write, plan: &Plan) -> Result<()> {
    let sections = [
        ("taken as is", &plan.taken, "->"),
        ("translated", &plan.translated, "->"),
        ("left out", &plan.left_out, ":"),
    ];
    for (title, items, joiner) in sections {
        writeln!(out, "{title} ({}):", items.len())?;
        for (what, detail) in items {
            let line = format!("  {what} {joiner} {detail}");
            writeln!(out, "{}", crate::redact::typed(&line))?;
        }
    }
    Ok(())
}

/// Adds `entries` to `.tokenguard.toml`, keeping the file as written (comments included):
/// the keys go after its `[allow]` header, or in a new `[allow]` table at its end. Where the
/// file sets those keys already, the lines to add are printed instead.
fn write_config(
    root: &Path,
    existing: Option<&str>,
    entries: &[Entry],
    out: &mut impl Write,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut block = String::new();
    for key in ["paths", "regexes"] {
        let items: Vec<String> = entries
            .iter()
            .filter(|e| e.key() == key)
            .map(|e| format!("  {},\n", e.toml()))
            .collect();
        if !items.is_empty() {
            block.push_str(&format!("{key} = [\n{}]\n", items.concat()));
        }
    }
    let header = "# Imported by `tokenguard import`.\n";
    let text = match existing {
        None => Some(format!("{header}[allow]\n{block}")),
        Some(text) => insert_allow(text, &block),
    };
    let valid = text
        .as_deref()
        .map(|t| config::settings_from_text(t, Path::new(REPO_CONFIG)));
    match (text, valid) {
        (Some(text), Some(Ok(_))) => {
            super::output::replace_atomically(&root.join(REPO_CONFIG), text.as_bytes())?;
            writeln!(
                out,
                "wrote {} allowlist entries to {REPO_CONFIG}",
                entries.len()
            )?;
        }
        _ => {
            writeln!(
                out,
                "{REPO_CONFIG} sets these keys already: add the entries by hand under [allow]:\n{}",
                crate::redact::typed(&block)
            )?;
        }
    }
    Ok(())
}

/// `text` with `block` (`key = [...]` lines) put in its `[allow]` table, or `None` when the
/// table already has one of those keys.
fn insert_allow(text: &str, block: &str) -> Option<String> {
    let table = text.parse::<toml::Table>().ok()?;
    let allow = table.get("allow").and_then(|a| a.as_table());
    let keys: Vec<&str> = block
        .lines()
        .filter_map(|l| l.strip_suffix(" = ["))
        .collect();
    if keys
        .iter()
        .any(|k| allow.is_some_and(|a| a.contains_key(*k)))
    {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    match lines.iter().position(|l| l.trim() == "[allow]") {
        Some(at) => {
            let mut out: Vec<String> = lines[..=at].iter().map(|l| l.to_string()).collect();
            out.push(block.trim_end().to_string());
            out.extend(lines[at + 1..].iter().map(|l| l.to_string()));
            Some(out.join("\n") + "\n")
        }
        None => {
            let ending = if text.ends_with('\n') || text.is_empty() {
                ""
            } else {
                "\n"
            };
            Some(format!("{text}{ending}\n[allow]\n{block}"))
        }
    }
}

/// Appends the fingerprints `.tokenguardignore` does not hold yet, each with its reason.
fn write_ignore(
    root: &Path,
    fingerprints: &[(String, String)],
    out: &mut impl Write,
) -> Result<()> {
    let path = root.join(IGNORE_FILE);
    let (mut text, known) = ignore_file_for_append(&path)?;
    let new: Vec<&(String, String)> = fingerprints
        .iter()
        .filter(|(f, _)| !known.contains(f))
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for (fingerprint, reason) in &new {
        let reason = crate::redact::typed(&reason.replace('\n', " "));
        text.push_str(&format!("{fingerprint} # {reason}\n"));
    }
    super::output::replace_atomically(&path, text.as_bytes())?;
    writeln!(out, "wrote {} fingerprints to {IGNORE_FILE}", new.len())?;
    Ok(())
}
