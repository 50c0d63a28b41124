//! Suppression that cannot be turned against its user (issue 14): the example config copied
//! whole, allowlists judged by what they match, nothing secret in what config, ignore and
//! errors print, inline directives on logical lines in comments only, whole-body placeholders,
//! and `tokenguard baseline` for adopting the hook on an existing repository.

use tokenguard::detect::examples;
use tokenguard::detect::rules::RuleSet;

use crate::fixture::{TestRepo, findings, replicate_token, token};

/// One example line per built-in rule, with a token drawn at run time: `(rule id, text)`.
fn one_case_per_rule(seed: u64) -> Vec<(String, String)> {
    let set = RuleSet::builtin().unwrap();
    set.iter()
        .filter_map(|rule| {
            let sample = examples::sample_for(&set, rule, seed).ok()?;
            let case = examples::cases(&set, rule, &sample)
                .into_iter()
                .find(|c| c.positive)?;
            Some((rule.id().to_string(), case.text))
        })
        .collect()
}

#[test]
fn the_example_config_copied_whole_still_blocks_every_rule_in_code_and_docs() {
    let repo = TestRepo::new();
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/tokenguard.example.toml"),
    )
    .unwrap();
    repo.add(".tokenguard.toml", example);
    let cases = one_case_per_rule(5);
    assert!(cases.len() >= 50, "{}", cases.len());
    for (id, text) in &cases {
        repo.add(&format!("app/{id}.py"), format!("{text}\n"));
        repo.add(&format!("docs/guide/{id}.md"), format!("{text}\n"));
    }
    let run = repo.tokenguard(&["scan-staged", "--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    let paths: std::collections::BTreeSet<String> =
        findings(&report).into_iter().map(|f| f.1).collect();
    for (id, _) in &cases {
        for path in [format!("app/{id}.py"), format!("docs/guide/{id}.md")] {
            assert!(paths.contains(&path), "{path} was not blocked: {report}");
        }
    }
    assert!(
        report["stats"]["suppressed"]
            .as_object()
            .is_none_or(|s| s.is_empty()),
        "{report}"
    );
}

#[test]
fn broad_allowlists_and_disabling_every_rule_are_errors_with_a_position() {
    let repo = TestRepo::new();
    repo.add("app.py", format!("key = \"{}\"\n", replicate_token(3)));
    let broad = [
        r#"regexes = [{ regex = ".", target = "secret" }]"#,
        r#"regexes = [{ regex = ".+", target = "secret" }]"#,
        r#"regexes = [{ regex = '\w', target = "secret" }]"#,
        r#"regexes = [{ regex = '\S', target = "secret" }]"#,
        r#"regexes = [{ regex = "[A-Za-z0-9]", target = "secret" }]"#,
        r#"regexes = [{ regex = "^hf_[A-Za-z0-9]{34}$", target = "secret" }]"#,
        r#"regexes = [{ regex = "[:=]", target = "line" }]"#,
        r#"paths = ["*.*"]"#,
        r#"paths = ["*.py"]"#,
        r#"paths = ["src/"]"#,
    ];
    for entry in broad {
        repo.write(".tokenguard.toml", format!("# broad\n[allow]\n{entry}\n"));
        let run = repo.tokenguard(&["scan-staged"]);
        run.assert_code(2);
        assert!(
            run.stderr.contains(".tokenguard.toml:3:") && run.stderr.contains("too broad"),
            "{entry}: {run:#?}"
        );
        assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
    }
    let rule_list = "[[allow.rule]]\nid = \"replicate-api-token\"\nregexes = [{ regex = \"^r8_\", target = \"secret\" }]\n";
    repo.write(".tokenguard.toml", rule_list);
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(2);
    assert!(run.stderr.contains(".tokenguard.toml:3:"), "{run:#?}");

    let ids: Vec<String> = RuleSet::builtin()
        .unwrap()
        .iter()
        .map(|r| format!("{:?}", r.id()))
        .collect();
    repo.write(
        ".tokenguard.toml",
        format!("disable = [{}]\n", ids.join(", ")),
    );
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(2);
    assert!(run.stderr.contains("disable lists every rule"), "{run:#?}");

    // Narrow, illustrative allowlists still work.
    repo.write(
        ".tokenguard.toml",
        "[allow]\npaths = [\"tests/fixtures/\", \"docs/**/*.md\"]\nregexes = [{ regex = \"^TEST_[A-Z]+$\", target = \"secret\" }, { regex = 'mock_client\\(', target = \"line\" }]\n",
    );
    repo.tokenguard(&["scan-staged"]).assert_code(1);
}

#[test]
fn config_output_keeps_case_redacts_secrets_and_shows_every_user_value() {
    let repo = TestRepo::new();
    let secret = replicate_token(21);
    let lower = secret.to_ascii_lowercase();
    repo.write_user_config("[scan]\nverify = true\ntimeout = 12\n");
    repo.write(
        ".tokenguard.toml",
        format!(
            "[allow]\nvalues = [\"{secret}\"]\nregexes = [{{ regex = \"^TEST_[A-Z]+$\", target = \"secret\" }}, {{ regex = \"(?i)^{lower}$\", target = \"secret\" }}]\n"
        ),
    );
    for format in ["human", "json"] {
        let run = repo.tokenguard(&["config", "--format", format]);
        run.assert_code(0);
        let all = run.all();
        assert!(all.contains("^TEST_[A-Z]+$"), "{all}");
        assert!(!all.to_ascii_lowercase().contains(&lower[3..]), "{all}");
    }
    let human = repo.tokenguard(&["config"]).stdout;
    assert!(human.contains("scan.verify = true"), "{human}");
    assert!(human.contains("scan.timeout = 12 s"), "{human}");
    assert!(human.contains("user"), "{human}");

    // Errors quote neither the secret nor a changed case.
    repo.write(
        ".tokenguard.toml",
        format!("[allow]\nregexes = [{{ regex = \"({secret}\", target = \"secret\" }}]\n"),
    );
    let run = repo.tokenguard(&["config"]);
    run.assert_code(2);
    assert!(!run.all().contains(&secret[3..]), "{run:#?}");
    repo.write(
        ".tokenguard.toml",
        "[scan]\nmax_file_size = \"10 MegaBytes\"\n",
    );
    let run = repo.tokenguard(&["config"]);
    run.assert_code(2);
    assert!(run.stderr.contains("\"MegaBytes\""), "{run:#?}");
}

#[test]
fn ignore_redacts_its_reason_and_accepts_either_case() {
    let repo = TestRepo::new();
    let secret = replicate_token(22);
    repo.add("app.py", format!("key = \"{secret}\"\n"));
    let report = repo.scan_json();
    let fingerprint = report["findings"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let reason = format!("revoked {secret} and {}", secret.to_ascii_lowercase());
    let run = repo.tokenguard(&[
        "ignore",
        &fingerprint.to_ascii_uppercase(),
        "--reason",
        &reason,
    ]);
    run.assert_code(0);
    let file = std::fs::read_to_string(repo.path().join(".tokenguardignore")).unwrap();
    for text in [run.all(), file.clone()] {
        assert!(
            !text
                .to_ascii_lowercase()
                .contains(&secret[3..].to_ascii_lowercase()),
            "{text}"
        );
    }
    assert!(file.starts_with(&fingerprint), "{file}");
    repo.tokenguard(&["scan-staged"]).assert_code(0);
    let again = repo.tokenguard(&["ignore", &fingerprint, "--reason", "x"]);
    assert!(again.stdout.contains("already"), "{again:#?}");
}

#[test]
fn rules_check_names_a_broken_custom_rule_in_two_lines() {
    let repo = TestRepo::new();
    repo.write(
        ".tokenguard.toml",
        "[[rules]]\nid = \"acme-key\"\nprovider = \"acme\"\ndescription = \"ACME key\"\nseverity = \"high\"\nconfidence = \"high\"\nkeywords = [\"acme_\"]\nregex = '''(acme_[a-z]{10})'''\n[rules.examples]\nshape = \"acme_[alnum:32]\"\n\n[providers.acme]\nname = \"ACME\"\ndocs = \"https://acme.example\"\nrevoke_url = \"https://acme.example/keys\"\nhost = \"api.acme.example\"\nenv_vars = [\"ACME_KEY\"]\nsteps = [\"Revoke it.\"]\n",
    );
    let run = repo.tokenguard(&["rules", "check"]);
    run.assert_code(1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.len() <= 3, "{run:#?}");
    assert!(
        lines[0].starts_with(".tokenguard.toml: custom rule acme-key: "),
        "{run:#?}"
    );
    assert!(lines[1].contains("more problems of acme-key"), "{run:#?}");
}

#[test]
fn directives_count_only_in_a_comment_on_the_secrets_logical_line() {
    let repo = TestRepo::new();
    let t = |seed| replicate_token(seed);
    let blocked = [
        format!("curl 'https://x.test/search?q=gitleaks:allow&t={}'", t(40)),
        format!(
            "url = \"https://x.test/page#tokenguard:allow\"; key = \"{}\"",
            t(41)
        ),
        format!("x = \"{}\"; note = \"tokenguard:allow\"", t(42)),
        format!("msg = \"a # pragma: allowlist secret\" + \"{}\"", t(43)),
    ];
    let allowed = [
        format!("x = \"{}\"  # tokenguard:allow", t(44)),
        format!("let x = \"{}\"; // gitleaks:allow", t(45)),
        format!("x: {} # pragma: allowlist secret", t(46)),
    ];
    let text = blocked
        .iter()
        .chain(&allowed)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    repo.add("code.txt", format!("{text}\n"));
    // A minified notebook: one physical line, one directive for the first source line only.
    let notebook = format!(
        "{{\"cells\": [{{\"cell_type\": \"code\", \"source\": [\"a = \\\"{}\\\"  # tokenguard:allow\\nb = \\\"{}\\\"\\n\"]}}]}}",
        t(47),
        t(48)
    );
    repo.add("nb.ipynb", notebook);
    let report = repo.scan_json();
    let mut lines: Vec<(String, u64)> = findings(&report).into_iter().map(|f| (f.1, f.2)).collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            ("code.txt".to_string(), 1),
            ("code.txt".to_string(), 2),
            ("code.txt".to_string(), 3),
            ("code.txt".to_string(), 4),
            ("nb.ipynb".to_string(), 1),
        ],
        "{report}"
    );
    assert_eq!(
        report["stats"]["suppressed"]["inline comment"], 4,
        "{report}"
    );
}

#[test]
fn placeholders_are_whole_bodies_never_a_word_inside_a_random_one() {
    let repo = TestRepo::new();
    let real = |word: &str, seed| {
        let body = token("[alnum:37]", seed);
        format!("r8_{}{}", word, &body[word.len()..])
    };
    let mut lines = Vec::new();
    for (i, word) in [
        "example", "sample", "dummy", "123456", "abcdef", "000000", "aaaaaa",
    ]
    .iter()
    .enumerate()
    {
        lines.push(format!("REPLICATE_API_TOKEN={}", real(word, 60 + i as u64)));
    }
    repo.add("real.env", lines.join("\n") + "\n");
    let documented = [
        format!("r8_{}", "x".repeat(37)),
        format!("r8_{}", &"0123456789".repeat(4)[..37]),
        format!("hf_{}", "A1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P6Q7"),
        "r8_YOUR_REPLICATE_API_TOKEN_HERE_0000".to_string(),
        "<your-replicate-token>".to_string(),
    ];
    let docs: Vec<String> = documented
        .iter()
        .map(|v| format!("REPLICATE_API_TOKEN={v}\nHF_TOKEN={v}"))
        .collect();
    repo.add("docs.md", docs.join("\n") + "\n");
    let report = repo.scan_json();
    let found = findings(&report);
    assert_eq!(found.len(), 7, "{report}");
    assert!(found.iter().all(|f| f.1 == "real.env"), "{report}");
}

#[test]
fn baseline_records_todays_findings_so_the_tree_passes_and_new_ones_block() {
    let repo = TestRepo::new();
    let tokens: Vec<String> = (0..3).map(|i| replicate_token(80 + i)).collect();
    repo.add(
        "tests/fixtures/a.env",
        format!("REPLICATE_API_TOKEN={}\n", tokens[0]),
    );
    repo.add(
        "notebooks/demo.py",
        format!("key = \"{}\"\nsame = \"{}\"\n", tokens[1], tokens[1]),
    );
    repo.add("docs/old.md", format!("`{}` (revoked)\n", tokens[2]));
    repo.commit_unchecked(&[]);
    repo.tokenguard(&["scan-tree"]).assert_code(1);

    let run = repo.tokenguard(&["baseline", "--reason", "fixtures and revoked demo tokens"]);
    run.assert_code(0);
    assert!(run.stdout.contains("recorded 3 finding(s)"), "{run:#?}");
    assert!(
        run.stdout.contains("r8_"),
        "redacted forms are listed: {run:#?}"
    );
    let file = std::fs::read_to_string(repo.path().join(".tokenguardignore")).unwrap();
    assert_eq!(file.lines().count(), 3, "{file}");
    assert!(file.contains("fixtures and revoked demo tokens"), "{file}");
    for secret in &tokens {
        assert!(!run.all().contains(&secret[3..]), "{run:#?}");
        assert!(!file.contains(&secret[3..]), "{file}");
    }
    repo.tokenguard(&["scan-tree"]).assert_code(0);
    let again = repo.tokenguard(&["baseline", "--reason", "again"]);
    again.assert_code(0);
    assert!(again.stdout.contains("nothing to record"), "{again:#?}");

    repo.add(".tokenguardignore", file);
    repo.add("new.py", format!("key = \"{}\"\n", replicate_token(90)));
    repo.commit(&[]).assert_code(1);
}
