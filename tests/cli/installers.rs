//! Installers that respect what is there: husky's script runs tokenguard before its own
//! commands and says how to install a missing binary; a framework config that runs tokenguard
//! already is left alone; uninstall keeps lines a user added to the hook; `--global` says what
//! it does not reach; `install.sh --help` only prints help.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::fixture::{BIN, Run, TestRepo, replicate_token};

fn fresh_repo_without_hook() -> TestRepo {
    let repo = TestRepo::new();
    std::fs::remove_file(repo.path().join(".git/hooks/pre-commit")).unwrap();
    repo
}

fn write_executable(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// husky 9 as `npx husky init` leaves it: `core.hooksPath=.husky/_`, a dispatcher that runs
/// `.husky/<hook>` with `sh -e`, and the default `.husky/pre-commit` running `npm test`
/// (here a stand-in `npm` on PATH that says it ran).
fn husky9_with_npm_test(repo: &TestRepo) -> std::path::PathBuf {
    let dispatcher_dir = repo.path().join(".husky/_");
    write_executable(
        &dispatcher_dir.join("h"),
        "#!/usr/bin/env sh\nname=$(basename \"$0\")\nscript=$(dirname \"$(dirname \"$0\")\")/$name\n[ -f \"$script\" ] || exit 0\nsh -e \"$script\" \"$@\"\n",
    );
    write_executable(
        &dispatcher_dir.join("pre-commit"),
        "#!/usr/bin/env sh\n. \"$(dirname \"$0\")/h\"\n",
    );
    std::fs::write(dispatcher_dir.join(".gitignore"), "*\n").unwrap();
    repo.git(&["config", "core.hooksPath", ".husky/_"]);
    repo.add(".husky/pre-commit", "npm test\n");
    repo.commit_unchecked(&[]);
    let tools = repo.root().join("tools");
    write_executable(&tools.join("npm"), "#!/bin/sh\necho npm-test-ran\n");
    tools
}

fn commit_with_path(repo: &TestRepo, path: &str) -> Run {
    Run::from(
        repo.command("git", &repo.path())
            .args(["commit", "-q", "-m", "test commit"])
            .env("PATH", path)
            .env_remove("TOKENGUARD_BIN")
            .output()
            .unwrap(),
    )
}

#[test]
fn husky_runs_tokenguard_before_npm_test_and_says_how_to_install_a_missing_binary() {
    let repo = fresh_repo_without_hook();
    let tools = husky9_with_npm_test(&repo);
    repo.tokenguard(&["install", "--hook", "pre-commit"])
        .assert_code(0);
    let script = std::fs::read_to_string(repo.path().join(".husky/pre-commit")).unwrap();
    let lines: Vec<&str> = script.lines().collect();
    assert!(lines[0].ends_with("tokenguard scan-staged"), "{script}");
    assert_eq!(lines[1], "npm test", "{script}");

    let bin = repo.root().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("tokenguard")).unwrap();
    let with_tokenguard = format!("{}:{}:/usr/bin:/bin", bin.display(), tools.display());
    let without = format!("{}:/usr/bin:/bin", tools.display());

    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(900)),
    );
    let run = commit_with_path(&repo, &with_tokenguard);
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(run.all().contains("replicate-api-token"), "{run:#?}");
    assert!(
        !run.all().contains("npm-test-ran"),
        "blocked before the tests: {run:#?}"
    );

    // A teammate's clone without the binary: told how to install it, and blocked.
    let run = commit_with_path(&repo, &without);
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(
        run.stderr
            .contains("tokenguard is not installed: pipx install tokenguard-hook"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("not found"), "{run:#?}");

    repo.git(&["rm", "-q", "--cached", "a.env"]);
    repo.add("ok.txt", "fine\n");
    let run = commit_with_path(&repo, &with_tokenguard);
    run.assert_code(0);
    assert!(run.all().contains("npm-test-ran"), "{run:#?}");

    // Uninstall leaves husky's script as it was.
    repo.tokenguard(&["uninstall", "--hook", "pre-commit"])
        .assert_code(0);
    let script = std::fs::read_to_string(repo.path().join(".husky/pre-commit")).unwrap();
    assert_eq!(script, "npm test\n");
}

#[test]
fn install_where_the_framework_already_runs_tokenguard_says_so() {
    let repo = fresh_repo_without_hook();
    let config = "repos:\n  - repo: https://example.com/tokenguard\n    rev: v0.1.0\n    hooks:\n      - id: tokenguard\n      - id: tokenguard-message\n";
    repo.add(".pre-commit-config.yaml", config);
    let run = repo.tokenguard(&["install"]);
    run.assert_code(0);
    assert!(run.stdout.contains("already configured"), "{run:#?}");
    assert!(!repo.path().join(".git/hooks/pre-commit").exists());
    assert!(!repo.path().join(".git/tokenguard").exists());

    // A framework config without tokenguard still gets the entry to add (exit 2).
    repo.add(".pre-commit-config.yaml", "repos: []\n");
    let run = repo.tokenguard(&["install"]);
    run.assert_code(2);
    assert!(
        run.stdout.contains("entry: tokenguard scan-staged"),
        "{run:#?}"
    );
}

#[test]
fn uninstall_keeps_lines_a_user_added_to_the_hook() {
    let repo = fresh_repo_without_hook();
    let hook = repo.path().join(".git/hooks/pre-commit");
    write_executable(&hook, "#!/bin/sh\necho previous-hook\n");
    repo.tokenguard(&["install", "--hook", "pre-commit"])
        .assert_code(0);
    let shim = std::fs::read_to_string(&hook).unwrap();
    // The user adds a line of their own to the hook tokenguard wrote.
    let edited = shim.replacen('\n', "\nmake lint  # added by hand\n", 1);
    std::fs::write(&hook, &edited).unwrap();

    let run = repo.tokenguard(&["uninstall", "--hook", "pre-commit"]);
    run.assert_code(0);
    assert!(run.stdout.contains("kept"), "{run:#?}");
    let left = std::fs::read_to_string(&hook).unwrap();
    assert_eq!(left, "#!/bin/sh\nmake lint  # added by hand\n");
    let mode = std::fs::metadata(&hook).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    // The chained hook is not put over the user's lines; it stays, and the user is told.
    assert!(
        run.stdout.contains("pre-commit.before-tokenguard"),
        "{run:#?}"
    );
    assert!(
        repo.path()
            .join(".git/hooks/pre-commit.before-tokenguard")
            .exists()
    );

    // An unedited shim goes whole, and the previous hook comes back.
    let repo = fresh_repo_without_hook();
    let hook = repo.path().join(".git/hooks/pre-commit");
    write_executable(&hook, "#!/bin/sh\necho previous-hook\n");
    repo.tokenguard(&["install", "--hook", "pre-commit"])
        .assert_code(0);
    repo.tokenguard(&["uninstall", "--hook", "pre-commit"])
        .assert_code(0);
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho previous-hook\n"
    );
}

#[test]
fn install_global_says_existing_repositories_are_not_changed() {
    let repo = fresh_repo_without_hook();
    let run = repo.tokenguard(&["install", "--global", "--hook", "pre-commit"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("repositories that exist already are not changed"),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains("run `tokenguard install` in each"),
        "{run:#?}"
    );
    repo.tokenguard(&["uninstall", "--global", "--hook", "pre-commit"])
        .assert_code(0);

    // A global core.hooksPath reaches every repository, and install says that instead.
    let dir = repo.root().join("global-hooks");
    repo.git(&[
        "config",
        "--global",
        "core.hooksPath",
        dir.to_str().unwrap(),
    ]);
    let run = repo.tokenguard(&["install", "--global", "--hook", "pre-commit"]);
    run.assert_code(0);
    assert!(run.stdout.contains("existing ones included"), "{run:#?}");
}

#[test]
fn install_sh_help_prints_help_only() {
    let repo = TestRepo::new();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh");
    // A cargo that leaves a mark if anything tries to build.
    let tools = repo.root().join("tools");
    let mark = repo.root().join("cargo-ran");
    write_executable(
        &tools.join("cargo"),
        &format!("#!/bin/sh\ntouch '{}'\n", mark.display()),
    );
    for args in [
        &["--help"][..],
        &["-h"],
        &["--no-hook", "--help"],
        &["repo", "--help"],
    ] {
        let run = Run::from(
            repo.command("sh", &repo.path())
                .arg(&script)
                .args(args)
                .env("PATH", format!("{}:/usr/bin:/bin", tools.display()))
                .output()
                .unwrap(),
        );
        run.assert_code(0);
        assert!(
            run.stdout.starts_with("Usage: ./install.sh"),
            "{args:?}: {run:#?}"
        );
        assert!(!run.stdout.contains("set -eu"), "{run:#?}");
        assert_eq!(run.stderr, "", "{run:#?}");
        assert!(!mark.exists(), "{args:?} ran cargo");
    }
    assert!(!repo.path().join(".git/hooks/commit-msg").exists());
}
