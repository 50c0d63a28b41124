//! `tokenguard fix`, per language: the preview never prints the secret and writes nothing,
//! `--apply` turns the literal into a read of the environment, the fixed file still runs or
//! parses and reads the value from the environment, and the hook passes afterwards.

use std::process::Command;

use crate::fixture::{Run, TestRepo, replicate_token, token};

/// Stages `files`, checks the preview, applies the fix and commits through the hook.
/// Returns the repository for further checks.
#[track_caller]
pub fn fix_and_commit(files: &[(&str, String)], secret: &str) -> TestRepo {
    let repo = TestRepo::new();
    for (path, content) in files {
        repo.add(path, content);
    }
    assert_eq!(repo.commit(&[]).code, Some(1), "the hook blocks first");
    let before = snapshot(&repo);
    let preview = repo.tokenguard(&["fix"]);
    assert_no_secret(&preview, secret);
    assert!(preview.stdout.contains("preview"), "{preview:#?}");
    assert_eq!(snapshot(&repo), before, "the preview writes nothing");
    let applied = repo.tokenguard(&["fix", "--apply"]);
    applied.assert_code(0);
    assert_no_secret(&applied, secret);
    for (path, _) in files {
        let text = std::fs::read_to_string(repo.path().join(path)).unwrap();
        assert!(
            !text.contains(secret),
            "{path} still holds the secret:\n{text}"
        );
    }
    let env = std::fs::read_to_string(repo.path().join(".env")).unwrap_or_default();
    let compose_env = repo.path().join("deploy/.env");
    let env = env + &std::fs::read_to_string(compose_env).unwrap_or_default();
    assert!(env.contains(secret), "the value moved to .env");
    let commit = repo.commit(&[]);
    assert_eq!(
        commit.code,
        Some(0),
        "the hook passes after the fix: {commit:#?}"
    );
    repo
}

/// Every file of the worktree and the index, to prove that nothing was written.
pub fn snapshot(repo: &TestRepo) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![repo.path()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path
                .strip_prefix(repo.path())
                .unwrap()
                .display()
                .to_string();
            if path.is_dir() {
                if name != ".git" {
                    stack.push(path);
                }
            } else {
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.push((
        "<index>".into(),
        std::fs::read(repo.path().join(".git/index")).unwrap(),
    ));
    files.sort();
    files
}

#[track_caller]
pub fn assert_no_secret(run: &Run, secret: &str) {
    let all = run.all();
    assert!(!all.contains(secret), "full secret printed: {run:#?}");
    assert!(
        !all.contains(&secret[secret.len() - 12..]),
        "secret tail printed: {run:#?}"
    );
}

/// Runs `program args` in the repository with REPLICATE_API_TOKEN set to `secret`.
fn run_with_token(repo: &TestRepo, secret: &str, program: &str, args: &[&str]) -> Run {
    let output = Command::new(program)
        .args(args)
        .current_dir(repo.path())
        .env("REPLICATE_API_TOKEN", secret)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    Run::from(output)
}

fn read(repo: &TestRepo, path: &str) -> String {
    std::fs::read_to_string(repo.path().join(path)).unwrap()
}

#[test]
fn python_reads_os_environ_and_runs() {
    let secret = replicate_token(180);
    let app = format!(
        "\"\"\"Calls Replicate.\"\"\"\nimport sys\n\nclient_token = \"{secret}\"\nheaders = {{\"Authorization\": \"Bearer {secret}\"}}\nprint(len(client_token), headers[\"Authorization\"] == \"Bearer \" + client_token)\n"
    );
    let repo = fix_and_commit(&[("app.py", app)], &secret);
    let fixed = read(&repo, "app.py");
    assert!(fixed.contains("import os\nimport sys\n"), "{fixed}");
    assert!(
        fixed.contains("client_token = os.environ[\"REPLICATE_API_TOKEN\"]"),
        "{fixed}"
    );
    let run = run_with_token(&repo, &secret, "python3", &["app.py"]);
    assert_eq!(run.stdout, "40 True\n", "{run:#?}");
}

#[test]
fn javascript_reads_process_env_and_runs_under_node() {
    let secret = replicate_token(181);
    let app = format!(
        "const apiKey = \"{secret}\";\nconst header = `Bearer {secret}`;\nconsole.log(apiKey.length, header === \"Bearer \" + apiKey);\n"
    );
    let repo = fix_and_commit(&[("client.js", app)], &secret);
    let fixed = read(&repo, "client.js");
    assert!(
        fixed.contains("const apiKey = process.env.REPLICATE_API_TOKEN;"),
        "{fixed}"
    );
    assert!(
        fixed.contains("`Bearer ${process.env.REPLICATE_API_TOKEN}`"),
        "{fixed}"
    );
    let run = run_with_token(&repo, &secret, "node", &["client.js"]);
    assert_eq!(run.stdout, "40 true\n", "{run:#?}");
}

#[test]
fn typescript_gets_the_same_read() {
    let secret = replicate_token(182);
    let app = format!("export const client = new Replicate({{ auth: '{secret}' }});\n");
    let repo = fix_and_commit(&[("src/client.ts", app)], &secret);
    assert_eq!(
        read(&repo, "src/client.ts"),
        "export const client = new Replicate({ auth: process.env.REPLICATE_API_TOKEN });\n"
    );
}

#[test]
fn shell_reads_the_variable_and_runs() {
    let secret = replicate_token(183);
    let script = format!(
        "#!/bin/sh\nexport MY_TOKEN={secret}\nauth='Authorization: Bearer {secret}'\necho \"${{#MY_TOKEN}} ${{auth#Authorization: Bearer }}\"\n"
    );
    let repo = fix_and_commit(&[("run.sh", script)], &secret);
    let fixed = read(&repo, "run.sh");
    assert!(fixed.contains("export MY_TOKEN=\"${MY_TOKEN}\""), "{fixed}");
    run_with_token(&repo, &secret, "bash", &["-n", "run.sh"]).assert_code(0);
    let output = Command::new("bash")
        .arg("run.sh")
        .current_dir(repo.path())
        .env("MY_TOKEN", &secret)
        .env("REPLICATE_API_TOKEN", &secret)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("40 {secret}\n")
    );
    let env = read(&repo, ".env");
    assert!(
        env.contains(&format!("MY_TOKEN={secret}\n")),
        "the code's own name"
    );
}

#[test]
fn dockerfile_run_mounts_a_build_secret_and_env_is_advice() {
    let secret = replicate_token(184);
    let dockerfile = format!(
        "FROM alpine:3.20\nRUN apk add curl && \\\n    curl -s -H \"Authorization: Bearer {secret}\" https://api.replicate.com/v1/account\n"
    );
    let repo = fix_and_commit(&[("Dockerfile", dockerfile)], &secret);
    let fixed = read(&repo, "Dockerfile");
    let mount =
        "RUN --mount=type=secret,id=REPLICATE_API_TOKEN,env=REPLICATE_API_TOKEN apk add curl";
    assert!(fixed.contains(mount), "{fixed}");
    // The RUN command is a valid shell command that reads the variable.
    let command = fixed.split(mount).nth(1).unwrap().replace("\\\n", " ");
    let check = format!("set -n\napk add curl{command}");
    run_with_token(&repo, &secret, "sh", &["-c", &check]).assert_code(0);
    assert!(command.contains("\"Authorization: Bearer ${REPLICATE_API_TOKEN}\""));

    let other = TestRepo::new();
    other.add(
        "Dockerfile",
        format!("FROM alpine\nENV REPLICATE_API_TOKEN={secret}\n"),
    );
    let run = other.tokenguard(&["fix", "--apply"]);
    run.assert_code(1);
    assert_no_secret(&run, &secret);
    assert!(run.stdout.contains("Dockerfile:2"), "{run:#?}");
    assert!(
        run.stdout
            .contains("--mount=type=secret,id=REPLICATE_API_TOKEN"),
        "{run:#?}"
    );
    assert!(
        read(&other, "Dockerfile").contains(&secret),
        "ENV is left to the user"
    );
}

#[test]
fn notebook_cell_source_is_fixed_and_stays_valid_json() {
    let secret = replicate_token(185);
    let notebook = format!(
        r#"{{
 "cells": [
  {{
   "cell_type": "code",
   "execution_count": null,
   "id": "a1",
   "metadata": {{}},
   "outputs": [],
   "source": [
    "token = \"{secret}\"\n",
    "print(len(token))"
   ]
  }}
 ],
 "metadata": {{"kernelspec": {{"language": "python", "name": "python3"}}}},
 "nbformat": 4,
 "nbformat_minor": 5
}}
"#
    );
    let repo = fix_and_commit(&[("explore.ipynb", notebook)], &secret);
    let script = "import json, os\nnb = json.load(open('explore.ipynb'))\nexec(''.join(nb['cells'][0]['source']))\n";
    let run = run_with_token(&repo, &secret, "python3", &["-c", script]);
    assert_eq!(run.stdout, "40\n", "{run:#?}");
    let fixed = read(&repo, "explore.ipynb");
    assert!(
        fixed.contains(
            "    \"import os\\n\",\n    \"token = os.environ[\\\"REPLICATE_API_TOKEN\\\"]\\n\","
        ),
        "{fixed}"
    );
}

#[test]
fn compose_interpolates_from_the_env_file_beside_it() {
    let secret = replicate_token(186);
    let compose = format!(
        "services:\n  predictor:\n    image: r8.im/owner/model\n    environment:\n      - REPLICATE_API_TOKEN={secret}\n      - LOG_LEVEL=info\n"
    );
    let repo = fix_and_commit(&[("deploy/docker-compose.yml", compose)], &secret);
    let script = "import yaml\nd = yaml.safe_load(open('deploy/docker-compose.yml'))\nprint(d['services']['predictor']['environment'][0])\n";
    let run = run_with_token(&repo, &secret, "python3", &["-c", script]);
    assert_eq!(
        run.stdout, "REPLICATE_API_TOKEN=${REPLICATE_API_TOKEN}\n",
        "{run:#?}"
    );
    let env = read(&repo, "deploy/.env");
    assert_eq!(env, format!("REPLICATE_API_TOKEN={secret}\n"));
    assert!(
        !repo.path().join(".env").exists(),
        "compose reads the .env beside it"
    );
}

#[test]
fn github_actions_reads_a_repository_secret() {
    let secret = replicate_token(187);
    let workflow = format!(
        "on: push\njobs:\n  predict:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python predict.py\n        env:\n          REPLICATE_API_TOKEN: \"{secret}\"\n"
    );
    let path = ".github/workflows/predict.yml";
    let repo = TestRepo::new();
    repo.add(path, &workflow);
    let preview = repo.tokenguard(&["fix"]);
    assert!(
        preview.stdout.contains("gh secret set REPLICATE_API_TOKEN"),
        "{preview:#?}"
    );
    let repo = fix_and_commit(&[(path, workflow)], &secret);
    let script = "import yaml\nd = yaml.safe_load(open('.github/workflows/predict.yml'))\nprint(d['jobs']['predict']['steps'][0]['env']['REPLICATE_API_TOKEN'])\n";
    let run = run_with_token(&repo, &secret, "python3", &["-c", script]);
    assert_eq!(
        run.stdout, "${{ secrets.REPLICATE_API_TOKEN }}\n",
        "{run:#?}"
    );
}

#[test]
fn other_configs_are_a_manual_step_that_keeps_the_value() {
    let secret = token("hf_[alnum:34]", 188);
    let repo = TestRepo::new();
    repo.add(
        "config/settings.json",
        format!("{{\"hf_token\": \"{secret}\"}}\n"),
    );
    let run = repo.tokenguard(&["fix", "--apply"]);
    run.assert_code(1);
    assert_no_secret(&run, &secret);
    assert!(run.stdout.contains("Left to you:"), "{run:#?}");
    assert!(run.stdout.contains("config/settings.json:1"), "{run:#?}");
    assert!(
        read(&repo, "config/settings.json").contains(&secret),
        "not edited"
    );
    assert!(
        read(&repo, ".env").contains(&format!("HF_TOKEN={secret}")),
        "{run:#?}"
    );
}
