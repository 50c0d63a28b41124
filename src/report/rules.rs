//! `tokenguard rules`: the catalog as a table or as JSON.

use std::io::Write;

use serde::Serialize;

use super::catalog::Catalog;
use crate::detect::rules::{Confidence, Severity};

#[derive(Serialize)]
struct RuleRow<'a> {
    id: &'a str,
    provider: &'a str,
    severity: Severity,
    confidence: Confidence,
    description: &'a str,
    /// Where the format comes from, when the rule says.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    sources: &'a [String],
}

fn rows<'a>(catalog: &Catalog<'a>) -> Vec<RuleRow<'a>> {
    catalog
        .rules
        .iter()
        .map(|rule| RuleRow {
            id: rule.id,
            provider: catalog
                .provider(rule.provider)
                .map_or(rule.provider, |p| p.name),
            severity: rule.severity,
            confidence: rule.confidence,
            description: rule.description,
            sources: rule.sources,
        })
        .collect()
}

pub fn write_table(out: &mut impl Write, catalog: &Catalog<'_>) -> std::io::Result<()> {
    let rows = rows(catalog);
    let id_width = rows.iter().map(|r| r.id.len()).max().unwrap_or(2);
    let provider_width = rows.iter().map(|r| r.provider.len()).max().unwrap_or(8);
    writeln!(
        out,
        "{:id_width$}  {:provider_width$}  {:8}  {:10}  DESCRIPTION",
        "ID", "PROVIDER", "SEVERITY", "CONFIDENCE"
    )?;
    for row in rows {
        writeln!(
            out,
            "{:id_width$}  {:provider_width$}  {:8}  {:10}  {}",
            row.id,
            row.provider,
            format!("{:?}", row.severity).to_lowercase(),
            format!("{:?}", row.confidence).to_lowercase(),
            row.description
        )?;
    }
    Ok(())
}

pub fn write_json(out: &mut impl Write, catalog: &Catalog<'_>) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &rows(catalog))?;
    writeln!(out)
}

/// One row per provider: the README's table, generated so it cannot drift from the rules.
/// The live checks are listed from [`Catalog::with_live_checks`].
pub fn write_markdown(out: &mut impl Write, catalog: &Catalog<'_>) -> std::io::Result<()> {
    write_providers_markdown(out, catalog)?;
    writeln!(out)?;
    writeln!(out, "Live checks (`--verify` only):")?;
    writeln!(out)?;
    write_checks_markdown(out, catalog)
}

fn write_providers_markdown(out: &mut impl Write, catalog: &Catalog<'_>) -> std::io::Result<()> {
    writeln!(out, "| provider | rules | confidence | env vars | revoke |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for (key, provider) in &catalog.providers {
        let own: Vec<_> = catalog
            .rules
            .iter()
            .filter(|r| r.provider == *key)
            .collect();
        if own.is_empty() {
            continue;
        }
        let ids: Vec<String> = own.iter().map(|r| format!("`{}`", r.id)).collect();
        let mut confidences: Vec<String> = own
            .iter()
            .map(|r| format!("{:?}", r.confidence).to_lowercase())
            .collect();
        confidences.dedup();
        let vars: Vec<String> = provider.env_vars.iter().map(|v| format!("`{v}`")).collect();
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            provider.name,
            ids.join(", "),
            confidences.join(", "),
            vars.join(", "),
            provider.revoke_url
        )?;
    }
    Ok(())
}

/// The live checks `--verify` sends, one row per rule that has one: what goes where.
pub fn write_checks_markdown(out: &mut impl Write, catalog: &Catalog<'_>) -> std::io::Result<()> {
    writeln!(out, "| rule | request | credential sent as | live when |")?;
    writeln!(out, "|---|---|---|---|")?;
    for check in &catalog.checks {
        let verify = check.verify;
        let credential: Vec<String> = verify
            .headers
            .iter()
            .filter(|(_, v)| v.contains("{secret}") || v.contains("{basic:"))
            .map(|(k, v)| format!("`{k}: {v}`"))
            .chain(
                verify
                    .body
                    .iter()
                    .filter(|b| b.contains("{secret}"))
                    .map(|_| "request body".to_string()),
            )
            .collect();
        let live: Vec<String> = verify.live.iter().map(u16::to_string).collect();
        let keys = if verify.body_keys.is_empty() {
            String::new()
        } else {
            format!(" with `{}`", verify.body_keys.join("`, `"))
        };
        writeln!(
            out,
            "| `{}` | {:?} {} | {} | {}{} |",
            check.rule_id,
            verify.method,
            verify.url,
            credential.join(", "),
            live.join("/"),
            keys
        )?;
    }
    Ok(())
}
