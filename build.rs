//! Build-time work on the built-in rules, so that start-up reads tables instead of building
//! them: `build/catalog.rs` encodes `config/rules.toml` (the source of truth: an error in it
//! fails the build), `build/startup.rs` writes what the scan reads of every rule at start-up;
//! `build/link.rs` links the unwinder statically, so that start-up loads one library less.

#[path = "build/catalog.rs"]
mod catalog;
#[path = "build/dfa.rs"]
mod dfa;
#[path = "build/gates.rs"]
mod gates;
#[path = "src/detect/keyword_dfa.rs"]
#[allow(dead_code)]
mod keyword_dfa;
#[path = "src/detect/keyword_table.rs"]
mod keyword_table;
#[path = "src/detect/line_words.rs"]
#[allow(dead_code)]
mod line_words;
#[path = "build/link.rs"]
mod link;
#[path = "src/detect/run_syntax.rs"]
#[allow(dead_code)]
mod run_syntax;
#[path = "src/detect/schema.rs"]
#[allow(dead_code)]
mod schema;
#[path = "build/startup.rs"]
mod startup;
#[path = "src/detect/superset.rs"]
mod superset;
#[path = "src/detect/variables.rs"]
#[allow(dead_code)]
mod variables;

/// The paths the generator's module uses.
mod detect {
    pub(crate) use super::schema;
}

fn main() {
    println!("cargo:rerun-if-changed=build");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    link::static_unwinder(&out);
    let rules = catalog::load();
    let ranges = catalog::write(&rules, &out);
    startup::write(&rules, &ranges, &out);
    let keywords: Vec<&str> = (rules.rules.iter())
        .flat_map(|rule| rule.keywords.iter().map(String::as_str))
        .collect();
    gates::write(rules.rules.iter().map(|rule| rule.regex.as_str()), &out);
    gates::write_anchors(
        rules.rules.iter().map(|rule| rule.regex.as_str()),
        &keywords,
        &out,
    );
    // The generated credential-variable rules need no DFA: the scan runs their shared matcher
    // (src/detect/variable_match.rs), never their regexes.
    let generated: std::collections::HashSet<String> = variables::shapes(&rules.providers)
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    let written = rules
        .rules
        .iter()
        .filter(|rule| !generated.contains(&rule.id));
    dfa::write(written.map(|rule| rule.regex.as_str()), &out);
}
