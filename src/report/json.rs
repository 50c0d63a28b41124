//! The machine-readable report: one JSON document on stdout.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::catalog::{Catalog, ProviderView};
use super::{Mode, Outcome, Stats, Warning};

/// Bumped when a field changes meaning or disappears; new fields may appear in any version.
pub const SCHEMA_VERSION: u32 = 1;
use crate::finding::Finding;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    mode: Mode,
    findings: &'a [Finding],
    warnings: &'a [Warning],
    stats: &'a Stats,
    /// By the findings' rule ids: the provider, where to revoke and the whole rotation
    /// checklist.
    remediation: BTreeMap<&'a str, &'a ProviderView<'a>>,
}

/// The document; `catalog` holds at least the findings' rules.
pub fn write(
    out: &mut impl Write,
    outcome: &Outcome,
    catalog: &Catalog<'_>,
) -> std::io::Result<()> {
    let document = Document {
        schema_version: SCHEMA_VERSION,
        mode: outcome.mode,
        findings: &outcome.findings,
        warnings: &outcome.warnings,
        stats: &outcome.stats,
        remediation: (outcome.findings.iter())
            .filter_map(|f| {
                let rule = catalog.rule(&f.rule_id)?;
                Some((rule.id, catalog.provider(rule.provider)?))
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}
