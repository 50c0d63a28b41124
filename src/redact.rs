//! The one redactor: every text tokenguard prints (reports, warnings, errors, configuration
//! output, ignore reasons, fix previews, argument errors) passes through here, so what counts
//! as a secret in output does not depend on which path printed it.
//!
//! A [`Redactor`](crate::redact::Redactor) is built once from the run's
//! [`Scanner`](crate::detect::Scanner) (or the built-in rules where no configuration is loaded
//! yet) plus the secrets a run already knows, and replaces:
//! - every occurrence of a known secret (a fix's findings);
//! - every match of the scanner's rules, through the same filters a scan applies but without
//!   the policy: an allowed secret is still a secret;
//! - in what a person typed (configuration values, arguments, reasons), also every word that
//!   looks random in any letter case, since a `(?i)` regex or a lowercased token escapes the
//!   rules.
//!
//! Errors and typed text keep object ids and fingerprints whole: they name them, and only a
//! whole id can be looked up. Paths, content and errors keep words that merely look random
//! (hashed bundle names, revision ranges), so they get the first two layers only.

use std::ops::Range;
use std::sync::OnceLock;

use crate::detect::Scanner;
use crate::detect::filter::shannon_entropy;
use crate::detect::rules::RuleSet;

/// Characters of a secret shown at most, whatever its length.
const SHOWN_PREFIX_MAX: usize = 6;
/// Shortest word that can be a token.
const MIN_LEN: usize = 16;
/// Entropy (bits per byte) above which a mixed word of letters and digits reads as random.
const MIN_ENTROPY: f64 = 3.0;

/// Which rule matches a redactor leaves whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    Nothing,
    /// Object ids and fingerprints, which messages name.
    Ids,
}

/// The redactor of one run: its rules and the secrets it knows.
#[derive(Debug, Clone)]
pub struct Redactor<'a> {
    scanner: Option<&'a Scanner>,
    known: Vec<Vec<u8>>,
}

impl<'a> Redactor<'a> {
    /// Redacts what `scanner`'s rules match.
    pub fn new(scanner: &'a Scanner) -> Redactor<'a> {
        Redactor {
            scanner: Some(scanner),
            known: Vec::new(),
        }
    }

    /// Also redacts each of `secrets` wherever it appears.
    pub fn with_known<S: AsRef<[u8]>>(mut self, secrets: impl IntoIterator<Item = S>) -> Self {
        self.known.extend(
            secrets
                .into_iter()
                .map(|s| s.as_ref().to_vec())
                .filter(|s| !s.is_empty()),
        );
        self
    }

    /// Text taken from a repository (a path, a symlink's target, a notebook's names, a diff):
    /// known secrets and rule matches redacted.
    pub fn redact(&self, text: &str) -> String {
        splice(text, self.spans(text, Keep::Nothing))
    }

    /// An error or warning: known secrets and rule matches redacted, object ids and
    /// fingerprints kept whole.
    pub fn redact_message(&self, text: &str) -> String {
        splice(text, self.spans(text, Keep::Ids))
    }

    /// What a person typed (an argument, a reason, a configuration value): also every word
    /// that looks random, in any letter case.
    pub fn redact_typed(&self, text: &str) -> String {
        let mut spans = self.spans(text, Keep::Ids);
        spans.extend(random_words(text));
        splice(text, spans)
    }

    fn spans(&self, text: &str, keep: Keep) -> Vec<Range<usize>> {
        let mut spans = self.known_spans(text);
        if let Some(scanner) = self.scanner {
            spans.extend(
                scanner
                    .secret_spans(text.as_bytes())
                    .into_iter()
                    .filter(|span| {
                        keep == Keep::Nothing || !is_object_id_or_fingerprint(&text[span.clone()])
                    }),
            );
        }
        spans
    }

    fn known_spans(&self, text: &str) -> Vec<Range<usize>> {
        self.known
            .iter()
            .flat_map(|secret| {
                memchr::memmem::find_iter(text.as_bytes(), secret)
                    .map(move |start| start..start + secret.len())
            })
            .collect()
    }
}

impl Redactor<'static> {
    /// The built-in rules' redactor, for what is printed before (or without) a configuration:
    /// errors, argument errors, ignore reasons. Compiled on first use only.
    pub fn builtin() -> &'static Redactor<'static> {
        static SCANNER: OnceLock<Option<Scanner>> = OnceLock::new();
        static REDACTOR: OnceLock<Redactor<'static>> = OnceLock::new();
        REDACTOR.get_or_init(|| Redactor {
            scanner: SCANNER
                .get_or_init(|| RuleSet::builtin().ok().map(Scanner::new))
                .as_ref(),
            known: Vec::new(),
        })
    }

    /// A redactor that knows no rules: for configuration values quoted while the rules are
    /// being built (they may be the rules), where only random-looking words are redacted.
    pub fn without_rules() -> Redactor<'static> {
        Redactor {
            scanner: None,
            known: Vec::new(),
        }
    }
}

/// An error message, redacted with the built-in rules: for the places that print before or
/// without a scanner.
pub fn message(text: &str) -> String {
    Redactor::builtin().redact_message(text)
}

/// What a person typed (an argument, a reason), redacted with the built-in rules and the
/// random-word shape.
pub fn typed(text: &str) -> String {
    Redactor::builtin().redact_typed(text)
}

/// A configuration value quoted while the configuration is read: random-looking words only,
/// without compiling any rule (this runs on every scan with allowlists).
pub fn config_value(text: &str) -> String {
    Redactor::without_rules().redact_typed(text)
}

/// The printed form of one secret: a short prefix and the length, enough to find the token,
/// too little to use it.
///
/// ```
/// assert_eq!(tokenguard::redact::secret(b"abcdefghijklmnopqrstuvwxyz0123456789"), "abcdef…(36 chars)");
/// ```
pub fn secret(secret: &[u8]) -> String {
    // At most a quarter of the secret, and only printable ASCII.
    let shown: String = secret
        .iter()
        .take(shown_len(secret.len()))
        .take_while(|b| b.is_ascii_graphic())
        .map(|&b| b as char)
        .collect();
    format!("{shown}…({} chars)", secret.len())
}

/// How many characters of a secret of `len` bytes its printed form shows at most (fewer when
/// one of them is not printable ASCII): what a pasteable pattern of a redacted name relies on.
pub fn shown_len(len: usize) -> usize {
    (len / 4).min(SHOWN_PREFIX_MAX)
}

/// `text` with each span (any order, possibly overlapping) replaced by its redacted form; a
/// span that overlaps an earlier one, or that does not fall on character boundaries (spans
/// come from byte regexes), is covered by the earlier one or skipped.
fn splice(text: &str, mut spans: Vec<Range<usize>>) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    // Longest first among spans that start together, so that a known secret wins over a
    // rule's shorter match inside it.
    spans.sort_unstable_by_key(|span| (span.start, std::cmp::Reverse(span.end)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.start < at || !text.is_char_boundary(span.start) || !text.is_char_boundary(span.end)
        {
            continue;
        }
        out.push_str(&text[at..span.start]);
        out.push_str(&secret(&text.as_bytes()[span.clone()]));
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The words of `text` that look random: 16 or more letters, digits, `-`, `_` and `.` with
/// high entropy and both letters and digits (or both cases, from 20), in any case, which
/// covers every rule's tokens without compiling the rules' regexes.
fn random_words(text: &str) -> Vec<Range<usize>> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if !is_word(bytes[at]) {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && is_word(bytes[at]) {
            at += 1;
        }
        if looks_random(&text[start..at]) {
            spans.push(start..at);
        }
    }
    spans
}

/// True for words that read as a random token rather than a name.
fn looks_random(word: &str) -> bool {
    let has = |pred: fn(&u8) -> bool| word.bytes().any(|b| pred(&b));
    let mixed = has(u8::is_ascii_digit) && has(u8::is_ascii_alphabetic)
        || word.len() >= 20 && has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase);
    word.len() >= MIN_LEN
        && !is_object_id_or_fingerprint(word)
        && mixed
        && shannon_entropy(word.as_bytes()) >= MIN_ENTROPY
}

/// A git object id (40 or 64 hex digits) or a fingerprint (32): never a secret in a message,
/// and needed whole to look the object up.
fn is_object_id_or_fingerprint(text: &str) -> bool {
    matches!(text.len(), 32 | 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built at run time: no token-shaped literal in the source.
    fn replicate_shaped(alphabet: &str) -> String {
        format!("r8_{}", &alphabet.repeat(4)[..37])
    }

    #[test]
    fn a_secret_shows_at_most_a_quarter_and_six_characters() {
        let token = replicate_shaped("0123456789");
        let cases: [(&[u8], &str); 4] = [
            (token.as_bytes(), "r8_012…(40 chars)"),
            (b"abcdefgh", "ab…(8 chars)"),
            (b"abc", "…(3 chars)"),
            (b"ab\xffcdefghijklmnop", "ab…(17 chars)"),
        ];
        for (secret, expected) in cases {
            assert_eq!(super::secret(secret), expected);
        }
    }

    #[test]
    fn messages_keep_object_ids_and_fingerprints_whole() {
        let id = "3e757656cf36eca53338e520d134963a44f793f8";
        let fingerprint = "939328f0f6332011c07122531155054f";
        let token = replicate_shaped("aB3dE5gH7j");
        let text = format!("cannot read the blob {id} ({fingerprint}) near {token}");
        let redacted = message(&text);
        assert!(redacted.contains(id), "{redacted}");
        assert!(redacted.contains(fingerprint), "{redacted}");
        assert!(!redacted.contains(&token), "{redacted}");
    }

    #[test]
    fn config_values_lose_tokens_in_any_case_and_keep_names() {
        let lower = replicate_shaped("aB3dE5gH7jKq9mTz3LwP").to_ascii_lowercase();
        let upper = replicate_shaped("aB3dE5gH7jKq9mTz3LwP");
        for text in [
            format!("^{upper}$"),
            format!("(?i)^{lower}$"),
            format!("revoked {lower} last week"),
        ] {
            let redacted = config_value(&text);
            assert!(
                !redacted.to_ascii_lowercase().contains(&lower[3..]),
                "{redacted}"
            );
            assert!(redacted.contains("…(40 chars)"), "{redacted}");
        }
        for kept in [
            "^TEST_[A-Z]+$",
            "mock_client\\(",
            "generic-api-token-variable",
            "939328f0f6332011c07122531155054f",
            "tests/fixtures/v2/keys.json",
            "^sk-test-fixture-[0-9]{4}$",
        ] {
            assert_eq!(config_value(kept), kept);
        }
    }

    #[test]
    fn messages_redact_rule_matches_that_do_not_look_random() {
        // Letters of one case only: no shape rule catches it, the Hugging Face rule does.
        let token = format!("hf_{}", &"qwertyuiopasdfghjklzxcvbnm".repeat(2)[..34]);
        assert_eq!(config_value(&token), token, "the shape alone misses it");
        let redacted = typed(&format!("revoked {token}"));
        assert!(!redacted.contains(&token[3..]), "{redacted}");
    }

    #[test]
    fn known_secrets_and_rule_matches_go_wherever_they_appear() {
        let rules = RuleSet::builtin().unwrap();
        let scanner = Scanner::new(rules);
        let known = "a-known-secret-value";
        let token = replicate_shaped("Zx9Qw8Er7T");
        let text = format!("x = {known}\ny = \"{token}\"\nz = {known} {token}");
        let redacted = Redactor::new(&scanner).with_known([known]).redact(&text);
        assert!(!redacted.contains(known), "{redacted}");
        assert!(!redacted.contains(&token[3..]), "{redacted}");
        assert_eq!(redacted.matches("…(20 chars)").count(), 2, "{redacted}");
        assert_eq!(redacted.matches("…(40 chars)").count(), 2, "{redacted}");
        // Repository text keeps random-looking names that no rule matches.
        let bundle = "dist/main.3f2a1b9c8d7e6f5a4b3c.js";
        assert_eq!(Redactor::new(&scanner).redact(bundle), bundle);
    }
}
