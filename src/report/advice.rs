//! What to do about a finding, by its kind and the mode: the one command that fixes it, as the
//! user can paste it. A `.env` is untracked, a name is renamed, a notebook's outputs cleared,
//! a message re-edited, code fixed by `tokenguard fix`; after `git commit -a` or `git commit
//! PATHS` (a temporary index) the fix names the files and the commit is run again.

use super::context::{CommitIndex, Context};
use super::name_pattern::{Fit, NamePattern};
use super::path::quote;
use super::wrap::glue;
use super::{Mode, Outcome};
use crate::finding::{Finding, Part};

/// What a finding is, as far as fixing it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A `.env`-style or credentials file: it should not be tracked at all.
    CredentialFile,
    FileName,
    SymlinkTarget,
    NotebookOutput,
    CommitMessage,
    TagMessage,
    /// A line of a file `tokenguard fix` can edit, or not.
    Code {
        fixable: bool,
    },
}

// Accessors: the finding's layout is the pipeline's; the report reads it through these.
fn part(finding: &Finding) -> Part {
    finding.part()
}

/// The file's path as printed (redacted where it holds a secret).
pub(super) fn path(finding: &Finding) -> &str {
    finding.path()
}

pub(super) fn commit(finding: &Finding) -> Option<&str> {
    finding.commit()
}

fn tag(finding: &Finding) -> Option<&str> {
    finding.tag()
}

fn in_notebook_output(finding: &Finding) -> bool {
    finding.in_notebook_output()
}

impl Kind {
    pub(super) fn of(finding: &Finding, fixable: bool) -> Kind {
        match part(finding) {
            Part::Path => Kind::FileName,
            Part::SymlinkTarget => Kind::SymlinkTarget,
            Part::CommitMessage => Kind::CommitMessage,
            Part::TagMessage => Kind::TagMessage,
            Part::Content if in_notebook_output(finding) => Kind::NotebookOutput,
            Part::Content if is_credential_file(path(finding)) => Kind::CredentialFile,
            Part::Content => Kind::Code { fixable },
        }
    }
}

/// `.env`, `.env.local`, `.netrc`, `credentials.json`, ...: files that hold credentials by
/// design; not the templates meant to be committed (`.env.example`).
pub(super) fn is_credential_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let templates = [".example", ".sample", ".template", ".dist", ".defaults"];
    let dotenv = name == ".env" || name.starts_with(".env.");
    let other = [".netrc", ".trussrc", ".modal.toml", "secrets.json"].contains(&name)
        || name.starts_with("credentials.");
    (dotenv || other) && !templates.iter().any(|t| name.ends_with(t))
}

/// `text` as one shell word: unchanged when it is plain, else in single quotes. A name with a
/// control character (or a bidirectional override) is C-quoted as git quotes it, inside
/// `$'...'` so that bash and zsh read the escapes back: pasted raw, it could drive the
/// terminal.
pub(super) fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./@%+=:,-".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    let bidi = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if text.chars().any(|c| c.is_control() || bidi(c)) {
        let quoted = quote(text);
        let inner = &quoted[1..quoted.len() - 1];
        return format!("$'{}'", inner.replace('\'', r"\'"));
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A path as the user pastes it: its shell word, or where it holds a secret, a pattern of its
/// shape with `?` for each hidden character.
fn pasteable(path: &str) -> String {
    NamePattern::of(path).shell()
}

/// `git mv` of a file whose name holds a secret, by a pattern checked against the index.
fn rename(finding: &Finding, context: &Context) -> (String, String) {
    let mut pattern = NamePattern::of(path(finding));
    let note = match pattern.fit(context.staged_paths.as_deref()) {
        Fit::Unchecked | Fit::One => {
            "(a name without the token; each ? is one hidden character)".to_string()
        }
        Fit::Many(count) => {
            format!("({count} staged files have this shape: rename the one with the token by hand)")
        }
        Fit::Nothing => "(no staged path has this shape: rename the file by hand)".to_string(),
    };
    let pattern = pattern.shell();
    // A name that starts with `-` must not read as an option.
    let end_of_options = if pattern.starts_with('-') { "-- " } else { "" };
    let command = glue(&format!("git mv {end_of_options}{pattern} NEW-NAME"));
    (command, note)
}

/// The one fix of a finding, worded for the mode; `None` where the mode has none of its own.
pub(super) fn fix(finding: &Finding, kind: Kind, outcome: &Outcome, context: &Context) -> String {
    let p = pasteable(path(finding));
    match outcome.mode {
        Mode::Commit => commit_fix(finding, kind, &p, context),
        Mode::Message => message_fix(context),
        Mode::Push | Mode::Server => {
            let target = commit(finding).unwrap_or("COMMIT");
            let clone = if outcome.mode == Mode::Server {
                "in your clone, "
            } else {
                ""
            };
            let rebase = glue(&format!("git rebase -i {target}^"));
            match kind {
                Kind::CommitMessage => {
                    format!("{clone}{rebase} (mark the commit reword), then push again")
                }
                Kind::TagMessage => tag_fix(finding, outcome.mode),
                _ => format!(
                    "{clone}{rebase} (mark the commit edit; {}; then {} and {}), then push again",
                    rewrite_step(kind, &p),
                    glue("git commit --amend"),
                    glue("git rebase --continue")
                ),
            }
        }
        Mode::History | Mode::Files => match kind {
            Kind::TagMessage => tag_fix(finding, outcome.mode),
            Kind::CommitMessage => format!(
                "{} (mark the commit reword); once pushed, that rewrites shared history",
                glue(&format!(
                    "git rebase -i {}^",
                    commit(finding).unwrap_or("COMMIT")
                ))
            ),
            _ => format!(
                "{}; once committed, only a history rewrite removes it ({})",
                rewrite_step(kind, &p),
                glue("git filter-repo --replace-text")
            ),
        },
    }
}

/// The fix of a file's secret in the commit being made.
fn commit_fix(finding: &Finding, kind: Kind, p: &str, context: &Context) -> String {
    let again = match context.index {
        CommitIndex::Staged => "",
        CommitIndex::All | CommitIndex::Paths => ", then run the same git commit again",
    };
    match kind {
        Kind::CredentialFile => format!(
            "{} && {}   (untracks it; the file stays on disk)",
            glue(&format!("git rm --cached {p}")),
            glue(&format!("echo {p} >> .gitignore"))
        ),
        Kind::FileName => {
            let (command, note) = rename(finding, context);
            format!("{command}   {note}")
        }
        Kind::SymlinkTarget => format!(
            "{} && {}",
            glue(&format!("ln -sfn NEW-TARGET {p}")),
            glue(&format!("git add {p}"))
        ),
        Kind::NotebookOutput => format!(
            "{} (or {}), then {}",
            glue(&format!("jupyter nbconvert --clear-output --inplace {p}")),
            glue(&format!("nbstripout {p}")),
            glue(&format!("git add {p}"))
        ),
        Kind::Code { fixable: true } => match context.index {
            CommitIndex::Staged => format!(
                "{}   ({} alone shows the change)",
                glue("tokenguard fix --apply"),
                glue("tokenguard fix")
            ),
            CommitIndex::All | CommitIndex::Paths => {
                format!("{}{again}", glue(&format!("tokenguard fix --apply {p}")))
            }
        },
        Kind::Code { fixable: false } => {
            let add = match context.index {
                CommitIndex::Staged => format!(", then {}", glue(&format!("git add {p}"))),
                CommitIndex::All | CommitIndex::Paths => again.to_string(),
            };
            format!("read the value from an environment variable in {p} instead{add}")
        }
        Kind::CommitMessage | Kind::TagMessage => message_fix(context),
    }
}

/// The commit-msg hook: the commit was not made; the message is kept in its file.
fn message_fix(context: &Context) -> String {
    let file = context
        .message_file
        .as_deref()
        .map_or_else(|| ".git/COMMIT_EDITMSG".to_string(), shell_word);
    let (all, paths) = match context.index {
        CommitIndex::Staged => ("", ""),
        CommitIndex::All => (" -a", ""),
        CommitIndex::Paths => ("", " PATHS"),
    };
    format!(
        "{}   (your message, to edit the token out)",
        glue(&format!("git commit{all} -e -F {file}{paths}"))
    )
}

/// What to change inside a commit being rewritten, by kind.
fn rewrite_step(kind: Kind, p: &str) -> String {
    match kind {
        Kind::CredentialFile => format!(
            "{}, add it to .gitignore",
            glue(&format!("git rm --cached {p}"))
        ),
        Kind::FileName => glue(&format!("git mv {p} NEW-NAME")),
        Kind::SymlinkTarget => glue(&format!("ln -sfn NEW-TARGET {p}")),
        Kind::NotebookOutput => format!(
            "clear its outputs: {}",
            glue(&format!("jupyter nbconvert --clear-output --inplace {p}"))
        ),
        Kind::Code { .. } | Kind::CommitMessage | Kind::TagMessage => {
            format!("read it from an environment variable in {p}")
        }
    }
}

/// An annotated tag's message: tag the same commit again with a clean message.
fn tag_fix(finding: &Finding, mode: Mode) -> String {
    let name = shell_word(tag(finding).unwrap_or("TAG"));
    let retag = glue(&format!("git tag -d {name} && git tag -a {name} COMMIT"));
    match mode {
        Mode::History | Mode::Files | Mode::Server => format!(
            "{retag}; on a remote also {}",
            glue(&format!("git push --delete origin {name}"))
        ),
        _ => retag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_paste_as_one_argument() {
        assert_eq!(shell_word("src/app.py"), "src/app.py");
        assert_eq!(shell_word("my notes.txt"), "'my notes.txt'");
        assert_eq!(shell_word("it's.py"), r"'it'\''s.py'");
        assert_eq!(shell_word("esc\x1b.py"), r"$'esc\033.py'");
        assert_eq!(shell_word("it's\t.py"), r"$'it\'s\t.py'");
    }

    #[test]
    fn credential_files_by_name() {
        for path in [
            ".env",
            "deploy/.env.production",
            "credentials.json",
            ".netrc",
        ] {
            assert!(is_credential_file(path), "{path}");
        }
        for path in [".env.example", "env.py", "app/.environment.py", "creds.txt"] {
            assert!(!is_credential_file(path), "{path}");
        }
    }
}
