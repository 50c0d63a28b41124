//! `--output [FORMAT:]FILE`: the report goes to a file, written whole (temporary file, then a
//! rename), and the human report stays on the terminal, as gitleaks' `--report-path` and
//! ggshield's `--output` do.

use std::os::unix::fs::PermissionsExt;

use crate::fixture::{TestRepo, replicate_token};

fn repo_with_a_staged_token() -> (TestRepo, String) {
    let repo = TestRepo::new();
    let token = replicate_token(700);
    repo.add("app.env", format!("REPLICATE_API_TOKEN={token}\n"));
    (repo, token)
}

fn read(repo: &TestRepo, name: &str) -> String {
    std::fs::read_to_string(repo.path().join(name)).unwrap()
}

#[test]
fn output_writes_the_report_to_the_file_and_the_human_report_to_the_terminal() {
    let (repo, token) = repo_with_a_staged_token();
    let run = repo.tokenguard(&["scan-staged", "--format", "json", "--output", "report.json"]);
    run.assert_code(1);
    // Run by hand, not from a hook: the human report names what was found, not a blocked commit.
    assert!(
        run.stdout.contains("1 secret in the staged change"),
        "{run:#?}"
    );
    assert!(!run.stdout.trim_start().starts_with('{'), "{run:#?}");
    let report: serde_json::Value = serde_json::from_str(&read(&repo, "report.json")).unwrap();
    assert_eq!(report["findings"][0]["rule_id"], "replicate-api-token");
    assert_eq!(report["findings"][0]["path"], "app.env");
    assert!(!read(&repo, "report.json").contains(&token));
    assert!(!run.all().contains(&token));
    // No temporary file is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(repo.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("tokenguard-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn each_output_has_its_own_format() {
    let (repo, _) = repo_with_a_staged_token();
    let run = repo.tokenguard(&[
        "scan-staged",
        "--output",
        "sarif:out/report.txt",
        "--output",
        "report.json",
        "--output",
        "human:report.log",
        "--output",
        "report.sarif",
    ]);
    // A directory that does not exist is an error, nothing is half-written.
    run.assert_code(2);
    assert!(run.stderr.contains("out/report.txt"), "{run:#?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");

    std::fs::create_dir(repo.path().join("out")).unwrap();
    let run = repo.tokenguard(&[
        "scan-staged",
        "--output",
        "sarif:out/report.txt",
        "--output",
        "report.json",
        "--output",
        "human:report.log",
        "--output",
        "report.sarif",
    ]);
    run.assert_code(1);
    let sarif: serde_json::Value = serde_json::from_str(&read(&repo, "out/report.txt")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let sarif: serde_json::Value = serde_json::from_str(&read(&repo, "report.sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let json: serde_json::Value = serde_json::from_str(&read(&repo, "report.json")).unwrap();
    assert_eq!(json["schema_version"], 1);
    let log = read(&repo, "report.log");
    assert!(log.contains("replicate-api-token"), "{log}");
    assert!(!log.contains('\x1b'), "{log:?}");
}

#[test]
fn output_replaces_a_file_keeping_its_mode_and_never_follows_a_symlink() {
    let (repo, _) = repo_with_a_staged_token();
    let kept = repo.path().join("report.json");
    std::fs::write(&kept, "old").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o600)).unwrap();
    let outside = repo.root().join("outside.txt");
    std::fs::write(&outside, "not ours").unwrap();
    std::os::unix::fs::symlink(&outside, repo.path().join("link.json")).unwrap();

    let run = repo.tokenguard(&[
        "scan-staged",
        "--output",
        "report.json",
        "--output",
        "link.json",
    ]);
    run.assert_code(1);
    let mode = std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(read(&repo, "report.json").contains("\"findings\""));
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "not ours");
    assert!(read(&repo, "link.json").contains("\"findings\""));
}

#[test]
fn output_works_among_scan_range_revisions_and_when_clean() {
    let repo = TestRepo::new();
    repo.add("a.txt", "hello\n");
    repo.commit(&[]).assert_code(0);
    let run = repo.tokenguard(&[
        "scan-range",
        "HEAD",
        "--output",
        "sarif:r.sarif",
        "--exit-zero",
    ]);
    run.assert_code(0);
    assert!(run.stdout.contains("no secrets found"), "{run:#?}");
    let sarif: serde_json::Value = serde_json::from_str(&read(&repo, "r.sarif")).unwrap();
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
    // An empty file name is a usage error.
    repo.tokenguard(&["scan-tree", "--output", "json:"])
        .assert_code(2);
}
