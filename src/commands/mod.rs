//! Commands: one room each. A command reads its arguments, builds the settings and the scanner
//! once, asks `git` for what to read, hands the bytes to `detect`, and writes a `report`; this
//! is the only stage that knows the command line and the process (colour, stdout, the panic
//! hook). Dependencies run one way: commands -> git, detection, config, report.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::cli::{Cli, ColorChoice, Command};
use crate::config::{self, ConfigOptions, IGNORE_FILE, Settings};
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::git::Repo;
use crate::report::Mode;
use crate::scan::Environment;

mod atomic;
mod baseline;
mod config_show;
mod docs;
mod explain;
mod fix;
mod ignore;
mod import;
/// Hook installation and removal (`tokenguard install`, `uninstall`).
pub mod install;
mod message;
mod output;
mod rules;
mod scan;
mod server_config;

/// Runs one command and returns how the process should exit.
pub fn run(cli: &Cli, env: &Environment) -> Result<ExitStatus> {
    configure_color(cli.color);
    let options = ConfigOptions {
        config: cli.config.clone(),
        no_config: cli.no_config,
    };
    match &cli.command {
        Command::ScanStaged { paths, output } => scan::staged(paths, output, &options, env),
        Command::ScanFiles { paths, output } => scan::files(paths, output, &options, env),
        Command::ScanTree { rev, output } => scan::tree(rev, output, &options, env),
        Command::ScanRange { range, output } => scan::range(range, output, &options, env),
        Command::ScanPush { remote, output, .. } => {
            scan::push(remote.as_deref(), output, &options, env)
        }
        Command::ScanMessage { file, output } => message::message(file, output, &options, env),
        Command::Install(args) => install::install(args),
        Command::Uninstall(args) => install::uninstall(args),
        Command::Rules(args) => rules::run(args, &options),
        Command::Config(args) => config_show::run(args, &options),
        Command::Ignore(args) => ignore::run(args),
        Command::Baseline(args) => baseline::run(args, &options, env),
        Command::Import(args) => import::run(args, &options, env),
        Command::Completions { shell } => docs::completions(*shell),
        Command::Man { dir } => docs::man(dir.as_deref()),
        Command::Fix(args) => fix::run(args, &options),
        Command::Explain(args) => explain::run(args, &options, env),
    }
}

fn configure_color(choice: ColorChoice) {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    let enabled = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR") => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE") => true,
        ColorChoice::Auto => std::io::stdout().is_terminal(),
    };
    colored::control::set_override(enabled);
}

/// Settings for a repository rooted at `workdir` (config layers and the ignore file there).
pub(crate) fn settings_for(
    options: &ConfigOptions,
    workdir: Option<&std::path::Path>,
) -> Result<Settings> {
    let layers = config::load_layers(options, workdir)?;
    let ignore_file = match options.no_config {
        true => None,
        false => workdir.map(|root| root.join(IGNORE_FILE)),
    };
    Settings::build(&layers, ignore_file.as_deref())
}

/// The worktree's top level when run inside a repository.
fn repository_root() -> Option<PathBuf> {
    Repo::open()
        .ok()
        .and_then(|repo| repo.workdir().map(PathBuf::from))
}

/// What a command is for, which decides how its errors are worded: the commit, push, server,
/// history or files scan; `None` for the setup commands.
pub fn mode_of(command: &Command, env: &Environment) -> Option<Mode> {
    match command {
        Command::ScanStaged { .. } if env.framework_refs.is_some() => Some(Mode::Push),
        Command::ScanStaged { .. } => Some(Mode::Commit),
        Command::ScanPush {
            remote: Some(_), ..
        } => Some(Mode::Push),
        // pre-receive passes no remote name, and runs in the server's bare repository.
        Command::ScanPush { remote: None, .. } => Some(match Repo::open() {
            Ok(repo) if repo.workdir().is_none() => Mode::Server,
            _ => Mode::Push,
        }),
        Command::ScanRange { .. } => Some(Mode::History),
        Command::ScanMessage { .. } => Some(Mode::Message),
        Command::ScanFiles { .. } | Command::ScanTree { .. } | Command::Baseline(_) => {
            Some(Mode::Files)
        }
        Command::Install(_)
        | Command::Uninstall(_)
        | Command::Rules(_)
        | Command::Config(_)
        | Command::Ignore(_)
        | Command::Import(_)
        | Command::Completions { .. }
        | Command::Man { .. }
        | Command::Fix(_)
        | Command::Explain(_) => None,
    }
}

/// Whether a watchdog runs already: `--timeout` wins over the configuration's `timeout`.
static WATCHDOG: std::sync::Once = std::sync::Once::new();

/// `--timeout` (or `timeout` under `[scan]`): a command that runs longer fails closed with a
/// message, worded for its mode, instead of hanging a commit. Only the first call counts.
pub fn start_watchdog(seconds: f64, mode: Option<Mode>) {
    WATCHDOG.call_once(|| {
        let limit = std::time::Duration::from_secs_f64(seconds.max(0.0));
        std::thread::spawn(move || {
            std::thread::sleep(limit);
            // A progress line may be on the terminal: the message starts on a clean line.
            let clear = match std::io::stderr().is_terminal() {
                true => "\r\x1b[2K",
                false => "",
            };
            let _ = writeln!(
                std::io::stderr(),
                "{clear}tokenguard: error: the scan took longer than its timeout of {seconds}s (--timeout, or timeout under [scan]){}",
                Mode::error_note(mode)
            );
            std::process::exit(ExitStatus::Error as i32);
        });
    });
}

/// Replaces the default panic message, which could quote data, with one that names only the
/// source location, and says what the failure means for the command (`mode`, when known).
pub fn install_panic_hook(mode: Option<Mode>) {
    std::panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "tokenguard: internal error at {location} (a bug; please report it){}",
            Mode::error_note(mode)
        );
    }));
}
