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

#[cfg(test)]
mod tests {
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
