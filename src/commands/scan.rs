//! The scan commands (`scan-staged`, `scan-files`, `scan-tree`, `scan-range`, `scan-push`):
//! each picks a [`Source`], runs the pipeline ([`crate::scan`]) and writes the report.

use std::io::Write;
use std::path::PathBuf;

use super::settings_for;
use crate::cli::{ScanArgs, ScanFormat};
use crate::config::ConfigOptions;
use crate::detect::Scanner;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::git::Repo;
use crate::report::{self, Mode, Outcome};
use crate::scan::{Checks, Environment, Source, gather};

/// `scan-staged`: what the commit being made adds.
pub(super) fn staged(
    paths: &[PathBuf],
    output: &ScanArgs,
    options: &ConfigOptions,
    env: &Environment,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    let source = Source::staged(&repo, paths, env)?;
    let status = scan(&repo, &source, output, options, env);
    // The hook's process ends here: closing libgit2's repository (caches, pack windows, the
    // config) one allocation at a time is work for nothing (1% of a small commit's check).
    std::mem::forget(repo);
    status
}

/// `scan-files`: named files and directories, whole.
pub(super) fn files(
    paths: &[PathBuf],
    output: &ScanArgs,
    options: &ConfigOptions,
    env: &Environment,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    scan(&repo, &Source::Paths(paths.to_vec()), output, options, env)
}

/// `scan-tree`: every file of a tree, whole.
pub(super) fn tree(
    rev: &str,
    output: &ScanArgs,
    options: &ConfigOptions,
    env: &Environment,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    scan(&repo, &Source::Tree(rev.to_string()), output, options, env)
}

/// `scan-range`: what each commit of a range adds.
pub(super) fn range(
    selection: &[String],
    output: &ScanArgs,
    options: &ConfigOptions,
    env: &Environment,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    let source = Source::range(&repo, selection)?;
    scan(&repo, &source, output, options, env)
}

/// `scan-push`: what a push (or a receive) adds.
pub(super) fn push(
    remote: Option<&str>,
    output: &ScanArgs,
    options: &ConfigOptions,
    env: &Environment,
) -> Result<ExitStatus> {
    let repo = Repo::open()?;
    let source = Source::push(&repo, remote, env)?;
    scan(&repo, &source, output, options, env)
}

/// Settings, then the pipeline over `source`, then the report.
fn scan(
    repo: &Repo,
    source: &Source,
    output: &ScanArgs,
    options: &ConfigOptions,
    env: &Environment,
) -> Result<ExitStatus> {
    let settings = match (source, repo.workdir()) {
        // A server's receive: the repository's files as its default branch holds them.
        (Source::Commits(_, _, Mode::Server), None) => {
            super::server_config::settings(repo, options)?
        }
        (_, workdir) => settings_for(options, workdir)?,
    };
    if let Some(seconds) = settings.scan.timeout {
        super::start_watchdog(seconds, Some(source.mode()));
    }
    let checks = Checks {
        verify: output.verify,
        verify_timeout: output.verify_timeout,
        quiet: output.quiet,
    };
    let (outcome, scanner) = gather(repo, source, checks, settings, env)?;
    let status = write_outcome(outcome, output, &scanner, None);
    // The process ends after the report: freeing the compiled rules, automata and regexes one
    // by one costs more than a small commit's whole scan takes (0.6 M instructions).
    std::mem::forget(scanner);
    status
}

/// Writes the report in the format asked for; the exit status follows from the outcome.
/// `message_file` is the commit message `scan-message` read, which the advice names.
pub(super) fn write_outcome(
    outcome: Outcome,
    output: &ScanArgs,
    scanner: &Scanner,
    message_file: Option<&std::path::Path>,
) -> Result<ExitStatus> {
    let status = if outcome.blocks() && !output.exit_zero {
        ExitStatus::Blocked
    } else {
        ExitStatus::Clean
    };
    // With --output, the files get the machine report and the terminal the human one.
    for target in &output.outputs {
        let format = super::output::format_of(target, output.format);
        super::output::write_report(&target.path, |file| {
            render(file, format, &outcome, output, scanner, message_file)
        })?;
    }
    let format = match output.outputs.is_empty() {
        true => output.format,
        false => ScanFormat::Human,
    };
    let mut stdout = std::io::stdout().lock();
    let written = render(&mut stdout, format, &outcome, output, scanner, message_file)
        .and_then(|()| stdout.flush());
    match written {
        // A reader that stopped early (`| head`) does not change what was found.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(status),
        Err(err) => Err(err.into()),
        Ok(()) => Ok(status),
    }
}

/// One report of `outcome` in `format`.
fn render(
    out: &mut impl Write,
    format: ScanFormat,
    outcome: &Outcome,
    output: &ScanArgs,
    scanner: &Scanner,
    message_file: Option<&std::path::Path>,
) -> std::io::Result<()> {
    match format {
        ScanFormat::Human => {
            let options = report::human::Options {
                quiet: output.quiet,
                verbose: output.verbose,
                fixable: (outcome.findings.iter())
                    .map(|f| super::fix::fixable(f.path()))
                    .collect(),
            };
            let mut context = report::context::Context::from_process(message_file, outcome.detail);
            context.staged_paths = staged_paths_to_check(outcome);
            let ids = outcome.findings.iter().map(|f| f.rule_id.as_str());
            let catalog = report::catalog::Catalog::of_rules(scanner.rules(), ids);
            report::human::write(out, outcome, &catalog, &options, &context)
        }
        ScanFormat::Json => {
            let ids = outcome.findings.iter().map(|f| f.rule_id.as_str());
            let catalog = report::catalog::Catalog::of_rules(scanner.rules(), ids);
            report::json::write(out, outcome, &catalog)
        }
        ScanFormat::Sarif => {
            let catalog = report::catalog::Catalog::whole(scanner.rules());
            report::sarif::write(out, outcome, &catalog)
        }
    }
}

/// The index's paths, when the advice will rename a staged file whose name holds a secret
/// (its pattern is checked against them); `None` otherwise or when the index cannot be read,
/// where the advice goes unchecked.
fn staged_paths_to_check(outcome: &Outcome) -> Option<Vec<String>> {
    let renames = outcome.mode == Mode::Commit
        && (outcome.findings.iter()).any(|f| f.part() == crate::finding::Part::Path);
    if !renames {
        return None;
    }
    Repo::open().ok()?.staged_paths().ok()
}
