//! A server's pre-receive hook honours the repository's committed `.tokenguardignore` and
//! `.tokenguard.toml` as its default branch holds them before the push, and never as the
//! pushed commits hold them (the pusher controls those).

use crate::fixture::{Run, TestRepo, replicate_token};

/// A client with an `origin` that runs `tokenguard scan-push` in pre-receive; the client's own
/// hook is off, as on a machine without tokenguard.
fn client_and_server() -> TestRepo {
    let repo = TestRepo::new();
    std::fs::remove_file(repo.path().join(".git/hooks/pre-commit")).unwrap();
    repo.with_origin("server.git", true);
    repo
}

fn fingerprint_of(repo: &TestRepo, path: &str) -> String {
    let report = repo
        .tokenguard(&["scan-files", path, "--format", "json"])
        .json();
    report["findings"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn server_honours_the_ignore_file_of_its_default_branch_not_the_pushed_one() {
    let repo = client_and_server();
    let token = replicate_token(950);
    repo.write(
        "fixtures/demo.env",
        format!("REPLICATE_API_TOKEN={token}\n"),
    );
    let fingerprint = fingerprint_of(&repo, "fixtures/demo.env");

    // The pusher adds the token and its ignore entry in the same push: rejected.
    repo.git(&["add", "fixtures/demo.env"]);
    repo.add(
        ".tokenguardignore",
        format!("{fingerprint} # revoked demo token\n"),
    );
    repo.commit(&[]).assert_code(0);
    let run = repo.push(&["main"]);
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(run.stderr.contains("replicate-api-token"), "{run:#?}");

    // The ignore entry reaches the default branch first (reviewed, on its own): the token's
    // push is then accepted, as the client's own hook would have passed it.
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.add(
        ".tokenguardignore",
        format!("{fingerprint} # revoked demo token\n"),
    );
    repo.commit(&[]).assert_code(0);
    repo.push(&["main"]).assert_code(0);
    repo.add(
        "fixtures/demo.env",
        format!("REPLICATE_API_TOKEN={token}\n"),
    );
    repo.commit(&[]).assert_code(0);
    let run = repo.push(&["main"]);
    assert_eq!(run.code, Some(0), "{run:#?}");

    // Another token is still rejected.
    repo.add(
        "app.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(951)),
    );
    repo.commit(&[]).assert_code(0);
    let run = repo.push(&["main"]);
    assert_ne!(run.code, Some(0), "{run:#?}");
}

#[test]
fn server_reads_the_config_of_its_default_branch_and_not_of_another_branch() {
    let repo = client_and_server();
    // A branch that allows its own fixtures path and adds a token there: rejected, since the
    // default branch's config has no such allowlist.
    repo.git(&["checkout", "-q", "-b", "sneaky"]);
    repo.add(
        ".tokenguard.toml",
        "[allow]\npaths = [\"tests/fixtures/\"]\n",
    );
    repo.add(
        "tests/fixtures/key.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(952)),
    );
    repo.commit(&[]).assert_code(0);
    let run = repo.push(&["sneaky"]);
    assert_ne!(run.code, Some(0), "{run:#?}");

    // The same config on the default branch: the fixture passes.
    repo.git(&["checkout", "-q", "main"]);
    repo.add(
        ".tokenguard.toml",
        "[allow]\npaths = [\"tests/fixtures/\"]\n",
    );
    repo.commit(&[]).assert_code(0);
    repo.push(&["main"]).assert_code(0);
    repo.git(&["checkout", "-q", "sneaky"]);
    let run = repo.push(&["sneaky"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
}

#[test]
fn a_broken_ignore_file_on_the_default_branch_rejects_with_its_name() {
    let repo = client_and_server();
    repo.add(".tokenguardignore", "not-a-fingerprint\n");
    repo.commit(&[]).assert_code(0);
    repo.push(&["main"]).assert_code(0);
    repo.add("b.txt", "b\n");
    repo.commit(&[]).assert_code(0);
    // The server's temporary directory (the hook inherits it through a local push).
    let temp = repo.root().join("server-tmp");
    std::fs::create_dir(&temp).unwrap();
    let run = Run::from(
        repo.command("git", &repo.path())
            .args(["push", "-q", "origin", "main"])
            .env("TMPDIR", &temp)
            .output()
            .unwrap(),
    );
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(
        run.stderr.contains("HEAD:.tokenguardignore:1:1"),
        "{run:#?}"
    );
    // No temporary copy is left behind.
    assert_eq!(std::fs::read_dir(&temp).unwrap().count(), 0);
}
