//! Names of files and folders as context: a file called `main_wandb.go`, or the
//! `pyproject.toml` of a `baseten-client` package, names its provider as surely as the word in
//! its text. Only rules that ask for context take it from the path, and only from whole words
//! of it, so `examples/` is no context for a provider called `exa`. The scanner applies it on
//! top of the content's own scan: what a blob holds is still decided by its bytes alone, and
//! a path only adds the rules it names. The path stands in for the provider's name only: for
//! a token without a prefix of its own, the line must still call the value a credential
//! (`api_key =`, `Bearer`), or every id in a provider's own package would be its key.

use std::sync::OnceLock;

use crate::detect::prefilter::RuleMask;
use crate::detect::rules::RuleSet;
use crate::detect::schema::RuleSpec;
use crate::detect::shape::Shape;

/// The rules that take context from a path: each rule with a context requirement, with the
/// words of its provider's key (`azure_openai` -> `azure`, `openai`). Made at the first path
/// asked about, so with few allocations: the words of every provider go into one text, each
/// rule's as a range of it (a `String` per word and a map of them cost 0.14 M instructions).
#[derive(Debug, Clone, Default)]
pub struct ProviderNames {
    rules: usize,
    /// The providers' words, each followed by a space.
    text: String,
    /// Per rule with a context requirement: its index and its provider's words in `text`.
    by_rule: Vec<(usize, (usize, usize))>,
    /// Each entry of `by_rule` by its provider's first word, sorted by that word's first
    /// eight bytes ([`word_key`]): a path's words are looked up, not tried against every rule
    /// (every staged path is asked). Sorting by the words themselves cost 41 K instructions.
    by_first_word: Vec<(u64, usize)>,
    /// The keys of `by_first_word` as bits ([`key_bit`]): most words of a path are no
    /// provider's and are turned away here, without the binary search (named_by was 1.4% of
    /// a 40 MB first commit's instructions).
    first_word_bits: Vec<u64>,
    /// Per rule: its tokens start with a fixed prefix (`ion_`), so the token names itself and
    /// the path alone is context enough. Decided when first asked, from the rule's example
    /// shape: reading every rule's at start-up decoded every built-in rule.
    prefixed: Vec<OnceLock<bool>>,
}

impl ProviderNames {
    pub fn of(rules: &RuleSet) -> ProviderNames {
        let mut text = String::new();
        let mut by_rule = Vec::new();
        let mut by_first_word = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if !rule.has_context() {
                continue;
            }
            let start = text.len();
            let mut first_end = None;
            each_word(rule.provider_key(), |word| {
                text.push_str(word);
                first_end.get_or_insert(text.len());
                text.push(' ');
            });
            text[start..].make_ascii_lowercase();
            if let Some(end) = first_end {
                by_first_word.push((word_key(&text[start..end]), by_rule.len()));
                by_rule.push((index, (start, text.len())));
            }
        }
        by_first_word.sort_unstable();
        let mut first_word_bits = vec![0; KEY_BITS / 64];
        for &(key, _) in &by_first_word {
            let bit = key_bit(key);
            first_word_bits[bit / 64] |= 1 << (bit % 64);
        }
        let prefixed = (0..rules.len()).map(|_| OnceLock::new()).collect();
        ProviderNames {
            rules: rules.len(),
            text,
            by_rule,
            by_first_word,
            first_word_bits,
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
        // As written, compared ignoring case: every path is asked, and a lowercase `String`
        // per word was most of the allocations of a first commit's paths.
        let mut path_words = Vec::with_capacity(32);
        each_word(path, |word| path_words.push(word));
        let mut named: Option<RuleMask> = None;
        for (start, word) in path_words.iter().enumerate() {
            let key = word_key(word);
            let bit = key_bit(key);
            if (self.first_word_bits.get(bit / 64)).is_none_or(|bits| bits & (1 << (bit % 64)) == 0)
            {
                continue;
            }
            let from = (self.by_first_word).partition_point(|&(other, _)| other < key);
            let entries = self.by_first_word[from..].iter();
            // Entries whose first word only starts like `word` fail the comparison below.
            for &(_, entry) in entries.take_while(|&&(other, _)| other == key) {
                let (rule, (from, to)) = self.by_rule[entry];
                let mut rest = path_words[start..].iter();
                let provider = self.text[from..to].split_terminator(' ');
                if provider
                    .into_iter()
                    .all(|word| rest.next().is_some_and(|w| w.eq_ignore_ascii_case(word)))
                {
                    named
                        .get_or_insert_with(|| RuleMask::empty(self.rules))
                        .insert(rule);
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
    each_word(text, |word| words.push(word.to_ascii_lowercase()));
    words
}

/// The first eight bytes of `word`, lowercased and zero-padded, as a number that sorts as
/// they do.
fn word_key(word: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let head = &word.as_bytes()[..word.len().min(8)];
    bytes[..head.len()].copy_from_slice(head);
    bytes.make_ascii_lowercase();
    u64::from_be_bytes(bytes)
}

/// How many bits [`ProviderNames`] keeps for its first words' keys: a few hundred keys set
/// about one bit in ten.
const KEY_BITS: usize = 4096;

/// The bit of `key` (see [`word_key`]) among [`KEY_BITS`]: its bytes mixed by a multiply,
/// the top bits taken.
fn key_bit(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - KEY_BITS.trailing_zeros())) as usize
}

/// Calls `found` with each word of `text` as it is written (see [`words`]).
fn each_word<'a>(text: &'a str, mut found: impl FnMut(&'a str)) {
    let mut word_start = None;
    let mut previous_lower = false;
    for (at, byte) in text.bytes().enumerate() {
        let boundary =
            !byte.is_ascii_alphanumeric() || (byte.is_ascii_uppercase() && previous_lower);
        if boundary && let Some(start) = word_start.take() {
            found(&text[start..at]);
        }
        if byte.is_ascii_alphanumeric() {
            word_start.get_or_insert(at);
            previous_lower = byte.is_ascii_lowercase() || byte.is_ascii_digit();
        } else {
            previous_lower = false;
        }
    }
    if let Some(start) = word_start {
        found(&text[start..]);
    }
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
        // Non-ASCII letters split as any other byte does; digits count as lower case.
        assert_eq!(
            words("na\u{ef}ve_HFToken2Key x"),
            ["na", "ve", "hftoken2", "key", "x"]
        );
        assert_eq!(words("__"), Vec::<String>::new());
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
        // Words are compared ignoring case, as the lowercased words they stand for.
        assert!(named("cmd/WANDB_main.go").contains(&"wandb".to_string()));
        assert!(named("baseten-client/pyproject.toml").contains(&"baseten".to_string()));
        assert!(named("src/app.py").is_empty());
        // A word that merely starts like a provider's name is not it.
        assert!(named("examples/wandbx/basetens.py").is_empty());
        // Looked up by a word's first eight bytes, compared whole.
        assert!(named("assemblyai/client.py").contains(&"assemblyai".to_string()));
        assert!(named("assemblyx/client.py").is_empty());
        assert!(named("assembly/client.py").is_empty());
        // A provider of two words needs both, in order.
        assert!(named("azure_openai/client.py").contains(&"azure_openai".to_string()));
        assert!(named("AzureOpenai.java").contains(&"azure_openai".to_string()));
        for path in ["azure/client.py", "openai_azure.py", "azure/x/openai.py"] {
            assert!(!named(path).contains(&"azure_openai".to_string()), "{path}");
        }
        // Every provider is named by its key as a folder, past the bits that turn most words
        // away.
        for rule in rules.iter().filter(|rule| rule.has_context()) {
            let provider = &rule.spec().provider;
            let path = format!("src/{}/client.py", rule.provider_key());
            assert!(named(&path).contains(provider), "{path}");
        }
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
