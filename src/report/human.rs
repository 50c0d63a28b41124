//! The report a developer reads when the hook blocks a commit or a push.

use std::collections::BTreeSet;
use std::io::Write;

use colored::Colorize;

use super::path::quote;
use super::{Mode, Outcome, plural, shallow_note, summary_line};
use crate::detect::rules::RuleSet;
use crate::finding::Status;
use crate::finding::{Finding, Part};

/// Where a finding is, as a reader looks for it: `path:line:column` in a file, the path
/// itself for a name, the message for a commit or tag message.
fn location(finding: &Finding) -> String {
    match finding.part {
        Part::Content => {
            let cell = finding
                .cell
                .as_ref()
                .map_or(String::new(), |cell| format!(" ({cell})"));
            format!(
                "{}:{}:{}{cell}",
                quote(&finding.path),
                finding.line,
                finding.column
            )
        }
        Part::Path | Part::SymlinkTarget => quote(&finding.path).to_string(),
        Part::CommitMessage => format!("commit message:{}:{}", finding.line, finding.column),
        Part::TagMessage => format!(
            "tag {} message:{}:{}",
            quote(finding.tag.as_deref().unwrap_or("")),
            finding.line,
            finding.column
        ),
    }
}

/// How much the human report says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Only the findings.
    pub quiet: bool,
    /// Also every skipped file and why.
    pub verbose: bool,
    /// `tokenguard fix` can replace at least one of the secrets by itself: name it first.
    pub suggest_fix: bool,
}

pub fn write(
    out: &mut impl Write,
    outcome: &Outcome,
    rules: &RuleSet,
    switches: Options,
) -> std::io::Result<()> {
    if switches.quiet {
        return outcome
            .findings
            .iter()
            .try_for_each(|finding| write_finding(out, finding));
    }
    write_warnings(out, outcome, switches.verbose)?;
    if outcome.findings.is_empty() {
        let verdict = if outcome.blocks() {
            format!(
                "tokenguard: {} by the warnings above.",
                blocked_what(outcome.mode)
            )
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
    let count = outcome.findings.len() as u64;
    let headline = match outcome.mode {
        Mode::Commit => format!(
            "commit blocked: {} in the staged change",
            plural(count, "secret")
        ),
        Mode::Push => format!(
            "push blocked: {} in the commits being pushed",
            plural(count, "secret")
        ),
        Mode::Server => format!(
            "push rejected: {} in the pushed commits",
            plural(count, "secret")
        ),
        Mode::History => format!("{} added in the scanned commits", plural(count, "secret")),
        Mode::Files => format!("{} in the scanned files", plural(count, "secret")),
        Mode::Message => format!(
            "commit blocked: {} in the commit message",
            plural(count, "secret")
        ),
    };
    writeln!(out, "{}", format!("tokenguard: {headline}").red().bold())?;
    writeln!(out)?;
    for finding in &outcome.findings {
        write_finding(out, finding)?;
    }
    write_remediation(out, outcome, rules, switches.suggest_fix)?;
    writeln!(out)?;
    writeln!(
        out,
        "False positive? Put {} in a comment on that line ({} for the line after; {} and {} work too),",
        "tokenguard:allow".cyan(),
        "tokenguard:allow-next-line".cyan(),
        "pragma: allowlist secret".cyan(),
        "gitleaks:allow".cyan()
    )?;
    writeln!(
        out,
        "or record its fingerprint: {}",
        "tokenguard ignore FINGERPRINT --reason \"...\"".cyan()
    )?;
    match outcome.mode {
        Mode::Commit | Mode::Message => writeln!(
            out,
            "To commit anyway, deliberately: {}",
            "git commit --no-verify".cyan()
        )?,
        Mode::Push => writeln!(
            out,
            "To push anyway, deliberately: {}",
            "git push --no-verify".cyan()
        )?,
        // A server-side hook cannot be skipped from the client; history and files block nothing.
        Mode::Server | Mode::History | Mode::Files => {}
    }
    writeln!(out)?;
    writeln!(out, "{}", summary_line(&outcome.stats, outcome.mode))?;
    write_shallow_note(out, outcome)
}

fn write_shallow_note(out: &mut impl Write, outcome: &Outcome) -> std::io::Result<()> {
    match shallow_note(&outcome.stats) {
        Some(note) => writeln!(out, "{}", note.yellow()),
        None => Ok(()),
    }
}

fn blocked_what(mode: Mode) -> &'static str {
    match mode {
        Mode::Commit | Mode::Message => "commit blocked",
        Mode::Push => "push blocked",
        Mode::Server => "push rejected",
        Mode::History | Mode::Files => "blocked",
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
    let commit = match (finding.commit.as_deref(), finding.shallow_boundary) {
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

/// What to do now (once, worded for what was scanned), then each provider's own steps.
fn write_remediation(
    out: &mut impl Write,
    outcome: &Outcome,
    rules: &RuleSet,
    suggest_fix: bool,
) -> std::io::Result<()> {
    let providers: BTreeSet<&str> = outcome
        .findings
        .iter()
        .map(|f| f.provider_key.as_str())
        .collect();
    let env_var = providers
        .iter()
        .filter_map(|key| rules.providers.get(*key))
        .find_map(|p| p.env_vars.first())
        .map_or("API_TOKEN", String::as_str);
    let first = &outcome.findings[0];
    let path = quote(&first.path);
    let replace = format!(
        "Replace it in the file with a read of an environment variable, e.g. \
         os.environ[\"{env_var}\"] (Python), process.env.{env_var} (JS), \"${env_var}\" (shell), \
         and keep the value in an untracked .env file or a secret manager."
    );

    writeln!(out)?;
    let live: BTreeSet<&str> = outcome
        .findings
        .iter()
        .filter(|f| f.verification == Some(Status::Live))
        .map(|f| f.provider_key.as_str())
        .collect();
    if !live.is_empty() {
        writeln!(
            out,
            "{}",
            "LIVE tokens: the provider accepted them. Revoke them now, before anything else:"
                .red()
                .bold()
        )?;
        for key in &live {
            if let Some(provider) = rules.providers.get(*key) {
                writeln!(out, "  - {}: {}", provider.name, provider.revoke_url)?;
            }
        }
        writeln!(out)?;
    }
    match outcome.mode {
        Mode::Commit => {
            writeln!(
                out,
                "{}",
                "The secret is only staged: it has not entered git history. To fix it:".bold()
            )?;
            let mut step = 1;
            if suggest_fix {
                writeln!(
                    out,
                    "  1. Let tokenguard do it: {} shows the change and what is left to do by hand, {} writes it (the value goes to an ignored .env, the file is re-staged).",
                    "tokenguard fix".cyan(),
                    "tokenguard fix --apply".cyan()
                )?;
                writeln!(out, "  2. Or by hand: {replace}")?;
                step = 2;
            } else {
                writeln!(out, "  1. {replace}")?;
            }
            writeln!(
                out,
                "  {}. Stage the fixed file again: git add {path}   (or unstage it: git restore --staged {path})",
                step + 1
            )?;
            writeln!(
                out,
                "  {}. If the token was ever shared, pushed, pasted or logged anywhere, treat it as leaked and rotate it:",
                step + 2
            )?;
        }
        Mode::Message => {
            writeln!(
                out,
                "{}",
                "The commit was not made: the token is only in the message you wrote. To fix it:"
                    .bold()
            )?;
            writeln!(
                out,
                "  If the token was ever shared, pushed, pasted or logged anywhere, treat it as leaked and rotate it:"
            )?;
        }
        Mode::Push => {
            let commit = first.commit.as_deref().unwrap_or("COMMIT");
            writeln!(
                out,
                "{}",
                "The secret is in local commits that have not been pushed. To fix it:".bold()
            )?;
            writeln!(out, "  1. {replace}")?;
            writeln!(
                out,
                "  2. Rewrite the commits that add it, e.g. git rebase -i {commit}^ (edit the commit, fix the file, git commit --amend, git rebase --continue), then push again."
            )?;
            writeln!(
                out,
                "  3. If the token was ever shared, pushed elsewhere, pasted or logged, treat it as leaked and rotate it:"
            )?;
        }
        Mode::Server => {
            let commit = first.commit.as_deref().unwrap_or("COMMIT");
            writeln!(
                out,
                "{}",
                "The server rejected the push: nothing of it was stored. To fix the pushed commits:"
                    .bold()
            )?;
            writeln!(out, "  1. {replace}")?;
            writeln!(
                out,
                "  2. In your clone, rewrite the commits that add it, e.g. git rebase -i {commit}^ (edit the commit, fix the file, git commit --amend, git rebase --continue); every commit listed above needs the fix."
            )?;
            writeln!(
                out,
                "  3. Push again. The token left your machine in this push: treat it as leaked and rotate it:"
            )?;
        }
        Mode::History | Mode::Files => {
            writeln!(
                out,
                "{}",
                "The secret is in the repository. Treat it as leaked once it has been pushed or shared:".bold()
            )?;
            writeln!(
                out,
                "  1. Revoke and rotate it now (below): removing it from git does not un-leak it."
            )?;
            writeln!(out, "  2. {replace}")?;
            writeln!(
                out,
                "  3. If the history must not keep it, rewrite it (git filter-repo --replace-text) and have every clone re-fetch."
            )?;
        }
    }
    write_part_steps(out, outcome)?;
    for key in providers {
        let Some(provider) = rules.providers.get(key) else {
            continue;
        };
        writeln!(out)?;
        writeln!(out, "  {} ({})", provider.name.bold(), provider.docs)?;
        for step in provider.steps.iter() {
            writeln!(out, "    - {step}")?;
        }
    }
    Ok(())
}

/// What to do about a secret outside a file's content: in a name, a commit or tag message.
fn write_part_steps(out: &mut impl Write, outcome: &Outcome) -> std::io::Result<()> {
    let has = |part: Part| outcome.findings.iter().find(|f| f.part == part);
    if has(Part::Path).is_some() || has(Part::SymlinkTarget).is_some() {
        writeln!(
            out,
            "  A token in a file name or a symlink's target: rename the file (git mv) or point the link elsewhere (ln -sfn), so that no name holds it; for commits already made, rewrite them as above."
        )?;
    }
    if let Some(finding) = has(Part::CommitMessage) {
        if outcome.mode == Mode::Message {
            writeln!(
                out,
                "  The token is in the commit message, and the commit was not made: write the message again without it (git commit -e -F .git/COMMIT_EDITMSG starts from what you wrote)."
            )?;
        } else {
            let commit = finding.commit.as_deref().unwrap_or("COMMIT");
            writeln!(
                out,
                "  A token in a commit message: reword that commit (git rebase -i {commit}^, mark it reword) and push again."
            )?;
        }
    }
    if let Some(finding) = outcome
        .findings
        .iter()
        .find(|f| f.cell.as_ref().is_some_and(|cell| cell.output.is_some()))
    {
        let path = quote(&finding.path);
        let then = match outcome.mode {
            Mode::Commit => "stage the notebook again",
            _ => "commit that, and rewrite the commits that added the output as above",
        };
        writeln!(
            out,
            "  A token in a notebook's output: it was displayed, so rotate it (below) whatever else you do. Clear the outputs (jupyter nbconvert --clear-output --inplace {path}, or nbstripout {path}; nbstripout --install clears them on every commit from then on), fix the code that printed it, and {then}."
        )?;
    }
    if let Some(finding) = has(Part::TagMessage) {
        let tag = quote(finding.tag.as_deref().unwrap_or("TAG"));
        writeln!(
            out,
            "  A token in a tag message: delete the tag and tag again with a clean message (git tag -d {tag}, then git tag -a {tag} COMMIT); a tag already on a remote must be deleted there too (git push --delete origin {tag})."
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
        writeln!(
            out,
            "tokenguard: {}: {}: {}",
            label.yellow().bold(),
            quote(&warning.path).bold(),
            warning.message
        )?;
    }
    Ok(())
}
