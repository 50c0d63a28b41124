//! The keyword search that decides which rules could match a blob at all: a DFA over every
//! keyword. build.rs writes the built-in rules' one into the binary, so every text is walked by
//! it; a rule set with rules of a config's own builds its DFA at run time, which costs more
//! than a small change takes to search, so until then tables of the keywords' first three
//! bytes search it (a small commit builds almost nothing).
//!
//! Speed: one automaton over all keywords, so its cost per byte does not grow with the
//! catalog (see [`KeywordDfa`](crate::detect::keyword_dfa::KeywordDfa)). Several automata of a few dozen patterns each kept
//! aho-corasick's SIMD (Teddy) prefilter engaged, but cost one pass per group: with ~500
//! keywords that was twelve passes and two thirds of a big commit's scan. Then one
//! aho-corasick automaton over the minimal keywords (those holding no other) with the longer
//! ones compared where a minimal one occurred: one pass, but its overlapping search and the
//! lowercased copy of the text it needed were still 45% of a big commit's CPU time.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::detect::keyword_dfa::KeywordDfa;
use crate::detect::keyword_table::KeywordTable;
use crate::detect::line_words::WIDE_FOLDS;
use crate::detect::pair_search::PairIndex;
use crate::detect::rules::{Rule, RuleSet, table_name};

/// A set of rule indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMask {
    words: Vec<u64>,
}

impl RuleMask {
    pub fn empty(rules: usize) -> RuleMask {
        RuleMask {
            words: vec![0; rules.div_ceil(64)],
        }
    }

    /// A mask of as many rules as this one, holding none.
    pub fn empty_like(&self) -> RuleMask {
        RuleMask {
            words: vec![0; self.words.len()],
        }
    }

    pub fn insert(&mut self, rule: usize) {
        self.words[rule / 64] |= 1 << (rule % 64);
    }

    pub fn remove(&mut self, rule: usize) {
        self.words[rule / 64] &= !(1 << (rule % 64));
    }

    pub fn contains(&self, rule: usize) -> bool {
        self.words[rule / 64] & (1 << (rule % 64)) != 0
    }

    pub fn union_with(&mut self, other: &RuleMask) {
        self.union_with_words(&other.words);
    }

    /// Adds the rules of a mask given as its words (see [`Owners`]).
    pub fn union_with_words(&mut self, words: &[u64]) {
        for (a, b) in self.words.iter_mut().zip(words) {
            *a |= b;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// The rule indices in ascending order. Set bits are taken lowest first, each clearing
    /// itself: testing all 64 bits of each word cost a few thousand instructions a mask.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                let bit = rest.trailing_zeros() as usize;
                rest &= rest.wrapping_sub(1);
                (bit < 64).then_some(i * 64 + bit)
            })
        })
    }
}

/// Per keyword, the rules it makes candidates: a mask of `stride` words per keyword, laid end
/// to end (the built-in rules' are written by build.rs).
#[derive(Debug, Clone)]
pub struct Owners {
    words: Cow<'static, [u64]>,
    stride: usize,
}

impl Owners {
    /// The words of `keyword`'s mask.
    pub fn of(&self, keyword: usize) -> &[u64] {
        &self.words[keyword * self.stride..(keyword + 1) * self.stride]
    }

    /// Masks of `rules` bits from each keyword's rule list.
    fn from_lists(lists: &[Vec<u32>], rules: usize) -> Owners {
        let stride = rules.div_ceil(64);
        let mut words = vec![0u64; stride * lists.len()];
        for (keyword, list) in lists.iter().enumerate() {
            for &rule in list {
                let rule = rule as usize;
                words[keyword * stride + rule / 64] |= 1 << (rule % 64);
            }
        }
        Owners {
            words: Cow::Owned(words),
            stride,
        }
    }

    /// The same masks, laid end to end.
    #[cfg(test)]
    pub fn from_masks(masks: &[RuleMask]) -> Owners {
        let stride = masks.first().map_or(0, |mask| mask.words.len());
        Owners {
            words: Cow::Owned(masks.iter().flat_map(|m| m.words.clone()).collect()),
            stride,
        }
    }
}

/// The most places one walk keeps, 8 MB of them. A text with more (a generated file naming
/// `api_key` on each of its million lines) keeps only which match states the walk entered, and
/// its literals are searched in the whole text, as without a walk.
const MOST_PLACES: usize = 1 << 20;

/// What the walk saw: each match state it entered (its row) and where, up to [`MOST_PLACES`];
/// past that, only which rows.
#[derive(Default)]
struct Places {
    kept: Vec<u64>,
    rows_beyond: Vec<bool>,
}

/// Adds a place the walk saw to `places`: the row in the high half, the end in the low half.
/// Not inlined: inside the walk's loop, the push cost the loop registers and 20 M instructions
/// of a 40 MB commit.
#[cold]
#[inline(never)]
fn record(places: &mut Places, row: u32, end: usize) {
    if places.kept.len() < MOST_PLACES {
        let end = u64::from(u32::try_from(end).unwrap_or(u32::MAX));
        places.kept.push(u64::from(row) << 32 | end);
        return;
    }
    let row = row as usize;
    if places.rows_beyond.len() <= row {
        places.rows_beyond.resize(row + 1, false);
    }
    places.rows_beyond[row] = true;
}

/// The built-in rules' keywords (lowercase, sorted, distinct; ranges of the table names) and
/// their owners' masks, as build.rs wrote them (build/startup.rs) from [`KeywordTable`].
static BUILTIN_KEYWORDS: (&[(u32, u32)], &[u64]) =
    include!(concat!(env!("OUT_DIR"), "/keyword-table.rs"));

/// The automaton over [`BUILTIN_KEYWORDS`], as build.rs built it ([`KeywordDfa::to_bytes`]),
/// aligned for its tables of u32 to be read in place ([`KeywordDfa::from_static`]) and for
/// each row of its transitions to start a cache line (see
/// [`TABLES_FROM`](crate::detect::keyword_dfa::TABLES_FROM)).
static BUILTIN_DFA: &LineAligned<[u8]> = &LineAligned(*include_bytes!(concat!(
    env!("OUT_DIR"),
    "/keyword-dfa.bin"
)));

/// Bytes at an address that is a multiple of 64, a cache line.
#[repr(C, align(64))]
struct LineAligned<Bytes: ?Sized>(Bytes);

/// The keyword search: a DFA over every keyword, which build.rs wrote for the built-in
/// rules; for other rule sets, a first-bytes table for small changes and the DFA, built at
/// run time, for big ones.
#[derive(Debug)]
pub struct Prefilter {
    /// Every keyword, for the first [`PAIRS_UNTIL`] bytes searched when the automaton must be
    /// built: little to build. Built on first use.
    pairs: OnceLock<PairIndex>,
    /// Every keyword (lowercase, sorted, distinct) and the rules it makes candidates.
    keywords: Vec<Cow<'static, str>>,
    owners: Owners,
    /// Over every keyword, built (or read from [`BUILTIN_DFA`]) on first use past
    /// [`PAIRS_UNTIL`].
    dfa: OnceLock<KeywordDfa>,
    /// The automaton build.rs wrote, when the keywords are the built-in rules'.
    embedded_dfa: Option<&'static [u8]>,
    /// Bytes searched so far, by every thread.
    searched: AtomicU64,
    rule_count: usize,
}

/// Bytes searched with the pair table before the automaton is built: about what searching
/// with the table costs by the time building the automaton would have paid off. The
/// built-in automaton needs no build, so the built-in rules' texts are all walked by it.
const PAIRS_UNTIL: u64 = 256 << 10;

impl Clone for Prefilter {
    fn clone(&self) -> Prefilter {
        Prefilter {
            pairs: self.pairs.clone(),
            keywords: self.keywords.clone(),
            owners: self.owners.clone(),
            dfa: self.dfa.clone(),
            embedded_dfa: self.embedded_dfa,
            searched: AtomicU64::new(self.searched.load(Ordering::Relaxed)),
            rule_count: self.rule_count,
        }
    }
}

/// Every built-in rule's keywords, lowercased and each once (the table build.rs wrote).
pub fn builtin_keywords() -> impl Iterator<Item = &'static str> {
    BUILTIN_KEYWORDS.0.iter().map(|&range| table_name(range))
}

/// Where one walk of the automaton over a text saw each keyword: a literal's first word that
/// is a keyword is in the text, and in a copy of it with escapes masked by spaces, only where
/// the walk saw it end (see [`Prefilter::window`]).
#[derive(Debug, Clone)]
pub struct WordsSeen {
    /// Each occurrence as its keyword's index (high half) and its end (low half), sorted: a
    /// keyword's ends are one run, ascending.
    ends: Vec<u64>,
    /// The length of the text walked, to refuse another text.
    text_len: usize,
    /// Per text asked about (its address and length: the text walked, its copy with escapes
    /// masked): whether it holds a character that a Unicode case-insensitive `s` or `k`
    /// matches and the walk does not fold (see [`Walked::holds_wide_folds`]).
    wide_folds: [OnceLock<(usize, usize, bool)>; 2],
}

/// What the prefilter's automaton saw in one text: where each keyword ends. Literal checks
/// and the gates that look only near their keywords read it.
#[derive(Debug, Clone, Copy)]
pub struct Walked<'s> {
    prefilter: &'s Prefilter,
    seen: &'s WordsSeen,
}

impl<'s> Walked<'s> {
    /// `seen`, the walk of `prefilter`'s automaton over a text (or a copy of it with bytes
    /// masked by spaces).
    pub fn new(prefilter: &'s Prefilter, seen: &'s WordsSeen) -> Walked<'s> {
        Walked { prefilter, seen }
    }

    /// Where `word` may be in `text` ([`Prefilter::window`] of this walk).
    pub fn places(&self, text: &[u8], word: &[u8]) -> WordPlaces<'s> {
        self.prefilter.window(self.seen, text, word)
    }

    /// Whether `text` holds the long s or the Kelvin sign ([`WIDE_FOLDS`]), which a Unicode
    /// case-insensitive `s` or `k` matches and the walk does not fold: looked for once per
    /// text for the rules that ask.
    pub fn holds_wide_folds(&self, text: &[u8]) -> bool {
        let [long_s, kelvin] = WIDE_FOLDS.map(|fold| {
            let mut bytes = [0; 4];
            fold.encode_utf8(&mut bytes);
            (bytes, fold.len_utf8())
        });
        // One pass for the lead bytes of both (most texts have neither), then a look at each.
        let look = || {
            memchr::memchr2_iter(long_s.0[0], kelvin.0[0], text).any(|at| {
                let holds = |(bytes, len): ([u8; 4], usize)| text[at..].starts_with(&bytes[..len]);
                holds(long_s) || holds(kelvin)
            })
        };
        let key = (text.as_ptr() as usize, text.len());
        for slot in &self.seen.wide_folds {
            let &(address, len, holds) = slot.get_or_init(|| (key.0, key.1, look()));
            if (address, len) == key {
                return holds;
            }
        }
        look()
    }
}

/// Where a literal's first word may be in a text (see [`Prefilter::window`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordPlaces<'s> {
    /// Nowhere: the walk did not see it.
    Nowhere,
    /// Anywhere in this range.
    Within(Range<usize>),
    /// Only ending at these places, and not necessarily at each of them in a copy with escapes
    /// masked.
    EndingAt(Ends<'s>),
}

/// One keyword's places in a [`WordsSeen`]: where it ends, ascending; never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ends<'s>(&'s [u64]);

impl Ends<'_> {
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().map(|&place| place as u32 as usize)
    }

    pub fn first(&self) -> usize {
        self.iter().next().unwrap_or_default()
    }

    pub fn last(&self) -> usize {
        self.0.last().map_or(0, |&place| place as u32 as usize)
    }
}

impl Prefilter {
    /// The prefilter of `rules`: the tables build.rs wrote when they are the built-in rules
    /// alone, else built now.
    pub fn of(rules: &RuleSet) -> Prefilter {
        if rules.is_builtin_only() {
            Prefilter::builtin(rules.len())
        } else {
            Prefilter::new(rules.as_slice())
        }
    }

    /// The built-in rules' prefilter, from the tables build.rs wrote: nothing to sort or
    /// lowercase at start-up.
    fn builtin(rule_count: usize) -> Prefilter {
        let (keywords, words) = BUILTIN_KEYWORDS;
        let keywords: Vec<Cow<'static, str>> = (keywords.iter())
            .map(|&range| Cow::Borrowed(table_name(range)))
            .collect();
        let owners = Owners {
            words: Cow::Borrowed(words),
            stride: rule_count.div_ceil(64),
        };
        Prefilter {
            embedded_dfa: Some(&BUILTIN_DFA.0),
            ..Prefilter::around(keywords, owners, rule_count)
        }
    }

    /// Collects the keywords; the automaton is built when a search needs it.
    pub fn new(rules: &[Rule]) -> Prefilter {
        let table = KeywordTable::of(rules.iter().map(|rule| rule.spec().keywords.as_slice()));
        let owners = Owners::from_lists(&table.owners, rules.len());
        let keywords = table.keywords.into_iter().map(Cow::Owned).collect();
        Prefilter::around(keywords, owners, rules.len())
    }

    /// The search over `keywords`, whose rules are given by `owners`, of `rule_count` rules.
    fn around(keywords: Vec<Cow<'static, str>>, owners: Owners, rule_count: usize) -> Prefilter {
        Prefilter {
            pairs: OnceLock::new(),
            keywords,
            owners,
            dfa: OnceLock::new(),
            embedded_dfa: None,
            searched: AtomicU64::new(0),
            rule_count,
        }
    }

    /// This prefilter past its pair table: every text is walked by the automaton (tests).
    #[cfg(test)]
    pub(crate) fn walking(self) -> Prefilter {
        self.searched.store(PAIRS_UNTIL, Ordering::Relaxed);
        self
    }

    /// Whether the next `bytes` bytes still go through the pair table: while little was
    /// searched, building the automaton would not pay off. The embedded one is never built:
    /// it walks a commit of 20 lines in about a third of the pair table's instructions, and
    /// its walk tells the literal checks where each keyword is.
    fn on_pairs(&self, bytes: usize) -> bool {
        if self.embedded_dfa.is_some() {
            return false;
        }
        let after = self.searched.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        after <= PAIRS_UNTIL
    }

    /// The rules whose keywords occur in `haystack` (ASCII case-insensitively).
    pub fn candidates(&self, haystack: &[u8]) -> RuleMask {
        self.candidates_and_words(haystack).0
    }

    /// [`Prefilter::candidates`], and when the automaton walked `haystack`, the words it saw.
    pub fn candidates_and_words(&self, haystack: &[u8]) -> (RuleMask, Option<WordsSeen>) {
        let mut mask = RuleMask::empty(self.rule_count);
        if self.on_pairs(haystack.len()) {
            let lower = haystack.to_ascii_lowercase();
            (self.pairs.get_or_init(|| PairIndex::new(&self.keywords))).mark(
                &self.keywords,
                &self.owners,
                &lower,
                &mut mask,
            );
            return (mask, None);
        }
        let dfa = self.dfa();
        // Past 4 GB the places do not fit: the text is then searched whole (see `window`).
        let ends = self.walk_ends(dfa, haystack, &mut mask);
        let words = ends
            .filter(|_| haystack.len() < u32::MAX as usize)
            .map(|ends| WordsSeen {
                ends,
                text_len: haystack.len(),
                wide_folds: Default::default(),
            });
        (mask, words)
    }

    /// The automaton over every keyword, built (or read) the first time it is asked for.
    fn dfa(&self) -> &KeywordDfa {
        self.dfa.get_or_init(|| match self.embedded_dfa {
            // Written by build.rs from the same keywords in the same build (a test compares
            // it with the one built here): a failure is a bug, reported by the panic hook.
            Some(bytes) => KeywordDfa::from_static(bytes).expect("the embedded automaton reads"),
            None => KeywordDfa::new(&self.keywords),
        })
    }

    /// Builds the automaton now, for a thread with nothing else to do: a large scan with rules
    /// of a config's own reads it past its first 256 KiB (`PAIRS_UNTIL`), and a thread that
    /// needs it while another builds it waits. The embedded one only has its header read.
    pub fn warm_up(&self) {
        self.dfa();
    }

    /// Whether the automaton is built (tests).
    #[cfg(test)]
    pub(crate) fn is_warm(&self) -> bool {
        self.dfa.get().is_some()
    }

    /// The automaton's walk of `haystack`: adds the rules of the keywords it saw to `mask` and
    /// returns every occurrence as [`WordsSeen::ends`] holds them (`None`: more than
    /// [`MOST_PLACES`]). The walk records the match state it entered and where; states become
    /// their keywords after the walk, off its loop. Out of line, so that the pair table's loop
    /// above compiles as it did before.
    #[inline(never)]
    fn walk_ends(
        &self,
        dfa: &KeywordDfa,
        haystack: &[u8],
        mask: &mut RuleMask,
    ) -> Option<Vec<u64>> {
        let mut places = Places::default();
        dfa.search_states(haystack, |row, end| record(&mut places, row, end));
        let Places { kept, rows_beyond } = places;
        if !rows_beyond.is_empty() {
            let mut rows = rows_beyond;
            for place in kept {
                let row = (place >> 32) as usize;
                rows.resize(rows.len().max(row + 1), false);
                rows[row] = true;
            }
            for row in (0..rows.len()).filter(|&row| rows[row]) {
                for &keyword in dfa.keywords_ending_in(row as u32) {
                    mask.union_with_words(self.owners.of(keyword as usize));
                }
            }
            return None;
        }
        let mut ends = Vec::with_capacity(kept.len());
        for place in kept {
            for &keyword in dfa.keywords_ending_in((place >> 32) as u32) {
                ends.push(u64::from(keyword) << 32 | (place & u64::from(u32::MAX)));
            }
        }
        // A keyword across where two quarters of the walk meet is seen by both.
        ends.sort_unstable();
        ends.dedup();
        for run in ends.chunk_by(|a, b| a >> 32 == b >> 32) {
            mask.union_with_words(self.owners.of((run[0] >> 32) as usize));
        }
        Some(ends)
    }

    /// Where `word` (a literal's first word, lowercase) may occur in `text` ASCII-lowercased
    /// or in any copy of it with bytes replaced by spaces: only where the walk saw it end when
    /// `seen` is the walk of `text`, the word is a keyword and has no space; else anywhere.
    pub fn window<'s>(&self, seen: &'s WordsSeen, text: &[u8], word: &[u8]) -> WordPlaces<'s> {
        let whole = WordPlaces::Within(0..text.len());
        if seen.text_len != text.len() || word.is_empty() || word.contains(&b' ') {
            return whole;
        }
        match (self.keywords).binary_search_by(|name| name.as_bytes().cmp(word)) {
            Ok(index) => {
                let index = index as u64;
                let from = seen.ends.partition_point(|&place| place >> 32 < index);
                let to = seen.ends.partition_point(|&place| place >> 32 <= index);
                match from == to {
                    true => WordPlaces::Nowhere,
                    false => WordPlaces::EndingAt(Ends(&seen.ends[from..to])),
                }
            }
            Err(_) => whole,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_with_keywords(sets: &[&[&str]]) -> Vec<Rule> {
        let base = RuleSet::builtin().unwrap().at(0).clone();
        sets.iter()
            .map(|keywords| {
                let mut rule = base.clone();
                rule.spec_mut().keywords = keywords.iter().map(|k| k.to_string()).collect();
                rule
            })
            .collect()
    }

    #[test]
    fn overlapping_keywords_never_hide_a_rule() {
        let rules = rules_with_keywords(&[
            &["sk-"],
            &["sk-ant-"],
            &["ant-api"],
            &["abase"],
            &["baseten"],
        ]);
        let prefilter = Prefilter::new(&rules);
        let cases: [(&str, &[usize]); 6] = [
            ("x sk-ant-api03", &[0, 1, 2]),
            ("sk-", &[0]),
            ("abaseten", &[3, 4]),
            ("BASETEN", &[4]),
            ("nothing here", &[]),
            ("ant-api then sk-", &[0, 2]),
        ];
        for (text, expected) in cases {
            let got: Vec<usize> = prefilter.candidates(text.as_bytes()).iter().collect();
            assert_eq!(got, expected, "{text}");
        }
    }

    /// The two searches: the pair table for small changes and the automaton for big ones.
    fn every_tier(rules: &[Rule]) -> [Prefilter; 2] {
        let big = Prefilter::new(rules);
        big.searched.store(PAIRS_UNTIL, Ordering::Relaxed);
        [Prefilter::new(rules), big]
    }

    /// A text with more keyword places than a walk keeps wakes the same rules as one with
    /// few, and its literals are searched in the whole text (no places).
    #[test]
    fn a_text_with_more_places_than_kept_keeps_its_rules_not_its_places() {
        let set = RuleSet::builtin().unwrap();
        let [_, big] = every_tier(set.as_slice());
        let line = "client = Client(api_key=os.environ['HF_TOKEN'])  # hf_ r8_ replicate openai\n";
        let (few_mask, few_words) = big.candidates_and_words(line.repeat(1000).as_bytes());
        let few_places = few_words.expect("a few places are kept").ends.len();
        assert!(few_places > 1000);
        // Every line ends a keyword, so every line is at least one place.
        let lines = MOST_PLACES + 1000;
        let (many_mask, many_words) = big.candidates_and_words(line.repeat(lines).as_bytes());
        assert!(many_words.is_none());
        assert_eq!(many_mask, few_mask);
        assert!(few_mask.iter().count() > 3);
    }

    #[test]
    fn brute_force_agrees_on_builtin_keywords() {
        let rules = RuleSet::builtin().unwrap().as_slice().to_vec();
        let [pairs, big] = every_tier(&rules);
        brute_force_agrees(&rules, &pairs, true);
        assert!(
            pairs.dfa.get().is_none(),
            "nothing built for a small change"
        );
        brute_force_agrees(&rules, &big, false);
        assert!(big.dfa.get().is_some());
    }

    /// `small_changes`: every text is searched as a change of its own, on the pair table.
    fn brute_force_agrees(rules: &[Rule], prefilter: &Prefilter, small_changes: bool) {
        let owned: Vec<Vec<String>> = (rules.iter())
            .map(|r| {
                r.spec()
                    .keywords
                    .iter()
                    .map(|k| k.to_ascii_lowercase())
                    .collect()
            })
            .collect();
        let mut keywords: Vec<&str> = owned.iter().flatten().map(String::as_str).collect();
        keywords.sort_unstable();
        keywords.dedup();
        for text in glued_pairs(&keywords) {
            let expected: Vec<usize> = (owned.iter().enumerate())
                .filter(|(_, own)| own.iter().any(|k| text.contains(k.as_str())))
                .map(|(i, _)| i)
                .collect();
            if small_changes {
                prefilter.searched.store(0, Ordering::Relaxed);
            }
            let got: Vec<usize> = prefilter.candidates(text.as_bytes()).iter().collect();
            assert_eq!(got, expected, "{text}");
        }
    }

    /// Keywords glued two by two: every pair whose seam overlaps (the end of one is the start
    /// of the other, by one to three bytes), and, for plain seams, every pair while the
    /// keywords are few, else each keyword beside its neighbours in sorted order (shared
    /// prefixes) and a fixed spread of others, both ways round. All pairs of a catalog of
    /// hundreds of keywords would be millions of texts for no new kind of seam.
    fn glued_pairs(keywords: &[&str]) -> std::collections::BTreeSet<String> {
        const ALL_PAIRS_UNTIL: usize = 200;
        const SPREAD: usize = 24;
        let n = keywords.len();
        let mut texts = std::collections::BTreeSet::new();
        for (i, a) in keywords.iter().enumerate() {
            for b in keywords {
                for overlap in 1..=3.min(b.len()) {
                    if a.len() > overlap && a.ends_with(&b[..overlap]) {
                        texts.insert(format!("{a}{}", &b[overlap..]));
                    }
                }
            }
            let partners: Vec<usize> = if n <= ALL_PAIRS_UNTIL {
                (0..n).collect()
            } else {
                let near = [i.saturating_sub(1), i, (i + 1) % n];
                (near.into_iter())
                    .chain((0..SPREAD).map(|j| (i * 7919 + j * 104_729 + 1) % n))
                    .collect()
            };
            for j in partners {
                let b = keywords[j];
                texts.insert(format!("{a}{b}"));
                texts.insert(format!("{b}{a}"));
            }
        }
        texts
    }

    /// A quick sample of `brute_force_agrees` for the automata: keywords glued in pairs (a
    /// stride through the catalog, so that it runs in seconds), overlapping by up to three bytes,
    /// and one text holding many keywords at once.
    #[test]
    fn one_automaton_agrees_with_brute_force_on_a_sample() {
        let rules = RuleSet::builtin().unwrap().as_slice().to_vec();
        let keywords: Vec<String> = rules
            .iter()
            .flat_map(|r| r.spec().keywords.iter().map(|k| k.to_ascii_uppercase()))
            .collect();
        let expected = |text: &str| -> Vec<usize> {
            let text = text.to_ascii_lowercase();
            (0..rules.len())
                .filter(|&i| {
                    rules[i]
                        .spec()
                        .keywords
                        .iter()
                        .any(|k| text.contains(&k.to_ascii_lowercase()))
                })
                .collect()
        };
        let [_, big] = every_tier(&rules);
        let mut texts: Vec<String> = Vec::new();
        for a in keywords.iter().step_by(7) {
            for b in keywords.iter().skip(3).step_by(11) {
                for overlap in 0..=3.min(b.len()) {
                    if a.ends_with(&b[..overlap]) {
                        texts.push(format!("{a}{}", &b[overlap..]));
                    }
                }
            }
        }
        texts.push(
            keywords
                .iter()
                .step_by(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("."),
        );
        for text in &texts {
            let got: Vec<usize> = big.candidates(text.as_bytes()).iter().collect();
            assert_eq!(got, expected(text), "{text}");
        }
        assert!(big.dfa.get().is_some());
    }

    /// Where the automaton's two walks meet (the middle of the text), at both ends, in any
    /// case, on both searches.
    #[test]
    fn keywords_across_the_middle_and_in_any_case() {
        let rules = rules_with_keywords(&[&["r8_"], &["baseten"], &["wandb_v1_"]]);
        let length = 3 * 65_536 + 5;
        let middle = length / 2;
        for prefilter in every_tier(&rules) {
            // The pair table's prefilter stays on it: each text is searched as if first.
            let searched = prefilter.searched.load(Ordering::Relaxed);
            for keyword in ["r8_", "BaSeTeN", "WANDB_V1_"] {
                let places =
                    (middle - keyword.len() - 1..middle + 2).chain([0, length - keyword.len()]);
                for offset in places {
                    let mut text = vec![b'.'; length];
                    text[offset..offset + keyword.len()].copy_from_slice(keyword.as_bytes());
                    prefilter.searched.store(searched, Ordering::Relaxed);
                    let got: Vec<usize> = prefilter.candidates(&text).iter().collect();
                    assert_eq!(got.len(), 1, "{keyword} at {offset}");
                }
            }
            assert!(prefilter.candidates(b"").is_empty());
        }
    }

    /// The built-in rules' embedded automaton walks even a small change (its walk's places
    /// come back, and no pair table is built); a rule set that must build its automaton
    /// searches a small change with the pair table, and both wake the same rules.
    #[test]
    fn the_embedded_automaton_walks_small_changes_and_a_built_one_waits() {
        let set = RuleSet::builtin().unwrap();
        let embedded = Prefilter::of(&set);
        let built = Prefilter::new(set.as_slice());
        let text = b"api_token = os.environ.get(\"REPLICATE_API_TOKEN\")\nhf = HF_TOKEN\n";
        let (mask, words) = embedded.candidates_and_words(text);
        assert!(words.is_some(), "the embedded automaton walked the text");
        assert!(embedded.pairs.get().is_none());
        let (built_mask, built_words) = built.candidates_and_words(text);
        assert!(built_words.is_none(), "the pair table searched the text");
        assert!(built.pairs.get().is_some() && !built.is_warm());
        assert_eq!(mask, built_mask);
        assert!(mask.iter().count() > 3);
    }

    /// The tables build.rs wrote for the built-in rules are what building them at run time
    /// from the same rules gives.
    #[test]
    fn build_time_tables_equal_the_run_time_ones() {
        let set = RuleSet::builtin().unwrap();
        assert!(set.is_builtin_only());
        let embedded = Prefilter::of(&set);
        let built = Prefilter::new(set.as_slice());
        assert!(embedded.keywords.len() > 500);
        assert_eq!(embedded.keywords, built.keywords);
        assert_eq!(embedded.owners.stride, built.owners.stride);
        assert_eq!(embedded.owners.words, built.owners.words);
        assert_eq!(embedded.rule_count, built.rule_count);
        assert!(matches!(embedded.owners.words, Cow::Borrowed(_)));
        let read = KeywordDfa::from_static(embedded.embedded_dfa.expect("embedded"));
        assert_eq!(read, Some(KeywordDfa::new(&built.keywords)));
        let tables = BUILTIN_DFA.0[crate::detect::keyword_dfa::TABLES_FROM..].as_ptr() as usize;
        assert!(
            tables.is_multiple_of(64),
            "the embedded automaton's tables read in place, at a cache line"
        );
        assert!(built.embedded_dfa.is_none());
        // Past the pair table's share, the embedded automaton finds what the built one does.
        embedded.searched.store(PAIRS_UNTIL, Ordering::Relaxed);
        built.searched.store(PAIRS_UNTIL, Ordering::Relaxed);
        let text = b"REPLICATE_API_TOKEN hf_ x sk-ant- baseten wandb";
        let found = embedded.candidates(text);
        assert!(!found.is_empty());
        assert_eq!(found, built.candidates(text));
        assert!(embedded.dfa.get().is_some());
        // A set with a rule added is not what build.rs saw.
        let mut added = set.clone();
        let mut spec = set.at(0).spec().clone();
        spec.id = "my-own-rule".to_string();
        spec.keywords = vec!["MyOwnKeyword".to_string()];
        added.extend(Default::default(), vec![spec]).unwrap();
        assert!(!added.is_builtin_only());
        let layered = Prefilter::of(&added);
        let hits: Vec<usize> = layered.candidates(b"x = myownkeyword").iter().collect();
        assert_eq!(hits, [set.len()]);
    }

    /// Texts that each hold one of a rule's literals (in other cases, with `.` for `_`, after
    /// an escape, right after a backslash, where masking escapes may eat its first letter) and
    /// another rule's keywords without its literals, and all of them in one.
    fn literal_texts(rules: &[Rule]) -> Vec<Vec<u8>> {
        let mut texts: Vec<Vec<u8>> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let next = &rules[(index + 1) % rules.len()];
            for (n, literal) in rule.spec().literals.iter().enumerate() {
                let written = match (index + n) % 4 {
                    0 => literal.clone(),
                    1 => literal.to_ascii_uppercase().replace('_', "."),
                    2 => format!("\\n{}", literal.to_ascii_uppercase()),
                    _ => format!("\\{literal}"),
                };
                let keywords = next.spec().keywords.join(" ");
                let text = format!("{keywords}\n{written} = \"Ab3dEf9hIj2kLm4nOp7q\"\n");
                texts.push(text.into_bytes());
            }
        }
        texts.push(texts.concat());
        texts
    }

    /// Comparing each literal's first word only where the automaton's walk saw it end (nowhere
    /// when it did not) answers as memmem's search of the whole text, for every built-in rule
    /// with literals, on the text walked and on its escape-masked copy: memmem finds the word
    /// nowhere else. Nothing is narrowed on a text the automaton did not walk.
    #[test]
    fn literals_looked_for_where_the_walk_saw_them_change_no_answer() {
        let set = RuleSet::builtin().unwrap();
        let rules: Vec<&Rule> = set
            .iter()
            .filter(|r| !r.spec().literals.is_empty())
            .collect();
        assert!(rules.len() > 100);
        let [pairs, big] = every_tier(set.as_slice());
        let (narrowed, masked_away) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
        for text in literal_texts(set.as_slice()) {
            assert!(pairs.candidates_and_words(&text).1.is_none());
            let (_, seen) = big.candidates_and_words(&text);
            let seen = seen.expect("the automaton walked it");
            let masked = crate::detect::decode::mask_escapes(&text);
            for walked in [&text[..], &masked[..]] {
                let lower = walked.to_ascii_lowercase();
                for rule in &rules {
                    let filtered = rule.may_match_where(
                        walked,
                        |word| {
                            let places = big.window(&seen, walked, word);
                            let found: Vec<usize> = (memchr::memmem::find_iter(&lower, word))
                                .map(|at| at + word.len())
                                .collect();
                            match &places {
                                WordPlaces::Nowhere => assert!(found.is_empty()),
                                WordPlaces::Within(range) => assert_eq!(range, &(0..lower.len())),
                                WordPlaces::EndingAt(ends) => {
                                    let ends: Vec<usize> = ends.iter().collect();
                                    assert!(found.iter().all(|end| ends.contains(end)));
                                    narrowed.set(narrowed.get() + 1);
                                    let missing = ends.iter().any(|end| !found.contains(end));
                                    masked_away.set(masked_away.get() + usize::from(missing));
                                }
                            }
                            places
                        },
                        || &lower,
                    );
                    assert_eq!(filtered, rule.may_match(&lower), "{}", rule.id());
                }
            }
            // Another text, of another length, is not the one walked.
            assert_eq!(
                big.window(&seen, &text[1..], b"openai"),
                WordPlaces::Within(0..text.len() - 1)
            );
        }
        let (narrowed, masked_away) = (narrowed.get(), masked_away.get());
        assert!(narrowed > 1000, "{narrowed} searches narrowed");
        assert!(masked_away > 10, "{masked_away} with places masked away");
    }

    /// Literals are compared where the walk saw their first word, in a window lowercased
    /// around the place, whatever the case of the text; a literal longer than the window is
    /// compared in the whole text lowercased. Both answer as the search of the whole text.
    #[test]
    fn literals_at_the_walks_places_are_compared_ignoring_case_short_or_long() {
        let long = format!("zorblax_{}", "segment".repeat(10));
        let mut rules = rules_with_keywords(&[&["zorblax"], &["zorblax"]]);
        rules[0].spec_mut().literals = vec!["zorblax_api_key".to_string()];
        rules[1].spec_mut().literals = vec![long.clone()];
        let [_, big] = every_tier(&rules);
        let texts = [
            ("x = ZORBLAX.Api-KEY\n", [true, false]),
            ("x = zorblax_api\n zorblax key", [false, false]),
            (
                &*format!("{}\n", long.to_ascii_uppercase().replace('_', ".")),
                [false, true],
            ),
            (&*format!("{}\n", &long[..long.len() - 1]), [false, false]),
        ];
        for (text, expected) in texts {
            let seen = big.candidates_and_words(text.as_bytes()).1.expect("walked");
            let lower = text.to_ascii_lowercase();
            for (rule, expected) in rules.iter().zip(expected) {
                let places = |word: &[u8]| big.window(&seen, text.as_bytes(), word);
                assert!(matches!(places(b"zorblax"), WordPlaces::EndingAt(_)));
                let found = rule.may_match_where(text.as_bytes(), places, || lower.as_bytes());
                assert_eq!(found, expected, "{text:?}");
                assert_eq!(rule.may_match(lower.as_bytes()), expected, "{text:?}");
            }
        }
    }

    /// The ends the walk keeps for each keyword (recorded per match state, then per keyword)
    /// are where a search for it, overlaps included, finds it end: each once, in order.
    #[test]
    fn the_walk_keeps_every_end_of_each_keyword() {
        let set = RuleSet::builtin().unwrap();
        let [_, big] = every_tier(set.as_slice());
        for text in literal_texts(set.as_slice()) {
            let (_, seen) = big.candidates_and_words(&text);
            let seen = seen.expect("the automaton walked it");
            let lower = text.to_ascii_lowercase();
            for (index, keyword) in big.keywords.iter().enumerate() {
                let finder = memchr::memmem::Finder::new(keyword.as_bytes());
                let expected: Vec<u32> = std::iter::successors(finder.find(&lower), |&at| {
                    finder.find(&lower[at + 1..]).map(|next| at + 1 + next)
                })
                .map(|at| (at + keyword.len()) as u32)
                .collect();
                let kept: Vec<u32> = (seen.ends.iter())
                    .filter(|&&place| place >> 32 == index as u64)
                    .map(|&place| place as u32)
                    .collect();
                assert_eq!(kept, expected, "{keyword}");
            }
        }
    }

    #[test]
    fn mask_operations() {
        let mut mask = RuleMask::empty(130);
        assert!(mask.is_empty());
        mask.insert(0);
        mask.insert(129);
        assert!(mask.contains(129) && !mask.contains(64));
        assert_eq!(mask.iter().collect::<Vec<_>>(), vec![0, 129]);
    }

    /// Masks of every density, the words' first and last bits among them: the rules listed
    /// are those `contains` says, ascending.
    #[test]
    fn a_mask_lists_the_rules_it_contains_in_order() {
        let mut random = crate::test_support::Xorshift::new(0x51_7cc1_b727_220a);
        for _ in 0..2000 {
            let rules = 1 + random.below(700);
            let mut mask = RuleMask::empty(rules);
            let density = 1 + random.below(8);
            for rule in 0..rules {
                if random.below(density) == 0 || rule % 64 == 63 && random.below(2) == 0 {
                    mask.insert(rule);
                }
            }
            let expected: Vec<usize> = (0..rules).filter(|&rule| mask.contains(rule)).collect();
            assert_eq!(mask.iter().collect::<Vec<_>>(), expected, "{rules} rules");
        }
    }
}
