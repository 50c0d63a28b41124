//! Names of files and folders as context: a file called `main_wandb.go`, or the
//! `pyproject.toml` of a `baseten-client` package, names its provider as surely as the word in
//! its text. Only rules that ask for context take it from the path, and only from whole words
//! of it, so `examples/` is no context for a provider called `exa`. The scanner applies it on
//! top of the content's own scan: what a blob holds is still decided by its bytes alone, and
//! a path only adds the rules it names. The path stands in for the provider's name only: for
//! a token without a prefix of its own, the line must still call the value a credential
//! (`api_key =`, `Bearer`), or every id in a provider's own package would be its key.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::detect::prefilter::RuleMask;
use crate::detect::rules::RuleSet;
use crate::detect::schema::RuleSpec;
use crate::detect::shape::Shape;

/// The rules that take context from a path: each rule with a context requirement, with the
/// words of its provider's key (`azure_openai` -> `azure`, `openai`).
#[derive(Debug, Clone, Default)]
pub struct ProviderNames {
    rules: usize,
    by_rule: Vec<(usize, Vec<String>)>,
    /// Indexes into `by_rule` by the provider's first word: a path's words are looked up,
    /// not tried against every rule (every staged path is asked).
    by_first_word: HashMap<String, Vec<usize>>,
    /// Per rule: its tokens start with a fixed prefix (`ion_`), so the token names itself and
    /// the path alone is context enough. Decided when first asked, from the rule's example
    /// shape: reading every rule's at start-up decoded every built-in rule.
    prefixed: Vec<OnceLock<bool>>,
}

impl ProviderNames {
    pub fn of(rules: &RuleSet) -> ProviderNames {
        let by_rule: Vec<(usize, Vec<String>)> = (rules.iter().enumerate())
            .filter(|(_, rule)| rule.has_context())
            .map(|(index, rule)| (index, words(rule.provider_key())))
            .filter(|(_, words)| !words.is_empty())
            .collect();
        // Sized once: growing it rehashed six times, a tenth of this start-up step.
        let mut by_first_word: HashMap<String, Vec<usize>> = HashMap::with_capacity(by_rule.len());
        for (entry, (_, provider)) in by_rule.iter().enumerate() {
            by_first_word
                .entry(provider[0].clone())
                .or_default()
                .push(entry);
        }
        let prefixed = (0..rules.len()).map(|_| OnceLock::new()).collect();
        ProviderNames {
            rules: rules.len(),
            by_rule,
            by_first_word,
            prefixed,
        }
    }

    /// True when the path's name is context for `rule`'s match at `start` of `text`: its
    /// token has a prefix of its own, or its line calls it a credential
    /// ([`credential_named_before`]); a bare id (a UUID, hex) needs the line.
    pub fn gives_context(&self, rules: &RuleSet, rule: usize, text: &[u8], start: usize) -> bool {
        let prefixed = self.prefixed.get(rule).is_some_and(|prefixed| {
            *prefixed.get_or_init(|| starts_with_prefix(rules.at(rule).spec()))
        });
        prefixed || credential_named_before(text, start)
    }

    /// The rules whose provider `path` names by a run of its words; `None` when it names none
    /// (most paths), so that the scan of its content is the content's alone.
    pub fn named_by(&self, path: &str) -> Option<RuleMask> {
        let path_words = words(path);
        let mut named: Option<RuleMask> = None;
        for (start, word) in path_words.iter().enumerate() {
            let Some(entries) = self.by_first_word.get(word) else {
                continue;
            };
            for &entry in entries {
                let (rule, provider) = &self.by_rule[entry];
                if path_words[start..].starts_with(provider) {
                    named
                        .get_or_insert_with(|| RuleMask::empty(self.rules))
                        .insert(*rule);
                }
            }
        }
        named
    }
}

/// True when the rule's example shape opens with fixed text of two characters or more
/// (`ion_[alnum:42]`), not with random ones (`[hex:8]-[hex:4]...`).
fn starts_with_prefix(spec: &RuleSpec) -> bool {
    let Some(shape) = (spec.examples.as_ref()).and_then(|e| Shape::parse(&e.shape).ok()) else {
        return false;
    };
    let first = shape.literals().next().unwrap_or_default();
    first.len() >= 2 && shape.generate(0).token.starts_with(first)
}

/// Words that call a value on their line a credential: an assignment's name (`api_key`,
/// `WANDB_TOKEN`), a header (`Authorization`) or a scheme (`Bearer`).
const CREDENTIAL_WORDS: &[&str] = &[
    "key",
    "keys",
    "apikey",
    "token",
    "tokens",
    "secret",
    "secrets",
    "bearer",
    "auth",
    "authorization",
    "password",
    "passwd",
    "pwd",
    "credential",
    "credentials",
];

/// True when the line holding `start`, before it, names a credential by one of
/// the credential words (also as a word's end: `apiKey`, `authtoken`). An id in a docstring
/// (`invite_id="..."`) or a pin (`revision = "..."`) is none, whatever the path.
pub fn credential_named_before(text: &[u8], start: usize) -> bool {
    let line_start = memchr::memrchr(b'\n', &text[..start]).map_or(0, |at| at + 1);
    let before = String::from_utf8_lossy(&text[line_start..start]);
    words(&before).iter().any(|word| {
        CREDENTIAL_WORDS.contains(&word.as_str())
            || ["apikey", "token", "secret", "password"]
                .iter()
                .any(|end| word.ends_with(end))
    })
}

/// The words of a path or key, lower-cased: split at every byte that is not a letter or digit
/// and where a lower-case letter or digit meets an upper-case one (`WandbClient`).
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_words() {
        assert_eq!(words("cmd/main_wandb.go"), ["cmd", "main", "wandb", "go"]);
        assert_eq!(words("WandbClient.java"), ["wandb", "client", "java"]);
        assert_eq!(
            words("baseten-client/pyproject.toml"),
            ["baseten", "client", "pyproject", "toml"]
        );
    }

    #[test]
    fn a_path_names_the_providers_of_its_words_only() {
        let rules = RuleSet::builtin().unwrap();
        let names = ProviderNames::of(&rules);
        let named = |path: &str| {
            names.named_by(path).map_or_else(Vec::new, |mask| {
                mask.iter()
                    .map(|rule| rules.at(rule).spec().provider.clone())
                    .collect::<Vec<_>>()
            })
        };
        assert!(named("cmd/main_wandb.go").contains(&"wandb".to_string()));
        assert!(named("baseten-client/pyproject.toml").contains(&"baseten".to_string()));
        assert!(named("src/app.py").is_empty());
        // A word that merely starts like a provider's name is not it.
        assert!(named("examples/wandbx/basetens.py").is_empty());
    }

    #[test]
    fn only_a_line_that_names_a_credential_takes_context_from_the_path() {
        let named = |line: &str| credential_named_before(line.as_bytes(), line.find('<').unwrap());
        assert!(named(
            "x = 1\nreq.Header.Set(\"Authorization\", \"Bearer <v>\")"
        ));
        assert!(named("api_key = \"<v>\""));
        assert!(named("client = Pinecone(apiKey=\"<v>\")"));
        assert!(named("WANDB_AUTHTOKEN=<v>"));
        assert!(!named("api_key = 1\n    invite_id=\"<v>\","));
        assert!(!named("revision = \"<v>\""));
        assert!(!named("checksum_md5 = \"<v>\"  # api_key"));
    }
}
