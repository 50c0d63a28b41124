//! Jupyter notebooks end to end: a finding names the cell (as Jupyter numbers it), its kind or
//! output and the line in it, next to the file line, through the real pre-commit hook, a push
//! to a local bare remote (pre-push) and a server's pre-receive hook; a token in an output
//! brings the advice to clear outputs.

use serde_json::{Value, json};

use crate::decoding::{base64, hf_token};
use crate::fixture::{Run, TestRepo, replicate_token};

/// A notebook as Jupyter writes it: one-space indent, one JSON string per source line.
fn pretty(cells: Vec<Value>) -> String {
    let document = json!({
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.4"}
        },
        "nbformat": 4,
        "nbformat_minor": 5
    });
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&document, &mut serializer).unwrap();
    out.push(b'\n');
    String::from_utf8(out).unwrap()
}

/// Jupyter's multi-line string: the text split after each newline.
fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

fn code(source: &str, outputs: Vec<Value>) -> Value {
    json!({
        "cell_type": "code",
        "execution_count": 1,
        "id": "c0ffee12",
        "metadata": {},
        "outputs": outputs,
        "source": lines(source)
    })
}

fn markdown(source: &str) -> Value {
    json!({"cell_type": "markdown", "id": "d0c5", "metadata": {}, "source": lines(source)})
}

fn stream(text: &str) -> Value {
    json!({"name": "stdout", "output_type": "stream", "text": lines(text)})
}

/// 1-based line and byte column of `needle` in `text`, as the report counts them.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).expect("needle in text");
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    (
        text[..offset].matches('\n').count() + 1,
        offset - line_start + 1,
    )
}

#[track_caller]
fn assert_hidden(run: &Run, token: &str) {
    assert!(!run.all().contains(token), "token printed: {run:#?}");
}

/// Three cells: a heading, a clean import, and a token on line 2 of the third cell.
fn notebook_with_token_in_source(token: &str) -> String {
    pretty(vec![
        markdown("# Fine-tuning\nRuns the model on Replicate."),
        code("import os\nimport replicate", vec![]),
        code(
            &format!("client = replicate.Client(\n    api_token=\"{token}\"\n)"),
            vec![],
        ),
    ])
}

#[test]
fn a_token_in_a_code_cell_is_blocked_by_the_hook_and_named_by_cell() {
    let repo = TestRepo::new();
    let token = replicate_token(500);
    let text = notebook_with_token_in_source(&token);
    repo.add("notebooks/demo.ipynb", &text);
    let run = repo.commit(&[]);
    run.assert_code(1);
    let (line, column) = position(&text, &token);
    let expected =
        format!("notebooks/demo.ipynb:{line}:{column} (cell 3, code, line 2)  replicate-api-token");
    assert!(run.stderr.contains(&expected), "{expected}\n{run:#?}");
    assert!(run.stderr.contains("r8_"), "{run:#?}");
    assert_hidden(&run, &token);
    // The token is in the source: nothing to say about outputs.
    assert!(!run.stderr.contains("nbstripout"), "{run:#?}");
    assert_eq!(repo.head(), None);
}

#[test]
fn a_token_in_an_output_is_blocked_with_the_advice_to_clear_outputs() {
    let repo = TestRepo::new();
    let r8 = replicate_token(501);
    let hf = hf_token(502);
    let source = "import os\nprint(\"Saved token:\", os.environ[\"REPLICATE_API_TOKEN\"])\nos.environ[\"HF_TOKEN\"]";
    let outputs = vec![
        // One string with `\n` escapes, as nbformat allows.
        json!({"name": "stdout", "output_type": "stream", "text": format!("Saved token:\n{r8}\n")}),
        json!({
            "data": {"text/plain": [format!("'{hf}'")]},
            "execution_count": 1,
            "metadata": {},
            "output_type": "execute_result"
        }),
    ];
    let text = pretty(vec![markdown("# Setup"), code(source, outputs)]);
    repo.add("setup.ipynb", &text);
    let run = repo.commit(&[]);
    run.assert_code(1);
    let (line, column) = position(&text, &r8);
    let stream_at = format!("setup.ipynb:{line}:{column} (cell 2, output 1 (stream), line 2)");
    let (line, column) = position(&text, &hf);
    let result_at = format!(
        "setup.ipynb:{line}:{column} (cell 2, output 2 (execute_result, text/plain), line 1)"
    );
    for expected in [
        stream_at.as_str(),
        result_at.as_str(),
        "jupyter nbconvert --clear-output --inplace setup.ipynb",
        "nbstripout setup.ipynb",
        "a notebook output showed it",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{run:#?}");
    }
    assert_eq!(
        run.stderr.matches("jupyter nbconvert").count(),
        1,
        "{run:#?}"
    );
    assert_hidden(&run, &r8);
    assert_hidden(&run, &hf);
    // What `jupyter nbconvert --clear-output` leaves commits.
    let cleared = pretty(vec![markdown("# Setup"), code(source, vec![])]);
    repo.add("setup.ipynb", &cleared);
    repo.commit(&[]).assert_code(0);
}

#[test]
fn a_minified_notebook_names_the_cell_and_the_line_in_it() {
    let repo = TestRepo::new();
    let token = replicate_token(503);
    // The whole notebook on one physical line, a cell's source as one string.
    let text = format!(
        "{{\"cells\":[{{\"cell_type\":\"markdown\",\"metadata\":{{}},\"source\":\"# Demo\\nNo key here.\"}},{{\"cell_type\":\"code\",\"execution_count\":null,\"metadata\":{{}},\"outputs\":[],\"source\":\"import replicate\\n\\nclient = replicate.Client(api_token=\\\"{token}\\\")\"}}],\"metadata\":{{}},\"nbformat\":4,\"nbformat_minor\":5}}"
    );
    assert!(serde_json::from_str::<Value>(&text).is_ok());
    repo.add("min.ipynb", &text);
    let run = repo.commit(&[]);
    run.assert_code(1);
    let (line, column) = position(&text, &token);
    assert_eq!(line, 1);
    let expected = format!("min.ipynb:1:{column} (cell 2, code, line 3)");
    assert!(run.stderr.contains(&expected), "{expected}\n{run:#?}");
    assert_hidden(&run, &token);
}

#[test]
fn json_and_sarif_carry_the_cell() {
    let repo = TestRepo::new();
    let token = replicate_token(504);
    let text = notebook_with_token_in_source(&token);
    repo.add("demo.ipynb", &text);
    repo.add("app.py", format!("TOKEN = \"{}\"\n", replicate_token(505)));
    let json_run = repo.tokenguard(&["scan-staged", "--format", "json"]);
    json_run.assert_code(1);
    assert_hidden(&json_run, &token);
    let report = json_run.json();
    let found = report["findings"].as_array().unwrap();
    let notebook = found.iter().find(|f| f["path"] == "demo.ipynb").unwrap();
    assert_eq!(
        notebook["cell"],
        json!({"index": 3, "kind": "code", "field": "source", "line": 2}),
        "{report}"
    );
    // Other files' findings stay as they were: no `cell` key at all.
    let plain = found.iter().find(|f| f["path"] == "app.py").unwrap();
    assert!(plain.get("cell").is_none(), "{report}");

    let sarif_run = repo.tokenguard(&["scan-staged", "--format", "sarif"]);
    sarif_run.assert_code(1);
    assert_hidden(&sarif_run, &token);
    let sarif = sarif_run.json();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let result = results
        .iter()
        .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "demo.ipynb")
        .unwrap();
    assert_eq!(
        result["properties"]["cell"],
        json!({"index": 3, "kind": "code", "field": "source", "line": 2}),
        "{sarif}"
    );
    let message = result["message"]["text"].as_str().unwrap();
    assert!(
        message.contains("in notebook cell 3, code, line 2"),
        "{message}"
    );
    let (line, _) = position(&text, &token);
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"], line,
        "{sarif}"
    );

    // scan-files reads the notebook from disk and names the cell the same way.
    let files = repo.tokenguard(&["scan-files", "demo.ipynb", "--format", "json"]);
    files.assert_code(1);
    assert_eq!(
        files.json()["findings"][0]["cell"]["index"],
        3,
        "{files:#?}"
    );

    // An output's finding says which output.
    let outputs = vec![stream(&format!("token={token}\n"))];
    repo.add("out.ipynb", pretty(vec![code("show()", outputs)]));
    let report = repo.scan_json();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "out.ipynb")
        .cloned()
        .unwrap();
    assert_eq!(
        finding["cell"],
        json!({"index": 1, "kind": "code", "output": {"index": 1, "type": "stream"}, "field": "text", "line": 1}),
        "{report}"
    );
}

#[test]
fn a_push_with_a_notebook_token_is_blocked_by_the_pre_push_hook() {
    let repo = TestRepo::new();
    repo.tokenguard(&["install"]).assert_code(0);
    assert!(repo.path().join(".git/hooks/pre-push").exists());
    repo.with_origin("remote.git", false);
    // Committed without the hook, as a cherry-pick or rebase would.
    let token = replicate_token(506);
    let outputs = vec![stream(&format!("Using {token}\n"))];
    repo.add(
        "nb/train.ipynb",
        pretty(vec![markdown("# Train"), code("print(token)", outputs)]),
    );
    repo.commit_unchecked(&[]);
    let run = repo.git_in(&repo.path(), &["push", "-q", "origin", "main"]);
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(run.all().contains("push blocked"), "{run:#?}");
    assert!(
        run.all().contains("(cell 2, output 1 (stream), line 1)"),
        "{run:#?}"
    );
    assert!(
        run.all()
            .contains("jupyter nbconvert --clear-output --inplace nb/train.ipynb"),
        "{run:#?}"
    );
    assert_hidden(&run, &token);
    // scan-range in CI says the same.
    let range = repo.tokenguard(&["scan-range", "origin/main..HEAD", "--format", "json"]);
    range.assert_code(1);
    assert_eq!(range.json()["findings"][0]["cell"]["index"], 2);
}

#[test]
fn a_pre_receive_hook_rejects_a_notebook_token() {
    let repo = TestRepo::new();
    let server = repo.with_origin("server.git", true);
    let token = replicate_token(507);
    repo.add("demo.ipynb", notebook_with_token_in_source(&token));
    repo.commit_unchecked(&[]);
    let run = repo.git_in(
        &repo.path(),
        &["push", "-q", "--no-verify", "origin", "main"],
    );
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(run.all().contains("push rejected"), "{run:#?}");
    assert!(run.all().contains("(cell 3, code, line 2)"), "{run:#?}");
    assert_hidden(&run, &token);
    let refs = repo.git_in(&server, &["rev-parse", "main"]);
    assert_ne!(
        refs.stdout.trim(),
        repo.head().unwrap(),
        "the server stored it"
    );
}

/// Hex digits from a seed: model version hashes, ids.
fn hex(seed: u64, len: usize) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from_digit((state % 16) as u32, 16).unwrap()
        })
        .collect()
}

#[test]
fn a_clean_notebook_with_look_alikes_passes() {
    let repo = TestRepo::new();
    // A PNG-like output: random bytes as base64, as Jupyter embeds plots.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let image: Vec<u8> = (0..3000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let version = hex(1, 64);
    let source = format!(
        "import os\nimport replicate\n\nreplicate_token = os.environ[\"REPLICATE_API_TOKEN\"]\nmodel = \"stability-ai/sdxl:{version}\"\noutput = replicate.run(model, input={{\"prompt\": \"a cat\"}})"
    );
    let outputs = vec![
        stream(&format!(
            "prediction {} started\nrequest id {}\n",
            hex(2, 26),
            hex(3, 32)
        )),
        json!({
            "data": {
                "application/vnd.jupyter.widget-view+json": {
                    "model_id": hex(6, 32), "version_major": 2, "version_minor": 0
                },
                "image/png": base64(&image),
                "text/plain": ["<Figure size 640x480 with 1 Axes>"]
            },
            "metadata": {},
            "output_type": "display_data"
        }),
    ];
    let mut cell = code(&source, outputs);
    cell["metadata"] = json!({"widget_model_id": hex(4, 32), "commit": hex(5, 40)});
    let text = pretty(vec![
        markdown(
            "# Demo\nSet `REPLICATE_API_TOKEN` first: `export REPLICATE_API_TOKEN=r8_...`, or `HF_TOKEN=<your-token>`.",
        ),
        cell,
    ]);
    repo.add("clean.ipynb", &text);
    let run = repo.commit(&[]);
    run.assert_code(0);
    assert!(repo.head().is_some());
    repo.tokenguard(&["scan-tree"]).assert_code(0);
}

#[test]
fn a_token_where_a_notebook_has_names_is_redacted_there_too() {
    let repo = TestRepo::new();
    let as_type = replicate_token(508);
    let as_mime = replicate_token(509);
    let outputs = vec![
        json!({"output_type": as_type, "text": ["x\n"]}),
        json!({"output_type": "display_data", "data": {as_mime.clone(): "y"}, "metadata": {}}),
    ];
    repo.add("crafted.ipynb", pretty(vec![code("show()", outputs)]));
    let run = repo.commit(&[]);
    run.assert_code(1);
    assert!(run.stderr.contains("(cell 1, output 1 (r8_"), "{run:#?}");
    assert!(
        run.stderr.contains("(cell 1, output 2 (display_data, r8_"),
        "{run:#?}"
    );
    for format in ["human", "json", "sarif"] {
        let out = repo.tokenguard(&["scan-staged", "--format", format]);
        out.assert_code(1);
        assert_hidden(&out, &as_type);
        assert_hidden(&out, &as_mime);
    }
}
