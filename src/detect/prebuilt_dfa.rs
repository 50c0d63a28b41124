//! Run time, regex half of the built-in catalog: per built-in regex, the DFA build.rs
//! wrote as a table (build/dfa.rs, build/gate_table.rs), walked in place in the binary. Before a rule's regex is compiled,
//! its DFA says whether the regex can match in the regions it would search; a clean line that
//! names a provider (`HF_TOKEN_ENV = "HF_TOKEN"`) then compiles nothing, where compiling the
//! dozen regexes such lines wake cost four fifths of a small commit's time.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One DFA walked in place: loading it reads a header and validates nothing.
mod table;

/// A DFA read in place from [`DFAS`] (a table of states by byte class, build/gate_table.rs).
type Dfa = table::Table;

/// What says whether a built-in regex may match (see build/dfa.rs), and how much fuel its
/// walks have burned (see `GATE_BUDGET`).
#[derive(Debug)]
pub struct Gate {
    automata: Automata,
    burned: AtomicUsize,
}

/// One DFA, or, for the regexes whose one DFA was too large, pairs of DFAs reporting every
/// place a match's head ends and an anchored DFA of the rest, tried from each.
#[derive(Debug, Clone)]
enum Automata {
    Whole(Box<Dfa>),
    Split(Vec<Pair>),
}

impl Clone for Gate {
    fn clone(&self) -> Gate {
        Gate::of(self.automata.clone())
    }
}

impl Gate {
    fn of(automata: Automata) -> Gate {
        Gate {
            automata,
            burned: AtomicUsize::new(0),
        }
    }
}

/// Fuel one gate may burn (a unit per byte its walks step through, one per 32 they skip to
/// a literal or past a looping state: see `table::SKIPPED_PER_UNIT`) before the rule asks its
/// superset or compiles its regex instead. Counted in steps, not in bytes asked about: a gate
/// whose literals are rare reads a large first commit's megabytes for little, and the rules it
/// rules out compile nothing (large40: 49 of 104 compiled regexes never matched, and their
/// DFAs said so). A walk that steps through every byte costs some 40 instructions a byte, a
/// compile about 1.8 M: past 16 Ki steps compiling costs less. Twice what the `dense` case's
/// file takes; per gate, not per process, so that no thread race decides which rules compile.
const GATE_BUDGET: usize = if cfg!(test) { usize::MAX / 2 } else { 16 << 10 };

/// DFAs of a match's head, each reporting every place one ends, and the anchored DFA of the
/// rest of the match.
#[derive(Debug, Clone)]
pub struct Pair {
    heads: Vec<Dfa>,
    tail: Dfa,
}

/// [`GATE_BUDGET`], or what a test sets for the thread.
fn gate_budget() -> usize {
    #[cfg(test)]
    if let Some(budget) = TEST_GATE_BUDGET.get() {
        return budget;
    }
    GATE_BUDGET
}

#[cfg(test)]
thread_local! {
    /// A test's own [`GATE_BUDGET`] (tests scan thousands of texts with each gate).
    static TEST_GATE_BUDGET: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// The serialized DFAs, one after the other.
static DFAS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dfas.bin"));

/// Patterns and literals, named by byte range in the tables below.
static TEXTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dfa-texts.bin"));

/// A range of bytes in [`TEXTS`] or [`DFAS`], or of entries in another table.
type Span = (u32, u32);

/// Per pattern with a gate, sorted: the pattern (in [`TEXTS`]), whether its gate is one DFA,
/// and its pairs (in `PAIRS`). Per pair, its DFAs (in `PLACES`): the tail, then the heads. Per
/// DFA, its bytes (in [`DFAS`]) and the literals every match starts with (in `NEEDLES`, each a
/// span of [`TEXTS`]). Numbers only: pointers would be relocated at every start.
type Tables = (
    &'static [(Span, bool, Span)],
    &'static [Span],
    &'static [(u32, u32, Span)],
    &'static [Span],
);
const TABLES: Tables = include!(concat!(env!("OUT_DIR"), "/dfas.rs"));
const INDEX: &[(Span, bool, Span)] = TABLES.0;
const PAIRS: &[Span] = TABLES.1;
const PLACES: &[(u32, u32, Span)] = TABLES.2;
const NEEDLES: &[Span] = TABLES.3;

fn slice<T>(items: &'static [T], (start, end): Span) -> &'static [T] {
    &items[start as usize..end as usize]
}

/// The gate of `pattern`, when build.rs made one for it. Keyed by the pattern itself, not a
/// rule id: a user's rule with a built-in id but its own regex must never borrow the gate.
pub fn for_pattern(pattern: &str) -> Option<Gate> {
    let at = INDEX
        .binary_search_by(|&(known, _, _)| slice(TEXTS, known).cmp(pattern.as_bytes()))
        .ok()?;
    let (_, whole, pairs) = INDEX[at];
    // Written by build.rs with the same crate version in the same build, so they always
    // load; if one ever did not, the rule would compile its regex as before.
    let dfas =
        |&places: &Span| -> Option<Vec<Dfa>> { slice(PLACES, places).iter().map(load).collect() };
    let pairs = slice(PAIRS, pairs);
    if whole {
        return Some(Gate::of(Automata::Whole(Box::new(
            dfas(pairs.first()?)?.pop()?,
        ))));
    }
    let pairs = pairs.iter().map(|places| {
        let mut dfas = dfas(places)?.into_iter();
        let tail = dfas.next()?;
        Some(Pair {
            tail,
            heads: dfas.collect(),
        })
    });
    (pairs.collect::<Option<_>>()).map(|pairs| Gate::of(Automata::Split(pairs)))
}

/// One DFA, with its literals: the search skips to where they are.
fn load(&(start, end, needles): &(u32, u32, Span)) -> Option<Dfa> {
    let needles = (slice(NEEDLES, needles).iter())
        .map(|&span| slice(TEXTS, span))
        .collect();
    Dfa::new(slice(DFAS, (start, end)), needles)
}

/// Whether the regex behind `gate` may match in `haystack[from..]` (the bytes before `from`
/// count for `^` and word boundaries, as in `Regex::captures_at`), or `None` once the gate
/// has burned its `GATE_BUDGET` (the caller asks something else). A search that stops (it
/// cannot, with these DFAs, but the API allows it) answers "maybe", and so does one whose
/// table cannot be read.
pub fn may_match(gate: &Gate, haystack: &[u8], from: usize) -> Option<bool> {
    let left = gate_budget().saturating_sub(gate.burned.load(Ordering::Relaxed));
    if left == 0 {
        return None;
    }
    let fuel = Cell::new(left);
    let answer = match &gate.automata {
        Automata::Whole(dfa) => dfa.search(haystack, from, &fuel, |_| true) != Some(false),
        Automata::Split(pairs) => pairs.iter().any(|pair| {
            (pair.heads.iter()).any(|head| head_then_tail(head, &pair.tail, haystack, from, &fuel))
        }),
    };
    gate.burned.fetch_add(left - fuel.get(), Ordering::Relaxed);
    (fuel.get() > 0).then_some(answer)
}

/// Whether `tail` matches from some place where `head` ends a match in `haystack[from..]`.
fn head_then_tail(
    head: &Dfa,
    tail: &Dfa,
    haystack: &[u8],
    from: usize,
    fuel: &Cell<usize>,
) -> bool {
    let tail_matches = |end: usize| tail.search(haystack, end, fuel, |_| true) != Some(false);
    head.search(haystack, from, fuel, tail_matches) != Some(false)
}

/// How many built-in patterns have a DFA.
#[cfg(test)]
pub(crate) fn count() -> usize {
    INDEX.len()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::detect::examples;
    use crate::detect::required_run::{ClassRuns, spans};
    use crate::detect::rules::{Rule, RuleSet};
    use crate::detect::scanner::Scanner;

    fn builtin() -> RuleSet {
        RuleSet::builtin().expect("built-in rules compile")
    }

    /// The built-in rule `id`, cloned: a fresh one has compiled nothing.
    fn builtin_rule(id: &str) -> Rule {
        let set = builtin();
        let rule = set.iter().find(|rule| rule.id() == id);
        rule.expect("a built-in rule").clone()
    }

    /// A gate burns its fuel over the asks, then answers `None` (the rule asks its superset or
    /// compiles its regex), whatever the text, and so does a walk its fuel cut short; a copy
    /// starts afresh.
    #[test]
    fn a_gate_that_burned_its_fuel_answers_none() {
        TEST_GATE_BUDGET.set(Some(1000));
        let pattern = std::str::from_utf8(slice(TEXTS, INDEX[0].0)).unwrap();
        let gate = for_pattern(pattern).expect("an indexed pattern has a gate");
        let clean = vec![b' '; 600];
        let answers: Vec<_> = (0..1000).map(|_| may_match(&gate, &clean, 0)).collect();
        let spent = (answers.iter().position(Option::is_none)).expect("the fuel runs out");
        assert!(spent > 0, "the first ask is within the fuel");
        assert!(answers[..spent].iter().all(|&answer| answer == Some(false)));
        assert!(
            answers[spent..].iter().all(Option::is_none),
            "spent for good"
        );
        assert_eq!(
            may_match(&gate.clone(), &clean, 0),
            Some(false),
            "a copy reads afresh"
        );
        TEST_GATE_BUDGET.set(Some(1));
        assert_eq!(
            may_match(&gate.clone(), &clean, 0),
            None,
            "a walk cut short"
        );
        TEST_GATE_BUDGET.set(None);
    }

    /// Every built-in regex has a DFA that loads: build.rs left none out (a rule without one
    /// would compile its regex for every clean line that names its provider).
    #[test]
    fn every_builtin_regex_has_a_dfa_that_loads() {
        let set = builtin();
        let (generated, written): (Vec<_>, Vec<_>) = set
            .iter()
            .partition(|rule| rule.variable_matcher().is_some());
        let patterns: HashSet<&str> = (written.iter())
            .map(|rule| rule.spec().regex.as_str())
            .collect();
        assert_eq!(count(), patterns.len());
        for pattern in patterns {
            assert!(for_pattern(pattern).is_some(), "{pattern}");
        }
        // The generated credential-variable rules run their shared matcher instead.
        assert!(generated.len() > 200);
        for rule in generated {
            assert!(for_pattern(&rule.spec().regex).is_none(), "{}", rule.id());
        }
        assert!(for_pattern("(?i)a user's own [a-z]{20}").is_none());
    }

    /// The DFA never says "no" where the regex matches: on every example of every built-in
    /// rule (positives in every standard context, negatives), searched as the scanner does,
    /// through a rule whose regex is not compiled yet, the matches are the regex's own.
    #[test]
    fn the_dfa_never_rules_out_a_match() {
        let set = builtin();
        let reference = builtin();
        let (mut positives, mut ruled_out) = (0, 0);
        let written = |rule: &&Rule| rule.variable_matcher().is_none();
        for (rule, compiled) in set
            .iter()
            .filter(written)
            .zip(reference.iter().filter(written))
        {
            // One seed: every case compiles the regex again in a fresh copy of the rule.
            for seed in &examples::SEEDS[..1] {
                let Ok(sample) = examples::sample_for(&set, rule, *seed) else {
                    continue;
                };
                for case in examples::cases(&set, rule, &sample) {
                    let text = case.text.as_bytes();
                    let whole: Vec<_> = compiled.regex().captures_iter(text).collect();
                    // A copy of the rule as it is before any scan: the DFA decides.
                    let fresh = rule.clone();
                    let gated = fresh.captures(text, &mut ClassRuns::default(), None);
                    assert_eq!(spans(&gated), spans(&whole), "{} {}", rule.id(), case.name);
                    let gate = for_pattern(&rule.spec().regex).expect("a gate");
                    if case.positive {
                        assert_ne!(
                            may_match(&gate, text, 0),
                            Some(false),
                            "{} {}",
                            rule.id(),
                            case.name
                        );
                        positives += 1;
                    } else if !fresh.built().0 {
                        ruled_out += 1;
                    }
                }
            }
        }
        assert!(positives > 2_000, "{positives} positive examples");
        assert!(ruled_out > 100, "{ruled_out} negatives needed no regex");
    }

    /// The DFAs of some regexes only approximate them (a head, then an anchored tail from
    /// where it ends), and may say "maybe" where the regex's superset rules a match out: the
    /// superset then decides, and the regex is not compiled.
    #[test]
    fn a_superset_checks_an_approximate_maybe() {
        let rule = builtin_rule("jwt-signing-secret");
        let text = b"password = get_password()\n";
        let gate = for_pattern(&rule.spec().regex).expect("a gate");
        assert_eq!(may_match(&gate, text, 0), Some(true), "the DFA says maybe");
        assert!((rule.captures(text, &mut ClassRuns::default(), None)).is_empty());
        assert_eq!(
            rule.built(),
            (false, true),
            "asked the DFA, compiled nothing"
        );
    }

    /// A named key's gate reads its name, then the credential word after it: a text naming
    /// `FileIO` with no `key` or `token` after is ruled out, where the gate of the match's last
    /// parts alone (`: F` and a letter) said "maybe" and compiled the regex.
    #[test]
    fn a_named_key_gate_reads_the_word_after_the_name() {
        let rule = builtin_rule("fileio-named-key");
        let gate = for_pattern(&rule.spec().regex).expect("a gate");
        let text = b"        Returns:\n            `io.FileIO`: File-like object.\n";
        assert_eq!(may_match(&gate, text, 0), Some(false));
        let named = b"FILEIO_API_KEY = os.environ[\"FILEIO_API_KEY\"]\n";
        assert_ne!(may_match(&gate, named, 0), Some(false), "name, then key");
    }

    /// A named key's head skips to the first bytes of its name's spellings (`(?i:fileio)` has
    /// 64, too many for a prefilter; their first four bytes are 16): a megabyte that never names
    /// the provider costs a unit of fuel per [`table::SKIPPED_PER_UNIT`] bytes, not one per
    /// byte, and fits the gate's fuel (`GATE_BUDGET` outside tests).
    #[test]
    fn a_named_key_gate_skips_to_its_name() {
        TEST_GATE_BUDGET.set(Some(16 << 10));
        let rule = builtin_rule("fileio-named-key");
        let gate = for_pattern(&rule.spec().regex).expect("a gate");
        let text = "rows = open(path).read()  # the data, not its name\n".repeat(25_000);
        assert!(text.len() > 1 << 20);
        let answer = may_match(&gate, text.as_bytes(), 0);
        TEST_GATE_BUDGET.set(None);
        assert_eq!(answer, Some(false), "ruled out within 16 Ki units of fuel");
    }

    /// The named keys' gates share their tails (the same gap and credential words after the
    /// name): build.rs writes equal tables once.
    #[test]
    fn equal_tails_are_written_once() {
        let tail = |id: &str| {
            let pattern = builtin_rule(id).spec().regex.clone();
            let at = INDEX
                .binary_search_by(|&(known, _, _)| slice(TEXTS, known).cmp(pattern.as_bytes()))
                .expect("a gate");
            let (_, whole, pairs) = INDEX[at];
            assert!(!whole, "{id}: a head and a tail");
            let (start, end, _) = slice(PLACES, slice(PAIRS, pairs)[0])[0];
            (start, end)
        };
        assert_eq!(tail("spotify-named-key"), tail("toggltrack-named-key"));
    }

    /// Clean lines of real ML code that name providers and their variables (the bench's dense
    /// small change, in replicate-python's client) wake many rules, and compile none of their
    /// regexes.
    #[test]
    fn a_clean_line_that_names_providers_compiles_no_regex() {
        let lines = [
            "HF_TOKEN_ENV = \"HF_TOKEN\"",
            "ANTHROPIC_KEY_VAR = \"ANTHROPIC_API_KEY\"",
            "OPENAI_KEY_VAR = \"OPENAI_API_KEY\"",
            "api_token = os.environ.get(\"REPLICATE_API_TOKEN\", \"\")",
            "hf_token = os.getenv(HF_TOKEN_ENV)",
            "anthropic_key = os.environ[ANTHROPIC_KEY_VAR]",
            "openai_api_key = os.environ.get(\"OPENAI_API_KEY\")",
            "headers = {\"Authorization\": f\"Bearer {api_key}\"}",
            "wandb_key = os.environ.get(\"WANDB_API_KEY\", None)",
            "groq_key = os.getenv(\"GROQ_API_KEY\")",
            "mistral_key = os.getenv(\"MISTRAL_API_KEY\")",
            "together_key = os.environ.get(\"TOGETHER_API_KEY\")",
            "cohere_key = os.environ.get(\"CO_API_KEY\")",
            "google_key = os.environ.get(\"GOOGLE_API_KEY\")",
            // The generic api_token rule's gate said "maybe" here until its tail could count
            // the value's 20 characters (build/dfa.rs, TAIL_SIZE_LIMIT).
            "client = replicate.Client(api_token=api_token)",
            "hf_client = InferenceClient(token=hf_token)",
            "llm = Anthropic(api_key=anthropic_key)",
            "chat = OpenAI(api_key=openai_api_key)",
            "if not api_token:",
            "    raise ValueError(\"set REPLICATE_API_TOKEN or pass api_token\")",
        ];
        let content = lines.join("\n") + "\n";
        let scanner = Scanner::new(builtin());
        let candidates = scanner.candidates(content.as_bytes());
        let hits = scanner.hits(content.as_bytes(), candidates);
        assert!(hits.is_empty());
        // A generated credential-variable rule asks its shared matcher instead of a DFA.
        let asked: Vec<&str> = (scanner.rules().iter())
            .filter(|rule| rule.built().1 || rule.matcher_asked())
            .map(|rule| rule.id())
            .collect();
        let compiled: Vec<&str> = (scanner.rules().iter())
            .filter(|rule| rule.built().0)
            .map(|rule| rule.id())
            .collect();
        assert!(asked.len() >= 3, "DFAs asked: {asked:?}");
        assert_eq!(compiled, Vec::<&str>::new());
    }
}
