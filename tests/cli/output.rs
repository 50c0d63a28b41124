//! Reports and exit codes: never a whole secret, errors fail closed.

use crate::fixture::{BIN, TestRepo, baseten_key, replicate_token};

#[test]
fn no_full_token_in_any_output_format() {
    let repo = TestRepo::new();
    let replicate = replicate_token(50);
    let baseten = baseten_key(51);
    repo.add(
        "leak.env",
        format!("REPLICATE_API_TOKEN={replicate}\nBASETEN_API_KEY={baseten}\n"),
    );
    let runs = [
        repo.tokenguard(&["scan-staged"]),
        repo.tokenguard(&["scan-staged", "--format", "json"]),
        repo.tokenguard(&["--color", "always", "scan-staged"]),
        repo.commit(&[]),
    ];
    for run in runs {
        let all = run.all();
        assert!(all.contains("leak.env"), "{run:#?}");
        for secret in [&replicate, &baseten] {
            assert!(
                !all.contains(secret.as_str()),
                "full secret printed: {run:#?}"
            );
            // Nor any long piece of it.
            assert!(
                !all.contains(&secret[secret.len() - 12..]),
                "secret tail printed: {run:#?}"
            );
        }
    }
}

#[test]
fn json_report_shape() {
    let repo = TestRepo::new();
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(52)),
    );
    let run = repo.tokenguard(&["scan-staged", "--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    let finding = &report["findings"][0];
    for key in [
        "rule_id",
        "provider",
        "severity",
        "path",
        "line",
        "column",
        "secret_redacted",
        "fingerprint",
    ] {
        assert!(!finding[key].is_null(), "{key} missing: {report}");
    }
    assert_eq!(finding["provider"], "Replicate");
    assert_eq!(finding["severity"], "critical");
    assert_eq!(report["stats"]["files_scanned"], 1);
    assert_eq!(report["stats"]["added_lines"], 1);
}

#[test]
fn fingerprint_ignores_path_and_line() {
    let token = replicate_token(53);
    let repo = TestRepo::new();
    repo.add("a.env", format!("REPLICATE_API_TOKEN={token}\n"));
    repo.add("deep/b.py", format!("\n\n\nx = '{token}'\n"));
    let report = repo.scan_json();
    let prints: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), 2);
    assert_eq!(prints[0], prints[1]);
}

#[test]
fn human_report_explains_remediation_and_bypass() {
    let repo = TestRepo::new();
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(54)),
    );
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(1);
    for expected in [
        "a.env:1:21",
        "replicate-api-token",
        "Replicate",
        "critical",
        "(40 chars)",
        "read the value from an environment variable in a.env",
        "git add a.env",
        "https://replicate.com/account/api-tokens",
        "tokenguard ignore ",
        "scanned 1 file",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected:?}: {run:#?}"
        );
    }
    // By hand no commit is being made: nothing is "blocked", nothing to bypass (issue 31).
    assert!(!run.stdout.contains("commit blocked"), "{run:#?}");
    assert!(!run.stdout.contains("--no-verify"), "{run:#?}");
    let hook = repo.commit(&[]);
    assert!(hook.stderr.contains("commit blocked"), "{hook:#?}");
    assert!(hook.stderr.contains("git commit --no-verify"), "{hook:#?}");
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no colour when not a terminal"
    );
    let coloured = repo.tokenguard(&["--color", "always", "scan-staged"]);
    assert!(coloured.stdout.contains('\u{1b}'), "--color always colours");
}

#[test]
fn outside_a_repository_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    let mut cmd = repo.command(BIN, dir.path());
    cmd.arg("scan-staged")
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap());
    let output = cmd.output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not a git repository"), "{stderr}");
    assert!(stderr.contains("--no-verify"), "{stderr}");
}

#[test]
fn missing_staged_object_fails_closed() {
    let repo = TestRepo::new();
    repo.add("a.txt", "some content that will go missing\n");
    let oid = repo.git(&["rev-parse", ":a.txt"]).stdout.trim().to_string();
    std::fs::remove_file(
        repo.path()
            .join(".git/objects")
            .join(&oid[..2])
            .join(&oid[2..]),
    )
    .unwrap();
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(2);
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
    assert!(run.stderr.contains("a.txt"), "{run:#?}");
    let commit = repo.commit(&[]);
    assert!(commit.code != Some(0), "{commit:#?}");
}

#[test]
fn hook_without_binary_says_how_to_install_and_blocks() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    let run = repo
        .command("git", &repo.path())
        .args(["commit", "-q", "-m", "x"])
        .env("TOKENGUARD_BIN", "/nonexistent/tokenguard")
        .env("PATH", "/usr/bin:/bin")
        .env("CARGO_HOME", "/nonexistent")
        .output()
        .unwrap();
    assert_ne!(run.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("install.sh"), "{stderr}");
    assert!(stderr.contains("--no-verify"), "{stderr}");
}

#[test]
fn rules_command_lists_the_catalog() {
    let repo = TestRepo::new();
    let run = repo.tokenguard(&["rules"]);
    run.assert_code(0);
    assert!(run.stdout.contains("replicate-api-token"));
    let json = repo.tokenguard(&["rules", "--format", "json"]).json();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "baseten-api-key")
    );
}

#[test]
fn corrupt_index_fails_closed() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    std::fs::write(repo.path().join(".git/index"), b"DIRC\0\0\0\x02garbage").unwrap();
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(2);
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
    assert!(run.stderr.contains("index"), "{run:#?}");
}

#[test]
fn head_pointing_at_a_missing_commit_fails_closed() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    std::fs::write(
        repo.path().join(".git/refs/heads/main"),
        "0123456789abcdef0123456789abcdef01234567\n",
    )
    .unwrap();
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(2);
    assert!(run.stderr.contains("HEAD"), "{run:#?}");
}
