//! The one error type: every failure is a lowercase one-line message naming what it concerns.

use std::path::{Path, PathBuf};

/// Everything that stops a scan before it can decide; all of them exit with status 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a git repository (or any parent up to the mount point): {0}")]
    NotARepository(String),
    #[error("{context}: {}{}", source.message(), git_hint(source))]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
    #[error("rules file {path}: {message}")]
    Rules { path: String, message: String },
    #[error("rule {id}: {message}")]
    Rule { id: String, message: String },
    #[error("cannot read the index {path}: {message}")]
    Index { path: PathBuf, message: String },
    #[error("{path}:{line}:{column}: {message}")]
    Config {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot rename {from} to {to}: {source}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot remove {path}: {source}")]
    Remove {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot change the mode of {path}: {source}")]
    SetMode {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// git itself could not be started (not installed, not on `PATH`).
    #[error("cannot run git {command}: {source}")]
    RunGit {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// `HOME` is unset: there is no user config or global hooks directory to name.
    #[error("HOME is not set")]
    HomeNotSet,
    /// A variable of ours holds a value it cannot take.
    #[error("{variable} must be {expected}, not {value:?}")]
    BadVariable {
        variable: &'static str,
        expected: &'static str,
        value: String,
    },
    /// A command that edits files runs in a bare repository.
    #[error("tokenguard {command} runs in a work tree")]
    NoWorkTree { command: &'static str },
    /// A path named on the command line lies outside the repository.
    #[error("{} is outside the repository", .0.display())]
    OutsideRepository(PathBuf),
    #[error("--output {}: a directory, not a file", .0.display())]
    OutputIsDirectory(PathBuf),
    /// A file a fix would edit is not UTF-8.
    #[error("{} is not UTF-8 text; fix it by hand", .0.display())]
    NotText(PathBuf),
    /// Both a hook of someone else's and the copy a previous install kept of one exist.
    #[error("{} and {} both exist; merge them by hand", .hook.display(), .chained.display())]
    HooksToMerge { hook: PathBuf, chained: PathBuf },
    /// The hook tokenguard installed was replaced since: uninstalling would remove another's.
    #[error("{} is no longer tokenguard's hook; remove it by hand", .0.display())]
    HookReplaced(PathBuf),
    /// git ran and failed.
    #[error("git {command} failed ({status})")]
    GitFailed {
        command: String,
        status: std::process::ExitStatus,
    },
    /// Anything the user asked for that cannot be done as asked (a bad argument, a range git
    /// refuses, a hook someone else owns).
    #[error("{0}")]
    Usage(String),
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
}

/// What to do about the git errors a user can fix.
fn git_hint(source: &git2::Error) -> String {
    if source.code() == git2::ErrorCode::Owner {
        return " (if you trust it: git config --global --add safe.directory <path>)".to_string();
    }
    String::new()
}

impl Error {
    /// A failed read of `path`, for `map_err`.
    pub fn reading(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A failed write of `path`, for `map_err`.
    pub fn writing(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::WriteFile {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Wraps a libgit2 error with what we were doing when it happened.
    pub fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
        let context = context.into();
        move |source| Error::Git { context, source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
