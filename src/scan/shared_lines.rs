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
    /// The lines of `text`, hashed with `key`: the line breaks found with `memchr`, each
    /// line's bytes hashed sixteen at a time ([`LineKey::hash`]).
    pub(crate) fn of(text: &[u8], key: LineKey) -> Lines {
        let expected = text.len() / 32 + 1;
        let mut lines = Lines {
            spans: Vec::with_capacity(expected),
            hashes: Vec::with_capacity(expected),
        };
        let mut start = 0;
        for at in memchr::memchr_iter(b'\n', text) {
            lines.push(start..at + 1, key.hash(&text[start..=at]));
            start = at + 1;
        }
        if start < text.len() {
            lines.push(start..text.len(), key.hash(&text[start..]));
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

/// The key of one scan's line hashes, drawn at random: lines that differ have the same hash
/// with a chance of about 2^-64, and which lines do cannot be worked out ahead of the scan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineKey(u64, u64, u64);

impl LineKey {
    pub(crate) fn random() -> LineKey {
        let state = RandomState::new();
        let part = |seed: u64| state.hash_one(seed) | 1;
        LineKey(part(0), part(1), part(2))
    }

    /// A line's hash: its bytes sixteen at a time in multiply-and-fold steps, the last
    /// sixteen overlapping the ones before (a shorter line's two halves overlap the same
    /// way), then its length; every byte is in a step, so lines of the same length that
    /// differ differ in a step.
    fn hash(self, line: &[u8]) -> u64 {
        let len = line.len();
        let word = |at: usize| u64::from_le_bytes(line[at..at + 8].try_into().expect("8 bytes"));
        let half = |at: usize| {
            u64::from(u32::from_le_bytes(
                line[at..at + 4].try_into().expect("4 bytes"),
            ))
        };
        let mut state = self.0;
        let (first, last) = match len {
            16.. => {
                let mut at = 0;
                while at + 16 < len {
                    state = fold(word(at) ^ state, word(at + 8) ^ self.1);
                    at += 16;
                }
                (word(len - 16), word(len - 8))
            }
            8.. => (word(0), word(len - 8)),
            4.. => (half(0), half(len - 4)),
            1.. => {
                let bytes = [line[0], line[len / 2], line[len - 1]];
                (
                    u64::from(bytes[0]) | (u64::from(bytes[1]) << 8),
                    u64::from(bytes[2]),
                )
            }
            0 => (0, 0),
        };
        // The length after a step: XORed into the data, lines of different lengths could
        // cancel it out whatever the key ("a" and "ba" did).
        fold(fold(first ^ state, last ^ self.1) ^ len as u64, self.2)
    }
}

/// One multiply-and-fold step: the 128-bit product's halves, XORed.
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
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

    /// Every byte of a line takes part in its hash, whatever its length: each position
    /// changed alone gives a hash of its own (fails when a step or the overlapping last
    /// sixteen bytes are left out).
    #[test]
    fn every_byte_of_a_line_changes_its_hash() {
        let key = LineKey::random();
        for len in 0..100 {
            let line = vec![b'a'; len];
            let mut seen = std::collections::HashSet::from([key.hash(&line)]);
            for at in 0..len {
                let mut changed = line.clone();
                changed[at] = b'b';
                assert!(seen.insert(key.hash(&changed)), "length {len}, byte {at}");
            }
            assert!(
                len == 0 || seen.insert(key.hash(&line[1..])),
                "length {len}"
            );
        }
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
