//! The whole catalog over a generated corpus in a real repository: exact findings.

use std::collections::BTreeSet;

use tokenguard::detect::examples::{cases, sample_for};
use tokenguard::detect::rules::RuleSet;

use crate::fixture::{BIN, TestRepo, findings};

/// Line and 1-based byte column of `needle` in `text`.
fn position(text: &str, needle: &str) -> (u64, u64) {
    let offset = text.find(needle).expect("the token is in its example");
    let before = &text[..offset];
    let line = before.matches('\n').count() as u64 + 1;
    let column = (offset - before.rfind('\n').map_or(0, |i| i + 1)) as u64 + 1;
    (line, column)
}

#[test]
fn whole_catalog_over_a_generated_corpus_gives_exact_findings() {
    let set = RuleSet::builtin().unwrap();
    let repo = TestRepo::new();
    let mut expected = BTreeSet::new();
    for (r, rule) in set.iter().enumerate() {
        let sample = sample_for(&set, rule, 1000 + r as u64).unwrap();
        for (c, case) in cases(&set, rule, &sample)
            .into_iter()
            // Lines that spell a variant around the body (`tvly-{body}`) are left to the
            // self-check: here the position of the whole token is what is compared.
            .filter(|c| c.positive && c.text.contains(&sample.token))
            .enumerate()
        {
            let path = format!("corpus/{}/{c:02}-{}.txt", rule.id(), case.name);
            let text = format!("{}\n", case.text);
            let (line, column) = position(&text, &sample.token);
            repo.write(&path, &text);
            expected.insert((path, rule.id().to_string(), line, column));
        }
    }
    // Clean ML code in the same commit: nothing may fire on it.
    repo.write(
        "corpus/clean/train.py",
        "import os\nimport replicate\nfrom huggingface_hub import login\n\
         login(token=os.environ[\"HF_TOKEN\"])\n\
         client = replicate.Client(api_token=os.environ[\"REPLICATE_API_TOKEN\"])\n\
         out = client.run(\"black-forest-labs/flux-schnell\", input={\"prompt\": \"a cat\"})\n\
         sha = \"3f9c2e1d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e\"  # wandb run pinned to this commit\n",
    );
    repo.git(&["add", "-A"]);
    let run = repo.tokenguard(&["scan-staged", "--format", "json"]);
    run.assert_code(1);
    let found: BTreeSet<(String, String, u64, u64)> = findings(&run.json())
        .into_iter()
        .map(|(rule, path, line, column)| (path, rule, line, column))
        .collect();
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );
    assert!(expected.len() > 62 * 10, "{} cases", expected.len());
}

#[test]
fn rules_check_accepts_the_builtin_rules_and_names_broken_ones() {
    let repo = TestRepo::new();
    let run = repo.tokenguard(&["rules", "check"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("62 rules ok") || run.stdout.contains("rules ok"),
        "{run:#?}"
    );

    let broken = tokenguard::detect::rules::BUILTIN_RULES
        .replacen("(r8_[A-Za-z0-9]{37})", "(r8_[A-Za-z0-9]{37}", 1)
        .replacen("keywords = [\"hf_\"]", "keywords = [\"zz_\"]", 1)
        .replacen(
            "shape = \"gsk_[alnum:52]\"",
            "shape = \"gsk_[alnum:51]\"",
            1,
        );
    let path = repo.root().join("broken.toml");
    std::fs::write(&path, broken).unwrap();
    let run = repo.tokenguard(&["rules", "check", "--rules", path.to_str().unwrap()]);
    run.assert_code(1);
    assert!(
        run.stdout
            .contains("rule replicate-api-token: regex does not compile"),
        "{run:#?}"
    );

    // With the regex fixed, the example self-check names the other two rules.
    let broken = tokenguard::detect::rules::BUILTIN_RULES
        .replacen("keywords = [\"hf_\"]", "keywords = [\"zz_\"]", 1)
        .replacen(
            "shape = \"gsk_[alnum:52]\"",
            "shape = \"gsk_[alnum:51]\"",
            1,
        );
    std::fs::write(&path, broken).unwrap();
    let run = repo.tokenguard(&["rules", "check", "--rules", path.to_str().unwrap()]);
    run.assert_code(1);
    assert!(
        run.stdout.contains("rule huggingface-user-token: dotenv"),
        "{run:#?}"
    );
    assert!(run.stdout.contains("rule groq-api-key: dotenv"), "{run:#?}");

    std::fs::write(&path, "schema = [").unwrap();
    let run = repo.tokenguard(&["rules", "check", "--rules", path.to_str().unwrap()]);
    run.assert_code(2);
    assert!(run.stderr.contains("line 1"), "{run:#?}");
}

#[test]
fn rules_listing_shows_every_provider() {
    let set = RuleSet::builtin().unwrap();
    let repo = TestRepo::new();
    let run = repo.tokenguard(&["rules"]);
    run.assert_code(0);
    for provider in set.providers.values() {
        assert!(
            run.stdout.contains(&provider.name),
            "{} missing",
            provider.name
        );
    }
    let json = repo.tokenguard(&["rules", "--format", "json"]).json();
    assert_eq!(json.as_array().unwrap().len(), set.len());
    assert!(set.providers.len() > 35);
}

#[test]
fn readme_provider_table_is_current() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/provider-table.sh");
    let repo = TestRepo::new();
    let output = repo
        .command("sh", &repo.path())
        .arg(script)
        .arg("--check")
        .env("TOKENGUARD_BIN", BIN)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
