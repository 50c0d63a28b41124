//! The parallel, blob-deduplicating history scan against the plain one (one commit after
//! another, `TOKENGUARD_TEST_PLAIN_HISTORY=1`) on histories made here: the reports must be
//! identical, byte for byte, in every format.

use crate::fixture::{BIN, Run, TestRepo, replicate_token};

/// `tokenguard ARGS` with the plain, one-commit-at-a-time history scan.
fn plain(repo: &TestRepo, args: &[&str]) -> Run {
    Run::from(
        repo.command(BIN, &repo.path())
            .env("TOKENGUARD_TEST_PLAIN_HISTORY", "1")
            .args(args)
            .output()
            .expect("tokenguard runs"),
    )
}

/// Both scans of `args` give the same exit status and the same report; returns it.
#[track_caller]
fn same_report(repo: &TestRepo, args: &[&str]) -> Run {
    let fast = repo.tokenguard(args);
    let slow = plain(repo, args);
    assert_eq!(fast.code, slow.code, "{args:?}: {fast:#?} {slow:#?}");
    assert_eq!(fast.stdout, slow.stdout, "{args:?}");
    assert_eq!(fast.stderr, slow.stderr, "{args:?}");
    fast
}

fn head(repo: &TestRepo) -> String {
    repo.head().expect("a commit")
}

/// A module of `lines` lines that names rule keywords without holding a secret.
fn module(name: &str, lines: usize) -> String {
    (0..lines)
        .map(|i| format!("def {name}_{i}(model='mistral', fallback=False): return {i}\n"))
        .collect()
}

/// Renames, a merge, a revert of a token's removal, the same blob at many paths and in many
/// commits, a binary file brought back, a `.env` file, a commit of many files.
#[test]
fn parallel_history_scan_reports_exactly_what_the_plain_scan_reports() {
    let repo = TestRepo::new();
    let token = replicate_token(801);
    let other = replicate_token(802);
    for i in 0..24 {
        repo.add(&format!("pkg/m{i:02}.py"), module(&format!("m{i}"), 20 + i));
    }
    repo.add("logo.png", b"\x89PNG\r\n\x1a\n\0\0binary");
    repo.commit_unchecked(&[]);
    // The same blob (with a token) added at several paths, over several commits.
    let shared = format!("{}token = '{token}'\n", module("shared", 5));
    for i in 0..3 {
        repo.add(&format!("copies/c{i}.py"), &shared);
        repo.commit_unchecked(&[]);
    }
    // Removed, then brought back by a revert: the revert adds it again.
    repo.git(&["rm", "-q", "copies/c0.py", "logo.png"]);
    repo.commit_unchecked(&[]);
    repo.git(&["revert", "--no-edit", "HEAD"]);
    // A pure rename adds nothing; a rename with an edit adds only its new line.
    std::fs::create_dir_all(repo.path().join("moved")).unwrap();
    repo.git(&["mv", "copies/c1.py", "moved/c1.py"]);
    repo.commit_unchecked(&[]);
    repo.git(&["mv", "pkg/m05.py", "moved/m05.py"]);
    repo.add(
        "moved/m05.py",
        format!("{}key = '{other}'\n", module("m5", 25)),
    );
    repo.commit_unchecked(&[]);
    // A branch that adds a token, merged with --no-ff: the merge adds nothing new, but a merge
    // resolution that adds a token of its own is reported at the merge.
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.add(
        ".env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(803)),
    );
    repo.add("pkg/m01.py", module("side", 30));
    repo.commit_unchecked(&[]);
    repo.git(&["checkout", "-q", "main"]);
    repo.add("pkg/m02.py", module("main", 31));
    repo.commit_unchecked(&[]);
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "side"]);
    repo.add("evil.py", format!("t = '{}'\n", replicate_token(804)));
    repo.commit_unchecked(&[]);
    // Many commits that touch many files, so every thread gets work.
    for round in 0..12 {
        for i in (round % 3..24).step_by(3) {
            repo.add(
                &format!("pkg/m{i:02}.py"),
                module(&format!("r{round}m{i}"), 10 + round),
            );
        }
        repo.commit_unchecked(&[]);
    }

    let run = same_report(&repo, &["scan-range", "HEAD", "--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    let found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["commit"].as_str().unwrap()[..7].to_string(),
            )
        })
        .collect();
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "copies/c0.py",
            "copies/c1.py",
            "copies/c2.py",
            "copies/c0.py",
            "moved/m05.py",
            ".env",
            "evil.py"
        ],
        "{report}"
    );
    assert_eq!(report["stats"]["binary_skipped"], 2, "{report}");
    let commits: std::collections::BTreeSet<&str> = found.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(commits.len(), 7, "each finding in its own commit: {report}");
    for args in [
        &["scan-range", "HEAD"][..],
        &["scan-range", "HEAD", "--format", "sarif"],
        &["scan-range", "HEAD~3..HEAD", "--format", "json"],
        &["scan-range", "HEAD~20..HEAD~14", "-v"],
    ] {
        same_report(&repo, args);
    }
    let _ = head(&repo);
}

/// A missing blob fails the scan closed in both paths, with the same message.
#[test]
fn a_missing_blob_fails_both_scans_the_same_way() {
    let repo = TestRepo::new();
    for i in 0..30 {
        repo.add(&format!("f{i}.txt"), format!("line {i}\n"));
        repo.commit_unchecked(&[]);
    }
    let blob = repo
        .git(&["rev-parse", "HEAD~10:f19.txt"])
        .stdout
        .trim()
        .to_string();
    let object = repo
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(object).unwrap();
    let run = same_report(&repo, &["scan-range", "HEAD"]);
    run.assert_code(2);
    assert!(run.stderr.contains(&blob), "{run:#?}");
}

/// A large file edited over many commits, each version searched around its changes only
/// (64 KiB and more): a legacy 40-hex token that an edit puts the word `replicate` three
/// lines from, a new token, edits that leave it clean; the report is the plain scan's.
#[test]
fn large_files_searched_around_their_changes_report_what_the_plain_scan_reports() {
    let repo = TestRepo::new();
    let mut lines: Vec<String> = module("big", 1600).lines().map(str::to_string).collect();
    let hex: String = (0..40)
        .map(|i| b"0123456789abcdef"[(i * 7 + 3) % 16] as char)
        .collect();
    lines[800] = format!("api_token = \"{hex}\"");
    let mut version = 0;
    let mut commit = |lines: &[String]| {
        repo.add("src/big.py", lines.join("\n") + "\n");
        repo.commit_unchecked(&[]);
        // Other files in between, so that the next version is usually searched after this
        // one's summary is kept (the threads take changes in commit order).
        version += 1;
        for i in 0..40 {
            repo.add(
                &format!("small/s{i:02}.py"),
                module(&format!("v{version}_{i}"), 3),
            );
        }
        repo.commit_unchecked(&[]);
    };
    commit(&lines);
    for i in 0..6 {
        lines.insert(100 + i * 200, format!("step_{i} = run({i})"));
        commit(&lines);
    }
    lines.insert(798, "import replicate".to_string());
    commit(&lines);
    lines.insert(
        1500,
        format!("client = Client(\"{}\")", replicate_token(803)),
    );
    commit(&lines);
    lines.remove(1500);
    lines.insert(20, "# tidy".to_string());
    commit(&lines);
    let head = head(&repo);
    for format in ["json", "human"] {
        let found = same_report(&repo, &["scan-range", &head, "--format", format]);
        assert_eq!(found.code, Some(1), "{found:#?}");
    }
}

/// Names and messages, read on the scanning threads with the blobs: file names and symlink
/// targets that hold tokens sort with the content findings of their commit, and each commit's
/// message follows them, in every commit of a history long enough to keep both threads busy.
#[test]
fn names_and_messages_read_with_the_blobs_report_what_the_plain_scan_reports() {
    let repo = TestRepo::new();
    for i in 0..40 {
        let token = replicate_token(900 + i);
        for j in 0..6 {
            repo.add(
                &format!("d{j}/m{i:02}.py"),
                module(&format!("m{i}_{j}"), 5 + j),
            );
        }
        // A name that sorts before the content finding of the same commit.
        if i % 4 != 3 {
            repo.add(
                &format!("b{i}.env"),
                format!("REPLICATE_API_TOKEN={token}\n"),
            );
        }
        match i % 4 {
            0 => repo.add(&format!("a-{token}.json"), "{}\n"),
            2 => {
                let link = repo.path().join(format!("a{i}"));
                std::os::unix::fs::symlink(format!("/secrets/{token}"), link).unwrap();
                repo.git(&["add", &format!("a{i}")]);
            }
            _ => {}
        }
        let message = match i % 3 {
            0 => format!("commit {i}\n\nthe key is {token}"),
            _ => format!("commit {i}"),
        };
        repo.git(&["commit", "-q", "--no-verify", "-m", &message]);
    }
    let run = same_report(&repo, &["scan-range", "HEAD", "--format", "json"]);
    run.assert_code(1);
    let parts: Vec<String> = (run.json()["findings"].as_array().unwrap().iter())
        .map(|f| f["part"].as_str().unwrap_or("content").to_string())
        .collect();
    for part in ["path", "symlink-target", "commit-message", "content"] {
        assert!(parts.iter().any(|p| p == part), "{part}: {parts:?}");
    }
    same_report(&repo, &["scan-range", "HEAD"]);
    same_report(
        &repo,
        &["scan-range", "HEAD~30..HEAD~3", "--format", "sarif"],
    );
}
