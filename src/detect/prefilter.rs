//! The keyword search that decides which rules could match a blob at all: tables of the
//! keywords' first three bytes while little was searched (a small commit builds nothing), then
//! Aho-Corasick automata, which cost more to build than a small change takes to search.
//!
//! Keywords overlap (`api_token` ends `replicate_api_token`'s name, a short prefix can start a
//! longer one), and a plain leftmost search reports one match per position, so it could hide a
//! rule behind another. Only the minimal keywords (those holding no other keyword) are searched
//! for, the search restarting one byte after the start of each match, so every one that occurs
//! is seen; a longer keyword is then looked for in the chunk where a keyword inside it was found.
//!
//! Speed: keywords match ASCII case-insensitively, but aho-corasick's SIMD prefilter only
//! engages for case-sensitive patterns of four bytes or more (measured over source text:
//! 5.6 GB/s against 0.6 GB/s with case folding or 3-byte patterns). So the blob is lowercased
//! chunk by chunk into a small buffer, the long keywords go through a few automata of a few dozen
//! patterns each (past that the SIMD prefilter gives up), and each short keyword (`r8_`, `hf_`,
//! `sk-`, ...) through its own memmem search.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
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
    /// Over them, built on first use: contiguous NFAs (cheap to build) for a middling change,
    /// DFAs (faster per byte, more to build) once enough bytes were searched to pay for them.
    small_automata: OnceLock<Vec<AhoCorasick>>,
    big_automata: OnceLock<Vec<AhoCorasick>>,
    /// Bytes searched so far, by every thread.
    searched: AtomicU64,
    rule_count: usize,
}

/// What the automata search for, and what finding each keyword means.
#[derive(Debug, Clone)]
struct Plan {
    /// The minimal keywords of four bytes or more, lowercase, in groups of at most
    /// [`GROUP`]: one automaton per group keeps aho-corasick's SIMD prefilter engaged.
    groups: Vec<Vec<String>>,
    /// Per group and pattern: what finding that keyword means.
    long_found: Vec<Vec<Found>>,
    /// Shorter minimal keywords, each searched with its own finder.
    short: Vec<Found>,
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

/// Keywords this long or longer go through the automata.
const LONG_KEYWORD: usize = 4;
/// Patterns per automaton: aho-corasick's SIMD (Teddy) prefilter takes a few dozen patterns;
/// past that it falls back to a plain automaton walk (measured over ML source text with the
/// catalog's 136 minimal keywords: 0.4 GB/s in one automaton, 0.8 GB/s in four).
const GROUP: usize = 40;
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
                rule.spec
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
            let mut long = Vec::new();
            let mut long_found = Vec::new();
            let mut short = Vec::new();
            for m in (0..keywords.len()).filter(|&i| holds[i].is_empty()) {
                if keywords[m].len() >= LONG_KEYWORD {
                    long.push(keywords[m].clone());
                    long_found.push(found_for(m));
                } else {
                    short.push(found_for(m));
                }
            }
            Plan {
                groups: long.chunks(GROUP).map(<[String]>::to_vec).collect(),
                long_found: long_found.chunks(GROUP).map(<[Found]>::to_vec).collect(),
                short,
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

    fn automata<'a>(
        &'a self,
        slot: &'a OnceLock<Vec<AhoCorasick>>,
        kind: AhoCorasickKind,
    ) -> &'a [AhoCorasick] {
        slot.get_or_init(|| {
            self.plan()
                .groups
                .iter()
                .map(|group| {
                    AhoCorasick::builder()
                        .match_kind(MatchKind::LeftmostLongest)
                        .kind(Some(kind))
                        .build(group)
                        .expect("keywords are plain literals of bounded size")
                })
                .collect()
        })
    }

    /// The rules whose keywords occur in `haystack` (ASCII case-insensitively).
    pub fn candidates(&self, haystack: &[u8]) -> RuleMask {
        let mut mask = RuleMask::empty(self.rule_count);
        let automata = match self.tier(haystack.len()) {
            Tier::Pairs => {
                let lower = haystack.to_ascii_lowercase();
                self.pairs
                    .mark(&self.keywords, &self.owners, &lower, &mut mask);
                return mask;
            }
            Tier::Small => self.automata(&self.small_automata, AhoCorasickKind::ContiguousNFA),
            Tier::Big => self.automata(&self.big_automata, AhoCorasickKind::DFA),
        };
        let plan = self.plan();
        // Per keyword, whether it was found (and its longer keywords checked) in this chunk.
        let mut long_seen: Vec<Vec<bool>> =
            plan.groups.iter().map(|g| vec![false; g.len()]).collect();
        let mut short_seen = vec![false; plan.short.len()];
        let mut lower = Vec::with_capacity(CHUNK.min(haystack.len()) + plan.overlap);
        let mut start = 0;
        while start < haystack.len() {
            let end = (start + CHUNK + plan.overlap).min(haystack.len());
            lower.clear();
            lower.extend(haystack[start..end].iter().map(u8::to_ascii_lowercase));
            long_seen.iter_mut().for_each(|seen| seen.fill(false));
            for ((automaton, found), seen) in
                automata.iter().zip(&plan.long_found).zip(&mut long_seen)
            {
                let mut at = 0;
                while at < lower.len() {
                    let input = Input::new(&lower).span(at..lower.len());
                    let Some(hit) = automaton.find(input) else {
                        break;
                    };
                    let pattern = hit.pattern().as_usize();
                    if !seen[pattern] {
                        seen[pattern] = true;
                        found[pattern].mark(&lower, &mut mask);
                    }
                    at = hit.start() + 1;
                }
            }
            for (found, seen) in plan.short.iter().zip(&mut short_seen) {
                if !*seen && found.finder.find(&lower).is_some() {
                    *seen = found.containing.is_empty();
                    found.mark(&lower, &mut mask);
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
        let base = RuleSet::builtin().unwrap().rules[0].clone();
        sets.iter()
            .map(|keywords| {
                let mut rule = base.clone();
                rule.spec.keywords = keywords.iter().map(|k| k.to_string()).collect();
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
        let rules = RuleSet::builtin().unwrap().rules;
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
                r.spec
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
