//! Leak shapes from the held-out corpus of real leaks (issue 29), each blocked by the real
//! pre-commit hook: Slack bot and user tokens and incoming webhooks, Stripe live secret and
//! restricted keys, GitLab's routable personal access tokens, AssemblyAI's SDK settings
//! attribute and Exa's client constructor. Tokens are generated at run time.

use tokenguard::detect::shape::Shape;

use crate::fixture::{TestRepo, findings};

/// A token of `shape` (no filter on its mix: hex and digit shapes have no upper case).
fn generated(shape: &str, seed: u64) -> String {
    Shape::parse(shape).unwrap().generate(seed).token
}

#[test]
fn leak_shapes_of_the_held_out_corpus_are_blocked() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "notify.py",
            format!(
                "client = WebClient(token=\"{}\")\n",
                generated("xoxb-[digit:12]-[digit:13]-[alnum:24]", 1)
            ),
            "slack-bot-token",
        ),
        (
            "user.sh",
            format!(
                "export SLACK_USER_TOKEN={}\n",
                generated("xoxp-[digit:12]-[digit:12]-[digit:13]-[hex:32]", 2)
            ),
            "slack-user-token",
        ),
        (
            "alerts.yaml",
            format!(
                "webhook: {}\n",
                generated(
                    "https://hooks.slack.com/services/T[uppernum:10]/B[uppernum:10]/[alnum:24]",
                    3
                )
            ),
            "slack-webhook-url",
        ),
        (
            "billing.py",
            format!(
                "stripe.api_key = \"{}\"\n",
                generated("sk_live_[alnum:99]", 4)
            ),
            "stripe-live-secret-key",
        ),
        (
            "reports.js",
            format!(
                "const stripe = require('stripe')('{}');\n",
                generated("rk_live_[alnum:24]", 5)
            ),
            "stripe-live-restricted-key",
        ),
        (
            ".gitlab-ci.yml",
            format!(
                "variables:\n  GL_TOKEN: {}\n",
                generated("glpat-[base64url:38].01.[lowernum:9]", 6)
            ),
            "gitlab-pat-routable",
        ),
        (
            "transcribe.py",
            format!(
                "import assemblyai as aai\nimport os\nimport sys\nimport json\n\nfrom pathlib import Path\n\naai.settings.api_key = \"{}\"\n",
                generated("[lowernum:32]", 7)
            ),
            "assemblyai-sdk-settings",
        ),
        (
            "search.py",
            format!(
                "exa = Exa(\"{}\")\n",
                generated("[hex:8]-[hex:4]-[hex:4]-[hex:4]-[hex:12]", 8)
            ),
            "exa-api-key",
        ),
        (
            "cmd/sync/main_wandb.go",
            format!(
                "package main\n\n// Syncs runs to api.wandb.ai.\nfunc sync(req *http.Request) {{\n\treq.Header.Set(\"Content-Type\", \"application/json\")\n\treq.Header.Set(\"Authorization\", \"Bearer {}\")\n}}\n",
                generated("[hex:40]", 9)
            ),
            "wandb-bearer-key",
        ),
    ];
    let repo = TestRepo::new();
    for (path, content, _) in &cases {
        repo.add(path, content);
    }
    let report = repo.scan_json();
    let found = findings(&report);
    for (path, _, rule) in &cases {
        assert!(
            found.iter().any(|f| f.0 == *rule && f.1 == *path),
            "{rule} in {path}: {report:#}"
        );
    }
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(repo.head(), None);
    for (_, content, _) in &cases {
        let secret = content.split(['"', '\'', ' ', '=']).max_by_key(|s| s.len());
        let secret = secret.unwrap().trim();
        assert!(!run.all().contains(secret), "printed: {run:#?}");
    }
}

/// A Go client for W&B with a Bearer header and nothing else naming wandb.
fn bearer_client(key: &str) -> String {
    format!(
        "package main\n\nfunc sync(req *http.Request) {{\n\treq.Header.Set(\"Authorization\", \"Bearer {key}\")\n}}\n"
    )
}

/// Names of files and folders count as context: a Bearer key in `main_wandb.go`, a
/// Baseten-shaped `api_key` in a `baseten-*` package's pyproject.toml. The same text under a
/// name that names no provider passes, and so does a word that only starts like one.
#[test]
fn names_of_files_and_folders_count_as_context() {
    let wandb = generated("[hex:40]", 21);
    let baseten = crate::fixture::baseten_key(22);
    let pyproject = format!("[tool.client]\nname = \"client\"\napi_key = \"{baseten}\"\n");
    let repo = TestRepo::new();
    repo.add("cmd/sync/main_wandb.go", bearer_client(&wandb));
    repo.add("baseten-client/pyproject.toml", &pyproject);
    // Named only after the key, in a trailing comment.
    repo.add("train.py", format!("key = \"{wandb}\"  # WANDB_API_KEY\n"));
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(!run.all().contains(&wandb) && !run.all().contains(&baseten));
    let found = findings(&repo.scan_json());
    for (rule, path) in [
        ("wandb-bearer-key", "cmd/sync/main_wandb.go"),
        ("baseten-api-key", "baseten-client/pyproject.toml"),
        ("wandb-legacy-api-key", "train.py"),
    ] {
        assert!(
            found.iter().any(|f| f.0 == rule && f.1 == path),
            "{rule} in {path}: {found:?}"
        );
    }

    let plain = TestRepo::new();
    plain.add("cmd/sync/main.go", bearer_client(&wandb));
    plain.add("client/pyproject.toml", &pyproject);
    plain.add("examples/wandbx/pyproject.toml", &pyproject);
    let run = plain.commit(&[]);
    assert_eq!(run.code, Some(0), "{run:#?}");
}

/// What a history scan remembers of a clean blob is about its bytes alone: the same blob
/// under a name that gives context is scanned again, and found.
#[test]
fn a_blob_clean_under_one_name_is_found_under_a_name_that_gives_context() {
    let repo = TestRepo::new();
    repo.add("README.md", "# demo\n");
    repo.commit_unchecked(&[]);
    let base = repo.head().unwrap();
    let client = bearer_client(&generated("[hex:40]", 23));
    // One commit: its changes are read in order, `cmd/main.go` first.
    repo.add("cmd/main.go", &client);
    repo.add("cmd/main_wandb.go", &client);
    repo.commit_unchecked(&[]);
    let run = repo.tokenguard(&["scan-range", &format!("{base}..HEAD"), "--format", "json"]);
    run.assert_code(1);
    let found = findings(&run.json());
    assert_eq!(
        found
            .iter()
            .map(|f| (f.0.as_str(), f.1.as_str()))
            .collect::<Vec<_>>(),
        [("wandb-bearer-key", "cmd/main_wandb.go")],
        "{found:?}"
    );
}

/// A path names the provider, not the credential: in a provider's own package, an id in a
/// docstring, a pinned revision or a checksum is no key; the line must still call the value
/// one (`api_key =`), as a real key's line does.
#[test]
fn a_path_that_names_a_provider_does_not_make_every_id_its_key() {
    let uuid = generated("[hex:8]-[hex:4]-[hex:4]-[hex:4]-[hex:12]", 25);
    let sha = generated("[hex:40]", 26);
    let md5 = generated("[hex:32]", 27);
    let repo = TestRepo::new();
    repo.add(
        "pinecone/admin/invites.py",
        format!(
            "def delete(invite_id):\n    \"\"\"Example:\n\n        admin.delete(\n            invite_id=\"{uuid}\",\n        )\n    \"\"\"\n"
        ),
    );
    repo.add("wandb/pins.py", format!("revision = \"{sha}\"\n"));
    repo.add("datadog/pins.py", format!("checksum_md5 = \"{md5}\"\n"));
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(0), "{run:#?}");

    let keyed = TestRepo::new();
    keyed.add("pinecone/config.py", format!("api_key = \"{uuid}\"\n"));
    // A token with a prefix of its own needs no more than the path.
    let ionic = crate::fixture::token("ion_[alnum:42]", 29);
    keyed.add("deploy/ionic/token.txt", format!("{ionic}\n"));
    let found = findings(&keyed.scan_json());
    for (rule, path) in [
        ("pinecone-legacy-api-key", "pinecone/config.py"),
        ("ionic-token", "deploy/ionic/token.txt"),
    ] {
        assert!(
            found.iter().any(|f| f.0 == rule && f.1 == path),
            "{rule} in {path}: {found:?}"
        );
    }
}

/// A stretch of letters and digits inside base64 (an image in a test, bounded by `/` and
/// `+`) is not a prefix-less key, even next to the provider's name; the same value as a
/// word of its own is.
#[test]
fn a_stretch_inside_base64_is_no_prefixless_key() {
    let cases = [
        ("mistral", "[alnum:32]", "mistral-api-key"),
        ("cohere", "[alnum:40]", "cohere-api-key"),
        ("clarifai", "[alnum:32]", "clarifai-pat"),
        ("aliyun", "[alnum:30]", "alibaba-access-key-secret"),
    ];
    let repo = TestRepo::new();
    let keyed = TestRepo::new();
    for (seed, (word, shape, _)) in (30..).zip(cases) {
        let run = |at: u64| crate::fixture::token(shape, seed * 10 + at);
        let blob = format!("/9j/{}/{}+{}+{}/AA==", run(1), run(2), run(3), run(4));
        repo.add(
            &format!("{word}_images.py"),
            format!("# fixtures of the {word} tests\nIMAGE = \"{blob}\"\n"),
        );
        keyed.add(
            &format!("{word}_client.py"),
            format!("# {word}\nkey = \"{}\"\n", run(5)),
        );
    }
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let found = findings(&keyed.scan_json());
    for (word, _, rule) in cases {
        let path = format!("{word}_client.py");
        assert!(
            found.iter().any(|f| f.0 == rule && f.1 == path),
            "{rule} in {path}: {found:?}"
        );
    }
}

/// The bare password fallback passes documentation fillers: rotation how-tos
/// (`new` + `Root` + `Password` + digits), filler words spelt with digits for letters, and a
/// Kubernetes Secret holding base64 of a word. A random password, plain or in base64, is
/// still found.
#[test]
fn documented_password_fillers_are_no_password_literals() {
    use crate::decoding::base64;
    let fillers = [
        format!("new{}Password123", "Root"),
        format!("new{}Password123", "Replication"),
        format!("My{}Passw0rd", "Strong"),
        format!("p@ssw{}rd", 0),
        format!("p@55w{}rd", 0),
        format!("hunter{}", 2222),
    ];
    let mut text = String::new();
    for value in &fillers {
        text.push_str(&format!("rootPassword: \"{value}\"\n"));
    }
    text.push_str(&format!(
        "postgresql-password: \"{}\"\n",
        base64(b"postgres")
    ));
    // `echo postgres | base64`: the line end is encoded too.
    text.push_str(&format!("password: \"{}\"\n", base64(b"postgres\n")));
    let repo = TestRepo::new();
    repo.add("README.md", &text);
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(0), "{run:#?}");

    let random = crate::fixture::token("[alnum:10]", 28);
    let real = TestRepo::new();
    real.add("lab.yaml", format!("password: \"{random}\"\n"));
    real.add(
        "secret.yaml",
        format!("data:\n  password: \"{}\"\n", base64(random.as_bytes())),
    );
    let found = findings(&real.scan_json());
    for path in ["lab.yaml", "secret.yaml"] {
        assert!(
            (found.iter()).any(|f| f.0 == "generic-password-literal" && f.1 == path),
            "{path}: {found:?}"
        );
    }
}

/// A literal assigned to a settings attribute an SDK documents for its key is that
/// provider's credential (`sdk_args` entries written `module.attribute =`); a comparison or
/// a reference is not.
#[test]
fn sdk_settings_attributes_name_their_provider() {
    let key = crate::fixture::token("[alnum:40]", 24);
    let cases = [
        (
            "fw.py",
            "fireworks.client.api_key",
            "fireworks-credential-variable",
        ),
        ("embed.py", "voyageai.api_key", "voyage-credential-variable"),
        (
            "stt.py",
            "assemblyai.settings.api_key",
            "assemblyai-credential-variable",
        ),
        ("chat.py", "openai.api_key", "openai-credential-variable"),
        ("pods.py", "runpod.api_key", "runpod-credential-variable"),
    ];
    let repo = TestRepo::new();
    for (path, attribute, _) in cases {
        repo.add(path, format!("import sdk\n\n{attribute} = \"{key}\"\n"));
    }
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(!run.all().contains(&key), "{run:#?}");
    let found = findings(&repo.scan_json());
    for (path, _, rule) in cases {
        assert!(
            found.iter().any(|f| f.0 == rule && f.1 == path),
            "{rule} in {path}: {found:?}"
        );
    }

    let plain = TestRepo::new();
    plain.add(
        "check.py",
        format!(
            "if fireworks.client.api_key == \"{key}\":\n    pass\nvoyageai.api_key = os.environ[\"VOYAGE_KEY_2024\"]\n"
        ),
    );
    let run = plain.commit(&[]);
    assert_eq!(run.code, Some(0), "{run:#?}");
}

/// A key in a notebook cell, `NAME = \"...\"\n` inside the JSON string, whether the cell's
/// source is one string (the name right after an escaped `\n`) or a list of lines, is
/// blocked by the real hook as the same line in a .py file is.
#[test]
fn a_key_assigned_in_a_notebook_cell_is_blocked() {
    let cases = [
        (
            "HF_TOKEN",
            crate::fixture::token("[alnum:30]", 25),
            "huggingface-credential-variable",
        ),
        (
            "TOGETHER_API_KEY",
            crate::fixture::token("[alnum:27]", 26),
            "together-credential-variable",
        ),
        (
            "WANDB_API_KEY",
            generated("[hex:40]", 27),
            "wandb-legacy-api-key",
        ),
    ];
    let repo = TestRepo::new();
    for (index, (name, key, _)) in cases.iter().enumerate() {
        let source = format!("import os\n{name} = \"{key}\"\nprint(1)");
        let lines: Vec<String> = source.split_inclusive('\n').map(str::to_string).collect();
        for (form, source) in [
            ("one", serde_json::json!(source)),
            ("lines", serde_json::json!(lines)),
        ] {
            let notebook = serde_json::json!({
                "cells": [{"cell_type": "code", "execution_count": null, "id": format!("c{index}"),
                    "metadata": {}, "outputs": [], "source": source}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5
            });
            repo.add(&format!("nb/{form}_{index}.ipynb"), notebook.to_string());
        }
    }
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    let found = findings(&repo.scan_json());
    for (index, (_, key, rule)) in cases.iter().enumerate() {
        assert!(!run.all().contains(key.as_str()), "{run:#?}");
        for form in ["one", "lines"] {
            let path = format!("nb/{form}_{index}.ipynb");
            assert!(
                found.iter().any(|f| f.0 == *rule && f.1 == path),
                "{rule} in {path}: {found:?}"
            );
        }
    }
}

/// In a file long enough that a rule needing its context word near the secret searches only
/// the windows with one in reach (a changelog of commit hashes that names W&B once at the
/// top), a key next to the word is found, hashes far from it are not, and under a path that
/// names the provider every window is searched.
#[test]
fn a_context_rule_in_a_long_file_finds_the_key_next_to_its_word_only() {
    let hash = |n: u64| generated("[hex:40]", 400 + n);
    // Where the W&B rule finds something: (path, line).
    let wandb_in = |repo: &TestRepo| -> Vec<(String, u64)> {
        (findings(&repo.scan_json()).into_iter())
            .filter(|f| f.0 == "wandb-legacy-api-key")
            .map(|f| (f.1, f.2))
            .collect()
    };
    let mut text = String::from("# Changelog (runs are logged to wandb)\n\n");
    // Prose between the hashes keeps their windows apart, as in a real changelog.
    for n in 0..1000 {
        text.push_str(&format!(
            "## Release {n}\n\nFixed the retry loop of the uploader.\n- merged {}\n\n",
            hash(n)
        ));
    }
    let apart = "See the upgrade notes in the documentation for the details.\n\n";
    let near = format!("{text}{apart}WANDB_API_KEY = \"{}\"\n", hash(2000));
    let repo = TestRepo::new();
    repo.add("CHANGELOG.md", &text);
    repo.add("notes/keys.md", &near);
    assert!(text.len() > 64 << 10, "long enough to skip windows");
    assert_eq!(wandb_in(&repo), [("notes/keys.md".to_string(), 5005)]);

    // Far from the word, a line that calls the value a key is found only where the path names
    // the provider.
    let far = format!("{text}{apart}api_key = \"{}\"\n", hash(2001));
    let named = TestRepo::new();
    named.add("config/settings.md", &far);
    named.add("wandb/settings.md", &far);
    assert_eq!(wandb_in(&named), [("wandb/settings.md".to_string(), 5005)]);
}
