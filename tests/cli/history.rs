//! Ranges, pushes (pre-push and pre-receive), merges, whole files and trees.

use std::path::Path;

use crate::fixture::{BIN, TestRepo, findings, replicate_token};

fn head(repo: &TestRepo, dir: &Path) -> String {
    repo.git_in(dir, &["rev-parse", "HEAD"])
        .stdout
        .trim()
        .to_string()
}

#[test]
fn scan_range_reports_the_commit_that_adds_each_secret() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    repo.commit_unchecked(&[]);
    let base = head(&repo, &repo.path());
    repo.add(
        "b.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(70)),
    );
    repo.commit_unchecked(&[]);
    let adds = head(&repo, &repo.path());
    repo.add("b.env", "REPLICATE_API_TOKEN=\n");
    repo.commit_unchecked(&[]);
    let removes = head(&repo, &repo.path());

    let run = repo.tokenguard(&["scan-range", &format!("{base}..HEAD"), "--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    assert_eq!(
        findings(&report),
        vec![("replicate-api-token".into(), "b.env".into(), 1, 21)]
    );
    assert_eq!(report["findings"][0]["commit"], adds.as_str());
    assert_eq!(report["stats"]["commits_scanned"], 2);
    assert_eq!(report["mode"], "history");
    // The whole history from a single revision; a range without the adding commit is clean.
    repo.tokenguard(&["scan-range", "HEAD"]).assert_code(1);
    repo.tokenguard(&["scan-range", &format!("{adds}..{removes}")])
        .assert_code(0);
    let human = repo.tokenguard(&["scan-range", "HEAD"]);
    assert!(
        human.stdout.contains(&format!("commit {adds}")),
        "{human:#?}"
    );
    assert!(human.stdout.contains("in 3 commits"), "{human:#?}");
}

/// A bare remote with main pushed, and a clone with the pre-push hook installed.
fn remote_and_clone() -> (TestRepo, std::path::PathBuf) {
    let repo = TestRepo::new();
    let remote = repo.with_origin("remote.git", false);
    repo.tokenguard(&["install", "--hook", "pre-push"])
        .assert_code(0);
    (repo, remote)
}

#[test]
fn pre_push_new_branch_update_force_push_and_delete() {
    let (repo, _remote) = remote_and_clone();

    // New branch whose commit adds a token: blocked, and the message says so.
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.add(
        "f.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(71)),
    );
    repo.commit_unchecked(&[]);
    let run = repo.push(&["feature"]);
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(run.all().contains("push blocked"), "{run:#?}");
    assert!(run.all().contains("git rebase -i"), "{run:#?}");

    // Update of an existing branch: a clean commit passes, one adding a token is blocked.
    repo.git(&["checkout", "-q", "main"]);
    repo.add("a.txt", "a\nb\n");
    repo.commit(&[]).assert_code(0);
    repo.push(&["main"]).assert_code(0);
    repo.add("c.py", format!("KEY = '{}'\n", replicate_token(72)));
    repo.commit_unchecked(&[]);
    assert_ne!(repo.push(&["main"]).code, Some(0));

    // Force push that rewrites the pushed tip: the rewritten commit is scanned.
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.add("a.txt", format!("a\nb2 {}\n", replicate_token(73)));
    repo.commit_unchecked(&["--amend"]);
    assert_ne!(repo.push(&["--force", "main"]).code, Some(0));
    repo.add("a.txt", "a\nb2\n");
    repo.commit_unchecked(&["--amend"]);
    repo.push(&["--force", "main"]).assert_code(0);

    // Deleting a branch adds nothing.
    repo.git(&["push", "-q", "--no-verify", "origin", "feature"]);
    repo.push(&["--delete", "feature"]).assert_code(0);
}

#[test]
fn pre_push_does_not_report_what_the_remote_already_has() {
    let (repo, _remote) = remote_and_clone();
    repo.add(
        "old.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(74)),
    );
    repo.commit_unchecked(&[]);
    repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
    repo.add("a.txt", "a\nclean\n");
    repo.commit(&[]).assert_code(0);
    repo.push(&["main"]).assert_code(0);
    // A new branch from there: only its own commits count.
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.add("t.txt", "t\n");
    repo.commit(&[]).assert_code(0);
    repo.push(&["topic"]).assert_code(0);
}

#[test]
fn pre_receive_in_a_bare_repository() {
    let repo = TestRepo::new();
    let server = repo.with_origin("server.git", true);
    repo.add(
        "b.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(75)),
    );
    repo.commit_unchecked(&[]);
    let run = repo.push(&["main"]);
    assert_ne!(run.code, Some(0), "the server refuses it: {run:#?}");
    assert!(run.all().contains("replicate-api-token"), "{run:#?}");
    // Worded for a server: rejected, how to fix the pushed commits, no client-side bypass.
    assert!(run.all().contains("push rejected"), "{run:#?}");
    assert!(run.all().contains("git rebase -i"), "{run:#?}");
    assert!(!run.all().contains("--no-verify"), "{run:#?}");
    let server_head = repo.git_in(&server, &["rev-parse", "main"]).stdout;
    assert_ne!(server_head.trim(), head(&repo, &repo.path()));
}

#[test]
fn merge_reports_only_what_the_merge_itself_adds() {
    let repo = TestRepo::new();
    repo.add("conf.py", "MODEL = 'a'\n");
    repo.commit(&[]).assert_code(0);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.add("conf.py", "MODEL = 'b'\n");
    repo.add(
        "legacy.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(76)),
    );
    repo.commit_unchecked(&[]);
    repo.git(&["checkout", "-q", "main"]);
    repo.add("conf.py", "MODEL = 'c'\n");
    repo.commit(&[]).assert_code(0);

    // Conflict on conf.py, resolved by adding a token: the merge commit is blocked.
    let run = repo.git_in(&repo.path(), &["merge", "-q", "feature"]);
    assert_ne!(run.code, Some(0), "a conflict is expected: {run:#?}");
    repo.add(
        "conf.py",
        format!("MODEL = 'c'\nTOKEN = '{}'\n", replicate_token(77)),
    );
    let report = repo.scan_json();
    let paths: Vec<String> = findings(&report).into_iter().map(|f| f.1).collect();
    assert_eq!(
        paths,
        vec!["conf.py"],
        "legacy.env comes from the other branch: {report}"
    );
    assert_ne!(repo.commit(&[]).code, Some(0));

    // Resolved cleanly: the other branch's token is not re-reported.
    repo.add("conf.py", "MODEL = 'b'\n");
    repo.commit(&[]).assert_code(0);
}

#[test]
fn scan_files_reads_the_index_for_tracked_paths_and_disk_otherwise() {
    let repo = TestRepo::new();
    repo.add("staged.py", format!("K = '{}'\n", replicate_token(78)));
    repo.write("staged.py", "K = None\n");
    repo.write(
        "untracked.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(79)),
    );
    let run = repo.tokenguard(&[
        "scan-files",
        "staged.py",
        "untracked.env",
        "--format",
        "json",
    ]);
    run.assert_code(1);
    let paths: Vec<String> = findings(&run.json()).into_iter().map(|f| f.1).collect();
    assert_eq!(paths, vec!["staged.py", "untracked.env"]);
    repo.tokenguard(&["scan-files", "missing.txt"])
        .assert_code(2);
}

#[test]
fn scan_tree_reads_every_file_of_a_revision() {
    let repo = TestRepo::new();
    repo.add("a.txt", "clean\n");
    repo.commit(&[]).assert_code(0);
    let clean = repo.tokenguard(&["scan-tree"]);
    clean.assert_code(0);
    assert!(
        clean.stdout.contains("scanned 1 file (6 bytes, 1 line)"),
        "{clean:#?}"
    );
    repo.add(
        "deep/b.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(80)),
    );
    repo.commit_unchecked(&[]);
    let run = repo.tokenguard(&["scan-tree", "HEAD", "--format", "json"]);
    run.assert_code(1);
    assert_eq!(findings(&run.json())[0].1, "deep/b.env");
    repo.tokenguard(&["scan-tree", "HEAD~1"]).assert_code(0);
    repo.tokenguard(&["scan-tree", "no-such-rev"])
        .assert_code(2);
}

#[test]
fn framework_run_with_nothing_staged_scans_tracked_files() {
    let repo = TestRepo::new();
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(81)),
    );
    repo.commit_unchecked(&[]);
    // A plain hook run with nothing staged is clean, and says it scanned nothing.
    let plain = repo.tokenguard(&["scan-staged"]);
    plain.assert_code(0);
    assert!(plain.stdout.contains("scanned 0 files"), "{plain:#?}");
    // Under the framework (`pre-commit run --all-files`) the tracked files are scanned.
    let output = repo
        .command(BIN, &repo.path())
        .args(["scan-staged"])
        .env("PRE_COMMIT", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    // File names given with nothing staged: those files.
    repo.tokenguard(&["scan-staged", "a.env"]).assert_code(1);
}

#[test]
fn framework_pre_push_range_is_honoured() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    repo.commit(&[]).assert_code(0);
    let from = head(&repo, &repo.path());
    repo.add(
        "b.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(82)),
    );
    repo.commit_unchecked(&[]);
    let to = head(&repo, &repo.path());
    let output = repo
        .command(BIN, &repo.path())
        .args(["scan-staged"])
        .env("PRE_COMMIT", "1")
        .env("PRE_COMMIT_FROM_REF", &from)
        .env("PRE_COMMIT_TO_REF", &to)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let output = repo
        .command(BIN, &repo.path())
        .args(["scan-staged"])
        .env("PRE_COMMIT", "1")
        .env("PRE_COMMIT_FROM_REF", &to)
        .env("PRE_COMMIT_TO_REF", &to)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}
