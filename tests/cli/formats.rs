//! Output switches: SARIF validated by Microsoft's validator, colour, quiet, verbose, exit-zero.

use std::path::PathBuf;

use crate::fixture::{BIN, TestRepo, replicate_token, token};

/// Microsoft's SARIF multitool (npm `@microsoft/sarif-multitool`), installed by `.ci/run` and
/// `scripts/test.sh` into target/ci-tools, or named by TOKENGUARD_SARIF_MULTITOOL.
fn sarif_multitool() -> PathBuf {
    let path = std::env::var_os("TOKENGUARD_SARIF_MULTITOOL").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/ci-tools/node_modules/.bin/sarif-multitool")
        },
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "the SARIF validator is missing at {}: run scripts/test.sh, which installs it",
        path.display()
    );
    path
}

#[test]
fn sarif_validates_with_the_microsoft_validator() {
    let repo = TestRepo::new();
    repo.add(
        "dossier é/a b.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(90)),
    );
    repo.add("nb.py", format!("HF = '{}'\n", token("hf_[alnum:34]", 91)));
    let run = repo.tokenguard(&["scan-staged", "--format", "sarif"]);
    run.assert_code(1);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results[0]["partialFingerprints"]["tokenguardFingerprint/v1"].is_string());
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.len() > 60);
    assert!(rules[0]["properties"]["security-severity"].is_string());

    let file = repo.root().join("report.sarif");
    std::fs::write(&file, &run.stdout).unwrap();
    let output = std::process::Command::new(sarif_multitool())
        .arg("validate")
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(!text.contains(": error "), "{text}");
}

#[test]
fn colour_switches() {
    let repo = TestRepo::new();
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(92)),
    );
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = repo.command(BIN, &repo.path());
        cmd.env_remove("NO_COLOR").args(args).arg("scan-staged");
        for (key, value) in env {
            cmd.env(key, value);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    let coloured = |text: String| text.contains('\u{1b}');
    assert!(!coloured(run(&[], &[])), "not a terminal: no colour");
    assert!(coloured(run(&[], &[("CLICOLOR_FORCE", "1")])));
    assert!(!coloured(run(
        &[],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    )));
    assert!(coloured(run(&["--color", "always"], &[("NO_COLOR", "1")])));
    assert!(!coloured(run(
        &["--color", "never"],
        &[("CLICOLOR_FORCE", "1")]
    )));
}

#[test]
fn quiet_verbose_and_exit_zero() {
    let repo = TestRepo::new();
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(93)),
    );
    repo.add("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0".as_slice());
    let quiet = repo.tokenguard(&["scan-staged", "-q"]);
    quiet.assert_code(1);
    assert_eq!(
        quiet.stdout.lines().count(),
        2,
        "only the finding: {quiet:#?}"
    );
    let verbose = repo.tokenguard(&["scan-staged", "-v"]);
    assert!(
        verbose
            .stdout
            .contains("skipped: logo.png: not scanned: binary"),
        "{verbose:#?}"
    );
    let normal = repo.tokenguard(&["scan-staged"]);
    assert!(!normal.stdout.contains("logo.png:"), "{normal:#?}");
    let report = repo.tokenguard(&["scan-staged", "--exit-zero", "--format", "sarif"]);
    report.assert_code(0);
    assert!(report.stdout.contains("replicate-api-token"));
}

#[test]
fn help_and_version() {
    let repo = TestRepo::new();
    let help = repo.tokenguard(&["--help"]);
    help.assert_code(0);
    assert!(
        help.stdout.contains("Examples:") && help.stdout.contains("Exit status"),
        "{help:#?}"
    );
    for command in [
        "scan-staged",
        "scan-range",
        "scan-push",
        "install",
        "scan-tree",
        "scan-files",
    ] {
        let run = repo.tokenguard(&[command, "--help"]);
        run.assert_code(0);
        assert!(run.stdout.contains("Example"), "{command}: {run:#?}");
    }
    let version = repo.tokenguard(&["--version"]);
    assert!(version.stdout.starts_with("tokenguard "), "{version:#?}");
}
