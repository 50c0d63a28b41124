//! `scan-range` selections as `git rev-list` makes them (`A...B`, `--all`, `--since`, `^X`,
//! several revisions), and shallow clones, whose boundary commit is a baseline, not an
//! addition of its whole tree.

use std::collections::BTreeSet;
use std::path::Path;

use crate::fixture::{Run, TestRepo, replicate_token};

/// Commits `path` with `content`, bypassing the hook, and returns the new commit's id.
fn commit_file(repo: &TestRepo, dir: &Path, path: &str, content: &str) -> String {
    std::fs::write(dir.join(path), content).unwrap();
    repo.git_in(dir, &["add", "--", path]).assert_code(0);
    repo.git_in(dir, &["commit", "-q", "--no-verify", "-m", path])
        .assert_code(0);
    rev_parse(repo, dir, "HEAD")
}

fn rev_parse(repo: &TestRepo, dir: &Path, rev: &str) -> String {
    let run = repo.git_in(dir, &["rev-parse", rev]);
    run.assert_code(0);
    run.stdout.trim().to_string()
}

fn token_line(seed: u64) -> String {
    format!("REPLICATE_API_TOKEN={}\n", replicate_token(seed))
}

/// The commits of a report's findings, and the commits it scanned.
fn finding_commits(run: &Run) -> BTreeSet<String> {
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["commit"].as_str().unwrap().to_string())
        .collect()
}

/// main: base; branch `left` adds a token, branch `right` adds another; a tag off a side
/// branch that no branch contains adds a third.
struct Forked {
    repo: TestRepo,
    base: String,
    left: String,
    right: String,
    tagged: String,
}

fn forked() -> Forked {
    let repo = TestRepo::new();
    let dir = repo.path();
    let base = commit_file(&repo, &dir, "base.txt", "base\n");
    repo.git(&["checkout", "-q", "-b", "left"]);
    let left = commit_file(&repo, &dir, "left.env", &token_line(120));
    repo.git(&["checkout", "-q", "-b", "right", "main"]);
    let right = commit_file(&repo, &dir, "right.env", &token_line(121));
    repo.git(&["checkout", "-q", "--detach", "main"]);
    let tagged = commit_file(&repo, &dir, "tagged.env", &token_line(122));
    repo.git(&["tag", "v-side"]);
    repo.git(&["checkout", "-q", "main"]);
    Forked {
        repo,
        base,
        left,
        right,
        tagged,
    }
}

#[test]
fn symmetric_difference_scans_both_sides_and_not_the_common_part() {
    let f = forked();
    let run = f
        .repo
        .tokenguard(&["scan-range", "left...right", "--format", "json"]);
    run.assert_code(1);
    let expected: BTreeSet<String> = [f.left.clone(), f.right.clone()].into();
    assert_eq!(finding_commits(&run), expected);
    assert_eq!(run.json()["stats"]["commits_scanned"], 2, "not the base");
    // Two dots: only what right has and left has not.
    let run = f
        .repo
        .tokenguard(&["scan-range", "left..right", "--format", "json"]);
    assert_eq!(finding_commits(&run), [f.right.clone()].into());
}

#[test]
fn all_refs_several_revisions_and_exclusions() {
    let f = forked();
    // --all reaches the tag and both branches, whatever is checked out.
    let run = f
        .repo
        .tokenguard(&["scan-range", "--all", "--format", "json"]);
    run.assert_code(1);
    let every: BTreeSet<String> = [f.left.clone(), f.right.clone(), f.tagged.clone()].into();
    assert_eq!(finding_commits(&run), every);
    assert_eq!(run.json()["stats"]["commits_scanned"], 4);
    // Our flags may come before, between or after git's selection.
    let run = f
        .repo
        .tokenguard(&["scan-range", "--format", "json", "--branches", "-q"]);
    assert_eq!(
        finding_commits(&run),
        [f.left.clone(), f.right.clone()].into()
    );
    // Several revisions with an exclusion: both tips, without what main has.
    let run = f
        .repo
        .tokenguard(&["scan-range", "left", "v-side", "^main", "--format", "json"]);
    assert_eq!(
        finding_commits(&run),
        [f.left.clone(), f.tagged.clone()].into()
    );
    assert_eq!(run.json()["stats"]["commits_scanned"], 2);
    // --not, as rev-list reads it; and an exclusion of everything leaves nothing to report.
    let run = f.repo.tokenguard(&["scan-range", "right", "--not", "main"]);
    run.assert_code(1);
    assert!(run.stdout.contains(&f.right), "{run:#?}");
    f.repo
        .tokenguard(&["scan-range", "--all", "--not", "--all"])
        .assert_code(0);
    let _ = f.base;
}

#[test]
fn date_limits_select_commits_by_committer_date() {
    let repo = TestRepo::new();
    let dir = repo.path();
    let commit_at = |path: &str, content: String, date: &str| {
        std::fs::write(dir.join(path), content).unwrap();
        repo.git(&["add", path]);
        let output = repo
            .command("git", &dir)
            .args(["commit", "-q", "--no-verify", "-m", path])
            .env("GIT_COMMITTER_DATE", date)
            .env("GIT_AUTHOR_DATE", date)
            .output()
            .unwrap();
        assert!(output.status.success());
    };
    commit_at("old.env", token_line(123), "2020-01-01T00:00:00Z");
    commit_at("new.txt", "clean\n".into(), "2022-06-01T00:00:00Z");
    let recent = repo.tokenguard(&[
        "scan-range",
        "HEAD",
        "--since=2021-01-01",
        "--format",
        "json",
    ]);
    recent.assert_code(0);
    assert_eq!(recent.json()["stats"]["commits_scanned"], 1);
    let older = repo.tokenguard(&["scan-range", "--until=2021-01-01", "HEAD"]);
    older.assert_code(1);
    assert!(older.stdout.contains("old.env"), "{older:#?}");
    // rev-list's count limit, with its value as the next argument.
    let last = repo.tokenguard(&["scan-range", "-n", "1", "HEAD", "--format", "json"]);
    last.assert_code(0);
    assert_eq!(last.json()["stats"]["commits_scanned"], 1);
}

#[test]
fn options_that_change_what_rev_list_prints_and_bad_revisions_are_errors() {
    let f = forked();
    for (args, says) in [
        (&["--objects", "HEAD"][..], "lists trees and blobs"),
        (&["HEAD", "--", "base.txt"][..], "path limits"),
        (
            &["--pretty=oneline", "HEAD"][..],
            "changes rev-list's output",
        ),
        (&["--count", "--all"][..], "prints a count"),
        (&["--stdin"][..], "from its arguments"),
    ] {
        let mut full = vec!["scan-range"];
        full.extend_from_slice(args);
        let run = f.repo.tokenguard(&full);
        run.assert_code(2);
        assert!(run.stderr.contains(says), "{args:?}: {run:#?}");
        assert!(run.stderr.contains("scan not completed"), "{run:#?}");
    }
    let run = f.repo.tokenguard(&["scan-range", "no-such-branch..HEAD"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("bad revision 'no-such-branch..HEAD'"),
        "git's own reason: {run:#?}"
    );
    let run = f.repo.tokenguard(&["scan-range"]);
    run.assert_code(2);
}

/// A repository of four commits: the first adds a token, the second and third are clean,
/// the fourth adds another token; and a `--depth 2` clone of it (the third is the boundary).
struct Shallow {
    repo: TestRepo,
    clone: std::path::PathBuf,
    adds_first: String,
    boundary: String,
    adds_last: String,
}

fn shallow_clone(depth: &str) -> Shallow {
    let repo = TestRepo::new();
    let dir = repo.path();
    let adds_first = commit_file(&repo, &dir, "old.env", &token_line(124));
    commit_file(&repo, &dir, "a.txt", "one\n");
    let boundary = commit_file(&repo, &dir, "a.txt", "one\ntwo\n");
    let adds_last = commit_file(&repo, &dir, "new.env", &token_line(125));
    let clone = repo.root().join("shallow");
    let url = format!("file://{}", dir.display());
    repo.git(&[
        "clone",
        "-q",
        "--depth",
        depth,
        &url,
        clone.to_str().unwrap(),
    ]);
    Shallow {
        repo,
        clone,
        adds_first,
        boundary,
        adds_last,
    }
}

#[test]
fn shallow_clone_boundary_is_a_baseline_not_an_addition() {
    let s = shallow_clone("2");
    let boundary_of = |run: &Run| run.json()["stats"]["shallow_boundaries"].clone();
    let run = s
        .repo
        .tokenguard_in(&s.clone, &["scan-range", "HEAD", "--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    assert_eq!(boundary_of(&run), serde_json::json!([s.boundary]));
    assert_eq!(report["stats"]["commits_scanned"], 2);
    // Only the last commit's line was added; the boundary's three lines are its baseline.
    assert_eq!(report["stats"]["added_lines"], 1);
    assert_eq!(report["stats"]["baseline_lines"], 3);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{report:#}");
    let old = findings.iter().find(|f| f["path"] == "old.env").unwrap();
    assert_eq!(old["commit"], s.boundary.as_str());
    assert_eq!(old["shallow_boundary"], true);
    let new = findings.iter().find(|f| f["path"] == "new.env").unwrap();
    assert_eq!(new["commit"], s.adds_last.as_str());
    assert!(new.get("shallow_boundary").is_none(), "{new:#}");

    // The human report says what was scanned and what a full scan needs.
    let human = s.repo.tokenguard_in(&s.clone, &["scan-range", "HEAD"]);
    human.assert_code(1);
    assert!(
        human.stdout.contains(&format!(
            "in the tree of commit {} (shallow boundary)",
            s.boundary
        )),
        "{human:#?}"
    );
    assert!(human.stdout.contains("1 added line"), "{human:#?}");
    for says in [
        "shallow clone",
        "scanned as a baseline",
        "fetch-depth: 0",
        "--unshallow",
    ] {
        assert!(human.stdout.contains(says), "{says}: {human:#?}");
    }
    let sarif = s
        .repo
        .tokenguard_in(&s.clone, &["scan-range", "HEAD", "--format", "sarif"])
        .json();
    let flagged = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["properties"]["shallowBoundary"] == true)
        .count();
    assert_eq!(flagged, 1);

    // A range that stops before the boundary has nothing to say about it.
    let run = s
        .repo
        .tokenguard_in(&s.clone, &["scan-range", "HEAD~1..HEAD"]);
    run.assert_code(1);
    assert!(!run.stdout.contains("shallow"), "{run:#?}");

    // With the full history, each secret belongs to the commit that added it.
    s.repo
        .git_in(&s.clone, &["fetch", "-q", "--unshallow"])
        .assert_code(0);
    let run = s
        .repo
        .tokenguard_in(&s.clone, &["scan-range", "HEAD", "--format", "json"]);
    let report = run.json();
    assert_eq!(report["stats"]["shallow_boundaries"], serde_json::json!([]));
    assert_eq!(report["stats"]["baseline_lines"], 0);
    let old = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "old.env")
        .unwrap()
        .clone();
    assert_eq!(old["commit"], s.adds_first.as_str());
    assert!(old.get("shallow_boundary").is_none());
}

#[test]
fn depth_one_clone_scans_the_tip_as_a_baseline() {
    let s = shallow_clone("1");
    // The tip is the boundary: its tree holds both tokens, as a baseline.
    let run = s
        .repo
        .tokenguard_in(&s.clone, &["scan-range", "HEAD", "--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    assert_eq!(report["stats"]["added_lines"], 0);
    assert_eq!(
        report["stats"]["shallow_boundaries"],
        serde_json::json!([s.adds_last])
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["shallow_boundary"] == true),
        "{report:#}"
    );
    // A depth-1 clone of a repository without tokens: clean, and the note still says what
    // was read.
    let repo = TestRepo::new();
    commit_file(&repo, &repo.path(), "a.txt", "one\n");
    commit_file(&repo, &repo.path(), "a.txt", "one\ntwo\n");
    let clone = repo.root().join("shallow");
    let url = format!("file://{}", repo.path().display());
    repo.git(&["clone", "-q", "--depth", "1", &url, clone.to_str().unwrap()]);
    let run = repo.tokenguard_in(&clone, &["scan-range", "HEAD"]);
    run.assert_code(0);
    assert!(run.stdout.contains("no secrets found"), "{run:#?}");
    assert!(run.stdout.contains("its whole tree (2 lines)"), "{run:#?}");
}
