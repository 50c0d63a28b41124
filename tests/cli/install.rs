//! install.sh's hook installation (the `cargo install` half is exercised by CI's fresh clone
//! following the README, not here: it rebuilds the release binary).

use std::path::Path;

use crate::fixture::{Run, TestRepo, replicate_token};

fn install_hook(repo: &TestRepo, args: &[&str]) -> Run {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh");
    let mut cmd = repo.command("sh", &repo.path());
    cmd.arg(script).arg("--hook-only").args(args);
    let output = cmd.output().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn fresh_repo_without_hook() -> TestRepo {
    let repo = TestRepo::new();
    std::fs::remove_file(repo.path().join(".git/hooks/pre-commit")).unwrap();
    repo
}

#[test]
fn installs_into_the_hooks_directory_and_scans_once() {
    let repo = fresh_repo_without_hook();
    let run = install_hook(&repo, &[]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("installed the pre-commit hook"),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains("no secrets found"),
        "the first scan ran: {run:#?}"
    );
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(60)),
    );
    assert_ne!(repo.commit(&[]).code, Some(0));
}

#[test]
fn honours_core_hooks_path() {
    let repo = fresh_repo_without_hook();
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    install_hook(&repo, &[]).assert_code(0);
    assert!(repo.path().join(".githooks/pre-commit").exists());
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(61)),
    );
    assert_ne!(repo.commit(&[]).code, Some(0));
}

#[test]
fn chains_an_existing_hook_instead_of_overwriting_it() {
    let repo = fresh_repo_without_hook();
    let hook = repo.path().join(".git/hooks/pre-commit");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho previous-hook-ran\nexit \"${PREVIOUS_HOOK_EXIT:-0}\"\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&hook)
        .status()
        .unwrap();
    let run = install_hook(&repo, &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("before-tokenguard"), "{run:#?}");
    // Installing again replaces our own hook and keeps the chained one.
    install_hook(&repo, &[]).assert_code(0);
    repo.add("ok.txt", "fine\n");
    let run = repo.commit(&[]);
    run.assert_code(0);
    assert!(run.all().contains("previous-hook-ran"), "{run:#?}");
    // The previous hook's failure still blocks.
    repo.add("ok.txt", "fine again\n");
    let output = repo
        .command("git", &repo.path())
        .args(["commit", "-q", "-m", "x"])
        .env("PREVIOUS_HOOK_EXIT", "3")
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0));
}

#[test]
fn outside_a_repository_installs_no_hook() {
    let repo = TestRepo::new();
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh");
    let output = repo
        .command("sh", dir.path())
        .arg(script)
        .arg("--hook-only")
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("no hook installed"));
}
