//! The one error type: every failure is a lowercase one-line message naming what it concerns.

use std::path::PathBuf;

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
    /// Wraps a libgit2 error with what we were doing when it happened.
    pub fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
        let context = context.into();
        move |source| Error::Git { context, source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
