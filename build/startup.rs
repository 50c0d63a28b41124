//! What the scan reads of every built-in rule at start-up, worked out here and written as Rust
//! tables (`OUT_DIR/rule-table.rs`, `OUT_DIR/keyword-table.rs`): each rule's id, provider, API
//! host and whether it asks for context (the path-context index), its required class run (see
//! `src/detect/run_syntax.rs`; parsing 876 regexes at start-up cost a small commit a tenth of
//! its instructions), and the prefilter's keyword list with the rules each keyword makes
//! candidates, and the prefilter's automaton over those keywords (`OUT_DIR/keyword-dfa.bin`,
//! read on the first search past the pair table's share instead of built). A rule's whole spec is decoded only when its keywords occur in a change.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::keyword_dfa::KeywordDfa;
use crate::keyword_table::KeywordTable;
use crate::run_syntax::{pack, run_syntax};
use crate::schema::RulesFile;

/// Writes both tables into `out`; `ranges` are each rule's bytes in `rule-specs.postcard`.
/// Their texts go end to end into `table-names.txt`, named by byte ranges: a table of
/// `&'static str` needs a relocation per string at every start (3,900 of them cost each run
/// 38 page faults, `--version` too), a table of numbers none.
pub fn write(rules: &RulesFile, ranges: &[(usize, usize)], out: &Path) {
    println!("cargo:rerun-if-changed=src/detect/run_syntax.rs");
    println!("cargo:rerun-if-changed=src/detect/keyword_table.rs");
    println!("cargo:rerun-if-changed=src/detect/keyword_dfa.rs");
    let mut names = Names::default();
    let write = |name: &str, text: String| {
        std::fs::write(out.join(name), text).expect("OUT_DIR is writable");
    };
    let (shapes, shape_ranges) = variable_shapes(rules);
    std::fs::write(out.join("variable-shapes.postcard"), shapes).expect("OUT_DIR is writable");
    write(
        "rule-table.rs",
        rule_table(rules, ranges, &shape_ranges, &mut names),
    );
    write("keyword-table.rs", keyword_table(rules, &mut names));
    let keywords = KeywordTable::of(rules.rules.iter().map(|rule| rule.keywords.as_slice()));
    let dfa = KeywordDfa::new(&keywords.keywords).to_bytes();
    std::fs::write(out.join("keyword-dfa.bin"), dfa).expect("OUT_DIR is writable");
    write("table-names.txt", names.text);
}

/// Texts laid end to end, each written once.
#[derive(Default)]
struct Names {
    text: String,
    at: std::collections::HashMap<String, (u32, u32)>,
}

impl Names {
    /// `name`'s byte range in the text.
    fn range(&mut self, name: &str) -> (u32, u32) {
        if let Some(&range) = self.at.get(name) {
            return range;
        }
        let start = self.text.len() as u32;
        self.text.push_str(name);
        let range = (start, self.text.len() as u32);
        self.at.insert(name.to_string(), range);
        range
    }
}

/// Each generated credential-variable rule's names and SDK arguments (what the shared matcher,
/// `src/detect/variable_match.rs`, runs instead of the rule's regex), encoded with postcard
/// one after the other, and each one's byte range by rule id.
fn variable_shapes(rules: &RulesFile) -> (Vec<u8>, HashMap<String, (usize, usize)>) {
    let mut bytes = Vec::new();
    let mut at = HashMap::new();
    for (id, names, sdk_args) in crate::variables::shapes(&rules.providers) {
        let start = bytes.len();
        bytes.extend(postcard::to_allocvec(&(names, sdk_args)).expect("a shape serializes"));
        at.insert(id, (start, bytes.len()));
    }
    (bytes, at)
}

/// `[BuiltinRule { .. }, ..]`, in catalog order.
fn rule_table(
    rules: &RulesFile,
    ranges: &[(usize, usize)],
    shapes: &HashMap<String, (usize, usize)>,
    names: &mut Names,
) -> String {
    let mut text = String::from("[\n");
    for (spec, (start, end)) in rules.rules.iter().zip(ranges) {
        let shape = match shapes.get(&spec.id) {
            Some((start, end)) => format!("Some(({start}, {end}))"),
            None => "None".to_string(),
        };
        let host = rules
            .providers
            .get(&spec.provider)
            .map_or("", |p| p.host.as_str());
        let run = match run_syntax(&spec.regex) {
            None => "None".to_string(),
            Some(run) => format!(
                "Some(PackedRun {{ members: {:?}, length: {}, reach: {:?} }})",
                pack(&run.members),
                run.length,
                run.reach
            ),
        };
        writeln!(
            text,
            "BuiltinRule {{ id: {:?}, provider: {:?}, host: {:?}, has_context: {}, spec: ({start}, {end}), run: {run}, variables: {shape} }},",
            names.range(&spec.id),
            names.range(&spec.provider),
            names.range(host),
            spec.context.is_some(),
        )
        .expect("writing to a String");
    }
    text.push(']');
    text
}

/// `(KEYWORDS, OWNER_WORDS)`: the keywords (as ranges of the names), and per keyword a mask of
/// its rules (a bit per rule, `rules.div_ceil(64)` words each), laid end to end.
fn keyword_table(rules: &RulesFile, names: &mut Names) -> String {
    let table = KeywordTable::of(rules.rules.iter().map(|rule| rule.keywords.as_slice()));
    let stride = rules.rules.len().div_ceil(64);
    let mut words = vec![0u64; stride * table.keywords.len()];
    for (keyword, owners) in table.owners.iter().enumerate() {
        for &rule in owners {
            let rule = rule as usize;
            words[keyword * stride + rule / 64] |= 1 << (rule % 64);
        }
    }
    let keywords: Vec<(u32, u32)> = table.keywords.iter().map(|k| names.range(k)).collect();
    format!("(&{keywords:?}, &{words:?})")
}
