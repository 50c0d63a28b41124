//! Inline directives (`# tokenguard:allow`, `// gitleaks:allow`, `pragma: allowlist secret`):
//! where one counts. A directive applies to the logical line that holds the secret: within a
//! JSON string or a notebook cell written on one physical line, the segment between `\n`
//! escapes, so one marker cannot cover every token of a minified file. And it counts only in a
//! comment: after a comment opener that starts a word (`#`, `//`, `/*`, `<!--`, `-- `, `; `,
//! `% `, or a `*` continuing a block comment) with the quotes before it balanced; a marker in
//! a URL (`?q=gitleaks:allow`) or in a string literal is data, not a directive.

use crate::detect::filter;

/// Comment openers; each counts only at the start of a logical line or after whitespace, so
/// that `https://` or `page#gitleaks:allow` is not one.
const OPENERS: &[&[u8]] = &[b"#", b"//", b"/*", b"<!--", b"-- ", b"; ", b"% ", b"* "];

/// One logical line, and whether its code is escaped inside a JSON string (a notebook source
/// line, where the code's quotes are `\"` and a bare `"` delimits the JSON string).
#[derive(Debug, Clone, Copy)]
pub struct LogicalLine<'a> {
    pub text: &'a [u8],
    escaped: bool,
}

/// The logical line around byte `at` of the physical line `line`: the segment between the
/// `\n` escapes that enclose it, or the whole line when it has none.
pub fn around(line: &[u8], at: usize) -> LogicalLine<'_> {
    let breaks = escaped_newlines(line);
    let start = breaks
        .iter()
        .rev()
        .find(|&&(_, end)| end <= at)
        .map_or(0, |&(_, end)| end);
    let end = breaks
        .iter()
        .find(|&&(start, _)| start >= at)
        .map_or(line.len(), |&(start, _)| start);
    LogicalLine {
        text: &line[start..end],
        escaped: is_escaped(line, &breaks),
    }
}

/// The logical line before the one around `at`: the segment before it on the same physical
/// line, else the last segment of the physical line before (`previous`).
pub fn before<'a>(
    line: &'a [u8],
    at: usize,
    previous: Option<&'a [u8]>,
) -> Option<LogicalLine<'a>> {
    let breaks = escaped_newlines(line);
    if let Some(current) = breaks.iter().rposition(|&(_, end)| end <= at) {
        let end = breaks[current].0;
        let start = current.checked_sub(1).map_or(0, |i| breaks[i].1);
        return Some(LogicalLine {
            text: &line[start..end],
            escaped: is_escaped(line, &breaks),
        });
    }
    let previous = previous?;
    let breaks = escaped_newlines(previous);
    // A notebook source line ends with its own `\n",`: the logical line is the one before it.
    let trimmed = trim_json_tail(previous);
    let start = breaks
        .iter()
        .rev()
        .find(|&&(_, end)| end <= trimmed.len())
        .map_or(0, |&(_, end)| end);
    Some(LogicalLine {
        text: &trimmed[start..],
        escaped: is_escaped(previous, &breaks),
    })
}

/// True when `logical` carries `marker` in a comment, applying to `rule_id` (an optional rule
/// id right after the marker limits it, see [`filter::marker_allows`]).
pub fn allows(
    logical: LogicalLine<'_>,
    marker: &str,
    rule_id: &str,
    is_rule_id: &impl Fn(&[u8]) -> bool,
) -> bool {
    let Some(comment) = comment_start(logical) else {
        return false;
    };
    filter::marker_allows(&logical.text[comment..], marker, rule_id, is_rule_id)
}

/// The rule ids written after a marker on `text` (a line, or the one before it) that no rule
/// has, each with the closest id there is: such a marker allows nothing (see
/// [`filter::marker_allows`]), and the user needs to hear why the commit is still blocked.
///
/// ```
/// use tokenguard::detect::directive::unknown_rule_ids;
/// let ids = ["huggingface-user-token", "replicate-api-token"];
/// let found = unknown_rule_ids(b"x = 1  # tokenguard:allow replicate-token", &["tokenguard:allow"], &ids);
/// assert_eq!(found, [("replicate-token".to_string(), "replicate-api-token".to_string())]);
/// ```
pub fn unknown_rule_ids(text: &[u8], markers: &[&str], ids: &[&str]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for marker in markers {
        for at in memchr::memmem::find_iter(text, marker.as_bytes()) {
            let rest = &text[at + marker.len()..];
            if rest.first() != Some(&b' ') {
                continue;
            }
            let word: String = rest
                .iter()
                .skip_while(|b| **b == b' ')
                .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'-')
                .map(|b| *b as char)
                .collect();
            if filter::looks_like_rule_id(word.as_bytes()) && !ids.contains(&word.as_str()) {
                let closest = ids.iter().min_by_key(|id| edit_distance(&word, id));
                if let Some(closest) = closest {
                    found.push((word, closest.to_string()));
                }
            }
        }
    }
    found
}

/// Levenshtein distance: how many single-character edits turn `a` into `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// Where the first comment starts: an opener at the start or after whitespace, with the quotes
/// of the code before it balanced (so not inside a string literal).
fn comment_start(logical: LogicalLine<'_>) -> Option<usize> {
    let text = logical.text;
    let mut double = 0usize;
    let mut single = 0usize;
    for i in 0..text.len() {
        let after_backslash = i > 0 && text[i - 1] == b'\\';
        let bare_quote = text[i] == b'"' && !after_backslash;
        match text[i] {
            // In a JSON string the code's quotes are escaped and bare ones delimit the string.
            b'"' if logical.escaped == after_backslash => double += 1,
            b'\'' => single += 1,
            _ => {}
        }
        let before = i.checked_sub(1).map(|j| text[j]);
        let word_start = before.is_none_or(|b| {
            b.is_ascii_whitespace() || (logical.escaped && b == b'"' && bare_quote_at(text, i - 1))
        });
        if !bare_quote
            && word_start
            && double.is_multiple_of(2)
            && single.is_multiple_of(2)
            && OPENERS.iter().any(|o| text[i..].starts_with(o))
        {
            return Some(i);
        }
    }
    None
}

fn bare_quote_at(text: &[u8], i: usize) -> bool {
    text[i] == b'"' && (i == 0 || text[i - 1] != b'\\')
}

/// True when the physical line is code escaped inside a JSON string.
fn is_escaped(line: &[u8], breaks: &[(usize, usize)]) -> bool {
    !breaks.is_empty() || memchr::memmem::find(line, b"\\\"").is_some()
}

/// Byte ranges of the `\n` escapes (a backslash-n not itself escaped) in `line`.
fn escaped_newlines(line: &[u8]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i + 1 < line.len() {
        if line[i] == b'\\' {
            if line[i + 1] == b'n' {
                found.push((i, i + 2));
            }
            i += 2;
            continue;
        }
        i += 1;
    }
    found
}

/// A physical line without the `\n",` that ends a notebook source line.
fn trim_json_tail(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b',' | b'"' | b' ' | b'\r' | b'\t') {
        end -= 1;
    }
    if line[..end].ends_with(b"\\n") && !line[..end - 1].ends_with(b"\\\\") {
        end -= 2;
    }
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKERS: [&str; 3] = [
        "tokenguard:allow",
        "gitleaks:allow",
        "pragma: allowlist secret",
    ];

    fn allowed_at(line: &str, secret: &str) -> bool {
        let at = line.find(secret).unwrap();
        let logical = around(line.as_bytes(), at);
        MARKERS
            .iter()
            .any(|m| allows(logical, m, "rule-a", &|w: &[u8]| w == b"rule-a"))
    }

    #[test]
    fn directives_count_in_comments_only() {
        let cases = [
            (r##"x = "SECRET"  # tokenguard:allow"##, true),
            (r##"let x = "SECRET"; // gitleaks:allow"##, true),
            (r##"const x = "SECRET"; /* gitleaks:allow */"##, true),
            ("key: SECRET  # pragma: allowlist secret", true),
            ("<!-- gitleaks:allow --> SECRET", true),
            ("SELECT 'SECRET'; -- tokenguard:allow", true),
            ("export KEY=SECRET # tokenguard:allow rule-a: fixture", true),
            ("curl 'https://x.test/?q=gitleaks:allow&t=SECRET'", false),
            ("see https://x.test/page#gitleaks:allow SECRET", false),
            (r##"x = "SECRET"; y = "tokenguard:allow""##, false),
            (r##"x = "a # tokenguard:allow" + "SECRET""##, false),
            (r##"{"key": "SECRET", "note": "gitleaks:allow"}"##, false),
            ("x = SECRET tokenguard:allow", false),
        ];
        for (line, expected) in cases {
            assert_eq!(allowed_at(line, "SECRET"), expected, "{line}");
        }
    }

    #[test]
    fn a_notebook_segment_is_its_own_logical_line() {
        // One physical line holding a whole cell, as minified notebooks store it.
        let cell =
            r##"{"source": ["a = \"SECRET1\"  # tokenguard:allow\nb = \"SECRET2\"\nc = 1"]}"##;
        assert!(allowed_at(cell, "SECRET1"));
        assert!(!allowed_at(cell, "SECRET2"));
        let line = r##"    "key = \"SECRET\"  # gitleaks:allow\n","##;
        assert!(allowed_at(line, "SECRET"));
        let in_string = r##"    "key = \"SECRET\"; note = \"# gitleaks:allow\"\n","##;
        assert!(!allowed_at(in_string, "SECRET"));
    }

    #[test]
    fn the_line_before_is_the_previous_segment() {
        let cell = r##"["# tokenguard:allow-next-line\nx = \"SECRET1\"\ny = \"SECRET2\""]"##;
        let next = |secret: &str| {
            let at = cell.find(secret).unwrap();
            before(cell.as_bytes(), at, None).is_some_and(|l| {
                allows(l, "tokenguard:allow-next-line", "rule-a", &|_: &[u8]| false)
            })
        };
        assert!(next("SECRET1"));
        assert!(!next("SECRET2"));
        let previous = br##"    "# tokenguard:allow-next-line\n","##;
        let line = br##"    "x = \"SECRET\"\n","##;
        let logical = before(line, 10, Some(previous)).unwrap();
        assert!(allows(
            logical,
            "tokenguard:allow-next-line",
            "r",
            &|_: &[u8]| false
        ));
        let plain = before(b"x = SECRET", 4, Some(b"# tokenguard:allow-next-line")).unwrap();
        assert!(allows(
            plain,
            "tokenguard:allow-next-line",
            "r",
            &|_: &[u8]| false
        ));
    }
}
