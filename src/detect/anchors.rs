//! Run time: a built-in regex every match of which holds one of a few keywords (its anchors,
//! found by build.rs, see src/detect/line_words.rs) is searched only around the places where
//! the prefilter's walk saw them. A big first commit wakes a rule for every text that names one
//! of its keywords, and its regex crossed the whole text: on trees40, 50 MB of whole-text
//! searches (the named-key rules, `toggl` then `[ \t]*` before a 32-character key), nearly all
//! of them finding nothing.
//!
//! Exact: every match holds an anchor and is at most its [`Reach`](crate::detect::line_words::Reach) long (in bytes, or in line
//! feeds), so it lies within the window of that anchor's place, and windows that overlap are
//! merged. A window's search sees all the text before it and `LOOK_AHEAD` bytes past the
//! farthest end a match of one of its anchors can have, so its look-arounds (`$`, `\b`) read
//! what they read in the whole text, and it finds what the whole-text search finds there (see
//! [`SharedRegex::captures_in_windows`](crate::detect::shared_regex::SharedRegex::captures_in_windows)).

use std::ops::Range;

use crate::detect::line_words::Reach;
use crate::detect::prefilter::{Walked, WordPlaces};
use crate::detect::variable_match::find_all;

/// Patterns and their anchors, named by byte range in [`TABLE`].
static TEXTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/regex-anchors.bin"));

/// A range of bytes in [`TEXTS`].
type Span = (u32, u32);

/// Per built-in pattern with anchors, sorted by pattern: its range in [`TEXTS`], that of its
/// anchors (newline-separated), its reach (kind 0: bytes, 1: line feeds; and how many) and
/// where its anchors are found (0: the walk's keywords, 1: words in the lowercase text).
static TABLE: &[(Span, Span, (u8, u32), u8)] =
    include!(concat!(env!("OUT_DIR"), "/regex-anchors.rs"));

/// Bytes past a match's end that a look-around may read: one character of UTF-8 (a Unicode
/// `\b`).
const LOOK_AHEAD: usize = 4;

/// A built-in regex's anchors and reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchors {
    words: Vec<&'static str>,
    reach: Reach,
    /// The words are no walk keywords: they are looked for in the text's lowercase copy.
    looked_for: bool,
}

fn text((start, end): Span) -> &'static [u8] {
    &TEXTS[start as usize..end as usize]
}

impl Anchors {
    /// The anchors build.rs found for `pattern`. Keyed by the pattern itself, not a rule id: a
    /// user's rule with a built-in id but its own regex must never borrow them.
    pub fn of(pattern: &str) -> Option<Anchors> {
        let at = TABLE
            .binary_search_by(|&(known, _, _, _)| text(known).cmp(pattern.as_bytes()))
            .ok()?;
        let (_, words, (kind, number), looked_for) = TABLE[at];
        let words = std::str::from_utf8(text(words)).ok()?;
        let number = number as usize;
        Some(Anchors {
            words: words.split('\n').collect(),
            reach: if kind == 0 {
                Reach::Bytes(number)
            } else {
                Reach::Lines(number)
            },
            looked_for: looked_for == 1,
        })
    }

    /// Whether the anchors are found in the text's lowercase copy, not by the walk.
    pub fn reads_lowercase(&self) -> bool {
        self.looked_for
    }

    /// Where the anchors are in `text` (the text `walked` walked, `lower` its lowercase copy
    /// or nothing), in order of their starts; `None` when the walk cannot tell (see
    /// [`keyword_places`]) or the words are looked for and there is no copy.
    pub fn places(&self, walked: Walked, text: &[u8], lower: &[u8]) -> Option<Vec<Range<usize>>> {
        match self.looked_for {
            false => keyword_places(walked, text, &self.words),
            true if lower.len() == text.len() => word_places(walked, text, lower, &self.words),
            true => None,
        }
    }

    /// The windows of `text` that hold every match, disjoint and in order (see the module
    /// doc), from the anchors' `places`.
    pub fn windows(&self, text: &[u8], places: &[Range<usize>]) -> Vec<Range<usize>> {
        let mut around: Vec<Range<usize>> = Vec::with_capacity(places.len());
        // The end of the line of the last place looked at, for line reaches.
        let mut line_end = 0;
        for place in places {
            let reach = match self.reach {
                Reach::Bytes(bytes) => place.end.saturating_sub(bytes)..place.start + bytes,
                // A place on the last one's line has its window.
                Reach::Lines(_) if place.start < line_end => continue,
                Reach::Lines(lines) => {
                    let mut after = memchr::memchr_iter(b'\n', &text[place.end..]);
                    line_end = after.next().map_or(text.len(), |at| place.end + at);
                    let end = match lines {
                        0 => line_end,
                        _ => (after.nth(lines - 1)).map_or(text.len(), |at| place.end + at),
                    };
                    let before = memchr::memrchr_iter(b'\n', &text[..place.start]).nth(lines);
                    before.map_or(0, |at| at + 1)..end
                }
            };
            around.push(reach.start..(reach.end + LOOK_AHEAD).min(text.len()));
        }
        // A longer anchor's window can start before a shorter one's that starts after it.
        around.sort_unstable_by_key(|window| window.start);
        let mut windows: Vec<Range<usize>> = Vec::with_capacity(around.len());
        for window in around {
            match windows.last_mut() {
                Some(last) if window.start < last.end => last.end = last.end.max(window.end),
                _ => windows.push(window),
            }
        }
        windows
    }
}

/// Where the walk of `text` saw each of `keywords` (lowercase), in order of their starts;
/// `None` when it cannot tell: a keyword the walk does not look for, another text, or a
/// keyword with an `s` or `k` in a text holding a character that a Unicode case-insensitive
/// `s` or `k` matches and the walk does not fold (a keyword without either letter is matched
/// by ASCII bytes alone, see `line_words::tests::only_the_wide_folds_match_ascii_letters`).
pub fn keyword_places(walked: Walked, text: &[u8], keywords: &[&str]) -> Option<Vec<Range<usize>>> {
    let mut places = Vec::new();
    for keyword in keywords {
        match walked.places(text, keyword.as_bytes()) {
            WordPlaces::Nowhere => {}
            WordPlaces::EndingAt(ends) => {
                places.extend(ends.iter().map(|end| end - keyword.len()..end));
            }
            WordPlaces::Within(_) => return None,
        }
    }
    let folds = |keyword: &&str| keyword.contains(['s', 'k']);
    if keywords.iter().any(folds) && walked.holds_wide_folds(text) {
        return None;
    }
    places.sort_unstable_by_key(|place| (place.start, place.end));
    Some(places)
}

/// Where `words` (lowercase) are in `lower`, the lowercase copy of `text`, in order of their
/// starts; `None` for a word with an `s` or `k` in a text holding a wide fold (as in
/// [`keyword_places`]).
fn word_places(
    walked: Walked,
    text: &[u8],
    lower: &[u8],
    words: &[&str],
) -> Option<Vec<Range<usize>>> {
    let folds = |word: &&str| word.contains(['s', 'k']);
    if words.iter().any(folds) && walked.holds_wide_folds(text) {
        return None;
    }
    let mut places = Vec::new();
    for word in words {
        // Overlapping places too (`find_iter` skips them): each bounds its own matches.
        let found = find_all(lower, word.as_bytes()).map(|at| at..at + word.len());
        places.extend(found);
    }
    places.sort_unstable_by_key(|place| (place.start, place.end));
    Some(places)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::examples;
    use crate::detect::prefilter::Prefilter;
    use crate::detect::required_run::{ClassRuns, spans};
    use crate::detect::rules::{Rule, RuleSet};
    use crate::test_support::Xorshift;

    /// Lines that name no keyword.
    const FILLER: &str = "import os\nx = [1, 2, 3];\n\n  return x\n";

    /// `rule`'s matches in `text` through [`Rule::captures`] with the walk of `walked` (the
    /// text itself, or the text before some of its bytes were masked by spaces) against the
    /// regex crate's over the whole text; how many matched.
    fn compare(rule: &Rule, prefilter: &Prefilter, walked: &[u8], text: &[u8]) -> usize {
        let (_, seen) = prefilter.candidates_and_words(walked);
        let seen = seen.expect("the automaton walks every text");
        let walk = Walked::new(prefilter, &seen);
        let lower = text.to_ascii_lowercase();
        let found = rule.captures_seen(text, &lower, &mut ClassRuns::default(), Some(walk));
        // The reference: the regex crate's search over the whole text (the rule's own regex,
        // compiled once, searches the same way).
        let reference = rule.regex();
        let whole: Vec<_> = reference.captures_iter(text).collect();
        assert_eq!(
            spans(&found),
            spans(&whole),
            "{} on {:?}",
            rule.id(),
            String::from_utf8_lossy(text)
        );
        whole.len()
    }

    /// [`Rule::secrets`] makes the lowercase copy for a rule whose anchors are looked for
    /// there (else it would search the whole text) and for no rule anchored by the walk's
    /// keywords (the copy costs a pass over the text).
    #[test]
    fn secrets_ask_for_the_lowercase_copy_only_for_words_looked_for() {
        let set = RuleSet::builtin().unwrap();
        let prefilter = Prefilter::of(&set).walking();
        let asked = |id: &str| {
            let rule = set.iter().find(|rule| rule.id() == id).unwrap();
            let text = examples::every_case(&set, rule).remove(0).1.text;
            let (_, seen) = prefilter.candidates_and_words(text.as_bytes());
            let walk = Walked::new(&prefilter, seen.as_ref().unwrap());
            let lower = text.to_ascii_lowercase();
            let asked = std::cell::Cell::new(false);
            let copy = || {
                asked.set(true);
                lower.as_bytes()
            };
            let found = rule.secrets(text.as_bytes(), copy, &mut ClassRuns::default(), Some(walk));
            assert!(!found.is_empty(), "{id}");
            asked.get()
        };
        assert!(asked("google-oauth-legacy-client-secret"));
        assert!(asked("ibm-cloud-api-key"));
        assert!(!asked("toggltrack-named-key"));
    }

    /// The rules with anchors, and their keywords spelled as the walk sees them and as it
    /// does not (the long s, the Kelvin sign).
    fn anchored(set: &RuleSet) -> Vec<(&Rule, Vec<String>)> {
        let with_anchors = set
            .iter()
            .filter(|rule| Anchors::of(&rule.spec().regex).is_some());
        (with_anchors.map(|rule| {
            let mut words = Vec::new();
            for keyword in &Anchors::of(&rule.spec().regex).unwrap().words {
                let wide = keyword.replace('s', "\u{17f}").replace('k', "\u{212a}");
                words.extend([keyword.to_string(), keyword.to_ascii_uppercase(), wide]);
            }
            (rule, words)
        }))
        .collect()
    }

    /// For every built-in rule with anchors, each example alone, among lines of filler, at
    /// the end of a line and with its keywords spelled with the long s and the Kelvin sign:
    /// the search around the anchors finds what the whole-text search finds.
    #[test]
    fn searching_around_anchors_finds_what_the_whole_text_search_finds() {
        let set = RuleSet::builtin().unwrap();
        let prefilter = Prefilter::of(&set).walking();
        let (mut rules, mut matched) = (0, 0);
        for (rule, words) in anchored(&set) {
            rules += 1;
            for (_, case) in examples::every_case(&set, rule) {
                let text = &case.text;
                let mut texts = vec![
                    text.clone(),
                    format!("{FILLER}{text}\n{FILLER}{text}\r\n{text}"),
                    format!("{text}{text}"),
                ];
                for (word, wide) in words.iter().zip(words.iter().skip(2)).step_by(3) {
                    texts.push(text.replace(word.as_str(), wide));
                }
                for text in texts {
                    matched += compare(rule, &prefilter, text.as_bytes(), text.as_bytes());
                }
            }
        }
        assert!(rules > 500, "{rules} rules with anchors");
        assert!(matched > 5_000, "{matched} matches compared");
    }

    /// The same over random texts of the rules' keywords (both cases, the long s and the
    /// Kelvin sign for their `s` and `k`), pieces of their examples, line breaks and filler;
    /// and over a copy of each with bytes masked by spaces, walked before the masking (what
    /// the scan does with a copy whose escapes are masked).
    #[test]
    fn searching_around_anchors_finds_what_the_whole_text_search_finds_in_random_texts() {
        let set = RuleSet::builtin().unwrap();
        let prefilter = Prefilter::of(&set).walking();
        let mut rng = Xorshift::new(34);
        let mut matched = 0;
        for (rule, words) in anchored(&set) {
            let mut pieces: Vec<String> = ["\n", " ", "\t", ";", "=", "\"", "x", "-", "\r\n"]
                .map(String::from)
                .to_vec();
            pieces.extend(words);
            for (_, case) in examples::every_case(&set, rule).into_iter().take(4) {
                let words = case
                    .text
                    .split_inclusive([' ', ';', '=', '"'])
                    .map(String::from);
                pieces.extend(words);
            }
            for _ in 0..24 {
                let text: String = (0..rng.below(24))
                    .map(|_| pieces[rng.below(pieces.len())].as_str())
                    .collect();
                let text = text.into_bytes();
                matched += compare(rule, &prefilter, &text, &text);
                let mut masked = text.clone();
                for _ in 0..rng.below(4) {
                    if !masked.is_empty() {
                        let at = rng.below(masked.len());
                        masked[at] = b' ';
                    }
                }
                matched += compare(rule, &prefilter, &text, &masked);
            }
        }
        assert!(matched > 1_000, "{matched} matches compared");
    }

    /// Words are found in the lowercase copy, where they overlap too; a word with an `s` or
    /// `k` is not looked for in a text holding the long s or the Kelvin sign.
    #[test]
    fn words_are_found_in_the_lowercase_copy_where_they_overlap() {
        let set = RuleSet::builtin().unwrap();
        let prefilter = Prefilter::of(&set).walking();
        let places = |text: &str, words: &[&str]| {
            let (_, seen) = prefilter.candidates_and_words(text.as_bytes());
            let seen = seen.expect("the automaton walks every text");
            let walk = Walked::new(&prefilter, &seen);
            let lower = text.to_ascii_lowercase();
            (word_places(walk, text.as_bytes(), lower.as_bytes(), words))
                .map(|places| places.iter().map(|p| (p.start, p.end)).collect::<Vec<_>>())
        };
        assert_eq!(places("x AAAa aab", &["aaa"]), Some(vec![(2, 5), (3, 6)]));
        assert_eq!(
            places("Secret box", &["box", "secret"]),
            Some(vec![(0, 6), (7, 10)])
        );
        assert_eq!(places("\u{17f}ecret box", &["box", "secret"]), None);
        assert_eq!(places("\u{17f}ecret box", &["box"]), Some(vec![(8, 11)]));
    }

    /// Windows of nearby places merge; a line reach takes that many lines on each side and
    /// the look-ahead past the last; a longer keyword's window can start first.
    #[test]
    fn windows_hold_the_reach_around_each_place_and_merge() {
        let text = b"a\nbb toggl cc\ndd toggl\nee\nff\n";
        let windows = |reach, places: &[Range<usize>]| {
            let anchors = Anchors {
                words: vec!["toggl"],
                reach,
                looked_for: false,
            };
            // As (start, end) pairs: a one-range array reads as a range to clippy.
            (anchors.windows(text, places).into_iter())
                .map(|window| (window.start, window.end))
                .collect::<Vec<_>>()
        };
        let places = [5..10, 17..22];
        assert_eq!(windows(Reach::Lines(0), &places), [(2, 26)]);
        assert_eq!(windows(Reach::Lines(0), &[5..10, 11..13]), [(2, 17)]);
        assert_eq!(windows(Reach::Lines(1), &places), [(0, 29)]);
        assert_eq!(windows(Reach::Bytes(6), &places), [(4, 15), (16, 27)]);
        assert_eq!(windows(Reach::Bytes(6), &[5..10, 6..8]), [(2, 16)]);
        assert!(windows(Reach::Bytes(6), &[]).is_empty());
    }
}
