//! The blocked commit's advice, per kind of finding, through the real hooks: the `Fix:` line
//! names the command for what was found, and running that command as printed lets the same
//! commit through. A single finding's default report fits in 12 lines.

use crate::fixture::{Run, TestRepo, replicate_token};

/// A repository with `tokenguard install`'s hooks and one clean commit (so that HEAD exists
/// for the cases that need it; `first_commit` skips it).
fn installed(first_commit: bool) -> TestRepo {
    let repo = TestRepo::new();
    repo.tokenguard(&["install"]).assert_code(0);
    if first_commit {
        repo.add("README.md", "# demo\n");
        repo.commit(&[]).assert_code(0);
    }
    repo
}

/// The command of the report's `Fix:` line: what follows the label, up to the note in
/// parentheses after three spaces.
#[track_caller]
fn fix_command(run: &Run) -> String {
    let line = run
        .all()
        .lines()
        .find_map(|line| line.strip_prefix("Fix:").map(str::trim).map(str::to_string))
        .unwrap_or_else(|| panic!("no Fix: line: {run:#?}"));
    line.split("   (").next().unwrap().trim().to_string()
}

/// Runs `command` with sh in the repository, as a user pasting it would.
#[track_caller]
fn paste(repo: &TestRepo, command: &str) -> Run {
    let run = Run::from(
        repo.command("sh", &repo.path())
            .args(["-c", command])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, Some(0), "{command}: {run:#?}");
    run
}

#[test]
fn a_dotenv_is_untracked_and_ignored_even_on_the_first_commit() {
    let repo = installed(false);
    let token = replicate_token(7001);
    repo.add(".env", format!("REPLICATE_API_TOKEN={token}\n"));
    repo.add("app.py", "import os\n");
    let run = repo.commit(&[]);
    run.assert_code(1);
    let command = fix_command(&run);
    assert_eq!(command, "git rm --cached .env && echo .env >> .gitignore");
    assert!(!run.all().contains("git restore --staged"), "{run:#?}");
    assert!(!run.all().contains("os.environ"), "{run:#?}");
    paste(&repo, &command);
    repo.git(&["add", ".gitignore"]);
    repo.commit(&[]).assert_code(0);
    assert!(repo.path().join(".env").exists(), "the file stays on disk");
}

/// What stands for `token` in a rename pattern after its six shown characters: a `?` for
/// each hidden one.
fn hidden(token: &str) -> String {
    "?".repeat(token.len() - 6)
}

#[test]
fn a_token_in_a_file_name_is_renamed_by_a_pattern_that_never_prints_it() {
    let repo = installed(true);
    let token = replicate_token(7002);
    let name = format!("dumps/it's run {token}.json");
    repo.add(&name, "{}\n");
    let run = repo.commit(&[]);
    run.assert_code(1);
    assert!(!run.all().contains(&token), "{run:#?}");
    let command = fix_command(&run);
    let pattern = format!(
        "'dumps/it'\\''s run {}'{}.json",
        &token[..6],
        hidden(&token)
    );
    assert_eq!(command, format!("git mv {pattern} NEW-NAME"));
    assert!(
        run.all().contains("each ? is one hidden character"),
        "{run:#?}"
    );
    paste(&repo, &command.replace("NEW-NAME", "dumps/run.json"));
    let staged = repo.git(&["ls-files"]).stdout;
    assert!(
        staged.contains("dumps/run.json") && !staged.contains("r8_"),
        "{staged}"
    );
    repo.commit(&[]).assert_code(0);
}

#[test]
fn a_rename_pattern_that_fits_two_staged_files_says_so() {
    let repo = installed(true);
    let (one, two) = (replicate_token(7010), replicate_token(7011));
    // The same six shown characters: the two names have one shape.
    let two = format!("{}{}", &one[..6], &two[6..]);
    repo.add(&format!("k-{one}.txt"), "a\n");
    repo.add(&format!("k-{two}.txt"), "b\n");
    let run = repo.commit(&[]);
    run.assert_code(1);
    assert!(
        run.all()
            .contains("2 staged files have this shape: rename the one with the token by hand"),
        "{run:#?}"
    );
    assert!(
        !run.all().contains(&one) && !run.all().contains(&two),
        "{run:#?}"
    );
}

#[test]
fn a_name_with_a_control_character_is_c_quoted_and_still_pastes() {
    if which("bash").is_none() {
        return;
    }
    let repo = installed(true);
    let token = replicate_token(7012);
    repo.add(&format!("tab\there-{token}"), "x\n");
    let run = repo.commit(&[]);
    run.assert_code(1);
    let command = fix_command(&run);
    assert_eq!(
        command,
        format!(
            "git mv $'tab\\there-{}'{} NEW-NAME",
            &token[..6],
            hidden(&token)
        )
    );
    let bash = Run::from(
        repo.command("bash", &repo.path())
            .args(["-c", &command.replace("NEW-NAME", "clean.txt")])
            .output()
            .unwrap(),
    );
    assert_eq!(bash.code, Some(0), "{bash:#?}");
    repo.commit(&[]).assert_code(0);
}

/// The program's path on `PATH`, if any.
fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

#[test]
fn a_symlink_target_is_pointed_elsewhere() {
    let repo = installed(true);
    let token = replicate_token(7003);
    std::os::unix::fs::symlink(format!("/keys/{token}"), repo.path().join("key")).unwrap();
    repo.git(&["add", "key"]);
    let run = repo.commit(&[]);
    run.assert_code(1);
    let command = fix_command(&run);
    assert_eq!(command, "ln -sfn NEW-TARGET key && git add key");
    paste(&repo, &command.replace("NEW-TARGET", "/keys/current"));
    repo.commit(&[]).assert_code(0);
}

#[test]
fn a_notebook_output_is_cleared_not_fixed() {
    let repo = installed(true);
    let token = replicate_token(7004);
    let notebook = serde_json::json!({
        "cells": [{"cell_type": "code", "execution_count": 1, "id": "a", "metadata": {},
            "outputs": [{"name": "stdout", "output_type": "stream", "text": [format!("{token}\n")]}],
            "source": ["print(key)"]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5
    });
    repo.add("nb/train.ipynb", notebook.to_string());
    let run = repo.commit(&[]);
    run.assert_code(1);
    assert_eq!(
        fix_command(&run),
        "jupyter nbconvert --clear-output --inplace nb/train.ipynb (or nbstripout nb/train.ipynb), then git add nb/train.ipynb"
    );
    assert!(!run.all().contains("tokenguard fix"), "{run:#?}");
}

#[test]
fn a_commit_message_is_re_edited_from_its_file() {
    let repo = installed(true);
    let token = replicate_token(7005);
    repo.add("notes.txt", "notes\n");
    let message = format!("deploy with {token}");
    let run = repo.git_in(&repo.path(), &["commit", "-q", "-m", &message]);
    run.assert_code(1);
    let command = fix_command(&run);
    assert_eq!(command, "git commit -e -F .git/COMMIT_EDITMSG");
    assert!(!run.all().contains("tokenguard:allow"), "{run:#?}");
    assert!(!run.all().contains("--amend"), "{run:#?}");
    // The editor a user would use, scripted: it takes the token out.
    let edit = format!("GIT_EDITOR='sed -i s/{token}/TOKEN/' {command}");
    paste(&repo, &edit);
    let log = repo.git(&["log", "-1", "--format=%s"]).stdout;
    assert_eq!(log.trim(), "deploy with TOKEN");
}

#[test]
fn after_commit_all_the_fix_names_the_files_and_the_commit_runs_again() {
    let repo = installed(false);
    repo.add("app.py", "import os\n");
    repo.commit(&[]).assert_code(0);
    let token = replicate_token(7006);
    repo.write("app.py", format!("import os\nTOKEN = \"{token}\"\n"));
    for args in [&["-a"][..], &["app.py"][..]] {
        let run = repo.commit(args);
        run.assert_code(1);
        assert_eq!(
            fix_command(&run),
            "tokenguard fix --apply app.py, then run the same git commit again",
            "{args:?}"
        );
    }
    let run = repo.commit(&["-a"]);
    let command = fix_command(&run);
    let command = command.split(", then").next().unwrap();
    let command = command.replacen("tokenguard", crate::fixture::BIN, 1);
    // `fix` exits 1 when something is left to do by hand (here: staging, which -a does).
    let fixed = repo
        .command("sh", &repo.path())
        .args(["-c", &command])
        .output();
    assert!(fixed.unwrap().status.code().is_some_and(|code| code < 2));
    repo.commit(&["-a"]).assert_code(0);
}

#[test]
fn the_pre_commit_framework_skips_by_hook_id() {
    let repo = TestRepo::new();
    repo.add("app.py", format!("T = \"{}\"\n", replicate_token(7007)));
    let run = Run::from(
        repo.command(crate::fixture::BIN, &repo.path())
            .arg("scan-staged")
            .env("PRE_COMMIT", "1")
            .output()
            .unwrap(),
    );
    run.assert_code(1);
    assert!(
        run.stdout
            .contains("Bypass:  SKIP=tokenguard git commit, or git commit --no-verify"),
        "{run:#?}"
    );
}

/// Issue 31: one finding in the hook fits in about 12 lines, at 80 columns and without a
/// terminal, with the fingerprint filled in and the revoke page on the rotation line.
#[test]
fn one_findings_default_report_is_at_most_twelve_lines() {
    let repo = installed(true);
    repo.add(
        "src/predict.py",
        format!("client = Client(api_token=\"{}\")\n", replicate_token(7008)),
    );
    for columns in [Some("80"), None] {
        let mut command = repo.command("git", &repo.path());
        command.args(["commit", "-q", "-m", "x"]);
        if let Some(columns) = columns {
            command.env("COLUMNS", columns);
        }
        let run = Run::from(command.output().unwrap());
        run.assert_code(1);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert!(lines.len() <= 12, "{} lines: {run:#?}", lines.len());
        let fingerprint = repo.scan_json()["findings"][0]["fingerprint"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            run.stderr
                .contains(&format!("tokenguard ignore {fingerprint} --reason")),
            "{run:#?}"
        );
        assert!(
            run.stderr.contains("Rotate:  ")
                && run
                    .stderr
                    .contains("https://replicate.com/account/api-tokens")
        );
        if columns.is_some() {
            assert!(lines.iter().all(|l| l.chars().count() <= 80), "{run:#?}");
        }
    }
}

/// `[output] detail = "full"` in a repository's config makes the hook print every provider's
/// whole checklist, as `-v` does by hand; the default leaves it to `tokenguard explain`.
#[test]
fn the_output_detail_key_makes_the_hook_report_full() {
    let repo = installed(true);
    repo.add("app.py", format!("T = \"{}\"\n", replicate_token(7009)));
    let checklist = "Rotating a Replicate token";
    let short = repo.commit(&[]);
    short.assert_code(1);
    assert!(!short.stderr.contains(checklist), "{short:#?}");
    assert!(
        short
            .stderr
            .contains("tokenguard explain replicate-api-token")
    );
    let verbose = repo.tokenguard(&["scan-staged", "-v"]);
    assert!(verbose.stdout.contains(checklist), "{verbose:#?}");
    repo.write(".tokenguard.toml", "[output]\ndetail = \"full\"\n");
    let full = repo.commit(&[]);
    full.assert_code(1);
    assert!(full.stderr.contains(checklist), "{full:#?}");
    assert!(full.stderr.contains("tokenguard:allow"), "{full:#?}");
    let config = repo.tokenguard(&["config"]);
    assert!(config.stdout.contains("output.detail:"), "{config:#?}");
    repo.write(".tokenguard.toml", "[output]\ndetail = \"everything\"\n");
    let bad = repo.commit(&[]);
    assert_ne!(bad.code, Some(0), "{bad:#?}");
    assert!(
        bad.stderr.contains("expected `short` or `full`"),
        "{bad:#?}"
    );
}

/// git tells hooks nothing of `git commit -q`: a clean commit prints one line in total
/// (pre-commit's; commit-msg adds none) unless `[output] clean = "silent"`, which also quiets
/// a clean push; a blocked commit always prints.
#[test]
fn the_output_clean_key_makes_clean_commits_and_pushes_silent() {
    let repo = installed(true);
    repo.with_origin("remote.git", false);
    repo.add("a.py", "print('a')\n");
    let one_line = repo.commit(&[]);
    one_line.assert_code(0);
    assert_eq!(one_line.stdout, "", "{one_line:#?}");
    assert_eq!(one_line.stderr.lines().count(), 1, "{one_line:#?}");
    assert!(
        one_line.stderr.contains("no secrets found"),
        "{one_line:#?}"
    );
    let push = repo.push(&["main"]);
    push.assert_code(0);
    assert!(push.all().contains("no secrets found"), "{push:#?}");

    repo.add(".tokenguard.toml", "[output]\nclean = \"silent\"\n");
    let silent = repo.commit(&[]);
    silent.assert_code(0);
    assert_eq!((silent.stdout.as_str(), silent.stderr.as_str()), ("", ""));
    let push = repo.push(&["main"]);
    push.assert_code(0);
    assert_eq!((push.stdout.as_str(), push.stderr.as_str()), ("", ""));
    // By hand, scan-staged still answers.
    repo.add("b.py", "print('b')\n");
    let by_hand = repo.tokenguard(&["scan-staged"]);
    assert!(by_hand.stdout.contains("no secrets found"), "{by_hand:#?}");

    let token = replicate_token(7013);
    repo.add("c.py", format!("T = \"{token}\"\n"));
    let blocked = repo.commit(&[]);
    blocked.assert_code(1);
    assert!(blocked.stderr.contains("commit blocked"), "{blocked:#?}");
    let config = repo.tokenguard(&["config"]);
    assert!(config.stdout.contains("output.clean:"), "{config:#?}");
    repo.write(".tokenguard.toml", "[output]\nclean = \"quiet\"\n");
    let bad = repo.tokenguard(&["scan-staged"]);
    bad.assert_code(2);
    assert!(
        bad.stderr.contains("expected `line` or `silent`"),
        "{bad:#?}"
    );
}
