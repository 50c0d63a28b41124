//! Which lines two versions of a file share, for [`super::region`]: the common start and end
//! (compared a page at a time), and between them lines paired greedily, in order: equal lines
//! in step, or a line found exactly once in the old middle, which skips the old lines before
//! it. Not a minimal diff (no finding depends on it): every run pairs identical whole lines.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

use crate::git::common_ends;

/// Whole lines both versions hold, the same bytes: from `old` in the old version and from
/// `new` in the new one, `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) old: usize,
    pub(crate) new: usize,
    pub(crate) len: usize,
}

/// The runs of lines `old` and `new` share, in order in both.
pub(crate) fn shared_runs(old: &[u8], new: &[u8]) -> Vec<Run> {
    let ends = common_ends(old, new);
    let mut runs = Vec::new();
    if ends.prefix > 0 {
        runs.push(Run {
            old: 0,
            new: 0,
            len: ends.prefix,
        });
    }
    let old_lines = lines(old, ends.prefix..ends.old_suffix);
    // Lines found once in the old middle, by hash (a hash seen twice is no anchor).
    let mut once: HashMap<u64, usize, BuildHasherDefault<Prehashed>> =
        HashMap::with_capacity_and_hasher(old_lines.len(), BuildHasherDefault::default());
    for (index, line) in old_lines.iter().enumerate() {
        once.entry(hash(&old[line.clone()]))
            .and_modify(|at| *at = usize::MAX)
            .or_insert(index);
    }
    let mut next_old = 0;
    for line in lines(new, ends.prefix..ends.new_suffix) {
        let text = &new[line.clone()];
        let same = |index: usize| {
            old_lines
                .get(index)
                .is_some_and(|l| &old[l.clone()] == text)
        };
        let paired = match same(next_old) {
            true => Some(next_old),
            false => (once.get(&hash(text)).copied())
                .filter(|&at| at != usize::MAX && at > next_old && same(at)),
        };
        if let Some(at) = paired {
            push(&mut runs, old_lines[at].start, line.start, line.len());
            next_old = at + 1;
        }
    }
    if ends.new_suffix < new.len() {
        push(
            &mut runs,
            ends.old_suffix,
            ends.new_suffix,
            new.len() - ends.new_suffix,
        );
    }
    runs
}

/// Adds a run, joined to the last one when both continue it.
fn push(runs: &mut Vec<Run>, old: usize, new: usize, len: usize) {
    match runs.last_mut() {
        Some(last) if last.old + last.len == old && last.new + last.len == new => last.len += len,
        _ => runs.push(Run { old, new, len }),
    }
}

/// The lines of `text[span]` (which starts at a line start), each with its line break.
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

/// A fast hash of a line (FxHash's mix, eight bytes at a time).
fn hash(bytes: &[u8]) -> u64 {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut state = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        state = (state.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
    for &byte in chunks.remainder() {
        state = (state.rotate_left(5) ^ u64::from(byte)).wrapping_mul(SEED);
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every run pairs identical bytes, in order in both versions, whole lines.
    #[test]
    fn runs_pair_identical_lines_in_order() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let cases = [
            "a\nb\nX\nd\ne\nf\ng\nh\n",
            "a\nb\nc\nd\ne\nf\ng\nh\ni",
            "h\na\nb\nc\nd\nX\nf\ng\n",
            "a\nd\ne\nY\nY\nh\n",
            "",
            old,
        ];
        for new in cases {
            let runs = shared_runs(old.as_bytes(), new.as_bytes());
            let (mut old_end, mut new_end) = (0, 0);
            for run in &runs {
                assert!(
                    run.old >= old_end && run.new >= new_end,
                    "{new:?}: {runs:?}"
                );
                assert_eq!(
                    old[run.old..run.old + run.len],
                    new[run.new..run.new + run.len]
                );
                assert!(run.new == 0 || new.as_bytes()[run.new - 1] == b'\n');
                assert!(run.old == 0 || old.as_bytes()[run.old - 1] == b'\n');
                (old_end, new_end) = (run.old + run.len, run.new + run.len);
            }
        }
        let runs = shared_runs(old.as_bytes(), b"a\nd\ne\nY\nY\nh\n");
        let shared: usize = runs.iter().map(|run| run.len).sum();
        assert_eq!(shared, 8, "{runs:?}");
    }
}
