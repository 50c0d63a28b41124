//! Hostile repositories, odd input, signals and time: fail closed, never leak a secret.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokenguard::detect::examples::{cases, sample_for};
use tokenguard::detect::rules::RuleSet;

use crate::fixture::{BIN, Run, TestRepo, findings, replicate_token};

fn run_with(repo: &TestRepo, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = repo.command(BIN, &repo.path());
    cmd.args(args);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let output = cmd.output().unwrap();
    Run::from(output)
}

/// Every rule's token through every output format and mode: never in full anywhere.
#[test]
fn no_rule_s_secret_escapes_in_any_output() {
    let set = RuleSet::builtin().unwrap();
    let repo = TestRepo::new();
    let mut secrets = Vec::new();
    for (i, rule) in set.iter().enumerate() {
        let sample = sample_for(&set, rule, 2000 + i as u64).unwrap();
        let case = cases(&set, rule, &sample)
            .into_iter()
            .find(|c| c.positive)
            .unwrap();
        repo.write(
            &format!("leaks/{}.txt", rule.id()),
            format!("{}\n", case.text),
        );
        secrets.push(sample.token);
    }
    repo.git(&["add", "-A"]);
    let mut runs = Vec::new();
    for format in ["human", "json", "sarif"] {
        runs.push(run_with(&repo, &["scan-staged", "--format", format], &[]));
        runs.push(run_with(
            &repo,
            &["scan-staged", "-v", "--format", format],
            &[],
        ));
    }
    runs.push(run_with(&repo, &["scan-staged", "-q"], &[]));
    runs.push(run_with(&repo, &["--color", "always", "scan-staged"], &[]));
    runs.push(repo.commit(&[]));
    repo.commit_unchecked(&[]);
    runs.push(run_with(&repo, &["scan-range", "HEAD"], &[]));
    runs.push(run_with(&repo, &["scan-tree", "--format", "json"], &[]));
    runs.push(run_with(&repo, &["scan-files", "leaks"], &[]));
    assert_eq!(
        findings(&runs[2].json()).len(),
        set.len(),
        "every rule found its token"
    );
    for run in &runs {
        let all = run.all();
        for secret in &secrets {
            assert!(!all.contains(secret.as_str()), "a secret escaped: {run:#?}");
        }
    }
}

/// Config errors quote the file; a token on the offending line must still not escape.
#[test]
fn config_errors_on_a_token_line_redact_it() {
    let token = replicate_token(140);
    let hf = crate::fixture::token("hf_[alnum:34]", 141);
    let configs = [
        format!("{token} = 1\n"),
        format!("disable = [\"{token}\"]\n"),
        format!("[allow]\nregexes = [{{ regex = \"({hf}\", target = \"line\" }}]\n"),
        format!("[allow]\npaths = [\"{token}[\"]\n"),
        format!("[[allow.rule]]\nid = \"{hf}\"\n"),
    ];
    for config in configs {
        let repo = TestRepo::new();
        repo.write(".tokenguard.toml", &config);
        repo.add("a.txt", "a\n");
        let run = run_with(&repo, &["scan-staged"], &[]);
        run.assert_code(2);
        assert!(run.stderr.contains(".tokenguard.toml:"), "{run:#?}");
        assert!(
            !run.all().contains(&token) && !run.all().contains(&hf),
            "{run:#?}"
        );
    }
}

#[test]
fn the_panic_handler_prints_no_payload() {
    let repo = TestRepo::new();
    let token = replicate_token(142);
    let run = run_with(
        &repo,
        &["scan-staged"],
        &[("TOKENGUARD_TEST_PANIC", &token)],
    );
    run.assert_code(2);
    assert!(run.stderr.contains("internal error"), "{run:#?}");
    assert!(!run.all().contains(&token), "{run:#?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
}

#[test]
fn broken_repositories_fail_closed_with_one_line() {
    // A bare repository has no index to commit from.
    let repo = TestRepo::new();
    let bare = repo.root().join("bare.git");
    repo.git(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    let output = repo
        .command(BIN, &bare)
        .arg("scan-staged")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&output.stderr).lines().count(), 1);

    // A .git file that points nowhere.
    let dangling = repo.root().join("dangling");
    std::fs::create_dir(&dangling).unwrap();
    std::fs::write(dangling.join(".git"), "gitdir: /nonexistent/worktree\n").unwrap();
    let output = repo
        .command(BIN, &dangling)
        .arg("scan-staged")
        .env("GIT_CEILING_DIRECTORIES", repo.root())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");

    // A truncated index.
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    let index = repo.path().join(".git/index");
    let data = std::fs::read(&index).unwrap();
    std::fs::write(&index, &data[..data.len() / 2]).unwrap();
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(2);
    assert!(run.stderr.contains("index"), "{run:#?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
}

#[test]
fn a_locked_index_is_still_read() {
    let repo = TestRepo::new();
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(143)),
    );
    std::fs::write(repo.path().join(".git/index.lock"), b"").unwrap();
    repo.tokenguard(&["scan-staged"]).assert_code(1);
}

#[test]
fn a_repository_owned_by_someone_else_is_refused_with_a_hint() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    // Only root can hand the repository to another user; elsewhere this case cannot be set up.
    let chown = Command::new("chown")
        .args(["-R", "nobody"])
        .arg(repo.path())
        .status();
    if !chown.is_ok_and(|s| s.success()) {
        return;
    }
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(2);
    assert!(run.stderr.contains("safe.directory"), "{run:#?}");
}

#[test]
fn sparse_checkout_works_with_and_without_a_sparse_index() {
    let repo = TestRepo::new();
    repo.add("d1/a.txt", "a\n");
    repo.add("d2/b.txt", "b\n");
    repo.commit(&[]).assert_code(0);
    repo.git(&["sparse-checkout", "set", "d1"]);
    repo.add(
        "d1/c.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(144)),
    );
    repo.tokenguard(&["scan-staged"]).assert_code(1);
    repo.git(&["sparse-checkout", "init", "--cone", "--sparse-index"]);
    repo.tokenguard(&["scan-staged"]).assert_code(1);
}

#[test]
fn lfs_pointers_are_scanned_and_encrypted_blobs_skipped() {
    let repo = TestRepo::new();
    repo.add(
        "model.bin",
        "version https://git-lfs.github.com/spec/v1\n\
         oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n\
         size 12345\n",
    );
    let mut crypt = b"\0GITCRYPT\0".to_vec();
    crypt.extend_from_slice(replicate_token(145).as_bytes());
    repo.add("secrets.enc", crypt);
    let report = repo.scan_json();
    assert!(findings(&report).is_empty(), "{report}");
    assert_eq!(
        report["stats"]["files_scanned"], 1,
        "the LFS pointer is text and scanned"
    );
    assert_eq!(
        report["stats"]["binary_skipped"], 1,
        "git-crypt output is binary"
    );
}

#[test]
fn sigpipe_and_sigint_end_cleanly() {
    let repo = TestRepo::new();
    for i in 0..50 {
        repo.write(
            &format!("f{i}.env"),
            format!("REPLICATE_API_TOKEN={}\n", replicate_token(150 + i)),
        );
    }
    repo.git(&["add", "-A"]);
    let output = repo
        .command("sh", &repo.path())
        .arg("-c")
        .arg(format!(
            "\"{BIN}\" scan-staged | head -n 1; echo \"status ${{PIPESTATUS:-done}}\""
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("error") && !stderr.contains("panicked"),
        "{stderr}"
    );

    let child = repo
        .command(BIN, &repo.path())
        .args(["scan-tree"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

#[test]
fn timeout_fails_closed_with_a_message() {
    let repo = TestRepo::new();
    repo.add("big.txt", "x = 1\n".repeat(2_000_000));
    let run = repo.tokenguard(&["--timeout", "0.001", "scan-staged"]);
    run.assert_code(2);
    assert!(run.stderr.contains("--timeout"), "{run:#?}");
    assert!(run.stderr.contains("--no-verify"), "{run:#?}");
    repo.tokenguard(&["--timeout", "60", "scan-staged"])
        .assert_code(0);
    // Set for the hook in the user config; `--timeout` on the command line wins.
    repo.write_user_config("[scan]\ntimeout = 0.001\n");
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(2);
    assert!(run.stderr.contains("timeout of 0.001s"), "{run:#?}");
    repo.tokenguard(&["--timeout", "60", "scan-staged"])
        .assert_code(0);
    repo.write_user_config("[scan]\ntimeout = -1\n");
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("positive number of seconds"),
        "{run:#?}"
    );
}
