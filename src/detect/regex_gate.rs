//! Run time, after the DFA gates' budget (src/detect/prebuilt_dfa.rs) is spent: a built-in
//! regex's cheap superset (src/detect/superset.rs, written by build.rs) is compiled and asked
//! before the rule's own regex is. A big first commit wakes a hundred or more rules whose
//! keywords its files name; nine in ten of them never match, and compiling their regexes was a
//! fifth of the scan's instructions (bounded repeats of Unicode classes, `[^;\n]{0,200}`).

use std::ops::Range;

use regex_automata::meta;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind};

use crate::detect::anchors::keyword_places;
use crate::detect::prefilter::Walked;

/// Patterns and their supersets, named by byte range in [`TABLE`].
static TEXTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/regex-gates.bin"));

/// A range of bytes in [`TEXTS`].
type Span = (u32, u32);

/// Per built-in pattern with a superset, sorted by pattern: its range in [`TEXTS`], the
/// superset's and that of the keywords whose lines hold its matches (newline-separated, see
/// src/detect/line_words.rs). Numbers only: pointers would be relocated at every start.
static TABLE: &[(Span, Span, Span)] = include!(concat!(env!("OUT_DIR"), "/regex-gates.rs"));

/// The NFA size limit of a superset: it is smaller than its rule's, which compiled within
/// `REGEX_SIZE_LIMIT`; one that did not compile would leave the rule ungated.
const SIZE_LIMIT: usize = 10 << 20;

/// A compiled superset of a rule's regex.
#[derive(Debug, Clone)]
pub struct RegexGate {
    regex: meta::Regex,
    /// The keywords whose lines hold every match of the rule's regex (none: anywhere).
    line_keywords: Vec<&'static str>,
}

fn text((start, end): Span) -> &'static [u8] {
    &TEXTS[start as usize..end as usize]
}

/// The superset build.rs wrote for `pattern`. Keyed by the pattern itself, not a rule id: a
/// user's rule with a built-in id but its own regex must never borrow it.
pub fn superset_of(pattern: &str) -> Option<&'static str> {
    std::str::from_utf8(text(entry_of(pattern)?.1)).ok()
}

/// The keywords whose lines hold every match of `pattern`, as build.rs wrote them.
pub fn line_keywords_of(pattern: &str) -> Vec<&'static str> {
    let words = entry_of(pattern).and_then(|entry| std::str::from_utf8(text(entry.2)).ok());
    (words.unwrap_or_default().split('\n'))
        .filter(|word| !word.is_empty())
        .collect()
}

fn entry_of(pattern: &str) -> Option<&'static (Span, Span, Span)> {
    let at = TABLE
        .binary_search_by(|&(known, _, _)| text(known).cmp(pattern.as_bytes()))
        .ok()?;
    Some(&TABLE[at])
}

impl RegexGate {
    /// The gate of `pattern`, when build.rs wrote a superset of it.
    pub fn for_pattern(pattern: &str) -> Option<RegexGate> {
        let gate = RegexGate::compile(superset_of(pattern)?)?;
        Some(RegexGate {
            line_keywords: line_keywords_of(pattern),
            ..gate
        })
    }

    /// `superset` compiled as rule regexes are (byte regexes, Unicode on, UTF-8 not
    /// required), with only what a yes-or-no search uses.
    pub(crate) fn compile(superset: &str) -> Option<RegexGate> {
        let config = meta::Config::new()
            .nfa_size_limit(Some(SIZE_LIMIT))
            .match_kind(MatchKind::LeftmostFirst)
            .utf8_empty(false)
            .onepass(false)
            .backtrack(false);
        let regex = meta::Builder::new()
            .configure(config)
            .syntax(syntax::Config::new().utf8(false))
            .build(superset)
            .ok()?;
        Some(RegexGate {
            regex,
            line_keywords: Vec::new(),
        })
    }

    /// Whether the rule's regex may match in `haystack[from..]` (the bytes before `from` count
    /// for `^` and word boundaries, as in `Regex::captures_at`): false only when the superset
    /// does not match there, and so the regex cannot. `walked`, when the prefilter walked
    /// `haystack`: a regex whose matches lie on its keywords' lines is asked only there.
    pub fn may_match(&self, haystack: &[u8], from: usize, walked: Option<Walked>) -> bool {
        // Not `is_match`: on a text where the reverse-inner-literal search turns quadratic,
        // regex-automata 0.4's `is_match` falls back to the PikeVM, `search_half` to the lazy
        // DFA (trees40: 4.0 G instructions against 0.1 G).
        let input = Input::new(haystack).earliest(true);
        let search = |span: Range<usize>| self.regex.search_half(&input.clone().range(span));
        match walked.and_then(|walked| keyword_lines(walked, haystack, &self.line_keywords)) {
            // The rest of each line is seen by the search (a boundary at its end).
            Some(lines) => (lines.into_iter())
                .filter(|line| line.end >= from)
                .any(|line| search(line.start.max(from)..line.end).is_some()),
            None => search(from..haystack.len()).is_some(),
        }
    }
}

/// The lines of `text` (without their line feed; distinct, in order) on which `walked` (the
/// walk of `text`) saw one of `keywords`; `None` when it cannot tell (see
/// [`keyword_places`]) or there are no keywords.
fn keyword_lines(walked: Walked, text: &[u8], keywords: &[&str]) -> Option<Vec<Range<usize>>> {
    if keywords.is_empty() {
        return None;
    }
    let places = keyword_places(walked, text, keywords)?;
    let mut lines: Vec<Range<usize>> = Vec::new();
    for place in places {
        let start = place.start;
        // A keyword has no line feed: one that starts before a listed line's end is on it.
        if lines.last().is_some_and(|line| start < line.end) {
            continue;
        }
        let line_start = memchr::memrchr(b'\n', &text[..start]).map_or(0, |at| at + 1);
        let line_end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |at| start + at);
        lines.push(line_start..line_end);
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::examples;
    use crate::detect::prefilter::Prefilter;
    use crate::detect::rules::{Rule, RuleSet};
    use crate::test_support::Xorshift;

    /// A text with a rule's example in it, and the same with every space and every letter `a`
    /// and `s` of it spelled with characters outside ASCII (what a Unicode class counts as one
    /// character and the superset sees as two or three bytes).
    fn texts(case: &str) -> Vec<String> {
        let wide = case
            .replace(' ', "\u{a0}")
            .replace('a', "é")
            .replace('s', "\u{17f}");
        vec![
            case.to_string(),
            format!("日本 {case}\n{case}"),
            wide.clone(),
            format!("—{wide}—"),
        ]
    }

    /// For every built-in rule with a superset, in every example of it and its variants: the
    /// embedded superset compiles, and it matches wherever the rule's regex does (the regex
    /// crate's search, from every place a match starts).
    #[test]
    fn every_builtin_superset_matches_wherever_its_rule_does() {
        let set = RuleSet::builtin().unwrap();
        let (mut gated, mut compared) = (0, 0);
        for rule in set.iter() {
            let Some(gate) = RegexGate::for_pattern(&rule.spec().regex) else {
                assert!(superset_of(&rule.spec().regex).is_none(), "{}", rule.id());
                continue;
            };
            gated += 1;
            let exact = regex::bytes::Regex::new(&rule.spec().regex).unwrap();
            for (_, case) in examples::every_case(&set, rule) {
                for text in texts(&case.text) {
                    for found in exact.find_iter(text.as_bytes()) {
                        compared += 1;
                        let (haystack, from) = (text.as_bytes(), found.start());
                        assert!(
                            gate.may_match(haystack, from, None),
                            "{} on {text:?}",
                            rule.id()
                        );
                    }
                }
            }
        }
        assert!(gated > 200, "{gated} rules with a superset");
        assert!(compared > 5_000, "{compared} matches compared");
    }

    /// Lines that name no keyword.
    const FILLER: &str = "import os\nx = [1, 2, 3];\n\n  return x\n";

    /// Asks `gate` about `text` on its keywords' lines and on the whole text, from 0 and from
    /// each place the rule's regex matches: the answers must agree.
    fn compare(rule: &Rule, gate: &RegexGate, prefilter: &Prefilter, text: &[u8]) -> usize {
        let (_, seen) = prefilter.candidates_and_words(text);
        let seen = seen.expect("the automaton walks every text");
        let lines = Walked::new(prefilter, &seen);
        let exact = regex::bytes::Regex::new(&rule.spec().regex).unwrap();
        let starts = exact.find_iter(text).map(|found| found.start());
        let mut matched = 0;
        for from in std::iter::once(0).chain(starts) {
            let whole = gate.may_match(text, from, None);
            matched += usize::from(whole);
            let on_lines = gate.may_match(text, from, Some(lines));
            assert_eq!(on_lines, whole, "{} from {from} on {text:?}", rule.id());
        }
        matched
    }

    /// For every built-in rule whose gate looks only on its keywords' lines: in each example
    /// and its variants (the long s for `s`), alone and among lines of filler, the gate asked
    /// on those lines answers as asked on the whole text.
    #[test]
    fn a_gate_on_its_keywords_lines_answers_as_on_the_whole_text() {
        let set = RuleSet::builtin().unwrap();
        let prefilter = Prefilter::of(&set).walking();
        let (mut lined, mut matched) = (0, 0);
        for rule in set.iter() {
            if line_keywords_of(&rule.spec().regex).is_empty() {
                continue;
            }
            lined += 1;
            let gate = RegexGate::for_pattern(&rule.spec().regex).unwrap();
            for (_, case) in examples::every_case(&set, rule) {
                for text in texts(&case.text) {
                    for text in [text.clone(), format!("{FILLER}{text}\n{FILLER}{text}")] {
                        matched += compare(rule, &gate, &prefilter, text.as_bytes());
                    }
                }
            }
        }
        assert!(lined >= 8, "{lined} rules searched on lines");
        assert!(matched > 100, "{matched} gates that matched");
    }

    /// The same over random texts of the rules' keywords (both cases, the long s and the
    /// Kelvin sign for their `s` and `k`), pieces of their examples, line breaks and filler.
    #[test]
    fn a_gate_on_its_keywords_lines_answers_as_on_random_texts() {
        let set = RuleSet::builtin().unwrap();
        let prefilter = Prefilter::of(&set).walking();
        let mut rng = Xorshift::new(34);
        let mut matched = 0;
        for rule in set.iter() {
            if line_keywords_of(&rule.spec().regex).is_empty() {
                continue;
            }
            let gate = RegexGate::for_pattern(&rule.spec().regex).unwrap();
            let mut pieces: Vec<String> = ["\n", " ", "\t", ";", "=", "\"", "x", "K", "-p "]
                .map(String::from)
                .to_vec();
            for keyword in &rule.spec().keywords {
                let wide = keyword.replace('s', "\u{17f}").replace('k', "\u{212a}");
                pieces.extend([keyword.clone(), keyword.to_ascii_uppercase(), wide]);
            }
            for (_, case) in examples::every_case(&set, rule).into_iter().take(4) {
                let words = case.text.split_inclusive([' ', ';', '=']).map(String::from);
                pieces.extend(words);
            }
            for _ in 0..400 {
                let text: String = (0..rng.below(24))
                    .map(|_| pieces[rng.below(pieces.len())].as_str())
                    .collect();
                matched += compare(rule, &gate, &prefilter, text.as_bytes());
            }
        }
        assert!(matched > 100, "{matched} gates that matched");
    }
}
