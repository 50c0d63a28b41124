//! `tokenguard completions` and `tokenguard man`: each script is parsed by its own shell (bash,
//! zsh and fish, installed by scripts/test.sh), bash and fish also complete with it, and the
//! man pages are rendered by groff with every warning on.

use std::path::Path;

use crate::fixture::{Run, TestRepo};

/// Runs an external tool the suite depends on; a missing one is an error, not a skip.
fn tool(repo: &TestRepo, program: &str, args: &[&str]) -> Run {
    let output = repo
        .command(program, &repo.path())
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} is needed by this test ({e}): run scripts/test.sh, which installs it")
        });
    Run::from(output)
}

fn completion_script(repo: &TestRepo, shell: &str) -> std::path::PathBuf {
    let run = repo.tokenguard(&["completions", shell]);
    run.assert_code(0);
    assert!(run.stdout.contains("tokenguard"), "{run:#?}");
    let file = repo.root().join(format!("completion.{shell}"));
    std::fs::write(&file, &run.stdout).unwrap();
    file
}

#[test]
fn completion_scripts_parse_in_bash_zsh_and_fish() {
    let repo = TestRepo::new();
    for (shell, check) in [("bash", "-n"), ("zsh", "-n"), ("fish", "--no-execute")] {
        let file = completion_script(&repo, shell);
        let run = tool(&repo, shell, &[check, file.to_str().unwrap()]);
        assert_eq!(
            run.code,
            Some(0),
            "{shell} rejects its completion script: {run:#?}"
        );
        assert_eq!(run.stderr, "", "{shell}: {run:#?}");
    }
    // A shell that is not one of clap_complete's is a usage error.
    let run = repo.tokenguard(&["completions", "tcsh"]);
    run.assert_code(2);
    assert!(run.stderr.contains("tcsh"), "{run:#?}");
}

/// What bash offers for the command line `words` (the cursor on the last word).
fn bash_completes(repo: &TestRepo, script: &Path, words: &[&str]) -> Vec<String> {
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; \
         COMP_POINT=${{#COMP_LINE}}; _tokenguard tokenguard \"${{COMP_WORDS[COMP_CWORD]}}\" \
         \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(" "),
        words.len() - 1
    );
    let run = tool(repo, "bash", &["-c", &program]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    run.stdout.lines().map(str::to_string).collect()
}

#[test]
fn bash_and_fish_complete_commands_and_values() {
    let repo = TestRepo::new();
    let bash = completion_script(&repo, "bash");
    let commands = bash_completes(&repo, &bash, &["tokenguard", "scan-"]);
    for expected in [
        "scan-staged",
        "scan-files",
        "scan-tree",
        "scan-range",
        "scan-push",
    ] {
        assert!(commands.iter().any(|c| c == expected), "{commands:?}");
    }
    assert!(!commands.iter().any(|c| c == "install"), "{commands:?}");
    let formats = bash_completes(&repo, &bash, &["tokenguard", "scan-tree", "--format", ""]);
    assert_eq!(formats, ["human", "json", "sarif"], "{formats:?}");
    let shells = bash_completes(&repo, &bash, &["tokenguard", "completions", "f"]);
    assert_eq!(shells, ["fish"], "{shells:?}");

    let fish = completion_script(&repo, "fish");
    let program = format!(
        "source '{}'; complete -C 'tokenguard scan-'",
        fish.display()
    );
    let run = tool(&repo, "fish", &["--no-config", "-c", &program]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    for expected in ["scan-staged\t", "scan-range\t", "scan-push\t"] {
        assert!(run.stdout.contains(expected), "{run:#?}");
    }
}

/// groff's verdict on a man page: its warnings (every kind enabled) and the rendered text.
fn render(repo: &TestRepo, page: &Path) -> Run {
    let page = page.to_str().unwrap();
    let args = [
        "-man",
        "-Tutf8",
        "-ww",
        "-rLL=300n",
        "-rHY=0",
        "-P",
        "-cbou",
        page,
    ];
    let run = tool(repo, "groff", &args);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.stderr, "", "groff warns about {page}: {run:#?}");
    // Justification pads lines with spaces: compare words.
    let words: Vec<&str> = run.stdout.split_whitespace().collect();
    Run {
        stdout: words.join(" "),
        ..run
    }
}

#[test]
fn man_page_renders_without_warnings_and_covers_every_command() {
    let repo = TestRepo::new();
    let run = repo.tokenguard(&["man"]);
    run.assert_code(0);
    let page = repo.root().join("tokenguard.1");
    std::fs::write(&page, &run.stdout).unwrap();
    let text = render(&repo, &page).stdout;
    let version = format!("tokenguard {}", env!("CARGO_PKG_VERSION"));
    for expected in [
        "NAME",
        "SYNOPSIS",
        "scan-staged",
        "scan-push",
        "completions",
        "--no-config",
        "Exit status: 0 nothing found",
        version.as_str(),
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }

    // --dir: one page per command, each as clean.
    let dir = repo.root().join("man/man1");
    repo.tokenguard(&["man", "--dir", dir.to_str().unwrap()])
        .assert_code(0);
    for name in [
        "tokenguard.1",
        "tokenguard-scan-staged.1",
        "tokenguard-scan-range.1",
        "tokenguard-rules-check.1",
        "tokenguard-completions.1",
    ] {
        let text = render(&repo, &dir.join(name)).stdout;
        assert!(text.contains("SYNOPSIS"), "{name}:\n{text}");
    }
    let text = render(&repo, &dir.join("tokenguard-scan-staged.1")).stdout;
    assert!(text.contains("--exit-zero"), "{text}");

    // A directory that cannot be made: one line, exit 2.
    let blocker = repo.root().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let run = repo.tokenguard(&["man", "--dir", blocker.join("man1").to_str().unwrap()]);
    run.assert_code(2);
    assert!(
        run.stderr
            .starts_with("tokenguard: error: cannot write man pages to")
    );
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
}

#[test]
fn completions_and_man_end_quietly_when_the_reader_goes_away() {
    let repo = TestRepo::new();
    for args in [&["completions", "zsh"][..], &["man"]] {
        let mut child = repo
            .command(crate::fixture::BIN, &repo.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Closing the pipe before the first write makes every write fail with EPIPE.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}
