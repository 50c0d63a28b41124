//! The report a developer reads when the hook blocks a commit or a push.

use std::collections::BTreeSet;
use std::io::Write;

use colored::Colorize;

use super::advice::{self, Kind};
use super::catalog::Catalog;
use super::context::{Clean, Context, Detail};
use super::path::quote;
use super::wrap::{GLUED_SPACE, glue, wrap};
use super::{Mode, Outcome, WarningKind, plural, shallow_note, summary_line};
use crate::finding::Status;
use crate::finding::{Finding, Part};

/// Where a finding is, as a reader looks for it: `path:line:column` in a file, the path
/// itself for a name, the message for a commit or tag message.
fn location(finding: &Finding) -> String {
    match finding.part() {
        Part::Content => {
            let cell = finding
                .cell()
                .map_or(String::new(), |cell| format!(" ({cell})"));
            format!(
                "{}:{}:{}{cell}",
                quote(finding.path()),
                finding.line,
                finding.column
            )
        }
        Part::Path | Part::SymlinkTarget => quote(finding.path()).to_string(),
        Part::CommitMessage => format!("commit message:{}:{}", finding.line, finding.column),
        Part::TagMessage => format!(
            "tag {} message:{}:{}",
            quote(finding.tag().unwrap_or("")),
            finding.line,
            finding.column
        ),
    }
}

/// How much the human report says.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only the findings.
    pub quiet: bool,
    /// Also every skipped file and why, and the whole rotation checklist.
    pub verbose: bool,
    /// For each finding, in order: whether `tokenguard fix` can replace it by itself.
    pub fixable: Vec<bool>,
}

/// Writes the report, wrapped to `context.width` at word boundaries when there is one.
pub fn write(
    out: &mut impl Write,
    outcome: &Outcome,
    catalog: &Catalog<'_>,
    switches: &Options,
    context: &Context,
) -> std::io::Result<()> {
    let mut text = Vec::new();
    render(&mut text, outcome, catalog, switches, context)?;
    let text = String::from_utf8_lossy(&text);
    let text = match context.width {
        Some(width) => wrap(&text, width),
        None => text.replace(GLUED_SPACE, " "),
    };
    out.write_all(text.as_bytes())
}

fn render(
    out: &mut impl Write,
    outcome: &Outcome,
    catalog: &Catalog<'_>,
    switches: &Options,
    context: &Context,
) -> std::io::Result<()> {
    if switches.quiet {
        return outcome
            .findings
            .iter()
            .try_for_each(|finding| write_finding(out, finding));
    }
    write_warnings(out, outcome, switches.verbose)?;
    let wording = outcome.mode.wording_for(context.hook);
    if outcome.findings.is_empty() {
        if is_silent_when_clean(outcome, context) {
            return Ok(());
        }
        let verdict = if outcome.blocks() {
            format!("tokenguard: {} by the warnings above.", wording.blocked)
                .red()
                .bold()
        } else {
            "tokenguard: no secrets found.".green()
        };
        writeln!(
            out,
            "{verdict} {}",
            summary_line(&outcome.stats, outcome.mode)
        )?;
        return write_shallow_note(out, outcome);
    }
    let (before, after) = wording.headline;
    let count = plural(outcome.findings.len() as u64, "secret");
    writeln!(
        out,
        "{}",
        format!("tokenguard: {before}{count}{after}").red().bold()
    )?;
    writeln!(out)?;
    for finding in &outcome.findings {
        write_finding(out, finding)?;
    }
    writeln!(out)?;
    write_advice(out, outcome, catalog, switches, context)?;
    let full = switches.verbose || context.detail == Detail::Full;
    if full {
        write_checklists(out, outcome, catalog)?;
    }
    writeln!(out)?;
    writeln!(out, "{}", summary_line(&outcome.stats, outcome.mode))?;
    write_shallow_note(out, outcome)
}

/// A clean commit says so once, the pre-commit hook's line (commit-msg adds nothing), and
/// with `[output] clean = "silent"` not at all, nor does a clean push: git passes hooks no
/// sign of `-q`, so the repository or user config says it.
fn is_silent_when_clean(outcome: &Outcome, context: &Context) -> bool {
    if outcome.blocks() {
        return false;
    }
    match outcome.mode {
        Mode::Message => context.hook,
        Mode::Commit => context.hook && outcome.clean == Clean::Silent,
        Mode::Push => outcome.clean == Clean::Silent,
        Mode::Server | Mode::History | Mode::Files => false,
    }
}

fn write_shallow_note(out: &mut impl Write, outcome: &Outcome) -> std::io::Result<()> {
    match shallow_note(&outcome.stats) {
        Some(note) => writeln!(out, "{}", note.yellow()),
        None => Ok(()),
    }
}

fn write_finding(out: &mut impl Write, finding: &Finding) -> std::io::Result<()> {
    let status = match &finding.verification {
        None => String::new(),
        Some(Status::Live) => format!("  {}", "LIVE".red().bold()),
        Some(Status::Invalid) => format!("  {}", "invalid (provider refused it)".green()),
        Some(Status::Unknown(reason)) => format!("  {}", format!("unknown: {reason}").yellow()),
    };
    let notes = finding.notes();
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("  ({})", notes.join(", "))
    };
    writeln!(
        out,
        "  {}  {}  {}  {}{notes}{status}",
        location(finding).bold(),
        finding.rule_id.yellow(),
        finding.provider,
        format!("{:?}", finding.severity).to_lowercase().red()
    )?;
    let commit = match (finding.commit(), finding.shallow_boundary()) {
        (Some(c), false) => format!("  commit {c}"),
        (Some(c), true) => format!("  in the tree of commit {c} (shallow boundary)"),
        (None, _) => String::new(),
    };
    writeln!(
        out,
        "      secret {}  fingerprint {}{commit}",
        finding.secret_redacted.dimmed(),
        finding.fingerprint.dimmed()
    )
}

/// A labelled line of the advice block: the label in a column of its own, so that a wrapped
/// line continues under the text.
fn labelled(out: &mut impl Write, label: &str, text: &str) -> std::io::Result<()> {
    let label = if label.is_empty() {
        String::new()
    } else {
        format!("{label}:")
    };
    writeln!(out, "{label:<9}{text}")
}

/// The short advice: revoke a live token, the fix of each kind found, when to rotate, how to
/// allow a false positive, how to skip the check, where the rest is.
fn write_advice(
    out: &mut impl Write,
    outcome: &Outcome,
    catalog: &Catalog<'_>,
    switches: &Options,
    context: &Context,
) -> std::io::Result<()> {
    let providers = outcome.provider_keys(|_| true);
    let named = |key: &str, text: &str| match providers.len() {
        1 => text.to_string(),
        _ => format!("{}: {text}", catalog.provider(key).map_or(key, |p| p.name)),
    };
    for key in live_providers(outcome) {
        if let Some(provider) = catalog.provider(key) {
            let text = format!(
                "LIVE, the provider accepted it: revoke it now at {}",
                provider.revoke_url
            );
            labelled(out, "Revoke", &named(key, &text).red().bold().to_string())?;
        }
    }
    let mut fixes: Vec<String> = Vec::new();
    for (index, finding) in outcome.findings.iter().enumerate() {
        let fixable = switches.fixable.get(index).copied().unwrap_or(false);
        let kind = Kind::of(finding, fixable);
        let text = advice::fix(finding, kind, outcome, context);
        if !fixes.contains(&text) {
            fixes.push(text);
        }
    }
    for (index, text) in fixes.iter().enumerate() {
        labelled(
            out,
            if index == 0 { "Fix" } else { "" },
            &text.cyan().to_string(),
        )?;
    }
    for key in &providers {
        if let Some(provider) = catalog.provider(key) {
            let displayed = outcome
                .findings
                .iter()
                .any(|f| f.provider_key == *key && Kind::of(f, false) == Kind::NotebookOutput);
            let when = match displayed {
                true => "now (a notebook output showed it):",
                false => outcome.mode.wording().rotate,
            };
            labelled(
                out,
                "Rotate",
                &named(key, &format!("{when} {}", provider.revoke_url)),
            )?;
        }
    }
    let fingerprint = match outcome.findings.as_slice() {
        [only] => only.fingerprint.as_str(),
        _ => "FINGERPRINT",
    };
    labelled(
        out,
        "Allow",
        &format!(
            "{}{}",
            glue(&format!("tokenguard ignore {fingerprint} --reason \"...\"")).cyan(),
            if fingerprint == "FINGERPRINT" {
                "   (with its fingerprint, above)"
            } else {
                ""
            }
        ),
    )?;
    write_bypass(out, outcome.mode, context)?;
    if !(switches.verbose || context.detail == Detail::Full) {
        let rules: BTreeSet<&str> = outcome
            .findings
            .iter()
            .map(|f| f.rule_id.as_str())
            .collect();
        let explain: Vec<String> = rules
            .iter()
            .map(|id| glue(&format!("tokenguard explain {id}")).cyan().to_string())
            .collect();
        // A hook's command line is not the user's: name the command that shows it all.
        let verbose = match outcome.mode {
            Mode::Commit => format!(", or {}", glue("tokenguard scan-staged -v").cyan()),
            Mode::History | Mode::Files => ", or add -v".to_string(),
            Mode::Message | Mode::Push | Mode::Server => String::new(),
        };
        labelled(out, "More", &format!("{}{verbose}", explain.join(", ")))?;
    }
    Ok(())
}

/// The deliberate way past the check, for this mode and whoever runs tokenguard.
fn write_bypass(out: &mut impl Write, mode: Mode, context: &Context) -> std::io::Result<()> {
    let wording = mode.wording_for(context.hook);
    let Some(bypass) = wording.bypass else {
        return Ok(());
    };
    let text = match (context.framework, wording.framework_bypass) {
        (true, Some(skip)) => format!(
            "{}, or {}   (deliberately)",
            glue(skip).cyan(),
            glue(bypass).cyan()
        ),
        _ => format!("{}   (deliberately)", glue(bypass).cyan()),
    };
    labelled(out, "Bypass", &text)
}

fn live_providers(outcome: &Outcome) -> BTreeSet<&str> {
    outcome.provider_keys(|f| f.verification == Some(Status::Live))
}

/// `-v` or `detail = "full"`: each provider's whole rotation checklist and every way to
/// allow a line.
fn write_checklists(
    out: &mut impl Write,
    outcome: &Outcome,
    catalog: &Catalog<'_>,
) -> std::io::Result<()> {
    let providers = outcome.provider_keys(|_| true);
    for key in providers {
        let Some(provider) = catalog.provider(key) else {
            continue;
        };
        writeln!(out)?;
        writeln!(
            out,
            "Rotating a {} token ({}):",
            provider.name.bold(),
            provider.docs
        )?;
        for step in provider.steps {
            writeln!(out, "  - {step}")?;
        }
    }
    if outcome.findings.iter().any(|f| !f.part().is_message()) {
        writeln!(out)?;
        writeln!(
            out,
            "A false positive in a file can also be allowed on its line: put {} in a comment there ({} for the line after; {} and {} work too).",
            "tokenguard:allow".cyan(),
            "tokenguard:allow-next-line".cyan(),
            "pragma: allowlist secret".cyan(),
            "gitleaks:allow".cyan()
        )?;
    }
    Ok(())
}

fn write_warnings(out: &mut impl Write, outcome: &Outcome, verbose: bool) -> std::io::Result<()> {
    for warning in &outcome.warnings {
        if warning.kind.verbose_only() && !verbose {
            continue;
        }
        let label = match (warning.blocks, warning.kind) {
            (true, _) => "blocked",
            (false, kind) if kind.verbose_only() => "skipped",
            (false, _) => "warning",
        };
        // A credentials file: the command that untracks it, pasteable.
        let message = match warning.kind {
            WarningKind::SensitiveFile => {
                let path = advice::shell_word(&warning.path);
                format!(
                    "a file that holds credentials by convention is staged; keep it out of git: {} && {}",
                    glue(&format!("git rm --cached {path}")).cyan(),
                    glue(&format!("echo {path} >> .gitignore")).cyan()
                )
            }
            _ => warning.message.clone(),
        };
        writeln!(
            out,
            "tokenguard: {}: {}: {message}",
            label.yellow().bold(),
            quote(&warning.path).bold(),
        )?;
    }
    Ok(())
}
