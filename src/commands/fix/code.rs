//! Source code: a secret in a string literal becomes the language's read of an environment
//! variable. Python `os.environ["X"]` (with `import os` added where missing), JavaScript and
//! TypeScript `process.env.X`, shell `"${X}"`; inside an f-string or template literal the
//! read is interpolated, inside a longer literal the literal is split around it, and in a
//! comment the secret becomes `$X`.

use super::literal::{Literal, Place, Syntax};
use super::plan::{Edit, line_bounds};
use super::tokens;

/// The edits that replace `content[start..end]` with a read of `var`, or why they cannot;
/// the enclosing construct is found by reading the whole of `content`.
pub(super) fn rewrite(
    content: &str,
    start: usize,
    end: usize,
    var: &str,
    syntax: Syntax,
) -> Result<Vec<Edit>, String> {
    let place = tokens::places(content, syntax, &[(start, end)]).remove(0);
    rewrite_at(content, start, end, var, syntax, place)
}

/// The edits for the secret at `content[start..end]`, which sits in `place` (file offsets;
/// `None`: across the edge of a string or comment).
pub(super) fn rewrite_at(
    content: &str,
    start: usize,
    end: usize,
    var: &str,
    syntax: Syntax,
    place: Option<Place>,
) -> Result<Vec<Edit>, String> {
    let place = place.ok_or(
        "it runs across the edge of a string or comment, which tokenguard cannot rewrite safely",
    )?;
    let replace = |text: String| vec![Edit { start, end, text }];
    match place {
        Place::Comment => Ok(replace(format!("${var}"))),
        Place::Heredoc { quoted: false } => Ok(replace(format!("${{{var}}}"))),
        Place::Heredoc { quoted: true } => Err(format!(
            "it is in a heredoc whose delimiter is quoted (<<'EOF'), so the shell expands no \
             variable there: unquote the delimiter if nothing else in the text needs to stay \
             literal, and write ${{{var}}} in place of the value"
        )),
        Place::Bare if syntax == Syntax::Shell => Ok(replace(format!("\"${{{var}}}\""))),
        Place::Bare => Err("it is not inside a string literal".to_string()),
        Place::Literal(lit) => literal_edits(content, start, end, var, syntax, &lit),
    }
}

/// A secret inside a string literal: on one line, the read replaces the literal or is spliced
/// into it; across lines only where the language interpolates (template literals, shell).
fn literal_edits(
    content: &str,
    start: usize,
    end: usize,
    var: &str,
    syntax: Syntax,
    lit: &Literal,
) -> Result<Vec<Edit>, String> {
    let replace = |text: String| Ok(vec![Edit { start, end, text }]);
    if lit.triple {
        return Err(
            "it is inside a triple-quoted string (a docstring, a prompt or other \
             multi-line text): tokenguard cannot tell how the text is used, so move the value \
             out by hand"
                .to_string(),
        );
    }
    if lit.ansi_c {
        return Err(format!(
            "it is in a $'...' string: end the string before the value and write \"${{{var}}}\" there"
        ));
    }
    let multiline = content[lit.start..lit.end].contains('\n');
    match (syntax, lit.quote) {
        (Syntax::JavaScript, '`') => return replace(format!("${{process.env.{var}}}")),
        (Syntax::Shell, '"') => return replace(format!("${{{var}}}")),
        (Syntax::Shell, '\'') if multiline => return replace(format!("'\"${{{var}}}\"'")),
        _ if multiline => {
            return Err(
                "it is in a string continued over several lines: move the value out by hand"
                    .to_string(),
            );
        }
        _ => {}
    }
    let (line_start, _) = line_bounds(content, start);
    let line_end = line_bounds(content, lit.end.saturating_sub(1).max(start)).1;
    let line = &content[line_start..line_end];
    let lit = lit.shifted_back(line_start);
    let at = start - line_start;
    let len = end - start;
    let edit = |from: usize, to: usize, text: String| Edit {
        start: line_start + from,
        end: line_start + to,
        text,
    };
    if let Some(from) = fallback_start(line, &lit, at, len, var, syntax) {
        // `os.getenv("X", "secret")` -> `os.getenv("X")`: the code reads X already.
        return Ok(vec![edit(from, lit.end, String::new())]);
    }
    let (from, to, text) = match syntax {
        Syntax::Python => python_literal(line, &lit, at, len, var)?,
        Syntax::JavaScript => js_literal(line, &lit, at, len, var),
        Syntax::Shell => shell_literal(line, &lit, at, len, var),
    };
    Ok(vec![edit(from, to, text)])
}

/// Where a fallback value starts when the literal is only that: the default of
/// `getenv("X", …)` / `environ.get("X", …)` in Python, or the right side of
/// `process.env.X || …` / `?? …` in JavaScript, for the variable `var` itself.
fn fallback_start(
    line: &str,
    lit: &Literal,
    at: usize,
    len: usize,
    var: &str,
    syntax: Syntax,
) -> Option<usize> {
    if lit.content_start != at || lit.content_end != at + len || lit.prefix.contains(['b', 'f']) {
        return None;
    }
    let before = line[..lit.start].trim_end();
    match syntax {
        Syntax::Python => {
            let head = before.strip_suffix(',')?.trim_end();
            let head = head
                .strip_suffix(&format!("\"{var}\""))
                .or_else(|| head.strip_suffix(&format!("'{var}'")))?
                .trim_end();
            (head.ends_with("getenv(") || head.ends_with("environ.get(")).then(|| before.len() - 1)
        }
        Syntax::JavaScript => {
            let head = before
                .strip_suffix("||")
                .or_else(|| before.strip_suffix("??"))?;
            let reads = head.trim_end();
            (reads.ends_with(&format!("process.env.{var}"))
                || reads.ends_with(&format!("process.env[\"{var}\"]")))
            .then_some(reads.len())
        }
        Syntax::Shell => None,
    }
}

/// Python: the replacement of part of `line` (from, to, text).
fn python_literal(
    line: &str,
    lit: &Literal,
    at: usize,
    len: usize,
    var: &str,
) -> Result<(usize, usize, String), String> {
    if lit.prefix.contains('b') {
        return Err("it is a bytes literal (read it with os.environb or encode the str)".into());
    }
    if let Some(from) = setting_itself(line, lit, at, len, var) {
        // `os.environ["X"] = "secret"` would become `os.environ["X"] = os.environ["X"]`: the
        // statement goes, the environment sets X.
        let indent = line.len() - line.trim_start().len();
        let note = format!("# {var} comes from the environment (.env)");
        let text = if indent == 0 {
            note
        } else {
            format!("pass  {note}")
        };
        return Ok((from, lit.end, text));
    }
    if lit.prefix.contains('f') {
        // Inside an f-string the read is interpolated, quoted with the other quote character
        // (the same one is only allowed from Python 3.12).
        let inner = if lit.quote == '"' { '\'' } else { '"' };
        return Ok((at, at + len, format!("{{os.environ[{inner}{var}{inner}]}}")));
    }
    let read = format!("os.environ[\"{var}\"]");
    Ok(split_literal(line, lit, at, len, &read))
}

/// Where a statement `os.environ["var"] = "secret"` starts, when the literal is all of its
/// value: reading `var` from the environment would set it to itself.
fn setting_itself(line: &str, lit: &Literal, at: usize, len: usize, var: &str) -> Option<usize> {
    if lit.content_start != at || lit.content_end != at + len || !lit.prefix.is_empty() {
        return None;
    }
    let rest = line[lit.end..].trim();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let head = line[..lit.start].trim_end().strip_suffix('=')?.trim_end();
    let head = head
        .strip_suffix(&format!("[\"{var}\"]"))
        .or_else(|| head.strip_suffix(&format!("['{var}']")))?;
    let target = head.trim_end().strip_suffix("os.environ")?;
    target
        .trim()
        .is_empty()
        .then_some(line.len() - line.trim_start().len())
}

/// JavaScript and TypeScript: `process.env.X`, interpolated into a template literal.
fn js_literal(
    line: &str,
    lit: &Literal,
    at: usize,
    len: usize,
    var: &str,
) -> (usize, usize, String) {
    if lit.quote == '`' {
        return (at, at + len, format!("${{process.env.{var}}}"));
    }
    split_literal(line, lit, at, len, &format!("process.env.{var}"))
}

/// Shell: `${X}` inside double quotes, a double-quoted `"${X}"` spliced into single quotes.
fn shell_literal(
    line: &str,
    lit: &Literal,
    at: usize,
    len: usize,
    var: &str,
) -> (usize, usize, String) {
    if lit.quote == '"' {
        return (at, at + len, format!("${{{var}}}"));
    }
    let before = &line[lit.content_start..at];
    let after = &line[at + len..lit.content_end];
    let mut text = String::new();
    if !before.is_empty() {
        text.push_str(&format!("'{before}'"));
    }
    text.push_str(&format!("\"${{{var}}}\""));
    if !after.is_empty() {
        text.push_str(&format!("'{after}'"));
    }
    (lit.start, lit.end, text)
}

/// The whole literal becomes `read`, or `"before" + read + "after"` when the secret is only
/// part of it (the prefix, such as Python's `r`, kept on each part).
fn split_literal(
    line: &str,
    lit: &Literal,
    at: usize,
    len: usize,
    read: &str,
) -> (usize, usize, String) {
    let part = |text: &str| {
        format!(
            "{}{q}{text}{q}",
            &line[lit.start..lit.content_start - 1],
            q = lit.quote
        )
    };
    let before = &line[lit.content_start..at];
    let after = &line[at + len..lit.content_end];
    let mut parts = Vec::new();
    if !before.is_empty() {
        parts.push(part(before));
    }
    parts.push(read.to_string());
    if !after.is_empty() {
        parts.push(part(after));
    }
    (lit.start, lit.end, parts.join(" + "))
}

/// An `import os` line where the module has none: after the `from __future__` imports if
/// there are any, else before the first top-level import, else after the byte-order mark,
/// the shebang, leading comments and the module docstring (any quotes and prefix).
pub(super) fn import_os(content: &str) -> Option<Edit> {
    let binds_os = |name: &str| {
        let words: Vec<&str> = name.split_whitespace().collect();
        words
            .first()
            .is_some_and(|w| w.split('.').next() == Some("os"))
            && words.len() == 1
    };
    let imports_os = content.lines().any(|line| {
        line.trim_end()
            .strip_prefix("import ")
            .is_some_and(|names| {
                names
                    .split('#')
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .any(binds_os)
            })
    });
    if imports_os {
        return None;
    }
    let bytes = content.as_bytes();
    let mut at = if content.starts_with('\u{feff}') {
        3
    } else {
        0
    };
    let mut insert = at;
    let mut docstring_seen = false;
    while at < bytes.len() {
        let end = bytes[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| at + i + 1);
        let line = &content[at..end];
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            at = end;
            if !docstring_seen {
                insert = at;
            }
            continue;
        }
        if trimmed.starts_with("from __future__ import") {
            let stop = if trimmed.contains('(') {
                content[at..]
                    .find(')')
                    .map_or(end, |i| line_after(content, at + i))
            } else {
                end
            };
            at = stop;
            insert = stop;
            docstring_seen = true;
            continue;
        }
        if line.starts_with("import ") || line.starts_with("from ") {
            return Some(import_edit(if docstring_seen { insert } else { at }));
        }
        if !docstring_seen
            && let Some(stop) =
                tokens::python_string_end(bytes, at + line.len() - line.trim_start().len())
        {
            let rest = content[stop..].split('\n').next().unwrap_or("").trim();
            if rest.is_empty() || rest.starts_with('#') {
                docstring_seen = true;
                at = line_after(content, stop);
                insert = at;
                continue;
            }
        }
        break;
    }
    Some(import_edit(insert))
}

/// Where the line after the one holding byte `at` starts.
fn line_after(content: &str, at: usize) -> usize {
    content[at..]
        .find('\n')
        .map_or(content.len(), |i| at + i + 1)
}

fn import_edit(at: usize) -> Edit {
    Edit {
        start: at,
        end: at,
        text: "import os\n".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::fix::plan::apply_edits;

    fn fixed(content: &str, syntax: Syntax) -> Result<String, String> {
        let start = content.find("SECRET").unwrap();
        let mut edits = rewrite(content, start, start + 6, "TOKEN", syntax)?;
        if syntax == Syntax::Python && edits.iter().any(|e| e.text.contains("os.environ")) {
            edits.extend(import_os(content));
        }
        Ok(apply_edits(content, &edits))
    }

    #[test]
    fn python_reads_the_environment_and_imports_os_once() {
        let cases = [
            ("t = \"SECRET\"\n", "import os\nt = os.environ[\"TOKEN\"]\n"),
            (
                "import os\nh = {'a': 'Bearer SECRET'}\n",
                "import os\nh = {'a': 'Bearer ' + os.environ[\"TOKEN\"]}\n",
            ),
            (
                "#!/usr/bin/env python\n\"\"\"Doc.\"\"\"\nimport sys\nh = f\"Bearer SECRET\"\n",
                "#!/usr/bin/env python\n\"\"\"Doc.\"\"\"\nimport os\nimport sys\nh = f\"Bearer {os.environ['TOKEN']}\"\n",
            ),
            (
                "from __future__ import annotations\nimport sys\nx = 'SECRET'  # SECRET\n",
                "from __future__ import annotations\nimport os\nimport sys\nx = os.environ[\"TOKEN\"]  # SECRET\n",
            ),
            (
                "import sys, os\nc(key=r'SECRET')\n",
                "import sys, os\nc(key=os.environ[\"TOKEN\"])\n",
            ),
            ("x = 1  # SECRET\n", "x = 1  # $TOKEN\n"),
            (
                "import os\nt = os.getenv(\"TOKEN\", \"SECRET\")\n",
                "import os\nt = os.getenv(\"TOKEN\")\n",
            ),
            (
                "import os\nt = os.environ.get('OTHER', 'SECRET')\n",
                "import os\nt = os.environ.get('OTHER', os.environ[\"TOKEN\"])\n",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(fixed(before, Syntax::Python).unwrap(), after, "{before}");
        }
        assert_eq!(
            fixed(
                "import os\nos.environ[\"TOKEN\"] = \"SECRET\"\n",
                Syntax::Python
            )
            .unwrap(),
            "import os\n# TOKEN comes from the environment (.env)\n"
        );
        assert_eq!(
            fixed(
                "if 1:\n    os.environ['TOKEN'] = 'SECRET'  # set\n",
                Syntax::Python
            )
            .unwrap(),
            "if 1:\n    pass  # TOKEN comes from the environment (.env)  # set\n"
        );
        assert!(fixed("x = b'SECRET'\n", Syntax::Python).is_err());
        assert!(fixed("x = \"\"\"SECRET\"\"\"\n", Syntax::Python).is_err());
        assert!(fixed("x = SECRET\n", Syntax::Python).is_err());
    }

    #[test]
    fn javascript_and_shell_reads() {
        let cases = [
            (
                "const t = 'SECRET';\n",
                Syntax::JavaScript,
                "const t = process.env.TOKEN;\n",
            ),
            (
                "h(`Bearer SECRET`)\n",
                Syntax::JavaScript,
                "h(`Bearer ${process.env.TOKEN}`)\n",
            ),
            (
                "h(\"Bearer SECRET!\")\n",
                Syntax::JavaScript,
                "h(\"Bearer \" + process.env.TOKEN + \"!\")\n",
            ),
            (
                "export TOKEN=SECRET\n",
                Syntax::Shell,
                "export TOKEN=\"${TOKEN}\"\n",
            ),
            (
                "curl -H \"Bearer SECRET\"\n",
                Syntax::Shell,
                "curl -H \"Bearer ${TOKEN}\"\n",
            ),
            (
                "curl -H 'Bearer SECRET'\n",
                Syntax::Shell,
                "curl -H 'Bearer '\"${TOKEN}\"\n",
            ),
        ];
        for (before, syntax, after) in cases {
            assert_eq!(fixed(before, syntax).unwrap(), after, "{before}");
        }
    }
}
