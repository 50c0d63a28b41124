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
