//! tokenguard: blocks API tokens of ML platforms before they enter git history.
//!
//! The folders are the stages of one pipeline, in the order data flows through them:
//!
//! ```text
//! config (layers, policy) -> scan::Setup (one scanner) -> scan::Source (staged, files, tree,
//!   commits + tags) -> git (what each adds, blob by blob) -> detect (prefilter -> rule
//!   regexes -> filters -> overlaps -> suppressions) -> findings -> redact -> report + exit
//! ```
//!
//! `commands` picks a source and a report for each command; `scan` drives everything between;
//! `redact` is the one place printed text loses its secrets.
#![warn(clippy::print_stdout, clippy::print_stderr)]

/// Command-line definition (clap).
pub mod cli;
/// One room per command: arguments in, exit status out.
pub mod commands;
/// Layered user configuration merged over the built-in rules.
pub mod config;
/// Rules, prefilter, scanner and filters: bytes in, findings out.
pub mod detect;
/// The one error type.
pub mod error;
/// The process exit status.
pub mod exit;
/// A finding: the one place a secret is redacted and fingerprinted.
pub mod finding;
/// The only git code: what a commit, range or push adds, blob by blob.
pub mod git;
/// The one redactor of printed text.
pub mod redact;
/// Human, JSON and SARIF reports, written to any `impl Write`.
pub mod report;
/// The pipeline: settings -> scanner once, a source's entries -> collector -> outcome.
pub mod scan;
/// Byte buffers kept per thread and lent to one blob at a time.
pub mod scratch;
/// The opt-in live check of found tokens (`--verify`).
pub mod verify;

#[cfg(test)]
mod test_support;

pub use commands::{install_panic_hook, run};
pub use exit::ExitStatus;
