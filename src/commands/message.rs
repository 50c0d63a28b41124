//! `scan-message FILE`: the commit-msg hook. The message git is about to record is scanned
//! like a new file; a finding blocks the commit before it exists.

use std::path::Path;

use super::collect::Collector;
use super::scan::write_outcome;
use super::settings_for;
use crate::cli::ScanArgs;
use crate::config::ConfigOptions;
use crate::detect::Scanner;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::finding::Part;
use crate::git::Repo;
use crate::report::{self, Mode, Outcome};

/// The line `git commit -v` puts above the diff it shows; git drops it and all below.
const SCISSORS: &[u8] = b"------------------------ >8 ------------------------";

pub(super) fn message(
    file: &Path,
    output: &ScanArgs,
    options: &ConfigOptions,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    let settings = settings_for(options, repo.workdir())?;
    let text = std::fs::read(file).map_err(|source| Error::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let decoding = std::env::var_os("TOKENGUARD_MEASURE_WITHOUT_DECODING").is_none();
    let scanner = Scanner::with_policy(settings.rules, settings.policy).with_decoding(decoding);
    let mut collector = Collector::new(&settings.sensitive, false, &scanner, Mode::Message);
    collector.visit_message(before_scissors(&text), Part::CommitMessage, None, None);
    let outcome = Outcome {
        mode: Mode::Message,
        findings: collector.findings,
        warnings: Vec::new(),
        stats: report::Stats {
            staged: collector.stats,
            suppressed: collector.suppressed,
            shallow: report::ShallowBaseline::default(),
        },
        detail: settings.output.detail,
    };
    write_outcome(outcome, output, &scanner, Some(file))
}

/// The message without what `git commit -v` shows below its scissors line.
fn before_scissors(text: &[u8]) -> &[u8] {
    let mut at = 0;
    for line in text.split_inclusive(|b| *b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        if body.len() > 2 && body[1] == b' ' && body[2..] == *SCISSORS {
            return &text[..at];
        }
        at += line.len();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verbose_diff_is_not_part_of_the_message() {
        let text = b"subject\n\nbody\n# ------------------------ >8 ------------------------\n# Do not modify\ndiff --git a/x b/x\n";
        assert_eq!(before_scissors(text), b"subject\n\nbody\n");
        assert_eq!(before_scissors(b"just a subject"), b"just a subject");
    }
}
