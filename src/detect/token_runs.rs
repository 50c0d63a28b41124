//! Where a blob's secrets can be at all: its maximal runs of token bytes (letters, digits and
//! `+ - . / = _`) of at least [`MIN_RUN`](crate::detect::token_runs::MIN_RUN) bytes, found
//! once per blob. Every later search for a run of one class inside that set (the base64 views'
//! runs, the rules' required runs, see [`RequiredRun`](crate::detect::required_run::RequiredRun))
//! then looks inside these runs alone: a sixth of a source file's bytes instead of all of
//! them, once per class.
//!
//! Speed: the class test is a few byte comparisons in SSE2 registers, 64 bytes at a time; the
//! 64 answers become one bit mask (four movemasks), in which runs of 16 are found with shifts.
//! Skipping through the text byte by byte (as the class searches do) cost twice as much for
//! this class, common as its bytes are in code.

use std::ops::Range;

use wide::{CmpEq, CmpGt, CmpLt, i8x16};

/// The shortest run listed: no rule needs fewer bytes of one class in a row (see
/// `WORTH_CHECKING` in run_syntax.rs).
pub const MIN_RUN: usize = 16;

/// Whether `byte` is a token byte, one at a time ([`token_mask`] tests 64 at once).
///
/// Not `~`: one rule's class holds it (Azure's client secrets, `[A-Za-z0-9_~.-]`, whose
/// keyword `q~` is rare), and its compare was an eighth of the pass over every blob; that
/// class's runs are looked for through the whole text instead (see [`holds_class`]).
#[inline(always)]
fn is_token_byte(byte: u8) -> bool {
    let folded = byte | 0x20;
    folded.is_ascii_lowercase()
        | (b'-'..=b'9').contains(&byte)
        | (byte == b'+')
        | (byte == b'=')
        | (byte == b'_')
}

/// Whether every byte of a class is a token byte: then its runs lie inside token runs.
pub fn holds_class(members: &[bool; 256]) -> bool {
    (0..=255u8).all(|byte| !members[usize::from(byte)] || is_token_byte(byte))
}

/// Room for a run per this many bytes before the list grows: source files hold one per 171
/// bytes on average (trees40), nine in ten files one per 72 bytes or fewer; growing from empty cost
/// about three reallocations a blob.
const BYTES_PER_RUN_RESERVED: usize = 128;

/// The maximal runs of at least [`MIN_RUN`] token bytes in `text`, in order.
pub fn token_runs(text: &[u8]) -> Vec<Range<usize>> {
    let mut runs = Vec::with_capacity(text.len() / BYTES_PER_RUN_RESERVED);
    let mut carry = 0;
    let mut base = 0;
    let blocks = text.chunks_exact(64);
    let rest = blocks.remainder();
    for block in blocks {
        let mask = token_mask(block.try_into().expect("64 bytes"));
        if mask != 0 || carry != 0 {
            runs_in_block(mask, base, &mut carry, &mut runs);
        }
        base += 64;
    }
    // The last block, padded with non-token bytes: a run reaching the text's end ends there.
    let mut last = [0u8; 64];
    last[..rest.len()].copy_from_slice(rest);
    runs_in_block(token_mask(&last), base, &mut carry, &mut runs);
    runs
}

/// Bit `i` set when `block[i]` is a token byte: 16 bytes a step in SSE2 registers (through
/// `wide`, the crate's safe wrapper of the instructions), and one movemask takes a step's 16
/// answers to 16 bits. Written as plain byte comparisons the compiler vectorized the tests
/// too but took the answers to bits with eight multiplies a block (a third of the pass).
///
/// The bytes that are not token bytes are what is tested (outside both ranges, none of the
/// three separators), and the bits turned over at the end: SSE2 has only a greater-than
/// compare, which writes its answer over its left operand, and "above the range" leaves the
/// shifted bytes there, where "below" had each compare copy its bound first.
#[inline]
fn token_mask(block: &[u8; 64]) -> u64 {
    let splat = |byte: u8| i8x16::splat(byte as i8);
    let mut gaps = 0;
    for (i, sixteen) in block.chunks_exact(16).enumerate() {
        let sixteen: [u8; 16] = sixteen.try_into().expect("16 bytes");
        let bytes = i8x16::new(sixteen.map(|byte| byte as i8));
        let no_letter = outside(bytes | splat(0x20), b'a', 26);
        let no_digit_or_dash = outside(bytes, b'-', b'9' - b'-' + 1);
        let separators =
            bytes.cmp_eq(splat(b'+')) | bytes.cmp_eq(splat(b'=')) | bytes.cmp_eq(splat(b'_'));
        let gap = no_letter & no_digit_or_dash & !separators;
        // The 16 sign bits (movemask clears the bits above them).
        gaps |= u64::from(gap.move_mask() as u16) << (16 * i);
    }
    !gaps
}

/// The bytes of `bytes` in `low..low + count` (all bits set), the others zero: shifted so that
/// `low` lands on -128, the range is the bytes below -128 + `count` (SSE2 compares signed
/// bytes only).
#[inline(always)]
pub fn in_range(bytes: i8x16, low: u8, count: u8) -> i8x16 {
    let splat = |byte: u8| i8x16::splat(byte as i8);
    (bytes + splat(0x80u8.wrapping_sub(low))).cmp_lt(splat(0x80u8.wrapping_add(count)))
}

/// The bytes of `bytes` outside `low..low + count` (all bits set): [`in_range`] turned over,
/// as one greater-than compare of the shifted bytes (`count` at least 1).
#[inline(always)]
fn outside(bytes: i8x16, low: u8, count: u8) -> i8x16 {
    let splat = |byte: u8| i8x16::splat(byte as i8);
    (bytes + splat(0x80u8.wrapping_sub(low))).cmp_gt(splat(0x80u8.wrapping_add(count - 1)))
}

/// Adds the runs of at least [`MIN_RUN`] that end in the block whose token bytes are `mask`
/// and which starts at `base`; `carry` is how many token bytes in a row ended the blocks
/// before (a run open across the boundary), updated for the next block.
#[inline(always)]
fn runs_in_block(mask: u64, base: usize, carry: &mut usize, runs: &mut Vec<Range<usize>>) {
    if mask == u64::MAX {
        *carry += 64;
        return;
    }
    // The run open from the blocks before ends at the block's first non-token byte.
    let first_gap = (!mask).trailing_zeros() as usize;
    if *carry + first_gap >= MIN_RUN {
        runs.push(base - *carry..base + first_gap);
    }
    // Runs that start after it and end before the block does (one reaching the block's end is
    // the next block's open run): each is found by where its first 16 bytes end.
    let mut sixteen_end = ends_of_sixteen(mask) & (u64::MAX << first_gap);
    while sixteen_end != 0 {
        let at = sixteen_end.trailing_zeros() as usize;
        let gaps_after = !mask & (u64::MAX << at);
        if gaps_after == 0 {
            break;
        }
        let gaps_before = !mask & ((1u64 << (at + 1 - MIN_RUN)) - 1);
        let start = 64 - gaps_before.leading_zeros() as usize;
        let end = gaps_after.trailing_zeros() as usize;
        runs.push(base + start..base + end);
        sixteen_end &= u64::MAX << end;
    }
    *carry = mask.leading_ones() as usize;
}

/// Bit `i` set when bits `i - 15..=i` of `mask` are all set.
#[inline(always)]
fn ends_of_sixteen(mask: u64) -> u64 {
    let two = mask & (mask << 1);
    let four = two & (two << 2);
    let eight = four & (four << 4);
    eight & (eight << 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The straightforward listing: every maximal run, kept when long enough.
    fn naive(text: &[u8]) -> Vec<Range<usize>> {
        let mut runs = Vec::new();
        let mut start = None;
        for (i, &byte) in text.iter().chain([b' '].iter()).enumerate() {
            match (is_token_byte(byte) && i < text.len(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    if i - s >= MIN_RUN {
                        runs.push(s..i);
                    }
                    start = None;
                }
                _ => {}
            }
        }
        runs
    }

    #[test]
    fn token_bytes_are_letters_digits_and_six_separators() {
        let expected: Vec<u8> = (0..=255u8)
            .filter(|b| b.is_ascii_alphanumeric() || b"+-./=_".contains(b))
            .collect();
        let got: Vec<u8> = (0..=255u8).filter(|&b| is_token_byte(b)).collect();
        assert_eq!(got, expected);
        let block: Vec<u8> = (0..64)
            .map(|i| expected[i % expected.len()] ^ 0x80)
            .collect();
        assert_eq!(token_mask(&block.try_into().unwrap()), 0);
    }

    /// The 64 answers of [`token_mask`] are those of a byte-by-byte test: every byte value at
    /// every place of a block of token bytes and of one of other bytes, and random blocks.
    #[test]
    fn the_block_mask_tests_each_byte_as_the_byte_test_does() {
        let byte_by_byte = |block: &[u8; 64]| {
            (block.iter().enumerate())
                .filter(|&(_, &byte)| is_token_byte(byte))
                .fold(0u64, |mask, (i, _)| mask | 1 << i)
        };
        for background in [b'a', b' ', b'~', 0x80] {
            for at in 0..64 {
                for byte in 0..=255u8 {
                    let mut block = [background; 64];
                    block[at] = byte;
                    assert_eq!(token_mask(&block), byte_by_byte(&block), "{byte} at {at}");
                }
            }
        }
        let mut random = crate::test_support::Xorshift::new(0x5851_f42d_4c95_7f2d);
        for _ in 0..10_000 {
            let block: [u8; 64] = std::array::from_fn(|_| random.below(256) as u8);
            assert_eq!(token_mask(&block), byte_by_byte(&block), "{block:?}");
        }
    }

    /// Random texts of runs around 16 bytes long, at every length across a few blocks: the
    /// bit-mask search lists what the byte-by-byte one does.
    #[test]
    fn lists_what_the_byte_by_byte_search_lists() {
        let mut random = crate::test_support::Xorshift::new(0x9e37_79b9_7f4a_7c15);
        let mut next = move |bound: usize| random.below(bound);
        let mut listed = 0;
        for length in 0..400 {
            for _ in 0..40 {
                // Gaps one byte in `spread` on average, so that runs of 10 to 100 are common.
                let spread = [8, 17, 40, 200][next(4)];
                let text: Vec<u8> = (0..length)
                    .map(|_| match next(spread) {
                        0 => [b' ', b'"', 0xC3, b':'][next(4)],
                        // `~`, no token byte, splits runs of the others.
                        _ => b"aZ09+-./=_~"[next(11)],
                    })
                    .collect();
                let expected = naive(&text);
                listed += expected.len();
                assert_eq!(
                    token_runs(&text),
                    expected,
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
        assert!(listed > 10_000, "{listed}");
    }

    #[test]
    fn runs_across_blocks_and_at_both_ends() {
        for length in [15, 16, 17, 63, 64, 65, 127, 128, 129, 200] {
            for at in [0, 1, 48, 49, 63, 64, 65, 127, 128] {
                // A run of `length` at `at`, between spaces, in a text of other runs.
                let mut text = vec![b'x'; 400];
                text[at..at + length].fill(b'A');
                text[at + length] = b' ';
                if at > 0 {
                    text[at - 1] = b' ';
                }
                let text = text.as_slice();
                assert_eq!(token_runs(text), naive(text), "{length} at {at}");
                let whole = vec![b'a'; length];
                assert_eq!(token_runs(&whole), naive(&whole), "{length}");
            }
        }
        assert!(token_runs(b"").is_empty());
    }

    #[test]
    fn classes_inside_the_token_bytes() {
        let class = |bytes: &[u8]| {
            let mut members = [false; 256];
            bytes.iter().for_each(|&b| members[usize::from(b)] = true);
            members
        };
        assert!(holds_class(&class(b"0123456789abcdef")));
        assert!(holds_class(&class(b"+/=_-.AZaz09")));
        assert!(!holds_class(&class(b"_~.-AZaz09")));
        assert!(!holds_class(&class(b"abc:")));
        assert!(!holds_class(&class(b"ab\\")));
    }

    /// A text holding a run every [`BYTES_PER_RUN_RESERVED`] bytes is listed in the room
    /// reserved at the start: the list never grew.
    #[test]
    fn runs_as_dense_as_reserved_fit_without_growing() {
        let mut line = [b' '; BYTES_PER_RUN_RESERVED];
        line[..40].copy_from_slice(b"abcdefghijklmnopqrstuvwxyz0123456789-_./");
        let text = line.repeat(100);
        let runs = token_runs(&text);
        assert_eq!(runs.len(), 100);
        assert_eq!(runs.capacity(), 100);
    }
}
