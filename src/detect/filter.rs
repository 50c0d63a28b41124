//! Filters applied after a regex matched: context, entropy, character classes, references
//! and inline allow comments. Pure functions over bytes.

use crate::detect::rules::{Context, Filters, ReferenceSpec, Side, Window};

/// Why a regex match is not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    NoContext,
    LowEntropy,
    TooFewDigits,
    TooFewUpper,
    TooFewLower,
    Placeholder,
    Reference,
    /// Part of a URL path or git ref (`not_preceded_by`).
    Preceded,
    /// A CamelCase name such as `Mistral3ForConditionalGeneration` (`reject_identifiers`).
    Identifier,
}

/// Shannon entropy of `bytes` in bits per byte.
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Entropy and character-class minimums of a rule.
pub fn check_filters(secret: &[u8], filters: &Filters) -> Result<(), Rejection> {
    if filters
        .entropy
        .is_some_and(|min| shannon_entropy(secret) < min)
    {
        return Err(Rejection::LowEntropy);
    }
    let count = |pred: fn(&u8) -> bool| secret.iter().filter(|b| pred(b)).count();
    if count(u8::is_ascii_digit) < filters.min_digits {
        return Err(Rejection::TooFewDigits);
    }
    if count(u8::is_ascii_uppercase) < filters.min_upper {
        return Err(Rejection::TooFewUpper);
    }
    if count(u8::is_ascii_lowercase) < filters.min_lower {
        return Err(Rejection::TooFewLower);
    }
    if filters.reject_identifiers && looks_like_identifier(secret) {
        return Err(Rejection::Identifier);
    }
    Ok(())
}

/// Share of a value covered by words (`For`, `Conditional`, a leading `optimization`) at or
/// above which it reads as a code identifier. Measured on 200,000 random 32- and 40-character
/// alphanumeric strings: fewer than 1 in 10,000 reach it; class names in transformers and
/// mistralai sit at 0.81 to 0.97.
const IDENTIFIER_WORD_SHARE: f64 = 0.8;

/// True for CamelCase or camelCase names: mostly capitalised words of three or more letters.
pub fn looks_like_identifier(value: &[u8]) -> bool {
    if value.is_empty() {
        return false;
    }
    let lower_run = |from: usize| {
        value[from..]
            .iter()
            .take_while(|b| b.is_ascii_lowercase())
            .count()
    };
    let mut covered = 0;
    let mut i = 0;
    while i < value.len() {
        let word = if i == 0 && lower_run(0) >= 4 {
            lower_run(0)
        } else if value[i].is_ascii_uppercase() {
            let run = lower_run(i + 1);
            let ends_word = value
                .get(i + 1 + run)
                .is_none_or(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if run >= 3 || (run == 2 && ends_word) {
                run + 1
            } else {
                0
            }
        } else {
            0
        };
        covered += word;
        i += word.max(1);
    }
    covered as f64 >= IDENTIFIER_WORD_SHARE * value.len() as f64
}

/// True when the byte right before `start` is one the rule says cannot precede a secret.
pub fn is_preceded_by(content: &[u8], start: usize, bytes: &str) -> bool {
    start > 0 && bytes.as_bytes().contains(&content[start - 1])
}

/// True when the value reads a variable (`process.env.X`, `os.environ[...]`) instead of being
/// a literal.
pub fn is_reference(secret: &[u8], spec: &ReferenceSpec) -> bool {
    spec.prefixes.iter().any(|prefix| {
        secret.len() >= prefix.len()
            && secret[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    })
}

/// True when a context keyword occurs where the rule asks for it around `start..end`.
pub fn has_context(content: &[u8], start: usize, end: usize, context: &Context) -> bool {
    let (before, after) = match context.window {
        Window::Bytes(window) => (
            start.saturating_sub(window)..start,
            end..end.saturating_add(window).min(content.len()),
        ),
        // A very long line is minified code or data, not lines a person wrote: there the
        // provider's name can be anywhere, so only the bytes right around the secret count.
        Window::Lines(_)
            if lines_after(content, end, 0) - lines_before(content, start, 0) > LONG_LINE =>
        {
            (
                start.saturating_sub(LONG_LINE_WINDOW)..start,
                end..end.saturating_add(LONG_LINE_WINDOW).min(content.len()),
            )
        }
        Window::Lines(lines) => (
            lines_before(content, start, lines)..start,
            end..lines_after(content, end, lines),
        ),
    };
    let found = |range: std::ops::Range<usize>| context.keywords.is_match(&content[range]);
    match context.side {
        Side::Before => found(before),
        Side::After => found(after),
        Side::Both => found(before) || found(after),
        Side::File => context.keywords.is_match(content),
    }
}

/// The bytes a context keyword must lie within for a match inside `window` of `content` to
/// have its context (as [`has_context`] asks): a window whose reach holds no keyword needs no
/// search. Around a window on one long line, the bytes around count; around one whose lines
/// are short, the lines; else either, depending on the match. `None` when the lines around
/// reach further than 4 KiB (`REACH_SCAN`): windows on a megabyte line of minified code must
/// not each look for its ends.
pub fn context_reach(
    content: &[u8],
    window: std::ops::Range<usize>,
    (reach, side): (Window, Side),
) -> Option<std::ops::Range<usize>> {
    let (start, end) = (window.start, window.end);
    let (before, after) = match reach {
        Window::Bytes(bytes) => (
            start.saturating_sub(bytes),
            end.saturating_add(bytes).min(content.len()),
        ),
        Window::Lines(lines) => {
            let bytes = (
                start.saturating_sub(LONG_LINE_WINDOW),
                end.saturating_add(LONG_LINE_WINDOW).min(content.len()),
            );
            let (first, above) = line_starts_before(content, start, lines);
            let (last, below) = line_ends_after(content, end, lines);
            // A line's end not found within the scan is further than a long line's length.
            let long = first
                .zip(last)
                .is_none_or(|(first, last)| last - first > LONG_LINE);
            match long {
                // Every match is on this long line.
                true if memchr::memchr(b'\n', &content[start..end]).is_none() => bytes,
                // A match's lines are no longer than the window's.
                false => (above?, below?),
                true => (above?.min(bytes.0), below?.max(bytes.1)),
            }
        }
    };
    Some(match side {
        Side::Before => before..end,
        Side::After => start..after,
        Side::Both => before..after,
        Side::File => 0..content.len(),
    })
}

/// Bytes [`context_reach`] looks through for the lines around a window, on each side.
const REACH_SCAN: usize = 4096;

/// Where the line holding `offset` starts, and the line `lines` above it; each `None` when it
/// is further back than [`REACH_SCAN`] bytes.
fn line_starts_before(
    content: &[u8],
    offset: usize,
    lines: usize,
) -> (Option<usize>, Option<usize>) {
    let from = offset.saturating_sub(REACH_SCAN);
    let at_start = (from == 0).then_some(0);
    let mut newlines = memchr::memrchr_iter(b'\n', &content[from..offset]).map(|at| from + at + 1);
    let own = newlines.next().or(at_start);
    match lines {
        0 => (own, own),
        _ => (own, newlines.nth(lines - 1).or(at_start)),
    }
}

/// Where the line holding `offset` ends, and the line `lines` below it; each `None` when it
/// is further on than [`REACH_SCAN`] bytes.
fn line_ends_after(content: &[u8], offset: usize, lines: usize) -> (Option<usize>, Option<usize>) {
    let to = offset.saturating_add(REACH_SCAN).min(content.len());
    let at_end = (to == content.len()).then_some(to);
    let mut newlines = memchr::memchr_iter(b'\n', &content[offset..to]).map(|at| offset + at);
    let own = newlines.next().or(at_end);
    match lines {
        0 => (own, own),
        _ => (own, newlines.nth(lines - 1).or(at_end)),
    }
}

/// Lines longer than this (minified JavaScript, tokenizer data) do not count as lines for
/// context windows; [`LONG_LINE_WINDOW`] bytes on each side do instead.
const LONG_LINE: usize = 1000;
const LONG_LINE_WINDOW: usize = 64;

/// True when a context keyword sits on the secret's own line(s).
pub fn context_on_line(content: &[u8], start: usize, end: usize, context: &Context) -> bool {
    let line = lines_before(content, start, 0)..lines_after(content, end, 0);
    context.keywords.is_match(&content[line])
}

/// Start of the line `lines` lines above the one holding `offset` (0 at the top).
fn lines_before(content: &[u8], offset: usize, lines: usize) -> usize {
    let mut newlines = memchr::memrchr_iter(b'\n', &content[..offset]);
    newlines.nth(lines).map_or(0, |at| at + 1)
}

/// End of the line `lines` lines below the one holding `offset` (the content's end at most).
fn lines_after(content: &[u8], offset: usize, lines: usize) -> usize {
    let mut newlines = memchr::memchr_iter(b'\n', &content[offset..]);
    newlines.nth(lines).map_or(content.len(), |at| offset + at)
}

/// True when `text` carries `marker` as a whole word (`tokenguard:allow` is not the start of
/// `tokenguard:allow-next-line`) that applies to `rule_id`: a rule id right after the marker
/// (`is_rule_id` tells) limits it to that rule, and so does a word written like one (lower
/// case with a hyphen, `hf-token`) that names no rule: it allows nothing, rather than every
/// rule on the line. Any other word is a reason.
pub fn marker_allows(
    text: &[u8],
    marker: &str,
    rule_id: &str,
    is_rule_id: impl Fn(&[u8]) -> bool,
) -> bool {
    memchr::memmem::find_iter(text, marker.as_bytes()).any(|at| {
        let rest = &text[at + marker.len()..];
        if rest
            .first()
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-')
        {
            return false;
        }
        let word: Vec<u8> = rest
            .iter()
            .skip_while(|b| **b == b' ')
            .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'-')
            .copied()
            .collect();
        let names_a_rule = is_rule_id(&word) || looks_like_rule_id(&word);
        !names_a_rule || word == rule_id.as_bytes()
    })
}

/// A word written as rule ids are: lower-case words joined by hyphens (`hf-token`).
pub fn looks_like_rule_id(word: &[u8]) -> bool {
    word.contains(&b'-') && !word.starts_with(b"-") && !word.ends_with(b"-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rules::RuleSet;

    /// A window on a megabyte line reaches the bytes around it; one whose lines around reach
    /// past a long line is not bounded (each window on such a line scanned it whole).
    #[test]
    fn a_reach_does_not_look_far_for_line_ends() {
        let line = vec![b'a'; 1 << 20];
        let lines = (Window::Lines(3), Side::Both);
        assert_eq!(context_reach(&line, 5000..5010, lines), Some(4936..5074));
        let text = [b"x\n", &line[..10_000], b"\nshort\n"].concat();
        assert_eq!(context_reach(&text, 10_004..10_006, lines), None);
        let bytes = (Window::Bytes(48), Side::Before);
        assert_eq!(context_reach(&text, 100..110, bytes), Some(52..110));
    }

    /// Wherever a context keyword sits for a match inside a window, it lies within the
    /// window's reach: windows on short lines, on a long line and across both, every side.
    #[test]
    fn a_window_reach_holds_every_keyword_a_match_in_it_can_have() {
        let mut base = Vec::new();
        for line in 0..12 {
            let len = if line == 6 { 1100 } else { line * 3 };
            base.extend(std::iter::repeat_n(b'a', len));
            base.push(b'\n');
        }
        let keywords = aho_corasick::AhoCorasick::new(["kw"]).expect("builds");
        let windows = [Window::Bytes(5), Window::Lines(0), Window::Lines(2)];
        let sides = [Side::Before, Side::After, Side::Both];
        for (window, side) in windows.into_iter().flat_map(|w| sides.map(|s| (w, s))) {
            for at in (0..base.len()).step_by(37) {
                let mut text = base.clone();
                text.splice(at..at, *b"kw");
                let keyword = at..at + 2;
                let context = Context {
                    keywords: keywords.clone(),
                    window,
                    side,
                };
                for start in (0..text.len()).step_by(41) {
                    let end = (start + 90).min(text.len());
                    let reach = context_reach(&text, start..end, (window, side));
                    let in_reach = reach.is_none_or(|reach| {
                        reach.start <= keyword.start && keyword.end <= reach.end
                    });
                    for s in (start..end).step_by(11) {
                        for e in (s..end).step_by(23) {
                            assert!(
                                in_reach || !has_context(&text, s, e, &context),
                                "{window:?} {side:?} keyword {keyword:?} window {start}..{end} match {s}..{e}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn entropy_values() {
        let cases: [(&[u8], f64); 4] = [(b"", 0.0), (b"aaaa", 0.0), (b"abab", 1.0), (b"abcd", 2.0)];
        for (bytes, expected) in cases {
            assert!(
                (shannon_entropy(bytes) - expected).abs() < 1e-9,
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn references() {
        let spec = RuleSet::builtin().unwrap().references;
        let cases = [
            ("process.env.REPLICATE_API_TOKEN_V2", true),
            ("os.environ.get", true),
            ("Settings.replicate_token_2", true),
            ("q8Zr2LmP0vXy7TbN", false),
        ];
        for (value, expected) in cases {
            assert_eq!(is_reference(value.as_bytes(), &spec), expected, "{value}");
        }
    }

    #[test]
    fn filter_minimums() {
        let filters = Filters {
            entropy: Some(2.0),
            min_digits: 2,
            min_upper: 1,
            min_lower: 1,
            not_preceded_by: String::new(),
            reject_identifiers: false,
        };
        let cases: [(&str, Result<(), Rejection>); 5] = [
            ("aB12cd", Ok(())),
            ("aaaaaaaa", Err(Rejection::LowEntropy)),
            ("aBcdef1", Err(Rejection::TooFewDigits)),
            ("abcd12", Err(Rejection::TooFewUpper)),
            ("ABCD12", Err(Rejection::TooFewLower)),
        ];
        for (value, expected) in cases {
            assert_eq!(
                check_filters(value.as_bytes(), &filters),
                expected,
                "{value}"
            );
        }
    }

    #[test]
    fn identifiers() {
        let cases = [
            ("Mistral3ForConditionalGeneration", true),
            ("EvaluationRunV2ResponseModelItem", true),
            ("optimizationTrialObservation12", true),
            ("MistralLarge4ForCausalLMModel123", true),
            // Random bodies are built from halves: no token-shaped literal in our own source.
            (concat!("q8Zr2LmP0vXy7TbN", "q8Zr2LmP0vXy7TbN"), false),
            (concat!("Kq9mTz3LwPx8Rv2N", "bY6cHd4JsFg1QeUa"), false),
            ("", false),
        ];
        for (value, expected) in cases {
            assert_eq!(looks_like_identifier(value.as_bytes()), expected, "{value}");
        }
    }

    #[test]
    fn line_windows() {
        let text = b"a\nbb\nKEY\ndd\ne";
        let key = 5; // the K of KEY, on line 3
        assert_eq!(lines_before(text, key, 0), 5);
        assert_eq!(lines_before(text, key, 1), 2);
        assert_eq!(lines_before(text, key, 5), 0);
        assert_eq!(lines_after(text, key + 3, 0), 8);
        assert_eq!(lines_after(text, key + 3, 1), 11);
        assert_eq!(lines_after(text, key + 3, 5), text.len());
    }

    #[test]
    fn preceding_bytes() {
        assert!(is_preceded_by(b"x@abc", 2, "@/"));
        assert!(!is_preceded_by(b"x=abc", 2, "@/"));
        assert!(!is_preceded_by(b"abc", 0, "@/"));
    }

    #[test]
    fn allow_markers() {
        let is_rule = |word: &[u8]| word == b"rule-a" || word == b"rule-b";
        let cases: [(&[u8], &str, bool); 9] = [
            (b"x = 1 # tokenguard:allow", "tokenguard:allow", true),
            (
                b"x = 1 // pragma: allowlist secret",
                "pragma: allowlist secret",
                true,
            ),
            (b"x = 1 # allow", "tokenguard:allow", false),
            (b"# tokenguard:allow-next-line", "tokenguard:allow", false),
            (
                b"# tokenguard:allow rule-a: fixture",
                "tokenguard:allow",
                true,
            ),
            (b"# tokenguard:allow rule-b", "tokenguard:allow", false),
            (b"# tokenguard:allow test fixture", "tokenguard:allow", true),
            // An unknown rule id allows nothing.
            (b"# tokenguard:allow hf-token", "tokenguard:allow", false),
            (
                b"# tokenguard:allow rule-c: fixture",
                "tokenguard:allow",
                false,
            ),
        ];
        for (text, marker, expected) in cases {
            assert_eq!(
                marker_allows(text, marker, "rule-a", is_rule),
                expected,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }
}
