//! The longest run of bytes from one class that every match of a rule's regex holds (the 64
//! hex digits of `(?i:key|token)[^\n]{0,48}?\b([a-f0-9]{64})\b`), read off the regex's syntax
//! tree. A text without such a run cannot match, and looking for one skips through the text:
//! when the last byte of a window as long as the run is outside the class, no run ends in that
//! window and the next one starts after it. Rules whose regexes open with common words
//! (`key`, `token`) or have no literal at all ran at 0.1 to 0.7 GB/s over the source that names
//! their vendor; the check reads a fraction of its bytes, and a text that fails it needs no
//! compiled regex either.

use regex_syntax::hir::{Class, Hir, HirKind};

/// Shorter runs are too common in code (identifiers, numbers) to rule a text out.
const WORTH_CHECKING: u32 = 16;

/// A class of bytes and how many of them in a row every match holds.
#[derive(Debug, Clone)]
pub struct RequiredRun {
    members: [bool; 256],
    length: usize,
}

impl RequiredRun {
    /// The requirement of `pattern` (parsed as the scanner's byte regexes are), if it has one
    /// worth checking: a repetition of a single class, at least [`WORTH_CHECKING`] times, on
    /// the path every match takes (not inside an alternation or an optional part).
    pub fn of(pattern: &str) -> Option<RequiredRun> {
        let hir = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()?;
        longest(&hir)
    }

    /// Whether `text` holds `length` member bytes in a row.
    pub fn is_in(&self, text: &[u8]) -> bool {
        let length = self.length;
        // The window is text[end - length..end].
        let mut end = length;
        while end <= text.len() {
            if !self.members[usize::from(text[end - 1])] {
                end += length;
                continue;
            }
            let start = end - length;
            match text[start..end - 1]
                .iter()
                .rposition(|&b| !self.members[usize::from(b)])
            {
                // A run must start after the last outsider.
                Some(outsider) => end = start + outsider + 1 + length,
                None => return true,
            }
        }
        false
    }
}

/// The longest class run that every match of `hir` holds.
fn longest(hir: &Hir) -> Option<RequiredRun> {
    match hir.kind() {
        HirKind::Capture(capture) => longest(&capture.sub),
        HirKind::Concat(parts) => parts
            .iter()
            .filter_map(longest)
            .max_by_key(|run| run.length),
        HirKind::Repetition(repetition) if repetition.min >= 1 => match repetition.sub.kind() {
            HirKind::Class(class) if repetition.min >= WORTH_CHECKING => {
                run_of(class, repetition.min as usize)
            }
            // What is repeated at least once is there at least once.
            _ => longest(&repetition.sub),
        },
        _ => None,
    }
}

/// A class as bytes: Unicode classes only when every member is ASCII (a wider one would match
/// multi-byte sequences, which a byte table cannot follow).
fn run_of(class: &Class, length: usize) -> Option<RequiredRun> {
    let mut members = [false; 256];
    match class {
        Class::Bytes(bytes) => {
            for range in bytes.iter() {
                members[usize::from(range.start())..=usize::from(range.end())].fill(true);
            }
        }
        Class::Unicode(chars) => {
            for range in chars.iter() {
                let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                if end > 0x7f {
                    return None;
                }
                members[start as usize..=end as usize].fill(true);
            }
        }
    }
    Some(RequiredRun { members, length })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(pattern: &str, text: &[u8]) -> bool {
        regex::bytes::Regex::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn finds_the_run_every_match_needs() {
        let cases: [(&str, Option<usize>); 9] = [
            (
                r"(?i:key|token)(?-u:[^\n]){0,48}?(?-u:\b)([a-f0-9]{64})(?-u:\b)",
                Some(64),
            ),
            (
                r"(?-u:\b)([a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{12}:[a-f0-9]{32})",
                Some(32),
            ),
            (
                r"(?:^|[^A-Za-z0-9_-])([A-Za-z0-9]{32})(?:[^A-Za-z0-9_-]|$)",
                Some(32),
            ),
            (r"r8_[A-Za-z0-9]{37}", Some(37)),
            (r"(?:[a-z]{20}|x)", None),
            (r"([a-z]{20})?", None),
            (r"[a-z]{8}", None),
            (r"\w{20}", None),
            (r"(?:ab[0-9]{20}){2,}", Some(20)),
        ];
        for (pattern, expected) in cases {
            assert_eq!(
                RequiredRun::of(pattern).map(|run| run.length),
                expected,
                "{pattern}"
            );
        }
    }

    /// Every text a regex matches passes the check, and a text that fails the check is one the
    /// regex does not match, at every length around the run and every place in the text.
    #[test]
    fn never_rules_out_a_text_that_matches() {
        let pattern = r"(?i:key)(?-u:[^\n]){0,8}?(?-u:\b)([a-f0-9]{16})(?-u:\b)";
        let run = RequiredRun::of(pattern).expect("a run of 16");
        for length in 14..19 {
            for lead in 0..20 {
                let mut text = b"token KEY = ".to_vec();
                text.extend(std::iter::repeat_n(b'z', lead));
                text.extend(std::iter::repeat_n(b'e', length));
                text.extend(b" x");
                let matches = naive(pattern, &text);
                assert!(
                    !matches || run.is_in(&text),
                    "{}",
                    String::from_utf8_lossy(&text)
                );
                assert_eq!(run.is_in(&text), length >= 16, "{length} after {lead}");
            }
        }
        // Outsiders at every distance from a run's end.
        let mut text = vec![b'a'; 40];
        for gap in 0..40 {
            text[gap] = b'-';
            let longest_run = gap.max(40 - gap - 1);
            assert_eq!(run.is_in(&text), longest_run >= 16, "outsider at {gap}");
            text[gap] = b'a';
        }
        assert!(!run.is_in(b""));
        assert!(!run.is_in(b"0123456789abcde"));
        assert!(run.is_in(b"0123456789abcdef"));
    }
}
