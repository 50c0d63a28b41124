//! Aho-Corasick over every rule keyword: which rules could match a blob at all.
//!
//! Keywords overlap (`api_token` ends `replicate_api_token`'s name, a short prefix can start a
//! longer one), and a plain leftmost search reports one match per position, so it could hide a
//! rule behind another. Two steps keep every rule visible: the search restarts one byte after the
//! start of each match (so every position that starts a keyword is seen, with its longest
//! keyword), and each keyword also stands for every shorter keyword it contains.
//!
//! Speed: keywords match ASCII case-insensitively, but aho-corasick's SIMD prefilter only
//! engages for case-sensitive patterns of four bytes or more (measured over source text:
//! 5.6 GB/s against 0.6 GB/s with case folding or 3-byte patterns). So the blob is lowercased
//! chunk by chunk into a small buffer, the long keywords go through one automaton, and each short
//! keyword (`r8_`, `hf_`, `sk-`, ...) through its own memmem search.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use memchr::memmem::Finder;

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

/// The keyword automaton and, per keyword, the rules it makes candidates.
#[derive(Debug)]
pub struct Prefilter {
    /// Keywords of four bytes or more, lowercase.
    long: Vec<String>,
    /// Over them, built on first use: a contiguous NFA (cheap to build) for a small change, a
    /// DFA (faster per byte, about 1.5 M instructions to build) once enough bytes were searched
    /// to pay for it.
    small_automaton: OnceLock<AhoCorasick>,
    big_automaton: OnceLock<AhoCorasick>,
    /// Bytes searched so far, by every thread.
    searched: AtomicU64,
    /// Per pattern of the automaton: the rules it makes candidates.
    rules_of_long: Vec<RuleMask>,
    /// Shorter keywords, lowercase, each with its rules.
    short: Vec<(Finder<'static>, RuleMask)>,
    /// Bytes a chunk shares with the next, so that no keyword is cut in two.
    overlap: usize,
    rule_count: usize,
}

/// Keywords this long or longer go through the automaton.
const LONG_KEYWORD: usize = 4;
/// Bytes lowercased and searched at a time: small enough to stay in cache.
const CHUNK: usize = 64 * 1024;
/// Bytes searched with the cheap automaton before the fast one is built.
const BIG_AFTER: u64 = 4 << 20;

impl Clone for Prefilter {
    fn clone(&self) -> Prefilter {
        Prefilter {
            long: self.long.clone(),
            small_automaton: self.small_automaton.clone(),
            big_automaton: self.big_automaton.clone(),
            searched: AtomicU64::new(self.searched.load(Ordering::Relaxed)),
            rules_of_long: self.rules_of_long.clone(),
            short: self.short.clone(),
            overlap: self.overlap,
            rule_count: self.rule_count,
        }
    }
}

impl Prefilter {
    pub fn new(rules: &[Rule]) -> Prefilter {
        let mut keywords: Vec<String> = Vec::new();
        let mut owners: Vec<RuleMask> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            for keyword in &rule.spec.keywords {
                let keyword = keyword.to_ascii_lowercase();
                let slot = match keywords.iter().position(|k| *k == keyword) {
                    Some(slot) => slot,
                    None => {
                        keywords.push(keyword);
                        owners.push(RuleMask::empty(rules.len()));
                        keywords.len() - 1
                    }
                };
                owners[slot].insert(index);
            }
        }
        // A longer keyword implies every keyword it contains.
        let mut rules_of_keyword = owners.clone();
        let keywords = &keywords;
        for (i, long) in keywords.iter().enumerate() {
            for (j, short) in keywords.iter().enumerate() {
                if i != j && contains(long.as_bytes(), short.as_bytes()) {
                    rules_of_keyword[i].union_with(&owners[j]);
                }
            }
        }
        let mut long = Vec::new();
        let mut rules_of_long = Vec::new();
        let mut short = Vec::new();
        for (keyword, mask) in keywords.iter().zip(rules_of_keyword) {
            if keyword.len() >= LONG_KEYWORD {
                long.push(keyword.clone());
                rules_of_long.push(mask);
            } else {
                short.push((Finder::new(keyword.as_bytes()).into_owned(), mask));
            }
        }
        Prefilter {
            long,
            small_automaton: OnceLock::new(),
            big_automaton: OnceLock::new(),
            searched: AtomicU64::new(0),
            rules_of_long,
            short,
            overlap: keywords.iter().map(String::len).max().unwrap_or(1) - 1,
            rule_count: rules.len(),
        }
    }

    /// The automaton for the next `bytes` bytes: the cheap one until enough bytes were
    /// searched to pay for the fast one.
    fn automaton(&self, bytes: usize) -> &AhoCorasick {
        let before = self.searched.fetch_add(bytes as u64, Ordering::Relaxed);
        let (slot, kind) = if before + bytes as u64 > BIG_AFTER {
            (&self.big_automaton, AhoCorasickKind::DFA)
        } else {
            (&self.small_automaton, AhoCorasickKind::ContiguousNFA)
        };
        slot.get_or_init(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(Some(kind))
                .build(&self.long)
                .expect("keywords are plain literals of bounded size")
        })
    }

    /// The rules whose keywords occur in `haystack` (ASCII case-insensitively).
    pub fn candidates(&self, haystack: &[u8]) -> RuleMask {
        let mut mask = RuleMask::empty(self.rule_count);
        let automaton = self.automaton(haystack.len());
        let mut short_found = vec![false; self.short.len()];
        let mut lower = Vec::with_capacity(CHUNK.min(haystack.len()) + self.overlap);
        let mut start = 0;
        while start < haystack.len() {
            let end = (start + CHUNK + self.overlap).min(haystack.len());
            lower.clear();
            lower.extend(haystack[start..end].iter().map(u8::to_ascii_lowercase));
            let mut at = 0;
            while at < lower.len() {
                let input = Input::new(&lower).span(at..lower.len());
                let Some(found) = automaton.find(input) else {
                    break;
                };
                mask.union_with(&self.rules_of_long[found.pattern().as_usize()]);
                at = found.start() + 1;
            }
            for ((finder, rules), found) in self.short.iter().zip(&mut short_found) {
                if !*found && finder.find(&lower).is_some() {
                    *found = true;
                    mask.union_with(rules);
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

/// `needle` occurs in `haystack`: keywords are a few bytes long, too short for a substring
/// searcher's set-up to pay off (a quarter of the prefilter's construction before).
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.len() <= haystack.len() && haystack.windows(needle.len()).any(|w| w == needle)
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

    /// Both automata, the cheap one for small changes and the fast one for big ones.
    fn both_automata(rules: &[Rule]) -> [Prefilter; 2] {
        let big = Prefilter::new(rules);
        big.searched.store(BIG_AFTER, Ordering::Relaxed);
        [Prefilter::new(rules), big]
    }

    #[test]
    fn brute_force_agrees_on_builtin_keywords() {
        let rules = RuleSet::builtin().unwrap().rules;
        let [small, big] = both_automata(&rules);
        brute_force_agrees(&rules, &small);
        assert!(small.small_automaton.get().is_some());
        // The brute force itself searches enough bytes to cross to the big automaton once
        // the catalog has many keywords; before that point only the small one exists.
        let crossed = small.searched.load(Ordering::Relaxed) > BIG_AFTER;
        assert_eq!(small.big_automaton.get().is_some(), crossed);
        brute_force_agrees(&rules, &big);
        assert!(big.big_automaton.get().is_some());
        assert!(
            big.small_automaton.get().is_none(),
            "only the big automaton is built"
        );
    }

    fn brute_force_agrees(rules: &[Rule], prefilter: &Prefilter) {
        let keywords: Vec<String> = rules
            .iter()
            .flat_map(|r| r.spec.keywords.iter().map(|k| k.to_ascii_lowercase()))
            .collect();
        // Every pair of keywords glued together, overlapping by up to three bytes.
        for a in &keywords {
            for b in &keywords {
                for overlap in 0..=3 {
                    let text = if a.len() > overlap && a.ends_with(&b[..overlap.min(b.len())]) {
                        format!("{a}{}", &b[overlap.min(b.len())..])
                    } else {
                        format!("{a}{b}")
                    };
                    let expected: Vec<usize> = rules
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| {
                            r.spec
                                .keywords
                                .iter()
                                .any(|k| text.contains(&k.to_ascii_lowercase()))
                        })
                        .map(|(i, _)| i)
                        .collect();
                    let got: Vec<usize> = prefilter.candidates(text.as_bytes()).iter().collect();
                    assert_eq!(got, expected, "{text}");
                }
            }
        }
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
