//! How two blobs differ: the lines one adds to the other (git's own xdiff, through libgit2),
//! and how alike two files are (to pair a moved file with the file it was moved from).

use git2::{DiffOptions, Oid, Patch};

use super::Repo;
use crate::detect::lines::AddedLines;
use crate::error::{Error, Result};

pub(super) fn extension(path: &[u8]) -> &[u8] {
    let name = path.rsplit(|b| *b == b'/').next().unwrap_or(path);
    match memchr::memrchr(b'.', name) {
        Some(dot) if dot > 0 => &name[dot..],
        _ => b"",
    }
}

/// Lines without their terminator; a final newline does not start another line.
fn text_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let empty = text.is_empty();
    text.split(|byte| *byte == b'\n').filter(move |_| !empty)
}

/// Share of lines two texts have in common, as 2 * common / (lines of a + lines of b).
pub(super) fn line_similarity(a: &[u8], b: &[u8]) -> f64 {
    use std::collections::HashMap;
    let mut counts: HashMap<&[u8], i64> = HashMap::new();
    let mut total = 0usize;
    for line in text_lines(a) {
        *counts.entry(line).or_default() += 1;
        total += 1;
    }
    let mut common = 0usize;
    for line in text_lines(b) {
        total += 1;
        if let Some(count) = counts.get_mut(line).filter(|c| **c > 0) {
            *count -= 1;
            common += 1;
        }
    }
    if total == 0 {
        0.0
    } else {
        2.0 * common as f64 / total as f64
    }
}

impl Repo {
    /// The lines `new` adds to the blob `old`: all of them when there is no old blob, else the
    /// `+` side of git's own line diff (xdiff, through libgit2).
    pub(super) fn added_lines(
        &self,
        old: Option<Oid>,
        new: &[u8],
        path: &str,
    ) -> Result<AddedLines> {
        let Some(old_id) = old else {
            return Ok(AddedLines::All);
        };
        let old = self.repo.find_blob(old_id).map_err(Error::git(format!(
            "cannot read the committed blob {old_id} of {path}"
        )))?;
        added_lines_between(old.content(), new)
            .map_err(|source| Error::git(format!("cannot diff {path}"))(source))
    }
}

/// Above this many bytes (old and new together), the lines both blobs share at their start
/// and end are cut off before xdiff sees them. xdiff keeps a record and a hash entry for every
/// line of both sides, about 80 bytes a line: a 500 MB file of short lines cost 1.3 GB on top
/// of its two versions. xdiff trims the same common ends itself, only after recording them,
/// so the same lines count as added (where a hunk could slide through a run of identical
/// lines, xdiff may mark another of those identical lines); smaller blobs keep xdiff's path.
const TRIM_ENDS_ABOVE: usize = 4 << 20;

/// The lines of `new` that git's line diff (xdiff, through libgit2) marks as added against
/// `old`, 1-based. Needs no repository. Memory beyond the two blobs is bounded by the changed
/// region (from the first to the last differing line) for blobs over 4 MiB.
pub fn added_lines_between(old: &[u8], new: &[u8]) -> std::result::Result<AddedLines, git2::Error> {
    let (skipped_lines, old, new) = if old.len() + new.len() > TRIM_ENDS_ABOVE {
        trim_common_lines(old, new)
    } else {
        (0, old, new)
    };
    let mut options = DiffOptions::new();
    options.context_lines(0).force_text(true);
    let patch = Patch::from_buffers(old, None, new, None, Some(&mut options))?;
    // With no context lines, every new-side line of a hunk is an added line.
    let mut ranges = Vec::with_capacity(patch.num_hunks());
    for index in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(index)?;
        if hunk.new_lines() > 0 {
            let first = u64::from(hunk.new_start()) + skipped_lines;
            ranges.push((first, first + u64::from(hunk.new_lines()) - 1));
        }
    }
    Ok(AddedLines::from_ranges(ranges))
}

/// Where two texts stop sharing whole lines: the bytes of the lines both start with, and the
/// offsets in each where the lines both end with begin (no line counts in both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommonEnds {
    pub prefix: usize,
    pub old_suffix: usize,
    pub new_suffix: usize,
}

/// The whole lines `old` and `new` share at their start and at their end.
pub fn common_ends(old: &[u8], new: &[u8]) -> CommonEnds {
    let (_, old_middle, new_middle) = trim_common_lines(old, new);
    let offset = |text: &[u8], part: &[u8]| part.as_ptr() as usize - text.as_ptr() as usize;
    CommonEnds {
        prefix: offset(new, new_middle),
        old_suffix: offset(old, old_middle) + old_middle.len(),
        new_suffix: offset(new, new_middle) + new_middle.len(),
    }
}

/// Cuts the whole lines `old` and `new` share at their start and at their end; returns how
/// many lines were cut from the start, and the two middles.
fn trim_common_lines<'a>(old: &'a [u8], new: &'a [u8]) -> (u64, &'a [u8], &'a [u8]) {
    const CHUNK: usize = 4096;
    let limit = old.len().min(new.len());
    // Common prefix, a page at a time (memcmp), then byte by byte.
    let mut same = 0;
    while same + CHUNK <= limit && old[same..same + CHUNK] == new[same..same + CHUNK] {
        same += CHUNK;
    }
    while same < limit && old[same] == new[same] {
        same += 1;
    }
    // Back to the end of the last whole common line.
    let start = memchr::memrchr(b'\n', &old[..same]).map_or(0, |at| at + 1);
    let (old_rest, new_rest) = (&old[start..], &new[start..]);
    let limit = old_rest.len().min(new_rest.len());
    let mut tail = 0;
    while tail + CHUNK <= limit
        && old_rest[old_rest.len() - tail - CHUNK..old_rest.len() - tail]
            == new_rest[new_rest.len() - tail - CHUNK..new_rest.len() - tail]
    {
        tail += CHUNK;
    }
    while tail < limit && old_rest[old_rest.len() - tail - 1] == new_rest[new_rest.len() - tail - 1]
    {
        tail += 1;
    }
    // Forward to the start of the first whole common line of the tail: just after a newline
    // that both sides share (or at the middle's start).
    let tail_start = new_rest.len() - tail;
    let keep = match memchr::memchr(b'\n', &new_rest[tail_start..]) {
        _ if tail_start == 0 || new_rest[tail_start - 1] == b'\n' => tail,
        Some(at) => tail - at - 1,
        None => 0,
    };
    let skipped_lines = memchr::memchr_iter(b'\n', &old[..start]).count() as u64;
    (
        skipped_lines,
        &old_rest[..old_rest.len() - keep],
        &new_rest[..new_rest.len() - keep],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cutting the common ends adds the same lines as xdiff on the whole blobs. Where a hunk
    /// could slide through a run of identical lines, xdiff may pick another of them (its
    /// slider heuristics see the cut lines), so the lines are compared by content.
    #[test]
    fn trimmed_diffs_match_whole_diffs() {
        let body: Vec<String> = (0..300).map(|i| format!("line {}\n", i % 7)).collect();
        let base = body.concat();
        let mut cases: Vec<(String, String)> = Vec::new();
        let edit = |at: usize, text: &str| {
            let mut lines = body.clone();
            lines[at] = text.to_string();
            lines.concat()
        };
        cases.push((base.clone(), edit(150, "changed\n")));
        cases.push((base.clone(), edit(0, "first\n")));
        cases.push((base.clone(), edit(299, "last\n")));
        cases.push((base.clone(), format!("{base}appended")));
        cases.push((format!("{base}x"), format!("{base}y")));
        cases.push((base.clone(), format!("new start\n{base}")));
        cases.push((base.clone(), base.replace("line 3\n", "line 3\nline 3\n")));
        cases.push((String::new(), base.clone()));
        cases.push((base.clone(), String::new()));
        cases.push((base.clone(), base.clone()));
        for (old, new) in cases {
            let (skipped, o, n) = trim_common_lines(old.as_bytes(), new.as_bytes());
            let lines: Vec<&str> = new.lines().collect();
            let text = |numbers: Vec<u64>| -> Vec<&str> {
                numbers.iter().map(|n| lines[*n as usize - 1]).collect()
            };
            let trimmed: Vec<u64> = added(o, n).iter().map(|line| line + skipped).collect();
            let whole = added(old.as_bytes(), new.as_bytes());
            assert_eq!(text(trimmed), text(whole), "{old:?} -> {new:?}");
        }
    }

    /// The added line numbers by xdiff on exactly these buffers (both are under the trimming
    /// threshold).
    fn added(old: &[u8], new: &[u8]) -> Vec<u64> {
        let lines = added_lines_between(old, new).unwrap();
        let total = new.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64;
        (1..=total.max(1))
            .filter(|n| lines.contains(*n) && *n <= total)
            .collect()
    }

    #[test]
    fn similarity_of_lines() {
        assert_eq!(line_similarity(b"a\nb\n", b"a\nb\n"), 1.0);
        assert_eq!(line_similarity(b"new dir\n", b"a\n"), 0.0);
        assert_eq!(line_similarity(b"a\nb\nc\nd\n", b"a\nb\nx\ny\n"), 0.5);
        assert_eq!(line_similarity(b"", b""), 0.0);
    }
}
