//! What the configuration allows: disabled rules, allowlists (global and per rule) and the
//! fingerprint ignore file, compiled. Every decision names its origin, so that a report can
//! count what each layer suppressed.

use std::collections::HashMap;

use regex::bytes::Regex;

use crate::detect::glob::Glob;

/// What an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Secret,
    Line,
}

/// One allowlist: paths, literal values and regexes, each with the layer that added it.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    pub paths: Vec<(Glob, String)>,
    pub values: Vec<(String, String)>,
    pub regexes: Vec<(Regex, Target, String)>,
}

impl AllowList {
    fn allows(&self, path: &str, secret: &[u8], line: &[u8]) -> Option<&str> {
        if let Some((_, origin)) = self.paths.iter().find(|(glob, _)| glob.is_match(path)) {
            return Some(origin);
        }
        if let Some((_, origin)) = self.values.iter().find(|(v, _)| v.as_bytes() == secret) {
            return Some(origin);
        }
        self.regexes
            .iter()
            .find(|(regex, target, _)| match target {
                Target::Secret => regex.is_match(secret),
                Target::Line => regex.is_match(line),
            })
            .map(|(_, _, origin)| origin.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.values.is_empty() && self.regexes.is_empty()
    }
}

/// Everything configuration can suppress, compiled once per run.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub global: AllowList,
    pub per_rule: HashMap<String, AllowList>,
    /// Rule id -> the layer that disabled it.
    pub disabled: HashMap<String, String>,
    /// Fingerprint -> the ignore file that lists it.
    pub ignored: HashMap<String, String>,
}

impl Policy {
    pub fn disabled_by(&self, rule_id: &str) -> Option<&str> {
        self.disabled.get(rule_id).map(String::as_str)
    }

    /// The origin of the first entry that allows this finding, if any.
    pub fn allowed_by(
        &self,
        rule_id: &str,
        path: &str,
        secret: &[u8],
        line: &[u8],
        fingerprint: &str,
    ) -> Option<&str> {
        if let Some(origin) = self.ignored.get(fingerprint) {
            return Some(origin);
        }
        self.global
            .allows(path, secret, line)
            .or_else(|| self.per_rule.get(rule_id)?.allows(path, secret, line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_decisions_name_their_origin() {
        let mut policy = Policy::default();
        policy
            .global
            .paths
            .push((Glob::new("tests/fixtures/").unwrap(), "repo".into()));
        policy.per_rule.insert(
            "r".into(),
            AllowList {
                values: vec![("known-test-key".into(), "user".into())],
                regexes: vec![(
                    Regex::new("^sk-test").unwrap(),
                    Target::Secret,
                    "repo".into(),
                )],
                ..AllowList::default()
            },
        );
        policy
            .ignored
            .insert("f".repeat(32), ".tokenguardignore".into());
        let fp = "0".repeat(32);
        let cases = [
            ("r", "tests/fixtures/a.env", "x", &fp, Some("repo")),
            ("r", "src/a.env", "known-test-key", &fp, Some("user")),
            ("other", "src/a.env", "known-test-key", &fp, None),
            ("r", "src/a.env", "sk-test-123", &fp, Some("repo")),
            (
                "r",
                "src/a.env",
                "x",
                &"f".repeat(32),
                Some(".tokenguardignore"),
            ),
            ("r", "src/a.env", "x", &fp, None),
        ];
        for (rule, path, secret, fingerprint, expected) in cases {
            assert_eq!(
                policy.allowed_by(rule, path, secret.as_bytes(), b"", fingerprint),
                expected,
                "{rule} {path} {secret}"
            );
        }
    }
}
