//! tokenguard: blocks API tokens of ML platforms before they enter git history.
//!
//! The modules are the stages of one pipeline, in the order data flows through them:
//!
//! ```text
//! staged change (git2) -> added lines -> keyword prefilter -> rule regexes -> filters -> findings -> report
//! ```
#![warn(clippy::print_stdout, clippy::print_stderr)]

/// Command-line definition (clap).
pub mod cli;
/// Layered user configuration merged over the built-in rules.
pub mod config;
/// The one error type.
pub mod error;
/// Rule examples expanded into cases, and the catalog self-check.
pub mod examples;
/// Placeholders, references, entropy and inline allow comments.
pub mod filter;
/// A finding: the one place a secret is redacted and fingerprinted.
pub mod finding;
/// Gitignore-like path globs for allowlists.
pub mod glob;
/// git's index file and its cache tree, read directly (the fast path of `scan-staged`).
pub mod index;
/// Line numbers a change adds to a blob.
pub mod lines;
/// What the configuration allows: disabled rules, allowlists, ignored fingerprints.
pub mod policy;
/// Aho-Corasick keyword prefilter: which rules can match a blob at all.
pub mod prefilter;
/// Human and JSON reports, written to any `impl Write`.
pub mod report;
/// Built-in rules (`config/rules.toml`) parsed, validated and compiled.
pub mod rules;
/// Candidate rules' regexes over a blob, restricted to added lines.
pub mod scan;
/// The rules file's schema (serde types; build.rs shares it).
pub mod schema;
/// Example token shapes turned into concrete tokens (tests and self-checks).
pub mod shape;
/// The only git2 code: what the commit being made adds, blob by blob.
pub mod staged;

/// The opt-in live check of found tokens (`--verify`).
pub mod verify;

mod app;
/// Hook installation and removal (`tokenguard install`, `uninstall`).
pub mod install;

pub use app::{ExitStatus, install_panic_hook, redact_secrets, run};
