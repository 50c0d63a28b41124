//! Every index git writes, made by git itself with each setting people use (versions 2-4,
//! `feature.manyFiles`, `index.skipHash`, a split index, a sparse index): the staged scan must
//! see what `git diff --cached` sees, pass a clean commit and block a token commit.

use crate::fixture::{TestRepo, replicate_token};

/// Directories of the base commit; a sparse checkout keeps only the first four.
const DIRS: [&str; 7] = ["d1", "d2", "d3", "d4", "d5", "d6", "d7"];

fn base_repo(setup: &[&[&str]]) -> TestRepo {
    let repo = TestRepo::new();
    for args in setup {
        repo.git(args);
    }
    for dir in DIRS {
        for file in 0..3 {
            repo.write(&format!("{dir}/f{file}.txt"), format!("{dir} {file}\n"));
        }
    }
    repo.write("top.txt", "top\n");
    repo.git(&["add", "-A"]);
    repo.commit(&[]).assert_code(0);
    repo
}

/// `git diff --cached --name-only` for one status filter, sorted.
fn git_changed(repo: &TestRepo, filter: &str) -> Vec<String> {
    let run = repo.git(&[
        "diff",
        "--cached",
        "--name-only",
        "--no-renames",
        "--diff-filter",
        filter,
    ]);
    let mut paths: Vec<String> = run.stdout.lines().map(str::to_string).collect();
    paths.sort();
    paths
}

/// A clean change passes and is what git sees; then a token change is blocked, with one
/// finding in each file git says the commit adds or modifies.
fn clean_then_token(repo: &TestRepo, label: &str) {
    repo.write("d1/f0.txt", "d1 0 changed\n");
    repo.write("d2/new.txt", "a new file\n");
    std::fs::remove_file(repo.path().join("d3/f1.txt")).unwrap();
    repo.git(&["add", "-A"]);
    let report = repo.scan_json();
    let stats = &report["stats"];
    assert_eq!(
        stats["files_scanned"].as_u64(),
        Some(git_changed(repo, "AM").len() as u64),
        "{label}: {report}"
    );
    assert_eq!(
        stats["deleted_files"].as_u64(),
        Some(git_changed(repo, "D").len() as u64),
        "{label}: {report}"
    );
    assert!(report["findings"].as_array().unwrap().is_empty(), "{label}");
    repo.commit(&[]).assert_code(0);

    let before = repo.head();
    repo.write(
        "d4/f2.txt",
        format!("d4 2\nREPLICATE_API_TOKEN={}\n", replicate_token(1201)),
    );
    repo.write(
        "d1/secret.py",
        format!("token = \"{}\"\n", replicate_token(1202)),
    );
    repo.git(&["add", "-A"]);
    let report = repo.scan_json();
    let mut paths: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, git_changed(repo, "AM"), "{label}: {report}");
    let run = repo.commit(&[]);
    run.assert_code(1);
    assert_eq!(repo.head(), before, "{label}: the token commit was blocked");
}

fn index_bytes(repo: &TestRepo) -> Vec<u8> {
    std::fs::read(repo.path().join(".git/index")).unwrap()
}

fn has_extension(index: &[u8], signature: &[u8; 4]) -> bool {
    index.windows(4).any(|w| w == signature)
}

#[test]
fn index_versions_2_3_and_4_are_read() {
    for version in ["2", "3", "4"] {
        let repo = base_repo(&[]);
        // git writes version 3 only when an entry needs extended flags (intent-to-add).
        if version == "3" {
            repo.write("d6/later.txt", "intent to add\n");
            repo.git(&["add", "-N", "d6/later.txt"]);
        }
        repo.git(&["update-index", "--index-version", version]);
        let index = index_bytes(&repo);
        assert_eq!(index[7].to_string(), version);
        clean_then_token(&repo, &format!("index version {version}"));
    }
}

#[test]
fn an_index_without_checksum_is_read() {
    for setting in [["feature.manyFiles", "true"], ["index.skipHash", "true"]] {
        let repo = base_repo(&[&["config", setting[0], setting[1]]]);
        repo.write("d5/touch.txt", "rewrites the index\n");
        repo.git(&["add", "-A"]);
        let index = index_bytes(&repo);
        assert!(
            index[index.len() - 20..].iter().all(|b| *b == 0),
            "{setting:?}: git wrote no checksum"
        );
        clean_then_token(&repo, setting[0]);
    }
}

#[test]
fn a_split_index_is_merged_with_its_shared_index() {
    for version in ["2", "4"] {
        let repo = base_repo(&[&["config", "core.splitIndex", "true"]]);
        repo.git(&["update-index", "--index-version", version]);
        // A change kept in the split part before the scans: replaced and added entries.
        repo.write("d5/f0.txt", "d5 0 edited\n");
        repo.git(&["add", "-A"]);
        let index = index_bytes(&repo);
        assert!(has_extension(&index, b"link"), "git wrote a split index");
        clean_then_token(&repo, &format!("split index, version {version}"));
    }
}

#[test]
fn a_split_index_works_for_commit_all_and_a_merge() {
    let repo = base_repo(&[&["config", "core.splitIndex", "true"]]);
    // `git commit -a` writes a temporary split index of its own (GIT_INDEX_FILE).
    repo.write(
        "d2/f1.txt",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(1203)),
    );
    let run = repo.commit(&["-a"]);
    run.assert_code(1);
    assert!(run.all().contains("d2/f1.txt"), "{run:#?}");
    repo.git(&["checkout", "-q", "--", "d2/f1.txt"]);

    // A merge commit is compared with both parents (through libgit2, from this index).
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.add("side.txt", "side\n");
    repo.commit(&[]).assert_code(0);
    repo.git(&["checkout", "-q", "main"]);
    repo.add("main.txt", "main\n");
    repo.commit(&[]).assert_code(0);
    repo.git(&["merge", "-q", "--no-commit", "side"]);
    repo.add(
        "merged.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(1204)),
    );
    assert!(has_extension(&index_bytes(&repo), b"link"));
    let report = repo.scan_json();
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["merged.env"], "{report}");
}

#[test]
fn a_sparse_index_is_read_and_its_directories_compared_with_head() {
    let repo = base_repo(&[]);
    repo.git(&[
        "sparse-checkout",
        "set",
        "--cone",
        "--sparse-index",
        "d1",
        "d2",
        "d3",
        "d4",
    ]);
    assert!(
        has_extension(&index_bytes(&repo), b"sdir"),
        "a sparse index"
    );
    clean_then_token(&repo, "sparse index");
    // Still sparse after the commits: the directories outside the cone stayed folded.
    assert!(has_extension(&index_bytes(&repo), b"sdir"));
}

#[test]
fn a_sparse_directory_that_differs_from_head_is_expanded() {
    let repo = base_repo(&[]);
    repo.git(&["sparse-checkout", "set", "--cone", "--sparse-index", "d1"]);
    // HEAD moves under the index (a soft reset): the folded directory d5 now differs from
    // HEAD's, and the commit would add back what the reset took away.
    repo.write("d1/f0.txt", "one\n");
    repo.git(&["add", "-A"]);
    repo.commit(&[]).assert_code(0);
    let token = replicate_token(1205);
    repo.git(&["sparse-checkout", "disable"]);
    repo.add("d5/f0.txt", format!("REPLICATE_API_TOKEN={token}\n"));
    repo.commit_unchecked(&[]);
    repo.git(&["sparse-checkout", "set", "--cone", "--sparse-index", "d1"]);
    repo.git(&["reset", "-q", "--soft", "HEAD~1"]);
    assert!(has_extension(&index_bytes(&repo), b"sdir"));
    assert_eq!(git_changed(&repo, "AM"), ["d5/f0.txt"]);
    let report = repo.scan_json();
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["d5/f0.txt"], "{report}");
}
