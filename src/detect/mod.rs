//! Detection: bytes in, findings out. The built-in rules (data in `config/rules.toml`) and their
//! schema, the keyword prefilter that decides which rules can match a blob at all, the scanner
//! that runs candidate rules' regexes over the lines a change adds, the filters that drop
//! placeholders, references, allowed lines and what the policy allows, and the example shapes every rule proves itself
//! with.
//!
//! This stage never reads a repository or a file, knows nothing of git or the command line,
//! and never prints: callers hand it bytes and the line numbers to look at.

/// Rule regexes searched only around the keywords every match of theirs holds.
pub mod anchors;
/// Other views of a blob: escapes masked, UTF-16, URL and base64 runs decoded one level.
pub mod decode;
/// Where an inline directive counts: a comment on the secret's logical line.
pub mod directive;
/// Rule examples expanded into cases, and the catalog self-check.
pub mod examples;
/// References, entropy and inline allow comments.
pub mod filter;
/// Gitignore-like path globs for path allowlists.
pub mod glob;
/// The prefilter's automaton for big changes: one DFA over every keyword, case folded.
pub mod keyword_dfa;
/// The prefilter's keyword list and each keyword's rules (build.rs shares it).
pub mod keyword_table;
/// The words every match of a regex holds, and its reach from them (build.rs shares it).
pub mod line_words;
/// Line numbers a change adds to a blob, and line arithmetic over bytes.
pub mod lines;
/// A rule's context keywords looked for ahead of its regex: windows out of their reach skipped.
pub mod near_context;
/// Which cell, output and line of a Jupyter notebook a byte is in.
pub mod notebook;
/// Keyword search for small changes: tables of the keywords' first bytes, nothing to build.
pub mod pair_search;
/// Names of files and folders as context for the rules that need it.
pub mod path_context;
/// Documentation placeholders: whole-body shapes (`xxxx`, `YOUR_KEY`, `A1B2C3`).
pub mod placeholder;
/// What the configuration allows: disabled rules, allowlists, ignored fingerprints.
pub mod policy;
/// The DFAs build.rs made of the built-in regexes, read in place: no regex compiled for a clean line.
pub mod prebuilt_dfa;
/// Keyword prefilter (first-bytes tables, then Aho-Corasick): which rules can match a blob at all.
pub mod prefilter;
/// A built-in regex's cheap superset, asked before the regex is compiled.
pub mod regex_gate;
/// The run of one byte class every match of a regex holds, looked for before the regex runs.
pub mod required_run;
/// Built-in rules (`config/rules.toml`) parsed, validated and compiled.
pub mod rules;
/// The class run a regex's matches hold, read off its syntax tree (build.rs shares it).
pub mod run_syntax;
/// Candidate rules' regexes over a blob, restricted to added lines.
pub mod scanner;
/// The rules file's schema (serde types; build.rs shares it).
pub mod schema;
/// Example token shapes turned into concrete tokens (tests and self-checks).
pub mod shape;
/// A rule's compiled regex with search caches the scanning threads share.
pub mod shared_regex;
/// A regex's cheap superset: bounded repeats unbounded, Unicode classes as bytes (build.rs
/// shares it).
pub mod superset;
/// A blob's runs of token bytes, found once: every class-run search looks inside them.
pub mod token_runs;
/// The generated credential-variable rules' shared matcher: their names from a build-time
/// table, no regex per provider.
pub mod variable_match;
/// Credential-variable rules generated from each provider's variable names and SDK calls.
pub mod variables;

pub use lines::AddedLines;
pub use scanner::{Hits, Scanner};
