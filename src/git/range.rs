//! Which commits a history scan visits: the command line's revisions and rev-list options,
//! selected by git's own `git rev-list`, and which of them are a shallow clone's boundary.
//!
//! git's selection language (`A...B`, `--all`, `--since=2.weeks`, `^X`, `--branches=x/*`,
//! `--first-parent`, several revisions) has one faithful implementation: libgit2's revwalk
//! knows `A..B` and single revisions but neither `...` (symmetric difference), date limits
//! (git's approxidate) nor the ref-selection options, so the selection is git's, run as a
//! subprocess, and only its list of commit ids is read.

use std::collections::HashSet;

use git2::Oid;

use super::command::failed;
use super::history::tags_on;
use super::{Git, Repo, TagMessage};
use crate::error::{Error, Result};

/// rev-list options that would change what it prints (so its output would no longer be one
/// commit id per line), read our stdin, reorder against our walk, or limit by path (a
/// history scan reads whole commits), each with the reason given to the user.
const REFUSED_OPTIONS: &[(&str, &str)] = &[
    (
        "--",
        "path limits are not supported: scan-range scans whole commits",
    ),
    (
        "--stdin",
        "scan-range reads revisions from its arguments only",
    ),
    (
        "--reverse",
        "scan-range already visits the oldest commit first",
    ),
    ("--walk-reflogs", "reflog walks list commits more than once"),
    ("-g", "reflog walks list commits more than once"),
    ("--objects", "it lists trees and blobs, not commits"),
    ("--objects-edge", "it lists trees and blobs, not commits"),
    (
        "--objects-edge-aggressive",
        "it lists trees and blobs, not commits",
    ),
    ("--object-names", "it lists trees and blobs, not commits"),
    ("--filter", "it lists trees and blobs, not commits"),
    (
        "--filter-print-omitted",
        "it lists trees and blobs, not commits",
    ),
    ("--missing", "it lists trees and blobs, not commits"),
    ("--indexed-objects", "it lists trees and blobs, not commits"),
    ("--disk-usage", "it prints sizes, not commits"),
    ("--count", "it prints a count, not commits"),
    ("--quiet", "it prints nothing, which would scan nothing"),
    ("--boundary", "boundary commits are not part of the range"),
    ("--left-right", "it changes rev-list's output"),
    ("--cherry-mark", "it changes rev-list's output"),
    ("--cherry", "it changes rev-list's output"),
    ("--parents", "it changes rev-list's output"),
    ("--children", "it changes rev-list's output"),
    ("--pretty", "it changes rev-list's output"),
    ("--format", "it changes rev-list's output"),
    ("--oneline", "it changes rev-list's output"),
    ("--header", "it changes rev-list's output"),
    ("--timestamp", "it changes rev-list's output"),
    ("--abbrev", "it changes rev-list's output"),
    ("--abbrev-commit", "it changes rev-list's output"),
    ("--graph", "it changes rev-list's output"),
    ("--show-signature", "it changes rev-list's output"),
    ("--bisect", "it changes rev-list's output"),
    ("--bisect-vars", "it changes rev-list's output"),
    ("--bisect-all", "it changes rev-list's output"),
    ("--progress", "it changes rev-list's output"),
];

/// Why `arg` cannot be passed to rev-list for a scan, if it cannot.
fn refusal(arg: &str) -> Option<&'static str> {
    let name = match arg.split_once('=') {
        Some((name, _)) if name.starts_with("--") => name,
        _ => arg,
    };
    REFUSED_OPTIONS
        .iter()
        .find(|(option, _)| *option == name)
        .map(|(_, reason)| *reason)
}

/// A `git rev-list` that runs while the scan gets ready.
struct Selecting {
    child: std::process::Child,
    /// The arguments, for the errors.
    selection: String,
}

impl Selecting {
    /// The commits rev-list printed, in its order, once it has ended.
    fn commits(self) -> Result<Vec<Oid>> {
        let selection = self.selection;
        let output = (self.child.wait_with_output()).map_err(failed("rev-list".to_string()))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let reason = stderr
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(Error::Usage(format!(
                "cannot select the commits of {selection:?}: git rev-list says: {reason}"
            )));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        stdout
            .lines()
            .map(|line| {
                parse_full_id(line).ok_or_else(|| {
                    Error::Usage(format!(
                        "cannot select the commits of {selection:?}: git rev-list printed {line:?}, not a commit id"
                    ))
                })
            })
            .collect()
    }
}

/// A whole object id as git prints it (40 hex digits: libgit2 reads SHA-1 repositories
/// only): anything else means rev-list printed something other than the commit list.
fn parse_full_id(line: &str) -> Option<Oid> {
    let whole = line.len() == 40 && line.bytes().all(|b| b.is_ascii_hexdigit());
    whole.then(|| Oid::from_str(line).ok()).flatten()
}

impl Repo {
    /// The commits `args` select, oldest first (topological order), exactly as
    /// `git rev-list ARGS` selects them: `A..B`, `A...B`, `--all`, `--since=...`, `^X`,
    /// several revisions (a single revision means its whole history); and the annotated tags
    /// on those commits, read while `git rev-list` runs, which the scan would otherwise only
    /// wait for.
    pub fn select_commits_and_tags(&self, args: &[String]) -> Result<(Vec<Oid>, Vec<TagMessage>)> {
        let selecting = self.start_selecting(args)?;
        let tags = self.annotated_tags();
        let commits = selecting.commits()?;
        let tags = tags_on(tags?, &commits);
        Ok((commits, tags))
    }

    /// Starts `git rev-list` on `args`, once they are known to be a selection.
    fn start_selecting(&self, args: &[String]) -> Result<Selecting> {
        if let Some((arg, reason)) = args
            .iter()
            .find_map(|arg| refusal(arg).map(|reason| (arg, reason)))
        {
            return Err(Error::Usage(format!(
                "scan-range: {arg:?} is not supported: {reason}"
            )));
        }
        // libgit2 ignores refs/replace, so git must too, or the two would see other parents.
        // The trailing `--` makes every argument a revision or an option, never a path.
        let child = Git::new()
            .arg("--no-replace-objects")
            .arg("--git-dir")
            .arg(self.repo.path())
            .args(["rev-list", "--topo-order", "--reverse"])
            .args(args)
            .arg("--")
            .spawn()?;
        Ok(Selecting {
            child,
            selection: args.join(" "),
        })
    }

    /// The commits a shallow clone has without their parents (git's `shallow` file): each
    /// looks like a root commit that adds its whole tree, though it only marks where the
    /// clone's history was cut. Empty for a complete repository.
    pub fn shallow_boundaries(&self) -> Result<HashSet<Oid>> {
        let path = self.repo.commondir().join("shallow");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
            Err(source) => return Err(Error::Read { path, source }),
        };
        Ok(text.lines().filter_map(parse_full_id).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_options_with_and_without_values() {
        let cases = [
            ("--objects", true),
            ("--format=%H", true),
            ("--pretty=oneline", true),
            ("--", true),
            ("-g", true),
            ("--all", false),
            ("--since=2.weeks", false),
            ("^HEAD~2", false),
            ("main...feature", false),
            ("--max-count=3", false),
            ("--branches=release/*", false),
        ];
        for (arg, refused) in cases {
            assert_eq!(refusal(arg).is_some(), refused, "{arg}");
        }
    }

    /// The commits are rev-list's, in its order, and the tags those of the annotated tags
    /// that name one of them; a selection rev-list refuses fails with its words, though the
    /// tags were read meanwhile.
    #[test]
    fn tags_read_while_rev_list_runs_are_those_on_its_commits() {
        use crate::test_support::git;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        let mut ids = Vec::new();
        for (message, tag) in [("one", Some("v1")), ("two", None), ("three", Some("v3"))] {
            git(root, &["commit", "-q", "--allow-empty", "-m", message]);
            ids.push(Oid::from_str(git(root, &["rev-parse", "HEAD"]).trim()).unwrap());
            if let Some(tag) = tag {
                git(
                    root,
                    &["tag", "-a", tag, "-m", &format!("release {message}")],
                );
            }
        }
        git(root, &["tag", "light"]);
        let repo = Repo {
            repo: git2::Repository::open(root).unwrap(),
        };
        let range = ["HEAD~2..HEAD".to_string()];
        let (commits, tags) = repo.select_commits_and_tags(&range).unwrap();
        assert_eq!(commits, ids[1..]);
        let tags: Vec<(&str, &[u8])> = (tags.iter())
            .map(|tag| (tag.name.as_str(), tag.message.as_slice()))
            .collect();
        assert_eq!(tags, [("v3", &b"release three\n"[..])]);
        let (all, tags) = repo.select_commits_and_tags(&["HEAD".to_string()]).unwrap();
        assert_eq!(all, ids);
        assert_eq!(tags.len(), 2);
        let unknown = repo.select_commits_and_tags(&["nowhere".to_string()]);
        let message = unknown.unwrap_err().to_string();
        assert!(message.contains("git rev-list says"), "{message}");
    }

    #[test]
    fn only_whole_ids_are_commit_ids() {
        let sha1 = "3e757656cf36eca53338e520d134963a44f793f8";
        assert!(parse_full_id(sha1).is_some());
        for line in [
            "3e75765",
            "-3e757656cf36eca53338e520d134963a44f793f8",
            "",
            "42",
        ] {
            assert!(parse_full_id(line).is_none(), "{line}");
        }
        let with_parent = format!("{sha1} {sha1}");
        assert!(parse_full_id(&with_parent).is_none());
    }
}
