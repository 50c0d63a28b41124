//! Where a secret sits on one line of code: inside which string literal (and its quotes and
//! prefix), in a comment, or in a bare word. A small tokenizer per syntax family, enough to
//! rewrite one literal; a line it cannot read (a triple-quoted or multi-line string) yields
//! `None`, which becomes a manual step.

/// The string syntax of a language family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Syntax {
    /// `'…'`, `"…"`, prefixes `r b f u`, `#` comments.
    Python,
    /// `'…'`, `"…"`, `` `…` ``, `//` comments.
    JavaScript,
    /// `'…'`, `"…"`, `#` comments at the start of a word.
    Shell,
}

/// What encloses a position of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Place {
    /// Inside a string literal.
    Literal(Literal),
    /// Inside a comment.
    Comment,
    /// Outside any literal or comment (a bare shell word).
    Bare,
    /// In the body of a shell heredoc; `quoted`: its delimiter is quoted, so the shell
    /// expands nothing in it.
    Heredoc { quoted: bool },
}

/// One string literal on a line, as byte offsets into the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Literal {
    /// Where the literal starts, its prefix included (`f"…"` starts at `f`).
    pub start: usize,
    /// Just past the closing quote.
    pub end: usize,
    /// The prefix letters, lowercased (`f`, `rb`), empty for none.
    pub prefix: String,
    pub quote: char,
    /// Where the content starts and ends (inside the quotes).
    pub content_start: usize,
    pub content_end: usize,
    /// A Python triple-quoted string.
    pub triple: bool,
    /// A shell `$'…'` string (backslash escapes, no expansion).
    pub ansi_c: bool,
}

impl Literal {
    /// The same literal with every offset moved by `delta` bytes back.
    pub(super) fn shifted_back(&self, delta: usize) -> Literal {
        Literal {
            start: self.start - delta,
            end: self.end - delta,
            content_start: self.content_start - delta,
            content_end: self.content_end - delta,
            ..self.clone()
        }
    }

    /// Moved `delta` bytes forward.
    pub(super) fn shifted(&self, delta: usize) -> Literal {
        Literal {
            start: self.start + delta,
            end: self.end + delta,
            content_start: self.content_start + delta,
            content_end: self.content_end + delta,
            ..self.clone()
        }
    }
}

/// What encloses `line[at..at + len]`; `None` when the line cannot be read (an unclosed or
/// triple-quoted string) or the span crosses a literal's boundary.
pub(super) fn place_of(line: &str, at: usize, len: usize, syntax: Syntax) -> Option<Place> {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut word_start = true;
    while i < bytes.len() {
        let c = bytes[i];
        if i >= at + len {
            return Some(Place::Bare);
        }
        let comment = match syntax {
            Syntax::Python => c == b'#',
            Syntax::Shell => c == b'#' && word_start,
            Syntax::JavaScript => c == b'/' && bytes.get(i + 1) == Some(&b'/'),
        };
        if comment {
            return Some(if at >= i { Place::Comment } else { Place::Bare });
        }
        let (prefix_len, quote) = match literal_opening(bytes, i, syntax) {
            Some(found) => found,
            None => {
                word_start = c.is_ascii_whitespace() || b";&|()".contains(&c);
                i += 1;
                continue;
            }
        };
        let open = i + prefix_len;
        if syntax == Syntax::Python && bytes[open..].starts_with(&[quote; 3]) {
            return None;
        }
        let raw = syntax == Syntax::Shell && quote == b'\'';
        let close = closing_quote(bytes, open + 1, quote, raw)?;
        if at < open + 1 {
            // The span starts before this literal's content and ends after its start.
            return None;
        }
        if at > open && at + len <= close {
            return Some(Place::Literal(Literal {
                start: i,
                end: close + 1,
                prefix: line[i..open].to_ascii_lowercase(),
                quote: quote as char,
                content_start: open + 1,
                content_end: close,
                triple: false,
                ansi_c: false,
            }));
        }
        if at < close + 1 && at + len > close {
            return None;
        }
        i = close + 1;
        word_start = false;
    }
    Some(Place::Bare)
}

/// A literal opening at `i`: the length of its prefix and its quote character.
fn literal_opening(bytes: &[u8], i: usize, syntax: Syntax) -> Option<(usize, u8)> {
    let is_quote = |b: u8| match syntax {
        Syntax::JavaScript => matches!(b, b'\'' | b'"' | b'`'),
        _ => matches!(b, b'\'' | b'"'),
    };
    if is_quote(bytes[i]) {
        return Some((0, bytes[i]));
    }
    if syntax != Syntax::Python || (i > 0 && is_identifier_byte(bytes[i - 1])) {
        return None;
    }
    // String prefixes: r, b, f, u and their two-letter combinations.
    let mut len = 0;
    while len < 2 && bytes.get(i + len).is_some_and(|b| b"rbfuRBFU".contains(b)) {
        len += 1;
    }
    match bytes.get(i + len) {
        Some(&q) if len > 0 && is_quote(q) => Some((len, q)),
        _ => None,
    }
}

/// The closing quote of a literal whose content starts at `from`; `raw`: no escapes.
fn closing_quote(bytes: &[u8], from: usize, quote: u8, raw: bool) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if !raw => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

pub(super) fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(line: &str, needle: &str, syntax: Syntax) -> Option<Place> {
        let at = line.find(needle).unwrap();
        place_of(line, at, needle.len(), syntax)
    }

    fn literal(line: &str, needle: &str, syntax: Syntax) -> Literal {
        match place(line, needle, syntax) {
            Some(Place::Literal(literal)) => literal,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn finds_the_enclosing_literal_per_syntax() {
        let l = literal(r#"x = f"Bearer SECRET""#, "SECRET", Syntax::Python);
        assert_eq!((l.start, l.prefix.as_str(), l.quote), (4, "f", '"'));
        let l = literal(r#"a = "x\"y", b = 'SECRET'"#, "SECRET", Syntax::Python);
        assert_eq!((l.start, l.end, l.quote), (16, 24, '\''));
        let l = literal("const t = `Bearer SECRET`;", "SECRET", Syntax::JavaScript);
        assert_eq!(l.quote, '`');
        let l = literal(r#"echo 'it\' "SECRET""#, "SECRET", Syntax::Shell);
        assert_eq!(l.quote, '"');
    }

    #[test]
    fn tells_comments_and_bare_words_apart() {
        let cases = [
            ("x = 1  # SECRET", Syntax::Python, Some(Place::Comment)),
            ("x = 1  // SECRET", Syntax::JavaScript, Some(Place::Comment)),
            ("export T=SECRET", Syntax::Shell, Some(Place::Bare)),
            ("echo a#SECRET", Syntax::Shell, Some(Place::Bare)),
            ("echo a # SECRET", Syntax::Shell, Some(Place::Comment)),
            (r#"x = """SECRET""""#, Syntax::Python, None),
            (r#"x = "SECRET"#, Syntax::Python, None),
        ];
        for (line, syntax, expected) in cases {
            assert_eq!(place(line, "SECRET", syntax), expected, "{line}");
        }
    }

    #[test]
    fn an_identifier_ending_in_a_prefix_letter_is_no_prefix() {
        let l = literal(r#"bar"SECRET""#, "SECRET", Syntax::Python);
        assert_eq!((l.start, l.prefix.as_str()), (3, ""));
    }
}
