//! The report a developer reads when the hook blocks a commit.

use std::collections::BTreeSet;
use std::io::Write;

use colored::Colorize;

use super::{Outcome, plural, summary_line};
use crate::rules::RuleSet;

pub fn write(out: &mut impl Write, outcome: &Outcome, rules: &RuleSet) -> std::io::Result<()> {
    write_warnings(out, outcome)?;
    if outcome.findings.is_empty() {
        let verdict = if outcome.blocks() {
            "tokenguard: commit blocked by the warnings above."
                .red()
                .bold()
        } else {
            "tokenguard: no secrets added.".green()
        };
        return writeln!(out, "{verdict} {}", summary_line(&outcome.stats));
    }
    let count = outcome.findings.len() as u64;
    writeln!(
        out,
        "{}",
        format!(
            "tokenguard: commit blocked: {} in the staged change",
            plural(count, "secret")
        )
        .red()
        .bold()
    )?;
    writeln!(out)?;
    for finding in &outcome.findings {
        writeln!(
            out,
            "  {}  {}  {}  {}",
            format!("{}:{}:{}", finding.path, finding.line, finding.column).bold(),
            finding.rule_id.yellow(),
            finding.provider,
            format!("{:?}", finding.severity).to_lowercase().red()
        )?;
        writeln!(
            out,
            "      secret {}  fingerprint {}",
            finding.secret_redacted.dimmed(),
            finding.fingerprint.dimmed()
        )?;
    }
    write_remediation(out, outcome, rules)?;
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
    writeln!(
        out,
        "To commit anyway, deliberately: {}",
        "git commit --no-verify".cyan()
    )?;
    writeln!(out)?;
    writeln!(out, "{}", summary_line(&outcome.stats))
}

/// What to do now (once), then each provider's own steps (once per provider).
fn write_remediation(
    out: &mut impl Write,
    outcome: &Outcome,
    rules: &RuleSet,
) -> std::io::Result<()> {
    let providers: BTreeSet<&str> = outcome
        .findings
        .iter()
        .map(|f| f.provider_key.as_str())
        .collect();
    let paths: BTreeSet<&str> = outcome.findings.iter().map(|f| f.path.as_str()).collect();
    let env_var = providers
        .iter()
        .filter_map(|key| rules.providers.get(*key))
        .find_map(|p| p.env_vars.first())
        .map_or("API_TOKEN", String::as_str);
    let first_path = paths.iter().next().copied().unwrap_or("FILE");

    writeln!(out)?;
    writeln!(
        out,
        "{}",
        "The secret is only staged: it has not entered git history. To fix it:".bold()
    )?;
    writeln!(
        out,
        "  1. Replace it in the file with a read of an environment variable, e.g. \
         os.environ[\"{env_var}\"] (Python), process.env.{env_var} (JS), \"${env_var}\" (shell), \
         and keep the value in an untracked .env file or a secret manager."
    )?;
    writeln!(
        out,
        "  2. Stage the fixed file again: git add {first_path}   (or unstage it: git restore --staged {first_path})"
    )?;
    writeln!(
        out,
        "  3. If the token was ever shared, pushed, pasted or logged anywhere, treat it as leaked and rotate it:"
    )?;
    for key in providers {
        let Some(provider) = rules.providers.get(key) else {
            continue;
        };
        writeln!(out)?;
        writeln!(out, "  {} ({})", provider.name.bold(), provider.docs)?;
        for step in &provider.steps {
            writeln!(out, "    - {step}")?;
        }
    }
    Ok(())
}

fn write_warnings(out: &mut impl Write, outcome: &Outcome) -> std::io::Result<()> {
    for warning in &outcome.warnings {
        let label = if warning.blocks { "blocked" } else { "warning" };
        writeln!(
            out,
            "tokenguard: {}: {}: {}",
            label.yellow().bold(),
            warning.path.bold(),
            warning.message
        )?;
    }
    Ok(())
}
