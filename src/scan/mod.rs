//! The pipeline, from settings to an outcome. A command picks a
//! [`Source`](crate::scan::Source) and a report; this stage does everything in between, in
//! this order:
//!
//! ```text
//! Settings -> Setup (scanner, walk options, sensitive-file matcher), built once
//! Source (staged | paths | tree | commits + tags) -> entries, each with its origin
//!   -> Collector (per blob: prefilter, hits, added lines, findings; per thread, merged)
//!   -> visit_commit (a commit's blobs, names and message; shallow boundaries as baseline)
//!   -> optional live check -> Outcome (findings, warnings, statistics)
//! ```
//!
//! The process environment is read once into an [`Environment`](crate::scan::Environment) by
//! the caller.

use crate::config::{SensitiveMatcher, Settings};
use crate::detect::Scanner;
use crate::error::Result;
use crate::git::{Repo, WalkOptions};
use crate::report::{self, Outcome};
use collect::{Collector, check_liveness};

mod call_reach;
pub mod collect;
mod early;
mod environment;
mod history;
mod progress;
mod region;
mod shared_lines;
mod source;
mod stats;

pub use environment::{Environment, FrameworkRefs};
pub use source::Source;
pub use stats::ScanStats;

/// What every blob of a run shares, built once from the settings.
pub struct Setup {
    pub scanner: Scanner,
    pub walk: WalkOptions,
    pub sensitive: SensitiveMatcher,
    /// A staged credentials file (`.env`) blocks rather than warns.
    pub block_sensitive: bool,
    /// The user config asks for the live check.
    pub verify: bool,
    /// How much the human report says (`[output] detail`).
    pub detail: crate::report::context::Detail,
    /// What a hook prints when nothing is found (`[output] clean`).
    pub clean: crate::report::context::Clean,
}

impl Setup {
    /// The scanner and options of `settings`; `keep_secrets` for a live check or a fix.
    pub fn new(settings: Settings, env: &Environment, keep_secrets: bool) -> Setup {
        let walk = WalkOptions {
            max_file_size: settings.scan.max_file_size,
            scan_binary: settings.scan.scan_binary,
        };
        let block_sensitive = settings.scan.block_sensitive_files;
        let verify = settings.scan.verify;
        let detail = settings.output.detail;
        let clean = settings.output.clean;
        let Settings {
            rules,
            policy,
            sensitive,
            ..
        } = settings;
        let scanner = Scanner::with_policy(rules, policy)
            .keeping_secrets(keep_secrets || verify)
            .with_decoding(env.decoding);
        Setup {
            scanner,
            walk,
            sensitive,
            block_sensitive,
            verify,
            detail,
            clean,
        }
    }
}

/// How a scan runs besides what it reads: the live check and the progress line.
pub struct Checks {
    pub verify: bool,
    pub verify_timeout: f64,
    /// No progress line (`-q`).
    pub quiet: bool,
}

/// Reads `source` with `settings`, scans it and, with `verify` (or `verify` in the user
/// config), checks what was found; the scanner comes back for the report.
pub fn gather(
    repo: &Repo,
    source: &Source,
    checks: Checks,
    settings: Settings,
    env: &Environment,
) -> Result<(Outcome, Scanner)> {
    let Checks {
        verify,
        verify_timeout,
        quiet,
    } = checks;
    let mode = source.mode();
    let setup = Setup::new(settings, env, verify);
    let verify = verify || setup.verify;
    let mut collector = Collector::new(
        &setup.sensitive,
        setup.block_sensitive,
        &setup.scanner,
        mode,
    );
    let mut baseline = report::ShallowBaseline::default();
    let mut progress = source.progress(quiet, env)?;
    let reading = source::Reading {
        walk: setup.walk,
        progress: &mut progress,
        plain_history: env.plain_history,
    };
    source.read(repo, reading, &mut collector, &mut baseline)?;
    progress.finish();
    if verify {
        let timeout = std::time::Duration::from_secs_f64(verify_timeout.clamp(0.1, 120.0));
        check_liveness(&mut collector, &setup.scanner, timeout);
    }
    let outcome = Outcome {
        mode,
        findings: collector.findings,
        warnings: collector.warnings,
        stats: report::Stats {
            scan: collector.stats,
            suppressed: collector.suppressed,
            shallow: baseline,
        },
        detail: setup.detail,
        clean: setup.clean,
    };
    Ok((outcome, setup.scanner))
}
