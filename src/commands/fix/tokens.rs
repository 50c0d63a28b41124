//! What encloses each occurrence of a secret in a whole file: one pass of a small tokenizer per
//! language (strings with their prefixes, triple quotes, template literals and their `${…}`,
//! comments, shell quoting and heredocs, Dockerfile heredocs), merged with the sorted
//! occurrences, so a file is read once however many secrets it holds.

use super::literal::{Literal, Place, Syntax, is_identifier_byte};
use memchr::memchr;

/// Where each of `spans` (sorted, non-overlapping `(start, end)`) sits in `content`; `None`
/// when a span crosses a literal's or comment's boundary.
pub(super) fn places(
    content: &str,
    syntax: Syntax,
    spans: &[(usize, usize)],
) -> Vec<Option<Place>> {
    let mut locator = Locator {
        spans,
        next: 0,
        out: vec![Some(Place::Bare); spans.len()],
    };
    let bytes = content.as_bytes();
    match syntax {
        Syntax::Python => python(bytes, &mut locator),
        Syntax::JavaScript => javascript(bytes, &mut locator),
        Syntax::Shell => shell(bytes, &mut locator),
    }
    locator.out
}

/// The heredoc bodies of a Dockerfile's instructions (`RUN <<EOT` … `EOT`), for each span:
/// `Some(quoted)` when the span is in one.
pub(super) fn dockerfile_heredocs(content: &str, spans: &[(usize, usize)]) -> Vec<Option<bool>> {
    let mut locator = Locator {
        spans,
        next: 0,
        out: vec![Some(Place::Bare); spans.len()],
    };
    let bytes = content.as_bytes();
    let mut at = 0;
    let mut continued = false;
    while at < bytes.len() {
        let end = memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        let line = &bytes[at..end];
        let mut next = (end + 1).min(bytes.len());
        if !continued && !line.trim_ascii_start().starts_with(b"#") {
            let pending = heredoc_markers(line);
            if !pending.is_empty() {
                next = heredoc_bodies(bytes, next, &pending, &mut locator);
            }
        }
        continued = line.trim_ascii_end().ends_with(b"\\");
        at = next.max(end + 1);
    }
    locator
        .out
        .into_iter()
        .map(|p| match p {
            Some(Place::Heredoc { quoted }) => Some(quoted),
            _ => None,
        })
        .collect()
}

/// Assigns each queried span the place of the token that contains it.
struct Locator<'q> {
    spans: &'q [(usize, usize)],
    /// The first span not yet placed.
    next: usize,
    out: Vec<Option<Place>>,
}

impl Locator<'_> {
    /// A token at `start..end` whose inside (where a span must lie whole) is `inner`.
    fn emit(&mut self, start: usize, end: usize, inner: (usize, usize), place: impl Fn() -> Place) {
        while self.next < self.spans.len() && self.spans[self.next].0 < start {
            if self.spans[self.next].1 > start {
                self.out[self.next] = None;
            }
            self.next += 1;
        }
        while self.next < self.spans.len() && self.spans[self.next].0 < end {
            let (from, to) = self.spans[self.next];
            self.out[self.next] = (from >= inner.0 && to <= inner.1).then(&place);
            self.next += 1;
        }
    }

    fn done(&self) -> bool {
        self.next >= self.spans.len()
    }
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    memchr(b'\n', &bytes[from.min(bytes.len())..]).map_or(bytes.len(), |i| from + i)
}

fn literal(start: usize, end: usize, prefix: &[u8], quote: u8, inner: (usize, usize)) -> Literal {
    Literal {
        start,
        end,
        prefix: String::from_utf8_lossy(prefix).to_ascii_lowercase(),
        quote: quote as char,
        content_start: inner.0,
        content_end: inner.1,
        triple: false,
        ansi_c: false,
    }
}

/// The index of the closing `quote` from `from` on (a backslash escapes the next byte), and
/// whether the literal ended at an unescaped newline instead (`stop_at_newline`).
fn close_quote(
    bytes: &[u8],
    from: usize,
    quote: &[u8],
    escapes: bool,
    stop_at_newline: bool,
) -> usize {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 2,
            b'\n' if stop_at_newline => return i,
            b if b == quote[0] && bytes[i..].starts_with(quote) => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn python(bytes: &[u8], loc: &mut Locator) {
    let mut i = 0;
    while i < bytes.len() && !loc.done() {
        let c = bytes[i];
        if c == b'#' {
            let end = line_end(bytes, i);
            loc.emit(i, end, (i, end), || Place::Comment);
            i = end;
            continue;
        }
        let Some((prefix_len, quote)) = python_opening(bytes, i) else {
            i += 1;
            continue;
        };
        let open = i + prefix_len;
        let triple = bytes[open..].starts_with(&[quote; 3]);
        let width = if triple { 3 } else { 1 };
        let content_start = open + width;
        let closing: Vec<u8> = vec![quote; width];
        let close = close_quote(bytes, content_start, &closing, true, !triple);
        let end = (close
            + if bytes.get(close) == Some(&quote) {
                width
            } else {
                0
            })
        .min(bytes.len());
        let mut lit = literal(i, end, &bytes[i..open], quote, (content_start, close));
        lit.triple = triple;
        loc.emit(i, end, (content_start, close), || {
            Place::Literal(lit.clone())
        });
        i = end.max(i + 1);
    }
}

/// Just past the Python string literal opening at `at`, if one does.
pub(super) fn python_string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let (prefix_len, quote) = python_opening(bytes, at)?;
    let open = at + prefix_len;
    let width = if bytes[open..].starts_with(&[quote; 3]) {
        3
    } else {
        1
    };
    let closing = vec![quote; width];
    let close = close_quote(bytes, open + width, &closing, true, width == 1);
    bytes[close..]
        .starts_with(&closing)
        .then_some(close + width)
}

/// A Python string opening at `i`: the length of its prefix (`r`, `b`, `f`, `u`, two of
/// them) and its quote.
fn python_opening(bytes: &[u8], i: usize) -> Option<(usize, u8)> {
    if matches!(bytes[i], b'\'' | b'"') {
        return Some((0, bytes[i]));
    }
    if i > 0 && is_identifier_byte(bytes[i - 1]) {
        return None;
    }
    let mut len = 0;
    while len < 2 && bytes.get(i + len).is_some_and(|b| b"rbfuRBFU".contains(b)) {
        len += 1;
    }
    match bytes.get(i + len) {
        Some(&q) if len > 0 && matches!(q, b'\'' | b'"') => Some((len, q)),
        _ => None,
    }
}

fn javascript(bytes: &[u8], loc: &mut Locator) {
    // Brace depths at which a template's `${` expression closes back into its text.
    let mut templates: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() && !loc.done() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = line_end(bytes, i);
                loc.emit(i, end, (i, end), || Place::Comment);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = find(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2);
                loc.emit(i, end, (i, end), || Place::Comment);
                i = end;
            }
            q @ (b'\'' | b'"') => {
                let close = close_quote(bytes, i + 1, &[q], true, true);
                let end = (close + 1).min(bytes.len());
                let lit = literal(i, end, b"", q, (i + 1, close));
                loc.emit(i, end, (i + 1, close), || Place::Literal(lit.clone()));
                i = end;
            }
            b'`' => i = template_text(bytes, i, loc, &mut templates, depth),
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' if templates.last() == Some(&depth) => {
                templates.pop();
                i = template_text(bytes, i, loc, &mut templates, depth);
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
}

/// The text of a template literal from the byte at `open` (its backtick, or the `}` closing
/// an expression) to the closing backtick or the next `${`; returns where code resumes.
fn template_text(
    bytes: &[u8],
    open: usize,
    loc: &mut Locator,
    templates: &mut Vec<usize>,
    depth: usize,
) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => {
                let lit = literal(open, i + 1, b"", b'`', (open + 1, i));
                loc.emit(open, i + 1, (open + 1, i), || Place::Literal(lit.clone()));
                return i + 1;
            }
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                let lit = literal(open, i + 2, b"", b'`', (open + 1, i));
                loc.emit(open, i + 2, (open + 1, i), || Place::Literal(lit.clone()));
                templates.push(depth);
                return i + 2;
            }
            _ => i += 1,
        }
    }
    let lit = literal(open, bytes.len(), b"", b'`', (open + 1, bytes.len()));
    loc.emit(open, bytes.len(), (open + 1, bytes.len()), || {
        Place::Literal(lit.clone())
    });
    bytes.len()
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(&bytes[from.min(bytes.len())..], needle).map(|i| from + i)
}

/// One heredoc announced on a line: its delimiter, whether `<<-` strips leading tabs, whether
/// the delimiter is quoted (the body is then taken literally).
struct Heredoc {
    delimiter: Vec<u8>,
    strip_tabs: bool,
    quoted: bool,
}

fn shell(bytes: &[u8], loc: &mut Locator) {
    let mut pending: Vec<Heredoc> = Vec::new();
    let mut word_start = true;
    let mut i = 0;
    while i < bytes.len() && !loc.done() {
        let c = bytes[i];
        match c {
            b'\n' => {
                i += 1;
                if !pending.is_empty() {
                    i = heredoc_bodies(bytes, i, &pending, loc);
                    pending.clear();
                }
                word_start = true;
                continue;
            }
            b'#' if word_start => {
                let end = line_end(bytes, i);
                loc.emit(i, end, (i, end), || Place::Comment);
                i = end;
                continue;
            }
            b'\\' => i += 2,
            b'\'' => {
                let close = close_quote(bytes, i + 1, b"'", false, false);
                let end = (close + 1).min(bytes.len());
                let lit = literal(i, end, b"", b'\'', (i + 1, close));
                loc.emit(i, end, (i + 1, close), || Place::Literal(lit.clone()));
                i = end;
            }
            b'$' if bytes.get(i + 1) == Some(&b'\'') => {
                let close = close_quote(bytes, i + 2, b"'", true, false);
                let end = (close + 1).min(bytes.len());
                let mut lit = literal(i, end, b"$", b'\'', (i + 2, close));
                lit.ansi_c = true;
                loc.emit(i, end, (i + 2, close), || Place::Literal(lit.clone()));
                i = end;
            }
            b'"' => {
                let close = double_quote_end(bytes, i + 1);
                let end = (close + 1).min(bytes.len());
                let lit = literal(i, end, b"", b'"', (i + 1, close));
                loc.emit(i, end, (i + 1, close), || Place::Literal(lit.clone()));
                i = end;
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') && bytes.get(i + 2) != Some(&b'<') => {
                match heredoc_at(bytes, i) {
                    Some((heredoc, next)) => {
                        pending.push(heredoc);
                        i = next;
                    }
                    None => i += 2,
                }
            }
            _ => i += 1,
        }
        word_start = c.is_ascii_whitespace() || b";&|()".contains(&c);
    }
}

/// The closing `"` of a double-quoted shell string whose content starts at `from`; a `$(…)`
/// inside it may hold quotes of its own.
fn double_quote_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i,
            b'$' if bytes.get(i + 1) == Some(&b'(') => {
                let mut depth = 0usize;
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        b'"' => i = double_quote_end(bytes, i + 1),
                        b'\'' => i = close_quote(bytes, i + 1, b"'", false, false),
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// A heredoc operator at `at` (`<<` or `<<-`, then the delimiter word): the heredoc and
/// where the line goes on.
fn heredoc_at(bytes: &[u8], at: usize) -> Option<(Heredoc, usize)> {
    let mut i = at + 2;
    let strip_tabs = bytes.get(i) == Some(&b'-');
    if strip_tabs {
        i += 1;
    }
    while bytes.get(i).is_some_and(|&b| b == b' ' || b == b'\t') {
        i += 1;
    }
    let start = i;
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b";&|<>()".contains(&bytes[i]) {
        i += 1;
    }
    let word = &bytes[start..i];
    // `1<<2` in arithmetic is no heredoc: a delimiter starts with a letter, `_` or a quote.
    let first = *word.first()?;
    if !(first.is_ascii_alphabetic() || b"_'\"\\".contains(&first)) {
        return None;
    }
    let quoted = word.iter().any(|b| b"'\"\\".contains(b));
    let delimiter = word
        .iter()
        .copied()
        .filter(|b| !b"'\"\\".contains(b))
        .collect();
    Some((
        Heredoc {
            delimiter,
            strip_tabs,
            quoted,
        },
        i,
    ))
}

/// The heredoc operators on a Dockerfile instruction's first line.
fn heredoc_markers(line: &[u8]) -> Vec<Heredoc> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(at) = find(line, i, b"<<") {
        if line.get(at + 2) == Some(&b'<') {
            i = at + 3;
            continue;
        }
        match heredoc_at(line, at) {
            Some((heredoc, next)) => {
                found.push(heredoc);
                i = next;
            }
            None => i = at + 2,
        }
    }
    found
}

/// Places the bodies of `pending` heredocs, one after another from `from`; returns where the
/// line after the last delimiter starts.
fn heredoc_bodies(bytes: &[u8], from: usize, pending: &[Heredoc], loc: &mut Locator) -> usize {
    let mut at = from;
    for heredoc in pending {
        let body = at;
        let mut end = bytes.len();
        let mut next = bytes.len();
        while at < bytes.len() {
            let stop = line_end(bytes, at);
            let mut line = &bytes[at..stop];
            line = line.strip_suffix(b"\r").unwrap_or(line);
            if heredoc.strip_tabs {
                while let [b'\t', rest @ ..] = line {
                    line = rest;
                }
            }
            if line == heredoc.delimiter.as_slice() {
                end = at;
                next = (stop + 1).min(bytes.len());
                break;
            }
            at = stop + 1;
        }
        let quoted = heredoc.quoted;
        loc.emit(body, end, (body, end), || Place::Heredoc { quoted });
        at = next;
    }
    at.min(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(content: &str, needle: &str, syntax: Syntax) -> Option<Place> {
        let at = content.find(needle).unwrap();
        places(content, syntax, &[(at, at + needle.len())]).remove(0)
    }

    fn quote_of(place: Option<Place>) -> Option<(char, bool)> {
        match place {
            Some(Place::Literal(l)) => Some((l.quote, l.triple)),
            _ => None,
        }
    }

    #[test]
    fn python_strings_across_lines() {
        let text = "x = '''a\n#b\nSECRET'''\ny = \"SECRET2\"  # SECRET3\n";
        assert_eq!(
            quote_of(place(text, "SECRET", Syntax::Python)),
            Some(('\'', true))
        );
        assert_eq!(
            quote_of(place(text, "SECRET2", Syntax::Python)),
            Some(('"', false))
        );
        assert_eq!(place(text, "SECRET3", Syntax::Python), Some(Place::Comment));
        let doc = "r\"\"\"Doc\nSECRET\n\"\"\"\n";
        assert_eq!(
            quote_of(place(doc, "SECRET", Syntax::Python)),
            Some(('"', true))
        );
    }

    #[test]
    fn javascript_templates_and_their_expressions() {
        let text = "const a = `x\n${f(\"SECRET1\")} SECRET2\n`; /* SECRET3\n */ b = 'SECRET4'\n";
        assert_eq!(
            quote_of(place(text, "SECRET1", Syntax::JavaScript)),
            Some(('"', false))
        );
        assert_eq!(
            quote_of(place(text, "SECRET2", Syntax::JavaScript)),
            Some(('`', false))
        );
        assert_eq!(
            place(text, "SECRET3", Syntax::JavaScript),
            Some(Place::Comment)
        );
        assert_eq!(
            quote_of(place(text, "SECRET4", Syntax::JavaScript)),
            Some(('\'', false))
        );
    }

    #[test]
    fn shell_heredocs_quoted_and_not() {
        let text = "cat <<EOF >a\nT=SECRET1\nEOF\ncat <<-'END'\n\tT=SECRET2\n\tEND\necho \"$(x \"y\") SECRET3\" $((1<<2)) SECRET4\n";
        assert_eq!(
            place(text, "SECRET1", Syntax::Shell),
            Some(Place::Heredoc { quoted: false })
        );
        assert_eq!(
            place(text, "SECRET2", Syntax::Shell),
            Some(Place::Heredoc { quoted: true })
        );
        assert_eq!(
            quote_of(place(text, "SECRET3", Syntax::Shell)),
            Some(('"', false))
        );
        assert_eq!(place(text, "SECRET4", Syntax::Shell), Some(Place::Bare));
    }

    #[test]
    fn dockerfile_run_heredocs() {
        let text = "FROM a\nRUN <<EOT\ncurl -u SECRET1\nEOT\nRUN curl SECRET2\n";
        let at = |n: &str| {
            let s = text.find(n).unwrap();
            (s, s + n.len())
        };
        assert_eq!(
            dockerfile_heredocs(text, &[at("SECRET1"), at("SECRET2")]),
            vec![Some(false), None]
        );
    }
}
