//! Rule examples expanded into concrete cases: each rule in every standard context of the rules
//! file, its own lines, and the lines it must miss. The tests and `tokenguard rules check` both
//! run them, so a custom rule proves itself the same way a built-in one does.

use crate::detect::filter;
use crate::detect::lines::AddedLines;
use crate::detect::rules::{ContextMode, Examples, Problem, Rule, RuleSet, builtin_example_lines};
use crate::detect::scanner::Scanner;
use crate::detect::shape::{Sample, Shape};

/// Seeds tried per rule: several lengths for ranged shapes, several random bodies.
pub const SEEDS: [u64; 3] = [11, 22, 33];

/// One example text and whether the rule must find it.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub text: String,
    pub positive: bool,
}

/// A token of the rule's shape that passes the rule's own filters, as a real token would:
/// seeds are tried from `seed` on until one does.
pub fn sample_for(set: &RuleSet, rule: &Rule, seed: u64) -> Result<Sample, String> {
    let examples = rule.spec().examples.as_ref().ok_or("has no examples")?;
    let shape = Shape::parse(&examples.shape)?;
    (seed..seed + 500)
        .map(|s| shape.generate(s))
        .find(|sample| {
            let token = sample.token.as_bytes();
            filter::check_filters(token, &rule.spec().filters).is_ok()
                && !set.is_placeholder(rule, token)
        })
        .ok_or_else(|| format!("shape {:?} never passes the rule's filters", examples.shape))
}

/// Every case of `rule` for the sample of each of [`SEEDS`] (a seed without one is skipped),
/// with its sample token: what tests comparing two searches walk over.
#[cfg(test)]
pub fn every_case(set: &RuleSet, rule: &Rule) -> Vec<(String, Case)> {
    let samples = SEEDS
        .iter()
        .filter_map(|&seed| sample_for(set, rule, seed).ok());
    samples
        .flat_map(|sample| {
            let cases = cases(set, rule, &sample);
            cases
                .into_iter()
                .map(move |case| (sample.token.clone(), case))
        })
        .collect()
}

/// Every case of `rule` for one sample token.
pub fn cases(set: &RuleSet, rule: &Rule, sample: &Sample) -> Vec<Case> {
    let Some(examples) = &*rule.spec().examples else {
        return Vec::new();
    };
    let provider = set.provider(rule);
    let var = examples
        .var
        .clone()
        .or_else(|| provider.env_vars.first().cloned())
        .unwrap_or_else(|| "API_KEY".to_string());
    let fill = |template: &str| {
        let text = template
            .replace("{var}", &var)
            .replace("{lower}", &var.to_ascii_lowercase())
            .replace("{camel}", &camel_case(&var))
            .replace("{host}", &provider.host);
        let text = sample.fill(&text);
        match &examples.preamble {
            Some(preamble) => format!("{preamble}\n{text}"),
            None => text,
        }
    };
    let mut cases = Vec::new();
    let standard = examples.contexts == ContextMode::Standard;
    if standard {
        for context in &set.examples.contexts {
            cases.push(Case {
                name: context.name.clone(),
                text: fill(&context.text),
                positive: true,
            });
        }
        for negative in &set.examples.negatives {
            cases.push(Case {
                name: negative.name.clone(),
                text: fill(&negative.text),
                positive: false,
            });
        }
    }
    let (positive, negative) = example_lines(rule, examples);
    for (i, template) in positive.iter().enumerate() {
        cases.push(Case {
            name: format!("positive[{i}]"),
            text: fill(template),
            positive: true,
        });
    }
    for (i, template) in negative.iter().enumerate() {
        cases.push(Case {
            name: format!("negative[{i}]"),
            text: fill(template),
            positive: false,
        });
    }
    cases
}

/// Runs every example of every rule through the whole scanner and lists what fails: a
/// positive must give exactly one finding, of this rule, and contain one of its keywords; a
/// negative must give no finding of this rule.
pub fn check(scanner: &Scanner) -> Vec<Problem> {
    let set = scanner.rules();
    let mut problems = Vec::new();
    for rule in set.iter() {
        let mut problem = |message: String| problems.push(Problem::of_rule(rule.id(), message));
        let Some(examples) = &*rule.spec().examples else {
            problem("has no examples (shape and positive lines)".to_string());
            continue;
        };
        if examples.contexts == ContextMode::Own && example_lines(rule, examples).0.is_empty() {
            problem("contexts = \"own\" needs positive lines".to_string());
        }
        for seed in SEEDS {
            let sample = match sample_for(set, rule, seed) {
                Ok(sample) => sample,
                Err(message) => {
                    problem(message);
                    break;
                }
            };
            for case in cases(set, rule, &sample) {
                if let Some(message) = judge(scanner, rule, &case) {
                    problem(format!("{} (seed {seed}): {message}", case.name));
                }
            }
        }
    }
    problems
}

fn judge(scanner: &Scanner, rule: &Rule, case: &Case) -> Option<String> {
    let text = case.text.as_bytes();
    let candidates = scanner.candidates(text);
    let found = scanner
        .scan("example", text, &AddedLines::All, candidates)
        .matches;
    let ids: Vec<&str> = found.iter().map(|f| f.rule_id.as_str()).collect();
    if case.positive {
        let lower = case.text.to_ascii_lowercase();
        if !rule
            .spec()
            .keywords
            .iter()
            .any(|k| lower.contains(&k.to_ascii_lowercase()))
        {
            return Some("holds none of the rule's keywords".to_string());
        }
        if !rule.may_match(&text.to_ascii_lowercase()) {
            return Some("holds none of the rule's literals".to_string());
        }
        if ids != [rule.id()] {
            return Some(format!("expected exactly [{}], found {ids:?}", rule.id()));
        }
    } else if ids.contains(&rule.id()) {
        return Some("a negative example was found".to_string());
    }
    None
}

/// A rule's positive and negative lines: a built-in rule's are kept apart from its spec
/// ([`builtin_example_lines`]); a rule from a file has them in its spec.
fn example_lines<'a>(rule: &Rule, examples: &'a Examples) -> (&'a [String], &'a [String]) {
    match builtin_example_lines(rule.id()) {
        Some((positive, negative))
            if examples.positive.is_empty() && examples.negative.is_empty() =>
        {
            (positive, negative)
        }
        _ => (&examples.positive, &examples.negative),
    }
}

/// `REPLICATE_API_TOKEN` -> `replicateApiToken`.
fn camel_case(var: &str) -> String {
    let mut out = String::new();
    for (i, part) in var.split('_').filter(|p| !p.is_empty()).enumerate() {
        let lower = part.to_ascii_lowercase();
        if i == 0 {
            out.push_str(&lower);
        } else {
            let mut chars = lower.chars();
            if let Some(first) = chars.next() {
                out.push(first.to_ascii_uppercase());
                out.extend(chars);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_of_env_vars() {
        assert_eq!(camel_case("REPLICATE_API_TOKEN"), "replicateApiToken");
        assert_eq!(camel_case("HF_TOKEN"), "hfToken");
        assert_eq!(camel_case("X"), "x");
    }

    /// The catalog's self-check: every rule in every context, every negative missed.
    #[test]
    fn every_builtin_rule_proves_itself() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let problems: Vec<String> = check(&scanner).iter().map(|p| p.to_string()).collect();
        assert!(
            problems.is_empty(),
            "{} problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }

    #[test]
    fn standard_rules_are_checked_in_every_context() {
        let set = RuleSet::builtin().unwrap();
        let rule = set.get("huggingface-user-token").unwrap();
        let sample = sample_for(&set, rule, 1).unwrap();
        let names: Vec<String> = cases(&set, rule, &sample)
            .into_iter()
            .filter(|c| c.positive)
            .map(|c| c.name)
            .collect();
        for required in [
            "dotenv",
            "dotenv-export-quoted",
            "yaml",
            "json",
            "toml",
            "python",
            "typescript",
            "go",
            "rust",
            "curl",
            "notebook",
            "url-query",
            "dockerfile",
        ] {
            assert!(
                names.iter().any(|n| n == required),
                "missing context {required}"
            );
        }
    }
}
