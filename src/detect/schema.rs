//! The schema of a rules file (`config/rules.toml`, and custom rules in a config file), as
//! serde types and nothing else: `build.rs` includes this file too, to turn the built-in rules
//! into a compact binary at build time, so that start-up does not parse TOML.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use serde::de::{DeserializeOwned, Error as _, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A field that only reports, `rules`, `--verify` and the tests read (remediation steps,
/// sources, a verify spec, examples) or that is read only when a rule is compiled or matches
/// (the regex, placeholder values). In the built-in
/// binary it stays encoded until first read: decoding every rule's strings at start-up cost a
/// small commit a sixth of its instructions, mostly in allocation. In TOML and JSON it is the
/// value itself.
pub struct Lazy<T> {
    encoded: Option<Box<[u8]>>,
    value: OnceLock<T>,
}

impl<T> Lazy<T> {
    /// The value if it was already decoded (or never encoded): for checks that must not
    /// decode what nobody reads.
    pub fn if_decoded(&self) -> Option<&T> {
        self.value.get()
    }
}

impl<T: DeserializeOwned + Default> Deref for Lazy<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // The bytes were written by build.rs from the same types and the tests decode every
        // field, so a failure is a bug: it panics, which the panic hook reports in one line
        // with exit 2 (the commit is blocked), rather than reading as an empty regex or list.
        self.value.get_or_init(|| match self.encoded.as_deref() {
            Some(bytes) => postcard::from_bytes(bytes).expect("embedded rule fields decode"),
            None => T::default(),
        })
    }
}

impl<T: DeserializeOwned + Default> DerefMut for Lazy<T> {
    fn deref_mut(&mut self) -> &mut T {
        let _ = &**self;
        self.encoded = None;
        self.value.get_mut().expect("decoded just above")
    }
}

impl<T> From<T> for Lazy<T> {
    fn from(value: T) -> Lazy<T> {
        Lazy {
            encoded: None,
            value: OnceLock::from(value),
        }
    }
}

impl<T: Default> Default for Lazy<T> {
    fn default() -> Lazy<T> {
        Lazy::from(T::default())
    }
}

impl<T: Clone> Clone for Lazy<T> {
    fn clone(&self) -> Lazy<T> {
        Lazy {
            encoded: self.encoded.clone(),
            value: self.value.clone(),
        }
    }
}

impl<T: DeserializeOwned + Default + fmt::Debug> fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: DeserializeOwned + Default + fmt::Display> fmt::Display for Lazy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: Serialize + DeserializeOwned + Default> Serialize for Lazy<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            return (**self).serialize(serializer);
        }
        let bytes = postcard::to_allocvec(&**self).map_err(serde::ser::Error::custom)?;
        serializer.serialize_bytes(&bytes)
    }
}

impl<'de, T: DeserializeOwned + Default> Deserialize<'de> for Lazy<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Lazy<T>, D::Error> {
        if deserializer.is_human_readable() {
            return T::deserialize(deserializer).map(Lazy::from);
        }
        struct Bytes;
        impl Visitor<'_> for Bytes {
            type Value = Box<[u8]>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an encoded field")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Box<[u8]>, E> {
                Ok(bytes.into())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Box<[u8]>, E> {
                Ok(bytes.into())
            }
        }
        let encoded = deserializer.deserialize_bytes(Bytes)?;
        if encoded.is_empty() {
            return Err(D::Error::custom("an encoded field is empty"));
        }
        Ok(Lazy {
            encoded: Some(encoded),
            value: OnceLock::new(),
        })
    }
}

/// The rules file as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    pub schema: u32,
    pub placeholders: PlaceholderSpec,
    pub references: ReferenceSpec,
    pub allow: AllowSpec,
    pub sensitive_files: SensitiveFiles,
    pub examples: Lazy<ExampleContexts>,
    pub providers: BTreeMap<String, Provider>,
    pub rules: Vec<RuleSpec>,
}

/// The contexts every rule must match in, and the lines it must miss (see `config/rules.toml`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleContexts {
    pub contexts: Vec<NamedTemplate>,
    pub negatives: Vec<NamedTemplate>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTemplate {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceholderSpec {
    /// Words documentation fills a value with (`your`, `api`, `key`, `here`, `example`).
    pub fillers: Vec<String>,
    /// Vendors' documented example values, exactly.
    #[serde(default)]
    pub literals: Vec<String>,
    /// A value that opens or closes with one of these (`<`...`>`) names a token, it is none.
    pub wrappers: Vec<(String, String)>,
    /// Characters in a counting chain (`xxx`, `123`, `cba`, one of `a1b2c3`'s halves).
    pub min_chain: usize,
    /// Characters of a body outside filler and chains that a placeholder may still have:
    /// this many, or this share of the body if larger.
    pub max_stray: usize,
    pub max_stray_share: f64,
    /// The stray characters allowed instead to a body of counting runs alone, without a filler
    /// word, found by a rule for machine-made tokens: runs broken in several places
    /// (`abcdef1234567890abcdef12`) are how test tokens are built, and nothing in them says
    /// "not a secret" the way `EXAMPLE` or `your` does.
    #[serde(default = "one")]
    pub bare_runs_max_stray: usize,
    /// Rules whose secret a person picks (passwords): people pad a word with a few characters
    /// (`hunter42`, `2Password2`), so their bodies keep the `max_stray` allowance either way.
    #[serde(default)]
    pub password_rules: Vec<String>,
}

fn one() -> usize {
    1
}

impl PlaceholderSpec {
    /// The stray characters a placeholder found by `rule_id` may keep, for a body of `len`
    /// alphanumeric characters, `worded` when a filler word covers part of it.
    pub fn stray_allowance(&self, rule_id: &str, len: usize, worded: bool) -> usize {
        if worded || self.password_rules.iter().any(|id| id == rule_id) {
            self.max_stray
                .max((len as f64 * self.max_stray_share) as usize)
        } else {
            self.bare_runs_max_stray
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    pub prefixes: Vec<String>,
}

/// Inline directives (see `[allow]` in the rules file).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSpec {
    /// Markers that allow a finding on their own line.
    pub same_line: Vec<String>,
    /// Markers that allow a finding on the line after them.
    pub next_line: Vec<String>,
}

/// File names that hold credentials by convention: staging one is reported even when no token
/// is found in it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SensitiveFiles {
    /// Gitignore-like patterns (a name without `/` matches at any depth).
    pub patterns: Vec<String>,
    /// Names that look sensitive but are templates by convention.
    pub except: Vec<String>,
}

/// Who issued a token and what to do when one leaks.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub name: String,
    pub docs: Lazy<String>,
    pub revoke_url: Lazy<String>,
    /// The API host, used by example contexts (`{host}`).
    pub host: String,
    pub env_vars: Vec<String>,
    pub steps: Lazy<Vec<String>>,
    /// More variable names that hold this provider's credential, besides `env_vars`.
    #[serde(default)]
    pub variables: Lazy<Vec<String>>,
    /// SDK calls that take the credential, written as called: `Together(api_key=`,
    /// `wandb.login(key=`, `new OpenAI({apiKey:`; and module-level settings attributes the
    /// SDK documents for it, with their `=`: `aai.settings.api_key =`.
    #[serde(default)]
    pub sdk_args: Lazy<Vec<String>>,
    /// Whether a credential-variable rule is generated from the names above (built-in rules).
    #[serde(default = "yes")]
    pub variable_rule: bool,
}

fn yes() -> bool {
    true
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Before,
    After,
    Both,
    /// Anywhere in the same file.
    File,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    pub keywords: Vec<String>,
    /// Bytes searched on each requested side; not used with `side = "file"`.
    pub window: Option<usize>,
    /// Lines searched on each requested side, besides the secret's own line(s): what people
    /// mean by "near" (a key three lines above its endpoint URL). Instead of `window`.
    pub lines: Option<usize>,
    pub side: Side,
}

/// Checks on the secret itself, after the regex matched.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
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
    /// Bytes that, right before the secret, mark a URL path or git ref (`@`, `/`).
    #[serde(default)]
    pub not_preceded_by: String,
    /// Reject values that read as CamelCase code names (rules with no fixed prefix).
    #[serde(default)]
    pub reject_identifiers: bool,
}

/// The opt-in live check of a token, as data.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    pub method: HttpMethod,
    /// HTTPS only; the secret never goes in the URL.
    pub url: String,
    /// Header templates: `{secret}`, or `{basic:USER}` for HTTP Basic with that user name.
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    /// Statuses that mean the token works.
    pub live: Vec<u16>,
    /// Statuses that mean it does not.
    pub invalid: Vec<u16>,
    /// Keys a live JSON body holds at its top level.
    #[serde(default)]
    pub body_keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
}

/// Whether a rule is checked in every standard context or only on its own lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContextMode {
    #[default]
    Standard,
    Own,
}

/// Shapes and example lines from which tests build positive and negative cases.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    pub shape: String,
    #[serde(default)]
    pub contexts: ContextMode,
    #[serde(default)]
    pub positive: Vec<String>,
    #[serde(default)]
    pub negative: Vec<String>,
    /// The variable name for `{var}`; default: the provider's first env var.
    pub var: Option<String>,
    /// A line put before every example (a context the rule needs elsewhere in the file).
    pub preamble: Option<String>,
}

/// One rule as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub provider: String,
    pub description: Lazy<String>,
    pub severity: Severity,
    pub confidence: Confidence,
    /// A catch-all rule (a variable name, a generic scheme) that yields to specific ones.
    #[serde(default)]
    pub fallback: bool,
    pub keywords: Vec<String>,
    /// Texts one of which every match holds, as lowercase words joined by `_`
    /// (`anthropic_api_key`, `genai_configure(`), compared without case and with nothing or one
    /// of `_`, `.`, `-` between words: a rule whose keywords are common words (a vendor's name)
    /// is neither compiled nor run for a text that holds none. Empty: no check.
    #[serde(default)]
    pub literals: Vec<String>,
    /// Bytes of `[A-Za-z0-9_.+=-]` in a row that every match holds after one of its
    /// `literals`: before the next line break or parenthesis, or after a literal ending in `(`
    /// (a call), before the next parenthesis. The generated rules' names are all over clean
    /// code (`os.environ["OPENAI_API_KEY"]`); without a value after them, their regexes are
    /// neither compiled nor run. 0: no such check.
    #[serde(default)]
    pub value_after_literal: usize,
    pub regex: Lazy<String>,
    pub context: Option<ContextSpec>,
    /// Where the format comes from: vendor docs, SDK source, or a scanner's rule.
    #[serde(default)]
    pub sources: Lazy<Vec<String>>,
    #[serde(default)]
    pub filters: Filters,
    /// This rule's documented placeholder values (whole values, any case).
    #[serde(default)]
    pub placeholders: Lazy<Vec<String>>,
    #[serde(default)]
    pub verify: Lazy<Option<VerifySpec>>,
    #[serde(default)]
    pub examples: Lazy<Option<Examples>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lazy_field_stays_encoded_in_the_binary_form_until_read() {
        let steps: Lazy<Vec<String>> = vec!["revoke".to_string(), "rotate".to_string()].into();
        let bytes = postcard::to_allocvec(&steps).unwrap();
        let decoded: Lazy<Vec<String>> = postcard::from_bytes(&bytes).unwrap();
        assert!(decoded.if_decoded().is_none(), "nothing decoded at load");
        assert_eq!(*decoded, ["revoke", "rotate"]);
        assert!(decoded.if_decoded().is_some());
        // Text formats hold the value itself.
        let json = serde_json::to_string(&steps).unwrap();
        assert_eq!(json, r#"["revoke","rotate"]"#);
        let back: Lazy<Vec<String>> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.if_decoded().map(Vec::len), Some(2));
    }

    /// Bytes that are no encoding of the field never read as an empty value.
    #[test]
    #[should_panic(expected = "embedded rule fields decode")]
    fn a_field_that_does_not_decode_is_a_bug_not_an_empty_value() {
        let garbage: Lazy<Option<VerifySpec>> =
            postcard::from_bytes(&[3, 0xff, 0xff, 0xff]).unwrap();
        let _ = garbage.is_none();
    }
}
