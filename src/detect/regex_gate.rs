//! Run time, after the DFA gates' budget (src/detect/prebuilt_dfa.rs) is spent: a built-in
//! regex's cheap superset (src/detect/superset.rs, written by build.rs) is compiled and asked
//! before the rule's own regex is. A big first commit wakes a hundred or more rules whose
//! keywords its files name; nine in ten of them never match, and compiling their regexes was a
//! fifth of the scan's instructions (bounded repeats of Unicode classes, `[^;\n]{0,200}`).

use regex_automata::meta;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind};

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

/// A compiled superset of a rule's regex.
#[derive(Debug, Clone)]
pub struct RegexGate {
    regex: meta::Regex,
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
        Some(RegexGate { regex })
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
        self.regex.search_half(&input).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::examples;
    use crate::detect::rules::RuleSet;

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
}
