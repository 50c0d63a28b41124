//! Added-line extraction from two blobs: never panics, and every reported line exists in the
//! new blob.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenguard::detect::lines::{AddedLines, line_count};
use tokenguard::git::added_lines_between;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |b| *b as usize % (data.len().max(1)));
    let (old, new) = data.split_at(split);
    if let Ok(AddedLines::Ranges(ranges)) = added_lines_between(old, new) {
        let lines = line_count(new);
        for (first, last) in ranges {
            assert!(first >= 1 && first <= last && last <= lines, "{first}..{last} of {lines}");
        }
    }
});
