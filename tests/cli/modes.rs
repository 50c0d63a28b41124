//! Messages fit the mode: a commit, a push, a server receiving a push, a history or files scan,
//! or a setup command each say what the failure means for them, and offer a bypass only where
//! one exists. Object ids and fingerprints are printed whole.

use crate::fixture::{TestRepo, replicate_token};

/// A repository whose staged blob is missing from the object database.
fn repo_with_missing_blob() -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.add("a.txt", "some content\n");
    let id = repo.git(&["rev-parse", ":a.txt"]).stdout.trim().to_string();
    std::fs::remove_file(
        repo.path()
            .join(".git/objects")
            .join(&id[..2])
            .join(&id[2..]),
    )
    .unwrap();
    (repo, id)
}

#[test]
fn a_commit_error_offers_the_commit_bypass_and_names_the_object_whole() {
    let (repo, id) = repo_with_missing_blob();
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(2);
    assert!(run.stderr.contains(&id), "the whole object id: {run:#?}");
    assert!(run.stderr.contains("commit blocked"), "{run:#?}");
    assert!(run.stderr.contains("git commit --no-verify"), "{run:#?}");
    assert!(!run.stderr.contains("staged blob"), "{run:#?}");
}

#[test]
fn history_files_and_setup_errors_offer_no_commit_bypass() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    repo.commit(&[]).assert_code(0);
    let missing = "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";
    let range = repo.tokenguard(&["scan-range", &format!("{missing}..HEAD")]);
    let tree = repo.tokenguard(&["scan-tree", "no-such-rev"]);
    let ignore = repo.tokenguard(&["ignore", "not-a-fingerprint", "--reason", "x"]);
    let outside = tempfile::tempdir().unwrap();
    let install = repo.tokenguard_in(outside.path(), &["install"]);
    for run in [&range, &tree, &ignore, &install] {
        run.assert_code(2);
        assert!(!run.stderr.contains("--no-verify"), "{run:#?}");
        assert!(!run.stderr.contains("commit blocked"), "{run:#?}");
    }
    assert!(range.stderr.contains(missing), "the whole id: {range:#?}");
    assert!(range.stderr.contains("scan not completed"), "{range:#?}");
}

#[test]
fn a_push_error_offers_the_push_bypass() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    repo.commit(&[]).assert_code(0);
    let mut child = repo
        .command(crate::fixture::BIN, &repo.path())
        .args(["scan-push", "origin", "url"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"garbage line\n")
        .unwrap();
    let run = crate::fixture::Run::from(child.wait_with_output().unwrap());
    run.assert_code(2);
    assert!(run.stderr.contains("push blocked"), "{run:#?}");
    assert!(run.stderr.contains("git push --no-verify"), "{run:#?}");
}

#[test]
fn whole_files_count_lines_not_added_lines() {
    let repo = TestRepo::new();
    repo.add("a.txt", "one\ntwo\n");
    repo.commit(&[]).assert_code(0);
    let run = repo.tokenguard(&["scan-tree"]);
    run.assert_code(0);
    assert!(run.stdout.contains("2 lines)"), "{run:#?}");
    assert!(!run.stdout.contains("added line"), "{run:#?}");
}

/// PRE_COMMIT_FROM_REF/TO_REF left in a shell (no PRE_COMMIT=1: the framework is not running)
/// must not turn the plain hook into a scan of an empty range.
#[test]
fn leftover_framework_variables_do_not_change_the_plain_hook() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    repo.commit(&[]).assert_code(0);
    let head = repo.head().unwrap();
    repo.add(
        "b.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(1210)),
    );
    let run = crate::fixture::Run::from(
        repo.command("git", &repo.path())
            .args(["commit", "-q", "-m", "x"])
            .env("PRE_COMMIT_FROM_REF", &head)
            .env("PRE_COMMIT_TO_REF", &head)
            .output()
            .unwrap(),
    );
    run.assert_code(1);
    // Even with PRE_COMMIT=1 set by hand, the shim runs the staged scan.
    let run = crate::fixture::Run::from(
        repo.command("git", &repo.path())
            .args(["commit", "-q", "-m", "x"])
            .env("PRE_COMMIT", "1")
            .env("PRE_COMMIT_FROM_REF", &head)
            .env("PRE_COMMIT_TO_REF", &head)
            .output()
            .unwrap(),
    );
    run.assert_code(1);
    assert_eq!(repo.head().as_deref(), Some(head.as_str()));
}
