//! The commit-msg hook cuts a message only where git itself drops text (its own scissors
//! block, put into an editor by `git commit -v`): a token below a scissors line that git
//! records is blocked, through real `git commit -F`, `--cleanup` and `core.commentChar`.

use std::path::PathBuf;

use crate::fixture::{Run, TestRepo, replicate_token};

/// git's scissors block in comment character `c`.
fn git_block(c: &str) -> String {
    format!(
        "{c} ------------------------ >8 ------------------------\n{c} Do not modify or remove the line above.\n{c} Everything below it will be ignored.\n"
    )
}

/// A repository with `tokenguard install`'s hooks and one clean commit.
fn repo_with_hooks() -> TestRepo {
    let repo = TestRepo::new();
    repo.tokenguard(&["install"]).assert_code(0);
    assert!(repo.path().join(".git/hooks/commit-msg").exists());
    repo.add("a.txt", "a\n");
    repo.commit(&[]).assert_code(0);
    repo
}

/// An editor that puts `text` at the top of the message git prepared, keeping the rest.
fn prepending_editor(repo: &TestRepo, text: &str) -> PathBuf {
    let insert = repo.root().join("insert.txt");
    std::fs::write(&insert, text).unwrap();
    let editor = repo.root().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\ncat '{}' \"$1\" > \"$1.new\" && mv \"$1.new\" \"$1\"\n",
            insert.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    editor
}

#[track_caller]
fn assert_blocked(repo: &TestRepo, run: &Run, token: &str, before: &Option<String>) {
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stderr.contains("secret in the commit message"),
        "{run:#?}"
    );
    assert!(!run.all().contains(token), "token printed: {run:#?}");
    assert_eq!(&repo.head(), before, "the commit was made");
}

#[test]
fn a_token_below_a_scissors_line_git_keeps_is_blocked() {
    let repo = repo_with_hooks();
    let token = replicate_token(2901);
    let message = repo.root().join("message.txt");
    std::fs::write(&message, format!("subject\n\n{}{token}\n", git_block("#"))).unwrap();
    let file = message.to_str().unwrap();
    // git records the text below the block when no editor saw the message.
    repo.add("b.txt", "b\n");
    let unchecked = repo.git(&["commit", "-q", "--no-verify", "-F", file]);
    let recorded = repo.git(&["log", "-1", "--format=%B"]).stdout;
    assert!(recorded.contains(&token), "{unchecked:#?}");
    repo.git(&["reset", "-q", "--soft", "HEAD~1"]);
    let before = repo.head();
    for cleanup in [
        None,
        Some("--cleanup=verbatim"),
        Some("--cleanup=whitespace"),
        Some("--cleanup=scissors"),
        Some("--cleanup=strip"),
    ] {
        let mut args = vec!["commit", "-q", "-F", file];
        args.extend(cleanup);
        let run = repo.git_in(&repo.path(), &args);
        assert_blocked(&repo, &run, &token, &before);
    }
}

#[test]
fn a_scissors_line_an_editor_user_wrote_is_scanned_below() {
    let repo = repo_with_hooks();
    let token = replicate_token(2902);
    let before = repo.head();
    repo.add("b.txt", "b\n");
    // A bare scissors line, no explanation: git cuts nowhere with --cleanup=whitespace.
    let editor = prepending_editor(
        &repo,
        &format!("subject\n# ------------------------ >8 ------------------------\n{token}\n"),
    );
    let editor_config = format!("core.editor={}", editor.display());
    let run = repo.git_in(
        &repo.path(),
        &["-c", &editor_config, "commit", "-q", "--cleanup=whitespace"],
    );
    assert_blocked(&repo, &run, &token, &before);
}

#[test]
fn git_commit_v_drops_its_diff_and_only_that() {
    let repo = repo_with_hooks();
    // A fixture the repository allows by path: the pre-commit hook passes it, but the diff
    // `git commit -v` shows below the scissors block would not be allowed in a message.
    repo.add(
        ".tokenguard.toml",
        "[allow]\npaths = [\"fixtures/key.txt\"]\n",
    );
    repo.add("fixtures/key.txt", format!("{}\n", replicate_token(2903)));

    // With `;` in force, a `#` block is text git keeps, and so is the token below it.
    let hidden = replicate_token(2904);
    let editor = prepending_editor(&repo, &format!("subject\n{}{hidden}\n", git_block("#")));
    let editor_config = format!("core.editor={}", editor.display());
    let before = repo.head();
    let run = repo.git_in(
        &repo.path(),
        &[
            "-c",
            &editor_config,
            "-c",
            "core.commentChar=;",
            "commit",
            "-q",
            "-v",
        ],
    );
    assert_blocked(&repo, &run, &hidden, &before);

    // git's own block, in each comment character, cuts the diff off.
    for (seed, comment_char, message) in [
        (2905, "#", "add the fixture"),
        (2906, ";", "add the fixture"),
        // `auto` picks `;` here: a line of the message starts with `#`.
        (2907, "auto", "#42 add the fixture"),
    ] {
        repo.add("fixtures/key.txt", format!("{}\n", replicate_token(seed)));
        let editor = prepending_editor(&repo, "");
        let editor_config = format!("core.editor={}", editor.display());
        let char_config = format!("core.commentChar={comment_char}");
        let args = [
            "-c",
            &editor_config,
            "-c",
            &char_config,
            "commit",
            "-q",
            "-v",
            "-e",
            "-m",
            message,
        ];
        let run = repo.git_in(&repo.path(), &args);
        assert_eq!(run.code, Some(0), "{comment_char}: {run:#?}");
        let recorded = repo.git(&["log", "-1", "--format=%B"]).stdout;
        assert_eq!(recorded.trim(), message);
    }
}
