//! What a scan counts, owned by the pipeline: what the collector scanned (files, lines,
//! bytes, messages) and what git's walk read or skipped, in the order the JSON report lists
//! them (`stats` in docs/schema/report.schema.json).

use serde::Serialize;

use crate::git::WalkStats;

/// Counts of what a scan read, scanned and skipped.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ScanStats {
    pub files_scanned: u64,
    /// Lines counted as added: every line of new files, and the diffs that were computed.
    pub added_lines: u64,
    pub bytes_scanned: u64,
    pub commits_scanned: u64,
    /// Commit and tag messages scanned.
    pub messages_scanned: u64,
    /// Modified files with no match of any rule: no line diff was needed to clear them.
    pub diffs_skipped: u64,
    pub binary_skipped: u64,
    pub too_large_skipped: u64,
    pub submodules_skipped: u64,
    pub symlinks_skipped: u64,
    pub deleted_files: u64,
    pub unmerged_skipped: u64,
}

impl ScanStats {
    /// Adds another collector's counts (scans run on several threads).
    pub fn add(&mut self, other: &ScanStats) {
        self.files_scanned += other.files_scanned;
        self.added_lines += other.added_lines;
        self.bytes_scanned += other.bytes_scanned;
        self.messages_scanned += other.messages_scanned;
        self.diffs_skipped += other.diffs_skipped;
        self.add_walk(&WalkStats {
            commits: other.commits_scanned,
            binary_skipped: other.binary_skipped,
            too_large_skipped: other.too_large_skipped,
            submodules_skipped: other.submodules_skipped,
            symlinks_skipped: other.symlinks_skipped,
            deleted_files: other.deleted_files,
            unmerged_skipped: other.unmerged_skipped,
        });
    }

    /// Adds what git's walk counted.
    pub fn add_walk(&mut self, walk: &WalkStats) {
        self.commits_scanned += walk.commits;
        self.binary_skipped += walk.binary_skipped;
        self.too_large_skipped += walk.too_large_skipped;
        self.submodules_skipped += walk.submodules_skipped;
        self.symlinks_skipped += walk.symlinks_skipped;
        self.deleted_files += walk.deleted_files;
        self.unmerged_skipped += walk.unmerged_skipped;
    }
}
