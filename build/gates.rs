//! Build time, regex half of the catalog: the cheap superset (src/detect/superset.rs) of each
//! built-in regex that costs much to compile, written for src/detect/regex_gate.rs to compile
//! and ask before the rule's own regex is compiled; and the keywords each regex's matches
//! hold (src/detect/line_words.rs), for src/detect/anchors.rs to search only around them.

use std::collections::BTreeMap;
use std::path::Path;

use regex_automata::nfa::thompson::NFA;
use regex_automata::util::syntax;

use crate::{line_words, superset};

/// A regex gets a gate when its NFA has at least this many states and its superset's at most
/// half as many: below that, compiling the regex costs about what compiling the gate does, and
/// the gate's searches only add (trees40: `ibm-cloud-api-key`'s gate, 132 states against the
/// regex's 215, searched 1.3 MB at 9 ns a byte to save a 0.5 ms compile). With a gate for
/// every regex that widens, trees40 ran 1,294 M instructions and large40 2,062 M; with these
/// bounds (320 gates) 1,287 M and 2,048 M; with 500 states and a quarter, 1,291 M.
const LEAST_STATES: usize = 200;
const LEAST_RATIO: usize = 2;

/// The states of `pattern`'s NFA, compiled as the scan compiles rule regexes.
fn states(pattern: &str) -> usize {
    NFA::compiler()
        .syntax(syntax::Config::new().utf8(false))
        .build(pattern)
        .map_or(0, |nfa| nfa.states().len())
}

/// `pattern`'s superset, when it pays off (see [`LEAST_STATES`]).
fn gate_of(pattern: &str) -> Option<String> {
    let wide = superset::superset(pattern)?;
    let exact = states(pattern);
    (exact >= LEAST_STATES && exact >= LEAST_RATIO * states(&wide)).then_some(wide)
}

/// Writes `regex-gates.bin` (the patterns and their supersets, one after the other) and
/// `regex-gates.rs` (per pattern, sorted: the byte ranges of the two).
pub fn write<'a>(patterns: impl IntoIterator<Item = &'a str>, out: &Path) {
    println!("cargo:rerun-if-changed=build/gates.rs");
    println!("cargo:rerun-if-changed=src/detect/superset.rs");
    println!("cargo:rerun-if-changed=src/detect/line_words.rs");
    let gates: BTreeMap<&str, String> = patterns
        .into_iter()
        .filter_map(|pattern| Some((pattern, gate_of(pattern)?)))
        .collect();
    let mut table = SpanTable::default();
    for (pattern, wide) in &gates {
        let pattern = table.span(pattern.as_bytes());
        let wide = table.span(wide.as_bytes());
        table.row(format!("({pattern}, {wide})"));
    }
    table.write(out, "regex-gates");
}

/// Writes `regex-anchors.bin` (per built-in pattern whose every match holds a keyword, or
/// else one of a few words: the pattern, then its keywords or words, newline-separated) and
/// `regex-anchors.rs` (per such pattern, sorted: the byte ranges of the two, its
/// [`line_words::Reach`] as a kind, 0 for bytes and 1 for lines, and a number, and 0 for
/// keywords or 1 for words). `keywords`: every built-in rule's.
pub fn write_anchors<'a>(
    patterns: impl IntoIterator<Item = &'a str>,
    keywords: &[&str],
    out: &Path,
) {
    // Keywords the walk saw (0), else words looked for in the text (1).
    let anchors_of = |pattern| match line_words::anchors(pattern, keywords) {
        Some(found) => Some((found, 0)),
        None => Some((line_words::word_anchors(pattern)?, 1)),
    };
    let anchored: BTreeMap<&str, _> = patterns
        .into_iter()
        .filter_map(|pattern| Some((pattern, anchors_of(pattern)?)))
        .collect();
    let mut table = SpanTable::default();
    for (pattern, ((words, reach), looked_for)) in &anchored {
        let (kind, number) = match reach {
            line_words::Reach::Bytes(bytes) => (0, bytes),
            line_words::Reach::Lines(lines) => (1, lines),
        };
        let pattern = table.span(pattern.as_bytes());
        let words = table.span(words.join("\n").as_bytes());
        table.row(format!(
            "({pattern}, {words}, ({kind}, {number}), {looked_for})"
        ));
    }
    table.write(out, "regex-anchors");
}

/// Texts one after another (`<name>.bin`) and a table of rows naming them by byte range
/// (`<name>.rs`, included as a slice literal): numbers only, so nothing is relocated at start.
#[derive(Default)]
struct SpanTable {
    texts: Vec<u8>,
    rows: String,
}

impl SpanTable {
    /// Appends `bytes` to the texts; their range, as the table writes it.
    fn span(&mut self, bytes: &[u8]) -> String {
        let start = self.texts.len();
        self.texts.extend_from_slice(bytes);
        format!("({start}, {})", self.texts.len())
    }

    fn row(&mut self, row: String) {
        self.rows.push_str(&row);
        self.rows.push(',');
    }

    fn write(self, out: &Path, name: &str) {
        let write = |file: String, bytes: &[u8]| {
            std::fs::write(out.join(file), bytes).expect("OUT_DIR is writable");
        };
        write(format!("{name}.bin"), &self.texts);
        write(format!("{name}.rs"), format!("&[{}]", self.rows).as_bytes());
    }
}
