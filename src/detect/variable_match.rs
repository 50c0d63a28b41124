//! The generated credential-variable rules' matcher (their regexes are built in
//! `variables.rs`): one walk of the shape every such regex has (a provider's variable name, an
//! assignment, a value; a `--flag` and a value; an SDK call with a quoted value), driven by
//! the rule's names and calls from a build-time table, instead of a regex compiled per
//! provider. Compiling those regexes was most of a small commit's time when its lines named
//! providers, and a large commit compiled most of the 239, 12 MB with their caches.
//!
//! It finds what the rule's regex finds, match for match: the regex crate's leftmost-first
//! matches are those of a backtracking search, so each piece below lists where it may end in
//! the order the regex tries them, and the search takes, from the leftmost place a match can
//! start, the first combination that reaches a value. A text holding a character that
//! case-folds to an ASCII letter (the Kelvin sign, the long s) is left to the regex.

use std::cell::LazyCell;
use std::ops::Range;

use memchr::memmem;

use crate::detect::prefilter::{Walked, WordPlaces};
use crate::detect::variables::{DISTINCT_WORD, SdkArg};

/// One generated rule's alternatives, in its regex's order.
#[derive(Debug, Clone)]
pub struct VariableMatcher {
    /// `(?i:NAME|NAME..)` then an assignment: each name's words (lowercase) and whether it
    /// needs a line start or a non-alphanumeric character before it.
    names: Vec<Name>,
    /// The first words of `names`, each once: where a name can start.
    first_words: Vec<Vec<u8>>,
    /// The SDK calls, after the names and their `--flag` forms.
    calls: Vec<SdkArg>,
}

#[derive(Debug, Clone)]
struct Name {
    words: Vec<Vec<u8>>,
    short: bool,
}

/// The shortest and longest value, `{16,256}` in `variables::VALUE`.
const VALUE_MIN: usize = 16;
const VALUE_MAX: usize = 256;

/// A match: the secret (the regex's group 1) and where the whole match ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Found {
    secret: (usize, usize),
    end: usize,
}

/// Non-ASCII characters that `(?i)` makes equal to an ASCII letter: the Kelvin sign (`k`)
/// and the long s (`s`). Texts with one go to the regex.
const FOLDS_TO_ASCII: [&str; 2] = ["\u{212A}", "\u{17F}"];

impl VariableMatcher {
    /// The matcher of the rule generated from these names and SDK arguments (as
    /// `variables::rule_for` reads them); `None` if a name has no word.
    pub fn new(names: &[String], sdk_args: &[String]) -> Option<VariableMatcher> {
        let names: Vec<Name> = (names.iter())
            .map(|name| Name {
                words: (name.split('_'))
                    .filter(|part| !part.is_empty())
                    .map(|part| part.to_ascii_lowercase().into_bytes())
                    .collect(),
                short: name.split('_').next().unwrap_or_default().len() < DISTINCT_WORD,
            })
            .collect();
        if names.iter().any(|name| name.words.is_empty()) {
            return None;
        }
        let mut first_words: Vec<Vec<u8>> = names.iter().map(|n| n.words[0].clone()).collect();
        first_words.sort();
        first_words.dedup();
        let calls = sdk_args.iter().filter_map(|a| SdkArg::parse(a)).collect();
        Some(VariableMatcher {
            names,
            first_words,
            calls,
        })
    }

    /// Whether [`VariableMatcher::secrets`] answers for `text`: not when a character that
    /// case-folds to an ASCII letter could spell a name.
    pub fn answers_for(text: &[u8]) -> bool {
        FOLDS_TO_ASCII
            .iter()
            .all(|fold| memmem::find(text, fold.as_bytes()).is_none())
    }

    /// The secrets of the rule's matches in `text` (`lower`: the same text ASCII-lowercased,
    /// asked for only when a name's first word must be searched), in order: what the regex's
    /// `captures_iter` gives as group 1. `walked`, when the prefilter walked `text`: where
    /// the first words that are keywords are.
    pub fn secrets<'l>(
        &self,
        text: &[u8],
        lower: impl FnOnce() -> &'l [u8],
        walked: Option<Walked>,
    ) -> Vec<Range<usize>> {
        let starts = self.starts(text, &LazyCell::new(lower), walked);
        let mut found = Vec::new();
        let mut from = 0;
        for start in starts {
            if start < from {
                continue;
            }
            if let Some(Found { secret, end }) = self.match_at(text, start) {
                found.push(secret.0..secret.1);
                from = end;
            }
        }
        found
    }

    /// Every place a match may start, sorted: each name's first word, the character before
    /// it (a short name's) and a `--` before it (a flag's), and each call. A first word the
    /// walk saw is taken at the places it saw it (every one, overlaps included, as
    /// [`find_all`] finds them); others are searched in `lower`.
    fn starts<'l>(
        &self,
        text: &[u8],
        lower: &LazyCell<&'l [u8], impl FnOnce() -> &'l [u8]>,
        walked: Option<Walked>,
    ) -> Vec<usize> {
        let mut starts = Vec::new();
        let mut start_at = |at: usize| {
            starts.push(at);
            if let Some(before) = char_before(text, at) {
                starts.push(at - before.len());
            }
            // A flag's first word is its name's.
            if at >= 2 && &text[at - 2..at] == b"--" {
                starts.push(at - 2);
            }
        };
        for word in &self.first_words {
            let places = walked.map_or(WordPlaces::Within(0..text.len()), |walked| {
                walked.places(text, word)
            });
            match places {
                WordPlaces::Nowhere => {}
                // A copy with escapes masked may lack a place the text has.
                WordPlaces::EndingAt(ends) => (ends.iter())
                    .map(|end| end - word.len())
                    .filter(|&at| word_at(text, at, word).is_some())
                    .for_each(&mut start_at),
                WordPlaces::Within(within) => (find_all(&lower[within.clone()], word))
                    .map(|at| within.start + at)
                    .for_each(&mut start_at),
            }
        }
        for call in &self.calls {
            starts.extend(find_all(text, call.call.as_bytes()));
        }
        starts.sort_unstable();
        starts.dedup();
        starts
    }

    /// The match starting at `start`, trying the regex's alternatives in its order.
    fn match_at(&self, text: &[u8], start: usize) -> Option<Found> {
        self.names
            .iter()
            .find_map(|name| name_then_assignment(text, start, name))
            .or_else(|| {
                (self.names.iter()).find_map(|name| flag_then_value(text, start, &name.words))
            })
            .or_else(|| {
                self.calls
                    .iter()
                    .find_map(|call| call_at(text, start, call))
            })
    }
}

/// `(?:(?m:^)|[^A-Za-z0-9])` for a short name, then the name's words with `[_.-]?` between
/// them, case-insensitively (ASCII), then an assignment and a value.
fn name_then_assignment(text: &[u8], start: usize, name: &Name) -> Option<Found> {
    let from_line_start = || {
        let line_start = start == 0 || text[start - 1] == b'\n';
        line_start.then(|| name_at(text, start, name)).flatten()
    };
    let after_other = || {
        let before = char_at(text, start).filter(|c| !is_ascii_alnum(c))?;
        name_at(text, start + before.len(), name)
    };
    if name.short {
        from_line_start().or_else(after_other)
    } else {
        name_at(text, start, name)
    }
}

/// The name's words from `at`, with `[_.-]?` between them, then an assignment and a value.
fn name_at(text: &[u8], at: usize, name: &Name) -> Option<Found> {
    let mut at = word_at(text, at, &name.words[0])?;
    for word in &name.words[1..] {
        if text
            .get(at)
            .is_some_and(|b| matches!(b, b'_' | b'.' | b'-'))
        {
            at += 1;
        }
        at = word_at(text, at, word)?;
    }
    assignment_then_value(text, at)
}

/// Where `word` (lowercase) ends if it is at `at`, in any case.
fn word_at(text: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    let end = at + word.len();
    (text.get(at..end)?.eq_ignore_ascii_case(word)).then_some(end)
}

/// `variables::ASSIGNMENT` then `VALUE`, from `at`: the first combination of the pieces'
/// places, in the regex's order, that reaches a value.
///
/// `(?:\\?["'])?\]?[ \t]*(?:OPERATOR)[ \t]*(?:\\?["'`])?`, where a greedy `[ \t]*` is
/// followed by pieces that cannot start with a blank (so only its longest run counts),
/// except before the last operator, `[ \t]+[A-Za-z]{1,12}[ \t]*=`, which takes the blanks
/// it leaves, all of them whatever it left.
fn assignment_then_value(text: &[u8], at: usize) -> Option<Found> {
    for quoted in optional_quote(text, at, b"\"'", true) {
        for bracket in optional_byte(text, quoted, b']') {
            let blanks = blanks_end(text, bracket);
            let operators = operator_ends(text, blanks).chain(
                (blanks > bracket)
                    .then(|| spelled_type_end(text, blanks - 1))
                    .flatten(),
            );
            for operator in operators {
                let blanks = blanks_end(text, operator);
                for quote in optional_quote(text, blanks, b"\"'`", true) {
                    if let Some(found) = value_at(text, quote) {
                        return Some(found);
                    }
                }
            }
        }
    }
    None
}

/// The operators that begin with a symbol, in the regex's order, each where it ends:
/// `:[ \t]*[&'A-Za-z_<>]{1,24}[ \t]*=` (a typed declaration), `:=`, `=>`, `=`, `:`, `,`.
fn operator_ends(text: &[u8], at: usize) -> impl Iterator<Item = usize> + '_ {
    let typed = || {
        if text.get(at) != Some(&b':') {
            return None;
        }
        let type_start = blanks_end(text, at + 1);
        let type_end = run_end(text, type_start, |b| {
            b.is_ascii_alphabetic() || matches!(b, b'&' | b'\'' | b'_' | b'<' | b'>')
        });
        if !(1..=24).contains(&(type_end - type_start)) {
            return None;
        }
        let equals = blanks_end(text, type_end);
        (text.get(equals) == Some(&b'=')).then_some(equals + 1)
    };
    let literal = move |op: &'static [u8]| text[at..].starts_with(op).then_some(at + op.len());
    [
        typed(),
        literal(b":="),
        literal(b"=>"),
        literal(b"="),
        literal(b":"),
        literal(b","),
    ]
    .into_iter()
    .flatten()
}

/// `[ \t]+[A-Za-z]{1,12}[ \t]*=` from `at` (a blank): where it ends.
fn spelled_type_end(text: &[u8], at: usize) -> Option<usize> {
    let word_start = blanks_end(text, at);
    if word_start == at {
        return None;
    }
    let word_end = run_end(text, word_start, |b| b.is_ascii_alphabetic());
    if !(1..=12).contains(&(word_end - word_start)) {
        return None;
    }
    let equals = blanks_end(text, word_end);
    (text.get(equals) == Some(&b'=')).then_some(equals + 1)
}

/// `(?i:--FLAG)(?:=|[ \t]+)(?:["'])?` then a value, the flag's words joined by `[_-]`.
fn flag_then_value(text: &[u8], start: usize, words: &[Vec<u8>]) -> Option<Found> {
    if !text[start..].starts_with(b"--") {
        return None;
    }
    let mut at = word_at(text, start + 2, &words[0])?;
    for word in &words[1..] {
        if !text.get(at).is_some_and(|b| matches!(b, b'_' | b'-')) {
            return None;
        }
        at = word_at(text, at + 1, word)?;
    }
    let separated = if text.get(at) == Some(&b'=') {
        at + 1
    } else {
        let blanks = blanks_end(text, at);
        (blanks > at).then_some(blanks)?
    };
    optional_quote(text, separated, b"\"'", false)
        .into_iter()
        .find_map(|quote| value_at(text, quote))
}

/// An SDK call at `start` (`variables::SdkArg::pattern`), then a value.
fn call_at(text: &[u8], start: usize, call: &SdkArg) -> Option<Found> {
    if !word_boundary(text, start) || !text[start..].starts_with(call.call.as_bytes()) {
        return None;
    }
    let after = start + call.call.len();
    match call.operator {
        // `CALL[ \t]*=[ \t]*["'`]`
        '.' => {
            let equals = blanks_end(text, after);
            if text.get(equals) != Some(&b'=') {
                return None;
            }
            quoted_value(text, blanks_end(text, equals + 1))
        }
        // `CALL\([ \t\r\n]*["'`]`
        '(' => {
            if text.get(after) != Some(&b'(') {
                return None;
            }
            let quote = run_end(text, after + 1, |b| {
                matches!(b, b' ' | b'\t' | b'\r' | b'\n')
            });
            quoted_value(text, quote)
        }
        // `CALL\([ \t\r\n]*\{?[^()]*?\bARG[ \t]*OP[ \t]*["'`]`: the first place in the
        // parentheses where the argument is written with a literal.
        operator => {
            if text.get(after) != Some(&b'(') {
                return None;
            }
            let inside = after + 1;
            let end =
                memchr::memchr2(b'(', b')', &text[inside..]).map_or(text.len(), |i| inside + i);
            let argument = call.argument.as_bytes();
            let limit = (end + argument.len()).min(text.len());
            find_all(&text[inside..limit], argument)
                .map(|i| inside + i)
                .filter(|&at| word_boundary(text, at))
                .find_map(|at| {
                    let op = blanks_end(text, at + argument.len());
                    if text.get(op) != Some(&(operator as u8)) {
                        return None;
                    }
                    quoted_value(text, blanks_end(text, op + 1))
                })
        }
    }
}

/// `["'`]` at `at`, then a value.
fn quoted_value(text: &[u8], at: usize) -> Option<Found> {
    if !text
        .get(at)
        .is_some_and(|b| matches!(b, b'"' | b'\'' | b'`'))
    {
        return None;
    }
    value_at(text, at + 1)
}

/// `variables::VALUE` at `at`: 16 to 256 of `[A-Za-z0-9_\-.+=]`, all of the run (a shorter
/// one would be followed by another value byte), then one of `\ " ' `` , ; # } ) ]`, any
/// Unicode space, or the end of the text.
fn value_at(text: &[u8], at: usize) -> Option<Found> {
    // Counted no further than one past the longest value: a text of `hf_token=` repeated
    // would otherwise count its whole length again at every name.
    let longest = text.len().min(at + VALUE_MAX + 1);
    let end = run_end(&text[..longest], at, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b'=')
    });
    if !(VALUE_MIN..=VALUE_MAX).contains(&(end - at)) {
        return None;
    }
    let secret = (at, end);
    if end == text.len() {
        return Some(Found { secret, end });
    }
    let after = if matches!(
        text[end],
        b'\\' | b'"' | b'\'' | b'`' | b',' | b';' | b'#' | b'}' | b')' | b']'
    ) {
        1
    } else {
        unicode_space_at(text, end)?
    };
    Some(Found {
        secret,
        end: end + after,
    })
}

/// The places an optional `\\?[QUOTES]` may end at `at`, in the regex's order (`[QUOTES]`
/// alone where `escaped` is false).
fn optional_quote(text: &[u8], at: usize, quotes: &[u8], escaped: bool) -> Vec<usize> {
    let is_quote = |i: usize| text.get(i).is_some_and(|b| quotes.contains(b));
    if escaped && text.get(at) == Some(&b'\\') && is_quote(at + 1) {
        vec![at + 2, at]
    } else if is_quote(at) {
        vec![at + 1, at]
    } else {
        vec![at]
    }
}

/// The places an optional `byte` may end at `at`, in the regex's order.
fn optional_byte(text: &[u8], at: usize, byte: u8) -> Vec<usize> {
    if text.get(at) == Some(&byte) {
        vec![at + 1, at]
    } else {
        vec![at]
    }
}

/// Every place `needle` starts in `haystack`, overlapping ones too, in order.
pub(crate) fn find_all<'h>(haystack: &'h [u8], needle: &[u8]) -> impl Iterator<Item = usize> + 'h {
    let finder = memmem::Finder::new(needle).into_owned();
    let mut from = 0;
    std::iter::from_fn(move || {
        let at = from + finder.find(haystack.get(from..)?)?;
        from = at + 1;
        Some(at)
    })
}

/// Where the run of blanks (`[ \t]`) from `at` ends.
fn blanks_end(text: &[u8], at: usize) -> usize {
    run_end(text, at, |b| b == b' ' || b == b'\t')
}

/// Where the run of bytes that `member` accepts, from `at`, ends.
fn run_end(text: &[u8], at: usize, member: impl Fn(u8) -> bool) -> usize {
    at + text
        .get(at..)
        .map_or(0, |rest| rest.iter().take_while(|&&b| member(b)).count())
}

/// `(?-u:\b)` at `at`: an ASCII word byte on one side only.
fn word_boundary(text: &[u8], at: usize) -> bool {
    let word = |i: Option<&u8>| i.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    word(at.checked_sub(1).and_then(|i| text.get(i))) != word(text.get(at))
}

fn is_ascii_alnum(c: &&str) -> bool {
    c.len() == 1 && c.as_bytes()[0].is_ascii_alphanumeric()
}

/// The character (valid UTF-8) that starts at `at`, if one does.
fn char_at(text: &[u8], at: usize) -> Option<&str> {
    let lead = *text.get(at)?;
    let len = match lead {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => return None,
    };
    std::str::from_utf8(text.get(at..at + len)?).ok()
}

/// The character (valid UTF-8) that ends at `at`, if one does.
fn char_before(text: &[u8], at: usize) -> Option<&str> {
    (1..=4.min(at)).find_map(|len| char_at(text, at - len).filter(|c| c.len() == len))
}

/// The length of the Unicode space (`\s`: the White_Space property) at `at`, if one is.
fn unicode_space_at(text: &[u8], at: usize) -> Option<usize> {
    let c = char_at(text, at)?.chars().next()?;
    c.is_whitespace().then_some(c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::examples;
    use crate::detect::lines::AddedLines;
    use crate::detect::prefilter::Prefilter;
    use crate::detect::required_run::ClassRuns;
    use crate::detect::rules::{BUILTIN_RULES, Rule, RuleSet};
    use crate::detect::scanner::Scanner;

    /// Lines around a provider's names and calls that the regexes' corners decide: names
    /// inside longer words, references, placeholders, every assignment syntax, quotes and
    /// escapes, flags, values too short or too long, terminators (Unicode spaces too), two
    /// matches in a row, and a Kelvin sign spelling a name.
    fn tricky_lines(names: &[String], calls: &[SdkArg], token: &str) -> Vec<Vec<u8>> {
        let mut lines: Vec<String> = Vec::new();
        let long = token.repeat(10);
        for name in names {
            let lower = name.to_ascii_lowercase();
            let dotted = lower.replace('_', ".");
            let joined = lower.replace('_', "");
            let flag = lower.replace('_', "-");
            lines.extend([
                format!("SHELF{name}={token}"),
                format!("SHELF_{name}={token}"),
                format!("DECO{name} = \"{token}\""),
                format!("{name}_FILE={token}"),
                format!("os.environ[\"{name}\"] = \"{token}\""),
                format!("os.environ[\"{name}\"]"),
                format!("{name}=${{{name}}}"),
                format!("{name}=${{{token}}}"),
                format!("{name}=your_api_key_here_1234567890"),
                format!("{name}=\"{token}\", {name}='{token}'"),
                format!("{name}={token},{name}={token}"),
                format!("{name}={token}\n{name}={token}"),
                format!("{name}={token}{name}={token}"),
                format!("{name}: str = \"{token}\""),
                format!("{name}: Option<&'static str> = \"{token}\""),
                format!("{name}: abc={token}"),
                format!("{name} := \"{token}\""),
                format!("{name} => '{token}'"),
                format!("var {name} string = \"{token}\""),
                format!("{name}  string={token}"),
                format!("{name}\tabcdefghijklm = {token}"),
                format!("{name} \t , {token}"),
                format!("key = os.getenv(\"{name}\", \"{token}\")"),
                format!("{{\\\"{name}\\\": \\\"{token}\\\"}}"),
                format!("[\"{name}\"] = `{token}`"),
                format!("{name}]={token}"),
                format!("{dotted} = \"{token}\""),
                format!("{joined}:{token};"),
                format!("x{lower}={token}#"),
                format!("é{name}={token}}}"),
                format!("\u{a0}{name}={token}\u{a0}"),
                format!("{name}={token}\u{2028}"),
                format!("{name}={token}\u{3000}x"),
                format!("{name}={token}\u{85}"),
                format!("{name}={token}("),
                format!("{name}={long}"),
                format!("{name}={}", &long[..256]),
                format!("{name}={}", &token[..15]),
                format!("{name}={}", &token[..16]),
                format!("--{flag}={token}"),
                format!("---{flag} \"{token}\""),
                format!("--{flag}\t'{token}'"),
                format!("--{lower} \\\"{token}\\\""),
                format!("--{flag}-path {token}"),
                format!("{}={token}", name.replace('K', "\u{212A}")),
                format!("{}={token}\n{name}={token}", name.replace('S', "\u{17F}")),
            ]);
        }
        for call in calls {
            let (c, a) = (&call.call, &call.argument);
            lines.extend([
                format!("{c}(\"{token}\")"),
                format!("{c}(\n  '{token}')"),
                format!("{c} = \"{token}\""),
                format!("{c}\t=\t`{token}`"),
                format!("{c} == \"{token}\""),
                format!("{c}(x=1,\n  {a} = \"{token}\")"),
                format!("{c}({{ {a}: '{token}' }})"),
                format!("{c}(other({a}=\"{token}\"))"),
                format!("{c}(my{a}=\"{token}\", {a}=\"{token}\")"),
                format!("{c}({a}={token})"),
                format!("x{c}({a}=\"{token}\")"),
                format!("{c}({a}=\"{token}\"{c}({a}=\"{token}\")"),
            ]);
        }
        let mut bytes: Vec<Vec<u8>> = lines.into_iter().map(String::into_bytes).collect();
        if let Some(name) = names.first() {
            bytes.push([b"\xff", name.as_bytes(), b"=", token.as_bytes()].concat());
            bytes.push([b"\xe2\x82", name.as_bytes(), b"=", token.as_bytes()].concat());
            bytes.push([name.as_bytes(), b"=", token.as_bytes(), b"\xe2\x80"].concat());
        }
        bytes
    }

    /// The secrets of `rule`'s regex in `text`, searched over the whole text.
    fn regex_secrets(rule: &Rule, text: &[u8]) -> Vec<Range<usize>> {
        (rule.regex().captures_iter(text))
            .filter_map(|caps| caps.get(1))
            .map(|secret| secret.range())
            .collect()
    }

    /// A generated rule's texts: its examples and the tricky lines, for a token per seed.
    fn texts_of(set: &RuleSet, rule: &Rule, seeds: &[u64]) -> Vec<Vec<u8>> {
        let provider = set.provider(rule);
        let names: Vec<String> = (provider.env_vars.iter())
            .chain(provider.variables.iter())
            .cloned()
            .collect();
        let calls: Vec<SdkArg> = (provider.sdk_args.iter())
            .filter_map(|a| SdkArg::parse(a))
            .collect();
        let mut texts = Vec::new();
        for &seed in seeds {
            let sample = examples::sample_for(set, rule, seed).expect("a sample");
            for case in examples::cases(set, rule, &sample) {
                texts.push(case.text.into_bytes());
            }
            texts.extend(tricky_lines(&names, &calls, &sample.token));
        }
        texts
    }

    /// For every generated rule, on its examples and the tricky lines, one by one and all
    /// of every rule's together: the shared matcher finds the secrets the rule's regex finds,
    /// and so does the scan's way of asking a rule ([`Rule::secrets`]).
    #[test]
    fn the_shared_matcher_finds_what_each_generated_regex_finds() {
        let set = RuleSet::builtin().unwrap();
        let generated: Vec<&Rule> = (set.iter())
            .filter(|rule| rule.variable_matcher().is_some())
            .collect();
        assert_eq!(
            generated.len(),
            crate::detect::variables::generate(&set.providers).len()
        );
        let (mut all, mut compared, mut found, mut masked_texts) = (Vec::new(), 0, 0, 0);
        let prefilter = Prefilter::of(&set).walking();
        let mut compare = |rule: &Rule, text: &[u8]| {
            let expected = regex_secrets(rule, text);
            let lower = text.to_ascii_lowercase();
            if VariableMatcher::answers_for(text) {
                let matcher = rule.variable_matcher().unwrap();
                let shared = matcher.secrets(text, || &lower, None);
                assert_eq!(
                    shared,
                    expected,
                    "{} on {:?}",
                    rule.id(),
                    text.escape_ascii()
                );
                compared += 1;
                found += expected.len();
            }
            let scanned = rule.secrets(text, || &lower, &mut ClassRuns::default(), None);
            assert_eq!(
                scanned,
                expected,
                "{} on {:?}",
                rule.id(),
                text.escape_ascii()
            );
            // Where the walk saw the names' first words, the text is not searched for them;
            // its copy with escapes masked is walked as the text.
            let seen = prefilter.candidates_and_words(text).1.expect("walked");
            let walked = Some(Walked::new(&prefilter, &seen));
            let mut runs = ClassRuns::default();
            let narrowed = rule.secrets(text, || &lower, &mut runs, walked);
            assert_eq!(narrowed, expected, "{} walked", rule.id());
            // A backslash before each line: a name opening with `n`, `t`, `r` or `u` loses its
            // first letter to the escape in the masked copy, where the walk still saw it.
            let escaped: Vec<u8> = std::iter::once(b'\\')
                .chain(text.iter().flat_map(|&b| match b {
                    b'\n' => vec![b, b'\\'],
                    _ => vec![b],
                }))
                .collect();
            let masked = crate::detect::decode::mask_escapes(&escaped);
            if masked != escaped {
                let seen = prefilter.candidates_and_words(&escaped).1.expect("walked");
                let walked = Some(Walked::new(&prefilter, &seen));
                let lower = masked.to_ascii_lowercase();
                let narrowed = rule.secrets(&masked, || &lower, &mut runs, walked);
                assert_eq!(
                    narrowed,
                    regex_secrets(rule, &masked),
                    "{} masked",
                    rule.id()
                );
                masked_texts += 1;
            }
        };
        for rule in &generated {
            let texts = texts_of(&set, rule, &examples::SEEDS);
            for text in &texts {
                compare(rule, text);
            }
            all.extend(texts);
        }
        let everything = all.join(&b"\n"[..]);
        for rule in &generated {
            compare(rule, &everything);
        }
        assert!(compared > 50_000, "{compared} texts compared");
        assert!(found > 50_000, "{found} secrets compared");
        assert!(masked_texts > 100, "{masked_texts} masked texts compared");
    }

    /// The scan with the shared matcher reports what the scan with the generated regexes
    /// reports (the same rules read from the TOML have no build-time table, so they run their
    /// regexes), on each generated rule's texts: same rules, places, fingerprints, messages.
    #[test]
    fn scans_with_the_matcher_and_with_the_regexes_report_the_same() {
        let builtin = Scanner::new(RuleSet::builtin().unwrap());
        let from_toml = Scanner::new(RuleSet::from_toml(BUILTIN_RULES, "t").unwrap());
        assert!((from_toml.rules().iter()).all(|rule| rule.variable_matcher().is_none()));
        let findings = |scanner: &Scanner, text: &[u8]| {
            let candidates = scanner.candidates(text);
            let scan = scanner.scan("f.py", text, &AddedLines::All, candidates);
            format!("{:?} {:?}", scan.matches, scan.suppressed)
        };
        let mut reported = 0;
        let rules = builtin.rules();
        for rule in rules.iter().filter(|r| r.variable_matcher().is_some()) {
            // One token: the scan is slower than the matcher alone.
            let text = texts_of(rules, rule, &examples::SEEDS[..1]).join(&b"\n"[..]);
            let with_matcher = findings(&builtin, &text);
            assert_eq!(with_matcher, findings(&from_toml, &text), "{}", rule.id());
            reported += with_matcher.matches(rule.id()).count();
        }
        assert!(reported > 3_000, "{reported} findings of generated rules");
    }

    /// The few Unicode facts the matcher spells out agree with the regex crate: `\s`,
    /// `[^A-Za-z0-9]`, and which characters `(?i)` folds to ASCII letters.
    #[test]
    fn unicode_classes_agree_with_the_regex_crate() {
        let space = regex::bytes::Regex::new(r"\A\s").unwrap();
        let other = regex::bytes::Regex::new(r"\A[^A-Za-z0-9]").unwrap();
        let folds = regex::Regex::new(r"\A(?i:[a-z])\z").unwrap();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let mut buffer = [0; 4];
            let text = c.encode_utf8(&mut buffer).as_bytes();
            let expected = space.find(text).map(|m| m.len());
            assert_eq!(unicode_space_at(text, 0), expected, "{c:?}");
            let other_len = char_at(text, 0)
                .filter(|c| !is_ascii_alnum(c))
                .map(str::len);
            assert_eq!(other_len, other.find(text).map(|m| m.len()), "{c:?}");
            assert_eq!(
                char_before(text, text.len()).map(str::len),
                Some(text.len())
            );
            if !c.is_ascii() && folds.is_match(c.encode_utf8(&mut buffer)) {
                assert!(FOLDS_TO_ASCII.contains(&&*c.to_string()), "{c:?}");
            }
        }
        for bad in [&b"\xff"[..], b"\xe2\x82", b"\xc0\x80", b"\xed\xa0\x80"] {
            assert_eq!(char_at(bad, 0), None);
            assert!(other.find(bad).is_none());
        }
    }
}
