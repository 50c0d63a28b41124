//! Guards on allowlists, which judge a pattern by what it matches, never by its text: each
//! allow regex is tried against tokens of every rule (drawn from the rules' own example
//! shapes) and the typical lines they sit in, each path glob against typical repository
//! paths. A pattern that would suppress a large share of them turns the hook off, so it is an
//! error, reported by the caller at its `file:line:column`.

use regex::bytes::Regex;

use crate::detect::examples;
use crate::detect::glob::Glob;
use crate::detect::policy::Target;
use crate::detect::rules::RuleSet;

/// Tokens drawn per rule.
const SEEDS: [u64; 4] = [101, 202, 303, 404];

/// Tokens per rule whose example lines are drawn too (only for line regexes: building every
/// context's text costs more than drawing tokens).
const LINE_SEEDS: usize = 2;

/// A regex that matches this share of one rule's sampled tokens (or lines) turns that rule off.
const RULE_SHARE: f64 = 0.5;

/// A regex that matches any sampled token (or line) of this many rules matches token shapes,
/// not a known value: random tokens of different providers share nothing else.
const MAX_RULES_TOUCHED: usize = 3;

/// A glob that matches this share of the typical paths allows whole file types or trees.
const MAX_PATH_SHARE: f64 = 0.15;

/// Paths of a typical repository of ML code: sources in several languages, notebooks,
/// configuration, documentation, CI, and a few fixtures.
pub const TYPICAL_PATHS: &[&str] = &[
    "app.py",
    "main.py",
    "src/app/main.py",
    "src/app/client.py",
    "src/app/settings.py",
    "src/pkg/__init__.py",
    "train.py",
    "scripts/deploy.sh",
    "scripts/download_model.py",
    "notebooks/demo.ipynb",
    "notebooks/finetune.ipynb",
    "tests/test_client.py",
    "tests/fixtures/responses.json",
    "web/src/App.tsx",
    "web/src/api/client.ts",
    "web/package.json",
    "web/next.config.js",
    "server/index.js",
    "cmd/server/main.go",
    "internal/api/client.go",
    "go.mod",
    "src/lib.rs",
    "src/main.rs",
    "Cargo.toml",
    "app/models/user.rb",
    "src/main/java/com/acme/Client.java",
    "src/Program.cs",
    "lib/api.php",
    ".env",
    ".env.production",
    "config.json",
    "config/settings.yaml",
    "config/production.toml",
    "docker-compose.yml",
    "Dockerfile",
    "k8s/deployment.yaml",
    "helm/values.yaml",
    "terraform/main.tf",
    ".github/workflows/ci.yml",
    ".gitlab-ci.yml",
    "pyproject.toml",
    "requirements.txt",
    "setup.cfg",
    "README.md",
    "docs/index.md",
    "docs/guide/quickstart.md",
    "docs/api.rst",
    "CHANGELOG.md",
    "examples/quickstart.py",
    "examples/chat.ts",
    "data/prompts.jsonl",
    "Makefile",
    "infra/secrets.tf",
    "deploy/prod.env",
    "src/components/Chat.vue",
    "mobile/App.kt",
    "ios/App/Config.swift",
    "analysis/report.R",
    "sql/schema.sql",
    "src/utils/helpers.py",
];

/// Tokens of every rule and the lines they sit in, drawn once per configuration.
#[derive(Debug)]
pub struct Samples {
    rules: Vec<RuleSamples>,
}

#[derive(Debug)]
struct RuleSamples {
    id: String,
    secrets: Vec<Vec<u8>>,
    /// Drawn on first use, by the first line regex.
    lines: std::cell::OnceCell<Vec<Vec<u8>>>,
    samples: Vec<crate::detect::shape::Sample>,
    rule: usize,
}

impl Samples {
    /// Draws tokens of each rule that has examples, and the lines of its example contexts
    /// that hold them.
    pub fn new(set: &RuleSet) -> Samples {
        let mut rules = Vec::new();
        for (index, rule) in set.rules.iter().enumerate() {
            let samples: Vec<_> = SEEDS
                .iter()
                .filter_map(|&seed| examples::sample_for(set, rule, seed).ok())
                .collect();
            if !samples.is_empty() {
                rules.push(RuleSamples {
                    id: rule.id().to_string(),
                    secrets: samples
                        .iter()
                        .map(|s| s.token.as_bytes().to_vec())
                        .collect(),
                    lines: std::cell::OnceCell::new(),
                    samples,
                    rule: index,
                });
            }
        }
        Samples { rules }
    }

    /// The lines of a rule's example contexts that hold its sampled tokens.
    fn lines<'a>(&self, set: &RuleSet, rule: &'a RuleSamples) -> &'a [Vec<u8>] {
        rule.lines.get_or_init(|| {
            let mut lines = Vec::new();
            for sample in rule.samples.iter().take(LINE_SEEDS) {
                for case in examples::cases(set, &set.rules[rule.rule], sample) {
                    let line = case.text.lines().find(|l| l.contains(&sample.token));
                    if let (true, Some(line)) = (case.positive, line) {
                        lines.push(line.as_bytes().to_vec());
                    }
                }
            }
            lines
        })
    }

    /// Why `regex` is too broad for an allowlist, if it is. `only_rule`: the list belongs to
    /// that rule, so only its samples count.
    pub fn judge_regex(
        &self,
        set: &RuleSet,
        regex: &Regex,
        target: Target,
        only_rule: Option<&str>,
    ) -> Option<String> {
        let what = match target {
            Target::Secret => "tokens",
            Target::Line => "lines with tokens",
        };
        let mut touched = Vec::new();
        let mut turned_off = Vec::new();
        for rule in &self.rules {
            if only_rule.is_some_and(|id| id != rule.id) {
                continue;
            }
            let inputs = match target {
                Target::Secret => &rule.secrets[..],
                Target::Line => self.lines(set, rule),
            };
            let hits = inputs.iter().filter(|input| regex.is_match(input)).count();
            if hits > 0 {
                touched.push(rule.id.as_str());
            }
            if hits as f64 >= RULE_SHARE * inputs.len() as f64 && hits > 0 {
                turned_off.push(rule.id.as_str());
            }
        }
        let advice = "an allowlist names known non-secrets (a fixture value, a mock line), not the shape of a token; to turn a rule off, list it in `disable`";
        if touched.len() >= MAX_RULES_TOUCHED && only_rule.is_none() {
            return Some(format!(
                "matches generated {what} of {} rules ({}): {advice}",
                touched.len(),
                examples_of(&touched)
            ));
        }
        if !turned_off.is_empty() {
            return Some(format!(
                "matches most generated {what} of {}: {advice}",
                examples_of(&turned_off)
            ));
        }
        None
    }
}

/// Why `glob` is too broad for a path allowlist, if it is.
pub fn judge_glob(glob: &Glob) -> Option<String> {
    let matched: Vec<&str> = TYPICAL_PATHS
        .iter()
        .copied()
        .filter(|path| glob.is_match(path))
        .collect();
    if matched.len() as f64 >= MAX_PATH_SHARE * TYPICAL_PATHS.len() as f64 {
        return Some(format!(
            "matches {} of {} typical repository paths ({}): a path allowlist names fixture files or folders, not whole file types or trees",
            matched.len(),
            TYPICAL_PATHS.len(),
            examples_of(&matched)
        ));
    }
    None
}

/// The first few names of a list, for a one-line message.
fn examples_of(names: &[&str]) -> String {
    let shown: Vec<&str> = names.iter().copied().take(3).collect();
    match names.len() > shown.len() {
        true => format!("{}, ...", shown.join(", ")),
        false => shown.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> (RuleSet, Samples) {
        let set = RuleSet::builtin().unwrap();
        let samples = Samples::new(&set);
        (set, samples)
    }

    #[test]
    fn broad_regexes_are_rejected_narrow_ones_pass() {
        let (set, samples) = samples();
        let broad_secret = [
            ".",
            ".+",
            r"\w",
            r"\S",
            "[A-Za-z0-9]",
            "[a-z]",
            r"\d",
            "^hf_[A-Za-z0-9]{34}$",
            "^r8_",
            "(?i)[a-z0-9]{20,}",
        ];
        for pattern in broad_secret {
            let regex = Regex::new(pattern).unwrap();
            assert!(
                samples
                    .judge_regex(&set, &regex, Target::Secret, None)
                    .is_some(),
                "{pattern}"
            );
        }
        for pattern in ["=", "\"", r"\s", "[:=]", "key", "(?i)token|key|secret"] {
            let regex = Regex::new(pattern).unwrap();
            assert!(
                samples
                    .judge_regex(&set, &regex, Target::Line, None)
                    .is_some(),
                "{pattern}"
            );
        }
        let narrow = [
            ("^sk-test-fixture-[0-9]{4}$", Target::Secret),
            ("^EXAMPLE_[A-Z_]+$", Target::Secret),
            (r"mock_client\(", Target::Line),
            ("# test fixture, revoked", Target::Line),
        ];
        for (pattern, target) in narrow {
            let regex = Regex::new(pattern).unwrap();
            assert_eq!(
                samples.judge_regex(&set, &regex, target, None),
                None,
                "{pattern}"
            );
        }
    }

    #[test]
    fn a_rules_own_list_may_not_cover_that_rule() {
        let (set, samples) = samples();
        let regex = Regex::new("^AIza").unwrap();
        assert!(
            samples
                .judge_regex(&set, &regex, Target::Secret, Some("google-api-key"))
                .is_some()
        );
        assert_eq!(
            samples.judge_regex(&set, &regex, Target::Secret, Some("replicate-api-token")),
            None
        );
    }

    #[test]
    fn broad_globs_are_rejected_narrow_ones_pass() {
        for pattern in ["*", "*.*", "**/*", "*.py", "src/", "/*", "?*"] {
            let Ok(glob) = Glob::new(pattern) else {
                continue;
            };
            assert!(judge_glob(&glob).is_some(), "{pattern}");
        }
        for pattern in [
            "tests/fixtures/",
            "docs/**/*.md",
            "web/firebase-config.js",
            "*.lock",
            "testdata/",
            "*.snap",
        ] {
            assert_eq!(judge_glob(&Glob::new(pattern).unwrap()), None, "{pattern}");
        }
    }
}
