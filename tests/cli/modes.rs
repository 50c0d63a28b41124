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

/// A hostile pull request names a file with escape sequences or a newline: terminal reports
/// print it as git quotes it; JSON and SARIF keep the exact name.
#[test]
fn hostile_file_names_are_quoted_in_terminal_reports() {
    let repo = TestRepo::new();
    let escape = "esc\x1b[31m.py";
    let newline = "new\nline.env";
    repo.add(escape, format!("token = \"{}\"\n", replicate_token(1211)));
    repo.add(
        newline,
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(1212)),
    );
    let human = repo.tokenguard(&["scan-staged"]);
    human.assert_code(1);
    assert!(!human.all().contains('\x1b'), "{human:#?}");
    assert!(
        human.stdout.contains("\"esc\\033[31m.py\":1:"),
        "{human:#?}"
    );
    assert!(human.stdout.contains("\"new\\nline.env\":1:"), "{human:#?}");
    assert!(!human.stdout.contains("new\nline"), "{human:#?}");
    let quiet = repo.tokenguard(&["scan-staged", "-q"]);
    assert!(!quiet.all().contains('\x1b'), "{quiet:#?}");

    let report = repo.scan_json();
    let mut paths: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, [escape, newline]);
    let sarif = repo.tokenguard(&["scan-staged", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        ["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !uri.contains('\x1b') && !uri.contains('\n'),
        "a URI is percent-encoded: {uri}"
    );
}
