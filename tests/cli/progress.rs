//! Progress on long scans, under a real pseudo-terminal (util-linux `script`): shown on a
//! terminal for scan-range, scan-push, scan-tree and scan-files, never when stderr is piped,
//! with `-q`, for the commit being made, or before its delay has passed.

use crate::fixture::{BIN, Run, TestRepo, replicate_token};

/// `sh -c COMMAND` under a pseudo-terminal: the command's stderr (and whatever it does not
/// redirect) is what the terminal shows; `script -e` returns the command's exit status.
fn in_terminal(repo: &TestRepo, command: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = repo.command("script", &repo.path());
    cmd.args(["-q", "-e", "-c", command, "/dev/null"])
        .env("TERM", "xterm")
        .env("TOKENGUARD", BIN);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let run = Run::from(cmd.output().unwrap_or_else(|e| {
        panic!("util-linux `script` is needed by this test ({e}): apt-get install bsdutils")
    }));
    assert!(
        !run.stdout.contains("not found"),
        "the shell under script failed: {run:#?}"
    );
    run
}

/// A repository with `commits` commits of `files_each` small files each, the last one adding
/// a token (so every scan below must also block).
fn history(commits: usize, files_each: usize) -> TestRepo {
    let repo = TestRepo::new();
    for c in 0..commits {
        for f in 0..files_each {
            repo.write(&format!("dir{c}/file{f}.txt"), format!("line {c} {f}\n"));
        }
        if c + 1 == commits {
            repo.write(
                "leak.env",
                format!("REPLICATE_API_TOKEN={}\n", replicate_token(170)),
            );
        }
        repo.git(&["add", "-A"]);
        repo.commit_unchecked(&[]);
    }
    repo
}

const NOW: &[(&str, &str)] = &[("TOKENGUARD_PROGRESS_DELAY", "0")];

#[test]
fn progress_is_drawn_on_a_terminal_for_long_scans_and_cleared_before_the_report() {
    let repo = history(40, 3);
    let cases = [
        ("\"$TOKENGUARD\" scan-range HEAD", "scanning commits"),
        ("\"$TOKENGUARD\" scan-tree", "scanning files"),
        ("\"$TOKENGUARD\" scan-files .", "scanning files"),
        (
            "git rev-parse HEAD | sed 's|.*|refs/heads/main & refs/heads/main 0000000000000000000000000000000000000000|' | \"$TOKENGUARD\" scan-push origin /nowhere",
            "scanning commits",
        ),
    ];
    for (command, expected) in cases {
        // The report goes to a file, so the terminal shows stderr alone.
        let run = in_terminal(&repo, &format!("{command} > report.txt"), NOW);
        assert_eq!(run.code, Some(1), "{command}: {run:#?}");
        assert!(run.stdout.contains(expected), "{command}: {run:#?}");
        if expected == "scanning commits" {
            assert!(run.stdout.contains("/40 ("), "{command}: {run:#?}");
        }
        // Cleared when done: the line is erased, and the report is untouched by it.
        assert!(run.stdout.contains("\r\x1b[2K"), "{command}: {run:#?}");
        let report = std::fs::read_to_string(repo.path().join("report.txt")).unwrap();
        assert!(report.contains("replicate-api-token"), "{report}");
        assert!(!report.contains("scanning"), "{report}");
        // A progress line names counts only, never the secret.
        assert!(
            !run.stdout.contains(&replicate_token(170)[..12]),
            "{run:#?}"
        );
    }
}

#[test]
fn no_progress_when_piped_quiet_for_the_commit_or_before_the_delay() {
    let repo = history(30, 2);
    let scan_range = "\"$TOKENGUARD\" scan-range HEAD > report.txt";

    // stderr piped (not a terminal): nothing, even with no delay.
    let mut cmd = repo.command(BIN, &repo.path());
    cmd.args(["scan-range", "HEAD"])
        .env("TOKENGUARD_PROGRESS_DELAY", "0");
    let run = Run::from(cmd.output().unwrap());
    run.assert_code(1);
    assert!(!run.all().contains("scanning"), "{run:#?}");

    // -q on a terminal.
    let run = in_terminal(&repo, &format!("{scan_range} -q"), NOW);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(!run.stdout.contains("scanning"), "{run:#?}");

    // A terminal that cannot redraw a line.
    let run = in_terminal(
        &repo,
        scan_range,
        &[("TOKENGUARD_PROGRESS_DELAY", "0"), ("TERM", "dumb")],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(!run.stdout.contains("scanning"), "{run:#?}");

    // A scan that ends before the delay shows nothing (a delay no scan here can reach).
    let run = in_terminal(
        &repo,
        scan_range,
        &[("TOKENGUARD_PROGRESS_DELAY", "100000")],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(!run.stdout.contains("scanning"), "{run:#?}");

    // The hook's quiet path: the commit being made, through git, on a terminal.
    repo.add(
        "new.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(171)),
    );
    for command in [
        "\"$TOKENGUARD\" scan-staged > report.txt",
        "git commit -q -m x",
    ] {
        let run = in_terminal(&repo, command, NOW);
        assert_eq!(run.code, Some(1), "{command}: {run:#?}");
        assert!(!run.stdout.contains("scanning"), "{command}: {run:#?}");
    }
}

#[test]
fn a_bad_progress_delay_is_one_line_and_exit_2() {
    let repo = history(1, 1);
    for value in ["soon", "-1", "NaN"] {
        let run = repo
            .command(BIN, &repo.path())
            .args(["scan-tree"])
            .env("TOKENGUARD_PROGRESS_DELAY", value)
            .output()
            .map(Run::from)
            .unwrap();
        run.assert_code(2);
        assert!(
            run.stderr.starts_with(
                "tokenguard: error: TOKENGUARD_PROGRESS_DELAY must be a number of seconds"
            ),
            "{run:#?}"
        );
        assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
    }
}

#[test]
fn a_timeout_on_a_terminal_starts_its_message_on_a_clean_line() {
    let repo = history(3, 1);
    let run = in_terminal(
        &repo,
        "\"$TOKENGUARD\" --timeout 0 scan-range HEAD > report.txt",
        NOW,
    );
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stdout
            .contains("\r\x1b[2Ktokenguard: error: the scan took longer than its timeout"),
        "{run:#?}"
    );
    // Piped, the message is the plain line.
    let run = repo
        .command(BIN, &repo.path())
        .args(["--timeout", "0", "scan-range", "HEAD"])
        .output()
        .map(Run::from)
        .unwrap();
    run.assert_code(2);
    assert!(
        run.stderr
            .starts_with("tokenguard: error: the scan took longer than its timeout"),
        "{run:#?}"
    );
}
