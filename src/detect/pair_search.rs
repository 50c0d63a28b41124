//! Keyword search for a few kilobytes: a table of the keywords' first two bytes is all there
//! is to build, so a commit that stages little does not pay for the automata that pay off
//! over megabytes (building them costs more than searching a small change with this).

use crate::detect::prefilter::RuleMask;

/// The keywords (lowercase, at least two bytes) indexed by their first two bytes.
#[derive(Debug, Clone)]
pub struct PairIndex {
    /// Sorted, so that the keywords sharing a first byte are together.
    keywords: Vec<(Vec<u8>, RuleMask)>,
    /// Per first byte, the range of `keywords` that starts with it.
    by_first: Box<[(u32, u32); 256]>,
    /// Per first byte, a bit for each second byte some keyword continues with.
    pairs: Box<[[u64; 4]; 256]>,
}

impl PairIndex {
    /// `keywords` must be lowercase, distinct and at least two bytes long.
    pub fn new(mut keywords: Vec<(Vec<u8>, RuleMask)>) -> PairIndex {
        keywords.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut by_first = Box::new([(0u32, 0u32); 256]);
        let mut pairs = Box::new([[0u64; 4]; 256]);
        for (index, (keyword, _)) in keywords.iter().enumerate() {
            let (first, second) = (keyword[0] as usize, keyword[1] as usize);
            let range = &mut by_first[first];
            if range.0 == range.1 {
                range.0 = index as u32;
            }
            range.1 = index as u32 + 1;
            pairs[first][second / 64] |= 1 << (second % 64);
        }
        PairIndex {
            keywords,
            by_first,
            pairs,
        }
    }

    /// Adds to `mask` the rules of every keyword in `lower` (the haystack, lowercased).
    pub fn mark(&self, lower: &[u8], mask: &mut RuleMask) {
        let mut seen = vec![false; self.keywords.len()];
        for (at, pair) in lower.windows(2).enumerate() {
            let (first, second) = (pair[0] as usize, pair[1]);
            if self.pairs[first][second as usize / 64] >> (second % 64) & 1 == 0 {
                continue;
            }
            let (start, end) = self.by_first[first];
            let range = start as usize..end as usize;
            for ((keyword, rules), seen) in
                self.keywords[range.clone()].iter().zip(&mut seen[range])
            {
                if !*seen && keyword[1] == second && lower[at..].starts_with(keyword) {
                    *seen = true;
                    mask.union_with(rules);
                }
            }
        }
    }
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
        let index = PairIndex::new(vec![
            (b"sk-".to_vec(), mask(&[0])),
            (b"sk-ant-".to_vec(), mask(&[1])),
            (b"hf_".to_vec(), mask(&[2])),
            (b"r8_".to_vec(), mask(&[3])),
            (b"ab".to_vec(), mask(&[4])),
        ]);
        let cases: [(&[u8], &[usize]); 6] = [
            (b"x sk-ant-api03", &[0, 1]),
            (b"hf_", &[2]),
            (b"ab", &[4]),
            (b"xxr8", &[]),
            (b"r8_ then hf_ then sk", &[2, 3]),
            (b"", &[]),
        ];
        for (text, expected) in cases {
            let mut found = RuleMask::empty(8);
            index.mark(text, &mut found);
            assert_eq!(found.iter().collect::<Vec<_>>(), expected, "{text:?}");
        }
    }
}
