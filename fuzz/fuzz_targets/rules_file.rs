//! The rules file parser and validator on arbitrary text: problems or rules, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tokenguard::detect::rules::RuleSet::check_toml(text, "fuzz.toml");
    }
});
