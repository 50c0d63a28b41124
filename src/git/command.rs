//! The one place tokenguard runs git itself, for what libgit2 does not do as git does: which
//! commits a range selects (`rev-list`), the comment prefix `git -c` sets, what `.gitignore`
//! says and how the index is changed for a fix, where the hooks go.

use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};

use crate::error::{Error, Result};

/// A git command being put together; stdin is closed.
pub struct Git {
    command: Command,
    /// The subcommand, for the error when git cannot be started.
    name: String,
}

impl Default for Git {
    fn default() -> Git {
        Git::new()
    }
}

impl Git {
    /// `git ARGS...` in the current directory, as the user's shell would run it.
    pub fn new() -> Git {
        let mut command = Command::new("git");
        command.stdin(Stdio::null());
        Git {
            command,
            name: String::new(),
        }
    }

    /// `git --git-dir DIR`: the repository at `git_dir`, whatever the current directory.
    pub fn in_git_dir(git_dir: &Path) -> Git {
        Git::new().arg("--git-dir").arg(git_dir)
    }

    /// `git -C DIR`: run as if started in `dir`.
    pub fn in_dir(dir: &Path) -> Git {
        Git::new().arg("-C").arg(dir)
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Git {
        let arg = arg.as_ref();
        let text = arg.to_string_lossy();
        // The first word that is no option nor an option's value names the command.
        if self.name.is_empty() && !text.starts_with('-') && !self.takes_value() {
            self.name = text.into_owned();
        }
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(self, args: I) -> Git
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        args.into_iter().fold(self, Git::arg)
    }

    /// True right after an option of git's own that takes the next argument as its value.
    fn takes_value(&self) -> bool {
        let last = self.command.get_args().last();
        last.is_some_and(|arg| matches!(arg.to_str(), Some("-C" | "-c" | "--git-dir")))
    }

    /// Runs it and collects stdout and stderr.
    pub fn output(mut self) -> Result<Output> {
        let name = std::mem::take(&mut self.name);
        self.command.output().map_err(failed(name))
    }

    /// Starts it with stdout and stderr piped, for [`std::process::Child::wait_with_output`].
    pub fn spawn(mut self) -> Result<std::process::Child> {
        let name = std::mem::take(&mut self.name);
        (self.command)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(failed(name))
    }

    /// Runs it with stdout and stderr discarded, for its exit status only.
    pub fn status(mut self) -> Result<ExitStatus> {
        let name = std::mem::take(&mut self.name);
        (self.command)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(failed(name))
    }

    /// Its trimmed stdout when it succeeds; `None` when git exits non-zero (an unset key).
    pub fn stdout_if_success(self) -> Result<Option<String>> {
        let output = self.output()?;
        Ok(output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string()))
    }
}

/// The error of a git command that could not be run (git missing, a failed wait).
pub(super) fn failed(command: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::RunGit { command, source }
}

/// `git ARGS...` in the current directory: its trimmed stdout when it succeeds, `None` when
/// git exits non-zero (an unset key).
pub fn git_stdout(args: &[&str]) -> Result<Option<String>> {
    Git::new().args(args).stdout_if_success()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_names_the_subcommand_not_an_option_value() {
        let git = Git::new()
            .arg("--no-replace-objects")
            .arg("--git-dir")
            .arg("/repo/.git")
            .args(["rev-list", "--reverse"]);
        assert_eq!(git.name, "rev-list");
        assert_eq!(
            Git::in_dir(Path::new("config")).arg("status").name,
            "status"
        );
    }
}
