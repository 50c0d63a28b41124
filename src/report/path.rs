//! Paths in terminal reports, quoted as git quotes them with `core.quotePath=false`: a path
//! with a control character, a quote or a backslash is printed in double quotes with C-style
//! escapes, so a hostile file name cannot move the cursor, recolour the terminal or split a
//! report line. Readable non-ASCII names stay readable (git's default would print `é` as
//! `\303\251`); Unicode controls and bidirectional overrides, which can disguise a name, are
//! escaped too. JSON and SARIF keep the exact path. This is the one
//! place that decides how a path looks on a terminal.

use std::borrow::Cow;

/// `path` as `git` prints it with `core.quotePath=false`: unchanged when it holds no control
/// character, `"` or `\`, else quoted with `\t`, `\n`, `\"`, `\\`, ... and octal escapes.
///
/// ```
/// use tokenguard::report::path::quote;
/// assert_eq!(quote("src/app.py"), "src/app.py");
/// assert_eq!(quote("esc\x1b[31m.py"), "\"esc\\033[31m.py\"");
/// assert_eq!(quote("a\nb"), "\"a\\nb\"");
/// ```
pub fn quote(path: &str) -> Cow<'_, str> {
    if !path.chars().any(needs_quoting) {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 2);
    out.push('"');
    for c in path.chars() {
        if needs_quoting(c) {
            let mut bytes = [0u8; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                push_escaped(&mut out, byte);
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// A one-line message for a terminal (an error that may quote a path or a config line): control
/// characters escaped as in [`quote`], everything else kept, so UTF-8 text stays readable.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match u8::try_from(c) {
            Ok(byte) if byte < 0x20 || byte == 0x7f => push_escaped(&mut out, byte),
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Control characters (C0, DEL, C1), `"`, `\\`, and the bidirectional overrides and isolates.
fn needs_quoting(c: char) -> bool {
    c.is_control()
        || c == '"'
        || c == '\\'
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, byte: u8) {
    let named = match byte {
        0x07 => Some('a'),
        0x08 => Some('b'),
        b'\t' => Some('t'),
        b'\n' => Some('n'),
        0x0b => Some('v'),
        0x0c => Some('f'),
        b'\r' => Some('r'),
        b'"' => Some('"'),
        b'\\' => Some('\\'),
        _ => None,
    };
    match named {
        Some(c) => {
            out.push('\\');
            out.push(c);
        }
        None => out.push_str(&format!("\\{byte:03o}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each expectation is what `git -c core.quotePath=false ls-files` prints for the name,
    /// except the bidirectional override, which git prints raw.
    #[test]
    fn paths_are_quoted_as_git_quotes_them() {
        let cases = [
            ("plain/path.txt", "plain/path.txt"),
            ("sp ace.txt", "sp ace.txt"),
            ("tab\there", "\"tab\\there\""),
            ("new\nline", "\"new\\nline\""),
            ("esc\x1b[31m.py", "\"esc\\033[31m.py\""),
            ("quo\"te", "\"quo\\\"te\""),
            ("back\\slash", "\"back\\\\slash\""),
            ("é.txt", "é.txt"),
            ("rlo\u{202e}txt.exe", "\"rlo\\342\\200\\256txt.exe\""),
            ("del\x7f", "\"del\\177\""),
            ("bell\x07", "\"bell\\a\""),
        ];
        for (path, expected) in cases {
            assert_eq!(quote(path), expected, "{path:?}");
        }
    }

    #[test]
    fn messages_keep_text_and_escape_controls() {
        assert_eq!(escape_controls("plain é"), "plain é");
        assert_eq!(escape_controls("a\x1b[2Jb\nc"), "a\\033[2Jb\\nc");
    }
}
