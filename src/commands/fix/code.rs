//! Source code: a secret in a string literal becomes the language's read of an environment
//! variable. Python `os.environ["X"]` (with `import os` added where missing), JavaScript and
//! TypeScript `process.env.X`, shell `"${X}"`; inside an f-string or template literal the
//! read is interpolated, inside a longer literal the literal is split around it, and in a
//! comment the secret becomes `$X`.

use super::literal::{self, Literal, Place, Syntax};
use super::plan::{Edit, line_bounds};

/// The edits that replace `content[start..end]` with a read of `var`, or why they cannot.
pub(super) fn rewrite(
    content: &str,
    start: usize,
    end: usize,
    var: &str,
    syntax: Syntax,
) -> Result<Vec<Edit>, String> {
    let (line_start, line_end) = line_bounds(content, start);
    if end > line_end {
        return Err("the secret spans lines".to_string());
    }
    let line = &content[line_start..line_end];
    let at = start - line_start;
    let place = literal::place_of(line, at, end - start, syntax)
        .ok_or("it sits in a string literal tokenguard cannot rewrite safely (a multi-line or triple-quoted string)")?;
    let edit = |from: usize, to: usize, text: String| Edit {
        start: line_start + from,
        end: line_start + to,
        text,
    };
    let mut edits = match place {
        Place::Comment => vec![edit(at, at + end - start, format!("${var}"))],
        Place::Bare if syntax == Syntax::Shell => {
            vec![edit(at, at + end - start, format!("\"${{{var}}}\""))]
        }
        Place::Bare => {
            return Err("it is not inside a string literal".to_string());
        }
        Place::Literal(lit) => {
            if let Some(from) = fallback_start(line, &lit, at, end - start, var, syntax) {
                // `os.getenv("X", "secret")` -> `os.getenv("X")`: the code reads X already.
                return Ok(vec![edit(from, lit.end, String::new())]);
            }
            let (from, to, text) = match syntax {
                Syntax::Python => python_literal(line, &lit, at, end - start, var)?,
                Syntax::JavaScript => js_literal(line, &lit, at, end - start, var),
                Syntax::Shell => shell_literal(line, &lit, at, end - start, var),
            };
            vec![edit(from, to, text)]
        }
    };
    if syntax == Syntax::Python && edits[0].text.contains("os.environ") {
        edits.extend(import_os(content));
    }
    Ok(edits)
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
    if lit.prefix.contains('f') {
        // Inside an f-string the read is interpolated, quoted with the other quote character
        // (the same one is only allowed from Python 3.12).
        let inner = if lit.quote == '"' { '\'' } else { '"' };
        return Ok((at, at + len, format!("{{os.environ[{inner}{var}{inner}]}}")));
    }
    let read = format!("os.environ[\"{var}\"]");
    Ok(split_literal(line, lit, at, len, &read))
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

/// An `import os` line where the module has none: after a `from __future__` import if there
/// is one, else before the first top-level import, else after the shebang, leading comments
/// and the module docstring.
fn import_os(content: &str) -> Option<Edit> {
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
            .is_some_and(|names| names.split(',').any(binds_os))
    });
    if imports_os {
        return None;
    }
    let mut offset = 0;
    let mut header_end = 0;
    let mut future_end = None;
    let mut docstring: Option<&str> = None;
    let mut docstring_seen = false;
    for line in content.split_inclusive('\n') {
        let next = offset + line.len();
        let trimmed = line.trim();
        if let Some(quote) = docstring {
            if trimmed.ends_with(quote) {
                docstring = None;
                header_end = next;
            }
        } else if trimmed.starts_with("from __future__ import") {
            future_end = Some(next);
        } else if line.starts_with("import ") || line.starts_with("from ") {
            return Some(import_edit(offset));
        } else if trimmed.is_empty() || trimmed.starts_with('#') {
            if future_end.is_none() {
                header_end = next;
            }
        } else if !docstring_seen
            && future_end.is_none()
            && (trimmed.starts_with("\"\"\"") || trimmed.starts_with("'''"))
        {
            docstring_seen = true;
            let quote = &trimmed[..3];
            if trimmed.len() >= 6 && trimmed.ends_with(quote) {
                header_end = next;
            } else {
                docstring = Some(quote);
            }
        } else {
            break;
        }
        offset = next;
    }
    Some(import_edit(future_end.unwrap_or(header_end)))
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
        let edits = rewrite(content, start, start + 6, "TOKEN", syntax)?;
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
