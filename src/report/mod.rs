//! Reports: each writes one outcome to any `impl Write`; nothing here decides anything.

use serde::Serialize;

use crate::finding::Finding;
use crate::staged::StagedStats;

pub mod human;
pub mod json;
pub mod rules;

/// Everything a scan found and counted.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub stats: Stats,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    #[serde(flatten)]
    pub staged: StagedStats,
    /// Findings silenced by an inline allow comment.
    pub suppressed_inline: usize,
}

/// "1 file" / "2 files".
fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The closing line of every report: what was scanned and what was skipped.
pub fn summary_line(stats: &Stats) -> String {
    let s = &stats.staged;
    let mut line = format!(
        "scanned {} ({}, {} bytes)",
        plural(s.files_scanned, "staged file"),
        plural(s.added_lines, "added line"),
        s.bytes_scanned
    );
    let skipped: Vec<String> = [
        (s.binary_skipped, "binary file"),
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
    if stats.suppressed_inline > 0 {
        line.push_str(&format!(
            "; {} allowed by inline comment",
            plural(stats.suppressed_inline as u64, "finding")
        ));
    }
    line
}
