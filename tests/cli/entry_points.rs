//! Every way a token enters history besides a file's content: commit and tag messages, file
//! names and symlink targets, and commits no pre-commit hook saw (cherry-pick, rebase, am),
//! through the real hooks installed by `tokenguard install`, a local bare remote and a
//! server's pre-receive hook.

use std::path::{Path, PathBuf};

use crate::fixture::{Run, TestRepo, replicate_token};

/// A repository with the default hook set installed (pre-commit, commit-msg, pre-push) and a
/// bare remote holding one clean commit.
fn with_default_hooks() -> (TestRepo, PathBuf) {
    let repo = TestRepo::new();
    let install = repo.tokenguard(&["install"]);
    install.assert_code(0);
    for hook in ["pre-commit", "commit-msg", "pre-push"] {
        assert!(
            repo.path().join(".git/hooks").join(hook).exists(),
            "{hook}: {install:#?}"
        );
    }
    let remote = repo.with_origin("remote.git", false);
    (repo, remote)
}

#[track_caller]
fn assert_hidden(run: &Run, token: &str) {
    assert!(!run.all().contains(token), "token printed: {run:#?}");
}

#[test]
fn a_token_in_a_commit_message_is_blocked_by_the_commit_msg_hook() {
    let (repo, _remote) = with_default_hooks();
    let token = replicate_token(400);
    repo.add("b.txt", "b\n");
    let before = repo.head();
    let message = format!("use {token} for CI");
    let run = repo.git_in(&repo.path(), &["commit", "-q", "-m", &message]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stderr
            .contains("commit blocked: 1 secret in the commit message"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("commit message:1:5"), "{run:#?}");
    assert!(run.stderr.contains("COMMIT_EDITMSG"), "{run:#?}");
    assert_hidden(&run, &token);
    assert_eq!(repo.head(), before);
    // The diff `git commit -v` shows below the scissors line is not part of the message.
    let file = repo.root().join("msg.txt");
    std::fs::write(
        &file,
        format!(
            "clean subject\n# ------------------------ >8 ------------------------\n# Do not modify or remove the line above.\n# Everything below it will be ignored.\n+{token}\n"
        ),
    )
    .unwrap();
    repo.tokenguard(&["scan-message", file.to_str().unwrap()])
        .assert_code(0);
    // JSON says where.
    std::fs::write(&file, format!("subject\n\nbody {token}\n")).unwrap();
    let report = repo
        .tokenguard(&["scan-message", file.to_str().unwrap(), "--format", "json"])
        .json();
    assert_eq!(report["mode"], "message", "{report}");
    let finding = &report["findings"][0];
    assert_eq!(finding["part"], "commit-message", "{report}");
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(3), Some(6))
    );
    // A clean message commits.
    repo.git(&["commit", "-q", "-m", "add b"]);
}

#[test]
fn a_token_in_a_file_name_or_symlink_target_is_blocked_and_never_printed() {
    let (repo, _remote) = with_default_hooks();
    let token = replicate_token(401);
    let name = format!("backup-{token}.txt");
    repo.add(&name, "nothing secret\n");
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("(file name)"), "{run:#?}");
    assert!(run.stderr.contains("git mv"), "{run:#?}");
    assert_hidden(&run, &token);
    for format in ["json", "sarif"] {
        let out = repo.tokenguard(&["scan-staged", "--format", format, "-v"]);
        out.assert_code(1);
        assert_hidden(&out, &token);
        assert!(out.stdout.contains("backup-r8_"), "{out:#?}");
    }
    let report = repo.scan_json();
    assert_eq!(report["findings"][0]["part"], "path", "{report}");
    assert_eq!(report["findings"][0]["column"], 8, "{report}");
    let verbose = repo.tokenguard(&["scan-staged", "-v"]);
    assert_hidden(&verbose, &token);
    repo.git(&["rm", "-q", "--cached", &name]);
    std::fs::remove_file(repo.path().join(&name)).unwrap();

    // A pure rename to such a name adds no content, but the name.
    repo.add("notes.txt", "plain\n");
    repo.commit(&[]).assert_code(0);
    repo.git(&["mv", "notes.txt", &name]);
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("(file name)"), "{run:#?}");
    assert_hidden(&run, &token);
    repo.git(&["mv", &name, "notes.txt"]);

    // A symlink whose target holds a token.
    std::os::unix::fs::symlink(format!("/secrets/{token}"), repo.path().join("link")).unwrap();
    repo.git(&["add", "link"]);
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("link  replicate-api-token"), "{run:#?}");
    assert!(run.stderr.contains("(symlink target)"), "{run:#?}");
    assert_hidden(&run, &token);
    // scan-tree sees names too.
    repo.git(&["rm", "-q", "--cached", "link"]);
    repo.add(&name, "x\n");
    repo.commit_unchecked(&[]);
    let tree = repo.tokenguard(&["scan-tree"]);
    tree.assert_code(1);
    assert_hidden(&tree, &token);
}

#[test]
fn scan_range_names_the_commit_and_the_message_line() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    repo.commit_unchecked(&[]);
    let base = repo.head().unwrap();
    let token = replicate_token(402);
    repo.add("b.txt", "b\n");
    repo.git(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        &format!("subject\n\nthe key is {token}"),
    ]);
    let commit = repo.head().unwrap();
    repo.git(&["tag", "-a", "v1", "-m", &format!("release\n{token}")]);
    let run = repo.tokenguard(&["scan-range", &format!("{base}..HEAD"), "--format", "json"]);
    run.assert_code(1);
    assert_hidden(&run, &token);
    let report = run.json();
    let found: Vec<(String, String, u64, u64, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["part"].as_str().unwrap().to_string(),
                f["commit"]
                    .as_str()
                    .or(f["tag"].as_str())
                    .unwrap()
                    .to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .map(|(part, at, line, column, _)| (part, at, line, column, String::new()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "commit-message".into(),
                commit.clone(),
                3,
                12,
                String::new()
            ),
            ("tag-message".into(), "v1".into(), 2, 1, String::new()),
        ]
    );
    let human = repo.tokenguard(&["scan-range", &format!("{base}..HEAD")]);
    assert!(human.stdout.contains("commit message:3:12"), "{human:#?}");
    assert!(human.stdout.contains("tag v1 message:2:1"), "{human:#?}");
    assert!(human.stdout.contains("and 2 messages"), "{human:#?}");
    let sarif = repo.tokenguard(&["scan-range", &format!("{base}..HEAD"), "--format", "sarif"]);
    assert_hidden(&sarif, &token);
    assert!(sarif.stdout.contains("logicalLocations"), "{sarif:#?}");
}

#[test]
fn pre_push_catches_cherry_picks_rebases_and_tags_that_no_pre_commit_saw() {
    let (repo, _remote) = with_default_hooks();
    let token = replicate_token(403);
    // A commit on another branch made without hooks, then cherry-picked: git runs no
    // pre-commit hook for the pick.
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.add("side.env", format!("REPLICATE_API_TOKEN={token}\n"));
    repo.commit_unchecked(&[]);
    let side = repo.head().unwrap();
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["cherry-pick", &side]);
    let run = repo.push(&["main"]);
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(run.all().contains("push blocked"), "{run:#?}");
    assert_hidden(&run, &token);
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);

    // An annotated tag whose message holds a token.
    repo.git(&["tag", "-a", "v2", "-m", &format!("release with {token}")]);
    let run = repo.push(&["v2"]);
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(run.all().contains("tag v2 message:1:14"), "{run:#?}");
    assert!(run.all().contains("git tag -d v2"), "{run:#?}");
    assert_hidden(&run, &token);
    repo.git(&["tag", "-d", "v2"]);
    repo.push(&["main"]).assert_code(0);
}

#[test]
fn pre_receive_rejects_tokens_in_messages_and_names() {
    let repo = TestRepo::new();
    let server = repo.with_origin("server.git", true);
    let token = replicate_token(404);
    repo.add("b.txt", "b\n");
    repo.git(&["commit", "-q", "--no-verify", "-m", &format!("ci: {token}")]);
    let run = repo.git_in(
        &repo.path(),
        &["push", "-q", "--no-verify", "origin", "main"],
    );
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(run.all().contains("push rejected"), "{run:#?}");
    assert!(run.all().contains("commit message:1:5"), "{run:#?}");
    assert_hidden(&run, &token);
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.add(&format!("dump-{token}.json"), "{}\n");
    repo.commit_unchecked(&[]);
    let run = repo.git_in(
        &repo.path(),
        &["push", "-q", "--no-verify", "origin", "main"],
    );
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(run.all().contains("(file name)"), "{run:#?}");
    assert_hidden(&run, &token);
    assert!(Path::new(&server).exists());
}
