//! Guards on allowlists, which judge patterns by what they match, never by their text. The
//! allow regexes of one config file are judged together (the global list, and for each
//! `[[allow.rule]]` that rule's list with the global one), so that a shape split over several
//! regexes counts as the whole it covers. They are tried against tokens of every rule, drawn
//! fresh on every run from the rules' own example shapes (nothing fixed to probe for), and
//! the lines such tokens sit in (assignments with and without spaces, dict keys, env lines,
//! headers, CLI flags, the rules' example contexts); each path glob against typical
//! repository paths. Patterns that would suppress a measurable share of them turn the hook
//! off, so they are an error, reported by the caller at its `file:line:column`.

use std::hash::{BuildHasher, Hasher};

use regex::bytes::Regex;

use crate::detect::filter;
use crate::detect::glob::Glob;
use crate::detect::policy::Target;
use crate::detect::rules::{Rule, RuleSet, builtin_example_lines};
use crate::detect::shape::{Sample, Shape};
// The draws: the seeds of tokens, and which template and which name a line sample takes.
use crate::detect::shape::SplitMix64 as Draw;

/// Tokens drawn per rule, and lines built around them: enough that a list hiding 2% of a
/// rule's tokens shows as 8 hits on average, while one that hides none shows none.
pub const SAMPLES_PER_RULE: usize = 400;

/// Allow regexes that together match this share of one rule's sampled tokens (or lines) turn
/// that rule off in part: an allowlist names known values, which random tokens never are.
const RULE_SHARE: f64 = 0.02;

/// Fewer hits than this are chance, whatever the share.
const MIN_HITS: usize = 3;

/// Regexes that match any sampled token (or line) of this many rules match token shapes,
/// not a known value: random tokens of different providers share nothing else.
const MAX_RULES_TOUCHED: usize = 3;

/// A glob that matches this share of the typical paths allows whole file types or trees.
const MAX_PATH_SHARE: f64 = 0.15;

/// Lines a token sits in beside the rules' example contexts: how real leaks are written.
const LINE_TEMPLATES: &[&str] = &[
    "{var} = \"{token}\"",
    "    {var} = \"{token}\"",
    "{var} = \"{token}\"  # from the dashboard",
    "{var} = \"{token}\",",
    "{var}=\"{token}\"",
    "{var} = '{token}'",
    "{var}='{token}'",
    "{lower} = \"{token}\"",
    "{lower}=\"{token}\"",
    "    {lower} = '{token}'",
    "{var}={token}",
    "export {var}={token}",
    "export {var}=\"{token}\"",
    "set {var}={token}",
    "$env:{var} = \"{token}\"",
    "ENV {var} {token}",
    "{var}: {token}",
    "  {var}: \"{token}\"",
    "\"{var}\": \"{token}\",",
    "\"{lower}\": \"{token}\"",
    "{'{lower}': '{token}'}",
    "    \"{lower}\":\"{token}\",",
    "  {camel}: \"{token}\",",
    "const {camel} = \"{token}\";",
    "let {camel} = '{token}'",
    "{camel} := \"{token}\"",
    "os.environ[\"{var}\"] = \"{token}\"",
    "os.environ.setdefault(\"{var}\", \"{token}\")",
    "client = Client(api_key=\"{token}\")",
    "client = Client(token='{token}')",
    "Authorization: Bearer {token}",
    "-H \"Authorization: Bearer {token}\"",
    "headers = {\"Authorization\": \"Bearer {token}\"}",
    "x-api-key: {token}",
    "--api-key {token}",
    "--api-key=\"{token}\"",
    "--token {token}",
    "--token={token}",
    "curl https://{host}/v1 -H 'Authorization: Token {token}'",
];

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
    /// Per rule, lines holding its tokens: built on first use, by the first line regex.
    lines: std::cell::OnceCell<Vec<Vec<Vec<u8>>>>,
}

#[derive(Debug)]
struct RuleSamples {
    id: String,
    secrets: Vec<Vec<u8>>,
    samples: Vec<Sample>,
    rule: usize,
    /// Where this rule's line draws start.
    seed: u64,
}

/// A seed nobody can know in advance: the standard library's per-process random hash keys.
fn fresh_seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(std::process::id().into());
    hasher.finish()
}

/// `f` over `items` on every core: drawing tens of thousands of samples is the guard's cost.
fn on_all_cores<I: Sync, T: Send>(items: &[I], f: impl Fn(&I) -> T + Sync) -> Vec<T> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let chunk = items.len().div_ceil(cores).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<T>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a sampling thread does not panic"))
            .collect()
    })
}

impl Samples {
    /// Draws [`SAMPLES_PER_RULE`] fresh tokens of each rule that has examples.
    pub fn new(set: &RuleSet) -> Samples {
        Samples::with_seed(set, fresh_seed())
    }

    /// The same draw for the same seed: for tests.
    pub fn with_seed(set: &RuleSet, seed: u64) -> Samples {
        let mut draw = Draw(seed);
        let seeds: Vec<(usize, u64)> = (0..set.len()).map(|i| (i, draw.next())).collect();
        let rules = on_all_cores(&seeds, |&(index, seed)| {
            let rule = set.at(index);
            let samples = draw_tokens(rule, &mut Draw(seed));
            RuleSamples {
                id: rule.id().to_string(),
                secrets: samples
                    .iter()
                    .map(|s| s.token.as_bytes().to_vec())
                    .collect(),
                samples,
                rule: index,
                seed: seed.rotate_left(17),
            }
        });
        let rules = rules
            .into_iter()
            .filter(|r| !r.samples.is_empty())
            .collect();
        Samples {
            rules,
            lines: std::cell::OnceCell::new(),
        }
    }

    /// Lines holding each rule's sampled tokens, one per token, each in a context and under
    /// a variable name drawn at random.
    fn lines(&self, set: &RuleSet) -> &[Vec<Vec<u8>>] {
        self.lines
            .get_or_init(|| on_all_cores(&self.rules, |rule| rule_lines(set, rule)))
    }

    /// Why `regexes`, taken together (a sample is hidden when any of them matches it), are
    /// too broad for an allowlist, if they are. `only_rule`: the list applies to that rule
    /// only, so only its samples count.
    pub fn judge(
        &self,
        set: &RuleSet,
        regexes: &[&Regex],
        target: Target,
        only_rule: Option<&str>,
    ) -> Option<String> {
        if regexes.is_empty() {
            return None;
        }
        let what = match target {
            Target::Secret => "tokens",
            Target::Line => "lines with tokens",
        };
        let mut touched = Vec::new();
        let mut turned_off = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            if only_rule.is_some_and(|id| id != rule.id) {
                continue;
            }
            let inputs = match target {
                Target::Secret => &rule.secrets[..],
                Target::Line => &self.lines(set)[index][..],
            };
            let hits = inputs
                .iter()
                .filter(|input| regexes.iter().any(|regex| regex.is_match(input)))
                .count();
            if hits > 0 {
                touched.push(rule.id.as_str());
            }
            let share = hits as f64 / inputs.len().max(1) as f64;
            if hits >= MIN_HITS && share >= RULE_SHARE {
                turned_off.push((rule.id.as_str(), share));
            }
        }
        let advice = "an allowlist names known non-secrets (a fixture value, a mock line), not the shape of a token; to turn a rule off, list it in `disable`";
        if touched.len() >= MAX_RULES_TOUCHED && only_rule.is_none() {
            return Some(format!(
                "match{} generated {what} of {} rules ({}): {advice}",
                if regexes.len() == 1 { "es" } else { "" },
                touched.len(),
                examples_of(&touched)
            ));
        }
        if !turned_off.is_empty() {
            let shares: Vec<String> = turned_off
                .iter()
                .map(|(id, share)| format!("{:.0}% of {id}", share * 100.0))
                .collect();
            let names: Vec<&str> = shares.iter().map(String::as_str).collect();
            return Some(format!(
                "match{} {} of {} fresh random {what} per rule: {advice}",
                if regexes.len() == 1 { "es" } else { "" },
                examples_of(&names),
                SAMPLES_PER_RULE
            ));
        }
        None
    }
}

/// The lines of one rule's samples (see [`Samples::lines`]).
fn rule_lines(set: &RuleSet, rule: &RuleSamples) -> Vec<Vec<u8>> {
    let spec = set.at(rule.rule);
    let templates = line_templates(set, spec);
    let names = variable_names(set, spec);
    let host = &set.provider(spec).host;
    let mut draw = Draw(rule.seed);
    rule.samples
        .iter()
        .filter_map(|sample| {
            let template = templates[draw.below(templates.len())];
            let var = &names[draw.below(names.len())];
            let text = template
                .replace("{var}", var)
                .replace("{lower}", &var.to_ascii_lowercase())
                .replace("{camel}", &camel_case(var))
                .replace("{host}", host);
            // Templates other than the rule's own name only the token.
            let text = match text.contains("{token}") && !text.contains("{body}") {
                true => text.replace("{token}", &sample.token),
                false => sample.fill(&text),
            };
            let line = text.lines().find(|l| l.contains(&sample.token))?;
            Some(line.as_bytes().to_vec())
        })
        .collect()
}

/// [`SAMPLES_PER_RULE`] tokens of the rule's example shape that pass its filters, as real
/// tokens do (none when the rule has no examples). Unlike the examples' own sampler this
/// skips the placeholder check: a random token is no placeholder, and the check costs more
/// than the rest of the guard.
fn draw_tokens(rule: &Rule, draw: &mut Draw) -> Vec<Sample> {
    let Some(shape) = rule
        .spec()
        .examples
        .as_ref()
        .and_then(|e| Shape::parse(&e.shape).ok())
    else {
        return Vec::new();
    };
    (0..SAMPLES_PER_RULE)
        .filter_map(|_| {
            let seed = draw.next() >> 1;
            (seed..seed + 64)
                .map(|s| shape.generate(s))
                .find(|s| filter::check_filters(s.token.as_bytes(), &rule.spec().filters).is_ok())
        })
        .collect()
}

/// Every context a line sample may take: the rules file's example contexts, the rule's own
/// example lines and [`LINE_TEMPLATES`].
fn line_templates<'a>(set: &'a RuleSet, rule: &'a Rule) -> Vec<&'a str> {
    let mut templates: Vec<&str> = set
        .examples
        .contexts
        .iter()
        .map(|c| c.text.as_str())
        .collect();
    if let Some(examples) = &*rule.spec().examples {
        let own = match builtin_example_lines(rule.id()) {
            Some((positive, _)) if examples.positive.is_empty() => positive,
            _ => &examples.positive,
        };
        templates.extend(own.iter().map(String::as_str));
    }
    templates.extend(LINE_TEMPLATES);
    templates
}

/// Names a token is assigned to: the provider's variables, the rule's example variable, and
/// the generic `PROVIDER_TOKEN` / `PROVIDER_KEY` / `API_KEY` spellings.
fn variable_names(set: &RuleSet, rule: &Rule) -> Vec<String> {
    let provider = set.provider(rule);
    let stem = rule.spec().provider.to_ascii_uppercase().replace('-', "_");
    let mut names: Vec<String> = provider.env_vars.clone();
    names.extend(provider.variables.iter().cloned());
    if let Some(var) = rule.spec().examples.as_ref().and_then(|e| e.var.clone()) {
        names.push(var);
    }
    names.extend([
        format!("{stem}_TOKEN"),
        format!("{stem}_KEY"),
        format!("{stem}_API_KEY"),
        "API_KEY".to_string(),
        "TOKEN".to_string(),
    ]);
    names
}

/// `REPLICATE_API_TOKEN` -> `replicateApiToken`.
fn camel_case(var: &str) -> String {
    let mut out = String::new();
    for (i, part) in var.split('_').filter(|p| !p.is_empty()).enumerate() {
        let lower = part.to_ascii_lowercase();
        let mut chars = lower.chars();
        if i > 0
            && let Some(first) = chars.next()
        {
            out.push(first.to_ascii_uppercase());
        }
        out.extend(chars);
    }
    out
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
                    .judge(&set, &[&regex], Target::Secret, None)
                    .is_some(),
                "{pattern}"
            );
        }
        for pattern in ["=", "\"", r"\s", "[:=]", "key", "(?i)token|key|secret"] {
            let regex = Regex::new(pattern).unwrap();
            assert!(
                samples.judge(&set, &[&regex], Target::Line, None).is_some(),
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
                samples.judge(&set, &[&regex], target, None),
                None,
                "{pattern}"
            );
        }
    }

    #[test]
    fn regexes_are_judged_together() {
        let set = RuleSet::builtin().unwrap();
        let samples = Samples::with_seed(&set, 29);
        let split: Vec<Regex> = ["A-P", "Q-Z", "a-p", "q-z", "0-9"]
            .iter()
            .map(|part| Regex::new(&format!("^r8_[{part}]")).unwrap())
            .collect();
        let all: Vec<&Regex> = split.iter().collect();
        let id = Some("replicate-api-token");
        let why = samples.judge(&set, &all, Target::Secret, id).unwrap();
        assert!(
            why.starts_with("match 100% of replicate-api-token"),
            "{why}"
        );
        // Fresh draws differ; the same seed draws the same.
        let again = Samples::with_seed(&set, 29);
        assert_eq!(samples.rules[0].secrets, again.rules[0].secrets);
        assert_ne!(
            samples.rules[0].secrets,
            Samples::new(&set).rules[0].secrets
        );
        assert_eq!(samples.rules[0].secrets.len(), SAMPLES_PER_RULE);
    }

    #[test]
    fn a_rules_own_list_may_not_cover_that_rule() {
        let (set, samples) = samples();
        let regex = Regex::new("^AIza").unwrap();
        assert!(
            samples
                .judge(&set, &[&regex], Target::Secret, Some("google-api-key"))
                .is_some()
        );
        assert_eq!(
            samples.judge(&set, &[&regex], Target::Secret, Some("replicate-api-token")),
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
