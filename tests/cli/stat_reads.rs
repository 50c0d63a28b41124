//! A staged file whose stat data git would call unchanged is read from the working tree
//! without hashing (src/git/disk_blob.rs). What is scanned must still be what git commits:
//! each flow here leaves the working tree other than the index, checks the verdict follows the
//! index, then lands the edit "in the clock tick git recorded the file in" (the entry's stat
//! data are the edited file's, and the index is no newer than the file: git's racy case, which
//! git itself settles by reading the bytes) and checks again. A stat shortcut that ignored
//! raciness would scan the working tree there and fail each test.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use sha1::{Digest, Sha1};

use crate::disk_reads::key_line;
use crate::fixture::{BIN, TestRepo, findings, replicate_token};

/// Rewrites `path`'s entry in the index file `index` with the stat data of its working-tree
/// file now, and gives the index the file's mtime: what git leaves when an edit of the same
/// size lands in the clock tick in which `git add` recorded the file.
fn land_in_the_same_tick(repo: &TestRepo, index: &Path, path: &str) {
    let meta = std::fs::symlink_metadata(repo.path().join(path)).unwrap();
    record_stat(repo, index, path, meta.modified().unwrap());
}

/// Rewrites `path`'s entry in the index file `index` with the stat data of its working-tree
/// file now, and gives the index the mtime `written`.
fn record_stat(repo: &TestRepo, index: &Path, path: &str, written: SystemTime) {
    let meta = std::fs::symlink_metadata(repo.path().join(path)).unwrap();
    let mut data = std::fs::read(index).unwrap();
    let version = u32::from_be_bytes(data[4..8].try_into().unwrap());
    assert!(version == 2 || version == 3, "index version {version}");
    let count = u32::from_be_bytes(data[8..12].try_into().unwrap());
    let mut at = 12;
    let mut found = false;
    for _ in 0..count {
        let flags = u16::from_be_bytes([data[at + 60], data[at + 61]]);
        let fixed = if flags & 0x4000 != 0 { 64 } else { 62 };
        let name_len = usize::from(flags & 0x0fff);
        if &data[at + fixed..at + fixed + name_len] == path.as_bytes() {
            let fields = [
                (0, meta.ctime() as u32),
                (4, meta.ctime_nsec() as u32),
                (8, meta.mtime() as u32),
                (12, meta.mtime_nsec() as u32),
                (16, meta.dev() as u32),
                (20, meta.ino() as u32),
                (28, meta.uid()),
                (32, meta.gid()),
                (36, meta.len() as u32),
            ];
            for (offset, value) in fields {
                data[at + offset..at + offset + 4].copy_from_slice(&value.to_be_bytes());
            }
            found = true;
        }
        at += (fixed + name_len + 8) / 8 * 8;
    }
    assert!(found, "{path} is in the index");
    let body = data.len() - 20;
    let checksum = Sha1::digest(&data[..body]);
    data[body..].copy_from_slice(&checksum);
    std::fs::write(index, &data).unwrap();
    let file = std::fs::File::options().write(true).open(index).unwrap();
    file.set_modified(written).unwrap();
}

/// Moves the file's mtime an hour back, before `git add` records it: the entry is not racy.
fn backdate(repo: &TestRepo, path: &str) {
    let file = std::fs::File::options()
        .write(true)
        .open(repo.path().join(path))
        .unwrap();
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    file.set_modified(hour_ago).unwrap();
}

fn index(repo: &TestRepo) -> std::path::PathBuf {
    repo.path().join(".git/index")
}

fn token_at(path: &str, line: u64) -> Vec<(String, String, u64, u64)> {
    vec![("replicate-api-token".into(), path.into(), line, 5)]
}

#[test]
fn a_same_size_edit_in_the_tick_of_git_add_does_not_hide_the_staged_token() {
    let repo = TestRepo::new();
    let token = replicate_token(4201);
    repo.add("app.env", key_line(&token, true));
    repo.write("app.env", key_line(&token, false));
    assert_eq!(findings(&repo.scan_json()), token_at("app.env", 1));
    land_in_the_same_tick(&repo, &index(&repo), "app.env");
    let report = repo.scan_json();
    assert_eq!(findings(&report), token_at("app.env", 1), "{report}");
    repo.commit(&[]).assert_code(1);
}

#[test]
fn a_token_written_in_the_tick_of_git_add_is_not_the_commits() {
    let repo = TestRepo::new();
    let token = replicate_token(4202);
    repo.add("app.env", key_line(&token, false));
    repo.write("app.env", key_line(&token, true));
    land_in_the_same_tick(&repo, &index(&repo), "app.env");
    let report = repo.scan_json();
    assert_eq!(findings(&report), [], "{report}");
    repo.commit(&[]).assert_code(0);
}

#[test]
fn a_hunk_staged_with_add_p_is_scanned_not_the_file_edited_since() {
    let repo = TestRepo::new();
    let token = replicate_token(4203);
    let lines = |first: &str, key: &str| {
        let middle: String = (2..20).map(|i| format!("setting_{i} = {i}\n")).collect();
        format!("{first}\n{middle}{key}")
    };
    repo.add("app.env", lines("alpha = 1", &key_line(&token, false)));
    repo.commit(&[]).assert_code(0);
    // Two hunks: the first line, and the key. Only the key's is staged.
    repo.write("app.env", lines("alpha = 2", &key_line(&token, true)));
    repo.git_with_input(&["add", "-p", "app.env"], "n\ny\n");
    // The token is taken out of the file again, not out of the index.
    repo.write("app.env", lines("alpha = 2", &key_line(&token, false)));
    assert_eq!(findings(&repo.scan_json()), token_at("app.env", 20));
    land_in_the_same_tick(&repo, &index(&repo), "app.env");
    let report = repo.scan_json();
    assert_eq!(findings(&report), token_at("app.env", 20), "{report}");
    repo.commit(&[]).assert_code(1);
}

#[test]
fn the_index_of_a_commit_a_is_scanned_not_the_file_edited_since() {
    let repo = TestRepo::new();
    let token = replicate_token(4204);
    repo.add("app.env", key_line(&token, false));
    repo.commit(&[]).assert_code(0);
    // `git commit -a` stages tracked files into a second index and hands it to the hook.
    repo.write("app.env", key_line(&token, true));
    std::fs::copy(index(&repo), repo.path().join(".git/next-index")).unwrap();
    let scan = |index: &str| {
        let staged = |args: &[&str]| {
            let mut command = repo.command(args[0], &repo.path());
            command.args(&args[1..]).env("GIT_INDEX_FILE", index);
            let output = command.output().unwrap();
            (output.status.code(), output.stdout)
        };
        assert_eq!(staged(&["git", "add", "-u"]).0, Some(0));
        // An editor writes the file back before the hook reads it.
        repo.write("app.env", key_line(&token, false));
        let stdout = staged(&[BIN, "scan-staged", "--format", "json"]).1;
        serde_json::from_slice::<serde_json::Value>(&stdout).unwrap()
    };
    assert_eq!(findings(&scan(".git/next-index")), token_at("app.env", 1));
    let next = repo.path().join(".git/next-index");
    land_in_the_same_tick(&repo, &next, "app.env");
    let mut command = repo.command(BIN, &repo.path());
    command
        .args(["scan-staged", "--format", "json"])
        .env("GIT_INDEX_FILE", ".git/next-index");
    let report: serde_json::Value =
        serde_json::from_slice(&command.output().unwrap().stdout).unwrap();
    assert_eq!(findings(&report), token_at("app.env", 1), "{report}");
    // And through git itself: the hook blocks `git commit -a`.
    repo.write("app.env", key_line(&token, true));
    repo.commit(&["-a"]).assert_code(1);
}

#[test]
fn a_file_replaced_between_add_and_commit_is_not_taken_for_the_staged_one() {
    let repo = TestRepo::new();
    let token = replicate_token(4205);
    repo.add("app.env", key_line(&token, true));
    // Another inode of the same size, renamed into place as editors save.
    repo.write("app.env.swp", key_line(&token, false));
    std::fs::rename(repo.path().join("app.env.swp"), repo.path().join("app.env")).unwrap();
    assert_eq!(findings(&repo.scan_json()), token_at("app.env", 1));
    land_in_the_same_tick(&repo, &index(&repo), "app.env");
    let report = repo.scan_json();
    assert_eq!(findings(&report), token_at("app.env", 1), "{report}");
    repo.commit(&[]).assert_code(1);
}

/// Not racy (the file predates `git add`), so the stat data match: only the path's
/// conversion tells the file from the blob.
#[test]
fn clean_filters_are_not_read_past_by_their_stat_data() {
    // A filter that adds a token to what it stages, and one that removes it.
    let token = replicate_token(4206);
    let cases = [
        (
            format!("cat; printf 'KEY=%s\\n' {token}"),
            "a = 1\n".to_string(),
            1,
        ),
        ("sed '/^KEY=/d'".to_string(), key_line(&token, true), 0),
    ];
    for (clean, content, expected) in cases {
        let repo = TestRepo::new();
        repo.git(&["config", "filter.f.clean", &clean]);
        repo.add(".gitattributes", "*.cfg filter=f\n");
        repo.commit(&[]).assert_code(0);
        repo.write("sub/app.cfg", &content);
        backdate(&repo, "sub/app.cfg");
        repo.git(&["add", "sub/app.cfg"]);
        let report = repo.scan_json();
        assert_eq!(findings(&report).len(), expected, "{clean}: {report}");
        let blob_size = repo.git(&["cat-file", "-s", ":sub/app.cfg"]).stdout;
        let scanned = report["stats"]["bytes_scanned"].as_u64().unwrap();
        assert_eq!(scanned.to_string(), blob_size.trim(), "{clean}: {report}");
    }
}

/// As above: `core.autocrlf` makes the blob's LF of the file's CRLF; the bytes scanned are
/// the blob's.
#[test]
fn crlf_files_are_not_read_past_by_their_stat_data() {
    let token = replicate_token(4207);
    let repo = TestRepo::new();
    repo.git(&["config", "core.autocrlf", "true"]);
    repo.write("app.env", format!("name = demo\r\nKEY={token}\r\n"));
    backdate(&repo, "app.env");
    repo.git(&["add", "app.env"]);
    let report = repo.scan_json();
    assert_eq!(findings(&report), token_at("app.env", 2), "{report}");
    let blob_size = repo
        .git(&["cat-file", "-s", ":app.env"])
        .stdout
        .trim()
        .to_string();
    assert_eq!(
        report["stats"]["bytes_scanned"].to_string(),
        blob_size,
        "{report}"
    );
}

/// A repository whose `app.env` (CRLF lines, the second holding `token`, older than the index)
/// was added with `core.autocrlf` for that command only, and its staged blob's size.
fn crlf_staged(token: &str) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.write("app.env", format!("name = demo\r\nKEY={token}\r\n"));
    backdate(&repo, "app.env");
    repo.git(&["-c", "core.autocrlf=true", "add", "app.env"]);
    let blob_size = repo.git(&["cat-file", "-s", ":app.env"]).stdout;
    (repo, blob_size)
}

/// As above, with `core.autocrlf` in the user's file that `GIT_CONFIG_GLOBAL` names, or in
/// the system's that `GIT_CONFIG_SYSTEM` names: libgit2 reads both when it opens the
/// repository as a hook does (from the environment), so the scan reads neither again.
#[test]
fn crlf_settings_in_global_and_system_files_are_not_read_past_by_stat_data() {
    let token = replicate_token(4211);
    let (repo, blob_size) = crlf_staged(&token);
    let settings = repo.root().join("crlf.gitconfig");
    std::fs::write(&settings, "[core]\n\tautocrlf = true\n").unwrap();
    for variable in ["GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM"] {
        let mut command = repo.command(BIN, &repo.path());
        command.args(["scan-staged", "--format", "json"]);
        command
            .env(variable, &settings)
            .env_remove("GIT_CONFIG_NOSYSTEM");
        let report = crate::fixture::Run::from(command.output().unwrap()).json();
        assert_eq!(
            findings(&report),
            token_at("app.env", 2),
            "{variable}: {report}"
        );
        let scanned = report["stats"]["bytes_scanned"].to_string();
        assert_eq!(scanned, blob_size.trim(), "{variable}: {report}");
    }
}

/// As above, with `core.autocrlf` set for one command only (`git -c`, or numbered
/// `GIT_CONFIG_KEY_<n>` variables), which git hands to the hook in its environment.
#[test]
fn crlf_settings_in_the_environment_are_not_read_past_by_stat_data() {
    let token = replicate_token(4209);
    let (repo, blob_size) = crlf_staged(&token);
    let settings: [&[(&str, &str)]; 2] = [
        &[("GIT_CONFIG_PARAMETERS", "'core.autocrlf'='true'")],
        &[
            ("GIT_CONFIG_COUNT", "2"),
            ("GIT_CONFIG_KEY_0", "user.name"),
            ("GIT_CONFIG_VALUE_0", "t"),
            ("GIT_CONFIG_KEY_1", "core.autocrlf"),
            ("GIT_CONFIG_VALUE_1", "true"),
        ],
    ];
    for vars in settings {
        let mut command = repo.command(BIN, &repo.path());
        command.args(["scan-staged", "--format", "json"]);
        for (name, value) in vars {
            command.env(name, value);
        }
        let report = crate::fixture::Run::from(command.output().unwrap()).json();
        assert_eq!(
            findings(&report),
            token_at("app.env", 2),
            "{vars:?}: {report}"
        );
        let scanned = report["stats"]["bytes_scanned"].to_string();
        assert_eq!(scanned, blob_size.trim(), "{vars:?}: {report}");
    }
}

/// git does not look at an assume-unchanged file, so its stat data vouch for nothing, even
/// when they match and the entry is not racy.
#[test]
fn an_assume_unchanged_file_is_not_taken_for_its_blob() {
    let repo = TestRepo::new();
    let token = replicate_token(4208);
    repo.add("app.env", key_line(&token, true));
    repo.git(&["update-index", "--assume-unchanged", "app.env"]);
    repo.write("app.env", key_line(&token, false));
    backdate(&repo, "app.env");
    record_stat(&repo, &index(&repo), "app.env", SystemTime::now());
    let report = repo.scan_json();
    assert_eq!(findings(&report), token_at("app.env", 1), "{report}");
}

/// A scan run from a subdirectory looks files up from the working tree's top, not from where
/// it runs (paths are relative to the current directory only when that is the top). Here a
/// hard link makes the file a wrong lookup would find the staged file itself, stat data and
/// all, and only the untracked `.gitattributes` at the top says git converts it: looked for
/// from the subdirectory, it would be missed and the file taken for its blob.
#[test]
fn a_scan_from_a_subdirectory_finds_the_attributes_at_the_top() {
    let token = replicate_token(4212);
    let repo = TestRepo::new();
    repo.git(&[
        "config",
        "filter.f.clean",
        &format!("cat; printf 'KEY=%s\\n' {token}"),
    ]);
    repo.write(".gitattributes", "*.cfg filter=f\n");
    repo.write("sub/app.cfg", "a = 1\n");
    std::fs::create_dir(repo.path().join("sub/sub")).unwrap();
    std::fs::hard_link(
        repo.path().join("sub/app.cfg"),
        repo.path().join("sub/sub/app.cfg"),
    )
    .unwrap();
    backdate(&repo, "sub/app.cfg");
    repo.git(&["add", "sub/app.cfg"]);
    for dir in [repo.path(), repo.path().join("sub")] {
        let report = repo
            .tokenguard_in(&dir, &["scan-staged", "--format", "json"])
            .json();
        assert_eq!(findings(&report), token_at("sub/app.cfg", 2), "{report}");
    }
}

/// A big file's first bytes tell a binary blob when its stat data vouch for it: bytes written
/// over a staged text file, binary from their first byte, must not pass for the blob, neither
/// by stat data that changed nor in the tick of `git add`.
#[test]
fn a_binary_file_written_over_a_staged_text_file_does_not_hide_its_token() {
    let repo = TestRepo::new();
    let token = replicate_token(4211);
    let text = format!(
        "{}{}",
        "setting = value\n".repeat(4_000),
        key_line(&token, true)
    );
    repo.write("big.env", &text);
    backdate(&repo, "big.env");
    repo.git(&["add", "big.env"]);
    assert_eq!(findings(&repo.scan_json()), token_at("big.env", 4_001));
    // Same size, binary by git's test.
    let mut binary = vec![0u8; text.len()];
    binary[1..].copy_from_slice(&text.as_bytes()[1..]);
    repo.write("big.env", &binary);
    let report = repo.scan_json();
    assert_eq!(findings(&report), token_at("big.env", 4_001), "{report}");
    land_in_the_same_tick(&repo, &index(&repo), "big.env");
    let report = repo.scan_json();
    assert_eq!(findings(&report), token_at("big.env", 4_001), "{report}");
    repo.commit(&[]).assert_code(1);
}

/// And the other way: a staged binary blob is skipped whatever text the file holds since.
#[test]
fn a_text_file_written_over_a_staged_binary_file_is_not_scanned() {
    let repo = TestRepo::new();
    let token = replicate_token(4212);
    let text = format!(
        "{}{}",
        "setting = value\n".repeat(4_000),
        key_line(&token, true)
    );
    let mut binary = text.clone().into_bytes();
    binary[0] = 0;
    repo.write("big.env", &binary);
    backdate(&repo, "big.env");
    repo.git(&["add", "big.env"]);
    assert_eq!(repo.scan_json()["stats"]["binary_skipped"], 1);
    repo.write("big.env", &text);
    for racy in [false, true] {
        if racy {
            land_in_the_same_tick(&repo, &index(&repo), "big.env");
        }
        let report = repo.scan_json();
        assert_eq!(findings(&report), [], "{report}");
        assert_eq!(report["stats"]["binary_skipped"], 1, "{report}");
    }
}
