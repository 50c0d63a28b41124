//! What git is about to commit, in every way a commit can be made.

use crate::fixture::{TestRepo, baseten_key, findings, replicate_token};

fn blocked(run: &crate::fixture::Run) -> bool {
    run.code != Some(0) && run.all().contains("commit blocked")
}

#[test]
fn first_commit_with_a_token_is_blocked() {
    let repo = TestRepo::new();
    repo.add(
        ".env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(1)),
    );
    let run = repo.commit(&[]);
    assert!(blocked(&run), "{run:#?}");
    assert!(run.all().contains(".env:1:21"), "{run:#?}");
    assert_eq!(repo.head(), None, "nothing was committed");
}

#[test]
fn first_commit_that_is_clean_passes() {
    let repo = TestRepo::new();
    repo.add("README.md", "# hello\n");
    repo.commit(&[]).assert_code(0);
    assert!(repo.head().is_some());
}

#[test]
fn clean_commit_passes_and_says_what_was_scanned() {
    let repo = TestRepo::new();
    repo.add("a.py", "print('a')\n");
    repo.commit(&[]).assert_code(0);
    repo.add("a.py", "print('a')\nprint('b')\n");
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("scanned 1 file (22 bytes; 1 modified file could hold no secret"),
        "{run:#?}"
    );
    repo.commit(&[]).assert_code(0);
}

#[test]
fn baseten_key_with_context_is_blocked() {
    let repo = TestRepo::new();
    repo.add(
        "deploy.sh",
        format!("export BASETEN_API_KEY='{}'\n", baseten_key(2)),
    );
    let run = repo.commit(&[]);
    assert!(blocked(&run), "{run:#?}");
    assert!(run.all().contains("baseten-api-key"), "{run:#?}");
    assert!(
        run.all()
            .contains("https://app.baseten.co/settings/api_keys")
    );
}

#[test]
fn token_on_an_unchanged_context_line_passes() {
    let repo = TestRepo::new();
    let token = replicate_token(3);
    repo.add(
        "app.py",
        format!("import os\nTOKEN = \"{token}\"\nprint(1)\n"),
    );
    repo.commit_unchecked(&[]);
    repo.add(
        "app.py",
        format!("import os\nTOKEN = \"{token}\"\nprint(2)\n"),
    );
    repo.commit(&[]).assert_code(0);
}

#[test]
fn removed_line_and_deleted_file_pass() {
    let repo = TestRepo::new();
    let token = replicate_token(4);
    repo.add("a.env", format!("A=1\nREPLICATE_API_TOKEN={token}\n"));
    repo.add("b.env", format!("REPLICATE_API_TOKEN={token}\n"));
    repo.commit_unchecked(&[]);
    repo.add("a.env", "A=1\n");
    repo.git(&["rm", "-q", "b.env"]);
    let report = repo.scan_json();
    assert!(findings(&report).is_empty(), "{report}");
    assert_eq!(report["stats"]["deleted_files"], 1);
    repo.commit(&[]).assert_code(0);
}

/// A file whose first and last lines change, far enough apart to be two hunks for `add -p`.
fn two_hunk_edit(repo: &TestRepo, token: &str) {
    let middle: String = (0..20).map(|i| format!("line {i}\n")).collect();
    repo.add("settings.py", format!("# top\n{middle}# bottom\n"));
    repo.commit(&[]).assert_code(0);
    repo.write(
        "settings.py",
        format!("# top\nREPLICATE_API_TOKEN = \"{token}\"\n{middle}# bottom\nDEBUG = True\n"),
    );
}

#[test]
fn partial_staging_token_only_in_the_unstaged_hunk_passes() {
    let repo = TestRepo::new();
    two_hunk_edit(&repo, &replicate_token(5));
    // Skip the first hunk (the token), stage the second.
    repo.git_with_input(&["add", "-p", "settings.py"], "n\ny\n");
    repo.commit(&[]).assert_code(0);
    let worktree = std::fs::read_to_string(repo.path().join("settings.py")).unwrap();
    assert!(
        worktree.contains("REPLICATE_API_TOKEN"),
        "the token stays unstaged"
    );
}

#[test]
fn partial_staging_token_in_the_staged_hunk_is_blocked() {
    let repo = TestRepo::new();
    two_hunk_edit(&repo, &replicate_token(6));
    repo.git_with_input(&["add", "-p", "settings.py"], "y\nn\n");
    let run = repo.commit(&[]);
    assert!(blocked(&run), "{run:#?}");
    assert!(run.all().contains("settings.py:2:"), "{run:#?}");
}

#[test]
fn commit_all_scans_the_temporary_index() {
    let repo = TestRepo::new();
    repo.add("config.yaml", "model: flux\n");
    repo.commit(&[]).assert_code(0);
    // Not staged: only `git commit -a` puts it in the (temporary) index git commits from.
    repo.write(
        "config.yaml",
        format!("model: flux\nreplicate_token: {}\n", replicate_token(7)),
    );
    repo.tokenguard(&["scan-staged"]).assert_code(0);
    let run = repo.commit(&["-a"]);
    assert!(blocked(&run), "{run:#?}");
}

#[test]
fn commit_of_a_path_with_a_token_is_blocked() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    repo.add("c.txt", "c\n");
    repo.commit(&[]).assert_code(0);
    repo.write("a.txt", format!("a\n{}\n", replicate_token(8)));
    let run = repo.commit(&["--", "a.txt"]);
    assert!(blocked(&run), "{run:#?}");
}

#[test]
fn commit_of_a_clean_path_passes_while_a_token_is_staged_elsewhere() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    repo.add("c.txt", "c\n");
    repo.commit(&[]).assert_code(0);
    repo.add(
        "b.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(9)),
    );
    repo.write("c.txt", "c\nmore\n");
    repo.commit(&["--", "c.txt"]).assert_code(0);
    // The staged token is still caught by the next plain commit.
    assert!(blocked(&repo.commit(&[])));
}

#[test]
fn amend_that_adds_a_token_is_blocked() {
    let repo = TestRepo::new();
    repo.add("a.py", "x = 1\n");
    repo.commit(&[]).assert_code(0);
    let before = repo.head();
    repo.add(
        "a.py",
        format!("x = 1\ntoken = '{}'\n", replicate_token(10)),
    );
    let run = repo.commit(&["--amend"]);
    assert!(blocked(&run), "{run:#?}");
    assert_eq!(repo.head(), before);
}

#[test]
fn pure_rename_and_move_pass() {
    let repo = TestRepo::new();
    repo.add(
        "old.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(11)),
    );
    repo.commit_unchecked(&[]);
    repo.git(&["mv", "old.env", "new.env"]);
    repo.commit(&[]).assert_code(0);
    std::fs::create_dir(repo.path().join("conf")).unwrap();
    repo.git(&["mv", "new.env", "conf/moved.env"]);
    repo.commit(&[]).assert_code(0);
}

#[test]
fn rename_with_an_added_token_is_blocked() {
    let repo = TestRepo::new();
    let body: String = (0..30).map(|i| format!("setting_{i} = {i}\n")).collect();
    repo.add("old.py", &body);
    repo.commit(&[]).assert_code(0);
    repo.git(&["mv", "old.py", "new.py"]);
    repo.add(
        "new.py",
        format!("{body}token = '{}'\n", replicate_token(12)),
    );
    let report = repo.scan_json();
    assert_eq!(
        findings(&report),
        vec![("replicate-api-token".into(), "new.py".into(), 31, 10)]
    );
    assert_eq!(
        report["stats"]["added_lines"], 1,
        "only the new line is added: {report}"
    );
}

#[test]
fn worktree_commit_is_blocked() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    repo.commit(&[]).assert_code(0);
    let worktree = repo.root().join("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        worktree.to_str().unwrap(),
    ]);
    std::fs::write(
        worktree.join("b.env"),
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(13)),
    )
    .unwrap();
    repo.git_in(&worktree, &["add", "b.env"]);
    let run = repo.git_in(&worktree, &["commit", "-q", "-m", "wt"]);
    assert!(blocked(&run), "{run:#?}");
    // The worktree's own index, not the main one (which has nothing staged).
    repo.tokenguard(&["scan-staged"]).assert_code(0);
    repo.tokenguard_in(&worktree, &["scan-staged"])
        .assert_code(1);
}

#[test]
fn commit_and_scan_from_a_subdirectory() {
    let repo = TestRepo::new();
    repo.add(
        "src/deep/keys.ts",
        format!("const replicateToken = \"{}\";\n", replicate_token(14)),
    );
    let subdir = repo.path().join("src/deep");
    let run = repo.git_in(&subdir, &["commit", "-q", "-m", "x"]);
    assert!(blocked(&run), "{run:#?}");
    let run = repo.tokenguard_in(&subdir, &["scan-staged", "--format", "json"]);
    run.assert_code(1);
    assert_eq!(findings(&run.json())[0].1, "src/deep/keys.ts");
}

#[test]
fn git_dir_and_work_tree_from_the_environment_are_honoured() {
    let repo = TestRepo::new();
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(15)),
    );
    let elsewhere = repo.root().join("home");
    let run = repo
        .command(crate::fixture::BIN, &elsewhere)
        .args(["scan-staged"])
        .env("GIT_DIR", repo.path().join(".git"))
        .env("GIT_WORK_TREE", repo.path())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "{run:?}");
}

/// A symlink's blob is its target path: not content, but a name the commit adds (issue 13).
#[test]
fn symlink_target_is_scanned_as_a_name_not_as_content() {
    let repo = TestRepo::new();
    let token = replicate_token(16);
    std::os::unix::fs::symlink(format!("/tmp/{token}"), repo.path().join("link")).unwrap();
    repo.git(&["add", "link"]);
    let report = repo.scan_json();
    assert_eq!(findings(&report).len(), 1, "{report}");
    assert_eq!(report["findings"][0]["part"], "symlink-target", "{report}");
    assert_eq!(report["stats"]["symlinks_skipped"], 1);
    assert_eq!(report["stats"]["files_scanned"], 0);
    assert_ne!(repo.commit(&[]).code, Some(0));
}

#[test]
fn submodule_gitlink_is_skipped() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    repo.commit(&[]).assert_code(0);
    let head = repo.head().unwrap();
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},vendor/lib"),
    ]);
    let report = repo.scan_json();
    assert_eq!(report["stats"]["submodules_skipped"], 1, "{report}");
    assert_eq!(report["stats"]["files_scanned"], 0, "{report}");
}
