//! `scan-message FILE`: the commit-msg hook. The message git is about to record is scanned
//! like a new file; a finding blocks the commit before it exists.

use std::path::Path;

use super::scan::write_outcome;
use super::settings_for;
use crate::cli::ScanArgs;
use crate::config::ConfigOptions;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::finding::Location;
use crate::git::Repo;
use crate::report::{self, Mode, Outcome};
use crate::scan::collect::Collector;
use crate::scan::{Environment, Setup};

pub(super) fn message(
    file: &Path,
    output: &ScanArgs,
    options: &ConfigOptions,
    env: &Environment,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    let settings = settings_for(options, repo.workdir())?;
    let text = std::fs::read(file).map_err(|source| Error::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let setup = Setup::new(settings, env, false);
    let mut collector = Collector::new(&setup.sensitive, false, &setup.scanner, Mode::Message);
    collector.visit_message(recorded_part(&repo, &text), Location::CommitMessage, None);
    let outcome = Outcome {
        mode: Mode::Message,
        findings: collector.findings,
        warnings: Vec::new(),
        stats: report::Stats {
            scan: collector.stats,
            suppressed: collector.suppressed,
            shallow: report::ShallowBaseline::default(),
        },
        detail: setup.detail,
        clean: setup.clean,
    };
    write_outcome(outcome, output, &setup.scanner, Some(file))
}

/// What git records of the message: all of it, unless git put its scissors block into an
/// editor (`git commit -v`), below which it drops everything.
fn recorded_part<'a>(repo: &Repo, text: &'a [u8]) -> &'a [u8] {
    // Most messages hold no scissors: no need to ask git for its comment character.
    if crate::git::message_had_no_editor() || memchr::memmem::find(text, b">8").is_none() {
        return text;
    }
    crate::git::before_git_scissors(text, &repo.comment_char())
}
