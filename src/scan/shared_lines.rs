//! Which lines two versions of a file share, for [`super::region`]: the common first and last
//! lines, and between them lines paired greedily, in order: equal lines in step, or a line
//! found exactly once in the old middle, which skips the old lines before it. Not a minimal
//! diff (no finding depends on it): every run pairs whole lines with the same hashes, under
//! a key drawn at random for the scan. The old version is known by its line hashes alone
//! ([`Lines`]), kept from when it was searched: it is not inflated and read again.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::ops::Range;

/// Whole lines both versions hold: from line `old_line` (0-based) of the old version and from
/// byte `new` of the new one, `len` bytes, `lines` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) old_line: usize,
    pub(crate) new: usize,
    pub(crate) len: usize,
    lines: usize,
}

/// A version's lines and their hashes, kept in place of its bytes for pairing it with the
/// next version.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lines {
    /// Each line's span, with its line break.
    spans: Vec<Range<usize>>,
    hashes: Vec<u64>,
}

impl Lines {
    /// The lines of `text`, hashed with `key`, in one pass eight bytes at a time: each line's
    /// bytes in words of eight from its start, the last one padded with zeros.
    pub(crate) fn of(text: &[u8], key: LineKey) -> Lines {
        const ONES: u64 = 0x0101_0101_0101_0101;
        let expected = text.len() / 32 + 1;
        let mut lines = Lines {
            spans: Vec::with_capacity(expected),
            hashes: Vec::with_capacity(expected),
        };
        let (mut start, mut at, mut state) = (0, 0, key.0);
        while at + 8 <= text.len() {
            let word = u64::from_le_bytes(text[at..at + 8].try_into().expect("eight bytes"));
            let x = word ^ (ONES * u64::from(b'\n'));
            // The lowest byte of x that is zero is the first line break (later ones may be
            // marked wrongly, and are not read).
            let breaks = x.wrapping_sub(ONES) & !x & (ONES << 7);
            if breaks == 0 {
                state = key.fold(state ^ word);
                at += 8;
                continue;
            }
            let taken = (breaks.trailing_zeros() / 8) as usize + 1;
            state = key.fold(state ^ (word & low_bytes(taken)));
            at += taken;
            lines.push(start..at, key.finish(state, at - start));
            (start, state) = (at, key.0);
        }
        for piece in text[at..].split_inclusive(|&byte| byte == b'\n') {
            let mut tail = [0u8; 8];
            tail[..piece.len()].copy_from_slice(piece);
            state = key.fold(state ^ u64::from_le_bytes(tail));
            at += piece.len();
            if piece.ends_with(b"\n") {
                lines.push(start..at, key.finish(state, at - start));
                (start, state) = (at, key.0);
            }
        }
        if start < text.len() {
            lines.push(start..text.len(), key.finish(state, text.len() - start));
        }
        lines
    }

    fn push(&mut self, span: Range<usize>, hash: u64) {
        self.spans.push(span);
        self.hashes.push(hash);
    }

    /// The 1-based number of the line that starts at or holds `at`.
    pub(crate) fn line_of(&self, at: usize) -> u64 {
        self.spans.partition_point(|span| span.start <= at).max(1) as u64
    }

    /// The hashes alone: what the next version is paired with.
    pub(crate) fn hashes(&self) -> &[u64] {
        &self.hashes
    }
}

/// A word's `count` lowest bytes (1 to 8).
fn low_bytes(count: usize) -> u64 {
    match count {
        8 => u64::MAX,
        _ => (1u64 << (8 * count)) - 1,
    }
}

/// The key of one scan's line hashes, drawn at random: lines that differ have the same hash
/// with a chance of about 2^-64, and which lines do cannot be worked out ahead of the scan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineKey(u64, u64);

impl LineKey {
    pub(crate) fn random() -> LineKey {
        let state = RandomState::new();
        LineKey(state.hash_one(0u64) | 1, state.hash_one(1u64) | 1)
    }

    /// One step of a multiply-and-fold hash.
    fn fold(self, value: u64) -> u64 {
        let product = u128::from(value) * u128::from(self.1);
        (product as u64) ^ ((product >> 64) as u64)
    }

    /// A line's hash from the state after its last word and its length.
    fn finish(self, state: u64, len: usize) -> u64 {
        let product = u128::from(state ^ len as u64) * u128::from(self.0);
        (product as u64) ^ ((product >> 64) as u64)
    }
}

/// The runs of lines the old version (its line hashes) and `new` (its lines) share, in order
/// in both: the common first and last lines, and between them lines paired greedily.
pub(crate) fn shared_runs(old: &[u64], new: &Lines) -> Vec<Run> {
    let (old_count, new_count) = (old.len(), new.hashes.len());
    let prefix = (old.iter().zip(&new.hashes))
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = (old[prefix..].iter().rev())
        .zip(new.hashes[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut runs = Vec::new();
    let span = |from: usize, to: usize| match from < to {
        true => new.spans[from].start..new.spans[to - 1].end,
        false => 0..0,
    };
    if prefix > 0 {
        push(&mut runs, 0, span(0, prefix), prefix);
    }
    let old_middle = &old[prefix..old_count - suffix];
    // Lines found once in the old middle, by hash (a hash seen twice is no anchor).
    let mut once: HashMap<u64, usize, BuildHasherDefault<Prehashed>> =
        HashMap::with_capacity_and_hasher(old_middle.len(), BuildHasherDefault::default());
    for (index, hash) in old_middle.iter().enumerate() {
        once.entry(*hash)
            .and_modify(|at| *at = usize::MAX)
            .or_insert(index);
    }
    let mut next_old = 0;
    for line in prefix..new_count - suffix {
        let hash = new.hashes[line];
        let paired = match old_middle.get(next_old) == Some(&hash) {
            true => Some(next_old),
            false => (once.get(&hash).copied()).filter(|&at| at != usize::MAX && at > next_old),
        };
        if let Some(at) = paired {
            push(&mut runs, prefix + at, span(line, line + 1), 1);
            next_old = at + 1;
        }
    }
    if suffix > 0 {
        let first = new_count - suffix;
        push(
            &mut runs,
            old_count - suffix,
            span(first, new_count),
            suffix,
        );
    }
    runs
}

/// Adds a run, joined to the last one when both continue it.
fn push(runs: &mut Vec<Run>, old_line: usize, new: Range<usize>, lines: usize) {
    match runs.last_mut() {
        Some(last)
            if last.old_line + last.lines == old_line && last.new + last.len == new.start =>
        {
            last.len += new.len();
            last.lines += lines;
        }
        _ => runs.push(Run {
            old_line,
            new: new.start,
            len: new.len(),
            lines,
        }),
    }
}

/// The lines of `text[span]` (which starts at a line start), each with its line break.
#[cfg(test)]
fn lines(text: &[u8], span: Range<usize>) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut start = span.start;
    for at in memchr::memchr_iter(b'\n', &text[span.clone()]) {
        lines.push(start..span.start + at + 1);
        start = span.start + at + 1;
    }
    if start < span.end {
        lines.push(start..span.end);
    }
    lines
}

/// The map's hasher: its keys are hashes already.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8) | u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every run pairs identical lines, in order in both versions, whole lines.
    #[test]
    fn runs_pair_identical_lines_in_order() {
        let key = LineKey::random();
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let old_lines = lines(old.as_bytes(), 0..old.len());
        let old_hashes = Lines::of(old.as_bytes(), key).hashes().to_vec();
        let cases = [
            "a\nb\nX\nd\ne\nf\ng\nh\n",
            "a\nb\nc\nd\ne\nf\ng\nh\ni",
            "h\na\nb\nc\nd\nX\nf\ng\n",
            "a\nd\ne\nY\nY\nh\n",
            "a\nb\nc\nd\ne\nf\ng\nh",
            "",
            old,
        ];
        for new in cases {
            let runs = shared_runs(&old_hashes, &Lines::of(new.as_bytes(), key));
            let (mut old_end, mut new_end) = (0, 0);
            for run in &runs {
                assert!(
                    run.old_line >= old_end && run.new >= new_end,
                    "{new:?}: {runs:?}"
                );
                let old_span =
                    old_lines[run.old_line].start..old_lines[run.old_line + run.lines - 1].end;
                assert_eq!(
                    old[old_span],
                    new[run.new..run.new + run.len],
                    "{new:?}: {runs:?}"
                );
                assert!(run.new == 0 || new.as_bytes()[run.new - 1] == b'\n');
                (old_end, new_end) = (run.old_line + run.lines, run.new + run.len);
            }
        }
        let runs = shared_runs(&old_hashes, &Lines::of(b"a\nd\ne\nY\nY\nh\n", key));
        let shared: usize = runs.iter().map(|run| run.len).sum();
        assert_eq!(shared, 8, "{runs:?}");
        let runs = shared_runs(&old_hashes, &Lines::of(b"a\nb\nc\nd\ne\nf\ng\nh", key));
        let shared: usize = runs.iter().map(|run| run.len).sum();
        assert_eq!(shared, 14, "{runs:?}");
    }

    /// One pass eight bytes at a time splits lines as memchr does, and a line's hash depends
    /// on its bytes alone, not on where it starts or whether the text ends after it.
    #[test]
    fn a_lines_hash_is_its_bytes_wherever_it_lies() {
        let key = LineKey::random();
        let mut rng = crate::test_support::Xorshift::new(5);
        for _ in 0..300 {
            let len = rng.below(200);
            let text: Vec<u8> = (0..len).map(|_| b"ab\n"[rng.below(3)]).collect();
            let lines_of = Lines::of(&text, key);
            assert_eq!(lines_of.spans, lines(&text, 0..text.len()), "{text:?}");
            for (span, hash) in lines_of.spans.iter().zip(&lines_of.hashes) {
                let alone = Lines::of(&text[span.clone()], key);
                assert_eq!(alone.hashes, vec![*hash], "{text:?} {span:?}");
                for (other, other_hash) in lines_of.spans.iter().zip(&lines_of.hashes) {
                    let same = text[span.clone()] == text[other.clone()];
                    assert_eq!(same, hash == other_hash, "{text:?} {span:?} {other:?}");
                }
            }
        }
    }
}
