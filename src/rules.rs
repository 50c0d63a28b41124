//! Rule data: `config/rules.toml` parsed, validated and compiled once into a [`RuleSet`].
//!
//! No token regex lives in Rust code; this module only knows the schema.

use std::collections::{BTreeMap, HashSet};

use aho_corasick::AhoCorasick;
use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The built-in rules, embedded at build time.
pub const BUILTIN_RULES: &str = include_str!("../config/rules.toml");

/// Compiled regexes larger than this are rejected: a rule must stay cheap to build.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The rules file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    pub schema: u32,
    pub placeholders: PlaceholderSpec,
    pub references: ReferenceSpec,
    pub allow: AllowSpec,
    pub providers: BTreeMap<String, Provider>,
    pub rules: Vec<RuleSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceholderSpec {
    pub words: Vec<String>,
    #[serde(default)]
    pub literals: Vec<String>,
    pub max_run: usize,
    pub max_sequence: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    pub prefixes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSpec {
    pub same_line: Vec<String>,
}

/// Who issued a token and what to do when one leaks.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub name: String,
    pub docs: String,
    pub revoke_url: String,
    pub env_vars: Vec<String>,
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// Where a context keyword must occur relative to the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Before,
    After,
    Both,
    /// Anywhere in the same file.
    File,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    pub keywords: Vec<String>,
    /// Bytes searched on each requested side; not used with `side = "file"`.
    pub window: Option<usize>,
    pub side: Side,
}

/// Checks on the secret itself, after the regex matched.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Minimum Shannon entropy in bits per byte.
    pub entropy: Option<f64>,
    #[serde(default)]
    pub min_digits: usize,
    #[serde(default)]
    pub min_upper: usize,
    #[serde(default)]
    pub min_lower: usize,
}

/// Shapes and example lines from which tests build positive and negative cases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    pub shape: String,
    pub positive: Vec<String>,
    #[serde(default)]
    pub negative: Vec<String>,
}

/// One rule as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub provider: String,
    pub description: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// A catch-all rule (a variable name, a generic scheme) that yields to specific ones.
    #[serde(default)]
    pub fallback: bool,
    pub keywords: Vec<String>,
    pub regex: String,
    pub context: Option<ContextSpec>,
    #[serde(default)]
    pub filters: Filters,
    pub examples: Option<Examples>,
}

/// A context requirement, compiled.
#[derive(Debug, Clone)]
pub struct Context {
    pub keywords: AhoCorasick,
    pub window: usize,
    pub side: Side,
}

/// A rule ready to run.
#[derive(Debug, Clone)]
pub struct Rule {
    pub spec: RuleSpec,
    pub regex: Regex,
    pub context: Option<Context>,
}

impl Rule {
    pub fn id(&self) -> &str {
        &self.spec.id
    }
}

/// All rules and the shared filter data, validated and compiled.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub providers: BTreeMap<String, Provider>,
    pub placeholders: PlaceholderSpec,
    pub references: ReferenceSpec,
    pub allow: AllowSpec,
}

impl RuleSet {
    /// The rules embedded in the binary.
    pub fn builtin() -> Result<RuleSet> {
        RuleSet::from_toml(BUILTIN_RULES, "config/rules.toml (built in)")
    }

    /// Parses and compiles a rules file; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<RuleSet> {
        let file: RulesFile = toml::from_str(text).map_err(|err| Error::Rules {
            path: origin.to_string(),
            message: toml_error_line(text, &err),
        })?;
        RuleSet::compile(file, origin)
    }

    fn compile(file: RulesFile, origin: &str) -> Result<RuleSet> {
        if file.schema != 1 {
            return Err(Error::Rules {
                path: origin.to_string(),
                message: format!("unsupported schema {} (expected 1)", file.schema),
            });
        }
        let mut seen = HashSet::new();
        let mut rules = Vec::with_capacity(file.rules.len());
        for spec in file.rules {
            if !seen.insert(spec.id.clone()) {
                return Err(rule_error(&spec.id, "duplicate rule id"));
            }
            if !file.providers.contains_key(&spec.provider) {
                return Err(rule_error(
                    &spec.id,
                    format!("unknown provider {:?}", spec.provider),
                ));
            }
            rules.push(compile_rule(spec)?);
        }
        Ok(RuleSet {
            rules,
            providers: file.providers,
            placeholders: file.placeholders,
            references: file.references,
            allow: file.allow,
        })
    }

    /// The provider a rule points at; validated at compile time.
    pub fn provider(&self, rule: &Rule) -> &Provider {
        &self.providers[&rule.spec.provider]
    }
}

fn rule_error(id: &str, message: impl Into<String>) -> Error {
    Error::Rule {
        id: id.to_string(),
        message: message.into(),
    }
}

fn compile_rule(spec: RuleSpec) -> Result<Rule> {
    if spec.id.is_empty()
        || !spec
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(rule_error(
            &spec.id,
            "id must be lowercase letters, digits and '-'",
        ));
    }
    if spec.keywords.is_empty() || spec.keywords.iter().any(|k| k.len() < 2) {
        return Err(rule_error(
            &spec.id,
            "needs keywords of at least 2 bytes (they gate the regex)",
        ));
    }
    let regex = RegexBuilder::new(&spec.regex)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|err| {
            rule_error(
                &spec.id,
                format!(
                    "regex does not compile: {}",
                    err.to_string().replace('\n', " ")
                ),
            )
        })?;
    if regex.captures_len() < 2 {
        return Err(rule_error(
            &spec.id,
            "regex needs a capture group holding the secret",
        ));
    }
    let context = match &spec.context {
        None => None,
        Some(ctx) => Some(compile_context(&spec.id, ctx)?),
    };
    Ok(Rule {
        spec,
        regex,
        context,
    })
}

fn compile_context(id: &str, ctx: &ContextSpec) -> Result<Context> {
    if ctx.keywords.is_empty() {
        return Err(rule_error(id, "context needs at least one keyword"));
    }
    let window = match (ctx.side, ctx.window) {
        (Side::File, _) => 0,
        (_, Some(window)) if window > 0 => window,
        _ => return Err(rule_error(id, "context needs a window (bytes) > 0")),
    };
    let keywords = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&ctx.keywords)
        .map_err(|err| rule_error(id, format!("context keywords: {err}")))?;
    Ok(Context {
        keywords,
        window,
        side: ctx.side,
    })
}

/// Turns a TOML error into one line with its line and column.
fn toml_error_line(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim().replace('\n', " ");
    match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> RuleSet {
        RuleSet::builtin().expect("built-in rules compile")
    }

    #[test]
    fn builtin_rules_compile_with_unique_ids() {
        let set = builtin();
        assert!(set.rules.len() >= 8);
        let ids: HashSet<_> = set.rules.iter().map(|r| r.id()).collect();
        assert_eq!(ids.len(), set.rules.len());
    }

    #[test]
    fn every_builtin_rule_has_examples() {
        for rule in builtin().rules {
            let examples = rule.spec.examples.as_ref();
            assert!(
                examples.is_some_and(|e| !e.positive.is_empty() && !e.negative.is_empty()),
                "{} needs positive and negative examples",
                rule.id()
            );
        }
    }

    #[test]
    fn schema_errors_name_the_problem() {
        let base = BUILTIN_RULES;
        let cases = [
            (
                base.replacen("schema = 1", "schema = 2", 1),
                "unsupported schema",
            ),
            (
                base.replacen(
                    "id = \"replicate-rpt-token\"",
                    "id = \"replicate-api-token\"",
                    1,
                ),
                "duplicate rule id",
            ),
            (
                base.replacen("provider = \"baseten\"", "provider = \"nope\"", 1),
                "unknown provider",
            ),
            (
                base.replacen("keywords = [\"r8_\"]", "keywords = []", 1),
                "needs keywords",
            ),
            (
                base.replacen("(r8_[A-Za-z0-9]{37})", "r8_[A-Za-z0-9]{37}", 1),
                "capture group",
            ),
            (
                base.replacen("(r8_[A-Za-z0-9]{37})", "(r8_[A-Za-z0-9]{37}", 1),
                "does not compile",
            ),
            (
                base.replacen("severity = \"critical\"", "severity = \"dire\"", 1),
                "line",
            ),
            (
                base.replacen(
                    "confidence = \"high\"",
                    "confidence = \"high\"\nbogus = 1",
                    1,
                ),
                "unknown field",
            ),
        ];
        for (text, expected) in cases {
            let err = RuleSet::from_toml(&text, "test.toml")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(expected),
                "{err:?} should mention {expected:?}"
            );
            assert!(!err.contains('\n'), "one line: {err:?}");
        }
    }

    #[test]
    fn oversized_regex_is_rejected() {
        let text = BUILTIN_RULES.replacen(
            "(r8_[A-Za-z0-9]{37})",
            "(r8_[A-Za-z0-9]{37}(?:\\w{1000}){1000})",
            1,
        );
        let err = RuleSet::from_toml(&text, "t").unwrap_err().to_string();
        assert!(err.contains("replicate-api-token"), "{err}");
    }
}
