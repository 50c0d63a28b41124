//! The README as a new user meets it: its first lines give the set-up and test commands, its
//! sections come in the order a team adopts tokenguard, its links lead somewhere, and every
//! shell block marked ```` ```sh runnable ```` runs as written on a fresh machine (an empty
//! HOME, only `tokenguard` on PATH besides the system's tools, a new repository).

use std::path::{Path, PathBuf};

use crate::fixture::{BIN, Run, TestRepo};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(manifest_dir().join("README.md")).unwrap()
}

/// The fenced blocks whose info string is `sh runnable`, with the line each starts on.
fn runnable_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        match current.as_mut() {
            None if line.trim_end() == "```sh runnable" => {
                current = Some((index + 1, String::new()))
            }
            None => {}
            Some(_) if line.starts_with("```") => blocks.extend(current.take()),
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    assert!(current.is_none(), "an unclosed runnable block");
    blocks
}

/// The `## ` and `### ` headings, in order.
fn headings(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.starts_with("```") {
                fenced = !fenced;
            }
            !fenced && (line.starts_with("## ") || line.starts_with("### "))
        })
        .collect()
}

#[test]
fn readme_opens_with_the_setup_and_test_commands() {
    let text = readme();
    let opening: Vec<&str> = text.lines().take(6).collect();
    let opening = opening.join("\n");
    for expected in [
        "./install.sh",
        "tokenguard scan-staged",
        "bash scripts/test.sh",
    ] {
        assert!(
            opening.contains(expected),
            "{expected:?} not in:\n{opening}"
        );
    }
    // The test command is the one CI runs.
    let ci = std::fs::read_to_string(manifest_dir().join(".ci/run")).unwrap();
    assert!(ci.contains("scripts/test.sh"), "{ci}");
}

#[test]
fn readme_sections_come_in_the_order_a_team_adopts_it() {
    let text = readme();
    let headings = headings(&text);
    let order = [
        "## Install",
        "## Add it to a repository",
        "### git's own hooks",
        "### The pre-commit framework",
        "### husky",
        "### lefthook",
        "## CI",
        "### GitHub Actions",
        "### GitLab CI",
        "### A server's pre-receive hook",
        "## What a block looks like, and `fix`",
        "## Suppress and adopt",
        "## Configuration reference",
        "## Providers",
        "## Links",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|h| {
            headings
                .iter()
                .position(|x| x == h)
                .unwrap_or_else(|| panic!("{h:?} missing from {headings:#?}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "out of order: {headings:#?}"
    );
    // Internals live in docs/, not here.
    for internal in ["## Speed", "## How the code is laid out", "## Hardening"] {
        assert!(
            !headings.contains(&internal),
            "{internal:?} is still in the README"
        );
    }
}

/// Relative links `](path)` of a Markdown file, without anchors.
fn relative_links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| !target.contains("://") && !target.starts_with('#'))
        .map(|target| target.split('#').next().unwrap().to_string())
        .collect()
}

#[test]
fn readme_and_docs_links_resolve() {
    let root = manifest_dir();
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    assert!(files.len() > 5, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for link in relative_links(&text) {
            let target = file.parent().unwrap().join(&link);
            assert!(target.exists(), "{}: broken link {link}", file.display());
        }
    }
}

/// A directory holding only a `tokenguard` link to the binary under test: the PATH of a
/// machine where tokenguard was just installed.
fn install_dir(repo: &TestRepo) -> PathBuf {
    let dir = repo.root().join("installed-bin");
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("tokenguard");
    if !link.exists() {
        std::os::unix::fs::symlink(BIN, &link).unwrap();
    }
    dir
}

/// The files a block writes with `> FILE`, expanded for `home`.
fn redirect_targets(block: &str, home: &Path) -> Vec<PathBuf> {
    block
        .lines()
        .filter_map(|line| {
            let code = line.split(" #").next().unwrap();
            let target = code.split("> ").nth(1)?.split_whitespace().next()?;
            target.strip_prefix("~/").map(|t| home.join(t))
        })
        .collect()
}

#[test]
fn readme_runnable_blocks_run_as_written_on_a_fresh_machine() {
    let blocks = runnable_blocks(&readme());
    assert!(blocks.len() >= 3, "{blocks:?}");
    for (line, block) in blocks {
        let repo = TestRepo::new();
        // A fresh repository: no hook of the test fixture's, one commit.
        std::fs::remove_file(repo.path().join(".git/hooks/pre-commit")).unwrap();
        repo.add("app.py", "print('hello')\n");
        repo.commit_unchecked(&[]);
        let path = format!(
            "{}:/usr/local/bin:/usr/bin:/bin",
            install_dir(&repo).display()
        );
        let run = Run::from(
            repo.command("bash", &repo.path())
                .args(["-e", "-o", "pipefail", "-c", &block])
                .env("PATH", path)
                .env_remove("TOKENGUARD_BIN")
                .output()
                .unwrap(),
        );
        assert_eq!(
            run.code,
            Some(0),
            "README.md:{line}: the block fails:\n{block}\n{run:#?}"
        );
        let home = repo.root().join("home");
        for target in redirect_targets(&block, &home) {
            let written = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
            assert!(
                written > 0,
                "README.md:{line}: {} is empty",
                target.display()
            );
        }
    }
}
