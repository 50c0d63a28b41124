//! What the human report needs to know about how it was run, as plain data: which index git
//! handed the hook (`git commit -a` and `git commit PATHS` use a temporary one), where the
//! commit message is, whether the pre-commit framework runs us, the screen's width and how
//! much to say. Commands fill it from the process ([`Context::from_process`]); reports and
//! tests take it as a value.

use std::path::Path;

/// Which index the commit being made comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CommitIndex {
    /// `git commit`: the staged index.
    #[default]
    Staged,
    /// `git commit -a`: the staged index plus every tracked file as on disk.
    All,
    /// `git commit PATHS`: the named files as on disk, in a temporary index.
    Paths,
}

impl CommitIndex {
    /// From `GIT_INDEX_FILE` as git sets it for hooks: `.git/index` for a plain commit,
    /// `.git/index.lock` for `-a`, `.git/next-index-PID.lock` for `git commit PATHS`.
    pub fn from_index_file(index_file: Option<&str>) -> CommitIndex {
        let name = index_file
            .map(|path| path.rsplit('/').next().unwrap_or(path))
            .unwrap_or("index");
        if name == "index.lock" {
            CommitIndex::All
        } else if name.starts_with("next-index") {
            CommitIndex::Paths
        } else {
            CommitIndex::Staged
        }
    }
}

/// How much a blocked commit's report says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detail {
    /// Where, what, one command to fix, one line to rotate, how to allow, how to skip.
    #[default]
    Short,
    /// Also each provider's whole rotation checklist and every way to allow a line.
    Full,
}

/// What a hook prints when nothing is found (`[output] clean`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clean {
    /// One line: "no secrets found" and what was scanned.
    #[default]
    Line,
    /// Nothing, as `git commit -q` users expect (git tells hooks nothing about `-q`).
    Silent,
}

/// How the report was asked for, beyond the findings.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub index: CommitIndex,
    /// The commit message file as the user can name it from where they ran `git commit`.
    pub message_file: Option<String>,
    /// The pre-commit framework runs tokenguard (`PRE_COMMIT` is set): it skips a hook with
    /// `SKIP=<hook id>`.
    pub framework: bool,
    /// A git hook runs tokenguard (git sets `GIT_INDEX_FILE` for pre-commit and commit-msg),
    /// or the framework does: a blocked scan blocks a commit. By hand, it blocks nothing.
    pub hook: bool,
    /// Columns to wrap to; `None`: no wrapping (not a terminal).
    pub width: Option<usize>,
    pub detail: Detail,
    /// The paths of the index the commit is made from, where a finding's own path holds a
    /// secret: the pattern that renames it is checked against them. `None`: not read.
    pub staged_paths: Option<Vec<String>>,
}

impl Context {
    /// The context of this process: git's variables for hooks, the terminal's width.
    /// `message_file` is the file `scan-message` read, as git passed it (relative to the
    /// worktree's top level, where hooks run).
    pub fn from_process(message_file: Option<&Path>, detail: Detail) -> Context {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let prefix = var("GIT_PREFIX");
        Context {
            index: CommitIndex::from_index_file(var("GIT_INDEX_FILE").as_deref()),
            message_file: message_file.map(|file| as_seen_from(file, prefix.as_deref())),
            framework: var("PRE_COMMIT").is_some(),
            hook: var("GIT_INDEX_FILE").is_some() || var("PRE_COMMIT").is_some(),
            width: super::wrap::terminal_width(),
            detail,
            staged_paths: None,
        }
    }
}

/// `file` (relative to the top level, or absolute) as named from the directory `prefix`
/// (`GIT_PREFIX`: where the user ran git, relative to the top level, ending in `/`).
fn as_seen_from(file: &Path, prefix: Option<&str>) -> String {
    let text = file.to_string_lossy();
    if file.is_absolute() {
        return text.into_owned();
    }
    let depth = prefix.map_or(0, |p| p.split('/').filter(|c| !c.is_empty()).count());
    "../".repeat(depth) + &text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_git_hands_a_hook_tells_how_the_commit_was_made() {
        let cases = [
            (None, CommitIndex::Staged),
            (Some(".git/index"), CommitIndex::Staged),
            (Some("/r/.git/index.lock"), CommitIndex::All),
            (Some("/r/.git/next-index-4242.lock"), CommitIndex::Paths),
        ];
        for (file, expected) in cases {
            assert_eq!(CommitIndex::from_index_file(file), expected, "{file:?}");
        }
    }

    #[test]
    fn the_message_file_is_named_from_where_git_ran() {
        let file = Path::new(".git/COMMIT_EDITMSG");
        assert_eq!(as_seen_from(file, None), ".git/COMMIT_EDITMSG");
        assert_eq!(
            as_seen_from(file, Some("src/app/")),
            "../../.git/COMMIT_EDITMSG"
        );
        let absolute = Path::new("/w/.git/worktrees/b/COMMIT_EDITMSG");
        assert_eq!(
            as_seen_from(absolute, Some("src/")),
            absolute.to_str().unwrap()
        );
    }
}
