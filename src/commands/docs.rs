//! `completions` and `man`: shell completion scripts and man pages, generated from the clap
//! definition in `cli.rs`, so they can never disagree with the command line they describe.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;

/// The completion script for `shell`, on stdout.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<ExitStatus> {
    // clap_complete panics when its writer fails; a buffer cannot, and a closed stdout
    // (`| head`) then ends quietly like every other listing.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tokenguard", &mut script);
    write_stdout(&script)
}

/// The man page on stdout, or every page (one per command) into `dir`.
pub(super) fn man(dir: Option<&Path>) -> Result<ExitStatus> {
    let command = Cli::command();
    if let Some(dir) = dir {
        let failed = |err: std::io::Error| {
            Error::Usage(format!(
                "cannot write man pages to {}: {err}",
                dir.display()
            ))
        };
        std::fs::create_dir_all(dir).map_err(failed)?;
        clap_mangen::generate_to(command, dir).map_err(failed)?;
        return Ok(ExitStatus::Clean);
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    write_stdout(&page)
}

fn write_stdout(bytes: &[u8]) -> Result<ExitStatus> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(ExitStatus::Clean)
}
