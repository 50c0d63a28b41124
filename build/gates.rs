//! Build time, regex half of the catalog: each built-in regex's cheap superset
//! (src/detect/superset.rs), written for src/detect/regex_gate.rs to compile and ask before the
//! rule's own regex is compiled.

use std::collections::BTreeMap;
use std::path::Path;

use crate::superset;

/// Writes `regex-gates.bin` (the patterns and their supersets, one after the other) and
/// `regex-gates.rs` (per pattern, sorted: the byte ranges of it and of its superset).
pub fn write<'a>(patterns: impl IntoIterator<Item = &'a str>, out: &Path) {
    println!("cargo:rerun-if-changed=build/gates.rs");
    println!("cargo:rerun-if-changed=src/detect/superset.rs");
    let gates: BTreeMap<&str, String> = patterns
        .into_iter()
        .filter_map(|pattern| Some((pattern, superset::superset(pattern)?)))
        .collect();
    let mut texts: Vec<u8> = Vec::new();
    let mut span = |bytes: &[u8]| {
        let start = texts.len();
        texts.extend_from_slice(bytes);
        format!("({start}, {})", texts.len())
    };
    let mut table = String::from("&[");
    for (pattern, wide) in &gates {
        let pattern = span(pattern.as_bytes());
        let wide = span(wide.as_bytes());
        table.push_str(&format!("({pattern}, {wide}),"));
    }
    table.push(']');
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(out.join(name), bytes).expect("OUT_DIR is writable");
    };
    write("regex-gates.bin", &texts);
    write("regex-gates.rs", table.as_bytes());
}
