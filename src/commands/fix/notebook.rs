//! Jupyter notebooks: the secret sits in a JSON string of a cell's `source`. That string is
//! decoded, fixed as Python, and encoded again, so the notebook stays valid JSON; `import os`
//! becomes the first line of the cell when no cell imports it. A secret in a cell's output
//! is left to the user (clearing outputs is theirs to decide).

use super::code;
use super::literal::{self, Place, Syntax};
use super::plan::{Edit, apply_edits, line_bounds};

/// The edits for a secret at `start..end` of a notebook's JSON text.
pub(super) fn rewrite(
    content: &str,
    start: usize,
    end: usize,
    var: &str,
) -> Result<Vec<Edit>, String> {
    let (line_start, line_end) = line_bounds(content, start);
    let line = &content[line_start..line_end];
    // JSON strings follow JavaScript's double-quoted rules closely enough to find the one
    // holding the secret.
    let Some(Place::Literal(lit)) =
        literal::place_of(line, start - line_start, end - start, Syntax::JavaScript)
    else {
        return Err("it is not inside a JSON string of the notebook".to_string());
    };
    let token = &line[lit.start..lit.end];
    let decoded: String =
        serde_json::from_str(token).map_err(|_| "its JSON string cannot be decoded".to_string())?;
    let secret = &content[start..end];
    let at = decoded.find(secret).ok_or("its JSON string is escaped")?;
    let token_start = line_start + lit.start;
    let token_end = line_start + lit.end;
    match key_before(content, token_start) {
        Some("source") => {}
        Some("text" | "data" | "outputs" | "text/plain" | "text/html") => {
            return Err(
                "it is in a cell's output: clear the outputs (Jupyter: Edit > Clear Outputs of \
                 All Cells, or jupyter nbconvert --clear-output --inplace FILE)"
                    .to_string(),
            );
        }
        _ => return Err("it is not in a cell's source".to_string()),
    }
    if cell_type_before(content, token_start) != Some("code") {
        // Markdown or raw text: a reference to the variable instead of the value.
        return Ok(vec![Edit {
            start,
            end,
            text: format!("${var}"),
        }]);
    }
    let edits = match magic_edit(&decoded, at, at + secret.len(), var) {
        Some(edit) => vec![edit],
        None => code::rewrite(&decoded, at, at + secret.len(), var, Syntax::Python)?,
    };
    let needs_os = edits.iter().any(|e| e.text.contains("os.environ"));
    let mut fixed = apply_edits(&decoded, &edits);
    let mut out = Vec::new();
    if needs_os && !imports_os(content) {
        match source_array_start(content, token_start) {
            Some(bracket) => out.push(import_element(content, bracket, token_start)),
            None => fixed = format!("import os\n{fixed}"),
        }
    }
    let encoded = serde_json::to_string(&fixed).map_err(|e| e.to_string())?;
    out.push(Edit {
        start: token_start,
        end: token_end,
        text: encoded,
    });
    Ok(out)
}

/// IPython's own lines: `!command … secret` reads `$$X` (IPython turns `$$` into the `$` the
/// shell expands; a lone `$X` would be a Python variable), and `%env X=secret` goes, as
/// the environment sets X.
fn magic_edit(line: &str, start: usize, end: usize, var: &str) -> Option<Edit> {
    let code = line.trim_start();
    let indent = line.len() - code.len();
    if code.starts_with('!') {
        return Some(Edit {
            start,
            end,
            text: format!("$${var}"),
        });
    }
    let setting = code.strip_prefix("%env")?.trim_start();
    let stop = line[end..].find('\n').map_or(line.len(), |i| end + i);
    setting.starts_with(var).then(|| Edit {
        start: indent,
        end: stop,
        text: format!("# {var} comes from the environment (.env)"),
    })
}

/// The nearest JSON key before `at` (`"source": [` -> `source`).
fn key_before(content: &str, at: usize) -> Option<&str> {
    let mut search = &content[..at];
    while let Some(colon) = search.rfind("\":") {
        let open = search[..colon].rfind('"')?;
        let key = &search[open + 1..colon];
        // A colon inside a string value (`"a\":`) is no key; keys here are plain words.
        if key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_/+.-".contains(&b))
        {
            return Some(key);
        }
        search = &search[..open];
    }
    None
}

/// The `cell_type` of the cell holding byte `at`: the nearest one before it (nbformat sorts
/// a cell's keys, so `cell_type` precedes `source`).
fn cell_type_before(content: &str, at: usize) -> Option<&str> {
    let key = content[..at].rfind("\"cell_type\"")?;
    let rest = &content[key + "\"cell_type\"".len()..at];
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    rest.split('"').next()
}

/// Where the `[` of the source array holding byte `at` is, if the source is a list.
fn source_array_start(content: &str, at: usize) -> Option<usize> {
    let key = content[..at].rfind("\"source\"")?;
    let rest = &content[key + "\"source\"".len()..at];
    let colon = rest.find(':')?;
    let after = rest[colon + 1..].trim_start();
    after
        .starts_with('[')
        .then(|| at - rest.len() + (rest.len() - after.len()))
}

/// `"import os\n",` as the first element of the array opening at `bracket`, indented like
/// the element at `element`.
fn import_element(content: &str, bracket: usize, element: usize) -> Edit {
    let (line_start, _) = line_bounds(content, element);
    let indent: String = content[line_start..element]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    let multiline =
        content[bracket + 1..].starts_with('\n') || content[bracket + 1..].starts_with("\r\n");
    let text = if multiline {
        format!("\n{indent}\"import os\\n\",")
    } else {
        "\"import os\\n\", ".to_string()
    };
    Edit {
        start: bracket + 1,
        end: bracket + 1,
        text,
    }
}

/// True when some cell already has an `import os` line.
fn imports_os(content: &str) -> bool {
    [
        "\"import os\\n\"",
        "\"import os\"",
        "\\nimport os\\n",
        "\\nimport os\"",
    ]
    .iter()
    .any(|needle| content.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notebook(source_line: &str) -> String {
        format!(
            "{{\n \"cells\": [\n  {{\n   \"cell_type\": \"code\",\n   \"execution_count\": null,\n   \"metadata\": {{}},\n   \"outputs\": [],\n   \"source\": [\n    \"import replicate\\n\",\n    {source_line}\n   ]\n  }}\n ],\n \"metadata\": {{}},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}}\n"
        )
    }

    #[test]
    fn a_code_cell_reads_the_environment_and_stays_valid_json() {
        let content = notebook(r#""client = replicate.Client(api_token=\"SECRET\")""#);
        let start = content.find("SECRET").unwrap();
        let edits = rewrite(&content, start, start + 6, "TOKEN").unwrap();
        let fixed = apply_edits(&content, &edits);
        let parsed: serde_json::Value = serde_json::from_str(&fixed).unwrap();
        let source: Vec<&str> = parsed["cells"][0]["source"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert_eq!(
            source,
            [
                "import os\n",
                "import replicate\n",
                "client = replicate.Client(api_token=os.environ[\"TOKEN\"])"
            ]
        );
    }

    #[test]
    fn outputs_are_left_to_the_user() {
        let content = "{\"cells\": [{\"cell_type\": \"code\", \"outputs\": [{\"text\": [\"SECRET\\n\"]}], \"source\": []}]}";
        let start = content.find("SECRET").unwrap();
        assert!(rewrite(content, start, start + 6, "TOKEN").is_err());
    }
}
