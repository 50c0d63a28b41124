//! The `tokenguard` binary: parse arguments, run the library, turn the outcome into an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tokenguard::install_panic_hook();
    let cli = tokenguard::cli::Cli::parse();
    let outcome = std::panic::catch_unwind(|| tokenguard::run(&cli));
    let status = match outcome {
        Ok(Ok(status)) => status,
        Ok(Err(err)) => {
            let mut stderr = std::io::stderr().lock();
            // One line with the deliberate way out: a hook that cannot decide blocks.
            let _ = writeln!(
                stderr,
                "tokenguard: error: {err} (commit blocked; to commit anyway, deliberately: \
                 git commit --no-verify)"
            );
            tokenguard::ExitStatus::Error
        }
        // The panic hook has already printed a message without any content.
        Err(_) => tokenguard::ExitStatus::Error,
    };
    ExitCode::from(status as u8)
}
