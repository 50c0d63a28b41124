//! The set of line numbers a change adds to a blob, as sorted ranges.

/// 1-based line numbers of the new blob that the change adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddedLines {
    /// Every line: the file is new (or was a symlink or binary before).
    All,
    /// Inclusive, sorted, non-overlapping ranges.
    Ranges(Vec<(u64, u64)>),
}

impl AddedLines {
    /// Builds the set from inclusive ranges in any order.
    pub fn from_ranges(mut ranges: Vec<(u64, u64)>) -> AddedLines {
        ranges.retain(|(first, last)| first <= last);
        ranges.sort_unstable();
        AddedLines::Ranges(ranges)
    }

    /// True when `line` (1-based) is added.
    pub fn contains(&self, line: u64) -> bool {
        match self {
            AddedLines::All => true,
            AddedLines::Ranges(ranges) => {
                let i = ranges.partition_point(|(first, _)| *first <= line);
                i > 0 && ranges[i - 1].1 >= line
            }
        }
    }

    /// Lines added in both sets: during a merge a line is new only when it is new against
    /// every parent.
    pub fn intersect(&self, other: &AddedLines) -> AddedLines {
        match (self, other) {
            (AddedLines::All, x) | (x, AddedLines::All) => x.clone(),
            (AddedLines::Ranges(a), AddedLines::Ranges(b)) => {
                let mut out = Vec::new();
                let (mut i, mut j) = (0, 0);
                while i < a.len() && j < b.len() {
                    let first = a[i].0.max(b[j].0);
                    let last = a[i].1.min(b[j].1);
                    if first <= last {
                        out.push((first, last));
                    }
                    if a[i].1 < b[j].1 {
                        i += 1;
                    } else {
                        j += 1;
                    }
                }
                AddedLines::Ranges(out)
            }
        }
    }

    /// True when nothing is added (a pure rename, a removal-only edit).
    pub fn is_empty(&self) -> bool {
        matches!(self, AddedLines::Ranges(r) if r.is_empty())
    }

    /// How many lines are added; `total_lines` is the blob's line count, used for `All`.
    pub fn count(&self, total_lines: u64) -> u64 {
        match self {
            AddedLines::All => total_lines,
            AddedLines::Ranges(ranges) => ranges.iter().map(|(a, b)| b - a + 1).sum(),
        }
    }
}

/// Number of lines in `content` as git counts them (a last line without newline counts).
pub fn line_count(content: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', content).count() as u64;
    match content.last() {
        None => 0,
        Some(b'\n') => newlines,
        Some(_) => newlines + 1,
    }
}

/// The byte offset of 1-based `line` and byte `column` in `content`, if it lies inside.
pub fn offset_of(content: &[u8], line: u64, column: u64) -> Option<usize> {
    let skip = usize::try_from(line.checked_sub(1)?).ok()?;
    let line_start = match skip {
        0 => 0,
        n => memchr::memchr_iter(b'\n', content).nth(n - 1)? + 1,
    };
    let offset = line_start.checked_add(usize::try_from(column.checked_sub(1)?).ok()?)?;
    (offset < content.len()).then_some(offset)
}

/// The start of the line `at` sits on.
pub(crate) fn line_start(content: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &content[..at]).map_or(0, |i| i + 1)
}

/// `at` when a line starts there, else the start of the next line (the end when none).
pub(crate) fn next_line_start(content: &[u8], at: usize) -> usize {
    if at == 0 || content[at - 1] == b'\n' {
        return at;
    }
    memchr::memchr(b'\n', &content[at..]).map_or(content.len(), |i| at + i + 1)
}

/// The bounds of the line `at` sits on, without its newline.
pub(crate) fn line_bounds(content: &[u8], at: usize) -> std::ops::Range<usize> {
    let start = line_start(content, at);
    let end = memchr::memchr(b'\n', &content[at..]).map_or(content.len(), |i| at + i);
    start..end
}

/// The line before the one starting at `line_start`, if there is one.
pub(crate) fn previous_line(content: &[u8], line_start: usize) -> Option<&[u8]> {
    let end = line_start.checked_sub(1)?;
    let start = memchr::memrchr(b'\n', &content[..end]).map_or(0, |i| i + 1);
    Some(&content[start..end])
}

/// Turns increasing byte offsets into 1-based line numbers with one pass over the content.
#[derive(Debug, Default)]
pub(crate) struct LineCursor {
    offset: usize,
    line: u64,
    line_start: usize,
}

impl LineCursor {
    /// Line number and line start of `offset`; offsets must not decrease.
    pub(crate) fn advance(&mut self, content: &[u8], offset: usize) -> (u64, usize) {
        if self.line == 0 {
            self.line = 1;
        }
        for newline in memchr::memchr_iter(b'\n', &content[self.offset..offset]) {
            self.line += 1;
            self.line_start = self.offset + newline + 1;
        }
        self.offset = offset;
        (self.line, self.line_start)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_cursor_counts_crlf_and_long_lines() {
        let content = b"ab\r\ncd\r\n\r\nxyz";
        let mut cursor = LineCursor::default();
        assert_eq!(cursor.advance(content, 1), (1, 0));
        assert_eq!(cursor.advance(content, 4), (2, 4));
        assert_eq!(cursor.advance(content, 11), (4, 10));
    }

    use super::*;

    #[test]
    fn membership() {
        let set = AddedLines::from_ranges(vec![(10, 12), (3, 3), (20, 19)]);
        let cases = [
            (1, false),
            (3, true),
            (4, false),
            (10, true),
            (12, true),
            (13, false),
            (20, false),
        ];
        for (line, expected) in cases {
            assert_eq!(set.contains(line), expected, "line {line}");
        }
        assert_eq!(set.count(100), 4);
        assert!(AddedLines::All.contains(1_000_000));
        assert!(AddedLines::from_ranges(vec![]).is_empty());
    }

    #[test]
    fn intersections() {
        let a = AddedLines::from_ranges(vec![(1, 5), (10, 20)]);
        let b = AddedLines::from_ranges(vec![(4, 12), (18, 30)]);
        assert_eq!(
            a.intersect(&b),
            AddedLines::from_ranges(vec![(4, 5), (10, 12), (18, 20)])
        );
        assert_eq!(AddedLines::All.intersect(&b), b);
        assert!(a.intersect(&AddedLines::from_ranges(vec![])).is_empty());
    }

    #[test]
    fn offsets_of_lines_and_columns() {
        let content = b"ab\ncde\n\nf";
        let cases = [
            ((1, 1), Some(0)),
            ((1, 2), Some(1)),
            ((2, 3), Some(5)),
            ((4, 1), Some(8)),
            ((4, 2), None),
            ((5, 1), None),
            ((0, 1), None),
            ((1, 0), None),
        ];
        for ((line, column), expected) in cases {
            assert_eq!(
                offset_of(content, line, column),
                expected,
                "{line}:{column}"
            );
        }
    }

    #[test]
    fn line_counts() {
        let cases: [(&[u8], u64); 5] = [
            (b"", 0),
            (b"a", 1),
            (b"a\n", 1),
            (b"a\r\nb", 2),
            (b"\n\n", 2),
        ];
        for (content, expected) in cases {
            assert_eq!(line_count(content), expected, "{content:?}");
        }
    }
}
