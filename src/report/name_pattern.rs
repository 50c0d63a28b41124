//! The advice's way to name a file whose path holds a secret without printing it: a shell
//! pattern of the path's exact shape, each hidden character a `?`, the rest quoted as one
//! shell word, checked against the index so that it names the one staged path it means.

use super::advice::shell_word;
use crate::redact;

/// One character of a printed path: shown as it is, or hidden by the redaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Char {
    Shown(char),
    Hidden,
}

/// How a pattern fits the paths of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fit {
    /// The index was not read (not a commit being made).
    Unchecked,
    /// Exactly one staged path: the one the finding names.
    One,
    /// This many staged paths have the same shape.
    Many(usize),
    /// No staged path has this shape (the secret holds a character `?` cannot stand for).
    Nothing,
}

/// A redacted path as a shell pattern: the shown characters literal, each hidden one `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NamePattern {
    chars: Vec<Char>,
}

impl NamePattern {
    /// The pattern of a path as the redactor printed it: each `prefix…(N chars)` is the
    /// prefix, then `?` for each of the N characters it does not show.
    pub(super) fn of(redacted: &str) -> NamePattern {
        let mut chars = Vec::new();
        let mut rest = redacted;
        while let Some((before, length, after)) = next_redaction(rest) {
            chars.extend(before.chars().map(Char::Shown));
            let shown = shown_prefix(before, length);
            chars.extend(std::iter::repeat_n(Char::Hidden, length - shown));
            rest = after;
        }
        chars.extend(rest.chars().map(Char::Shown));
        NamePattern { chars }
    }

    /// The pattern as the user pastes it: shown runs as shell words, hidden characters `?`.
    pub(super) fn shell(&self) -> String {
        let mut out = String::new();
        let mut run = String::new();
        for char in &self.chars {
            match char {
                Char::Shown(c) => run.push(*c),
                Char::Hidden => {
                    if !run.is_empty() {
                        out.push_str(&shell_word(&std::mem::take(&mut run)));
                    }
                    out.push('?');
                }
            }
        }
        if !run.is_empty() || out.is_empty() {
            out.push_str(&shell_word(&run));
        }
        out
    }

    /// Checks the pattern against the staged paths, as the shell would expand it. Where a
    /// hidden character is one `?` cannot stand for (a `/`, a component's leading `.`) and
    /// one staged path alone has this shape, those characters are written out instead.
    pub(super) fn fit(&mut self, staged: Option<&[String]>) -> Fit {
        let Some(staged) = staged else {
            return Fit::Unchecked;
        };
        let strict = staged.iter().filter(|p| self.matches(p, true)).count();
        let loose: Vec<&String> = staged.iter().filter(|p| self.matches(p, false)).collect();
        match (strict, loose.as_slice()) {
            (1, _) => Fit::One,
            (0, [only]) => {
                self.pin_unmatchable(only);
                Fit::One
            }
            (0, []) => Fit::Nothing,
            (strict, loose) => Fit::Many(strict.max(loose.len())),
        }
    }

    /// True when `path` has this shape; `as_shell`: with the shell's rules, where `?` matches
    /// neither `/` nor the `.` that starts a path component.
    fn matches(&self, path: &str, as_shell: bool) -> bool {
        let mut previous = '/';
        let mut chars = self.chars.iter();
        for c in path.chars() {
            let fits = match chars.next() {
                Some(Char::Shown(shown)) => *shown == c,
                Some(Char::Hidden) => !as_shell || !(c == '/' || c == '.' && previous == '/'),
                None => false,
            };
            if !fits {
                return false;
            }
            previous = c;
        }
        chars.next().is_none()
    }

    /// Writes out the hidden characters of `path` that `?` cannot match.
    fn pin_unmatchable(&mut self, path: &str) {
        let mut previous = '/';
        for (char, c) in self.chars.iter_mut().zip(path.chars()) {
            if *char == Char::Hidden && (c == '/' || c == '.' && previous == '/') {
                *char = Char::Shown(c);
            }
            previous = c;
        }
    }
}

/// The text before the next `…(N chars)`, N, and the text after it.
fn next_redaction(text: &str) -> Option<(&str, usize, &str)> {
    let mut from = 0;
    while let Some(found) = text[from..].find('…') {
        let at = from + found;
        let after = &text[at + '…'.len_utf8()..];
        let parsed = after.strip_prefix('(').and_then(|inner| {
            let (digits, rest) = inner.split_once(" chars)")?;
            Some((digits.parse::<usize>().ok()?, rest))
        });
        if let Some((length, rest)) = parsed {
            return Some((&text[..at], length, rest));
        }
        from = at + '…'.len_utf8();
    }
    None
}

/// How many characters just before a redaction are the secret's shown prefix: as many as the
/// redactor shows for its length, fewer when one of them is not printable ASCII.
fn shown_prefix(before: &str, length: usize) -> usize {
    let shown = before
        .chars()
        .rev()
        .take(redact::shown_len(length))
        .take_while(char::is_ascii_graphic)
        .count();
    shown.min(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn each_hidden_character_becomes_one_question_mark() {
        let pattern = NamePattern::of("backups/dump-r8_6fM…(40 chars).json");
        assert_eq!(
            pattern.shell(),
            format!("backups/dump-r8_6fM{}.json", "?".repeat(34))
        );
        let spaced = NamePattern::of("a b/k-abcd…(16 chars)");
        assert_eq!(spaced.shell(), format!("'a b/k-abcd'{}", "?".repeat(12)));
        assert_eq!(NamePattern::of("plain.txt").shell(), "plain.txt");
        // Two secrets in one path, and a name that only looks like a redaction.
        let two = NamePattern::of("ab…(8 chars)/c…(4 chars)*…(x)");
        assert_eq!(two.shell(), "ab??????/c???'*…(x)'");
    }

    #[test]
    fn the_pattern_is_checked_against_the_staged_paths() {
        let mut pattern = NamePattern::of("k/r8_…(12 chars).txt");
        let real = "k/r8_012abcdef.txt";
        assert_eq!(pattern.fit(None), Fit::Unchecked);
        assert_eq!(pattern.fit(Some(&staged(&[real, "k/a.txt"]))), Fit::One);
        let other = "k/r8_zzzzzzzzz.txt";
        assert_eq!(pattern.fit(Some(&staged(&[real, other]))), Fit::Many(2));
        assert_eq!(pattern.fit(Some(&staged(&["k/r8_ab.txt"]))), Fit::Nothing);
    }

    #[test]
    fn a_slash_or_leading_dot_in_the_secret_is_written_out() {
        let mut pattern = NamePattern::of("d/abcd…(16 chars)");
        let real = "d/abcdefgh/.klmnop";
        assert_eq!(pattern.fit(Some(&staged(&[real]))), Fit::One);
        assert_eq!(pattern.shell(), "d/abcd????/.??????");
        assert!(pattern.matches(real, true));
    }
}
