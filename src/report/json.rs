//! The machine-readable report: one JSON document on stdout.

use std::io::Write;

use serde::Serialize;

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
}

pub fn write(out: &mut impl Write, outcome: &Outcome) -> std::io::Result<()> {
    let document = Document {
        schema_version: SCHEMA_VERSION,
        mode: outcome.mode,
        findings: &outcome.findings,
        warnings: &outcome.warnings,
        stats: &outcome.stats,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}
