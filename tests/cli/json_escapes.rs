//! A token right after a string escape, at every level a JSON file or notebook nests code:
//! the JSON escape (`\n` in the file), the code escape inside a JSON string (Python's `"\n"`
//! stored as `\\n`), and JSON held in a JSON string. Every escape letter at each level,
//! through the real pre-commit hook, a push (pre-push) and `scan-tree`.

use serde_json::json;

use crate::fixture::{TestRepo, findings, replicate_token};

/// Escapes that end in a letter or digit in code (Python, JS, C, Go, Rust...): the letter
/// glues onto a token right after it unless it is read as an escape.
const CODE_ESCAPES: &[&str] = &[
    r"\n",
    r"\t",
    r"\r",
    r"\b",
    r"\f",
    r"\v",
    r"\a",
    r"\0",
    r"\x41",
    r"\u00e9",
    r"\U0001F600",
];

/// Characters JSON writes as an escape ending in a letter or digit (`\n`, `\t`, `\r`, `\b`,
/// `\f`, and `\u0007` for the other control characters).
const JSON_ESCAPED_CHARS: &[char] = &['\n', '\t', '\r', '\u{8}', '\u{c}', '\u{7}'];

/// A notebook with one code cell per line of `source` lines.
fn notebook(cells: &[String]) -> String {
    let cells: Vec<_> = cells
        .iter()
        .map(|source| {
            json!({"cell_type": "code", "execution_count": 1, "id": "c0ffee12", "metadata": {},
                   "outputs": [], "source": [source]})
        })
        .collect();
    let document = json!({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5});
    serde_json::to_string_pretty(&document).unwrap() + "\n"
}

/// The files and how many tokens each holds.
fn files_with_escaped_tokens(seed: u64) -> Vec<(&'static str, String, usize)> {
    let mut next = seed;
    let mut token = || {
        next += 1;
        replicate_token(next)
    };
    // Level 1 in code: `"x\n{token}"` in a Python file.
    let python: String = CODE_ESCAPES
        .iter()
        .map(|e| format!("print(\"x{e}{}\")\n", token()))
        .collect();
    // Level 1 in JSON: a control character JSON escapes, right before the token.
    let json_level_one: Vec<String> = JSON_ESCAPED_CHARS
        .iter()
        .map(|c| format!("Your token:{c}{}", token()))
        .collect();
    let json_text = serde_json::to_string_pretty(&json!({ "texts": json_level_one })).unwrap();
    // Level 2: the Python escape inside a notebook cell (stored `\\n`), and the second of two
    // tokens a code escape separates.
    let mut cells: Vec<String> = CODE_ESCAPES
        .iter()
        .map(|e| format!("print(\"Your token:{e}{}\")\n", token()))
        .collect();
    cells.push(format!("pair = \"{}\\n{}\"\n", token(), token()));
    // Level 2 in JSON held by JSON: `{"a": "{\"t\": \"x\\n{token}\"}"}`.
    let nested: Vec<String> = CODE_ESCAPES
        .iter()
        .map(|e| {
            let inner = format!("{{\"t\": \"x{e}{}\"}}", token());
            json!({ "a": inner }).to_string()
        })
        .collect();
    vec![
        ("escapes.py", python, CODE_ESCAPES.len()),
        ("saved.json", json_text, JSON_ESCAPED_CHARS.len()),
        ("cells.ipynb", notebook(&cells), CODE_ESCAPES.len() + 2),
        ("nested.jsonl", nested.join("\n") + "\n", CODE_ESCAPES.len()),
    ]
}

/// Findings per path of a JSON report.
fn count(report: &serde_json::Value, path: &str) -> usize {
    findings(report).iter().filter(|f| f.1 == path).count()
}

#[test]
fn a_token_after_any_escape_at_any_json_level_is_blocked_everywhere() {
    let repo = TestRepo::new();
    repo.tokenguard(&["install"]).assert_code(0);
    repo.with_origin("remote.git", false);
    let files = files_with_escaped_tokens(2920);
    for (path, content, _) in &files {
        repo.add(path, content);
    }
    // pre-commit.
    let report = repo.scan_json();
    for (path, _, expected) in &files {
        assert_eq!(count(&report, path), *expected, "{path}: {report:#}");
    }
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    // pre-push, for the same commit made without the hook.
    repo.commit_unchecked(&[]);
    let push = repo.push(&["main"]);
    assert_ne!(push.code, Some(0), "{push:#?}");
    assert!(push.all().contains("push blocked"), "{push:#?}");
    let range = repo.tokenguard(&["scan-range", "origin/main..HEAD", "--format", "json"]);
    range.assert_code(1);
    // scan-tree.
    let tree = repo.tokenguard(&["scan-tree", "--format", "json"]);
    tree.assert_code(1);
    for (path, _, expected) in &files {
        assert_eq!(count(&range.json(), path), *expected, "{path}: {range:#?}");
        assert_eq!(count(&tree.json(), path), *expected, "{path}: {tree:#?}");
    }
    for (_, content, _) in &files {
        for line in content.lines() {
            if let Some(at) = line.find("r8_") {
                assert!(!push.all().contains(&line[at..at + 40]));
            }
        }
    }
}
