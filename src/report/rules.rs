//! `tokenguard rules`: the catalog as a table or as JSON.

use std::io::Write;

use serde::Serialize;

use crate::rules::{Confidence, RuleSet, Severity};

#[derive(Serialize)]
struct RuleRow<'a> {
    id: &'a str,
    provider: &'a str,
    severity: Severity,
    confidence: Confidence,
    description: &'a str,
}

fn rows(rules: &RuleSet) -> Vec<RuleRow<'_>> {
    rules
        .rules
        .iter()
        .map(|rule| RuleRow {
            id: rule.id(),
            provider: &rules.provider(rule).name,
            severity: rule.spec.severity,
            confidence: rule.spec.confidence,
            description: &rule.spec.description,
        })
        .collect()
}

pub fn write_table(out: &mut impl Write, rules: &RuleSet) -> std::io::Result<()> {
    let rows = rows(rules);
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

pub fn write_json(out: &mut impl Write, rules: &RuleSet) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &rows(rules))?;
    writeln!(out)
}

/// One row per provider: the README's table, generated so it cannot drift from the rules.
pub fn write_markdown(out: &mut impl Write, rules: &RuleSet) -> std::io::Result<()> {
    writeln!(out, "| provider | rules | confidence | env vars | revoke |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for (key, provider) in &rules.providers {
        let own: Vec<_> = rules
            .rules
            .iter()
            .filter(|r| &r.spec.provider == key)
            .collect();
        if own.is_empty() {
            continue;
        }
        let ids: Vec<String> = own.iter().map(|r| format!("`{}`", r.id())).collect();
        let mut confidences: Vec<String> = own
            .iter()
            .map(|r| format!("{:?}", r.spec.confidence).to_lowercase())
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
