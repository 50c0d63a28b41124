//! `tokenguard explain`: everything about one rule, or one staged finding, that the short
//! blocked-commit report leaves out: the provider's whole rotation checklist, where the
//! format comes from and every way to allow a false positive.

use std::io::Write;

use colored::Colorize;

use super::catalog::{ProviderView, RuleView};
use super::path::quote;
use crate::finding::Finding;

/// Writes what `explain` says about `rule` (of `provider`); `finding` when the user named one
/// by its fingerprint.
pub fn write(
    out: &mut impl Write,
    rule: &RuleView<'_>,
    provider: Option<&ProviderView<'_>>,
    finding: Option<&Finding>,
) -> std::io::Result<()> {
    writeln!(out, "{}: {}", rule.id.bold(), rule.description)?;
    if let Some(finding) = finding {
        let place = match finding.part().is_message() {
            true => finding.part().label().to_string(),
            false => format!(
                "{}:{}:{}",
                quote(finding.path()),
                finding.line,
                finding.column
            ),
        };
        writeln!(
            out,
            "  finding     {place}, secret {}, fingerprint {}",
            finding.secret_redacted, finding.fingerprint
        )?;
    }
    let level = |text: String| text.to_lowercase();
    writeln!(
        out,
        "  severity    {}, confidence {}",
        level(format!("{:?}", rule.severity)),
        level(format!("{:?}", rule.confidence))
    )?;
    if let Some(provider) = provider {
        writeln!(out, "  provider    {}", provider.name)?;
        if !provider.env_vars.is_empty() {
            writeln!(out, "  variables   {}", provider.env_vars.join(", "))?;
        }
        writeln!(out, "  docs        {}", provider.docs)?;
        writeln!(out, "  revoke      {}", provider.revoke_url)?;
    }
    for source in rule.sources {
        writeln!(out, "  source      {source}")?;
    }
    if let Some(provider) = provider {
        writeln!(out)?;
        writeln!(out, "Rotating a {} token:", provider.name)?;
        for step in provider.steps {
            writeln!(out, "  - {step}")?;
        }
    }
    writeln!(out)?;
    writeln!(out, "Not a secret?")?;
    let fingerprint = finding.map_or("FINGERPRINT", |f| f.fingerprint.as_str());
    writeln!(
        out,
        "  - record it: {}",
        format!("tokenguard ignore {fingerprint} --reason \"...\"").cyan()
    )?;
    writeln!(
        out,
        "  - or, in a file, put {} in a comment on its line ({} for the line after; {} and {} work too); git strips # lines from a commit message, so a message takes the fingerprint",
        "tokenguard:allow".cyan(),
        "tokenguard:allow-next-line".cyan(),
        "pragma: allowlist secret".cyan(),
        "gitleaks:allow".cyan()
    )?;
    writeln!(
        out,
        "  - or turn the rule off for a repository, in .tokenguard.toml: {}",
        format!("disable = [\"{}\"]", rule.id).cyan()
    )
}
