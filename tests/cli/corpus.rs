//! The real-world corpus (`tests/corpus/`): files written the way keys really appear in
//! public ML code, with every token generated at run time. A marker `@@rule-id@@` is replaced
//! by a fresh token of that rule's shape (`@@rule-id|SHAPE@@`: of SHAPE, for a variant of the
//! format) and must be found by exactly that rule on that line; `@@fill|SHAPE@@` is random
//! filler of SHAPE (model version hashes, ids) and `@@upper|text@@` a vendor's documented
//! example (kept in lower case in the file), both of which must stay quiet, as must every line
//! without a marker. The test reports recall and false positives per provider.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use tokenguard::detect::filter;
use tokenguard::detect::rules::{Rule, RuleSet};
use tokenguard::detect::shape::Shape;

use crate::fixture::{TestRepo, findings};

const MARK: &str = "@@";

/// Where a token was planted: path, line and the rule that must report it.
type Expected = (String, u64, String);

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// A token of `shape` that `rule` would report: passes its filters, is no placeholder.
fn token_for(set: &RuleSet, rule: &Rule, shape: &str, seed: u64) -> String {
    let shape = Shape::parse(shape).unwrap_or_else(|e| panic!("{}: {e}", rule.id()));
    (seed..seed + 1000)
        .map(|s| shape.generate(s).token)
        .find(|t| {
            filter::check_filters(t.as_bytes(), &rule.spec().filters).is_ok()
                && !set.is_placeholder(rule, t.as_bytes())
        })
        .unwrap_or_else(|| panic!("{}: no token of its shape passes", rule.id()))
}

/// Expands the markers of one file; returns the text and the tokens it must yield.
pub fn expand(
    set: &RuleSet,
    path: &str,
    template: &str,
    seed: &mut u64,
) -> (String, Vec<Expected>) {
    let mut out = String::new();
    let mut expected = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find(MARK) {
        out.push_str(&rest[..start]);
        let after = &rest[start + MARK.len()..];
        let end = after
            .find(MARK)
            .unwrap_or_else(|| panic!("{path}: unclosed marker"));
        let (name, shape) = match after[..end].split_once('|') {
            Some((name, shape)) => (name, Some(shape)),
            None => (&after[..end], None),
        };
        *seed += 1;
        if name == "fill" {
            let shape = Shape::parse(shape.expect("fill needs a shape")).unwrap();
            out.push_str(&shape.generate(*seed).token);
        } else if name == "upper" {
            // A vendor's documented example, kept in lower case in the corpus file.
            out.push_str(&shape.expect("upper needs a text").to_ascii_uppercase());
        } else {
            let rule = set
                .get(name)
                .unwrap_or_else(|| panic!("{path}: unknown rule {name}"));
            let shape = shape.unwrap_or_else(|| &rule.spec().examples.as_ref().unwrap().shape);
            let line = out.matches('\n').count() as u64 + 1;
            out.push_str(&token_for(set, rule, shape, *seed * 7919));
            expected.push((path.to_string(), line, name.to_string()));
        }
        rest = &after[end + MARK.len()..];
    }
    out.push_str(rest);
    (out, expected)
}

/// `dot.env` in the corpus is `.env` in the scanned repository (so that this repository does
/// not hold files its own hook warns about).
pub fn staged_name(name: &str) -> String {
    match name.strip_prefix("dot.") {
        Some(rest) => format!(".{rest}"),
        None => name.to_string(),
    }
}

#[test]
fn real_world_corpus_has_full_recall_and_no_false_positives() {
    let set = RuleSet::builtin().unwrap();
    let repo = TestRepo::new();
    let mut expected: BTreeSet<Expected> = BTreeSet::new();
    let mut seed = 15_000;
    let mut file_types = BTreeSet::new();
    let mut corpus_lines = 0;
    let mut entries: Vec<_> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for file in entries {
        let name = staged_name(file.file_name().unwrap().to_str().unwrap());
        let template = std::fs::read_to_string(&file).unwrap();
        corpus_lines += template.lines().filter(|l| !l.trim().is_empty()).count();
        file_types.insert(match name.rsplit_once('.') {
            Some((_, ext)) => ext.to_string(),
            None => name.clone(),
        });
        let (text, planted) = expand(&set, &name, &template, &mut seed);
        repo.write(&name, &text);
        expected.extend(planted);
    }
    repo.git(&["add", "-A"]);
    let run = repo.tokenguard(&["scan-staged", "--format", "json"]);
    let found: BTreeSet<Expected> = findings(&run.json())
        .into_iter()
        .map(|(rule, path, line, _)| (path, line, rule))
        .collect();

    // Per provider: planted, found by the right rule, and findings nobody planted.
    let provider_of = |rule_id: &str| {
        let rule = set.get(rule_id).unwrap();
        set.provider(rule).name.clone()
    };
    let mut table: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for item in &expected {
        let row = table.entry(provider_of(&item.2)).or_default();
        row.0 += 1;
        if found.contains(item) {
            row.1 += 1;
        }
    }
    let false_positives: Vec<&Expected> = found.difference(&expected).collect();
    for item in &false_positives {
        table.entry(provider_of(&item.2)).or_default().2 += 1;
    }
    let mut report = format!(
        "{:44} {:>7} {:>6} {:>7} {:>3}\n",
        "provider", "planted", "found", "recall", "FP"
    );
    for (provider, (planted, hit, fp)) in &table {
        let recall = if *planted == 0 {
            "-".to_string()
        } else {
            format!("{:.0}%", 100.0 * *hit as f64 / *planted as f64)
        };
        report.push_str(&format!(
            "{provider:44} {planted:>7} {hit:>6} {recall:>7} {fp:>3}\n"
        ));
    }
    let hits = expected.intersection(&found).count();
    report.push_str(&format!(
        "total: {hits}/{} found, {} false positives; {} providers, {} file types, {corpus_lines} lines\n",
        expected.len(),
        false_positives.len(),
        table.len(),
        file_types.len()
    ));
    println!("{report}");

    let missed: Vec<&Expected> = expected.difference(&found).collect();
    assert!(
        missed.is_empty() && false_positives.is_empty(),
        "{report}missed {missed:#?}\nfalse positives {false_positives:#?}"
    );
    assert!(corpus_lines >= 150, "{corpus_lines} corpus lines");
    assert!(table.len() >= 20, "{} providers", table.len());
    assert!(file_types.len() >= 12, "{file_types:?}");
}
