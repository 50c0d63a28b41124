//! A split index (`core.splitIndex`): the index file holds only the entries that changed since
//! the shared index (`sharedindex.<id>` in the git directory) was written, and two bitmaps say
//! which shared entries it deletes and which it replaces. Merged here as git merges them
//! (split-index.c `merge_base_index`), so the staged scan sees the index git commits from.

use super::index::{Corrupt, Index, IndexEntry, Link};

/// The byte length of one serialized EWAH bitmap at the start of `data`: bit count (u32),
/// word count (u32), the 64-bit words, the position of the last run-length word (u32).
pub(super) fn ewah_len(data: &[u8]) -> Option<usize> {
    let words = u32::from_be_bytes(data.get(4..8)?.try_into().ok()?) as usize;
    let len = 8usize.checked_add(words.checked_mul(8)?)?.checked_add(4)?;
    (len <= data.len()).then_some(len)
}

/// The set bits of a serialized EWAH bitmap (git's ewah/ewah_io.c), ascending; every position
/// must be below `limit` (the shared index's entry count), which also bounds the work.
fn ewah_positions(data: &[u8], limit: usize) -> Result<Vec<usize>, Corrupt> {
    let corrupt = || Corrupt("bad bitmap in the link extension (split index)".to_string());
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let len = ewah_len(data).ok_or_else(corrupt)?;
    let words: Vec<u64> = data[8..len - 4]
        .chunks_exact(8)
        .map(|w| u64::from_be_bytes(w.try_into().expect("chunks of eight")))
        .collect();
    let mut positions = Vec::new();
    let mut base = 0usize;
    let mut i = 0;
    let set = |position: usize, positions: &mut Vec<usize>| {
        if position >= limit {
            return Err(corrupt());
        }
        positions.push(position);
        Ok(())
    };
    while i < words.len() {
        // A run-length word: bit 0 the run's bit, 32 bits of run length (in words), then
        // 31 bits counting the literal words that follow.
        let marker = words[i];
        i += 1;
        let run_words = ((marker >> 1) & 0xffff_ffff) as usize;
        let literals = (marker >> 33) as usize;
        let run_bits = run_words.checked_mul(64).ok_or_else(corrupt)?;
        if marker & 1 == 1 {
            for position in base..base.checked_add(run_bits).ok_or_else(corrupt)? {
                set(position, &mut positions)?;
            }
        }
        base = base.checked_add(run_bits).ok_or_else(corrupt)?;
        for _ in 0..literals {
            let word = *words.get(i).ok_or_else(corrupt)?;
            i += 1;
            for bit in 0..64 {
                if word >> bit & 1 == 1 {
                    set(base + bit, &mut positions)?;
                }
            }
            base += 64;
        }
    }
    Ok(positions)
}

/// The index git reads from a split index and its shared index: the shared entries less the
/// deleted ones, the replaced ones taking the split index's entries in order (which carry no
/// path: they keep the shared entry's), and the split index's other entries added.
pub fn merge(split: Index, link: &Link, shared: Index) -> Result<Index, Corrupt> {
    let corrupt = |what: &str| Corrupt(format!("{what} (split index)"));
    if shared.link.is_some() {
        return Err(corrupt("the shared index is itself split"));
    }
    let mut base: Vec<Option<IndexEntry>> = shared.entries.into_iter().map(Some).collect();
    let replaced = ewah_positions(&link.replace_bitmap, base.len())?;
    let deleted = ewah_positions(&link.delete_bitmap, base.len())?;
    let mut own = split.entries.into_iter();
    for position in replaced {
        let mut entry = own
            .next()
            .ok_or_else(|| corrupt("more replacements than entries"))?;
        if !entry.path.is_empty() {
            return Err(corrupt("a replacing entry has a path"));
        }
        let slot = base[position]
            .as_mut()
            .expect("positions are checked against the shared index's size");
        entry.path = std::mem::take(&mut slot.path);
        *slot = entry;
    }
    for position in deleted {
        base[position] = None;
    }
    let mut entries: Vec<IndexEntry> = base.into_iter().flatten().collect();
    for entry in own {
        if entry.path.is_empty() {
            return Err(corrupt("an added entry has no path"));
        }
        // An added entry with a shared entry's path and stage replaces it.
        entries.retain(|e| !(e.path == entry.path && e.stage == entry.stage));
        entries.push(entry);
    }
    // git's order: by path bytes, then stage.
    entries.sort_by(|a, b| (&a.path, a.stage).cmp(&(&b.path, b.stage)));
    Ok(Index {
        entries,
        cache_tree: split.cache_tree,
        link: None,
        // Entries of either file may be as new as that file.
        written: split.written.min(shared.written),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ewah(bits: u32, words: &[u64]) -> Vec<u8> {
        let mut data = bits.to_be_bytes().to_vec();
        data.extend_from_slice(&(words.len() as u32).to_be_bytes());
        for word in words {
            data.extend_from_slice(&word.to_be_bytes());
        }
        data.extend_from_slice(&0u32.to_be_bytes());
        data
    }

    #[test]
    fn ewah_bitmaps_decode() {
        // One literal word with bits 0 and 3 set.
        let one_literal = ewah(4, &[1 << 33, 0b1001]);
        assert_eq!(ewah_positions(&one_literal, 10).unwrap(), vec![0, 3]);
        assert_eq!(ewah_len(&one_literal), Some(one_literal.len()));
        // A run of one word of ones, then a literal with bit 1: 0..64 and 65.
        let run = ewah(66, &[1 | (1 << 1) | (1 << 33), 0b10]);
        let positions = ewah_positions(&run, 100).unwrap();
        assert_eq!(positions.len(), 65);
        assert_eq!(positions.last(), Some(&65));
        // A run of zeros skips words.
        let skip = ewah(130, &[(2 << 1) | (1 << 33), 1]);
        assert_eq!(ewah_positions(&skip, 200).unwrap(), vec![128]);
        // Positions past the shared index, and truncated bitmaps, are corrupt.
        assert!(ewah_positions(&one_literal, 3).is_err());
        assert!(ewah_positions(&one_literal[..10], 10).is_err());
        assert!(ewah_positions(&ewah(0, &[u64::MAX]), 1000).is_err());
        assert_eq!(ewah_positions(&[], 0).unwrap(), Vec::<usize>::new());
    }
}
