//! SARIF 2.1.0 for code-scanning dashboards: one reporting descriptor per rule, one result per
//! finding with its location and a partial fingerprint. Secrets appear only redacted.

use std::io::Write;

use serde_json::{Value, json};

use super::Outcome;
use super::catalog::{Catalog, RuleView};
use crate::detect::rules::Severity;
use crate::finding::{Finding, Part};

/// GitHub's scale for `security-severity` (critical >= 9.0, high >= 7.0, medium >= 4.0).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// `replicate-api-token` -> `ReplicateApiToken`.
fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// A repository-relative path as a URI reference: every byte outside the unreserved set and
/// `/` is percent-encoded (spaces, non-ASCII, `#`, `?`).
fn uri(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn write(
    out: &mut impl Write,
    outcome: &Outcome,
    catalog: &Catalog<'_>,
) -> std::io::Result<()> {
    let descriptors: Vec<Value> = catalog
        .rules
        .iter()
        .map(|rule| descriptor(rule, catalog))
        .collect();
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|finding| result(finding, catalog))
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tokenguard",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// A rule's reporting descriptor: names, help with the rotation steps, level and precision.
fn descriptor(rule: &RuleView<'_>, catalog: &Catalog<'_>) -> Value {
    let (name, docs, env_vars, steps) = catalog
        .provider(rule.provider)
        .map_or((rule.provider, "", &[][..], &[][..]), |p| {
            (p.name, p.docs, p.env_vars, p.steps)
        });
    let mut help = format!(
        "{}\n\nRemove the secret and read it from the environment ({}) or a secret manager, then:\n",
        rule.description,
        env_vars.join(", ")
    );
    for step in steps {
        help.push_str(&format!("- {step}\n"));
    }
    json!({
        "id": rule.id,
        "name": pascal_case(rule.id),
        "shortDescription": {"text": format!("{name} {}", rule.description)},
        "fullDescription": {"text": format!(
            "{}. Provider: {name}. Confidence: {:?}.",
            rule.description, rule.confidence
        )},
        "help": {"text": help},
        "helpUri": docs,
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": {
            "security-severity": security_severity(rule.severity),
            "precision": format!("{:?}", rule.confidence).to_lowercase(),
            "tags": ["security", "secret", "external/cwe/cwe-798"],
        },
    })
}

/// One finding as a result: its message, location and fingerprint.
fn result(finding: &Finding, catalog: &Catalog<'_>) -> Value {
    let index = catalog.rule_index(&finding.rule_id);
    let mut result = json!({
        "ruleId": finding.rule_id,
        "level": level(finding.severity),
        "message": {"text": format!(
            "{} secret {} ({}{}){}; revoke and rotate it, then remove it.",
            finding.provider,
            finding.secret_redacted,
            finding.rule_id,
            finding.notes().iter().map(|n| format!(", {n}")).collect::<String>(),
            finding.cell().map_or(String::new(), |cell| format!(" in notebook {cell}"))
        )},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri(finding.path()), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": finding.line, "startColumn": finding.column},
            }
        }],
        "partialFingerprints": {"tokenguardFingerprint/v1": finding.fingerprint},
    });
    if let Some(index) = index {
        result["ruleIndex"] = json!(index);
    }
    match finding.part() {
        Part::Content => {}
        // A name has no line: the location is the file itself.
        Part::Path | Part::SymlinkTarget => {
            result["locations"][0]["physicalLocation"]
                .as_object_mut()
                .map(|location| location.remove("region"));
        }
        // A message is no file: a logical location names the commit or tag.
        Part::CommitMessage | Part::TagMessage => {
            let name = match (finding.tag(), finding.commit()) {
                (Some(tag), _) => format!("tag {tag} message"),
                (None, Some(commit)) => format!("commit {commit} message"),
                (None, None) => "commit message".to_string(),
            };
            result["locations"] = json!([{
                "logicalLocations": [{"name": name, "kind": "object"}],
                "message": {"text": format!("line {}, column {}", finding.line, finding.column)},
            }]);
        }
    }
    let properties = properties(finding);
    if !properties.is_empty() {
        result["properties"] = Value::Object(properties);
    }
    result
}

/// What a result's location cannot say: commit, tag, part, encoding, cell, verification.
fn properties(finding: &Finding) -> serde_json::Map<String, Value> {
    let mut properties = serde_json::Map::new();
    if let Some(commit) = finding.commit() {
        properties.insert("commit".into(), json!(commit));
    }
    if finding.shallow_boundary() {
        properties.insert("shallowBoundary".into(), json!(true));
    }
    if finding.part() != Part::Content {
        properties.insert("part".into(), json!(finding.part()));
    }
    if let Some(tag) = finding.tag() {
        properties.insert("tag".into(), json!(tag));
    }
    if let Some(encoding) = &finding.encoding {
        properties.insert("encoding".into(), json!(encoding));
    }
    if let Some(cell) = finding.cell() {
        properties.insert("cell".into(), json!(cell));
    }
    if let Some(status) = &finding.verification {
        properties.insert("verification".into(), json!(status));
    }
    properties
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("src/a.py"), "src/a.py");
        assert_eq!(uri("dossier é/a b#.env"), "dossier%20%C3%A9/a%20b%23.env");
    }

    #[test]
    fn rule_names() {
        assert_eq!(pascal_case("replicate-api-token"), "ReplicateApiToken");
    }
}
