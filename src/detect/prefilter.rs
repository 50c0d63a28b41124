//! The keyword search that decides which rules could match a blob at all: tables of the
//! keywords' first three bytes while little was searched (a small commit builds nothing), then
//! an Aho-Corasick automaton, which costs more to build than a small change takes to search.
//!
//! Keywords overlap (`api_token` ends `replicate_api_token`'s name, a short prefix can start a
//! longer one). Only the minimal keywords (those holding no other keyword) are searched for, every
//! occurrence reported (an overlapping search); a longer keyword is then looked for in the chunk
//! where a keyword inside it was found.
//!
//! Speed: all minimal keywords go through ONE automaton, so its cost per byte does not grow with
//! the catalog. Several automata of a few dozen patterns each kept aho-corasick's SIMD (Teddy)
//! prefilter engaged, but cost one pass per group: with ~480 keywords that was twelve passes and
//! two thirds of a big commit's scan. A DFA walks each byte once whatever the pattern count. The
//! blob is lowercased chunk by chunk into a small buffer (fewer byte classes, a smaller DFA, and
//! the longer keywords are compared there).

use std::borrow::Cow;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem::Finder;

use crate::detect::pair_search::PairIndex;
use crate::detect::rules::Rule;

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

    pub fn insert(&mut self, rule: usize) {
        self.words[rule / 64] |= 1 << (rule % 64);
    }

    pub fn contains(&self, rule: usize) -> bool {
        self.words[rule / 64] & (1 << (rule % 64)) != 0
    }

    pub fn union_with(&mut self, other: &RuleMask) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// The rule indices in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, word)| {
            (0..64)
                .filter(move |bit| word & (1 << bit) != 0)
                .map(move |bit| i * 64 + bit)
        })
    }
}

/// The keyword search: a first-bytes table for small changes, automata over the minimal keywords
/// for big ones.
#[derive(Debug)]
pub struct Prefilter {
    /// Every keyword, for the first [`PAIRS_UNTIL`] bytes searched: nothing to build.
    pairs: PairIndex,
    /// Every keyword (lowercase) and the rules it makes candidates.
    keywords: Vec<String>,
    owners: Vec<RuleMask>,
    /// The minimal keywords, worked out when a change is big enough to need the automata.
    plan: OnceLock<Plan>,
    /// Over them, built on first use: a contiguous NFA (cheap to build) for a middling change,
    /// a DFA (faster per byte, more to build) once enough bytes were searched to pay for it.
    small_automata: OnceLock<AhoCorasick>,
    big_automata: OnceLock<AhoCorasick>,
    /// Bytes searched so far, by every thread.
    searched: AtomicU64,
    rule_count: usize,
}

/// What the automata search for, and what finding each keyword means.
#[derive(Debug, Clone)]
struct Plan {
    /// The minimal keywords, lowercase: the automata's patterns.
    minimal: Vec<String>,
    /// Per pattern: what finding that keyword means.
    found: Vec<Found>,
    /// Bytes a chunk shares with the next, so that no keyword is cut in two.
    overlap: usize,
}

/// What finding a minimal keyword means: its own rules, and the longer keywords that contain
/// it, each checked where it was found (a longer keyword's text always holds the minimal one).
#[derive(Debug, Clone)]
struct Found {
    rules: RuleMask,
    /// The minimal keyword (lowercase), to find each place it occurs.
    finder: Finder<'static>,
    containing: Vec<Containing>,
}

/// A longer keyword holding a minimal one.
#[derive(Debug, Clone)]
struct Containing {
    keyword: Vec<u8>,
    /// Where the minimal keyword sits in it (`key` in `api_key_key`: twice).
    offsets: Vec<usize>,
    rules: RuleMask,
}

/// Bytes lowercased and searched at a time: small enough to stay in cache.
const CHUNK: usize = 64 * 1024;
/// Bytes searched with the pair table before the automata are built: about what searching
/// with the table costs by the time building the cheap automata (about 1.5 ms with the
/// catalog's keywords) would have paid off.
const PAIRS_UNTIL: u64 = 256 << 10;
/// Bytes searched with the cheap automata before the fast ones are built.
const BIG_AFTER: u64 = 4 << 20;

/// Which search the next bytes get.
enum Tier {
    Pairs,
    Small,
    Big,
}

impl Clone for Prefilter {
    fn clone(&self) -> Prefilter {
        Prefilter {
            pairs: self.pairs.clone(),
            keywords: self.keywords.clone(),
            owners: self.owners.clone(),
            plan: self.plan.clone(),
            small_automata: self.small_automata.clone(),
            big_automata: self.big_automata.clone(),
            searched: AtomicU64::new(self.searched.load(Ordering::Relaxed)),
            rule_count: self.rule_count,
        }
    }
}

impl Prefilter {
    /// Collects the keywords; everything else is built when a search needs it.
    pub fn new(rules: &[Rule]) -> Prefilter {
        let mut uses: Vec<(Cow<str>, usize)> = rules
            .iter()
            .enumerate()
            .flat_map(|(index, rule)| {
                rule.spec()
                    .keywords
                    .iter()
                    .map(move |k| (lowercase(k), index))
            })
            .collect();
        uses.sort_unstable();
        let mut keywords: Vec<String> = Vec::new();
        let mut owners: Vec<RuleMask> = Vec::new();
        for (keyword, index) in uses {
            if keywords.last().map(String::as_str) != Some(&*keyword) {
                keywords.push(keyword.into_owned());
                owners.push(RuleMask::empty(rules.len()));
            }
            owners.last_mut().expect("pushed above").insert(index);
        }
        let pairs = PairIndex::new(&keywords);
        Prefilter {
            pairs,
            keywords,
            owners,
            plan: OnceLock::new(),
            small_automata: OnceLock::new(),
            big_automata: OnceLock::new(),
            searched: AtomicU64::new(0),
            rule_count: rules.len(),
        }
    }

    /// Only minimal keywords (holding no other keyword) are searched for by the automata: a
    /// longer keyword is checked where a minimal one inside it was found.
    fn plan(&self) -> &Plan {
        self.plan.get_or_init(|| {
            let keywords = &self.keywords;
            // holds[i]: the keywords inside keyword i.
            let holds: Vec<Vec<usize>> = keywords
                .iter()
                .map(|long| {
                    (0..keywords.len())
                        .filter(|&j| {
                            *long != keywords[j]
                                && contains(long.as_bytes(), keywords[j].as_bytes())
                        })
                        .collect()
                })
                .collect();
            let found_for = |m: usize| Found {
                rules: self.owners[m].clone(),
                finder: Finder::new(keywords[m].as_bytes()).into_owned(),
                containing: (0..keywords.len())
                    .filter(|&i| holds[i].contains(&m))
                    .map(|i| Containing {
                        keyword: keywords[i].as_bytes().to_vec(),
                        offsets: occurrences(keywords[i].as_bytes(), keywords[m].as_bytes()),
                        rules: self.owners[i].clone(),
                    })
                    .collect(),
            };
            let minimal: Vec<usize> = (0..keywords.len())
                .filter(|&i| holds[i].is_empty())
                .collect();
            Plan {
                minimal: minimal.iter().map(|&m| keywords[m].clone()).collect(),
                found: minimal.iter().map(|&m| found_for(m)).collect(),
                overlap: keywords.iter().map(String::len).max().unwrap_or(1) - 1,
            }
        })
    }

    /// The search for the next `bytes` bytes: the pair table while little was searched, then
    /// the cheap automata, then the fast ones once enough bytes were searched to pay for them.
    fn tier(&self, bytes: usize) -> Tier {
        let after = self.searched.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        if after <= PAIRS_UNTIL {
            Tier::Pairs
        } else if after <= BIG_AFTER {
            Tier::Small
        } else {
            Tier::Big
        }
    }

    /// Standard match semantics: the only kind that reports overlapping matches.
    fn automaton<'a>(
        &'a self,
        slot: &'a OnceLock<AhoCorasick>,
        kind: AhoCorasickKind,
    ) -> &'a AhoCorasick {
        slot.get_or_init(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(kind))
                .build(&self.plan().minimal)
                .expect("keywords are plain literals of bounded size")
        })
    }

    /// The rules whose keywords occur in `haystack` (ASCII case-insensitively).
    pub fn candidates(&self, haystack: &[u8]) -> RuleMask {
        let mut mask = RuleMask::empty(self.rule_count);
        let automaton = match self.tier(haystack.len()) {
            Tier::Pairs => {
                let lower = haystack.to_ascii_lowercase();
                self.pairs
                    .mark(&self.keywords, &self.owners, &lower, &mut mask);
                return mask;
            }
            Tier::Small => self.automaton(&self.small_automata, AhoCorasickKind::ContiguousNFA),
            Tier::Big => self.automaton(&self.big_automata, AhoCorasickKind::DFA),
        };
        let plan = self.plan();
        // Per keyword: found (and its longer keywords checked) in this chunk, or for good when
        // no longer keyword holds it.
        let mut seen = vec![false; plan.found.len()];
        let mut lower = Vec::with_capacity(CHUNK.min(haystack.len()) + plan.overlap);
        let mut start = 0;
        while start < haystack.len() {
            let end = (start + CHUNK + plan.overlap).min(haystack.len());
            lower.clear();
            lower.extend(haystack[start..end].iter().map(u8::to_ascii_lowercase));
            for (seen, found) in seen.iter_mut().zip(&plan.found) {
                *seen &= found.containing.is_empty();
            }
            for hit in automaton.find_overlapping_iter(&lower) {
                let pattern = hit.pattern().as_usize();
                if !seen[pattern] {
                    seen[pattern] = true;
                    plan.found[pattern].mark(&lower, &mut mask);
                }
            }
            if end == haystack.len() {
                break;
            }
            start += CHUNK;
        }
        mask
    }
}

impl Found {
    /// Adds the keyword's rules, and those of each longer keyword holding it that `text` has.
    /// The longer keywords are compared where the minimal one occurs: searching the chunk for
    /// each of them cost a sixth of the prefilter, as `key` is in most chunks and a dozen
    /// keywords hold it.
    fn mark(&self, text: &[u8], mask: &mut RuleMask) {
        mask.union_with(&self.rules);
        let mut left: Vec<&Containing> = self.containing.iter().collect();
        let mut from = 0;
        while !left.is_empty()
            && let Some(found) = self.finder.find(&text[from..])
        {
            let at = from + found;
            left.retain(|longer| {
                let here = longer.offsets.iter().any(|&offset| {
                    at >= offset && text[at - offset..].starts_with(&longer.keyword)
                });
                if here {
                    mask.union_with(&longer.rules);
                }
                !here
            });
            // Occurrences may overlap (`aa` in `aaa`).
            from = at + 1;
        }
    }
}

/// Every offset at which `needle` starts in `haystack`, overlapping ones included.
fn occurrences(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    (0..=haystack.len().saturating_sub(needle.len()))
        .filter(|&at| haystack[at..].starts_with(needle))
        .collect()
}

/// The keyword in lower case, copied only when it has upper-case letters (most have none).
fn lowercase(keyword: &str) -> Cow<'_, str> {
    if keyword.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(keyword.to_ascii_lowercase())
    } else {
        Cow::Borrowed(keyword)
    }
}

/// `needle` occurs in `haystack`: keywords are a few bytes long, too short for a substring
/// searcher's set-up to pay off (a quarter of the prefilter's construction before).
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    needle.len() <= haystack.len()
        && haystack
            .windows(needle.len())
            .any(|w| w[0] == first && w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rules::RuleSet;

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

    /// The three searches: the pair table for small changes, the cheap automata for middling
    /// ones and the fast ones for big ones.
    fn every_tier(rules: &[Rule]) -> [Prefilter; 3] {
        let small = Prefilter::new(rules);
        small.searched.store(PAIRS_UNTIL, Ordering::Relaxed);
        let big = Prefilter::new(rules);
        big.searched.store(BIG_AFTER, Ordering::Relaxed);
        [Prefilter::new(rules), small, big]
    }

    #[test]
    fn brute_force_agrees_on_builtin_keywords() {
        let rules = RuleSet::builtin().unwrap().as_slice().to_vec();
        let [pairs, small, big] = every_tier(&rules);
        brute_force_agrees(&rules, &pairs, true);
        assert!(
            pairs.plan.get().is_none(),
            "nothing built for a small change"
        );
        brute_force_agrees(&rules, &small, false);
        assert!(small.small_automata.get().is_some());
        // The brute force itself searches enough bytes to cross to the big automaton once
        // the catalog has many keywords; before that point only the small one exists.
        let crossed = small.searched.load(Ordering::Relaxed) > BIG_AFTER;
        assert_eq!(small.big_automata.get().is_some(), crossed);
        brute_force_agrees(&rules, &big, false);
        assert!(big.big_automata.get().is_some());
        assert!(
            big.small_automata.get().is_none(),
            "only the big automaton is built"
        );
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
        let [_, small, big] = every_tier(&rules);
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
        for prefilter in [&small, &big] {
            for text in &texts {
                let got: Vec<usize> = prefilter.candidates(text.as_bytes()).iter().collect();
                assert_eq!(got, expected(text), "{text}");
            }
        }
        assert!(small.small_automata.get().is_some() && big.big_automata.get().is_some());
    }

    #[test]
    fn keywords_across_chunk_boundaries_and_in_any_case() {
        let rules = rules_with_keywords(&[&["r8_"], &["baseten"], &["wandb_v1_"]]);
        let prefilter = Prefilter::new(&rules);
        for keyword in ["r8_", "BaSeTeN", "WANDB_V1_"] {
            for offset in CHUNK - keyword.len()..CHUNK + 2 {
                let mut text = vec![b'.'; 3 * CHUNK];
                text[offset..offset + keyword.len()].copy_from_slice(keyword.as_bytes());
                let got: Vec<usize> = prefilter.candidates(&text).iter().collect();
                assert_eq!(got.len(), 1, "{keyword} at {offset}");
            }
        }
        let mut end = vec![b'x'; 2 * CHUNK + 17];
        let at = end.len() - 3;
        end[at..].copy_from_slice(b"hf_");
        let prefilter = Prefilter::new(&rules_with_keywords(&[&["hf_"]]));
        assert!(
            !prefilter.candidates(&end).is_empty(),
            "a keyword in the last bytes"
        );
        assert!(prefilter.candidates(b"").is_empty());
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
}
