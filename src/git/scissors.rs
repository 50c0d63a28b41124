//! git's own cut of a commit message: where `git commit -v` (or `--cleanup=scissors` in an
//! editor) drops the text below its scissors line, so the commit-msg hook scans exactly what
//! git will record.
//!
//! git writes, in the comment character in force (`core.commentChar`, `#` by default):
//!
//! ```text
//! # ------------------------ >8 ------------------------
//! # Do not modify or remove the line above.
//! # Everything below it will be ignored.
//! ```
//!
//! and cuts there only when it put that block into an editor. A scissors line a user wrote
//! into `git commit -F file`, or kept with `--cleanup=verbatim` or `whitespace`, is recorded
//! with everything below it, so it is scanned: a cut is made only at git's whole block (its
//! two explanatory lines may be translated, so they count as any two comment lines), and
//! never when git ran the hook without an editor (`GIT_EDITOR=:`).

use super::Repo;

/// The line between the comment character and the end of git's scissors line.
const CUT_LINE: &[u8] = b" ------------------------ >8 ------------------------";

/// The characters git picks from with `core.commentChar = auto` (`comment_line_char`
/// candidates in git's `builtin/commit.c`).
const AUTO_CANDIDATES: &[u8] = b"#;@!$%^&|:";

/// Which comment prefix git writes its scissors block with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentChar {
    /// `core.commentChar` (or `core.commentString`): one prefix, `#` unless configured.
    Fixed(Vec<u8>),
    /// `core.commentChar = auto`: git picks a character the message does not start a line with.
    Auto,
}

impl Default for CommentChar {
    fn default() -> CommentChar {
        CommentChar::Fixed(b"#".to_vec())
    }
}

impl Repo {
    /// The comment prefix in force for commit messages in this repository, as git reads it:
    /// `git -c core.commentChar=...` reaches a hook only through git's own environment, which
    /// libgit2 does not read, so git is asked.
    pub fn comment_char(&self) -> CommentChar {
        let output = super::Git::in_git_dir(self.repo.path())
            .args(["config", "--get-regexp", r"^core\.comment(char|string)$"])
            .output();
        let Ok(output) = output else {
            return CommentChar::default();
        };
        // Both keys set the same value (git 2.45): the last one git read wins.
        let text = String::from_utf8_lossy(&output.stdout);
        let value = text.lines().last().and_then(|line| line.split_once(' '));
        match value.map(|(_, value)| value) {
            Some("auto") => CommentChar::Auto,
            Some(prefix) if !prefix.is_empty() => CommentChar::Fixed(prefix.as_bytes().to_vec()),
            _ => CommentChar::default(),
        }
    }
}

/// True when git ran the hook for a commit whose message no editor saw (`-m`, `-F`, `-C`):
/// git then keeps a scissors line and all below it.
pub fn message_had_no_editor() -> bool {
    std::env::var_os("GIT_EDITOR").is_some_and(|editor| editor == ":")
}

/// The part of `text` git records: everything before git's own scissors block, or all of it.
///
/// ```
/// use tokenguard::git::{CommentChar, before_git_scissors};
/// let text = b"subject\n# ------------------------ >8 ------------------------\n# Do not modify or remove the line above.\n# Everything below it will be ignored.\ndiff\n";
/// assert_eq!(before_git_scissors(text, &CommentChar::default()), b"subject\n");
/// assert_eq!(before_git_scissors(b"a\n# -- >8 --\nb\n", &CommentChar::default()), b"a\n# -- >8 --\nb\n");
/// ```
pub fn before_git_scissors<'a>(text: &'a [u8], comment: &CommentChar) -> &'a [u8] {
    let lines: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').collect();
    let mut at = 0;
    for (index, line) in lines.iter().enumerate() {
        if let Some(prefix) = scissors_prefix(line, comment)
            && lines
                .get(index + 1..index + 3)
                .is_some_and(|next| next.iter().all(|l| is_comment(l, prefix)))
        {
            return &text[..at];
        }
        at += line.len();
    }
    text
}

/// The comment prefix of `line` when it is git's scissors line (ending in a newline, as git
/// looks for it) written with a prefix `comment` allows.
fn scissors_prefix<'a>(line: &'a [u8], comment: &CommentChar) -> Option<&'a [u8]> {
    let body = line.strip_suffix(b"\n")?.strip_suffix(CUT_LINE)?;
    let allowed = match comment {
        CommentChar::Fixed(prefix) => body == prefix.as_slice(),
        CommentChar::Auto => body.len() == 1 && AUTO_CANDIDATES.contains(&body[0]),
    };
    allowed.then_some(body)
}

/// A comment line as git writes one: the prefix, then a space and text (an explanation line
/// is never empty).
fn is_comment(line: &[u8], prefix: &[u8]) -> bool {
    line.strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with(b" ") && !rest.trim_ascii().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPLAINED: &str = "------------------------ >8 ------------------------\n{c} Do not modify or remove the line above.\n{c} Everything below it will be ignored.\ndiff --git a/x b/x\n+secret\n";

    fn block(prefix: &str) -> String {
        format!(
            "subject\n\nbody\n{prefix} {}",
            EXPLAINED.replace("{c}", prefix)
        )
    }

    #[test]
    fn cuts_only_at_gits_whole_block_in_the_comment_char_in_force() {
        let hash = CommentChar::default();
        let semicolon = CommentChar::Fixed(b";".to_vec());
        let cases: &[(String, &CommentChar, bool)] = &[
            (block("#"), &hash, true),
            (block(";"), &semicolon, true),
            (block(";"), &hash, false),
            (block("#"), &semicolon, false),
            (block(";"), &CommentChar::Auto, true),
            (block("%"), &CommentChar::Auto, true),
            (block("//"), &CommentChar::Fixed(b"//".to_vec()), true),
            // A bare scissors line, or one without git's two comment lines below it.
            (
                "subject\n# ------------------------ >8 ------------------------\n+secret\n".into(),
                &hash,
                false,
            ),
            (
                "s\n# ------------------------ >8 ------------------------\n# one\nsecret\n".into(),
                &hash,
                false,
            ),
            // Not git's line: other dashes, no space, trailing text, no newline.
            ("s\n# ---- >8 ----\n# a\n# b\n".into(), &hash, false),
            (
                "s\n#------------------------ >8 ------------------------\n# a b\n# c d\n".into(),
                &hash,
                false,
            ),
            (
                "s\n# ------------------------ >8 ------------------------ x\n# a b\n# c d\n"
                    .into(),
                &hash,
                false,
            ),
        ];
        for (text, comment, cut) in cases {
            let kept = before_git_scissors(text.as_bytes(), comment);
            match cut {
                true => assert_eq!(kept, b"subject\n\nbody\n", "{text:?} {comment:?}"),
                false => assert_eq!(kept, text.as_bytes(), "{text:?} {comment:?}"),
            }
        }
    }
}
