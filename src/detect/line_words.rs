//! Build time (build/gates.rs) and tests: the words every match of a regex holds, its
//! anchors (see src/detect/anchors.rs): walk keywords, or else words the scan looks for in the
//! text's lowercase copy; and how far a match reaches from them, in bytes or line feeds. A
//! search need only look around the places where those words are.
//!
//! Words are compared as the walk sees them, ASCII case folded. A Unicode case-insensitive
//! `s` or `k` also matches the long s (U+017F) and the Kelvin sign (U+212A), which the walk
//! does not fold: a text holding either is searched whole (see
//! [`crate::detect::anchors::keyword_places`]).

use regex_syntax::hir::{Class, Hir, HirKind};

/// More words than this in one alternation or product are not worth listing.
const MOST_WORDS: usize = 64;

/// The two characters outside ASCII that a Unicode case-insensitive ASCII letter matches.
pub const WIDE_FOLDS: [char; 2] = ['\u{17f}', '\u{212a}'];

/// What bounds where the matches of a regex lie around the keywords they hold (see
/// [`anchors`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// A match is at most this many bytes long.
    Bytes(usize),
    /// A match holds at most this many line feeds.
    Lines(usize),
}

/// The keywords (from `keywords`, lowercase, without spaces) one of which every match of
/// `pattern` holds, ASCII case folded, and how far from it the match can reach; `None` when
/// some match need hold none, or matches have no bound in bytes or in lines.
pub fn anchors(pattern: &str, keywords: &[&str]) -> Option<(Vec<String>, Reach)> {
    let hir = parse(pattern)?;
    let reach = reach(&hir)?;
    let words = held_keywords(&hir, keywords);
    (!words.is_empty()).then_some((words, reach))
}

/// Words shorter than this are not worth looking for in a text: too many places.
const LEAST_WORD: usize = 3;

/// Words looked for in a text pay only when they are few and one is long: each is one pass
/// over the text, and a short common word (`box` in `bbox`, `api`) leaves windows over most
/// of it. On trees40 (callgrind, one thread): `ibm|watsonx` -5.8 M instructions, `secret`
/// -2.4 M, `authorization` -1.1 M; `box` +1.9 M, six words of 3 to 8 bytes +14.6 M.
const MOST_WORDS_LOOKED_FOR: usize = 2;
const LONGEST_WORD_AT_LEAST: usize = 6;

/// Words (lowercase ASCII, at least `LEAST_WORD` bytes, no line feed) one of which every
/// match of `pattern` holds, ASCII case folded, for a regex whose words hold no keyword
/// ([`anchors`] finds none): the scan looks for them in the text's lowercase copy. None of
/// them holds another (a match holding the longer holds the shorter), and the reach as in
/// [`anchors`]. None when they would not pay (see `MOST_WORDS_LOOKED_FOR`).
pub fn word_anchors(pattern: &str) -> Option<(Vec<String>, Reach)> {
    let hir = parse(pattern)?;
    let reach = reach(&hir)?;
    let fits = |words: &[Vec<u8>]| {
        (words.iter()).all(|word| word.len() >= LEAST_WORD && !word.contains(&b'\n'))
    };
    let mut words = required_words(&hir, &fits)?;
    words.sort_unstable_by_key(Vec::len);
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for word in words {
        if !kept.iter().any(|shorter| contains(&word, shorter)) {
            kept.push(word);
        }
    }
    let longest = kept.iter().map(Vec::len).max().unwrap_or(0);
    if kept.len() > MOST_WORDS_LOOKED_FOR || longest < LONGEST_WORD_AT_LEAST {
        return None;
    }
    let kept = kept
        .into_iter()
        .map(|word| String::from_utf8_lossy(&word).into_owned());
    Some((kept.collect(), reach))
}

/// A match's longest length in bytes, or when that has no bound, the most line feeds it holds.
fn reach(hir: &Hir) -> Option<Reach> {
    match hir.properties().maximum_len() {
        Some(bytes) => Some(Reach::Bytes(bytes)),
        None => Some(Reach::Lines(most_newlines(hir)?)),
    }
}

fn parse(pattern: &str) -> Option<Hir> {
    (regex_syntax::ParserBuilder::new().utf8(false).build())
        .parse(pattern)
        .ok()
}

/// The keywords one of which every match of `hir` holds: for each word every match holds
/// one of (see [`required_words`]), the longest keyword in it (the rarest, as a guess).
fn held_keywords(hir: &Hir, keywords: &[&str]) -> Vec<String> {
    let keywords: Vec<Vec<u8>> = (keywords.iter())
        .filter(|keyword| !keyword.is_empty() && !keyword.contains([' ', '\n']))
        .map(|keyword| keyword.to_ascii_lowercase().into_bytes())
        .collect();
    let held = |word: &[u8]| {
        (keywords.iter())
            .filter(|keyword| contains(word, keyword))
            .max_by_key(|keyword| keyword.len())
    };
    let fits = |words: &[Vec<u8>]| words.iter().all(|word| held(word).is_some());
    let Some(words) = required_words(hir, &fits) else {
        return Vec::new();
    };
    let mut found: Vec<String> = Vec::new();
    for word in &words {
        let keyword = String::from_utf8_lossy(held(word).expect("the words fit")).into_owned();
        if !found.contains(&keyword) {
            found.push(keyword);
        }
    }
    found
}

/// The most line feeds a match of `hir` can hold; `None`: no bound.
fn most_newlines(hir: &Hir) -> Option<usize> {
    match hir.kind() {
        HirKind::Repetition(rep) => match most_newlines(&rep.sub)? {
            0 => Some(0),
            each => each.checked_mul(rep.max? as usize),
        },
        HirKind::Capture(capture) => most_newlines(&capture.sub),
        HirKind::Concat(subs) => subs.iter().map(most_newlines).sum(),
        HirKind::Alternation(subs) => (subs.iter().map(most_newlines))
            .collect::<Option<Vec<usize>>>()?
            .into_iter()
            .max(),
        HirKind::Literal(literal) => Some(literal.0.iter().filter(|&&b| b == b'\n').count()),
        _ => Some(usize::from(can_match_newline(hir))),
    }
}

fn contains(word: &[u8], keyword: &[u8]) -> bool {
    word.windows(keyword.len()).any(|at| at == keyword)
}

/// Whether some match of `hir` can hold a line feed.
fn can_match_newline(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(literal) => literal.0.contains(&b'\n'),
        HirKind::Class(Class::Unicode(class)) => {
            (class.ranges().iter()).any(|range| range.start() <= '\n' && '\n' <= range.end())
        }
        HirKind::Class(Class::Bytes(class)) => {
            (class.ranges().iter()).any(|range| range.start() <= b'\n' && b'\n' <= range.end())
        }
        HirKind::Repetition(rep) => rep.max != Some(0) && can_match_newline(&rep.sub),
        HirKind::Capture(capture) => can_match_newline(&capture.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().any(can_match_newline),
    }
}

/// What the words found must be: each holding a keyword.
type Fits<'a> = dyn Fn(&[Vec<u8>]) -> bool + 'a;

/// Words (lowercase ASCII) one of which every match of `hir` holds, ASCII case folded, and
/// that `fits` accepts.
fn required_words(hir: &Hir, fits: &Fits) -> Option<Vec<Vec<u8>>> {
    if let Some(words) = exact_words(hir).filter(|words| fits(words)) {
        return Some(words);
    }
    match hir.kind() {
        HirKind::Capture(capture) => required_words(&capture.sub, fits),
        HirKind::Repetition(rep) if rep.min >= 1 => required_words(&rep.sub, fits),
        HirKind::Alternation(subs) => {
            let mut all = Vec::new();
            for sub in subs {
                all.extend(required_words(sub, fits)?);
            }
            (all.len() <= MOST_WORDS).then_some(all)
        }
        HirKind::Concat(subs) => best_in_concat(subs, fits),
        _ => None,
    }
}

/// The best words of a concatenation that `fits` accepts: those of a run of factors that
/// each match a few words (their product), or of one factor; best is the longest shortest
/// word.
fn best_in_concat(subs: &[Hir], fits: &Fits) -> Option<Vec<Vec<u8>>> {
    let mut best: Option<Vec<Vec<u8>>> = None;
    let mut keep = |words: Vec<Vec<u8>>| {
        if fits(&words) && shortest(&words) > best.as_ref().map_or(0, |best| shortest(best)) {
            best = Some(words);
        }
    };
    let mut run: Option<Vec<Vec<u8>>> = None;
    for sub in subs {
        match exact_words(sub) {
            Some(words) => {
                let so_far = run.take().unwrap_or(vec![Vec::new()]);
                run = match product(&so_far, &words) {
                    Some(longer) => Some(longer),
                    // Too many: the run so far, and this factor alone from here.
                    None => {
                        keep(so_far);
                        Some(words)
                    }
                };
            }
            None => {
                if let Some(words) = run.take() {
                    keep(words);
                }
                if let Some(words) = required_words(sub, fits) {
                    keep(words);
                }
            }
        }
    }
    if let Some(words) = run {
        keep(words);
    }
    best
}

fn shortest(words: &[Vec<u8>]) -> usize {
    words.iter().map(Vec::len).min().unwrap_or(0)
}

fn product(heads: &[Vec<u8>], tails: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if heads.len() * tails.len() > MOST_WORDS {
        return None;
    }
    let joined = heads.iter().flat_map(|head| {
        tails
            .iter()
            .map(move |tail| [head.as_slice(), tail].concat())
    });
    Some(joined.collect())
}

/// Every string `hir` matches, lowercased, when they are few and each is ASCII letters and
/// other ASCII bytes as the walk folds them (see the module doc for the long s and Kelvin).
fn exact_words(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(literal) => {
            let bytes = &literal.0;
            (bytes.is_ascii()).then(|| vec![bytes.to_ascii_lowercase()])
        }
        HirKind::Class(class) => folded_byte(class).map(|byte| vec![vec![byte]]),
        HirKind::Capture(capture) => exact_words(&capture.sub),
        HirKind::Concat(subs) => (subs.iter()).try_fold(vec![Vec::new()], |words, sub| {
            product(&words, &exact_words(sub)?)
        }),
        HirKind::Alternation(subs) => {
            let mut all = Vec::new();
            for sub in subs {
                all.extend(exact_words(sub)?);
            }
            (all.len() <= MOST_WORDS).then_some(all)
        }
        HirKind::Repetition(_) => None,
    }
}

/// The lowercase byte of a class that is one ASCII byte or one letter in both cases (with
/// the long s or Kelvin sign a Unicode class of `s` or `k` adds).
fn folded_byte(class: &Class) -> Option<u8> {
    let members: Vec<char> = match class {
        Class::Unicode(class) => {
            let mut members = Vec::new();
            for range in class.ranges() {
                if (range.end() as u32) - (range.start() as u32) > 3 {
                    return None;
                }
                members.extend(range.start()..=range.end());
            }
            members
        }
        Class::Bytes(class) => {
            let mut members = Vec::new();
            for range in class.ranges() {
                if range.end() - range.start() > 3 {
                    return None;
                }
                members.extend((range.start()..=range.end()).map(char::from));
            }
            members
        }
    };
    let ascii: Vec<char> = members.iter().copied().filter(char::is_ascii).collect();
    let wide = members.iter().filter(|member| !member.is_ascii());
    let lower = ascii.first()?.to_ascii_lowercase();
    let one_letter = ascii
        .iter()
        .all(|member| member.to_ascii_lowercase() == lower)
        && (ascii.len() == 1 || (ascii.len() == 2 && lower.is_ascii_lowercase()));
    let folds = wide.into_iter().all(|member| WIDE_FOLDS.contains(member));
    (one_letter && folds && ascii.len() <= 2).then_some(lower as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_the_keywords_every_match_holds_and_the_reach_bounds_them() {
        let lines = |n| Some(Reach::Lines(n));
        type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], Option<Reach>);
        let cases: &[Case] = &[
            // The Kelvin sign for `k` is three bytes.
            (
                r"(?i:kagi)_[a-z]{8}",
                &["kagi"],
                &["kagi"],
                Some(Reach::Bytes(15)),
            ),
            // The longest keyword a word holds.
            (
                r"xoxe\.xoxb-[0-9]",
                &["xox", "xoxe."],
                &["xoxe."],
                Some(Reach::Bytes(11)),
            ),
            // Unbounded, but within a line, or a line feed at most in its last byte.
            (
                r"(?i:toggl)[ \t]*=[a-z]{4}",
                &["toggl"],
                &["toggl"],
                lines(0),
            ),
            (
                r"(?i:toggl)[ \t]*=[a-z]{4}(?:[^a-z]|$)",
                &["toggl"],
                &["toggl"],
                lines(1),
            ),
            (
                r"(?i:toggl)[ \t]*(?:\n[ \t]*){0,2}=",
                &["toggl"],
                &["toggl"],
                lines(2),
            ),
            // Any number of line feeds, or a match without a keyword: none.
            (r"(?i:toggl)\s*=[a-z]{4}", &["toggl"], &[], None),
            (r"(?:kagi|other)_[a-z]{8}", &["kagi"], &[], None),
            (r"(?:kagi)?_[a-z]{8}", &["kagi"], &[], None),
        ];
        for (pattern, keywords, words, reach) in cases {
            let found = anchors(pattern, keywords);
            let expected =
                reach.map(|reach| (words.iter().map(|w| w.to_string()).collect(), reach));
            assert_eq!(found, expected, "{pattern}");
        }
    }

    /// Words when no keyword is held: the rule's own words, none holding another, at least
    /// three bytes long, with a bound in bytes or lines.
    #[test]
    fn word_anchors_are_words_every_match_holds_and_the_reach_bounds_them() {
        let words =
            |words: &[&str], reach| Some((words.iter().map(|w| w.to_string()).collect(), reach));
        type Found = Option<(Vec<String>, Reach)>;
        let cases: &[(&str, Found)] = &[
            (
                r#"(?i:secret)["'`]?[ \t]*(?:=|:)[ \t]*["'`]([A-Za-z0-9_-]{24})["'`]"#,
                words(&["secret"], Reach::Lines(0)),
            ),
            (
                r"(?:(?-u:\b)|_)(?i:ibm(?:cloud)?|watsonx)[ \t]*=([a-z]{4})(?:[^a-z]|$)",
                words(&["ibm", "watsonx"], Reach::Lines(1)),
            ),
            (
                r"(?:(?i:passwd)|(?-u:\b)(?i:secret))=([a-z]{8})",
                words(&["passwd=", "secret="], Reach::Bytes(17)),
            ),
            // Too short, too many, or no bound on the line feeds a match holds.
            (r"(?i:ab)[ \t]*=[a-z]{4}", None),
            (r"(?i:pass|word)[ \t]*=[a-z]{4}", None),
            (r"(?i:secret|passwd|private)[ \t]*=[a-z]{4}", None),
            (r"(?-u:\b)machine[ \t]+[^\s]+\s+login", None),
            (r"[a-z]{8}", None),
        ];
        for (pattern, expected) in cases {
            assert_eq!(&word_anchors(pattern), expected, "{pattern}");
        }
    }

    #[test]
    fn words_are_found_where_every_match_holds_them() {
        let held = |pattern, keywords| held_keywords(&parse(pattern).unwrap(), keywords);
        let cases: &[(&str, &[&str], &[&str])] = &[
            // The ODBC rule: its keywords, not the words that open it.
            (
                r"(?i:(?:server|user id|uid)[ \t]*=[^;\n]{0,200};[^\n]{0,400}?(?:password|pwd)[ \t]*=)([^;\s]{3,128})",
                &["password", "pwd", "server"],
                &["password", "pwd"],
            ),
            (r"(?i:kagi)_[a-z]{8}", &["kagi"], &["kagi"]),
            (r"(?-u:\b)(xoxe\.xox[bp]-[0-9])", &["xoxe."], &["xoxe."]),
            // Line breaks in between: the reach tells (see the test above).
            (r"(?i:kagi)\s+[a-z]{8}", &["kagi"], &["kagi"]),
            // A branch without a keyword, or a keyword only maybe there: anywhere.
            (r"(?:kagi|other)_[a-z]{8}", &["kagi"], &[]),
            (r"(?:kagi)?_[a-z]{8}", &["kagi"], &[]),
            (r"[a-z]{8}", &["kagi"], &[]),
        ];
        for (pattern, keywords, expected) in cases {
            assert_eq!(&held(pattern, keywords), expected, "{pattern}");
        }
    }

    /// A Unicode case-insensitive ASCII letter matches no character outside ASCII but the
    /// long s and the Kelvin sign, the two that [`WIDE_FOLDS`] names.
    #[test]
    fn only_the_wide_folds_match_ascii_letters() {
        for letter in ('a'..='z').chain('A'..='Z') {
            let hir = regex_syntax::Parser::new()
                .parse(&format!("(?i){letter}"))
                .unwrap();
            let HirKind::Class(Class::Unicode(class)) = hir.kind() else {
                panic!("{letter} folds to a class")
            };
            for range in class.ranges() {
                for member in (range.start()..=range.end()).filter(|c| !c.is_ascii()) {
                    assert!(WIDE_FOLDS.contains(&member), "{letter}: {member:?}");
                }
            }
        }
    }
}
