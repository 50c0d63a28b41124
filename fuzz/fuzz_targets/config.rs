//! The config parser on arbitrary text: an error or settings, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tokenguard::config::settings_from_text(text, std::path::Path::new(".tokenguard.toml"));
    }
});
