//! Run time, once a rule's DFA gate (src/detect/prebuilt_dfa.rs) has spent its fuel, or to
//! check a DFA's "maybe": a built-in regex's cheap superset (src/detect/superset.rs, written by
//! build.rs) is compiled and asked before the rule's own regex is. A big first commit wakes a hundred or more rules whose
//! keywords its files name; nine in ten of them never match, and compiling their regexes was a
//! fifth of the scan's instructions (bounded repeats of Unicode classes, `[^;\n]{0,200}`).

use regex_automata::meta;
use regex_automata::util::prefilter::Prefilter;
use regex_automata::{Input, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Patterns and their supersets, named by byte range in [`TABLE`].
static TEXTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/regex-gates.bin"));

/// A range of bytes in [`TEXTS`].
type Span = (u32, u32);

/// Per built-in pattern with a superset, sorted by pattern: its range in [`TEXTS`] and the
/// superset's. Numbers only: pointers would be relocated at every start.
static TABLE: &[(Span, Span)] = include!(concat!(env!("OUT_DIR"), "/regex-gates.rs"));

/// The NFA size limit of a superset: it is smaller than its rule's, which compiled within
/// `REGEX_SIZE_LIMIT`; one that did not compile would leave the rule ungated.
const SIZE_LIMIT: usize = 10 << 20;

/// How many of the 256 bytes a repeated class holds for the repeat to be a gap (see
/// [`tail_of`]): `[^;\n]` and `[^\n]`, widened to bytes, hold 254 and 255.
const GAP_BYTES: usize = 200;

/// How many prefixes of a tail are read before they are cut to [`PREFIX_BYTES`] (see
/// [`word_prefilter`]), and how many may be left: Teddy, the prefilter of a few literals,
/// looks for up to 64.
const PREFIXES_SEEN: usize = 1000;
const PREFIX_BYTES: usize = 4;
const PREFIXES_KEPT: usize = 64;

/// A compiled superset of a rule's regex.
#[derive(Debug, Clone)]
pub struct RegexGate {
    regex: meta::Regex,
    /// What follows the superset's last gap, asked first (see [`tail_of`]).
    tail: Option<meta::Regex>,
}

fn text((start, end): Span) -> &'static [u8] {
    &TEXTS[start as usize..end as usize]
}

/// The superset build.rs wrote for `pattern`. Keyed by the pattern itself, not a rule id: a
/// user's rule with a built-in id but its own regex must never borrow it.
pub fn superset_of(pattern: &str) -> Option<&'static str> {
    let at = TABLE
        .binary_search_by(|&(known, _)| text(known).cmp(pattern.as_bytes()))
        .ok()?;
    std::str::from_utf8(text(TABLE[at].1)).ok()
}

impl RegexGate {
    /// The gate of `pattern`, when build.rs wrote a superset of it.
    pub fn for_pattern(pattern: &str) -> Option<RegexGate> {
        RegexGate::compile(superset_of(pattern)?)
    }

    /// `superset` compiled as rule regexes are (byte regexes, Unicode on, UTF-8 not
    /// required), with only what a yes-or-no search uses; and its tail, if it has one.
    pub(crate) fn compile(superset: &str) -> Option<RegexGate> {
        let hir = (regex_syntax::ParserBuilder::new().utf8(false).build())
            .parse(superset)
            .ok()?;
        let regex = RegexGate::build(&hir, None)?;
        let tail = tail_of(&hir).and_then(|(tail, words)| RegexGate::build(&tail, Some(words)));
        Some(RegexGate { regex, tail })
    }

    /// `prefilter`, when given, replaces the one the regex would pick itself.
    fn build(hir: &Hir, prefilter: Option<Prefilter>) -> Option<meta::Regex> {
        let config = meta::Config::new()
            .prefilter(prefilter)
            .nfa_size_limit(Some(SIZE_LIMIT))
            .match_kind(MatchKind::LeftmostFirst)
            .utf8_empty(false)
            .onepass(false)
            .backtrack(false);
        (meta::Builder::new().configure(config))
            .build_from_hir(hir)
            .ok()
    }

    /// Whether the rule's regex may match in `haystack[from..]` (the bytes before `from` count
    /// for `^` and word boundaries, as in `Regex::captures_at`): false only when the superset
    /// does not match there, and so the regex cannot. (A regex whose matches hold its keywords
    /// is asked only on the windows around them: see src/detect/anchors.rs.)
    pub fn may_match(&self, haystack: &[u8], from: usize) -> bool {
        // Not `is_match`: on a text where the reverse-inner-literal search turns quadratic,
        // regex-automata 0.4's `is_match` falls back to the PikeVM, `search_half` to the lazy
        // DFA (trees40: 4.0 G instructions against 0.1 G).
        let input = Input::new(haystack).earliest(true).range(from..);
        let found = |regex: &meta::Regex| regex.search_half(&input).is_some();
        self.tail.as_ref().is_none_or(found) && found(&self.regex)
    }
}

/// What follows the last gap of `superset`'s top-level sequence, when the matches of that
/// tail open with a few words (a gap is an unbounded repeat of a class of nearly every byte,
/// `[^\n]*?` widened), and a prefilter for those words. Every match of the superset ends with a
/// match of its tail, so where the tail matches nowhere, neither does the superset, and the gate
/// answers as before. Asked first because once the search has matched what comes before a gap,
/// the gap keeps it alive to the end of the line or text, reading every byte: the ODBC rules'
/// gates read the 0.6 to 1.8 MB lines of minified scripts that name `password` at four
/// instructions a byte (large40: 75 M, most of the gates' searches), where their tail
/// `(?i:password|pwd)[\t ]*=...` is found by its words and matched none of those lines.
fn tail_of(superset: &Hir) -> Option<(Hir, Prefilter)> {
    let HirKind::Concat(parts) = superset.kind() else {
        return None;
    };
    (0..parts.len())
        .rev()
        .filter(|&at| is_gap(&parts[at]))
        .find_map(|gap| {
            let tail = Hir::concat(parts[gap + 1..].to_vec());
            let words = word_prefilter(&tail)?;
            Some((tail, words))
        })
}

/// A prefilter for the first bytes of the literals every match of `tail` opens with, when they
/// are few and each opens with a letter or digit: the ODBC rules' tails open with the case
/// variants of `pass` and `pwd`. A tail opening with punctuation or a space
/// (`ftp-url-password`'s `:...@`) is found nearly everywhere, and asking it would only add a
/// search. (The regex's own prefilter would look for `p` and `P` alone: the variants with the
/// long s, `[Ssſ]`, make 288 prefixes, more than its 250.)
fn word_prefilter(tail: &Hir) -> Option<Prefilter> {
    let mut prefixes = (Extractor::new().kind(ExtractKind::Prefix))
        .limit_total(PREFIXES_SEEN)
        .extract(tail);
    prefixes.keep_first_bytes(PREFIX_BYTES);
    prefixes.dedup();
    let literals = prefixes.literals()?;
    let words = (literals.iter())
        .all(|literal| (literal.as_bytes().first()).is_some_and(u8::is_ascii_alphanumeric));
    let few = (1..=PREFIXES_KEPT).contains(&literals.len());
    (words && few).then(|| Prefilter::new(MatchKind::LeftmostFirst, literals))?
}

/// Whether `part` is an unbounded repeat of a class of at least [`GAP_BYTES`] bytes.
fn is_gap(part: &Hir) -> bool {
    let HirKind::Repetition(repeat) = part.kind() else {
        return false;
    };
    let bytes = match repeat.sub.kind() {
        HirKind::Class(Class::Bytes(class)) => (class.ranges().iter())
            .map(|range| usize::from(range.end() - range.start()) + 1)
            .sum(),
        // A Unicode class is widened to bytes whenever it holds a character outside ASCII:
        // what is left here has ASCII members only.
        HirKind::Class(Class::Unicode(class)) => (class.ranges().iter())
            .map(|range| range.end() as usize - range.start() as usize + 1)
            .sum(),
        _ => 0,
    };
    repeat.max.is_none() && bytes >= GAP_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::examples;
    use crate::detect::rules::RuleSet;
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
                        assert!(gate.may_match(haystack, from), "{} on {text:?}", rule.id());
                    }
                }
            }
        }
        assert!(gated > 200, "{gated} rules with a superset");
        assert!(compared > 5_000, "{compared} matches compared");
    }

    fn gate_of(set: &RuleSet, id: &str) -> RegexGate {
        let rule = set.iter().find(|rule| rule.id() == id).unwrap();
        RegexGate::for_pattern(&rule.spec().regex).unwrap()
    }

    /// The ODBC rules' gates have a tail; a superset whose last gap is followed by a tail
    /// opening with punctuation has none.
    #[test]
    fn the_odbc_gates_ask_their_tail_first() {
        let set = RuleSet::builtin().unwrap();
        for id in ["odbc-connection-password", "odbc-connection-password-word"] {
            assert!(gate_of(&set, id).tail.is_some(), "{id}");
        }
        assert!(gate_of(&set, "ftp-url-password").tail.is_none());
    }

    /// Every built-in gate with a tail answers as its superset alone does, on random texts of
    /// its words in every case (the long s too), separators and line breaks, from 0 and from
    /// a random place.
    #[test]
    fn a_gate_with_a_tail_answers_as_its_superset_alone() {
        let pieces = [
            "Server=db;",
            "data source = x;",
            "UID=sa",
            "=",
            ";",
            "PASSWORD=",
            "Pwd = ",
            "paſſword=",
            "pAsSwOrD",
            "hunter22;",
            "Secret1!",
            "\n",
            "\"",
            "é",
            "x",
            " ",
        ];
        let set = RuleSet::builtin().unwrap();
        let mut random = Xorshift::new(0x6a7e5);
        let (mut tails, mut yes, mut no) = (0, 0, 0);
        for rule in set.iter() {
            let Some(superset) = superset_of(&rule.spec().regex) else {
                continue;
            };
            let gate = RegexGate::compile(superset).unwrap();
            if gate.tail.is_none() {
                continue;
            }
            tails += 1;
            let alone = RegexGate {
                tail: None,
                ..gate.clone()
            };
            for _ in 0..3_000 {
                let text: String = (0..random.below(12))
                    .map(|_| pieces[random.below(pieces.len())])
                    .collect();
                for from in [0, random.below(text.len() + 1)] {
                    let answer = gate.may_match(text.as_bytes(), from);
                    assert_eq!(answer, alone.may_match(text.as_bytes(), from), "{text:?}");
                    (yes, no) = if answer { (yes + 1, no) } else { (yes, no + 1) };
                }
            }
        }
        assert!(tails >= 2, "{tails} gates with a tail");
        assert!(yes > 300 && no > 300, "{yes} yes, {no} no");
    }
}
