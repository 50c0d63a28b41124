//! `tokenguard install` beside other hook managers: husky (a line in its script, never its
//! dispatcher), lefthook and a tracked hooks directory (refused, with the exact snippet),
//! and global installs whose undoing never leaks into a single repository.
//!
//! husky and lefthook need not be installed: each test lays out the files those tools
//! create, as their documentation describes (husky 9: `core.hooksPath=.husky/_`, every hook
//! there sourcing one dispatcher that runs `.husky/<its own name>`; lefthook: a config file and
//! hook files that call `lefthook run <hook>`).

use std::path::{Path, PathBuf};

use crate::fixture::{BIN, Run, TestRepo, replicate_token};

fn fresh_repo_without_hook() -> TestRepo {
    let repo = TestRepo::new();
    std::fs::remove_file(repo.path().join(".git/hooks/pre-commit")).unwrap();
    repo
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Every file under `dir`, with its content: to prove a directory was left untouched.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// A PATH whose first directory holds the built `tokenguard`, as for a user who installed it:
/// scripts of hook managers call `tokenguard` by name.
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

fn commit_with_path(repo: &TestRepo) -> Run {
    Run::from(
        repo.command("git", &repo.path())
            .args(["commit", "-q", "-m", "test commit"])
            .env("PATH", path_with_tokenguard(repo))
            .output()
            .unwrap(),
    )
}

/// The layout `npx husky init` leaves (husky 9): the dispatcher and one stub per hook in
/// `.husky/_` (ignored by its own `.gitignore`), `core.hooksPath=.husky/_`, and a committed
/// `.husky/pre-commit` script.
fn husky9(repo: &TestRepo) {
    let dispatcher_dir = repo.path().join(".husky/_");
    // A stand-in for husky's dispatcher: the script named like the hook, run with `sh -e`.
    write_executable(
        &dispatcher_dir.join("h"),
        "#!/usr/bin/env sh\nname=$(basename \"$0\")\nscript=$(dirname \"$(dirname \"$0\")\")/$name\n[ -f \"$script\" ] || exit 0\nsh -e \"$script\" \"$@\"\n",
    );
    for hook in ["pre-commit", "pre-push", "commit-msg"] {
        write_executable(
            &dispatcher_dir.join(hook),
            "#!/usr/bin/env sh\n. \"$(dirname \"$0\")/h\"\n",
        );
    }
    std::fs::write(dispatcher_dir.join(".gitignore"), "*\n").unwrap();
    repo.git(&["config", "core.hooksPath", ".husky/_"]);
    repo.add(".husky/pre-commit", "echo husky-script-ran\n");
    repo.commit_unchecked(&[]);
}

#[test]
fn husky9_gets_a_line_in_its_script_and_its_dispatcher_is_never_touched() {
    let repo = fresh_repo_without_hook();
    husky9(&repo);
    let dispatcher = snapshot(&repo.path().join(".husky/_"));
    let script = repo.path().join(".husky/pre-commit");
    let original = std::fs::read_to_string(&script).unwrap();

    let run = repo.tokenguard(&["install"]);
    run.assert_code(0);
    assert!(run.stdout.contains(".husky/pre-commit"), "{run:#?}");
    assert_eq!(
        snapshot(&repo.path().join(".husky/_")),
        dispatcher,
        "nothing renamed, overwritten or added in husky's directory"
    );
    assert_husky_line_first(&script, &original, "tokenguard scan-staged");
    let stray: Vec<_> = snapshot(&repo.path().join(".husky"))
        .into_iter()
        .filter(|(p, _)| p.to_string_lossy().contains("tokenguard"))
        .collect();
    assert!(stray.is_empty(), "no record beside the scripts: {stray:?}");
    // Installing twice adds nothing.
    repo.tokenguard(&["install"]).assert_code(0);
    assert_husky_line_first(&script, &original, "tokenguard scan-staged");

    // husky runs the script, which runs tokenguard: a token is blocked, a clean change passes.
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(130)),
    );
    let run = commit_with_path(&repo);
    assert_ne!(run.code, Some(0), "{run:#?}");
    // tokenguard runs before the script's own commands (husky's default `npm test`).
    assert!(!run.all().contains("husky-script-ran"), "{run:#?}");
    assert!(run.all().contains("replicate-api-token"), "{run:#?}");
    repo.git(&["rm", "-q", "--cached", "a.env"]);
    repo.add("ok.txt", "fine\n");
    let run = commit_with_path(&repo);
    run.assert_code(0);
    assert!(run.all().contains("husky-script-ran"), "{run:#?}");

    // husky rewriting its own directory (`npm install` runs `husky`) changes nothing for us.
    husky9_rewrites_its_directory(&repo);
    repo.add(
        "b.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(131)),
    );
    assert_ne!(commit_with_path(&repo).code, Some(0));
    repo.git(&["rm", "-q", "--cached", "b.env"]);

    // Uninstall takes exactly the line out again.
    let run = repo.tokenguard(&["uninstall"]);
    run.assert_code(0);
    assert_eq!(std::fs::read_to_string(&script).unwrap(), original);
    assert!(
        !repo
            .path()
            .join(".git/tokenguard/pre-commit.install")
            .exists()
    );
    repo.tokenguard(&["uninstall"]).assert_code(0);
    assert_eq!(std::fs::read_to_string(&script).unwrap(), original);
}

/// `script` is tokenguard's line (ending in `command`) followed by the `rest` it held before.
#[track_caller]
pub fn assert_husky_line_first(script: &Path, rest: &str, command: &str) {
    let text = std::fs::read_to_string(script).unwrap();
    let (first, after) = text.split_once('\n').unwrap();
    assert!(first.starts_with("command -v tokenguard "), "{text}");
    assert!(first.ends_with(&format!("; {command}")), "{text}");
    assert_eq!(after, rest, "{text}");
}

fn husky9_rewrites_its_directory(repo: &TestRepo) {
    let dir = repo.path().join(".husky/_");
    std::fs::remove_dir_all(&dir).unwrap();
    husky9_dispatcher_only(repo);
}

fn husky9_dispatcher_only(repo: &TestRepo) {
    let dispatcher_dir = repo.path().join(".husky/_");
    write_executable(
        &dispatcher_dir.join("h"),
        "#!/usr/bin/env sh\nname=$(basename \"$0\")\nscript=$(dirname \"$(dirname \"$0\")\")/$name\n[ -f \"$script\" ] || exit 0\nsh -e \"$script\" \"$@\"\n",
    );
    for hook in ["pre-commit", "pre-push"] {
        write_executable(
            &dispatcher_dir.join(hook),
            "#!/usr/bin/env sh\n. \"$(dirname \"$0\")/h\"\n",
        );
    }
}

#[test]
fn husky_script_created_by_install_is_removed_by_uninstall() {
    let repo = fresh_repo_without_hook();
    husky9(&repo);
    let script = repo.path().join(".husky/pre-push");
    assert!(!script.exists());
    repo.tokenguard(&["install", "--hook", "pre-push"])
        .assert_code(0);
    assert_husky_line_first(&script, "", "tokenguard scan-push \"$@\"");
    repo.tokenguard(&["uninstall", "--hook", "pre-push"])
        .assert_code(0);
    assert!(!script.exists(), "install created it, uninstall removes it");
    // A .husky directory without core.hooksPath (this clone has not run husky yet) is husky's.
    repo.git(&["config", "--unset", "core.hooksPath"]);
    repo.tokenguard(&["install"]).assert_code(0);
    assert!(!repo.path().join(".git/hooks/pre-commit").exists());
    assert_husky_line_first(
        &repo.path().join(".husky/pre-commit"),
        "echo husky-script-ran\n",
        "tokenguard scan-staged",
    );
}

/// A lefthook hook file as `lefthook install` writes it: a shell script that finds lefthook
/// and calls `lefthook run <hook>`.
fn lefthook_hook(hook: &str) -> String {
    format!(
        "#!/bin/sh\ncall_lefthook()\n{{\n  lefthook \"$@\"\n}}\n\ncall_lefthook run \"{hook}\" \"$@\"\n"
    )
}

#[test]
fn lefthook_is_refused_with_the_snippet_for_its_config_format() {
    let repo = fresh_repo_without_hook();
    repo.add(
        "lefthook.yml",
        "pre-commit:\n  commands:\n    lint:\n      run: echo lint\n",
    );
    let hook = repo.path().join(".git/hooks/pre-commit");
    write_executable(&hook, &lefthook_hook("pre-commit"));
    let hooks_before = snapshot(&repo.path().join(".git/hooks"));

    let run = repo.tokenguard(&["install", "--hook", "pre-commit"]);
    run.assert_code(2);
    assert!(run.stderr.contains("lefthook"), "{run:#?}");
    assert_eq!(run.stderr.lines().count(), 1, "one line: {run:#?}");
    assert_eq!(
        run.stdout,
        "pre-commit:\n  commands:\n    tokenguard:\n      run: tokenguard scan-staged\n"
    );
    // The default set: a section for each of its hooks, still nothing written.
    let run = repo.tokenguard(&["install"]);
    run.assert_code(2);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {run:#?}");
    for section in [
        "pre-commit:\n  commands:\n    tokenguard:\n      run: tokenguard scan-staged\n",
        "commit-msg:\n  commands:\n    tokenguard:\n      run: tokenguard scan-message {1}\n",
        "pre-push:\n  commands:\n    tokenguard:\n      run: tokenguard scan-push {1} {2}\n",
    ] {
        assert!(run.stdout.contains(section), "{section}: {run:#?}");
    }
    assert_eq!(snapshot(&repo.path().join(".git/hooks")), hooks_before);
    assert!(!repo.path().join(".git/tokenguard").exists(), "no record");

    let run = repo.tokenguard(&["install", "--hook", "pre-push"]);
    run.assert_code(2);
    assert!(
        run.stdout.contains("run: tokenguard scan-push {1} {2}"),
        "{run:#?}"
    );
    assert!(run.stdout.contains("use_stdin: true"), "{run:#?}");

    // Found by its hook file alone, and by a TOML config under .config/.
    repo.git(&["rm", "-q", "-f", "lefthook.yml"]);
    repo.tokenguard(&["install"]).assert_code(2);
    std::fs::remove_file(&hook).unwrap();
    repo.write(".config/lefthook.toml", "");
    let run = repo.tokenguard(&["install"]);
    run.assert_code(2);
    assert!(
        run.stdout
            .starts_with("[pre-commit.commands.tokenguard]\nrun = \"tokenguard scan-staged\"\n"),
        "{run:#?}"
    );
}

#[test]
fn a_tracked_hooks_directory_and_a_name_dispatcher_are_refused_untouched() {
    let repo = fresh_repo_without_hook();
    write_executable(
        &repo.path().join(".githooks/pre-commit"),
        "#!/bin/sh\nmake lint\n",
    );
    repo.git(&["add", ".githooks"]);
    repo.commit_unchecked(&[]);
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    let before = snapshot(&repo.path().join(".githooks"));
    let run = repo.tokenguard(&["install"]);
    run.assert_code(2);
    assert!(run.stderr.contains("git tracks"), "{run:#?}");
    for line in [
        "/.githooks/pre-commit\ntokenguard scan-staged || exit $?\n",
        "/.githooks/commit-msg\ntokenguard scan-message \"$1\" || exit $?\n",
        "/.githooks/pre-push\ntokenguard scan-push \"$@\" || exit $?\n",
    ] {
        assert!(run.stdout.contains(line), "{line}: {run:#?}");
    }
    assert_eq!(snapshot(&repo.path().join(".githooks")), before);

    // A hook that runs scripts by its own name would run nothing once renamed.
    repo.git(&["config", "--unset", "core.hooksPath"]);
    let hook = repo.path().join(".git/hooks/pre-commit");
    write_executable(
        &hook,
        "#!/bin/sh\nexec \"tools/hooks/$(basename \"$0\")\" \"$@\"\n",
    );
    let run = repo.tokenguard(&["install"]);
    run.assert_code(2);
    assert!(run.stderr.contains("own file name"), "{run:#?}");
    assert!(
        !repo
            .path()
            .join(".git/hooks/pre-commit.before-tokenguard")
            .exists()
    );
}

#[test]
fn records_stay_out_of_the_hooks_directory() {
    let repo = fresh_repo_without_hook();
    repo.git(&["config", "core.hooksPath", "githooks"]);
    repo.tokenguard(&["install"]).assert_code(0);
    let mut files: Vec<String> = std::fs::read_dir(repo.path().join("githooks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["commit-msg", "pre-commit", "pre-push"]);
    assert!(
        repo.path()
            .join(".git/tokenguard/pre-commit.install")
            .exists()
    );
    repo.tokenguard(&["uninstall"]).assert_code(0);
    assert!(!repo.path().join("githooks/pre-commit").exists());
}

#[test]
fn a_local_uninstall_in_a_fresh_clone_leaves_the_global_install_alone() {
    let repo = fresh_repo_without_hook();
    repo.tokenguard(&["install", "--global"]).assert_code(0);
    let template_dir = || {
        repo.git_in(&repo.path(), &["config", "--global", "init.templateDir"])
            .stdout
            .trim()
            .to_string()
    };
    let template = template_dir();
    assert!(!template.is_empty());
    let template_files = snapshot(Path::new(&template));
    assert_eq!(
        template_files.len(),
        3,
        "only the shims of the default set: {template_files:?}"
    );

    // A new repository gets the shim from the template; uninstalling it there removes that
    // copy and nothing global.
    let fresh = repo.root().join("fresh");
    repo.git(&["init", "-q", fresh.to_str().unwrap()]);
    assert!(fresh.join(".git/hooks/pre-commit").exists());
    let run = repo.tokenguard_in(&fresh, &["uninstall"]);
    run.assert_code(0);
    assert!(run.stdout.contains("template"), "{run:#?}");
    assert!(!fresh.join(".git/hooks/pre-commit").exists());
    assert_eq!(template_dir(), template, "init.templateDir is still set");
    assert_eq!(snapshot(Path::new(&template)), template_files);

    // A clone made with an older version got a copy of its record, naming the template and
    // the setting: a local uninstall still touches neither.
    let older = repo.root().join("older");
    repo.git(&["init", "-q", older.to_str().unwrap()]);
    std::fs::write(
        older.join(".git/hooks/pre-commit.tokenguard-install"),
        format!("set-template-dir {template}\ninstalled {template}/hooks/pre-commit\n"),
    )
    .unwrap();
    repo.tokenguard_in(&older, &["uninstall"]).assert_code(0);
    assert!(!older.join(".git/hooks/pre-commit").exists());
    assert_eq!(template_dir(), template);
    assert_eq!(snapshot(Path::new(&template)), template_files);

    repo.tokenguard(&["uninstall", "--global"]).assert_code(0);
    assert_ne!(
        repo.git_in(&repo.path(), &["config", "--global", "init.templateDir"])
            .code,
        Some(0)
    );
}

#[test]
fn a_global_hooks_path_is_only_changed_by_global_commands() {
    let repo = fresh_repo_without_hook();
    let dir = repo.root().join("global-hooks");
    repo.git(&[
        "config",
        "--global",
        "core.hooksPath",
        dir.to_str().unwrap(),
    ]);
    repo.tokenguard(&["install", "--global"]).assert_code(0);
    let before = snapshot(&dir);
    for verb in ["install", "uninstall"] {
        let run = repo.tokenguard(&[verb]);
        run.assert_code(2);
        assert!(
            run.stderr.contains(&format!("tokenguard {verb} --global")),
            "{run:#?}"
        );
        assert_eq!(snapshot(&dir), before, "{verb}");
    }
    repo.tokenguard(&["uninstall", "--global"]).assert_code(0);
    assert!(!dir.join("pre-commit").exists());
}
