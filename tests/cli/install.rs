//! install.sh's hook installation (the `cargo install` half is exercised by CI's fresh clone
//! following the README, not here: it rebuilds the release binary).

use std::path::Path;

use crate::fixture::{Run, TestRepo, replicate_token};

fn install_hook(repo: &TestRepo, args: &[&str]) -> Run {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh");
    let mut cmd = repo.command("sh", &repo.path());
    cmd.arg(script).arg("--hook-only").args(args);
    let output = cmd.output().unwrap();
    Run::from(output)
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

#[test]
fn install_and_uninstall_with_an_existing_hook_restore_it_exactly() {
    let repo = fresh_repo_without_hook();
    let hook = repo.path().join(".git/hooks/pre-commit");
    let original = "#!/bin/sh\necho lint-ran\n";
    std::fs::write(&hook, original).unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&hook)
        .status()
        .unwrap();
    repo.tokenguard(&["install"]).assert_code(0);
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(62)),
    );
    let run = repo.commit(&[]);
    assert_ne!(run.code, Some(0));
    assert!(
        run.all().contains("lint-ran"),
        "the chained hook ran first: {run:#?}"
    );
    repo.tokenguard(&["uninstall"]).assert_code(0);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), original);
    let leftovers: Vec<_> = std::fs::read_dir(repo.path().join(".git/hooks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("tokenguard"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    repo.commit(&[]).assert_code(0);
    // A second uninstall has nothing to do.
    let again = repo.tokenguard(&["uninstall"]);
    again.assert_code(0);
    assert!(again.stdout.contains("nothing to uninstall"), "{again:#?}");
}

#[test]
fn install_and_uninstall_honour_core_hooks_path() {
    let repo = fresh_repo_without_hook();
    repo.git(&["config", "core.hooksPath", "githooks"]);
    repo.tokenguard(&["install"]).assert_code(0);
    assert!(repo.path().join("githooks/pre-commit").exists());
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(63)),
    );
    assert_ne!(repo.commit(&[]).code, Some(0));
    repo.tokenguard(&["uninstall"]).assert_code(0);
    assert!(!repo.path().join("githooks/pre-commit").exists());
    repo.git(&["rm", "-q", "--cached", "a.env"]);
}

#[test]
fn install_pre_push_hook() {
    let repo = fresh_repo_without_hook();
    let run = repo.tokenguard(&["install", "--hook", "pre-push"]);
    run.assert_code(0);
    let shim = std::fs::read_to_string(repo.path().join(".git/hooks/pre-push")).unwrap();
    assert!(shim.contains("scan-push"));
    repo.tokenguard(&["uninstall", "--hook", "pre-push"])
        .assert_code(0);
    assert!(!repo.path().join(".git/hooks/pre-push").exists());
}

#[test]
fn global_install_uses_a_template_directory_and_uninstall_unsets_it() {
    let repo = fresh_repo_without_hook();
    repo.tokenguard(&["install", "--global"]).assert_code(0);
    let template = repo
        .git(&["config", "--global", "init.templateDir"])
        .stdout
        .trim()
        .to_string();
    assert!(
        Path::new(&template).join("hooks/pre-commit").exists(),
        "{template}"
    );
    // A repository created afterwards gets the hook.
    let fresh = repo.root().join("fresh");
    repo.git(&["init", "-q", fresh.to_str().unwrap()]);
    assert!(fresh.join(".git/hooks/pre-commit").exists());
    repo.tokenguard(&["uninstall", "--global"]).assert_code(0);
    let after = repo.git_in(&repo.path(), &["config", "--global", "init.templateDir"]);
    assert_ne!(after.code, Some(0), "unset again: {after:#?}");
    assert!(!Path::new(&template).join("hooks/pre-commit").exists());
}

#[test]
fn global_install_uses_a_global_hooks_path_when_set() {
    let repo = fresh_repo_without_hook();
    let dir = repo.root().join("global-hooks");
    repo.git(&[
        "config",
        "--global",
        "core.hooksPath",
        dir.to_str().unwrap(),
    ]);
    repo.tokenguard(&["install", "--global"]).assert_code(0);
    assert!(dir.join("pre-commit").exists());
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(64)),
    );
    assert_ne!(repo.commit(&[]).code, Some(0));
    repo.tokenguard(&["uninstall", "--global"]).assert_code(0);
    assert!(!dir.join("pre-commit").exists());
}
