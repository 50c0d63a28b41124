//! Word-boundary wrapping of a finished human report to the terminal's width: the report is
//! written whole, then each line longer than the width is broken at spaces, its continuation
//! indented under the line's text (past a list marker or a `Label:` column). Colour codes take
//! no width. A command keeps its words together: [`glue`] joins them with a space no break
//! falls on, so what is pasted is what runs.

/// A space that never becomes a line break: a control character, which no text the report
/// prints holds raw (paths and messages have their control characters escaped).
pub const GLUED_SPACE: char = '\u{1f}';

/// `text` with its spaces glued: a line breaks before or after it, never inside.
pub fn glue(text: &str) -> String {
    text.replace(' ', &GLUED_SPACE.to_string())
}

/// Every line of `text` broken to at most `width` columns where spaces allow (a word longer
/// than the width keeps its own line), glued spaces turned back into spaces.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        wrap_line(body, width, &mut out);
        out.push_str(newline);
    }
    out.replace(GLUED_SPACE, " ")
}

fn wrap_line(line: &str, width: usize, out: &mut String) {
    if visible_width(line) <= width {
        out.push_str(line);
        return;
    }
    let indent = " ".repeat(hanging_indent(line).min(width / 2));
    let mut column = 0;
    for (index, word) in line.split(' ').enumerate() {
        let word_width = visible_width(word);
        // Leading spaces of the line are empty words: they stay, they never break.
        if index > 0 && column > 0 && column + 1 + word_width > width && column > indent.len() {
            // No trailing spaces where two-space gaps meet the break.
            out.truncate(out.trim_end_matches(' ').len());
            out.push('\n');
            out.push_str(&indent);
            column = indent.len();
        } else if index > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word_width;
    }
}

/// Where a continuation line starts: under the text after the leading spaces and a list
/// marker (`- `, `1. `) or a label column (`Fix:    `).
fn hanging_indent(line: &str) -> usize {
    let plain = strip_styles(line);
    let leading = plain.len() - plain.trim_start_matches(' ').len();
    let rest = &plain[leading..];
    let marker = if rest.starts_with("- ") {
        2
    } else if let Some(dot) = rest
        .find(". ")
        .filter(|&at| at > 0 && at <= 3 && rest[..at].bytes().all(|b| b.is_ascii_digit()))
    {
        dot + 2
    } else {
        label_width(rest)
    };
    leading + marker
}

/// `Fix:    text` -> the column of `text`, for a one-word label followed by two or more spaces.
fn label_width(rest: &str) -> usize {
    let Some(colon) = rest.find(':') else {
        return 0;
    };
    let label = &rest[..colon];
    let after = &rest[colon + 1..];
    let spaces = after.len() - after.trim_start_matches(' ').len();
    let is_label = !label.is_empty() && !label.contains(' ') && colon < 16;
    if is_label && spaces >= 2 {
        colon + 1 + spaces
    } else {
        0
    }
}

/// `text` without its ANSI colour sequences.
fn strip_styles(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters final-byte.
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Columns `text` takes on a terminal: characters, colour codes not counted.
fn visible_width(text: &str) -> usize {
    strip_styles(text).chars().count()
}

/// The width to wrap to: `COLUMNS` when set (what a shell exports, and how tests pick one),
/// else the terminal's on stdout or stderr; `None` for a log or a pipe, which keep one line
/// per item for whoever searches them.
pub fn terminal_width() -> Option<usize> {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok());
    from_env
        .or_else(|| {
            console::Term::stdout()
                .size_checked()
                .map(|(_, w)| w.into())
        })
        .or_else(|| {
            console::Term::stderr()
                .size_checked()
                .map(|(_, w)| w.into())
        })
        .filter(|&w: &usize| w >= 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_break_at_spaces_under_their_text() {
        let text = "  1. alpha beta gamma delta epsilon\nshort\n";
        assert_eq!(
            wrap(text, 20),
            "  1. alpha beta\n     gamma delta\n     epsilon\nshort\n"
        );
    }

    #[test]
    fn labels_hang_their_text() {
        let text = "Fix:    one two three four five six\n";
        assert_eq!(
            wrap(text, 20),
            "Fix:    one two\n        three four\n        five six\n"
        );
    }

    #[test]
    fn glued_words_stay_together_and_words_are_never_split() {
        let command = glue("git rm --cached .env");
        let text = format!("Run {command} now averyveryverylongwordthatdoesnotfit\n");
        assert_eq!(
            wrap(&text, 16),
            "Run\ngit rm --cached .env\nnow\naveryveryverylongwordthatdoesnotfit\n"
        );
    }

    #[test]
    fn colour_codes_take_no_width() {
        let text = "\x1b[1mbold\x1b[0m word\n";
        assert_eq!(wrap(text, 9), text);
    }
}
