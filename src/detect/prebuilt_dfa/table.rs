//! Run time, regex half: one gate DFA as build/gate_table.rs wrote it, walked in place. Every
//! read is checked, so loading validates nothing; a table that cannot be read answers
//! "maybe" (the rule then compiles its regex), never a wrong "no".

use std::cell::Cell;
use std::sync::OnceLock;

use regex_automata::util::prefilter::Prefilter;
use regex_automata::{MatchKind, Span};

/// Bytes before the skips: ten u16 numbers and the 256 byte classes.
const HEADER: usize = 20 + 256;

/// A DFA read in place, with the literals every match starts with (none: unknown), for the
/// walk to skip to.
#[derive(Debug, Clone)]
pub struct Table {
    rows: &'static [u8],
    classes: &'static [u8; 256],
    /// Next states per state: one per byte class, then end of input.
    stride: usize,
    /// States `1..=last_match` are match states (0 is the dead state); the states after them
    /// up to `last_start` are start states, and those after them up to `last_skip` states that
    /// at most three bytes leave.
    last_match: u16,
    last_start: u16,
    last_skip: u16,
    /// Per state after `last_match` up to `last_skip`: how many bytes leave it (none: more
    /// than three) and those bytes.
    skips: &'static [u8],
    /// The start states after text start, `\n`, `\r`, a word byte and any other byte.
    starts: [u16; 5],
    needles: Vec<&'static [u8]>,
    /// Built from `needles` at the first search: most loaded gates search little.
    prefilter: OnceLock<Option<Prefilter>>,
}

impl Table {
    /// The DFA in `bytes`, or `None` when they hold no header.
    pub fn new(bytes: &'static [u8], needles: Vec<&'static [u8]>) -> Option<Table> {
        let number = |at: usize| -> Option<u16> {
            Some(u16::from_le_bytes(
                bytes.get(2 * at..2 * at + 2)?.try_into().ok()?,
            ))
        };
        let classes = bytes.get(20..HEADER)?.try_into().ok()?;
        let starts = [number(5)?, number(6)?, number(7)?, number(8)?, number(9)?];
        let (last_match, last_skip) = (number(2)?, number(4)?);
        let rows = HEADER + 4 * usize::from(last_skip.saturating_sub(last_match));
        Some(Table {
            rows: bytes.get(rows..)?,
            skips: bytes.get(HEADER..rows)?,
            classes,
            stride: usize::from(number(0)?),
            last_match,
            last_start: number(3)?,
            last_skip,
            starts,
            needles,
            prefilter: OnceLock::new(),
        })
    }

    /// The state after `state` reads a byte of `class` (the stride's last: end of input).
    fn next(&self, state: u16, class: usize) -> Option<u16> {
        let at = 2 * (usize::from(state) * self.stride + class);
        let pair = self.rows.get(at..at + 2)?;
        Some(u16::from_le_bytes([pair[0], pair[1]]))
    }

    /// The start state of a search from `at` (the byte before it decides).
    fn start(&self, haystack: &[u8], at: usize) -> u16 {
        let kind = match at.checked_sub(1).map(|before| haystack[before]) {
            None => 0,
            Some(b'\n') => 1,
            Some(b'\r') => 2,
            Some(b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'_') => 3,
            Some(_) => 4,
        };
        self.starts[kind]
    }

    /// Where the first byte that leaves `state` is in `haystack[at..]` (its end when none
    /// is), or `at` when more than three bytes leave it.
    fn skip(&self, state: u16, haystack: &[u8], at: usize) -> Option<usize> {
        let entry = 4 * usize::from(state - self.last_match - 1);
        let &[count, a, b, c] = self.skips.get(entry..entry + 4)? else {
            return None;
        };
        let rest = &haystack[at..];
        let found = match count {
            0 => return Some(at),
            1 => memchr::memchr(a, rest),
            2 => memchr::memchr2(a, b, rest),
            _ => memchr::memchr3(a, b, c, rest),
        };
        Some(at + found.unwrap_or(rest.len()))
    }

    /// Whether the walk skips from `state` (one past `last_match`, up to `last_skip`): to a
    /// literal from a start state when there is a `prefilter`, or past the bytes that loop on
    /// it when at most three leave it. The others are stepped through as any state.
    fn skips_from(&self, state: u16, prefilter: bool) -> bool {
        (prefilter && state <= self.last_start)
            || self
                .skips
                .get(4 * usize::from(state - self.last_match - 1))
                .is_some_and(|&count| count > 0)
    }

    fn prefilter(&self) -> Option<&Prefilter> {
        (self.prefilter.get_or_init(|| {
            (!self.needles.is_empty())
                .then(|| Prefilter::new(MatchKind::LeftmostFirst, &self.needles))
                .flatten()
        }))
        .as_ref()
    }

    /// Walks `haystack[from..]` and calls `found` with the end of each match (each place a
    /// match ends, for a DFA built to report them all) until it answers true. `Some(true)`
    /// when it did, `Some(false)` when the walk ended without, `None` when the table could
    /// not be read or `fuel` ran out. The walk burns a unit of `fuel` per byte it steps
    /// through and one per [`SKIPPED_PER_UNIT`] bytes it skips; `found` may burn some too.
    pub fn search(
        &self,
        haystack: &[u8],
        from: usize,
        fuel: &Cell<usize>,
        mut found: impl FnMut(usize) -> bool,
    ) -> Option<bool> {
        let prefilter = self.prefilter();
        let mut state = self.start(haystack, from);
        let mut at = from;
        // Where the fuel runs out, were the walk to step from here on: one compare a byte.
        let mut limit = at.saturating_add(fuel.get());
        while at < haystack.len() {
            if at >= limit {
                fuel.set(0);
                return None;
            }
            if state > self.last_match
                && state <= self.last_skip
                && self.skips_from(state, prefilter.is_some())
            {
                let skipped_from = at;
                if let Some(prefilter) = prefilter
                    && state <= self.last_start
                {
                    // No match in progress: skip to where one can start, or stop.
                    let span = Span::from(at..haystack.len());
                    let Some(span) = prefilter.find(haystack, span) else {
                        fuel.set((limit - at).saturating_sub(skip_units(haystack.len() - at)));
                        return Some(false);
                    };
                    at = span.start;
                    state = self.start(haystack, at);
                } else {
                    // Every other byte leads back here.
                    at = self.skip(state, haystack, at)?;
                }
                let (skipped, units) = (at - skipped_from, skip_units(at - skipped_from));
                if units >= limit - skipped_from {
                    fuel.set(0);
                    return None;
                }
                // The skipped bytes burn `units`, not a unit each.
                limit += skipped - units;
                if at == haystack.len() {
                    break;
                }
            }
            // A match state is entered one byte after the match ends.
            state = self.next(state, usize::from(self.classes[usize::from(haystack[at])]))?;
            if state <= self.last_match {
                fuel.set(limit - at);
                if state == 0 {
                    return Some(false);
                }
                if found(at) {
                    return Some(true);
                }
                limit = at.saturating_add(fuel.get());
            }
            at += 1;
        }
        fuel.set(limit.saturating_sub(at));
        state = self.next(state, self.stride.checked_sub(1)?)?;
        Some(state != 0 && state <= self.last_match && found(at))
    }
}

/// Bytes a skip (a literal search, or `memchr`) reads for a unit of fuel: it reads them
/// tens of times faster than the walk steps through them (a unit, one stepped byte, is some
/// 40 instructions; Teddy and `memchr` read a byte for a fraction of one). At 32 a named key's
/// gate could not skip through a 1.8 MB minified line that named the provider once
/// (`[ \t]*` leaves those regexes a line's reach) and compiled the regex: large40 18 such
/// compiles, 1,254.9 -> 1,222.3 M instructions at 128.
pub const SKIPPED_PER_UNIT: usize = 128;

/// Fuel a skip burns whatever its length (the search's call and the restart after it), or
/// a unit per byte when it skipped fewer.
const SKIP_UNITS: usize = 4;

/// The fuel a skip over `skipped` bytes burns: never more than stepping through them.
fn skip_units(skipped: usize) -> usize {
    SKIP_UNITS.min(skipped) + skipped / SKIPPED_PER_UNIT
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::examples;
    use crate::detect::prebuilt_dfa::{for_pattern, may_match};
    use crate::detect::rules::RuleSet;
    use crate::detect::shared_regex::Found;

    /// A table whose numbers point outside it loads (nothing is validated) and answers
    /// "maybe", never a panic or a "no"; bytes too short for a header do not load.
    #[test]
    fn a_table_that_cannot_be_read_answers_maybe() {
        let mut bytes = Vec::new();
        // Row length 2, two states, no match state, state 1 the start after anything.
        for number in [2u16, 2, 0, 1, 1, 1, 1, 1, 1, 1] {
            bytes.extend(number.to_le_bytes());
        }
        bytes.extend([0u8; 256]);
        bytes.extend([0, 0, 0, 0]);
        // The dead state's row, then the start state's: its first class goes to state 999.
        bytes.extend([0, 0, 0, 0, 0xe7, 0x03, 1, 0]);
        let bytes: &'static [u8] = bytes.leak();
        let table = Table::new(bytes, Vec::new()).expect("a header loads");
        let fuel = Cell::new(100);
        assert_eq!(table.search(b"", 0, &fuel, |_| true), Some(false));
        assert_eq!(table.search(b"abc", 0, &fuel, |_| true), None);
        assert!(Table::new(&bytes[..100], Vec::new()).is_none());
    }

    /// A one-state table that every byte leads back to: stepped through when `leaving` is
    /// 0, skipped past with `memchr` up to the next `x` when it is 1.
    fn looping(leaving: u8) -> Table {
        let mut bytes = Vec::new();
        for number in [2u16, 2, 0, 1, 1, 1, 1, 1, 1, 1] {
            bytes.extend(number.to_le_bytes());
        }
        bytes.extend([0u8; 256]);
        bytes.extend([leaving, b'x', 0, 0]);
        bytes.extend([0, 0, 0, 0, 1, 0, 1, 0]);
        Table::new(bytes.leak(), Vec::new()).expect("a header loads")
    }

    /// The walk burns a unit of fuel per byte it steps through and one per
    /// [`SKIPPED_PER_UNIT`] bytes it skips, and answers `None` where its fuel runs out.
    #[test]
    fn the_walk_burns_fuel_per_step_and_little_per_skipped_byte() {
        let text = [b'a'; 3200];
        let stepped = looping(0);
        let fuel = Cell::new(5000);
        assert_eq!(stepped.search(&text, 0, &fuel, |_| true), Some(false));
        assert_eq!(fuel.get(), 5000 - 3200);
        let fuel = Cell::new(3000);
        assert_eq!(stepped.search(&text, 0, &fuel, |_| true), None);
        assert_eq!(fuel.get(), 0);
        let skipped = looping(1);
        let fuel = Cell::new(200);
        assert_eq!(skipped.search(&text, 0, &fuel, |_| true), Some(false));
        assert_eq!(fuel.get(), 200 - SKIP_UNITS - 3200 / SKIPPED_PER_UNIT);
        let fuel = Cell::new(20);
        assert_eq!(skipped.search(&text, 0, &fuel, |_| true), None);
    }

    /// The walk's shortcuts (skipping to a literal, or past the bytes that loop on a state)
    /// and its start states (the byte before the search decides `\b` and `^`): every built-in
    /// regex's examples, put after a long clean text and after each kind of byte, are "maybe"
    /// wherever the regex matches them, searched from the text's start and from the byte
    /// after.
    #[test]
    fn the_walk_finds_every_match_after_any_byte_and_far_in() {
        let set = RuleSet::builtin().expect("built-in rules compile");
        let filler = "let value = compute(item, 3); // ordinary code\r\n".repeat(80);
        let (mut checked, mut patterns) = (0, 0);
        for rule in set.iter().filter(|rule| rule.variable_matcher().is_none()) {
            let Ok(sample) = examples::sample_for(&set, rule, examples::SEEDS[0]) else {
                continue;
            };
            let gate = for_pattern(&rule.spec().regex).expect("a gate");
            patterns += 1;
            for case in examples::cases(&set, rule, &sample) {
                for before in ["", "\n", "\r", "x", " ", "\u{e9}"] {
                    let head = format!("{filler}{before}");
                    let text = format!("{head}{}", case.text);
                    let text = text.as_bytes();
                    if !rule.regex().is_match(text) || rule.regex().is_match(head.as_bytes()) {
                        continue;
                    }
                    let name = format!("{} {} after {before:?}", rule.id(), case.name);
                    assert_ne!(may_match(&gate.clone(), text, 0), Some(false), "{name}");
                    let starts_after =
                        |found: &Found| found.get(0).is_some_and(|m| m.start() >= head.len());
                    if rule.regex().captures_iter(text).any(|f| starts_after(&f)) {
                        let from_it = may_match(&gate.clone(), text, head.len());
                        assert_ne!(from_it, Some(false), "{name}, from it");
                    }
                    checked += 1;
                }
            }
        }
        assert!(patterns > 300 && checked > 10_000, "{patterns} {checked}");
    }
}
