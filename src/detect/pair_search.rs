//! Keyword search for a few kilobytes when the keywords are not only the built-in ones (whose
//! automaton build.rs wrote): three small tables over the keywords' first bytes are all there
//! is to build, so a commit that stages little does not pay for the automaton that pays off
//! over megabytes (building it costs more than searching a small change with this).
//!
//! The haystack is walked three bytes at a time: a bit per hashed first three bytes says
//! whether some keyword could start here, and only then are the keywords whose first bytes
//! are the text's found, by binary search on their first four bytes as integers, and compared. With first two bytes alone, ordinary text (`sk` in `task`, `ke` in `make`)
//! sent a tenth of all positions to the comparison.

use crate::detect::prefilter::{Owners, RuleMask};

/// The keywords' first bytes, indexing a sorted keyword list that the caller keeps.
#[derive(Debug, Clone)]
pub struct PairIndex {
    /// Per first byte, the range of the sorted keywords that starts with it.
    by_first: Box<[(u32, u32); 256]>,
    /// A bit per hashed first three bytes of some keyword (every third byte for a two-byte
    /// keyword): a clear bit means no keyword starts at that position.
    triples: Box<[u64; TRIPLE_WORDS]>,
    /// Per keyword, its first four bytes as a big-endian integer (zero past its end). Sorted
    /// keywords give sorted keys (a keyword holds no zero byte), so the keywords that can
    /// start at a position are found by binary search on integers, reading no keyword's text.
    keys: Box<[u32]>,
    /// A bit per hashed key of some keyword: a clear bit means no keyword has that key, so a
    /// probe for it needs no binary search (most positions the triples let through have none).
    keyed: Box<[u64; TRIPLE_WORDS]>,
}

/// 65,536 bits: a few hundred keywords leave almost all clear.
const TRIPLE_WORDS: usize = 1024;

/// Up to four bytes of `bytes` from `at`, big-endian, zero past its end.
fn key_at(bytes: &[u8], at: usize) -> u32 {
    let mut head = [0u8; 4];
    let take = bytes.len().saturating_sub(at).min(4);
    head[..take].copy_from_slice(&bytes[at..at + take]);
    u32::from_be_bytes(head)
}

fn key_bit(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 16) as usize
}

fn triple_bit(first: u8, second: u8, third: u8) -> usize {
    let packed = u32::from(first) << 16 | u32::from(second) << 8 | u32::from(third);
    (packed.wrapping_mul(0x9E37_79B1) >> 16) as usize
}

impl PairIndex {
    /// `keywords` must be lowercase, sorted, distinct and at least two bytes long.
    pub fn new<K: AsRef<str>>(keywords: &[K]) -> PairIndex {
        debug_assert!(keywords.is_sorted_by_key(|k| k.as_ref()));
        let mut by_first = Box::new([(0u32, 0u32); 256]);
        let mut triples = Box::new([0u64; TRIPLE_WORDS]);
        let mut set = |bit: usize| triples[bit / 64] |= 1 << (bit % 64);
        for (index, keyword) in keywords.iter().enumerate() {
            let bytes = keyword.as_ref().as_bytes();
            let range = &mut by_first[bytes[0] as usize];
            if range.0 == range.1 {
                range.0 = index as u32;
            }
            range.1 = index as u32 + 1;
            match bytes.get(2) {
                Some(&third) => set(triple_bit(bytes[0], bytes[1], third)),
                None => (0..=255).for_each(|third| set(triple_bit(bytes[0], bytes[1], third))),
            }
        }
        let keys: Box<[u32]> = keywords
            .iter()
            .map(|k| key_at(k.as_ref().as_bytes(), 0))
            .collect();
        let mut keyed = Box::new([0u64; TRIPLE_WORDS]);
        for &key in &keys {
            let bit = key_bit(key);
            keyed[bit / 64] |= 1 << (bit % 64);
        }
        PairIndex {
            by_first,
            triples,
            keys,
            keyed,
        }
    }

    /// Adds to `mask` the rules (`owners[i]` for `keywords[i]`, the list this index was built
    /// from) of every keyword in `lower` (the haystack, lowercased). Out of line, so that the
    /// loop compiles alike whatever its caller holds in registers (inlined, it reloaded the
    /// hash's multiplier at each position once the caller grew).
    #[inline(never)]
    pub fn mark<K: AsRef<str>>(
        &self,
        keywords: &[K],
        owners: &Owners,
        lower: &[u8],
        mask: &mut RuleMask,
    ) {
        let mut seen = vec![false; keywords.len()];
        let mut search = Search {
            keywords,
            owners,
            seen: &mut seen,
            mask,
        };
        for (at, triple) in lower.windows(3).enumerate() {
            let bit = triple_bit(triple[0], triple[1], triple[2]);
            if self.triples[bit / 64] >> (bit % 64) & 1 != 0 {
                self.mark_at(lower, at, &mut search);
            }
        }
        // The last two bytes have no third: only a two-byte keyword can start there.
        if lower.len() >= 2 {
            self.mark_at(lower, lower.len() - 2, &mut search);
        }
    }

    /// Compares the keywords that can start at `at`: those of two and three bytes equal to
    /// the text's first two and three, and those whose first four bytes are the text's (out of
    /// line: the walk above stays small, and most positions never get here).
    #[inline(never)]
    fn mark_at<K: AsRef<str>>(&self, lower: &[u8], at: usize, search: &mut Search<K>) {
        let (start, end) = self.by_first[lower[at] as usize];
        let (mut from, end) = (start as usize, end as usize);
        let text = key_at(lower, at);
        // Ascending probes, each searched from where the last one's keys began: a two-byte
        // keyword, a three-byte one, then every keyword sharing the first four bytes.
        for probe in [text & 0xFFFF_0000, text & 0xFFFF_FF00, text] {
            let bit = key_bit(probe);
            if self.keyed[bit / 64] >> (bit % 64) & 1 == 0 {
                continue;
            }
            from += self.keys[from..end].partition_point(|&key| key < probe);
            for index in from..end {
                if self.keys[index] != probe {
                    break;
                }
                if search.seen[index] {
                    continue;
                }
                let keyword = search.keywords[index].as_ref().as_bytes();
                if keyword.len() <= 4 || lower[at..].starts_with(keyword) {
                    search.seen[index] = true;
                    search.mask.union_with_words(search.owners.of(index));
                }
            }
        }
    }
}

/// One haystack's search: which keywords were already seen, and the rules found.
struct Search<'a, K> {
    keywords: &'a [K],
    owners: &'a Owners,
    seen: &'a mut [bool],
    mask: &'a mut RuleMask,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(rules: &[usize]) -> RuleMask {
        let mut mask = RuleMask::empty(8);
        rules.iter().for_each(|&r| mask.insert(r));
        mask
    }

    #[test]
    fn finds_every_keyword_at_every_place() {
        let mut pairs: Vec<(String, RuleMask)> = [
            ("sk-", 0),
            ("sk-ant-", 1),
            ("hf_", 2),
            ("r8_", 3),
            ("ab", 4),
            ("sa", 5),
        ]
        .iter()
        .map(|(k, r)| (k.to_string(), mask(&[*r])))
        .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let (keywords, owners): (Vec<String>, Vec<RuleMask>) = pairs.into_iter().unzip();
        let owners = Owners::from_masks(&owners);
        let index = PairIndex::new(&keywords);
        let cases: [(&[u8], &[usize]); 12] = [
            (b"x sk-ant-api03", &[0, 1]),
            (b"hf_", &[2]),
            (b"ab", &[4]),
            (b"x ab", &[4]),
            (b"abx", &[4]),
            (b"xxr8", &[]),
            (b"r8_ then hf_ then sk", &[2, 3]),
            (b"a", &[]),
            (b"sk", &[]),
            (b"task, a sample", &[5]),
            (b"sk-sk-ant-", &[0, 1]),
            (b"", &[]),
        ];
        for (text, expected) in cases {
            let mut found = RuleMask::empty(8);
            index.mark(&keywords, &owners, text, &mut found);
            assert_eq!(found.iter().collect::<Vec<_>>(), expected, "{text:?}");
        }
    }

    /// Texts made of the keywords' own bytes, so that near misses are everywhere: the table
    /// agrees with a plain substring test on each.
    #[test]
    fn agrees_with_a_substring_test_on_near_misses() {
        let mut keywords: Vec<String> = ["ab", "abc", "bca", "cab_", "c_"]
            .iter()
            .map(|k| k.to_string())
            .collect();
        keywords.sort();
        let owners: Vec<RuleMask> = (0..keywords.len()).map(|i| mask(&[i])).collect();
        let owners = Owners::from_masks(&owners);
        let index = PairIndex::new(&keywords);
        let alphabet = b"abc_";
        let mut state = 0x2545_f491_u32;
        for length in 0..200 {
            let text: Vec<u8> = (0..length % 12)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    alphabet[state as usize % alphabet.len()]
                })
                .collect();
            let expected: Vec<usize> = (0..keywords.len())
                .filter(|&i| {
                    text.windows(keywords[i].len())
                        .any(|w| w == keywords[i].as_bytes())
                })
                .collect();
            let mut found = RuleMask::empty(8);
            index.mark(&keywords, &owners, &text, &mut found);
            assert_eq!(found.iter().collect::<Vec<_>>(), expected, "{text:?}");
        }
    }
}
