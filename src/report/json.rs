//! The machine-readable report: one JSON document on stdout.

use std::io::Write;

use serde::Serialize;

use super::{Outcome, Stats, Warning};
use crate::finding::Finding;

#[derive(Serialize)]
struct Document<'a> {
    findings: &'a [Finding],
    warnings: &'a [Warning],
    stats: &'a Stats,
}

pub fn write(out: &mut impl Write, outcome: &Outcome) -> std::io::Result<()> {
    let document = Document {
        findings: &outcome.findings,
        warnings: &outcome.warnings,
        stats: &outcome.stats,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}
