//! `tokenguard fix --apply` over the real-world corpus, one repository per file: whatever the
//! file type, the file still parses afterwards, nothing outside the worktree changes, and
//! either every planted token is gone and the hook passes, or the fix exits 1 with the steps
//! left to the user and the file keeps exactly the tokens those steps name.

use std::path::Path;
use std::process::{Command, Stdio};

use tokenguard::detect::rules::RuleSet;

use crate::corpus::{corpus_dir, expand, staged_name};
use crate::fix::snapshot;
use crate::fixture::TestRepo;

/// Whether `text` parses as the file type of `name` (`None`: no parser for it here).
fn parses(name: &str, text: &str) -> Option<bool> {
    let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
    let (program, args): (&str, &[&str]) = match extension {
        "py" => (
            "python3",
            &["-c", "import sys\ncompile(sys.stdin.read(), 'f', 'exec')"],
        ),
        "js" => ("node", &["--check", "-"]),
        "sh" => ("bash", &["-n"]),
        "yml" | "yaml" => (
            "python3",
            &["-c", "import sys, yaml\nyaml.safe_load(sys.stdin)"],
        ),
        "json" | "ipynb" => {
            return Some(serde_json::from_str::<serde_json::Value>(text).is_ok());
        }
        _ => return None,
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    use std::io::Write;
    child.stdin.take()?.write_all(text.as_bytes()).ok()?;
    Some(child.wait().ok()?.success())
}

/// Every file below `dir`, with its content.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn fix_apply_over_the_corpus_keeps_every_file_sound() {
    let set = RuleSet::builtin().unwrap();
    let mut seed = 31_000;
    let mut entries: Vec<_> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut fixed_whole = Vec::new();
    for file in entries {
        let name = staged_name(file.file_name().unwrap().to_str().unwrap());
        let template = std::fs::read_to_string(&file).unwrap();
        let (text, _) = expand(&set, &name, &template, &mut seed);
        let tokens: Vec<String> = planted_tokens(&text, &template);
        let repo = TestRepo::new();
        let outside = repo.root().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep.txt"), "untouched\n").unwrap();
        repo.add(&name, &text);
        let before_outside = (tree(&outside), tree(&repo.root().join("home")));
        let parsed_before = parses(&name, &text);

        let run = repo.tokenguard(&["fix", "--apply"]);
        assert_ne!(run.code, Some(2), "{name}: {run:#?}");
        for token in &tokens {
            assert!(
                !run.all().contains(token.as_str()),
                "{name}: printed a token"
            );
        }
        let after_outside = (tree(&outside), tree(&repo.root().join("home")));
        assert_eq!(
            before_outside, after_outside,
            "{name}: wrote outside the worktree"
        );
        let after = std::fs::read_to_string(repo.path().join(&name)).unwrap_or_default();
        if parsed_before == Some(true) {
            assert_eq!(
                parses(&name, &after),
                Some(true),
                "{name} no longer parses:\n{after}"
            );
        }
        let left: Vec<&String> = tokens
            .iter()
            .filter(|t| after.contains(t.as_str()))
            .collect();
        if run.code == Some(0) {
            assert!(
                left.is_empty() || name == ".env",
                "{name}: exit 0 with a token left"
            );
            let commit = repo.commit(&[]);
            assert_eq!(
                commit.code,
                Some(0),
                "{name}: the hook still blocks: {commit:#?}"
            );
            fixed_whole.push(name);
        } else {
            assert!(run.stdout.contains("Left to you:"), "{name}: {run:#?}");
            let snapshot_before = snapshot(&repo);
            repo.tokenguard(&["fix", "--apply"]);
            assert_eq!(
                snapshot(&repo),
                snapshot_before,
                "{name}: a second run changed files"
            );
        }
    }
    // Files whose every token fix can move come out whole (the others hold two tokens of one
    // provider, which would share a variable name: that is the user's to settle, as are
    // configuration formats and Dockerfile ENV lines).
    for name in ["agents.py", "app.js", "client.ts", ".env"] {
        assert!(
            fixed_whole.contains(&name.to_string()),
            "{name}: {fixed_whole:?}"
        );
    }
}

/// The tokens planted in `text`: what replaced each rule marker of `template`.
fn planted_tokens(text: &str, template: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let (mut t, mut x) = (template, text);
    while let Some(start) = t.find("@@") {
        let after = &t[start + 2..];
        let end = after.find("@@").unwrap();
        let marker = &after[..end];
        let rest = &after[end + 2..];
        // The expanded text continues with what follows the marker in the template.
        let x_after = &x[start..];
        let next_literal = rest.split("@@").next().unwrap_or("");
        let len = if next_literal.is_empty() {
            x_after.len()
        } else {
            x_after.find(next_literal).unwrap_or(x_after.len())
        };
        let value = &x_after[..len];
        if !marker.starts_with("fill|") && !marker.starts_with("upper|") {
            tokens.push(value.to_string());
        }
        x = &x_after[len..];
        t = rest;
    }
    tokens
}
