//! `tokenguard fix` run blind: it never writes outside the worktree (symbolic links), never
//! prints a secret (context lines included), never writes a secret into a tracked file,
//! never claims a fix it did not make, never corrupts a file, never invents a name, and
//! covers the flows people use (`git commit -a`, notebooks' magics).

use std::os::unix::fs::{PermissionsExt, symlink};

use crate::decoding::base64;
use crate::fix::{assert_no_secret, snapshot};
use crate::fixture::{TestRepo, replicate_token, token};

fn read(repo: &TestRepo, path: &str) -> String {
    std::fs::read_to_string(repo.path().join(path)).unwrap()
}

fn hf(seed: u64) -> String {
    token("hf_[alnum:34]", seed)
}

/// Applies the fix (exit `code`) and returns its output, checking it never shows `secret`.
#[track_caller]
fn apply(repo: &TestRepo, secret: &str, code: i32) -> String {
    let run = repo.tokenguard(&["fix", "--apply"]);
    assert_no_secret(&run, secret);
    run.assert_code(code);
    run.stdout
}

#[test]
fn a_path_beyond_a_symlinked_directory_is_not_written() {
    let repo = TestRepo::new();
    let secret = replicate_token(400);
    let app = format!("TOKEN = \"{secret}\"\n");
    repo.add("lib/app.py", &app);
    // The directory becomes a link to one outside the repository holding the same file.
    let outside = repo.root().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("app.py"), &app).unwrap();
    std::fs::remove_dir_all(repo.path().join("lib")).unwrap();
    symlink(&outside, repo.path().join("lib")).unwrap();
    let out = apply(&repo, &secret, 1);
    assert!(out.contains("beyond a symbolic link"), "{out}");
    assert_eq!(
        std::fs::read_to_string(outside.join("app.py")).unwrap(),
        app
    );
    assert!(!outside.join(".env").exists());
}

#[test]
fn a_symlinked_env_outside_is_left_and_one_inside_is_written_through() {
    let secret = replicate_token(401);
    let outside_env = |repo: &TestRepo| repo.root().join("shared.env");

    let repo = TestRepo::new();
    std::fs::write(outside_env(&repo), "OTHER=1\n").unwrap();
    symlink(outside_env(&repo), repo.path().join(".env")).unwrap();
    repo.add(
        "app.py",
        format!("import os\nREPLICATE_API_TOKEN = \"{secret}\"\n"),
    );
    let out = apply(&repo, &secret, 1);
    assert!(out.contains("outside the repository"), "{out}");
    assert_eq!(
        std::fs::read_to_string(outside_env(&repo)).unwrap(),
        "OTHER=1\n"
    );
    assert!(repo.path().join(".env").is_symlink(), "the link is kept");
    assert!(read(&repo, "app.py").contains(&secret), "nothing half done");

    let repo = TestRepo::new();
    repo.write("config/local.env", "OTHER=1\n");
    let target = repo.path().join("config/local.env");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink("config/local.env", repo.path().join(".env")).unwrap();
    repo.write(".gitignore", ".env\nconfig/\n");
    repo.add(
        "app.py",
        format!("import os\nREPLICATE_API_TOKEN = \"{secret}\"\n"),
    );
    apply(&repo, &secret, 0);
    assert!(repo.path().join(".env").is_symlink(), "the link is kept");
    assert_eq!(
        read(&repo, "config/local.env"),
        format!("OTHER=1\nREPLICATE_API_TOKEN={secret}\n")
    );
    let mode = std::fs::metadata(&target).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the mode is never widened");
}

#[test]
fn a_symlinked_gitignore_outside_is_a_manual_step() {
    let repo = TestRepo::new();
    let secret = replicate_token(402);
    let outside = repo.root().join("global-ignore");
    std::fs::write(&outside, "*.log\n").unwrap();
    symlink(&outside, repo.path().join(".gitignore")).unwrap();
    repo.add(
        "app.py",
        format!("import os\nREPLICATE_API_TOKEN = \"{secret}\"\n"),
    );
    let out = apply(&repo, &secret, 1);
    assert!(out.contains(".gitignore"), "{out}");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "*.log\n");
    assert!(repo.path().join(".gitignore").is_symlink());
}

#[test]
fn previews_redact_tokens_in_context_lines() {
    let repo = TestRepo::new();
    let committed = hf(403);
    let allowed = hf(404);
    repo.add(
        "app.py",
        format!("import os\nOLD = \"{committed}\"\nDEMO = \"{allowed}\"  # tokenguard:allow\n"),
    );
    repo.commit_unchecked(&[]);
    let secret = replicate_token(405);
    repo.add(
        "app.py",
        format!(
            "import os\nOLD = \"{committed}\"\nDEMO = \"{allowed}\"  # tokenguard:allow\nREPLICATE_API_TOKEN = \"{secret}\"\n"
        ),
    );
    for args in [&["fix"][..], &["fix", "--apply"][..]] {
        let run = repo.tokenguard(args);
        assert_no_secret(&run, &secret);
        assert_no_secret(&run, &committed);
        assert_no_secret(&run, &allowed);
        assert!(
            run.stdout.contains("+REPLICATE_API_TOKEN = os.environ"),
            "{run:#?}"
        );
    }
}

#[test]
fn a_tracked_env_gets_no_secret() {
    let repo = TestRepo::new();
    repo.add(".env", "DEBUG=1\n");
    repo.commit_unchecked(&[]);
    let secret = replicate_token(406);
    repo.add(
        "app.py",
        format!("import os\nREPLICATE_API_TOKEN = \"{secret}\"\n"),
    );
    let out = apply(&repo, &secret, 0);
    assert!(out.contains(".env.local"), "{out}");
    assert_eq!(
        read(&repo, ".env"),
        "DEBUG=1\n",
        "the tracked file is left alone"
    );
    assert_eq!(
        read(&repo, ".env.local"),
        format!("REPLICATE_API_TOKEN={secret}\n")
    );
    let status = repo.git(&["status", "--porcelain", "--ignored"]).stdout;
    assert!(status.contains("!! .env.local"), "{status}");
    assert_eq!(repo.commit(&[]).code, Some(0));
}

#[test]
fn an_encoded_token_and_a_token_in_a_file_name_are_manual_steps() {
    let repo = TestRepo::new();
    let secret = replicate_token(407);
    repo.add(
        "config/auth.txt",
        format!("auth: {}\n", base64(secret.as_bytes())),
    );
    let out = apply(&repo, &secret, 1);
    assert!(out.contains("base64"), "{out}");
    assert!(!out.contains("already fixed"), "{out}");
    assert!(!out.contains("re-staged"), "{out}");

    let repo = TestRepo::new();
    let secret = replicate_token(408);
    repo.add(&format!("keys/{secret}.txt"), "nothing here\n");
    let out = apply(&repo, &secret, 1);
    assert!(out.contains("git mv"), "{out}");
    assert!(!out.contains("is missing"), "{out}");
    assert!(!out.contains("as -"), "{out}");
    assert!(!out.contains("fix: applied"), "{out}");
}

/// Stages `path` with `content` (where `SECRET` stands for a fresh token) and applies the fix;
/// returns the token and the file after the fix.
fn fixed(path: &str, content: &str, seed: u64, code: i32) -> (TestRepo, String, String) {
    let repo = TestRepo::new();
    let secret = replicate_token(seed);
    repo.add(path, content.replace("SECRET", &secret));
    apply(&repo, &secret, code);
    let text = read(&repo, path);
    (repo, secret, text)
}

#[test]
fn multi_line_strings_are_read_whole() {
    // A token in a Python triple-quoted string is left to the user, with the reason.
    let text = "import os\nPROMPT = \"\"\"Use this:\nkey SECRET\n\"\"\"\n";
    let (repo, secret, after) = fixed("prompt.py", text, 410, 1);
    assert_eq!(after, text.replace("SECRET", &secret));
    let run = repo.tokenguard(&["fix"]);
    assert!(run.stdout.contains("triple-quoted"), "{run:#?}");

    // A JS template literal over several lines interpolates the read.
    let text = "const body = `\nAuthorization: Bearer SECRET\n`;\nconsole.log(body.length);\n";
    let (_, _, after) = fixed("req.js", text, 411, 0);
    assert_eq!(
        after,
        "const body = `\nAuthorization: Bearer ${process.env.REPLICATE_API_TOKEN}\n`;\nconsole.log(body.length);\n"
    );
}

#[test]
fn shell_heredocs_quoted_and_not() {
    let text = "#!/bin/sh\ncat > auth.cfg <<EOF\ntoken = SECRET\nEOF\n";
    let (repo, secret, after) = fixed("setup.sh", text, 412, 0);
    assert_eq!(
        after,
        "#!/bin/sh\ncat > auth.cfg <<EOF\ntoken = ${REPLICATE_API_TOKEN}\nEOF\n"
    );
    let run = std::process::Command::new("sh")
        .arg("setup.sh")
        .current_dir(repo.path())
        .env("REPLICATE_API_TOKEN", &secret)
        .status()
        .unwrap();
    assert!(run.success());
    assert_eq!(read(&repo, "auth.cfg"), format!("token = {secret}\n"));

    let text = "#!/bin/sh\ncat > auth.cfg <<'EOF'\ntoken = SECRET\nEOF\n";
    let (repo, secret, after) = fixed("setup.sh", text, 413, 1);
    assert_eq!(after, text.replace("SECRET", &secret));
    assert!(repo.tokenguard(&["fix"]).stdout.contains("quoted"));
}

#[test]
fn import_os_goes_after_future_imports_docstrings_and_a_bom() {
    let cases = [
        (
            "r\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\nT = 'SECRET'\n",
            "r\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\nimport os\nT = os.environ[\"REPLICATE_API_TOKEN\"]\n",
        ),
        (
            "'Doc.'  # about\nT = 'SECRET'\n",
            "'Doc.'  # about\nimport os\nT = os.environ[\"REPLICATE_API_TOKEN\"]\n",
        ),
        (
            "\u{feff}# coding: utf-8\nT = 'SECRET'\n",
            "\u{feff}# coding: utf-8\nimport os\nT = os.environ[\"REPLICATE_API_TOKEN\"]\n",
        ),
        (
            "\"\"\"Doc.\r\n\"\"\"\r\nT = 'SECRET'\r\n",
            "\"\"\"Doc.\r\n\"\"\"\r\nimport os\r\nT = os.environ[\"REPLICATE_API_TOKEN\"]\r\n",
        ),
    ];
    for (seed, (before, after)) in (414..).zip(cases) {
        let (_, _, text) = fixed("app.py", before, seed, 0);
        assert_eq!(text, after, "{before:?}");
    }
}

#[test]
fn an_edit_that_would_not_parse_is_a_manual_step() {
    // Implicit concatenation: replacing one literal by a call would be a syntax error.
    let text = "import os\nT = 'SECRET' 'suffix'\n";
    let (repo, secret, after) = fixed("app.py", text, 420, 1);
    assert_eq!(after, text.replace("SECRET", &secret));
    assert!(repo.tokenguard(&["fix"]).stdout.contains("no longer parse"));
}

#[test]
fn a_dockerfile_heredoc_is_a_manual_step_named_as_such() {
    let text = "FROM alpine\nRUN <<EOT\ncurl -u SECRET: https://x.test\nEOT\n";
    let (repo, _, _) = fixed("Dockerfile", text, 421, 1);
    let out = repo.tokenguard(&["fix"]).stdout;
    assert!(out.contains("heredoc"), "{out}");
    assert!(!out.contains("CURL instruction"), "{out}");
}

#[test]
fn generic_names_become_the_providers_variable() {
    let text = "import os\nTOKEN = 'SECRET'\nHF = TOKEN\n";
    let (repo, secret, after) = fixed("app.py", text, 422, 0);
    assert_eq!(
        after,
        "import os\nTOKEN = os.environ[\"REPLICATE_API_TOKEN\"]\nHF = TOKEN\n"
    );
    assert_eq!(
        read(&repo, ".env"),
        format!("REPLICATE_API_TOKEN={secret}\n")
    );
}

#[test]
fn after_a_blocked_commit_a_fix_paths_makes_commit_a_pass() {
    let repo = TestRepo::new();
    repo.add("app.py", "import os\nprint('hi')\n");
    repo.commit_unchecked(&[]);
    let secret = replicate_token(423);
    repo.write(
        "app.py",
        format!("import os\nREPLICATE_API_TOKEN = \"{secret}\"\nprint('hi')\n"),
    );
    assert_eq!(repo.commit(&["-a"]).code, Some(1), "blocked");
    let run = repo.tokenguard(&["fix", "app.py", "--apply"]);
    assert_no_secret(&run, &secret);
    run.assert_code(0);
    assert_eq!(repo.commit(&["-a"]).code, Some(0), "the fixed file commits");
}

#[test]
fn notebook_environ_assignment_and_magics() {
    let secret = hf(424);
    let notebook = format!(
        r#"{{
 "cells": [
  {{
   "cell_type": "code",
   "execution_count": null,
   "metadata": {{}},
   "outputs": [],
   "source": [
    "import os\n",
    "os.environ[\"HF_TOKEN\"] = \"{secret}\"\n",
    "%env HF_TOKEN={secret}\n",
    "!huggingface-cli login --token {secret}"
   ]
  }}
 ],
 "metadata": {{}},
 "nbformat": 4,
 "nbformat_minor": 5
}}
"#
    );
    let repo = TestRepo::new();
    repo.add("nb.ipynb", notebook);
    apply(&repo, &secret, 0);
    let parsed: serde_json::Value = serde_json::from_str(&read(&repo, "nb.ipynb")).unwrap();
    let source: Vec<&str> = parsed["cells"][0]["source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        source,
        [
            "import os\n",
            "# HF_TOKEN comes from the environment (.env)\n",
            "# HF_TOKEN comes from the environment (.env)\n",
            "!huggingface-cli login --token $$HF_TOKEN"
        ]
    );
    assert_eq!(repo.commit(&[]).code, Some(0));
}

#[test]
fn a_second_run_changes_nothing_after_a_manual_step() {
    let (repo, _, _) = fixed("prompt.py", "P = '''SECRET'''\n", 425, 1);
    let before = snapshot(&repo);
    repo.tokenguard(&["fix", "--apply"]).assert_code(1);
    assert_eq!(snapshot(&repo), before);
}

#[test]
fn the_gitignore_fix_is_staged_unless_it_holds_unstaged_edits() {
    let repo = TestRepo::new();
    repo.add(".gitignore", "*.log\n");
    repo.commit_unchecked(&[]);
    repo.write(".gitignore", "*.log\ntarget/\n");
    let secret = replicate_token(426);
    repo.add(
        "app.py",
        format!("import os\nREPLICATE_API_TOKEN = \"{secret}\"\n"),
    );
    let out = apply(&repo, &secret, 0);
    assert!(out.contains("git add .gitignore"), "{out}");
    let staged = repo.git(&["show", ":.gitignore"]).stdout;
    assert_eq!(
        staged, "*.log\n",
        "the user's unstaged edit is not swept in"
    );
    assert_eq!(read(&repo, ".gitignore"), "*.log\ntarget/\n.env\n");
}
