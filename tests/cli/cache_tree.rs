//! The staged scan's cache-tree shortcut (src/git/staged.rs): a directory is skipped only when
//! its cache-tree entry is valid and names HEAD's tree for it, as git's own `diff --cached`
//! and `commit` take it; every other directory is compared entry by entry, found by binary
//! search in an index git wrote in order, and an index out of order is compared in full.

use sha1::{Digest, Sha1};

use crate::fixture::{TestRepo, replicate_token};

/// One index entry: its path and all its bytes.
type RawEntry = (Vec<u8>, Vec<u8>);

/// Index entries and the bytes after them (extensions), from a version 2 index, checksum
/// left off.
fn index_entries(data: &[u8]) -> (Vec<RawEntry>, Vec<u8>) {
    assert_eq!(&data[4..8], &[0, 0, 0, 2], "a version 2 index");
    let body = &data[..data.len() - 20];
    let count = u32::from_be_bytes(body[8..12].try_into().unwrap()) as usize;
    let mut at = 12;
    let mut entries = Vec::new();
    for _ in 0..count {
        let flags = u16::from_be_bytes([body[at + 60], body[at + 61]]);
        let len = usize::from(flags & 0xfff);
        let size = (62 + len + 8) / 8 * 8;
        entries.push((
            body[at + 62..at + 62 + len].to_vec(),
            body[at..at + size].to_vec(),
        ));
        at += size;
    }
    (entries, body[at..].to_vec())
}

/// Writes an index from its header, entries and extensions, with git's checksum.
fn write_index(repo: &TestRepo, header: &[u8], entries: &[Vec<u8>], extensions: &[u8]) {
    let mut body = header[..12].to_vec();
    for entry in entries {
        body.extend_from_slice(entry);
    }
    body.extend_from_slice(extensions);
    let digest = Sha1::digest(&body);
    body.extend_from_slice(&digest);
    std::fs::write(repo.path().join(".git/index"), body).unwrap();
}

fn index_bytes(repo: &TestRepo) -> Vec<u8> {
    std::fs::read(repo.path().join(".git/index")).unwrap()
}

/// The cache-tree extension with the top-level directory `dir` made valid and naming `tree`
/// (hex), whatever the index's entries say.
fn forge_cache_tree(extensions: &[u8], dir: &str, tree: &str) -> Vec<u8> {
    assert_eq!(&extensions[..4], b"TREE", "the cache tree comes first");
    let size = u32::from_be_bytes(extensions[4..8].try_into().unwrap()) as usize;
    let payload = &extensions[8..8 + size];
    let mut out = Vec::new();
    let mut at = 0;
    let mut depth_left = vec![1usize];
    while at < payload.len() {
        let nul = at + payload[at..].iter().position(|&b| b == 0).unwrap();
        let name = &payload[at..nul];
        let newline = nul + payload[nul..].iter().position(|&b| b == b'\n').unwrap();
        let header = std::str::from_utf8(&payload[nul + 1..newline]).unwrap();
        let (count, subtrees) = header.split_once(' ').unwrap();
        let (count, subtrees): (i64, usize) = (count.parse().unwrap(), subtrees.parse().unwrap());
        at = newline + 1;
        let mut oid = Vec::new();
        if count >= 0 {
            oid = payload[at..at + 20].to_vec();
            at += 20;
        }
        let top_level = depth_left.len() == 2;
        let (count, oid) = if top_level && name == dir.as_bytes() {
            let tree: Vec<u8> = (0..20)
                .map(|i| u8::from_str_radix(&tree[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            (count.max(1), tree)
        } else {
            (count, oid)
        };
        out.extend_from_slice(name);
        out.push(0);
        out.extend_from_slice(format!("{count} {subtrees}\n").as_bytes());
        out.extend_from_slice(&oid);
        *depth_left.last_mut().unwrap() -= 1;
        depth_left.push(subtrees);
        while depth_left.last() == Some(&0) {
            depth_left.pop();
        }
    }
    let mut forged = b"TREE".to_vec();
    forged.extend_from_slice(&(out.len() as u32).to_be_bytes());
    forged.extend_from_slice(&out);
    forged.extend_from_slice(&extensions[8 + size..]);
    forged
}

/// Commits everything and leaves the cache tree valid throughout, as `git commit` does
/// (`write-tree` makes sure of it whatever the hook path did). A test that needs a directory's
/// entry to stay valid stages path by path: `git add -A` invalidates every directory.
fn commit_all(repo: &TestRepo) {
    repo.git(&["add", "-A"]);
    repo.commit(&[]).assert_code(0);
    repo.git(&["write-tree"]);
}

fn rev(repo: &TestRepo, spec: &str) -> String {
    repo.git(&["rev-parse", spec]).stdout.trim().to_string()
}

/// Two directories committed, a token staged in `a/x.py`, the cache tree left valid for `b`.
fn token_in_a() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("a/x.py", "x = 1\n");
    repo.write("b/y.py", "y = 2\n");
    commit_all(&repo);
    repo.write(
        "a/x.py",
        format!(
            "x = 1\nREPLICATE_API_TOKEN = \"{}\"\n",
            replicate_token(3401)
        ),
    );
    repo.git(&["add", "-A"]);
    repo
}

#[test]
fn a_cache_tree_entry_naming_another_tree_than_heads_does_not_hide_a_token() {
    let repo = token_in_a();
    let data = index_bytes(&repo);
    let (entries, extensions) = index_entries(&data);
    // `a` claims b's tree: valid, but not HEAD's tree for `a`, so it vouches for nothing.
    let forged = forge_cache_tree(&extensions, "a", &rev(&repo, "HEAD:b"));
    let entries: Vec<Vec<u8>> = entries.into_iter().map(|(_, bytes)| bytes).collect();
    write_index(&repo, &data, &entries, &forged);
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(1);
    assert!(run.all().contains("a/x.py"), "{run:#?}");
}

/// A cache-tree entry equal to HEAD's tree is what git commits for that directory, whatever
/// its entries say (`update_one` in cache-tree.c trusts a valid entry, and `git diff --cached`,
/// `git status` and `git commit` then see nothing staged): nothing of it is scanned.
#[test]
fn a_cache_tree_entry_equal_to_heads_tree_is_what_git_commits() {
    let repo = token_in_a();
    let data = index_bytes(&repo);
    let (entries, extensions) = index_entries(&data);
    let forged = forge_cache_tree(&extensions, "a", &rev(&repo, "HEAD:a"));
    let entries: Vec<Vec<u8>> = entries.into_iter().map(|(_, bytes)| bytes).collect();
    write_index(&repo, &data, &entries, &forged);
    let staged = repo.git(&["diff", "--cached", "--name-only"]);
    assert_eq!(staged.stdout, "", "git's own diff skips the directory");
    let report = repo.scan_json();
    assert_eq!(report["findings"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(
        report["stats"]["files_scanned"].as_u64(),
        Some(0),
        "{report}"
    );
}

/// Directories whose names sort right beside a skipped one (`a.b`, `a-b`, `a0`, `a.py`): the
/// binary search for the end of `a/` must stop exactly at it.
#[test]
fn directories_beside_a_skipped_one_are_compared() {
    let repo = TestRepo::new();
    for i in 0..40 {
        repo.write(&format!("a/f{i:02}.py"), format!("f = {i}\n"));
        repo.write(&format!("a/sub/g{i:02}.py"), format!("g = {i}\n"));
    }
    let beside = ["a-b/x.py", "a.b/x.py", "a0/x.py", "a.py"];
    for path in beside {
        repo.write(path, "clean = 1\n");
    }
    commit_all(&repo);
    // Added one by one: git keeps `a`'s cache-tree entry valid (`add -A` drops them all).
    for (seed, path) in (3410..).zip(beside) {
        repo.add(
            path,
            format!("clean = 1\nTOKEN = \"{}\"\n", replicate_token(seed)),
        );
    }
    let report = repo.scan_json();
    let mut found: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    found.sort();
    assert_eq!(
        found,
        ["a-b/x.py", "a.b/x.py", "a.py", "a0/x.py"],
        "{report}"
    );
    assert_eq!(
        report["stats"]["files_scanned"].as_u64(),
        Some(4),
        "{report}"
    );
}

/// An index whose entries are out of git's order (a crafted one: git writes them sorted) is
/// compared in full: a directory's entries are not where a binary search looks for them.
#[test]
fn an_index_out_of_order_is_compared_in_full() {
    let repo = TestRepo::new();
    for i in 1..=6 {
        repo.write(&format!("a/{i}.py"), format!("n = {i}\n"));
    }
    repo.write("c/x.py", "c = 1\n");
    commit_all(&repo);
    repo.add(
        "b/tok.py",
        format!("TOKEN = \"{}\"\n", replicate_token(3420)),
    );
    let data = index_bytes(&repo);
    let (mut entries, extensions) = index_entries(&data);
    // b/tok.py moved between a/2.py and a/3.py; `a` stays valid in the cache tree.
    let at = entries.iter().position(|(p, _)| p == b"b/tok.py").unwrap();
    let moved = entries.remove(at);
    let before = entries.iter().position(|(p, _)| p == b"a/3.py").unwrap();
    entries.insert(before, moved);
    let entries: Vec<Vec<u8>> = entries.into_iter().map(|(_, bytes)| bytes).collect();
    write_index(&repo, &data, &entries, &extensions);
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(1);
    assert!(run.all().contains("b/tok.py"), "{run:#?}");
}

/// `git add -N`: the entry is in the index but not in the commit; HEAD's file at a path
/// turned intent-to-add is deleted by the commit.
#[test]
fn intent_to_add_entries_are_not_part_of_the_commit() {
    let repo = TestRepo::new();
    repo.write("keep/a.py", "a = 1\n");
    repo.write("keep/b.py", "b = 1\n");
    commit_all(&repo);
    repo.write(
        "keep/later.py",
        format!("TOKEN = \"{}\"\n", replicate_token(3430)),
    );
    repo.git(&["add", "-N", "keep/later.py"]);
    repo.git(&["rm", "-q", "--cached", "keep/b.py"]);
    repo.git(&["add", "-N", "keep/b.py"]);
    repo.write("keep/a.py", "a = 2\n");
    repo.git(&["add", "keep/a.py"]);
    let report = repo.scan_json();
    assert_eq!(report["findings"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(
        report["stats"]["files_scanned"].as_u64(),
        Some(1),
        "{report}"
    );
    assert_eq!(
        report["stats"]["deleted_files"].as_u64(),
        Some(1),
        "{report}"
    );
    let staged = repo.git(&["diff", "--cached", "--name-status"]);
    assert_eq!(staged.stdout, "M\tkeep/a.py\nD\tkeep/b.py\n");
}
