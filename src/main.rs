//! The `tokenguard` binary: parse arguments, run the library, turn the outcome into an exit code.

use std::io::Write;
use std::process::ExitCode;

use tokenguard::report::Mode;

fn main() -> ExitCode {
    tokenguard::install_panic_hook(None);
    let cli = tokenguard::cli::Cli::parse_args();
    let env = tokenguard::scan::Environment::read();
    let mode = tokenguard::commands::mode_of(&cli.command, &env);
    tokenguard::install_panic_hook(mode);
    let note = Mode::error_note(mode);
    if let Some(seconds) = cli.timeout {
        tokenguard::commands::start_watchdog(seconds, mode);
    }
    let outcome = std::panic::catch_unwind(|| {
        // Test hook for the panic handler: its message must never reach the terminal.
        if let Ok(message) = std::env::var("TOKENGUARD_TEST_PANIC") {
            panic!("{message}");
        }
        tokenguard::run(&cli, &env)
    });
    let status = match outcome {
        Ok(Ok(status)) => status,
        // A reader that went away (`tokenguard rules | head`) is not an error.
        Ok(Err(tokenguard::error::Error::Write(err)))
            if err.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            tokenguard::ExitStatus::Clean
        }
        Ok(Err(err)) => {
            let mut stderr = std::io::stderr().lock();
            // One line with the deliberate way out, where the mode has one: a hook that cannot
            // decide blocks. Errors can quote a config file or a path, so secrets in them are
            // redacted too.
            let message = tokenguard::redact::message(&err.to_string());
            let message = tokenguard::report::path::escape_controls(&message);
            let _ = writeln!(stderr, "tokenguard: error: {message}{note}");
            tokenguard::ExitStatus::Error
        }
        // The panic hook has already printed a message without any content.
        Err(_) => tokenguard::ExitStatus::Error,
    };
    ExitCode::from(status as u8)
}
