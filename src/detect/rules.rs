//! Rule data: `config/rules.toml` parsed, validated and compiled once into a `RuleSet`.
//!
//! No token regex lives in Rust code; this module only knows the schema.

use std::borrow::Cow;
use std::cell::LazyCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::OnceLock;

use crate::detect::anchors::Anchors;
use crate::detect::near_context::NearContext;
use crate::detect::prebuilt_dfa;
use crate::detect::prefilter::{Walked, WordPlaces};
use crate::detect::required_run::{self, ClassRuns, PackedRun, RequiredRun};
pub use crate::detect::schema::*;
use crate::detect::variable_match::VariableMatcher;
use crate::detect::{filter, placeholder, prefilter};
use crate::error::{Error, Result};
use aho_corasick::AhoCorasick;
use memchr::memmem::Finder;

use crate::detect::regex_gate::{self, RegexGate};
use crate::detect::shared_regex::{Found, SharedRegex};

/// The built-in rules as written, embedded at build time (for `rules check` and tests).
pub const BUILTIN_RULES: &str = include_str!("../../config/rules.toml");

/// The same rules file, decoded by build.rs and serialized with postcard without its rules:
/// what start-up reads.
const BUILTIN_RULES_BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/rules.postcard"));

/// Each built-in rule's spec (the credential-variable rules generated), serialized with
/// postcard one after the other: a rule's is decoded when the scan first reads it.
const BUILTIN_RULE_SPECS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/rule-specs.postcard"));

/// The built-in providers, serialized with postcard apart from the rest: a clean commit never
/// reads them (a rule's API host is in its [`BuiltinRule`]), and decoding 579 of them cost
/// half of a small commit's instructions.
const BUILTIN_PROVIDERS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/providers.postcard"));

/// The providers by key: the built-in ones decoded on first read.
#[derive(Clone, Default)]
pub struct Providers {
    map: OnceLock<BTreeMap<String, Provider>>,
    /// The built-in providers' bytes, until decoded.
    encoded: Option<&'static [u8]>,
}

/// How many providers [`BUILTIN_PROVIDERS`] holds (build.rs counted them).
const BUILTIN_PROVIDER_COUNT: usize = include!(concat!(env!("OUT_DIR"), "/providers.count"));

impl Providers {
    /// How many providers there are, without decoding the built-in ones (every report says
    /// how many the catalog has).
    pub fn count(&self) -> usize {
        match (self.map.get(), self.encoded) {
            (Some(map), _) => map.len(),
            (None, Some(_)) => BUILTIN_PROVIDER_COUNT,
            (None, None) => 0,
        }
    }
}

impl Providers {
    /// Whether the providers are decoded (tests).
    #[cfg(test)]
    pub(crate) fn is_decoded(&self) -> bool {
        self.map.get().is_some()
    }
}

impl From<BTreeMap<String, Provider>> for Providers {
    fn from(map: BTreeMap<String, Provider>) -> Providers {
        Providers {
            map: OnceLock::from(map),
            encoded: None,
        }
    }
}

impl std::ops::Deref for Providers {
    type Target = BTreeMap<String, Provider>;

    fn deref(&self) -> &BTreeMap<String, Provider> {
        // Written by build.rs from the same schema in the same build: a failure is a bug.
        self.map.get_or_init(|| match self.encoded {
            Some(bytes) => postcard::from_bytes(bytes).expect("embedded providers decode"),
            None => BTreeMap::new(),
        })
    }
}

impl std::ops::DerefMut for Providers {
    fn deref_mut(&mut self) -> &mut BTreeMap<String, Provider> {
        let _ = &**self;
        self.encoded = None;
        self.map.get_mut().expect("decoded just above")
    }
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

/// The texts build.rs's tables name by byte range (ids, provider keys, hosts, keywords): a
/// table of ranges needs no relocation at start-up, one of `&'static str` one per string.
const BUILTIN_TABLE_NAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/table-names.txt"));

/// The text of a range in [`BUILTIN_TABLE_NAMES`].
pub(crate) fn table_name((start, end): (u32, u32)) -> &'static str {
    &BUILTIN_TABLE_NAMES[start as usize..end as usize]
}

/// What the scan reads of a built-in rule whose spec it has not decoded (build/startup.rs);
/// texts as ranges of [`BUILTIN_TABLE_NAMES`].
#[derive(Debug)]
pub(crate) struct BuiltinRule {
    id: (u32, u32),
    provider: (u32, u32),
    host: (u32, u32),
    has_context: bool,
    /// Its bytes in [`BUILTIN_RULE_SPECS`].
    spec: (usize, usize),
    /// Its required class run, read off the regex by build.rs.
    run: Option<PackedRun>,
    /// A generated credential-variable rule's names and SDK arguments in
    /// [`BUILTIN_VARIABLE_SHAPES`]: what its shared matcher runs on instead of its regex.
    variables: Option<(usize, usize)>,
}

/// Each generated credential-variable rule's names and SDK arguments, serialized with postcard
/// one after the other (build/startup.rs).
const BUILTIN_VARIABLE_SHAPES: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/variable-shapes.postcard"));

/// The built-in rules in catalog order, as build.rs wrote them.
static BUILTIN_RULE_TABLE: &[BuiltinRule] = &include!(concat!(env!("OUT_DIR"), "/rule-table.rs"));

/// A digest of the embedded rules' bytes (FNV-1a, by build.rs): what the embedded rules are,
/// for verdicts kept between runs.
pub const BUILTIN_RULES_DIGEST: u64 = include!(concat!(env!("OUT_DIR"), "/rules.digest"));

/// The built-in rules' positive and negative example lines, taken out of the rules by build.rs
/// (see [`builtin_example_lines`]).
const BUILTIN_EXAMPLE_LINES: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/example-lines.postcard"));

/// Per built-in rule id, its positive and negative example lines: kept apart from what
/// start-up decodes, since only `rules check`, the configuration guards and tests read them.
pub fn builtin_example_lines(id: &str) -> Option<&'static (Vec<String>, Vec<String>)> {
    type Lines = BTreeMap<String, (Vec<String>, Vec<String>)>;
    static LINES: OnceLock<Lines> = OnceLock::new();
    LINES
        .get_or_init(|| {
            // Written by build.rs from the same schema in the same build: it always decodes
            // (a test checks every rule's lines are here).
            postcard::from_bytes::<Vec<(String, Vec<String>, Vec<String>)>>(BUILTIN_EXAMPLE_LINES)
                .unwrap_or_default()
                .into_iter()
                .map(|(id, positive, negative)| (id, (positive, negative)))
                .collect()
        })
        .get(id)
}

/// Compiled regexes larger than this are rejected: a rule must stay cheap to build.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The low-confidence fallback for a bare password literal: its values are chosen by people,
/// so a placeholder may also be spelt with digits for letters (`p4ssw0rd`) or stored as
/// base64 of a word (a Kubernetes Secret's `data:`); see [`RuleSet::is_placeholder`].
const PASSWORD_LITERAL_RULE: &str = "generic-password-literal";

/// A context requirement, compiled.
#[derive(Debug, Clone)]
pub struct Context {
    pub keywords: AhoCorasick,
    pub window: Window,
    pub side: Side,
}

/// How far from the secret a context keyword may sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Bytes(usize),
    /// The secret's own line(s) and this many lines on each requested side.
    Lines(usize),
}

/// A rule ready to run. Its regex and context automaton are built on first use: a commit
/// touches the keywords of a few rules, and start-up must not pay for all of them. Rules from
/// a user's file are built at load time instead, so that their errors point at the file.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The built-in rule's table entry; `None` for a rule from a file, whose spec is set.
    builtin: Option<&'static BuiltinRule>,
    /// Decoded from the binary on first read for a built-in rule. Boxed, as the parts below:
    /// the 894 built-in rules are made at every start, and each byte of them is written.
    spec: OnceLock<Box<RuleSpec>>,
    /// The provider's API host, an implicit context keyword.
    host: Cow<'static, str>,
    /// What is built on first use, allocated when the rule is first used: with these parts
    /// inline a rule took 310 bytes, and the built-in rules' vector 68 page faults of a small
    /// commit's 326 (each a few microseconds), for rules most commits never wake.
    parts: OnceLock<Box<Parts>>,
}

/// The parts of a [`Rule`] built on first use.
#[derive(Debug, Clone, Default)]
struct Parts {
    regex: OnceLock<SharedRegex>,
    /// The regex's DFA from build.rs, asked before the regex is compiled (see [`Rule::captures`]).
    dfa: OnceLock<Option<prebuilt_dfa::Gate>>,
    /// The regex's cheap superset, asked once its DFA's fuel is spent or to check the DFA's
    /// "maybe" (see [`Rule::may_match_from`]).
    superset: OnceLock<Option<RegexGate>>,
    context: OnceLock<Option<Context>>,
    /// The context keywords in lowercase, for [`NearContext`].
    context_finders: OnceLock<Vec<Finder<'static>>>,
    /// Text a placeholder of this rule may keep (see [`RuleSet::is_placeholder`]).
    placeholder_words: OnceLock<placeholder::BodyWords>,
    /// See [`Rule::reads_escapes`]; asked for every match, so decided once.
    reads_escapes: OnceLock<bool>,
    /// See [`Rule::captures`].
    required_run: OnceLock<Option<Box<RequiredRun>>>,
    /// The keywords every match of a built-in regex holds (see [`Rule::captures`]).
    anchors: OnceLock<Option<Anchors>>,
    /// See [`Rule::may_match`].
    literal_groups: OnceLock<Vec<LiteralGroup>>,
    /// A built-in generated rule's shared matcher (see [`Rule::secrets`]).
    variables: OnceLock<Option<Box<VariableMatcher>>>,
}

impl Rule {
    /// A rule whose regex, context and the rest are built on first use.
    fn new(spec: RuleSpec, host: String) -> Rule {
        Rule::with(None, OnceLock::from(Box::new(spec)), Cow::Owned(host))
    }

    /// A built-in rule, its spec decoded on first read.
    fn builtin(entry: &'static BuiltinRule) -> Rule {
        Rule::with(
            Some(entry),
            OnceLock::new(),
            Cow::Borrowed(table_name(entry.host)),
        )
    }

    /// A rule with nothing built yet.
    fn with(
        builtin: Option<&'static BuiltinRule>,
        spec: OnceLock<Box<RuleSpec>>,
        host: Cow<'static, str>,
    ) -> Rule {
        Rule {
            builtin,
            spec,
            host,
            parts: OnceLock::new(),
        }
    }

    /// The parts built on first use, allocated now if they were not yet.
    fn parts(&self) -> &Parts {
        self.parts.get_or_init(Box::default)
    }

    pub fn id(&self) -> &str {
        match self.builtin {
            Some(entry) => table_name(entry.id),
            None => &self.spec().id,
        }
    }

    /// The key of the rule's provider (without decoding a built-in rule's spec).
    pub fn provider_key(&self) -> &str {
        match self.builtin {
            Some(entry) => table_name(entry.provider),
            None => &self.spec().provider,
        }
    }

    /// Whether the rule asks for context (without decoding a built-in rule's spec).
    pub fn has_context(&self) -> bool {
        match self.builtin {
            Some(entry) => entry.has_context,
            None => self.spec().context.is_some(),
        }
    }

    /// The rule as written: provider, description, keywords, examples, ...
    pub fn spec(&self) -> &RuleSpec {
        self.spec.get_or_init(|| {
            // Written by build.rs from the same schema in the same build, and every built-in
            // rule is decoded by the tests: a failure is a bug, reported by the panic hook.
            let (start, end) = self
                .builtin
                .expect("a rule without a spec is built in")
                .spec;
            Box::new(
                postcard::from_bytes(&BUILTIN_RULE_SPECS[start..end])
                    .expect("embedded rule specs decode"),
            )
        })
    }

    /// The rule as written, to change in a test (before any part of it is built).
    #[cfg(test)]
    pub(crate) fn spec_mut(&mut self) -> &mut RuleSpec {
        let _ = self.spec();
        self.builtin = None;
        self.spec.get_mut().expect("decoded just above")
    }

    /// The rule's live check, if it defines one (decoded on first read).
    pub fn verify(&self) -> Option<&VerifySpec> {
        self.spec().verify.as_ref()
    }

    /// The compiled regex. Built-in rules are proven to compile by the test suite and
    /// `tokenguard rules check`; a failure here is a bug, reported by the panic hook.
    pub fn regex(&self) -> &SharedRegex {
        self.parts().regex.get_or_init(|| {
            build_regex(&self.spec().regex).expect("rule regexes are validated before use")
        })
    }

    /// Gives back the regex's search caches when the rule has been idle a while (see
    /// [`SharedRegex::drop_idle_caches`]).
    pub fn drop_idle_caches(&self) {
        if let Some(regex) = self.parts.get().and_then(|parts| parts.regex.get()) {
            regex.drop_idle_caches();
        }
    }

    /// False when `lower` (a text in lowercase) holds none of the rule's
    /// [`RuleSpec::literals`] (see `LiteralGroup`), so that no match can be in it.
    pub fn may_match(&self, lower: &[u8]) -> bool {
        self.may_match_where(lower, |_| WordPlaces::Within(0..lower.len()), || lower)
    }

    /// [`Rule::may_match`] for `text` as written, looking for each literal's first word only
    /// where `places` says it may be; the prefilter's walk tells. Literals are compared at the
    /// walk's places ignoring case; `lower` (`text` ASCII-lowercased) is asked for only when a
    /// first word must be searched: lowercasing whole texts cost as much as the searches.
    pub fn may_match_where<'s, 'l>(
        &self,
        text: &[u8],
        places: impl Fn(&[u8]) -> WordPlaces<'s>,
        lower: impl FnOnce() -> &'l [u8],
    ) -> bool {
        let spec = self.spec();
        let lower = LazyCell::new(lower);
        spec.literals.is_empty()
            || self
                .parts()
                .literal_groups
                .get_or_init(|| LiteralGroup::of(spec.literals.iter().map(String::as_str)))
                .iter()
                .any(|group| {
                    let places = places(group.first.needle());
                    group.is_in((text, &lower), places, spec.value_after_literal)
                })
    }

    /// The regex's matches in `text`, the same as one search over all of it finds. A rule
    /// whose matches hold a run of one byte class (see [`RequiredRun`]) is searched only
    /// around such runs, and a text without one needs no compiled regex at all: the rules
    /// whose regexes open with common words (`key`, `token`) or have no literal ran at 0.2 to
    /// 0.5 GB/s over whole files that name their vendor, a fifth of a large commit's time.
    /// `runs` keeps the runs found in `text` for the next rule of the same class.
    ///
    /// Until the regex is compiled, the DFA build.rs made of it looks first: the lines of
    /// real code wake rules by naming providers and their variables, and compiling their
    /// regexes cost several times what the rest of a small commit's scan does. A gate that
    /// steps through much of a large scan spends its fuel, and the rule then asks its superset
    /// or compiles as before.
    ///
    /// `walked`, when the prefilter walked `text`: where its keywords are. A built-in regex
    /// every match of which holds one of a few keywords is searched only around where the
    /// walk saw them (see [`Anchors`]): a text naming `toggl` once in a 1 MB file was searched
    /// whole.
    pub fn captures<'t>(
        &self,
        text: &'t [u8],
        runs: &mut ClassRuns<'t>,
        walked: Option<Walked>,
    ) -> Vec<Found> {
        self.captures_seen(text, &[], runs, walked)
    }

    /// [`Rule::captures`], with `lower` the lowercase copy of `text` or nothing: anchors that
    /// are no walk keywords are looked for there (see [`Anchors::reads_lowercase`]).
    pub fn captures_seen<'t>(
        &self,
        text: &'t [u8],
        lower: &[u8],
        runs: &mut ClassRuns<'t>,
        walked: Option<Walked>,
    ) -> Vec<Found> {
        self.captures_near(text, lower, runs, walked, None)
    }

    /// [`Rule::captures_seen`], skipping the windows `near` says no match in which can have
    /// its context.
    fn captures_near<'t>(
        &self,
        text: &'t [u8],
        lower: &[u8],
        runs: &mut ClassRuns<'t>,
        walked: Option<Walked>,
        near: Option<&NearContext>,
    ) -> Vec<Found> {
        let run = self.required_run();
        let anchors = walked.and_then(|walked| {
            let anchors = self.anchors()?;
            Some((anchors, anchors.places(walked, text, lower)?))
        });
        let may_match = |haystack: &[u8], from: usize| {
            if let Some((_, places)) = &anchors
                && !holds_place(places, from..haystack.len())
            {
                return false;
            }
            if near.is_some_and(|near| !near.may_hold(from..haystack.len())) {
                return false;
            }
            self.may_match_from(haystack, from)
        };
        match &anchors {
            // Run windows are bounded too: the anchors' places sort them out (`may_match`).
            Some((anchors, places)) if !run.is_some_and(RequiredRun::has_reach) => {
                if !required_run::may_hold(run, text, runs) {
                    return Vec::new();
                }
                let mut windows = anchors.windows(text, places);
                windows.retain(|window| may_match(&text[..window.end], window.start));
                match windows.is_empty() {
                    true => Vec::new(),
                    false => self.regex().captures_in_windows(text, &windows),
                }
            }
            _ => required_run::captures(run, may_match, || self.regex(), text, runs),
        }
    }

    /// The run of one byte class every match holds, if the regex has one worth checking.
    fn required_run(&self) -> Option<&RequiredRun> {
        self.parts()
            .required_run
            .get_or_init(|| {
                match self.builtin {
                    Some(entry) => entry.run.as_ref().map(RequiredRun::unpacked),
                    None => RequiredRun::of(&self.spec().regex),
                }
                .map(Box::new)
            })
            .as_deref()
    }

    /// The required run this rule may have [`ClassRuns`] list in a blob: none for a built-in
    /// generated rule, whose shared matcher answers instead (see [`Rule::secrets`]).
    pub(crate) fn listed_run(&self) -> Option<&RequiredRun> {
        match self.builtin.is_some_and(|entry| entry.variables.is_some()) {
            true => None,
            false => self.required_run(),
        }
    }

    /// The anchors build.rs found for the rule's regex, when it is a built-in one. Words
    /// looked for in the text are not worth it when the regex's class runs bound its search
    /// already (common words such as `api` and `key` cost more than they save).
    fn anchors(&self) -> Option<&Anchors> {
        let anchors = (self.parts().anchors)
            .get_or_init(|| self.builtin.and_then(|_| Anchors::of(&self.spec().regex)))
            .as_ref()?;
        let has_reach = || self.required_run().is_some_and(RequiredRun::has_reach);
        (!anchors.reads_lowercase() || !has_reach()).then_some(anchors)
    }

    /// Whether the regex may match in `haystack[from..]`: yes once it is compiled, else as its
    /// DFA from build.rs or its superset says (see [`Rule::captures`]).
    fn may_match_from(&self, haystack: &[u8], from: usize) -> bool {
        if self.parts().regex.get().is_some() {
            return true;
        }
        let gate = (self.parts().dfa).get_or_init(|| prebuilt_dfa::for_pattern(&self.spec().regex));
        match gate
            .as_ref()
            .and_then(|gate| prebuilt_dfa::may_match(gate, haystack, from))
        {
            Some(false) => return false,
            // The DFAs of some regexes only approximate them (a head, then a tail from where
            // it ends): their "yes" is checked by the superset, when the regex has one.
            Some(true) if regex_gate::superset_of(&self.spec().regex).is_none() => return true,
            _ => {}
        }
        (self.parts().superset)
            .get_or_init(|| RegexGate::for_pattern(&self.spec().regex))
            .as_ref()
            .is_none_or(|gate| gate.may_match(haystack, from))
    }

    /// Where the secrets (group 1) of the rule's matches in `text` are, as
    /// [`Rule::captures`] finds them (`walked` as there); `lower` makes `text` ASCII-lowercased,
    /// asked for only when the shared matcher must search a word. A
    /// built-in generated credential-variable rule runs the shared matcher instead of
    /// compiling its regex.
    pub fn secrets<'t, 'l>(
        &self,
        text: &'t [u8],
        lower: impl FnOnce() -> &'l [u8],
        runs: &mut ClassRuns<'t>,
        walked: Option<Walked>,
    ) -> Vec<Range<usize>> {
        self.secrets_where(text, lower, runs, (walked, false))
    }

    /// [`Rule::secrets`], less those a rule with a context keyword window cannot keep: the
    /// windows with no keyword in reach are not searched (see [`NearContext`]). For a caller
    /// that drops every match without its context, whatever the file's path says.
    pub fn secrets_in_context<'t, 'l>(
        &self,
        text: &'t [u8],
        lower: impl FnOnce() -> &'l [u8],
        runs: &mut ClassRuns<'t>,
        walked: Option<Walked>,
    ) -> Vec<Range<usize>> {
        self.secrets_where(text, lower, runs, (walked, true))
    }

    /// [`Rule::secrets`], and [`Rule::secrets_in_context`] when `in_context`.
    fn secrets_where<'t, 'l>(
        &self,
        text: &'t [u8],
        lower: impl FnOnce() -> &'l [u8],
        runs: &mut ClassRuns<'t>,
        (walked, in_context): (Option<Walked>, bool),
    ) -> Vec<Range<usize>> {
        if let Some(matcher) = self.variable_matcher() {
            // The walk looked for the wide folds once per text; other texts are searched.
            let folds = match walked {
                Some(walked) => walked.holds_wide_folds(text),
                None => !VariableMatcher::answers_for(text),
            };
            if !folds {
                return matcher.secrets(text, lower, walked);
            }
        }
        let words_looked_for = self.anchors().is_some_and(Anchors::reads_lowercase);
        let lower = if words_looked_for { lower() } else { &[] };
        let near = in_context.then(|| NearContext::of(text, self)).flatten();
        (self
            .captures_near(text, lower, runs, walked, near.as_ref())
            .iter())
        .filter_map(|caps| caps.get(1))
        .map(|secret| secret.range())
        .collect()
    }

    /// The shared matcher of a built-in generated rule (its names and calls from build.rs).
    pub(crate) fn variable_matcher(&self) -> Option<&VariableMatcher> {
        self.parts()
            .variables
            .get_or_init(|| {
                let (start, end) = self.builtin?.variables?;
                // Written by build.rs from the same providers in the same build.
                let (names, sdk_args): (Vec<String>, Vec<String>) =
                    postcard::from_bytes(&BUILTIN_VARIABLE_SHAPES[start..end])
                        .expect("embedded variable shapes decode");
                VariableMatcher::new(&names, &sdk_args).map(Box::new)
            })
            .as_deref()
    }

    /// Whether the regex has been compiled, and whether its DFA was asked (tests: a clean line
    /// must not compile it).
    #[cfg(test)]
    pub(crate) fn built(&self) -> (bool, bool) {
        let parts = self.parts.get();
        (
            parts.is_some_and(|parts| parts.regex.get().is_some()),
            parts.is_some_and(|parts| parts.dfa.get().is_some()),
        )
    }

    /// Whether the shared matcher of a generated rule was asked (tests).
    #[cfg(test)]
    pub(crate) fn matcher_asked(&self) -> bool {
        (self.parts.get()).is_some_and(|parts| parts.variables.get().is_some_and(Option::is_some))
    }

    /// True when the regex matches string escapes themselves (a JSON key file's `\\n` line
    /// breaks): it runs on the blob as written, not on the view with escapes masked.
    pub fn reads_escapes(&self) -> bool {
        *self.parts().reads_escapes.get_or_init(|| {
            ["\\\\n", "\\\\t", "\\\\r", "\\\\u"]
                .iter()
                .any(|escape| self.spec().regex.contains(escape))
        })
    }

    /// The provider's API host, which counts as a context keyword.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn context(&self) -> Option<&Context> {
        self.parts()
            .context
            .get_or_init(|| {
                self.spec().context.as_ref().map(|ctx| {
                    compile_context(ctx, &self.host).expect("rule contexts are validated")
                })
            })
            .as_ref()
    }

    /// The context keywords (the host's too) in lowercase, each with its searcher (see
    /// [`NearContext`]); none for a rule without a context.
    pub(crate) fn context_finders(&self) -> &[Finder<'static>] {
        self.parts().context_finders.get_or_init(|| {
            let spec = self.spec().context.as_ref();
            let keywords = spec.map(|context| context_keywords(context, self.host()));
            (keywords.unwrap_or_default().iter())
                .map(|keyword| Finder::new(&keyword.to_ascii_lowercase()).into_owned())
                .collect()
        })
    }

    /// Builds everything now, returning the first error.
    fn build_now(&self) -> std::result::Result<(), String> {
        let regex = build_regex(&self.spec().regex).map_err(|err| {
            format!(
                "regex does not compile: {}",
                err.to_string().replace('\n', " ")
            )
        })?;
        if regex.captures_len() < 2 {
            return Err("regex needs a capture group holding the secret".to_string());
        }
        let context = match &self.spec().context {
            Some(ctx) => Some(compile_context(ctx, &self.host)?),
            None => None,
        };
        let _ = self.parts().regex.set(regex);
        let _ = self.parts().context.set(context);
        Ok(())
    }
}

/// A text (in lowercase) holds a literal when it has the literal's words (`_` between them)
/// in order, each right after the one before or one `_`, `.` or `-` after it:
/// `anthropic_api_key` is in `anthropic_api_key`, `anthropicapikey` and `anthropic.api-key`,
/// as the generated rules' `anthropic[_.-]?api[_.-]?key` would match them.
///
/// A rule's literals that open with the same word (`openai_api_key`, `openai_key`), or with a
/// word holding another literal's first word (`asyncopenai(`, `openai(`): that word is searched
/// once and each literal compared around where it occurs. A literal at a time, the generated
/// rules' dozen literals each crossed the whole text, a tenth of a 150 MB first commit; a
/// first word at a time, a 40 MB first commit still searched 358 MB.
#[derive(Debug, Clone)]
struct LiteralGroup {
    first: Finder<'static>,
    literals: Vec<Literal>,
    /// How far a literal can reach before and after where the first word starts: the bytes
    /// a comparison at one place reads.
    reach: (usize, usize),
}

/// The most bytes around a place that [`LiteralGroup::is_in`] lowercases on the stack; a
/// group reaching further compares in the whole text lowercased.
const WINDOW: usize = 64;

/// A literal of a [`LiteralGroup`]: its first word holds the group's at `offset`.
#[derive(Debug, Clone)]
struct Literal {
    /// The literal's first word; empty when it is the group's own.
    lead: Vec<u8>,
    offset: usize,
    /// Its words after the first.
    rest: Vec<Vec<u8>>,
    /// Whether it is a call (ends in `(`).
    call: bool,
}

impl LiteralGroup {
    fn of<'a>(literals: impl IntoIterator<Item = &'a str>) -> Vec<LiteralGroup> {
        let mut literals: Vec<&str> = literals.into_iter().collect();
        // Shorter first words first: one that holds an earlier one joins its group.
        literals.sort_by_key(|literal| literal.split('_').next().map_or(0, str::len));
        let mut groups: Vec<LiteralGroup> = Vec::new();
        for literal in literals {
            let mut words = literal.split('_').map(|w| w.as_bytes().to_vec());
            let first = words.next().unwrap_or_default();
            let rest = words.collect();
            let call = literal.ends_with('(');
            let joined = groups.iter_mut().find_map(|group| {
                let offset = anchor_offset(group.first.needle(), &first)?;
                Some((group, offset))
            });
            match joined {
                Some((group, offset)) => {
                    let lead = match first.as_slice() == group.first.needle() {
                        true => Vec::new(),
                        false => first,
                    };
                    (group.literals).push(Literal {
                        lead,
                        offset,
                        rest,
                        call,
                    })
                }
                None => groups.push(LiteralGroup {
                    first: Finder::new(&first).into_owned(),
                    literals: vec![Literal {
                        lead: Vec::new(),
                        offset: 0,
                        rest,
                        call,
                    }],
                    reach: (0, 0),
                }),
            }
        }
        for group in &mut groups {
            group.reach = group.reach();
        }
        groups
    }

    /// The bytes before the first word's start that a literal's lead can take, and after it
    /// its words and the separators between them can.
    fn reach(&self) -> (usize, usize) {
        let first = self.first.needle().len();
        let before = self.literals.iter().map(|literal| literal.offset).max();
        let after = self.literals.iter().map(|literal| {
            let lead = match literal.lead.is_empty() {
                true => first,
                false => literal.lead.len() - literal.offset,
            };
            lead + (literal.rest.iter())
                .map(|word| 1 + word.len())
                .sum::<usize>()
        });
        (before.unwrap_or(0), after.max().unwrap_or(first))
    }

    /// Whether `text` holds one of the literals (ignoring case), followed by `value` value
    /// bytes in a row (see [`RuleSpec::value_after_literal`]; 0: nothing needs to follow). The
    /// first word is looked for only where `places` says it may be: memmem's search in a
    /// range of `lower` (the text lowercased, made on first use), or a comparison at each
    /// place the prefilter's walk saw it end.
    fn is_in<'l>(
        &self,
        (text, lower): (&[u8], &LazyCell<&'l [u8], impl FnOnce() -> &'l [u8]>),
        places: WordPlaces<'_>,
        value: usize,
    ) -> bool {
        let word = self.first.needle();
        match places {
            WordPlaces::Nowhere => false,
            WordPlaces::Within(within) => self.is_in_range(lower, within, value),
            // memmem reports places that do not overlap (`dd` in `ddd` once): such a word is
            // searched between its first and last place, as it always was.
            WordPlaces::EndingAt(ends) if overlaps_itself(word) => {
                let within = ends.first() - word.len()..ends.last();
                self.is_in_range(lower, within, value)
            }
            WordPlaces::EndingAt(ends) => ends.iter().any(|end| {
                let at = end - word.len();
                let (before, after) = self.reach;
                let from = at - at.min(before);
                let to = text.len().min(at + after);
                // The bytes a literal can span around `at`, lowercased (value bytes after it
                // are read in `text`: either case is one).
                let mut bytes = [0; WINDOW];
                let Some(window) = bytes.get_mut(..to - from) else {
                    return starts_with(&lower[at..], word)
                        && self.is_at((lower, 0), at, (text, value));
                };
                window.copy_from_slice(&text[from..to]);
                // All of it, a fixed length: a few vector instructions, not a loop per byte.
                bytes.make_ascii_lowercase();
                let window = &bytes[..to - from];
                // A copy with escapes masked may lack a place the text has.
                starts_with(&window[at - from..], word)
                    && self.is_at((window, from), at - from, (text, value))
            }),
        }
    }

    /// [`LiteralGroup::is_in`] with the first word searched in all of `lower` (tests).
    #[cfg(test)]
    fn in_whole(&self, lower: &[u8], value: usize) -> bool {
        let places = WordPlaces::Within(0..lower.len());
        self.is_in((lower, &LazyCell::new(|| lower)), places, value)
    }

    /// [`LiteralGroup::is_in`] by memmem's search for the first word, wholly in `within`.
    fn is_in_range(&self, lower: &[u8], within: Range<usize>, value: usize) -> bool {
        let offset = within.start;
        (self.first.find_iter(&lower[within]))
            .any(|at| self.is_at((lower, 0), offset + at, (lower, value)))
    }

    /// Whether one of the literals is in `lower` with the group's first word at `at`, and
    /// `value` value bytes follow it in `text`. `lower` is `text`, or the part of it from
    /// `from` on, lowercased; it holds every byte a literal can span (see `reach`).
    fn is_at(
        &self,
        (lower, from): (&[u8], usize),
        at: usize,
        (text, value): (&[u8], usize),
    ) -> bool {
        let length = self.first.needle().len();
        self.literals.iter().any(|literal| {
            let Some(start) = at.checked_sub(literal.offset) else {
                return false;
            };
            let after_first = match literal.lead.is_empty() {
                true => at + length,
                false if starts_with(&lower[start..], &literal.lead) => start + literal.lead.len(),
                false => return false,
            };
            // `value_follows` takes letters in either case.
            words_follow(lower, after_first, &literal.rest).is_some_and(|end| {
                value == 0 || value_follows(&text[from + end..], value, literal.call)
            })
        })
    }
}

/// Where `word` holds `anchor`, when searching `anchor` finds every place `word` is: the same
/// word, or one holding it where neither word can overlap itself (the search reports
/// occurrences that do not overlap, so a word like `abab` would hide some of its own).
fn anchor_offset(anchor: &[u8], word: &[u8]) -> Option<usize> {
    if anchor == word {
        return Some(0);
    }
    if anchor.is_empty() || overlaps_itself(anchor) || overlaps_itself(word) {
        return None;
    }
    word.windows(anchor.len())
        .position(|window| window == anchor)
}

/// Whether two places of `word` can overlap (`dd`, `abab`): a proper prefix of it is also its
/// suffix.
fn overlaps_itself(word: &[u8]) -> bool {
    (1..word.len()).any(|length| word[..length] == word[word.len() - length..])
}

/// Where `rest`'s words end, if they follow from `next` on, with nothing or one of `_ . -`
/// before each, in any case.
fn words_follow(text: &[u8], mut next: usize, rest: &[Vec<u8>]) -> Option<usize> {
    for word in rest {
        if text
            .get(next)
            .is_some_and(|b| matches!(b, b'_' | b'.' | b'-'))
            && !starts_with(&text[next..], word)
        {
            next += 1;
        }
        if !text.get(next..).is_some_and(|tail| starts_with(tail, word)) {
            return None;
        }
        next += word.len();
    }
    Some(next)
}

/// Whether `text` starts with `word`, compared four or eight bytes at a time (the first and
/// the last of them, which may overlap): the words of literals are a few bytes long, where
/// `<[u8]>::starts_with` called libc's memcmp (1.9% of trees40's samples).
fn starts_with(text: &[u8], word: &[u8]) -> bool {
    let Some(text) = text.get(..word.len()) else {
        return false;
    };
    fn ends<const N: usize>(bytes: &[u8]) -> ([u8; N], [u8; N]) {
        let first = bytes[..N].try_into().expect("N bytes");
        (first, bytes[bytes.len() - N..].try_into().expect("N bytes"))
    }
    match word.len() {
        0..4 => text.iter().zip(word).all(|(a, b)| a == b),
        4..8 => ends::<4>(text) == ends::<4>(word),
        8..=16 => ends::<8>(text) == ends::<8>(word),
        _ => ends::<8>(text).0 == ends::<8>(word).0 && text == word,
    }
}

/// Whether `text` holds `value` bytes of `[a-z0-9_.+=-]` in a row before its first
/// parenthesis, and, unless `call`, before its first line break.
fn value_follows(text: &[u8], value: usize, call: bool) -> bool {
    let mut run = 0;
    for &byte in text {
        match byte {
            b'(' | b')' => return false,
            b'\n' if !call => return false,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'+' | b'=' => {
                run += 1;
                if run == value {
                    return true;
                }
            }
            _ => run = 0,
        }
    }
    false
}

/// Whether one of `places` (in order of their starts) lies inside `window`.
fn holds_place(places: &[Range<usize>], window: Range<usize>) -> bool {
    let from = places.partition_point(|place| place.start < window.start);
    (places[from..].iter())
        .take_while(|place| place.start < window.end)
        .any(|place| place.end <= window.end)
}

fn build_regex(pattern: &str) -> std::result::Result<SharedRegex, regex::Error> {
    SharedRegex::new(pattern, REGEX_SIZE_LIMIT)
}

/// All rules and the shared filter data, validated and compiled.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// The position in `rules` of each rule id, built on the first lookup by id (a small
    /// commit's scan never needs it).
    index: OnceLock<HashMap<String, usize>>,
    /// How many leading rules are the embedded ones ([`BUILTIN_RULES_DIGEST`] says what they
    /// are); the rest came from a config's `[[rules]]`.
    embedded: usize,
    pub providers: Providers,
    pub placeholders: PlaceholderSpec,
    pub references: ReferenceSpec,
    pub allow: AllowSpec,
    pub sensitive_files: SensitiveFiles,
    pub examples: Lazy<ExampleContexts>,
}

/// One thing wrong with a rules file, named by rule id where it concerns one rule: what every
/// way of compiling rules reports (the built-in file, `rules check`, a layer's custom rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub rule_id: Option<String>,
    /// The rule's position among the rules given, when it concerns one: a layer's error
    /// points at the rule's line in its file.
    pub index: Option<usize>,
    pub message: String,
}

impl Problem {
    /// A problem of the file as a whole (its schema, a provider).
    pub fn of_file(message: impl Into<String>) -> Problem {
        Problem {
            rule_id: None,
            index: None,
            message: message.into(),
        }
    }

    /// A problem of the rule `id`.
    pub fn of_rule(id: &str, message: impl Into<String>) -> Problem {
        Problem {
            rule_id: Some(id.to_string()),
            index: None,
            message: message.into(),
        }
    }

    /// The same problem, of the rule at `index` among those given.
    fn at(mut self, index: usize) -> Problem {
        self.index = Some(index);
        self
    }
}

/// When a rule's regex and context automaton are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    /// On first use: a commit touches a few rules' keywords (the built-in rules).
    OnFirstUse,
    /// Now, so that an error points at the file that defines the rule (a user's rules,
    /// `rules check`).
    Now,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.rule_id {
            Some(id) => write!(f, "rule {id}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl RuleSet {
    /// The rules in catalog order (built-in, then each layer's custom rules).
    pub fn iter(&self) -> std::slice::Iter<'_, Rule> {
        self.rules.iter()
    }

    /// The rules as a slice, in catalog order (the prefilter numbers them so).
    pub fn as_slice(&self) -> &[Rule] {
        &self.rules
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule at `index` in catalog order (the prefilter's and the scanner's numbering).
    pub fn at(&self, index: usize) -> &Rule {
        &self.rules[index]
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.position(id).map(|at| &self.rules[at])
    }

    /// The position of the rule with this id in catalog order.
    pub fn position(&self, id: &str) -> Option<usize> {
        let index = self.index.get_or_init(|| {
            (self.rules.iter().enumerate())
                .map(|(at, rule)| (rule.id().to_string(), at))
                .collect()
        });
        index.get(id).copied()
    }

    /// The rules embedded in the binary: the rules file without its rules is decoded, each
    /// rule's spec only when first read (see `BuiltinRule`).
    pub fn builtin() -> Result<RuleSet> {
        let origin = "config/rules.toml (built in)";
        let file: RulesFile =
            postcard::from_bytes(BUILTIN_RULES_BINARY).map_err(|err| Error::Rules {
                path: origin.to_string(),
                message: format!("cannot decode the embedded rules: {err}"),
            })?;
        let rules: Vec<Rule> = BUILTIN_RULE_TABLE.iter().map(Rule::builtin).collect();
        let mut set = RuleSet::around(rules, file);
        set.providers = Providers {
            map: OnceLock::new(),
            encoded: Some(BUILTIN_PROVIDERS),
        };
        set.embedded = set.rules.len();
        Ok(set)
    }

    /// The rules not embedded in the binary (all of them for a set built from a file).
    pub fn added(&self) -> &[Rule] {
        &self.rules[self.embedded..]
    }

    /// Whether the set is the embedded rules and nothing else, as build.rs saw them: what
    /// the tables it wrote (the prefilter's) describe.
    pub fn is_builtin_only(&self) -> bool {
        self.embedded == BUILTIN_RULE_TABLE.len()
            && self.rules.len() == self.embedded
            && self.rules.iter().all(|rule| rule.builtin.is_some())
    }

    /// Whether the set starts with the embedded rules.
    pub fn has_embedded(&self) -> bool {
        self.embedded > 0
    }

    /// The compiled `rules` with the rest of `file` (whose rules were taken out).
    fn around(rules: Vec<Rule>, file: RulesFile) -> RuleSet {
        RuleSet {
            index: OnceLock::new(),
            embedded: 0,
            rules,
            providers: Providers::from(file.providers),
            placeholders: file.placeholders,
            references: file.references,
            allow: file.allow,
            sensitive_files: file.sensitive_files,
            examples: file.examples,
        }
    }

    /// Parses and compiles a rules file; `origin` names it in errors. The first problem found
    /// is the error; [`RuleSet::check_toml`] lists them all.
    pub fn from_toml(text: &str, origin: &str) -> Result<RuleSet> {
        let file = parse(text, origin)?;
        RuleSet::compile(file, Build::OnFirstUse).map_err(|problems| first_error(problems, origin))
    }

    /// Parses a rules file and lists every problem in it; a TOML syntax or schema error is the
    /// `Err`, since nothing after it can be checked.
    pub fn check_toml(text: &str, origin: &str) -> Result<(Option<RuleSet>, Vec<Problem>)> {
        let file = parse(text, origin)?;
        Ok(match RuleSet::compile(file, Build::Now) {
            Ok(set) => (Some(set), Vec::new()),
            Err(problems) => (None, problems),
        })
    }

    /// Generates the credential-variable rules of `file`'s providers, then compiles.
    fn compile(mut file: RulesFile, build: Build) -> std::result::Result<RuleSet, Vec<Problem>> {
        file.rules
            .extend(crate::detect::variables::generate(&file.providers));
        RuleSet::compile_generated(file, build)
    }

    /// Compiles a rules file whose credential-variable rules are already in it.
    fn compile_generated(
        mut file: RulesFile,
        build: Build,
    ) -> std::result::Result<RuleSet, Vec<Problem>> {
        let mut problems = Vec::new();
        if file.schema != 1 {
            problems.push(Problem::of_file(format!(
                "unsupported schema {} (expected 1)",
                file.schema
            )));
        }
        let mut seen = HashSet::new();
        let specs = std::mem::take(&mut file.rules);
        let mut rules = Vec::with_capacity(specs.len());
        for (index, spec) in specs.into_iter().enumerate() {
            let mut problem =
                |message: String| problems.push(Problem::of_rule(&spec.id, message).at(index));
            if !seen.insert(spec.id.clone()) {
                problem("duplicate rule id".to_string());
            }
            if !file.providers.contains_key(&spec.provider) {
                problem(format!("unknown provider {:?}", spec.provider));
            }
            let host = host_of(&file.providers, &spec.provider);
            match compile_rule(spec, host, build) {
                Ok(rule) => rules.push(rule),
                Err(found) => problems.push(found.at(index)),
            }
        }
        for id in &file.placeholders.password_rules {
            if !seen.contains(id) {
                problems.push(Problem::of_file(format!(
                    "placeholders.password_rules names no rule: {id:?}"
                )));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(RuleSet::around(rules, file))
    }

    /// Adds a configuration layer's providers and custom rules, validated like the built-in
    /// ones. A problem names the index of the rule in `specs` (`None`: a provider).
    pub fn extend(
        &mut self,
        providers: BTreeMap<String, Provider>,
        specs: Vec<RuleSpec>,
    ) -> std::result::Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        for (key, provider) in providers {
            match self.providers.entry(key) {
                std::collections::btree_map::Entry::Occupied(taken) => problems.push(
                    Problem::of_file(format!("provider {:?} is already defined", taken.key())),
                ),
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(provider);
                }
            }
        }
        for (index, spec) in specs.into_iter().enumerate() {
            if self.get(&spec.id).is_some() {
                let message = format!(
                    "rule id {:?} already exists; disable it and use a new id",
                    spec.id
                );
                problems.push(Problem::of_rule(&spec.id, message).at(index));
                continue;
            }
            if !self.providers.contains_key(&spec.provider) {
                let message = format!("unknown provider {:?}", spec.provider);
                problems.push(Problem::of_rule(&spec.id, message).at(index));
                continue;
            }
            let host = host_of(&self.providers, &spec.provider);
            match compile_rule(spec, host, Build::Now) {
                Ok(rule) => {
                    if let Some(index) = self.index.get_mut() {
                        index.insert(rule.id().to_string(), self.rules.len());
                    }
                    self.rules.push(rule);
                }
                Err(found) => problems.push(found.at(index)),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// True when `secret`, found by `rule`, is a documentation placeholder (see
    /// [`placeholder::is_placeholder`]): the rule's keywords, shape literals and provider's
    /// names are the fixed parts a placeholder keeps around its filler.
    pub fn is_placeholder(&self, rule: &Rule, secret: &[u8]) -> bool {
        let words = rule.parts().placeholder_words.get_or_init(|| {
            let mut parts = placeholder::fixed_parts(rule.spec(), self.provider(rule));
            let generated = rule.id() == crate::detect::variables::rule_id(rule.provider_key());
            if generated || rule.spec().fallback {
                // A provider's variable may hold another vendor's placeholder
                // (`HF_TOKEN=r8_YOUR_REPLICATE_API_TOKEN_HERE`), and a fallback rule any
                // vendor's (`API_TOKEN=hf_A1B2…`): every vendor's names count. A fallback
                // takes their token prefixes only: its own context words (`pass`) would hide a
                // password (`pass123`). Placeholder words are compared without case, so the
                // built-in rules' lowercased keyword table serves without decoding every rule.
                let keywords: Vec<String> = if self.is_builtin_only() {
                    prefilter::builtin_keywords().map(str::to_string).collect()
                } else {
                    let all = self
                        .rules
                        .iter()
                        .flat_map(|other| other.spec().keywords.iter());
                    all.cloned().collect()
                };
                let wanted = |k: &String| generated || is_token_prefix(k);
                parts.extend(keywords.into_iter().filter(wanted));
                if generated {
                    for provider in self.providers.values() {
                        parts.push(provider.name.clone());
                        parts.extend(provider.env_vars.iter().cloned());
                    }
                }
            } else {
                // Any token prefix of the provider's may open its placeholders: `sk-proj-` one
                // found by the older `sk-` rule (a generated or fallback rule has every vendor's
                // above). Prefixes only: a sibling's context word (`pass` of a PHP password
                // rule) would hide a password (`pass123`).
                for sibling in self.rules.iter() {
                    if sibling.provider_key() == rule.provider_key() && sibling.id() != rule.id() {
                        let keywords = sibling.spec().keywords.iter();
                        let prefixes = keywords.filter(|k| is_token_prefix(k));
                        parts.extend(prefixes.cloned());
                    }
                }
            }
            placeholder::BodyWords::new(&self.placeholders, parts)
        });
        let placeholder = |value: &[u8]| {
            placeholder::is_placeholder(
                value,
                rule.id(),
                &self.placeholders,
                words,
                &rule.spec().placeholders,
            )
        };
        if placeholder(secret) {
            return true;
        }
        if rule.id() != PASSWORD_LITERAL_RULE {
            return false;
        }
        if let Some(decoded) = placeholder::base64_text(secret) {
            let no_password = filter::check_filters(&decoded, &rule.spec().filters).is_err();
            return no_password || placeholder(&decoded);
        }
        placeholder::undo_digits_for_letters(secret).is_some_and(|plain| placeholder(&plain))
    }

    /// The provider a rule points at; validated at compile time.
    pub fn provider(&self, rule: &Rule) -> &Provider {
        &self.providers[rule.provider_key()]
    }
}

/// True for a keyword that opens a token (`sk-proj-`, `hf_`), not a context word (`pass`).
fn is_token_prefix(keyword: &str) -> bool {
    keyword.len() > 2 && keyword.ends_with(['-', '_'])
}

/// The API host of a provider, empty when the provider is unknown (reported elsewhere).
fn host_of(providers: &BTreeMap<String, Provider>, key: &str) -> String {
    providers
        .get(key)
        .map(|p| p.host.clone())
        .unwrap_or_default()
}

fn first_error(problems: Vec<Problem>, origin: &str) -> Error {
    let first = problems.into_iter().next().expect("errors are never empty");
    match first.rule_id {
        Some(id) => Error::Rule {
            id,
            message: first.message,
        },
        None => Error::Rules {
            path: origin.to_string(),
            message: first.message,
        },
    }
}

fn parse(text: &str, origin: &str) -> Result<RulesFile> {
    toml::from_str(text).map_err(|err| Error::Rules {
        path: origin.to_string(),
        message: toml_error_line(text, &err),
    })
}

/// Validates a rule; with [`Build::Now`] also builds its regex and context now, else they are
/// built on first use.
fn compile_rule(spec: RuleSpec, host: String, build: Build) -> std::result::Result<Rule, Problem> {
    let id = spec.id.clone();
    let fail = |message: &str| Err(Problem::of_rule(&id, message));
    if spec.id.is_empty()
        || !spec
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return fail("id must be lowercase letters, digits and '-'");
    }
    if spec.keywords.is_empty() || spec.keywords.iter().any(|k| k.len() < 2) {
        return fail("needs keywords of at least 2 bytes (they gate the regex)");
    }
    if spec.literals.iter().any(|l| {
        l.split('_')
            .any(|w| w.is_empty() || w.contains(['.', '-']) || w.to_ascii_lowercase() != w)
    }) {
        return fail("literals must be lowercase words joined by '_', without '.' or '-'");
    }
    // Only a verify spec read from a file is checked here: the built-in ones stay encoded
    // until `--verify` reads them, and `rules check` and the tests check them from the TOML.
    if let Some(Some(verify)) = spec.verify.if_decoded()
        && let Err(message) = check_verify(verify)
    {
        return fail(&message);
    }
    if let Some(ctx) = &spec.context {
        if ctx.keywords.is_empty() {
            return fail("context needs at least one keyword");
        }
        match (ctx.side, ctx.window, ctx.lines) {
            (Side::File, None, None) => {}
            (Side::File, _, _) => {
                return fail("context with side = \"file\" takes no window or lines");
            }
            (_, Some(_), Some(_)) => {
                return fail("context takes a window (bytes) or lines, not both");
            }
            (_, Some(0), _) | (_, None, None) => {
                return fail("context needs a window (bytes) > 0 or lines");
            }
            _ => {}
        }
    }
    let rule = Rule::new(spec, host);
    if build == Build::Now
        && let Err(message) = rule.build_now()
    {
        return fail(&message);
    }
    Ok(rule)
}

/// A live check may only send the secret over HTTPS, in a header or the body.
fn check_verify(verify: &VerifySpec) -> std::result::Result<(), String> {
    if !verify.url.starts_with("https://") {
        return Err(format!("verify url must be https: {}", verify.url));
    }
    if verify.url.contains('{') {
        return Err("verify url must not hold the secret or any template".to_string());
    }
    let carries_secret = |text: &str| text.contains("{secret}") || text.contains("{basic:");
    if !verify.headers.values().any(|v| carries_secret(v))
        && !verify.body.as_deref().is_some_and(carries_secret)
    {
        return Err("verify sends no {secret} in a header or the body".to_string());
    }
    if verify.live.is_empty() || verify.live.iter().any(|s| verify.invalid.contains(s)) {
        return Err("verify needs live statuses, none of them also invalid".to_string());
    }
    Ok(())
}

/// Builds a context automaton; `compile_rule` has already checked keywords and window.
/// The provider's API host counts as a context keyword too: a key next to the URL it is sent
/// to (`https://api.stability.ai/...`) names its service as surely as the word does.
fn compile_context(ctx: &ContextSpec, host: &str) -> std::result::Result<Context, String> {
    let window = context_window(ctx);
    let keywords = context_keywords(ctx, host);
    let keywords = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&keywords)
        .map_err(|err| format!("context keywords: {err}"))?;
    Ok(Context {
        keywords,
        window,
        side: ctx.side,
    })
}

/// How far from the secret a context keyword may sit.
pub(crate) fn context_window(ctx: &ContextSpec) -> Window {
    match (ctx.lines, ctx.window) {
        (Some(lines), _) => Window::Lines(lines),
        (None, window) => Window::Bytes(window.unwrap_or(0)),
    }
}

/// The context keywords: the spec's, and the provider's API host.
pub(crate) fn context_keywords<'a>(ctx: &'a ContextSpec, host: &'a str) -> Vec<&'a str> {
    let mut keywords: Vec<&str> = ctx.keywords.iter().map(String::as_str).collect();
    if !host.is_empty() && !keywords.contains(&host) {
        keywords.push(host);
    }
    keywords
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

    /// The word compare answers as `<[u8]>::starts_with` for words of every length up to 24
    /// bytes, with the text differing at each byte of the word in turn, or equal, or short.
    #[test]
    fn a_word_compare_answers_as_starts_with() {
        let text: Vec<u8> = (b'a'..=b'z').chain(b'0'..=b'9').collect();
        for length in 0..=24 {
            let word = &text[3..3 + length];
            for differ in (0..length).map(Some).chain([None]) {
                let mut other = text[3..].to_vec();
                if let Some(at) = differ {
                    other[at] = b'_';
                }
                for cut in [other.len(), length, length.saturating_sub(1)] {
                    let other = &other[..cut];
                    let expected = other.starts_with(word);
                    assert_eq!(
                        starts_with(other, word),
                        expected,
                        "{length} {differ:?} {cut}"
                    );
                }
            }
        }
    }

    /// A built-in rule that nothing wakes is its table entry and a few words: all 894 are
    /// made at every start, and the pages they fill are page faults (68 of a small commit's
    /// 326 when a rule held its lazily built parts inline). Using one rule builds its parts
    /// alone, and giving back idle caches builds none.
    #[test]
    fn a_rule_not_yet_used_is_small_and_holds_nothing_built() {
        assert!(
            size_of::<Rule>() <= 64,
            "a rule takes {} bytes",
            size_of::<Rule>()
        );
        let set = RuleSet::builtin().unwrap();
        let built = |set: &RuleSet| set.iter().filter(|rule| rule.parts.get().is_some()).count();
        assert_eq!(built(&set), 0);
        let _ = set.at(0).reads_escapes();
        set.iter().for_each(Rule::drop_idle_caches);
        assert_eq!(built(&set), 1);
    }

    #[test]
    fn rules_are_found_by_id_after_a_layer_adds_some() {
        let mut set = RuleSet::builtin().unwrap();
        let first = set.at(0).id().to_string();
        assert_eq!(set.position(&first), Some(0));
        let mut spec = set.at(0).spec().clone();
        spec.id = "my-own-rule".to_string();
        let count = set.len();
        set.extend(BTreeMap::new(), vec![spec.clone()]).unwrap();
        assert_eq!(set.get("my-own-rule").map(Rule::id), Some("my-own-rule"));
        assert_eq!(set.position("my-own-rule"), Some(count));
        assert!(set.get("no-such-rule").is_none());
        // The same id again is a problem of that rule, at its index among those given.
        let problems = set.extend(BTreeMap::new(), vec![spec]).unwrap_err();
        assert_eq!(problems[0].rule_id.as_deref(), Some("my-own-rule"));
        assert_eq!(problems[0].index, Some(0));
    }

    fn holds_literal(lower: &[u8], literal: &str) -> bool {
        LiteralGroup::of([literal])[0].in_whole(lower, 0)
    }

    #[test]
    fn literals_sharing_a_first_word_are_one_search_that_finds_each() {
        let groups = LiteralGroup::of(["openai_api_key", "openai_key", "openai(", "azure_openai"]);
        assert_eq!(groups.len(), 2, "openai (holding openai() and azure");
        let holds = |text: &str| groups.iter().any(|g| g.in_whole(text.as_bytes(), 0));
        for text in ["x openai_key=", "openai.api-key", "openai(", "azure-openai"] {
            assert!(holds(text), "{text}");
        }
        for text in ["openai_secret", "openai", "azure_key", ""] {
            assert!(!holds(text), "{text}");
        }
    }

    /// Each literal searched by its own first word, as before groups shared a search.
    fn holds_one_by_one(literals: &[String], lower: &[u8], value: usize) -> bool {
        literals.iter().any(|literal| {
            let mut words = literal.split('_').map(|w| w.as_bytes().to_vec());
            let first = words.next().unwrap();
            let rest: Vec<Vec<u8>> = words.collect();
            memchr::memmem::find_iter(lower, &first).any(|at| {
                words_follow(lower, at + first.len(), &rest).is_some_and(|end| {
                    value == 0 || value_follows(&lower[end..], value, literal.ends_with('('))
                })
            })
        })
    }

    /// Every built-in rule's literals, grouped, find what searching each literal on its own
    /// finds, in texts made of the rules' words, separators, parentheses, line breaks and
    /// values of 15 to 17 characters.
    #[test]
    fn grouped_literals_find_what_each_literal_finds() {
        let set = builtin();
        let mut random = crate::test_support::Xorshift::new(0x2545_f491_4f6c_dd1d);
        let mut next = move |bound: usize| random.below(bound);
        let (mut rules, mut held) = (0, 0);
        for rule in set.iter().filter(|rule| !rule.spec().literals.is_empty()) {
            let spec = rule.spec();
            let groups = LiteralGroup::of(spec.literals.iter().map(String::as_str));
            let mut pieces: Vec<String> = (spec.literals.iter())
                .flat_map(|literal| literal.split('_').map(String::from))
                .collect();
            pieces.extend(spec.literals.iter().cloned());
            for piece in ["_", ".", "-", "(", ")", "\n", " = ", "x", "a"] {
                pieces.push(piece.to_string());
            }
            for length in [15, 16, 17] {
                pieces.push("v".repeat(length));
            }
            rules += 1;
            for _ in 0..300 {
                let text: String = (0..next(12))
                    .map(|_| pieces[next(pieces.len())].as_str())
                    .collect();
                let lower = text.as_bytes();
                for value in [0, spec.value_after_literal] {
                    let expected = holds_one_by_one(&spec.literals, lower, value);
                    let got = groups.iter().any(|group| group.in_whole(lower, value));
                    assert_eq!(got, expected, "{} on {text:?}, value {value}", spec.id);
                    held += usize::from(expected);
                }
            }
        }
        assert!(
            rules > 200 && held > 20_000,
            "{rules} rules, {held} texts held one"
        );
    }

    #[test]
    fn a_first_word_holding_another_is_searched_by_it() {
        let groups = LiteralGroup::of([
            "hugging_face_hub_token",
            "huggingfacehub(",
            "hf_token",
            "hfapi(",
        ]);
        assert_eq!(groups.len(), 2, "hugging and hf");
        // Words that overlap themselves keep their own search.
        assert_eq!(anchor_offset(b"ab", b"abab"), None);
        assert_eq!(anchor_offset(b"ab", b"xabyab"), Some(1));
        assert_eq!(anchor_offset(b"aa", b"xaay"), None);
        assert_eq!(anchor_offset(b"open", b"chatopenai("), Some(4));
        assert_eq!(anchor_offset(b"open", b"opens"), Some(0));
        assert_eq!(anchor_offset(b"open", b"ope"), None);
    }

    #[test]
    fn literals_are_words_with_one_separator_or_none_between() {
        for text in [
            "anthropic_api_key=",
            "x anthropicapikey",
            "anthropic.api-key",
            "anthropic-api_key",
        ] {
            assert!(
                holds_literal(text.as_bytes(), "anthropic_api_key"),
                "{text}"
            );
        }
        for text in [
            "anthropic__api_key",
            "anthropic api key",
            "anthropic_api",
            "anthropic",
            "",
        ] {
            assert!(
                !holds_literal(text.as_bytes(), "anthropic_api_key"),
                "{text}"
            );
        }
        assert!(holds_literal(
            b"genai.configure(api_key=",
            "genai_configure("
        ));
        assert!(holds_literal(b"x = anthropic(", "anthropic("));
        assert!(!holds_literal(b"anthropic.", "anthropic("));
    }

    fn builtin() -> RuleSet {
        RuleSet::builtin().expect("built-in rules compile")
    }

    /// The first problem a full check finds, as text.
    fn first_problem(text: &str) -> String {
        match RuleSet::check_toml(text, "test.toml") {
            Err(err) => err.to_string(),
            Ok((_, problems)) => problems.first().expect("a problem").to_string(),
        }
    }

    #[test]
    fn embedded_binary_rules_equal_the_toml() {
        let mut from_binary = builtin();
        let from_toml = RuleSet::from_toml(BUILTIN_RULES, "t").unwrap();
        // The example lines are kept apart: put back, every rule's are there.
        for rule in &mut from_binary.rules {
            let id = rule.id().to_string();
            if let Some(examples) = &mut *rule.spec_mut().examples {
                assert!(examples.positive.is_empty() && examples.negative.is_empty());
                let (positive, negative) = builtin_example_lines(&id).expect("lines kept");
                examples.positive = positive.clone();
                examples.negative = negative.clone();
            }
        }
        let ids = |set: &RuleSet| {
            set.rules
                .iter()
                .map(|r| format!("{:?}", r.spec()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&from_binary), ids(&from_toml));
        assert_eq!(
            format!("{:?}", from_binary.providers),
            format!("{:?}", from_toml.providers)
        );
    }

    /// What build.rs wrote of each built-in rule (its table entry, its required run) is what
    /// the rule's spec says, and every rule's spec decodes.
    #[test]
    fn build_time_rule_table_agrees_with_each_spec() {
        let set = builtin();
        assert_eq!(set.len(), BUILTIN_RULE_TABLE.len());
        let counted = set.providers.count();
        assert!(
            set.providers.map.get().is_none(),
            "counted without decoding"
        );
        assert_eq!(counted, set.providers.len());
        let mut runs = 0;
        for rule in set.iter() {
            let entry = rule.builtin.expect("a built-in rule");
            let spec = rule.spec();
            assert_eq!(table_name(entry.id), spec.id);
            assert_eq!(table_name(entry.provider), spec.provider);
            assert_eq!(entry.has_context, spec.context.is_some(), "{}", spec.id);
            assert_eq!(
                table_name(entry.host),
                set.providers[&spec.provider].host,
                "{}",
                spec.id
            );
            let generated = spec.id == crate::detect::variables::rule_id(&spec.provider);
            assert_eq!(rule.variable_matcher().is_some(), generated, "{}", spec.id);
            let packed = entry.run.as_ref().map(RequiredRun::unpacked);
            assert_eq!(packed, RequiredRun::of(&spec.regex), "{}", spec.id);
            runs += usize::from(packed.is_some());
        }
        assert!(runs > 100, "{runs} rules with a required run");
    }

    #[test]
    fn every_builtin_regex_compiles_with_a_secret_group() {
        let (set, problems) = RuleSet::check_toml(BUILTIN_RULES, "built-in").unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(set.is_some());
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
            assert!(
                rule.spec().examples.is_some(),
                "{} needs examples",
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
            let err = first_problem(&text);
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
        let err = first_problem(&text);
        assert!(err.contains("replicate-api-token"), "{err}");
    }
}

#[cfg(test)]
mod windowed_search_tests {
    use super::*;
    use crate::detect::examples;
    use crate::detect::required_run::spans;

    /// Surroundings that put runs of every class near a token, other tokens next to it,
    /// non-ASCII characters at window edges and matches at both ends of the text.
    fn variants(text: &str, token: &str) -> Vec<String> {
        let hex = "0123456789abcdef".repeat(5);
        let alnum = "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0z".repeat(3);
        let runs = [
            hex.as_str(),
            alnum.as_str(),
            "é日本—ü",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ];
        let mut out = vec![
            text.to_string(),
            token.to_string(),
            format!("{text}{text}"),
            format!("{text} {text}\n{text}"),
            format!("{token}{token}"),
            format!("{token}\n{token} {token}"),
            format!("é{token}é"),
            format!("_{token}_"),
        ];
        for (i, run) in runs.iter().enumerate() {
            out.push(format!("{run}\n{text}\n{run}"));
            out.push(format!("{run}{text}{run}"));
            out.push(format!("{run} {token} {}", runs[(i + 1) % runs.len()]));
            out.push(format!("{text}\n{}\n{run}{token}", "y".repeat(300)));
        }
        out
    }

    /// For every built-in rule and every example of it, in every variant: the windowed search
    /// finds exactly the matches, with the same spans and secrets, that one search over the
    /// whole text finds.
    #[test]
    fn searching_around_runs_finds_what_the_whole_text_search_finds() {
        let set = RuleSet::builtin().unwrap();
        let mut windowed_rules = 0;
        let mut compared = 0;
        for rule in &set.rules {
            let run = RequiredRun::of(&rule.spec().regex);
            if run.as_ref().is_some_and(|run| run.has_reach()) {
                windowed_rules += 1;
            }
            // The reference: the regex crate's own search over the whole text.
            let reference = regex::bytes::Regex::new(&rule.spec().regex).unwrap();
            for (token, case) in examples::every_case(&set, rule) {
                for text in variants(&case.text, &token) {
                    let whole: Vec<regex::bytes::Captures<'_>> =
                        reference.captures_iter(text.as_bytes()).collect();
                    let windowed = rule.captures(text.as_bytes(), &mut ClassRuns::default(), None);
                    assert_eq!(
                        spans(&windowed),
                        spans(&whole),
                        "{} on {:?}",
                        rule.id(),
                        case.name
                    );
                    compared += whole.len();
                }
            }
        }
        assert!(
            windowed_rules > 40,
            "{windowed_rules} rules searched by window"
        );
        assert!(compared > 10_000, "{compared} matches compared");
    }
}
