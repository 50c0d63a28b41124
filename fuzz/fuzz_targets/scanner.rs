//! The scanner over arbitrary bytes: never panics, positions are inside the blob, and a
//! finding never carries the secret in full.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tokenguard::detect::lines::AddedLines;
use tokenguard::detect::rules::RuleSet;
use tokenguard::detect::scanner::Scanner;

fn scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| Scanner::new(RuleSet::builtin().expect("built-in rules")))
}

fuzz_target!(|data: &[u8]| {
    let scanner = scanner();
    let candidates = scanner.candidates(data);
    let odd_lines = AddedLines::from_ranges((1..200).step_by(2).map(|l| (l, l)).collect());
    for added in [AddedLines::All, odd_lines] {
        let scan = scanner.scan("fuzz.txt", data, &added, candidates.clone());
        for finding in scan.matches {
            assert!(finding.line >= 1 && finding.column >= 1);
            assert!(finding.secret_redacted.ends_with("chars)"));
        }
    }
});
