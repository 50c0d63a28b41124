//! The JSON Schemas in docs/schema/ hold for what tokenguard really writes and reads: real
//! JSON reports of every kind of finding validate against report.schema.json, and the example
//! configuration against config.schema.json, both checked strictly (a field the schema does
//! not describe is an error here, so the schemas stay complete as fields are added).

use std::path::Path;

use crate::fixture::{TestRepo, replicate_token};

fn schema(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schema")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The JSON Schema keywords the two schemas use, checked; any other keyword is an error, so
/// that a schema cannot come to rely on one this check ignores.
fn validate(
    root: &serde_json::Value,
    schema: &serde_json::Value,
    value: &serde_json::Value,
    at: &str,
    errors: &mut Vec<String>,
) {
    use serde_json::Value;
    let Some(schema) = schema.as_object() else {
        return;
    };
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix("#/$defs/").unwrap();
        return validate(root, &root["$defs"][name], value, at, errors);
    }
    let fail = |errors: &mut Vec<String>, message: String| errors.push(format!("{at}: {message}"));
    for (keyword, rule) in schema {
        match keyword.as_str() {
            "$schema" | "$id" | "title" | "description" | "$defs" => {}
            "type" => {
                let ok = match rule.as_str().unwrap() {
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "string" => value.is_string(),
                    "integer" => value.is_u64() || value.is_i64(),
                    "number" => value.is_number(),
                    "boolean" => value.is_boolean(),
                    other => panic!("type {other}"),
                };
                if !ok {
                    fail(errors, format!("not of type {rule}: {value}"));
                }
            }
            "const" if value != rule => fail(errors, format!("{value} is not {rule}")),
            "enum" if !rule.as_array().unwrap().contains(value) => {
                fail(errors, format!("{value} is not one of {rule}"))
            }
            "const" | "enum" => {}
            "minimum" if value.as_f64().is_some_and(|v| v < rule.as_f64().unwrap()) => {
                fail(errors, format!("{value} < {rule}"))
            }
            "exclusiveMinimum" if value.as_f64().is_some_and(|v| v <= rule.as_f64().unwrap()) => {
                fail(errors, format!("{value} <= {rule}"))
            }
            "minimum" | "exclusiveMinimum" => {}
            "minLength" => {
                let length = value.as_str().map_or(usize::MAX, |s| s.chars().count());
                if length < rule.as_u64().unwrap() as usize {
                    fail(errors, format!("{value} is shorter than {rule}"));
                }
            }
            "pattern" => {
                let pattern = regex::Regex::new(rule.as_str().unwrap()).unwrap();
                if value.as_str().is_some_and(|s| !pattern.is_match(s)) {
                    fail(errors, format!("{value} does not match {rule}"));
                }
            }
            "required" => {
                for name in rule.as_array().unwrap() {
                    if value.is_object() && value.get(name.as_str().unwrap()).is_none() {
                        fail(errors, format!("{name} is missing"));
                    }
                }
            }
            "items" => {
                for (index, item) in value.as_array().into_iter().flatten().enumerate() {
                    validate(root, rule, item, &format!("{at}[{index}]"), errors);
                }
            }
            "anyOf" => {
                let any = rule.as_array().unwrap().iter().any(|option| {
                    let mut inner = Vec::new();
                    validate(root, option, value, at, &mut inner);
                    inner.is_empty()
                });
                if !any {
                    fail(errors, format!("{value} matches none of anyOf"));
                }
            }
            "properties" | "additionalProperties" => {}
            other => panic!("keyword {other} is not checked here"),
        }
    }
    let Some(object) = value.as_object() else {
        return;
    };
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    if properties.is_none() && additional.is_none() {
        // An object the schema leaves open (a custom rule's filters, examples, ...).
        return;
    }
    for (name, item) in object {
        let path = format!("{at}.{name}");
        match (properties.and_then(|p| p.get(name)), additional) {
            (Some(property), _) => validate(root, property, item, &path, errors),
            (None, Some(Value::Bool(false))) => errors.push(format!("{path}: not allowed")),
            (None, Some(Value::Object(_))) => {
                validate(root, &additional.unwrap().clone(), item, &path, errors)
            }
            // Strict: every field tokenguard writes is described.
            (None, _) => errors.push(format!("{path}: not described in the schema")),
        }
    }
}

fn assert_valid(schema: &serde_json::Value, value: &serde_json::Value) {
    let mut errors = Vec::new();
    validate(schema, schema, value, "$", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}\n{value:#}");
}

fn notebook_with_output(token: &str) -> String {
    serde_json::json!({
        "cells": [{
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "source": ["print('token')\n"],
            "outputs": [{"output_type": "stream", "name": "stdout", "text": [format!("REPLICATE_API_TOKEN={token}\n")]}]
        }],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5
    })
    .to_string()
}

#[test]
fn real_json_reports_of_every_kind_validate_against_the_report_schema() {
    let schema = schema("report.schema.json");
    let repo = TestRepo::new();
    // A commit: content, a file name, base64, a notebook output, a .env warning, a
    // suppression by inline comment.
    repo.add(
        ".env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(980)),
    );
    repo.add(
        format!("backup-{}.txt", replicate_token(981)).as_str(),
        "x\n",
    );
    let encoded = {
        use std::io::Write;
        let mut child = std::process::Command::new("base64")
            .arg("-w0")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let line = format!("export REPLICATE_API_TOKEN={}", replicate_token(982));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    repo.add("k8s/secret.yaml", format!("data:\n  env: {encoded}\n"));
    repo.add("demo.ipynb", notebook_with_output(&replicate_token(983)));
    repo.add(
        "ok.py",
        format!("A = \"{}\"  # tokenguard:allow\n", replicate_token(984)),
    );
    let commit = repo.tokenguard(&["scan-staged", "--format", "json"]);
    commit.assert_code(1);
    let report = commit.json();
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["part"] == "path"), "{report:#}");
    assert!(
        findings.iter().any(|f| f.get("encoding").is_some()),
        "{report:#}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f["cell"]["output"]["type"] == "stream"),
        "{report:#}"
    );
    assert!(
        !report["warnings"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
    assert_valid(&schema, &report);

    // History: commit ids, a commit message finding.
    repo.commit_unchecked(&[]);
    repo.add("b.txt", "b\n");
    let message = format!("use {} for CI", replicate_token(985));
    repo.git(&["commit", "-q", "--no-verify", "-m", &message]);
    let history = repo.tokenguard(&["scan-range", "HEAD", "--format", "json"]);
    history.assert_code(1);
    let report = history.json();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["part"] == "commit-message" && f.get("commit").is_some()),
        "{report:#}"
    );
    assert_valid(&schema, &report);

    // Clean files scan.
    let files = repo.tokenguard(&["scan-files", "b.txt", "--format", "json"]);
    files.assert_code(0);
    assert_valid(&schema, &files.json());
}

#[test]
fn the_report_schema_rejects_what_tokenguard_never_writes() {
    let schema = schema("report.schema.json");
    let repo = TestRepo::new();
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(986)),
    );
    let good = repo.tokenguard(&["scan-staged", "--format", "json"]).json();
    let broken = [
        ("/schema_version", serde_json::json!(2)),
        ("/mode", serde_json::json!("staged")),
        ("/findings/0/fingerprint", serde_json::json!("not-hex")),
        ("/findings/0/line", serde_json::json!(0)),
        ("/findings/0/severity", serde_json::json!("urgent")),
    ];
    for (pointer, value) in broken {
        let mut report = good.clone();
        *report.pointer_mut(pointer).unwrap() = value;
        let mut errors = Vec::new();
        validate(&schema, &schema, &report, "$", &mut errors);
        assert!(!errors.is_empty(), "{pointer} accepted");
    }
}

#[test]
fn the_example_config_validates_against_the_config_schema_and_so_do_the_refusals() {
    let schema = schema("config.schema.json");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/tokenguard.example.toml");
    let text = std::fs::read_to_string(example).unwrap();
    let config: toml::Value = toml::from_str(&text).unwrap();
    let config = serde_json::to_value(config).unwrap();
    assert_valid(&schema, &config);

    // What tokenguard refuses as a shape, the schema refuses too.
    let repo = TestRepo::new();
    for bad in [
        "colour = \"red\"\n",
        "[scan]\nmax_file_size = true\n",
        "[allow]\nregexes = [{ regex = \"x\", target = \"word\" }]\n",
        "[allow]\npath = [\"a/\"]\n",
        "[output]\nclean = \"quiet\"\n",
    ] {
        repo.write(".tokenguard.toml", bad);
        repo.tokenguard(&["config"]).assert_code(2);
        let value = serde_json::to_value(toml::from_str::<toml::Value>(bad).unwrap()).unwrap();
        let mut errors = Vec::new();
        validate(&schema, &schema, &value, "$", &mut errors);
        assert!(!errors.is_empty(), "the schema accepts {bad:?}");
    }
}
