//! `scan-files` on directories: tracked files (staged version) and untracked ones that
//! .gitignore does not exclude, before the first commit too; `-v` lists every skip and why.

use crate::fixture::{TestRepo, findings, replicate_token};

#[test]
fn directories_hold_tracked_and_untracked_files_and_honour_gitignore() {
    let repo = TestRepo::new();
    // No commit yet: `.` and a directory must work.
    repo.add(
        "conf/tracked.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(1220)),
    );
    repo.write(
        "conf/deep/untracked.py",
        format!("t = \"{}\"\n", replicate_token(1221)),
    );
    repo.write(
        "conf/ignored.log",
        format!("t = \"{}\"\n", replicate_token(1222)),
    );
    repo.write(".gitignore", "*.log\n");
    repo.write("other/clean.txt", "nothing here\n");
    for args in [
        &["scan-files", "conf"][..],
        &["scan-files", "."],
        &["scan-files"],
    ] {
        let mut args = args.to_vec();
        args.extend(["--format", "json"]);
        let run = repo.tokenguard(&args);
        run.assert_code(1);
        let mut paths: Vec<String> = findings(&run.json()).into_iter().map(|f| f.1).collect();
        paths.sort();
        assert_eq!(
            paths,
            ["conf/deep/untracked.py", "conf/tracked.env"],
            "{args:?}: {run:#?}"
        );
    }
    // Named explicitly, an ignored file is read.
    repo.tokenguard(&["scan-files", "conf/ignored.log"])
        .assert_code(1);
    // From a subdirectory, the path is relative to it.
    let run = repo.tokenguard_in(&repo.path().join("conf"), &["scan-files", "deep"]);
    run.assert_code(1);
    repo.tokenguard(&["scan-files", "other"]).assert_code(0);
    repo.tokenguard(&["scan-files", "missing-dir"])
        .assert_code(2);
}

#[test]
fn verbose_lists_every_skip_reason() {
    let repo = TestRepo::new();
    repo.add("image.bin", b"\x89PNG\r\n\x1a\n\0\0binary".as_slice());
    repo.add("big.txt", "x".repeat(2000));
    std::os::unix::fs::symlink("big.txt", repo.path().join("link.txt")).unwrap();
    repo.git(&["add", "link.txt"]);
    let sub = repo.root().join("sub");
    repo.git(&["init", "-q", sub.to_str().unwrap()]);
    std::fs::write(sub.join("f.txt"), "f\n").unwrap();
    repo.git_in(&sub, &["add", "f.txt"]);
    repo.git_in(&sub, &["commit", "-q", "-m", "sub"]);
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub.to_str().unwrap(),
        "sub",
    ]);
    repo.write(".tokenguard.toml", "[scan]\nmax_file_size = \"1KB\"\n");
    let run = repo.tokenguard(&["scan-files", "-v"]);
    run.assert_code(0);
    for (path, reason) in [
        ("image.bin", "binary"),
        ("big.txt", "max_file_size"),
        ("link.txt", "symlink"),
        ("sub", "submodule"),
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains(&format!("{path}: not scanned")) && l.contains(reason)),
            "{path} {reason}: {run:#?}"
        );
    }
    // Without -v the by-design skips are only counted.
    let quiet = repo.tokenguard(&["scan-files"]);
    assert!(!quiet.stdout.contains("link.txt"), "{quiet:#?}");
    assert!(quiet.stdout.contains("1 symlink"), "{quiet:#?}");
}
