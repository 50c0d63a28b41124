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

/// The lines of `new` that git's line diff (xdiff, through libgit2) marks as added against
/// `old`, 1-based. Needs no repository.
pub fn added_lines_between(old: &[u8], new: &[u8]) -> std::result::Result<AddedLines, git2::Error> {
    let mut options = DiffOptions::new();
    options.context_lines(0).force_text(true);
    let patch = Patch::from_buffers(old, None, new, None, Some(&mut options))?;
    // With no context lines, every new-side line of a hunk is an added line.
    let mut ranges = Vec::with_capacity(patch.num_hunks());
    for index in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(index)?;
        if hunk.new_lines() > 0 {
            let first = u64::from(hunk.new_start());
            ranges.push((first, first + u64::from(hunk.new_lines()) - 1));
        }
    }
    Ok(AddedLines::from_ranges(ranges))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_of_lines() {
        assert_eq!(line_similarity(b"a\nb\n", b"a\nb\n"), 1.0);
        assert_eq!(line_similarity(b"new dir\n", b"a\n"), 0.0);
        assert_eq!(line_similarity(b"a\nb\nc\nd\n", b"a\nb\nx\ny\n"), 0.5);
        assert_eq!(line_similarity(b"", b""), 0.0);
    }
}
