//! Staged blobs are read from their working-tree files when those hold exactly the staged
//! bytes (src/git/disk_blob.rs). Whatever the working tree holds, what is scanned must be what
//! git commits: these change the working tree after `git add`, or between the file and its
//! blob (clean filters, line endings), and check the verdict follows the blob.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::fixture::{TestRepo, findings, replicate_token};

/// `KEY=` and a value of a token's length: the token, or as many `x`s.
pub(crate) fn key_line(token: &str, real: bool) -> String {
    let value = if real {
        token.to_string()
    } else {
        "x".repeat(token.len())
    };
    format!("KEY={value}\n")
}

#[test]
fn an_edit_of_the_same_size_after_git_add_does_not_hide_the_staged_token() {
    let repo = TestRepo::new();
    let token = replicate_token(4101);
    repo.add("app.env", key_line(&token, true));
    // Same size, and git's stat data says nothing changed size: only the bytes tell.
    repo.write("app.env", key_line(&token, false));
    let report = repo.scan_json();
    assert_eq!(
        findings(&report),
        [("replicate-api-token".into(), "app.env".into(), 1, 5)],
        "{report}"
    );
    repo.commit(&[]).assert_code(1);
}

#[test]
fn a_token_only_in_the_working_tree_is_not_the_commits() {
    let repo = TestRepo::new();
    let token = replicate_token(4102);
    repo.add("app.env", key_line(&token, false));
    repo.write("app.env", key_line(&token, true));
    let report = repo.scan_json();
    assert_eq!(findings(&report), [], "{report}");
    repo.commit(&[]).assert_code(0);
}

#[test]
fn a_clean_filter_that_adds_a_token_is_caught_in_small_and_large_files() {
    let repo = TestRepo::new();
    let token = replicate_token(4103);
    repo.git(&[
        "config",
        "filter.stamp.clean",
        &format!("cat; printf 'KEY=%s\\n' {token}"),
    ]);
    repo.add(".gitattributes", "*.cfg filter=stamp\n");
    repo.commit(&[]).assert_code(0);
    let large: String = (0..60_000)
        .map(|i| format!("setting_{i} = value\n"))
        .collect();
    assert!(large.len() > 1 << 20);
    repo.add("small.cfg", "a = 1\n");
    repo.add("large.cfg", &large);
    let report = repo.scan_json();
    let mut found = findings(&report);
    found.sort();
    assert_eq!(
        found,
        [
            ("replicate-api-token".into(), "large.cfg".into(), 60_001, 5),
            ("replicate-api-token".into(), "small.cfg".into(), 2, 5),
        ],
        "{report}"
    );
    repo.commit(&[]).assert_code(1);
}

#[test]
fn a_clean_filter_that_removes_a_token_lets_the_commit_through() {
    let repo = TestRepo::new();
    let token = replicate_token(4104);
    repo.git(&["config", "filter.scrub.clean", "sed '/^KEY=/d'"]);
    repo.add(".gitattributes", "*.env filter=scrub\n");
    repo.commit(&[]).assert_code(0);
    repo.add(
        "app.env",
        format!("name = demo\n{}", key_line(&token, true)),
    );
    let report = repo.scan_json();
    assert_eq!(findings(&report), [], "{report}");
    repo.commit(&[]).assert_code(0);
}

#[test]
fn crlf_working_files_are_scanned_as_their_lf_blobs_on_every_thread() {
    let repo = TestRepo::new();
    repo.git(&["config", "core.autocrlf", "true"]);
    let token = replicate_token(4105);
    // More files than a scan takes on one thread.
    for i in 0..24 {
        let value = if i == 17 {
            token.clone()
        } else {
            format!("v{i}")
        };
        repo.write(
            &format!("conf/f{i:02}.env"),
            format!("# file {i}\r\nname = f{i}\r\nKEY={value}\r\n"),
        );
    }
    repo.git(&["add", "-A"]);
    let report = repo.scan_json();
    assert_eq!(
        findings(&report),
        [("replicate-api-token".into(), "conf/f17.env".into(), 3, 5)],
        "{report}"
    );
    repo.commit(&[]).assert_code(1);
}

#[test]
fn a_fifo_where_a_staged_file_was_is_not_waited_on() {
    let repo = TestRepo::new();
    let token = replicate_token(4106);
    repo.add("pipe.env", key_line(&token, true));
    let path = repo.path().join("pipe.env");
    std::fs::remove_file(&path).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success());
    let mut child = repo
        .command(env!("CARGO_BIN_EXE_tokenguard"), &repo.path())
        .args(["scan-staged", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A guard against a hang, not a timing assertion: the scan takes milliseconds.
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the scan waited on the FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        findings(&report),
        [("replicate-api-token".into(), "pipe.env".into(), 1, 5)],
        "{report}"
    );
}

#[test]
fn a_missing_object_fails_closed_though_the_working_file_holds_its_bytes() {
    // With a size limit the object's header is read first; without one, nothing else on the
    // way reads the object.
    for limit in [None, Some("20MB")] {
        let repo = TestRepo::new();
        if let Some(limit) = limit {
            repo.write(
                ".tokenguard.toml",
                format!("[scan]\nmax_file_size = \"{limit}\"\n"),
            );
        }
        repo.add("a.txt", "present on disk, gone from the object database\n");
        let oid = repo.git(&["rev-parse", ":a.txt"]).stdout.trim().to_string();
        let object = repo
            .path()
            .join(".git/objects")
            .join(&oid[..2])
            .join(&oid[2..]);
        std::fs::remove_file(object).unwrap();
        let run = repo.tokenguard(&["scan-staged"]);
        run.assert_code(2);
        assert!(run.stderr.contains(&oid), "{limit:?}: {run:#?}");
        assert!(run.stderr.contains("a.txt"), "{limit:?}: {run:#?}");
    }
}
