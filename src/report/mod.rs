//! Reports: each writes one outcome to any `impl Write` (human, JSON, SARIF; the rules and
//! config listings), taking plain options, never the command line. A report never reads a
//! repository, never scans and never decides the exit status.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::Finding;
use crate::scan::ScanStats;

mod advice;
pub mod catalog;
pub mod config;
pub mod context;
pub mod explain;
/// What `tokenguard fix` changes.
pub mod fix;
pub mod human;
pub mod json;
mod name_pattern;
/// How a path looks on a terminal (git's quoting).
pub mod path;
pub mod rules;

pub mod sarif;
pub mod wrap;

/// What was scanned, which decides what the remediation says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The commit being made (the secret is only staged).
    #[default]
    Commit,
    /// Commits about to be pushed (the secret is in local history only).
    Push,
    /// Commits a server is receiving (pre-receive): the push is rejected, and no client-side
    /// switch bypasses it.
    Server,
    /// Commits already made (the secret is in history).
    History,
    /// Files as they are (the secret is in the tree or the worktree).
    Files,
    /// The message of the commit being made (commit-msg hook): the commit is not made.
    Message,
}

/// Everything a report says differently for one mode, in one place.
#[derive(Debug)]
pub struct Wording {
    /// The headline after "tokenguard: ", around the count of secrets.
    pub headline: (&'static str, &'static str),
    /// What a blocking warning did: "commit blocked".
    pub blocked: &'static str,
    /// The deliberate way past the check, when there is one on this side.
    pub bypass: Option<&'static str>,
    /// The same for the pre-commit framework, which skips a hook by its id.
    pub framework_bypass: Option<&'static str>,
    /// Appended to an error's one-line message: what the failure means for the command.
    pub error_note: &'static str,
    /// Before a provider's revoke page: when to rotate.
    pub rotate: &'static str,
}

const COMMIT: Wording = Wording {
    headline: ("commit blocked: ", " in the staged change"),
    blocked: "commit blocked",
    bypass: Some("git commit --no-verify"),
    framework_bypass: Some("SKIP=tokenguard git commit"),
    error_note: " (commit blocked; to commit anyway, deliberately: git commit --no-verify)",
    rotate: "if it ever left this machine:",
};

/// `scan-staged` run by hand: the same scan, but no commit is being made.
const STAGED_BY_HAND: Wording = Wording {
    headline: ("", " in the staged change"),
    blocked: "blocked",
    bypass: None,
    framework_bypass: None,
    ..COMMIT
};

const MESSAGE: Wording = Wording {
    headline: ("commit blocked: ", " in the commit message"),
    framework_bypass: Some("SKIP=tokenguard-message git commit"),
    ..COMMIT
};

const PUSH: Wording = Wording {
    headline: ("push blocked: ", " in the commits being pushed"),
    blocked: "push blocked",
    bypass: Some("git push --no-verify"),
    framework_bypass: Some("SKIP=tokenguard git push"),
    error_note: " (push blocked; to push anyway, deliberately: git push --no-verify)",
    rotate: "if it was ever shared, pasted or logged:",
};

/// A server-side hook cannot be skipped from the client.
const SERVER: Wording = Wording {
    headline: ("push rejected: ", " in the pushed commits"),
    blocked: "push rejected",
    bypass: None,
    framework_bypass: None,
    error_note: " (push rejected: the server's tokenguard hook could not check it; \
                 ask the server's administrator)",
    rotate: "now: it left your machine in this push:",
};

/// History and files block nothing.
const HISTORY: Wording = Wording {
    headline: ("", " added in the scanned commits"),
    blocked: "blocked",
    bypass: None,
    framework_bypass: None,
    error_note: " (scan not completed)",
    rotate: "now if it was ever pushed or shared:",
};

const FILES: Wording = Wording {
    headline: ("", " in the scanned files"),
    ..HISTORY
};

impl Mode {
    /// How this mode's report is worded.
    pub fn wording(self) -> &'static Wording {
        match self {
            Mode::Commit => &COMMIT,
            Mode::Message => &MESSAGE,
            Mode::Push => &PUSH,
            Mode::Server => &SERVER,
            Mode::History => &HISTORY,
            Mode::Files => &FILES,
        }
    }

    /// How this mode's report is worded when run by a hook (`hook`) or by hand: a commit is
    /// blocked only when git is making one.
    pub fn wording_for(self, hook: bool) -> &'static Wording {
        match (self, hook) {
            (Mode::Commit, false) => &STAGED_BY_HAND,
            _ => self.wording(),
        }
    }

    /// What an error means for the command that failed, appended to its one-line message:
    /// the deliberate way out where one exists. `None` is a setup command (install, rules,
    /// config, ignore), where an error blocks nothing.
    pub fn error_note(mode: Option<Mode>) -> &'static str {
        mode.map_or("", |mode| mode.wording().error_note)
    }
}

/// Everything a scan found and counted.
#[derive(Debug, Default)]
pub struct Outcome {
    pub mode: Mode,
    pub findings: Vec<Finding>,
    /// Findings' neighbours: staged `.env` files, files over the size limit.
    pub warnings: Vec<Warning>,
    pub stats: Stats,
    /// How much the human report says (the configuration's `[output] detail`).
    pub detail: context::Detail,
    /// What a hook prints when nothing is found (`[output] clean`).
    pub clean: context::Clean,
}

/// Something worth saying that is not a finding: a staged `.env`-style file, a file skipped
/// for its size.
#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    pub path: String,
    pub message: String,
    /// True when the configuration makes this warning block the commit.
    pub blocks: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    SensitiveFile,
    TooLarge,
    /// Listed with `-v` only: binary blobs are skipped by design.
    Binary,
    /// Listed with `-v` only: a submodule's files belong to another repository.
    Submodule,
    /// Listed with `-v` only: a symlink's blob is its target path.
    Symlink,
    /// An inline allow names a rule id that does not exist, so it allows nothing.
    UnknownRuleId,
}

impl WarningKind {
    /// Skips by design, listed only with `-v`.
    pub fn verbose_only(self) -> bool {
        matches!(
            self,
            WarningKind::Binary | WarningKind::Submodule | WarningKind::Symlink
        )
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    /// What the pipeline scanned and git's walk skipped.
    #[serde(flatten)]
    pub scan: ScanStats,
    /// Findings that something allowed, counted by what allowed them.
    pub suppressed: BTreeMap<String, usize>,
    #[serde(flatten)]
    pub shallow: ShallowBaseline,
}

/// A shallow clone's boundary commits in a history or push scan: their parents were not
/// fetched, so what they added is unknown and their whole trees were scanned instead.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ShallowBaseline {
    /// The boundary commits scanned, whole ids.
    #[serde(rename = "shallow_boundaries")]
    pub commits: Vec<String>,
    /// Lines of their trees (not counted as added lines).
    #[serde(rename = "baseline_lines")]
    pub lines: u64,
}

/// What a report says after its summary when shallow boundaries were scanned: what was read,
/// what it means for the findings, and how to get a scan of what each commit adds.
pub fn shallow_note(stats: &Stats) -> Option<String> {
    let shallow = &stats.shallow;
    let (first, rest) = shallow.commits.split_first()?;
    let which = match rest.len() {
        0 => format!("commit {first} is"),
        more => format!("commit {first} and {} are", plural(more as u64, "other")),
    };
    Some(format!(
        "note: shallow clone: {which} a boundary whose parents were not fetched, so what it \
         added is unknown; its whole tree ({}) was scanned as a baseline, and a finding there \
         may come from an earlier commit. To scan what each commit adds, fetch the full history \
         (git fetch --unshallow; in CI, actions/checkout with fetch-depth: 0).",
        plural(shallow.lines, "line")
    ))
}

impl Outcome {
    /// Findings block; so do warnings the configuration made blocking.
    pub fn blocks(&self) -> bool {
        !self.findings.is_empty() || self.warnings.iter().any(|w| w.blocks)
    }

    /// The providers of the findings `keep` selects, each once, in key order.
    pub fn provider_keys(
        &self,
        keep: impl Fn(&Finding) -> bool,
    ) -> std::collections::BTreeSet<&str> {
        (self.findings.iter())
            .filter(|f| keep(f))
            .map(|f| f.provider_key.as_str())
            .collect()
    }

    /// Warnings worth showing by default (binary skips only with `-v`).
    pub fn notable_warnings(&self) -> impl Iterator<Item = &Warning> {
        self.warnings.iter().filter(|w| !w.kind.verbose_only())
    }
}

/// "1 file" / "2 files".
fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Bytes as the progress line shows them (`1.20 MiB`), below a KiB as a count of bytes.
fn human_bytes(bytes: u64) -> String {
    match bytes {
        0..1024 => plural(bytes, "byte"),
        _ => indicatif::HumanBytes(bytes).to_string(),
    }
}

/// The closing line of every report: what was scanned and what was skipped. Whole files
/// (`Mode::Files`) have lines, not added lines.
pub fn summary_line(stats: &Stats, mode: Mode) -> String {
    let s = &stats.scan;
    if mode == Mode::Message {
        return format!(
            "scanned the commit message ({})",
            human_bytes(s.bytes_scanned)
        );
    }
    let lines = match mode {
        Mode::Files => "line",
        _ => "added line",
    };
    // A modified file that could hold no secret is never diffed, so its added lines are not
    // counted: the count covers the other files only, and is not printed as the commit's.
    let counted = match (s.diffs_skipped, s.added_lines) {
        (0, _) => format!(", {}", plural(s.added_lines, lines)),
        (_, 0) => String::new(),
        (_, added) => format!(", {} in the other files", plural(added, lines)),
    };
    let mut line = format!(
        "scanned {} ({}{counted}",
        plural(s.files_scanned, "file"),
        human_bytes(s.bytes_scanned),
    );
    if s.diffs_skipped > 0 {
        line.push_str(&format!(
            "; {} could hold no secret, so needed no line diff",
            plural(s.diffs_skipped, "modified file")
        ));
    }
    line.push(')');
    if s.messages_scanned > 0 {
        line.push_str(&format!(" and {}", plural(s.messages_scanned, "message")));
    }
    if s.commits_scanned > 0 {
        line = format!("{line} in {}", plural(s.commits_scanned, "commit"));
    }
    let skipped: Vec<String> = [
        (s.binary_skipped, "binary file"),
        (s.too_large_skipped, "file over the size limit"),
        (s.submodules_skipped, "submodule"),
        (s.symlinks_skipped, "symlink"),
        (s.unmerged_skipped, "unmerged path"),
    ]
    .iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, noun)| plural(*count, noun))
    .collect();
    if !skipped.is_empty() {
        line.push_str(&format!("; skipped {}", skipped.join(", ")));
    }
    if s.deleted_files > 0 {
        line.push_str(&format!("; {} deleted", plural(s.deleted_files, "file")));
    }
    let suppressed: usize = stats.suppressed.values().sum();
    if suppressed > 0 {
        let by: Vec<String> = stats
            .suppressed
            .iter()
            .map(|(origin, count)| format!("{count} by {origin}"))
            .collect();
        line.push_str(&format!(
            "; {} suppressed ({})",
            plural(suppressed as u64, "finding"),
            by.join(", ")
        ));
    }
    line
}
