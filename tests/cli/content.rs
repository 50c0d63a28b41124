//! Content is bytes: line endings, encodings, sizes, paths and binary blobs.

use crate::fixture::{TestRepo, findings, replicate_token};

fn only_finding(repo: &TestRepo) -> (String, String, u64, u64) {
    let report = repo.scan_json();
    let mut found = findings(&report);
    assert_eq!(found.len(), 1, "{report}");
    found.remove(0)
}

#[test]
fn crlf_lines_have_correct_positions() {
    let repo = TestRepo::new();
    let token = replicate_token(20);
    repo.add(
        "win.env",
        format!("A=1\r\nB=2\r\nREPLICATE_API_TOKEN={token}\r\n"),
    );
    assert_eq!(
        only_finding(&repo),
        ("replicate-api-token".into(), "win.env".into(), 3, 21)
    );
    assert!(repo.commit(&[]).code != Some(0));
}

#[test]
fn invalid_utf8_around_a_token() {
    let repo = TestRepo::new();
    let token = replicate_token(21);
    let mut content = b"\xff\xfe latin1 caf\xe9\n".to_vec();
    content.extend_from_slice(b"\xc3\x28 key=");
    content.extend_from_slice(token.as_bytes());
    content.extend_from_slice(b" \xff\n");
    repo.add("data.txt", content);
    assert_eq!(
        only_finding(&repo),
        ("replicate-api-token".into(), "data.txt".into(), 2, 8)
    );
}

#[test]
fn token_on_a_last_line_without_newline() {
    let repo = TestRepo::new();
    repo.add("a.txt", "one\n");
    repo.commit(&[]).assert_code(0);
    repo.add("a.txt", format!("one\nkey: {}", replicate_token(22)));
    assert_eq!(
        only_finding(&repo),
        ("replicate-api-token".into(), "a.txt".into(), 2, 6)
    );
}

#[test]
fn twelve_megabyte_single_line_file() {
    let repo = TestRepo::new();
    let token = replicate_token(23);
    let filler = "var a=function(b){return b+1};".repeat(420_000);
    let offset = filler.len() / 2;
    let content = format!("{}\"{token}\"{}", &filler[..offset], &filler[offset..]);
    assert!(content.len() > 12_000_000);
    repo.add("dist/app.min.js", content);
    let expected_column = offset as u64 + 2;
    assert_eq!(
        only_finding(&repo),
        (
            "replicate-api-token".into(),
            "dist/app.min.js".into(),
            1,
            expected_column
        )
    );
    assert!(repo.commit(&[]).code != Some(0));
}

#[test]
fn unicode_path_with_spaces() {
    let repo = TestRepo::new();
    let path = "dossier é/clé secrète 🔑.env";
    repo.add(
        path,
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(24)),
    );
    assert_eq!(only_finding(&repo).1, path);
    let run = repo.tokenguard(&["scan-staged"]);
    assert!(run.stdout.contains(&format!("{path}:1:21")), "{run:#?}");
}

#[test]
fn notebook_json_with_escaped_quotes() {
    let repo = TestRepo::new();
    let token = replicate_token(25);
    let notebook = format!(
        r#"{{
 "cells": [
  {{
   "cell_type": "code",
   "source": [
    "import os\n",
    "os.environ[\"REPLICATE_API_TOKEN\"] = \"{token}\"\n"
   ]
  }}
 ]
}}
"#
    );
    repo.add("demo.ipynb", notebook);
    assert_eq!(
        only_finding(&repo),
        ("replicate-api-token".into(), "demo.ipynb".into(), 7, 46)
    );
}

#[test]
fn binary_blobs_are_skipped_and_counted() {
    let repo = TestRepo::new();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(replicate_token(26).as_bytes());
    repo.add("logo.png", png);
    repo.add("ok.txt", "fine\n");
    let report = repo.scan_json();
    assert!(findings(&report).is_empty(), "{report}");
    assert_eq!(report["stats"]["binary_skipped"], 1);
    assert_eq!(report["stats"]["files_scanned"], 1);
    let run = repo.tokenguard(&["scan-staged"]);
    assert!(run.stdout.contains("skipped 1 binary file"), "{run:#?}");
}

#[test]
fn nul_after_the_first_8000_bytes_is_text_as_git_decides() {
    let repo = TestRepo::new();
    let mut content = vec![b'a'; 8000];
    content.push(b'\n');
    content.push(0);
    content.extend_from_slice(format!("\nkey={}\n", replicate_token(27)).as_bytes());
    repo.add("late-nul.dat", content);
    assert_eq!(only_finding(&repo).2, 3);
}

#[test]
fn several_findings_are_sorted_and_positioned() {
    let repo = TestRepo::new();
    repo.add(
        "b.env",
        format!("X=1\nREPLICATE_API_TOKEN={}\n", replicate_token(28)),
    );
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={} # first\n", replicate_token(29)),
    );
    let report = repo.scan_json();
    let found = findings(&report);
    assert_eq!(
        found,
        vec![
            ("replicate-api-token".into(), "a.env".into(), 1, 21),
            ("replicate-api-token".into(), "b.env".into(), 2, 21),
        ]
    );
}

#[test]
fn many_files_on_several_threads_keep_exact_results() {
    let repo = TestRepo::new();
    let old_token = replicate_token(33);
    for i in 0..40 {
        let keyword_line = if i == 7 {
            format!("legacy = '{old_token}'\n")
        } else {
            String::new()
        };
        repo.add(
            &format!("pkg/m{i:02}.py"),
            format!("{keyword_line}def f{i}():\n    return {i}\n"),
        );
    }
    repo.commit_unchecked(&[]);
    // 40 modified files: m07's only keyword hit is its unchanged first line; the token is
    // added on the last line, without newline, of the last file in path order.
    for i in 0..40 {
        let keyword_line = if i == 7 {
            format!("legacy = '{old_token}'\n")
        } else {
            String::new()
        };
        let last = if i == 39 {
            format!("\nkey = '{}'", replicate_token(34))
        } else {
            String::new()
        };
        repo.add(
            &format!("pkg/m{i:02}.py"),
            format!("{keyword_line}def f{i}():\n    return {i} + 1\n{last}"),
        );
    }
    let report = repo.scan_json();
    assert_eq!(
        findings(&report),
        vec![("replicate-api-token".into(), "pkg/m39.py".into(), 4, 8)]
    );
    assert_eq!(report["stats"]["files_scanned"], 40);
    assert_eq!(
        report["stats"]["diffs_skipped"], 38,
        "only m07 and m39 hold a keyword: {report}"
    );
}

/// A first commit of many directories: the `.gitattributes` look-ups go to a thread that then
/// scans beside the calling one (src/scan/early.rs). Every file's finding is kept, in path
/// order, whichever thread found it.
#[test]
fn a_large_first_commit_keeps_the_findings_of_the_thread_that_looked_up_its_attributes() {
    let repo = TestRepo::new();
    let dirs: u64 = 80;
    for i in 0..dirs {
        repo.write(
            &format!("d{i:02}/sub/app.env"),
            format!("X=1\nREPLICATE_API_TOKEN={}\n", replicate_token(100 + i)),
        );
    }
    repo.git(&["add", "-A"]);
    let report = repo.scan_json();
    let expected: Vec<_> = (0..dirs)
        .map(|i| {
            let path = format!("d{i:02}/sub/app.env");
            ("replicate-api-token".to_string(), path, 2, 21)
        })
        .collect();
    assert_eq!(findings(&report), expected);
    assert_eq!(report["stats"]["files_scanned"], dirs);
}
