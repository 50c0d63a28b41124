//! The pre-commit framework (from PyPI, installed by scripts/test.sh), driving this checkout's
//! `.pre-commit-hooks.yaml` from a scratch repository, for real.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fixture::{BIN, Run, TestRepo, replicate_token};

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// A hook repository made from this checkout's files (as they are now), committed, so that
/// pre-commit can clone it; returns its path and commit.
pub(crate) fn hook_repository(repo: &TestRepo, files: &[&str]) -> (PathBuf, String) {
    let dir = repo.root().join("hook-repo");
    std::fs::create_dir_all(&dir).unwrap();
    repo.git_in(&dir, &["init", "-q", "-b", "main"]);
    for file in files {
        let source = Path::new(MANIFEST).join(file);
        let target = dir.join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&source, &target).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    repo.git_in(&dir, &["add", "-A"]);
    repo.git_in(&dir, &["commit", "-q", "-m", "hooks"]);
    let rev = repo
        .git_in(&dir, &["rev-parse", "HEAD"])
        .stdout
        .trim()
        .to_string();
    (dir, rev)
}

/// Every file of this checkout that git tracks or would add, plus the ones the build needs.
pub(crate) fn project_files() -> Vec<String> {
    let output = Command::new("git")
        .args([
            "-C",
            MANIFEST,
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .expect("git runs");
    let mut files: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .filter(|f| Path::new(MANIFEST).join(f).is_file())
        .collect();
    for needed in [
        ".pre-commit-hooks.yaml",
        "Cargo.toml",
        "Cargo.lock",
        "config/rules.toml",
    ] {
        if !files.iter().any(|f| f == needed) {
            files.push(needed.to_string());
        }
    }
    files
}

/// `python3 -m pre_commit ARGS` in the repository, with `tokenguard` on PATH and the real
/// toolchain reachable although HOME is the fixture's.
/// `PATH` with a directory holding the built `tokenguard` first, as a user who installed it
/// has it: the system hook runs whatever `tokenguard` the PATH names.
fn path_with_tokenguard(repo: &TestRepo) -> String {
    let bin_dir = repo.root().join("bin");
    if !bin_dir.exists() {
        std::fs::create_dir(&bin_dir).unwrap();
        std::os::unix::fs::symlink(BIN, bin_dir.join("tokenguard")).unwrap();
    }
    format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `git commit` through the framework's installed hook, with `tokenguard` on the PATH.
fn commit_through_framework(repo: &TestRepo) -> Run {
    Run::from(
        repo.command("git", &repo.path())
            .args(["commit", "-q", "-m", "test commit"])
            .env("PATH", path_with_tokenguard(repo))
            .env("PRE_COMMIT_HOME", repo.root().join("pre-commit-cache"))
            // The rust hook runs `cargo install`; a kept target directory lets later runs reuse
            // the dependencies built by the first one instead of compiling them all again.
            .env("CARGO_TARGET_DIR", framework_target_dir())
            .output()
            .expect("git runs"),
    )
}

fn pre_commit(repo: &TestRepo, args: &[&str]) -> Run {
    let real_home = PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
    let path = path_with_tokenguard(repo);
    let output = repo
        .command("python3", &repo.path())
        .args(["-m", "pre_commit"])
        .args(args)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", repo.root().join("pre-commit-cache"))
        // The rust hook runs `cargo install`; a kept target directory lets later runs reuse
        // the dependencies built by the first one instead of compiling them all again.
        .env("CARGO_TARGET_DIR", framework_target_dir())
        .env(
            "RUSTUP_HOME",
            std::env::var_os("RUSTUP_HOME").unwrap_or_else(|| real_home.join(".rustup").into()),
        )
        .env(
            "CARGO_HOME",
            std::env::var_os("CARGO_HOME").unwrap_or_else(|| real_home.join(".cargo").into()),
        )
        .output()
        .expect("python3 runs");
    let run = Run::from(output);
    assert!(
        !run.stderr.contains("No module named pre_commit"),
        "the pre-commit framework is missing: run scripts/test.sh, which installs it"
    );
    run
}

/// Where the framework's `cargo install` builds: under our own target directory unless
/// `TOKENGUARD_TEST_FRAMEWORK_TARGET` names a shared one.
fn framework_target_dir() -> PathBuf {
    std::env::var_os("TOKENGUARD_TEST_FRAMEWORK_TARGET")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(MANIFEST).join("target").join("framework-install"))
}

pub(crate) fn configure(repo: &TestRepo, hook_repo: &Path, rev: &str, id: &str) {
    repo.add(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: {id}\n",
            hook_repo.display()
        ),
    );
}

#[test]
fn framework_system_hook_blocks_a_staged_token_and_scans_all_files() {
    let repo = TestRepo::new();
    std::fs::remove_file(repo.path().join(".git/hooks/pre-commit")).unwrap();
    let (hook_repo, rev) = hook_repository(&repo, &[".pre-commit-hooks.yaml"]);
    configure(&repo, &hook_repo, &rev, "tokenguard-system");
    let install = pre_commit(&repo, &["install"]);
    assert_eq!(install.code, Some(0), "{install:#?}");

    // A clean change passes `pre-commit run`, and the real commit goes through the hook.
    repo.add("app.py", "print('hello')\n");
    let run = pre_commit(&repo, &["run"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    commit_through_framework(&repo).assert_code(0);

    // A staged token fails `pre-commit run` and the commit.
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(100)),
    );
    let run = pre_commit(&repo, &["run"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.all().contains("replicate-api-token"), "{run:#?}");
    assert_ne!(commit_through_framework(&repo).code, Some(0));

    // --all-files with nothing staged scans the committed files: never a silent all-clear.
    repo.commit_unchecked(&[]);
    let run = pre_commit(&repo, &["run", "--all-files"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.all().contains("a.env"), "{run:#?}");

    // The pre-push stage scans the pushed range.
    let from = repo.git(&["rev-parse", "HEAD~1"]).stdout.trim().to_string();
    let run = pre_commit(
        &repo,
        &[
            "run",
            "--hook-stage",
            "pre-push",
            "--from-ref",
            &from,
            "--to-ref",
            "HEAD",
        ],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
}

#[test]
fn framework_rust_hook_builds_tokenguard_and_blocks() {
    let repo = TestRepo::new();
    let files = project_files();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let (hook_repo, rev) = hook_repository(&repo, &files);
    configure(&repo, &hook_repo, &rev, "tokenguard");
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(101)),
    );
    let run = pre_commit(&repo, &["run"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.all().contains("replicate-api-token"), "{run:#?}");
    repo.git(&["rm", "-q", "--cached", "a.env"]);
    let run = pre_commit(&repo, &["run"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
}

#[test]
fn install_in_a_framework_repository_prints_the_entry_that_works() {
    let repo = TestRepo::new();
    std::fs::remove_file(repo.path().join(".git/hooks/pre-commit")).unwrap();
    repo.add(".pre-commit-config.yaml", "repos: []\n");
    let run = repo.tokenguard(&["install"]);
    run.assert_code(2);
    assert!(run.stderr.contains("pre-commit framework"), "{run:#?}");
    assert!(!repo.path().join(".git/hooks/pre-commit").exists());

    // The printed entry, pasted under `repos:`, is what the framework runs.
    repo.add(".pre-commit-config.yaml", format!("repos:\n{}", run.stdout));
    let install = pre_commit(&repo, &["install"]);
    assert_eq!(install.code, Some(0), "{install:#?}");
    let framework_hook = repo.path().join(".git/hooks/pre-commit");
    let generated = std::fs::read(&framework_hook).unwrap();
    // With the entry in the config, install says it is already configured and never
    // renames the framework's hook.
    let run = repo.tokenguard(&["install"]);
    run.assert_code(0);
    assert!(run.stdout.contains("already configured"), "{run:#?}");
    assert_eq!(std::fs::read(&framework_hook).unwrap(), generated);
    assert!(
        !repo
            .path()
            .join(".git/hooks/pre-commit.before-tokenguard")
            .exists()
    );

    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(102)),
    );
    let run = commit_through_framework(&repo);
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(run.all().contains("replicate-api-token"), "{run:#?}");
    repo.git(&["rm", "-q", "--cached", "a.env"]);
    commit_through_framework(&repo).assert_code(0);
}
