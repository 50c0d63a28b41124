//! Whole-output snapshots (insta): the report of every mode and kind of finding as a developer
//! sees it through the real hooks, in colour and without, at 80 and 120 columns; the JSON and
//! SARIF documents; the fix preview, `config`, `rules` and the main errors. Filters replace
//! what changes from run to run (temporary paths, commit ids, fingerprints, the version).
//! Review a change with `cargo insta review` (or `INSTA_UPDATE=always` and `git diff`).

use std::path::Path;
use std::process::Command;

use crate::decoding::base64;
use crate::fixture::{BIN, Run, TestRepo, replicate_token, token};

/// Exit status, then stdout and stderr, as one text.
fn render(run: &Run) -> String {
    let mut text = format!(
        "exit: {}\n",
        run.code.map_or("signal".into(), |c| c.to_string())
    );
    for (name, stream) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        if !stream.is_empty() {
            text.push_str(&format!("----- {name}\n{stream}"));
        }
    }
    text
}

/// Filters for what differs between runs; `secrets` are replaced too, though a report that
/// printed one fails the check in [`snapshot`] first.
fn settings(repo: &TestRepo, secrets: &[&str]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    // Colour codes first, as visible marks that keep word boundaries for the filters below.
    settings.add_filter("\x1b\\[([0-9;]*)m", "⟨$1⟩");
    let root = repo.root().to_string_lossy().into_owned();
    settings.add_filter(&regex::escape(&root), "[TMP]");
    for secret in secrets {
        settings.add_filter(&regex::escape(secret), "[TOKEN]");
    }
    settings.add_filter(r"\b[0-9a-f]{40}\b", "[COMMIT]");
    settings.add_filter(r"\b[0-9a-f]{32}\b", "[FINGERPRINT]");
    // git's own summary of a commit it made: `[main (root-commit) 1a2b3c4]`.
    settings.add_filter(
        r"(\[main (?:\(root-commit\) )?)[0-9a-f]{7,}\]",
        "$1[SHORT]]",
    );
    settings.add_filter(
        &regex::escape(&format!("\"{}\"", env!("CARGO_PKG_VERSION"))),
        "\"[VERSION]\"",
    );
    settings
}

/// Snapshots `text` under `name` after checking that no secret is in it.
#[track_caller]
fn snapshot(repo: &TestRepo, name: &str, secrets: &[&str], text: &str) {
    for secret in secrets {
        assert!(!text.contains(secret), "secret printed in {name}:\n{text}");
    }
    settings(repo, secrets).bind(|| insta::assert_snapshot!(name, text));
}

/// How a terminal is set up for one run.
#[derive(Clone, Copy)]
struct Screen {
    columns: u16,
    colour: bool,
}

const SCREENS: [Screen; 4] = [
    Screen {
        columns: 80,
        colour: false,
    },
    Screen {
        columns: 120,
        colour: false,
    },
    Screen {
        columns: 80,
        colour: true,
    },
    Screen {
        columns: 120,
        colour: true,
    },
];

impl Screen {
    fn label(self) -> String {
        let colour = if self.colour { "colour" } else { "no colour" };
        format!("===== {} columns, {colour}\n", self.columns)
    }

    fn apply(self, command: &mut Command) {
        command.env("COLUMNS", self.columns.to_string());
        if self.colour {
            command.env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1");
        }
    }
}

/// `program args` in `dir` on `screen`.
fn run_on(repo: &TestRepo, screen: Screen, dir: &Path, program: &str, args: &[&str]) -> Run {
    let mut command = repo.command(program, dir);
    command.args(args);
    screen.apply(&mut command);
    Run::from(command.output().expect("runs"))
}

/// The same command on every screen, as one text.
fn on_every_screen(repo: &TestRepo, program: &str, args: &[&str]) -> String {
    SCREENS
        .iter()
        .map(|&screen| {
            let run = run_on(repo, screen, &repo.path(), program, args);
            screen.label() + &render(&run)
        })
        .collect()
}

/// `git commit -q -m "add files" ARGS` through the hooks, on every screen.
fn commit_on_every_screen(repo: &TestRepo, args: &[&str]) -> String {
    let mut full = vec!["commit", "-q", "-m", "add files"];
    full.extend_from_slice(args);
    on_every_screen(repo, "git", &full)
}

/// A repository with `tokenguard install`'s hooks (pre-commit, commit-msg, pre-push).
fn installed() -> TestRepo {
    let repo = TestRepo::new();
    repo.tokenguard(&["install"]).assert_code(0);
    repo
}

fn r8(seed: u64) -> String {
    replicate_token(seed)
}

#[test]
fn commit_token_in_python() {
    let repo = installed();
    let secret = r8(9001);
    repo.add(
        "app.py",
        format!("import replicate\n\nclient = replicate.Client(api_token=\"{secret}\")\n"),
    );
    let text = commit_on_every_screen(&repo, &[]);
    snapshot(&repo, "commit_token_in_python", &[&secret], &text);
}

#[test]
fn commit_token_in_a_file_tokenguard_cannot_fix() {
    let repo = installed();
    let secret = r8(9002);
    repo.add(
        "deploy/settings.yaml",
        format!("replicate:\n  token: {secret}\n"),
    );
    let text = commit_on_every_screen(&repo, &[]);
    snapshot(
        &repo,
        "commit_token_in_a_file_tokenguard_cannot_fix",
        &[&secret],
        &text,
    );
}

#[test]
fn commit_dotenv_file() {
    let repo = installed();
    let secret = r8(9003);
    repo.add(".env", format!("REPLICATE_API_TOKEN={secret}\nDEBUG=1\n"));
    let text = commit_on_every_screen(&repo, &[]);
    snapshot(&repo, "commit_dotenv_file", &[&secret], &text);
}

#[test]
fn commit_token_in_a_file_name() {
    let repo = installed();
    let secret = r8(9004);
    repo.add(&format!("backups/dump-{secret}.json"), "{}\n");
    let text = commit_on_every_screen(&repo, &[]);
    snapshot(&repo, "commit_token_in_a_file_name", &[&secret], &text);
}

#[test]
fn commit_token_in_a_symlink_target() {
    let repo = installed();
    let secret = r8(9005);
    std::os::unix::fs::symlink(format!("/run/keys/{secret}"), repo.path().join("key-link"))
        .unwrap();
    repo.git(&["add", "key-link"]);
    let text = commit_on_every_screen(&repo, &[]);
    snapshot(&repo, "commit_token_in_a_symlink_target", &[&secret], &text);
}

/// A notebook whose first cell printed the token.
fn notebook_with_output(secret: &str) -> String {
    let notebook = serde_json::json!({
        "cells": [{
            "cell_type": "code",
            "execution_count": 1,
            "id": "a1",
            "metadata": {},
            "outputs": [{"name": "stdout", "output_type": "stream", "text": [format!("token: {secret}\n")]}],
            "source": ["import os\n", "print(\"token:\", os.environ[\"REPLICATE_API_TOKEN\"])"]
        }],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5
    });
    serde_json::to_string_pretty(&notebook).unwrap() + "\n"
}

#[test]
fn commit_token_in_a_notebook_output() {
    let repo = installed();
    let secret = r8(9006);
    repo.add("notebooks/train.ipynb", notebook_with_output(&secret));
    let text = commit_on_every_screen(&repo, &[]);
    snapshot(
        &repo,
        "commit_token_in_a_notebook_output",
        &[&secret],
        &text,
    );
}

#[test]
fn commit_base64_encoded_token() {
    let repo = installed();
    let secret = r8(9007);
    let encoded = base64(format!("{{\"token\": \"{secret}\"}}").as_bytes());
    repo.add("config/blob.txt", format!("payload = {encoded}\n"));
    let text = commit_on_every_screen(&repo, &[]);
    snapshot(
        &repo,
        "commit_base64_encoded_token",
        &[&secret, &encoded],
        &text,
    );
}

#[test]
fn commit_two_providers() {
    let repo = installed();
    let (one, two) = (r8(9008), token("hf_[alnum:34]", 9009));
    repo.add("train.py", format!("R = \"{one}\"\nH = \"{two}\"\n"));
    let text = commit_on_every_screen(&repo, &[]);
    snapshot(&repo, "commit_two_providers", &[&one, &two], &text);
}

/// `git commit -a` and `git commit PATHS` run the hook with a temporary index.
#[test]
fn commit_all_and_commit_paths() {
    let repo = installed();
    repo.add("app.py", "import os\n");
    repo.commit(&[]).assert_code(0);
    let secret = r8(9010);
    repo.write("app.py", format!("import os\nTOKEN = \"{secret}\"\n"));
    let mut text = String::from("##### git commit -a\n");
    text += &commit_on_every_screen(&repo, &["-a"]);
    text += "##### git commit app.py\n";
    text += &commit_on_every_screen(&repo, &["app.py"]);
    snapshot(&repo, "commit_all_and_commit_paths", &[&secret], &text);
}

#[test]
fn commit_clean() {
    let repo = installed();
    repo.add("README.md", "# demo\n");
    // Not -q: what git and the hooks print on a clean commit.
    let run = repo.git_in(&repo.path(), &["commit", "-m", "add readme"]);
    let text = render(&run);
    snapshot(&repo, "commit_clean", &[], &text);
}

#[test]
fn commit_message_token() {
    let repo = installed();
    repo.add("notes.txt", "notes\n");
    let secret = r8(9011);
    let message = format!("deploy with {secret}");
    let text = on_every_screen(&repo, "git", &["commit", "-q", "-m", &message]);
    snapshot(&repo, "commit_message_token", &[&secret], &text);
}

#[test]
fn push_blocked_by_pre_push() {
    let repo = installed();
    repo.with_origin("origin.git", false);
    let secret = r8(9012);
    repo.add("app.py", format!("TOKEN = \"{secret}\"\n"));
    repo.commit_unchecked(&[]);
    let text = on_every_screen(&repo, "git", &["push", "-q", "origin", "main"]);
    snapshot(&repo, "push_blocked_by_pre_push", &[&secret], &text);
}

#[test]
fn server_rejects_a_push() {
    let repo = TestRepo::new();
    repo.with_origin("server.git", true);
    let secret = r8(9013);
    repo.add("app.py", format!("TOKEN = \"{secret}\"\n"));
    repo.commit_unchecked(&[]);
    let text = on_every_screen(
        &repo,
        "git",
        &["push", "-q", "--no-verify", "origin", "main"],
    );
    snapshot(&repo, "server_rejects_a_push", &[&secret], &text);
}

#[test]
fn history_content_message_and_tag() {
    let repo = TestRepo::new();
    repo.add("a.txt", "a\n");
    repo.commit_unchecked(&[]);
    let (one, two, three) = (r8(9014), r8(9015), r8(9016));
    repo.add("app.py", format!("TOKEN = \"{one}\"\n"));
    repo.git(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        &format!("ci: use {two}"),
    ]);
    repo.git(&["tag", "-a", "v1", "-m", &format!("release key {three}")]);
    let text = on_every_screen(&repo, BIN, &["scan-range", "--all"]);
    snapshot(
        &repo,
        "history_content_message_and_tag",
        &[&one, &two, &three],
        &text,
    );
}

#[test]
fn files_scan_files_and_scan_tree() {
    let repo = TestRepo::new();
    let (one, two) = (r8(9017), r8(9018));
    repo.add("src/app.py", format!("TOKEN = \"{one}\"\n"));
    repo.commit_unchecked(&[]);
    repo.write("local/notes.md", format!("key: {two}\n"));
    let mut text = String::from("##### scan-files local\n");
    text += &on_every_screen(&repo, BIN, &["scan-files", "local"]);
    text += "##### scan-tree\n";
    text += &on_every_screen(&repo, BIN, &["scan-tree"]);
    snapshot(
        &repo,
        "files_scan_files_and_scan_tree",
        &[&one, &two],
        &text,
    );
}

#[test]
fn verbose_and_quiet() {
    let repo = TestRepo::new();
    let secret = r8(9019);
    repo.add("app.py", format!("TOKEN = \"{secret}\"\n"));
    repo.add("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0binary".as_slice());
    let mut text = String::from("##### scan-staged -v\n");
    text += &render(&repo.tokenguard(&["scan-staged", "-v"]));
    text += "##### scan-staged -q\n";
    text += &render(&repo.tokenguard(&["scan-staged", "-q"]));
    snapshot(&repo, "verbose_and_quiet", &[&secret], &text);
}

/// Findings of every part in one staged change, for the machine formats.
fn every_part(repo: &TestRepo) -> Vec<String> {
    let (one, two, three) = (r8(9020), r8(9021), r8(9022));
    repo.add("app.py", format!("TOKEN = \"{one}\"\n"));
    repo.add(&format!("dump-{two}.json"), "{}\n");
    repo.add("notebooks/train.ipynb", notebook_with_output(&three));
    vec![one, two, three]
}

#[test]
fn json_report() {
    let repo = TestRepo::new();
    let secrets = every_part(&repo);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let run = repo.tokenguard(&["scan-staged", "--format", "json"]);
    snapshot(&repo, "json_report", &secrets, &render(&run));
}

/// The SARIF log with only the descriptors its results use: the catalog's own snapshot is
/// `rules`, and a new rule elsewhere must not change this one.
fn sarif_of_results(stdout: &str) -> String {
    let mut log: serde_json::Value = serde_json::from_str(stdout).expect("SARIF is JSON");
    let run = &mut log["runs"][0];
    let descriptors = run["tool"]["driver"]["rules"].as_array().unwrap().clone();
    let total = descriptors.len();
    let mut kept = Vec::new();
    for result in run["results"].as_array_mut().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        let descriptor = &descriptors[index];
        let position = kept
            .iter()
            .position(|d| d == descriptor)
            .unwrap_or_else(|| {
                kept.push(descriptor.clone());
                kept.len() - 1
            });
        result["ruleIndex"] = serde_json::json!(position);
    }
    run["tool"]["driver"]["rules"] = serde_json::Value::Array(kept);
    format!(
        "(descriptors: {} in the log, those used kept; ruleIndex renumbered)\n{}\n",
        if total > 50 { "over 50" } else { "50 or fewer" },
        serde_json::to_string_pretty(&log).unwrap()
    )
}

#[test]
fn sarif_report() {
    let repo = TestRepo::new();
    let secrets = every_part(&repo);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let run = repo.tokenguard(&["scan-staged", "--format", "sarif"]);
    run.assert_code(1);
    snapshot(
        &repo,
        "sarif_report",
        &secrets,
        &sarif_of_results(&run.stdout),
    );
}

#[test]
fn fix_preview() {
    let repo = TestRepo::new();
    let secret = r8(9023);
    repo.add(
        "predict.py",
        format!("import replicate\n\nclient = replicate.Client(api_token=\"{secret}\")\n"),
    );
    let run = repo.tokenguard(&["fix"]);
    snapshot(&repo, "fix_preview", &[&secret], &render(&run));
}

#[test]
fn config_listing() {
    let repo = TestRepo::new();
    repo.write(
        ".tokenguard.toml",
        "[scan]\nmax_file_size = \"2MB\"\n\n[allow]\npaths = [\"tests/fixtures/**\"]\n",
    );
    let mut text = String::from("##### config\n");
    text += &render(&repo.tokenguard(&["config"]));
    text += "##### config --format json\n";
    text += &render(&repo.tokenguard(&["config", "--format", "json"]));
    snapshot(&repo, "config_listing", &[], &text);
}

/// The rules table's header and the Replicate rows: the whole catalog grows with every
/// provider, and `tests/cli/rules.rs` checks it row by row.
#[test]
fn rules_listing() {
    let repo = TestRepo::new();
    let run = repo.tokenguard(&["rules"]);
    run.assert_code(0);
    let mut lines = run.stdout.lines();
    let mut text = lines.next().unwrap_or_default().to_string() + "\n";
    for line in lines.filter(|l| l.starts_with("replicate-")) {
        text += line;
        text += "\n";
    }
    snapshot(&repo, "rules_listing", &[], &text);
}

#[test]
fn main_errors() {
    let repo = TestRepo::new();
    let outside = repo.root().join("home");
    let mut text = String::from("##### scan-staged outside a repository\n");
    text += &render(&repo.tokenguard_in(&outside, &["scan-staged"]));
    text += "##### a config file that does not parse\n";
    repo.write(".tokenguard.toml", "[scan]\nmax_file_size = \"lots\"\n");
    text += &render(&repo.tokenguard(&["scan-staged"]));
    std::fs::remove_file(repo.path().join(".tokenguard.toml")).unwrap();
    text += "##### scan-range of an unknown revision\n";
    text += &render(&repo.tokenguard(&["scan-range", "no-such-branch"]));
    text += "##### ignore with something that is not a fingerprint\n";
    text += &render(&repo.tokenguard(&["ignore", "abc", "--reason", "test"]));
    text += "##### an unknown option\n";
    text += &render(&repo.tokenguard(&["scan-staged", "--no-such-option"]));
    snapshot(&repo, "main_errors", &[], &text);
}

#[test]
fn explain_a_rule_and_a_fingerprint() {
    let repo = TestRepo::new();
    let secret = r8(9024);
    repo.add("app.py", format!("TOKEN = \"{secret}\"\n"));
    let report = repo.scan_json();
    let fingerprint = report["findings"][0]["fingerprint"].as_str().unwrap();
    let mut text = String::from("##### explain replicate-api-token\n");
    text += &on_every_screen(&repo, BIN, &["explain", "replicate-api-token"]);
    text += "##### explain FINGERPRINT (staged)\n";
    text += &render(&repo.tokenguard(&["explain", fingerprint]));
    text += "##### explain an unknown rule\n";
    text += &render(&repo.tokenguard(&["explain", "no-such-rule"]));
    snapshot(&repo, "explain_a_rule_and_a_fingerprint", &[&secret], &text);
}
