//! Configuration layers, allowlists, the ignore file, directives and sensitive files, each
//! through a real repository.

use crate::fixture::{ACME_PROVIDER, TestRepo, findings, replicate_token, token};

fn acme_rule() -> String {
    format!(
        r#"{ACME_PROVIDER}
[[rules]]
id = "acme-api-key"
provider = "acme"
description = "ACME key"
severity = "critical"
confidence = "high"
keywords = ["acme_live_"]
regex = '''(?-u:\b)(acme_live_[A-Za-z0-9]{{32}})(?-u:\b)'''
filters = {{ entropy = 3.5 }}
[rules.examples]
shape = "acme_live_[alnum:32]"
"#
    )
}

fn scan(repo: &TestRepo, extra: &[&str]) -> crate::fixture::Run {
    let mut args = extra.to_vec();
    args.extend(["scan-staged", "--format", "json"]);
    repo.tokenguard(&args)
}

#[test]
fn custom_rule_blocks_a_commit() {
    let repo = TestRepo::new();
    repo.write(".tokenguard.toml", acme_rule());
    repo.add(
        "svc.env",
        format!("ACME_API_KEY={}\n", token("acme_live_[alnum:32]", 1)),
    );
    let run = repo.commit(&[]);
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(run.all().contains("acme-api-key"), "{run:#?}");
    assert!(
        run.all().contains("https://console.acme.example/keys"),
        "{run:#?}"
    );
    // --no-config shows what the built-in rules alone see.
    assert!(findings(&scan(&repo, &["--no-config"]).json()).is_empty());
}

#[test]
fn disabled_rule_does_not_block_and_is_counted() {
    let repo = TestRepo::new();
    repo.write(
        ".tokenguard.toml",
        "disable = [\"replicate-api-token\", \"replicate-credential-variable\"]\n",
    );
    repo.add("a.py", format!("x = \"{}\"\n", replicate_token(2)));
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("1 finding suppressed (1 by .tokenguard.toml)"),
        "{run:#?}"
    );
    scan(&repo, &["--no-config"]).assert_code(1);
    repo.commit(&[]).assert_code(0);
}

#[test]
fn allowed_path_regex_and_value() {
    let repo = TestRepo::new();
    let in_fixture = replicate_token(3);
    let by_value = replicate_token(4);
    // A narrow regex naming one known fixture (`^hf_` alone would match every Hugging Face
    // token, which the allowlist guard refuses).
    let by_secret_regex = format!("hf_TESTFIXTURE{}", &token("hf_[alnum:34]", 5)[14..]);
    let by_line_regex = replicate_token(6);
    let not_allowed = replicate_token(7);
    repo.write(
        ".tokenguard.toml",
        format!(
            "[allow]\npaths = [\"tests/fixtures/\"]\nvalues = [\"{by_value}\"]\n\
             regexes = [\n  {{ regex = \"^hf_TESTFIXTURE\", target = \"secret\" }},\n  \
             {{ regex = \"mock_client\\\\(\", target = \"line\" }},\n]\n"
        ),
    );
    repo.add(
        "tests/fixtures/keys.env",
        format!("REPLICATE_API_TOKEN={in_fixture}\n"),
    );
    repo.add("src/a.py", format!("A = '{by_value}'\nB = '{by_secret_regex}'\nC = mock_client('{by_line_regex}')\nD = '{not_allowed}'\n"));
    let run = scan(&repo, &[]);
    run.assert_code(1);
    let report = run.json();
    assert_eq!(
        findings(&report),
        vec![("replicate-api-token".into(), "src/a.py".into(), 4, 6)]
    );
    assert_eq!(
        report["stats"]["suppressed"][".tokenguard.toml"], 4,
        "{report}"
    );
}

#[test]
fn per_rule_allow_list_applies_to_that_rule_only() {
    let repo = TestRepo::new();
    repo.write(
        ".tokenguard.toml",
        "[[allow.rule]]\nid = \"huggingface-user-token\"\npaths = [\"notebooks/\"]\n",
    );
    repo.add(
        "notebooks/demo.py",
        format!(
            "HF = '{}'\nR = '{}'\n",
            token("hf_[alnum:34]", 8),
            replicate_token(9)
        ),
    );
    let report = scan(&repo, &[]).json();
    let rules: Vec<String> = findings(&report).into_iter().map(|f| f.0).collect();
    assert_eq!(rules, vec!["replicate-api-token"]);
}

#[test]
fn layers_take_precedence_from_user_to_repository_to_command_line() {
    let repo = TestRepo::new();
    repo.write_user_config("[scan]\nmax_file_size = 100\nscan_binary = true\n");
    let effective = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["config", "--format", "json"]);
        repo.tokenguard(&all).json()
    };
    let only_user = effective(&[]);
    assert_eq!(only_user["scan"]["max_file_size"], 100);
    assert_eq!(only_user["scan"]["scan_binary"], true);

    repo.write(".tokenguard.toml", "[scan]\nmax_file_size = \"1KB\"\n");
    let with_repo = effective(&[]);
    assert_eq!(
        with_repo["scan"]["max_file_size"], 1000,
        "repository beats user"
    );
    assert_eq!(
        with_repo["scan"]["scan_binary"], true,
        "unset keys fall through"
    );
    assert_eq!(
        with_repo["sources"]["scan.max_file_size"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let other = repo.root().join("other.toml");
    std::fs::write(&other, "[scan]\nmax_file_size = 7\n").unwrap();
    let with_flag = effective(&["--config", other.to_str().unwrap()]);
    assert_eq!(
        with_flag["scan"]["max_file_size"], 7,
        "--config replaces the repository file"
    );

    let with_env = repo
        .command(crate::fixture::BIN, &repo.path())
        .args(["config", "--format", "json"])
        .env("TOKENGUARD_CONFIG", &other)
        .output()
        .unwrap();
    let with_env: serde_json::Value = serde_json::from_slice(&with_env.stdout).unwrap();
    assert_eq!(
        with_env["scan"]["max_file_size"], 7,
        "TOKENGUARD_CONFIG replaces it too"
    );

    let none = effective(&["--no-config"]);
    assert!(none["scan"]["max_file_size"].is_null());
    assert_eq!(none["layers"].as_array().unwrap().len(), 0);

    let human = repo.tokenguard(&["config"]);
    human.assert_code(0);
    assert!(
        human
            .stdout
            .contains("scan.max_file_size = 1000 bytes  (.tokenguard.toml)"),
        "{human:#?}"
    );
}

#[test]
fn every_config_error_exits_2_with_file_line_and_column() {
    let cases: [(&str, &str, &str); 10] = [
        ("bogus = 1\n", ":1:1:", "unknown field"),
        (
            "[scan]\nmax_file_size = true\n",
            ":2:17:",
            "a size in bytes",
        ),
        ("[scan]\nscan_binary = \"yes\"\n", ":2:15:", "invalid type"),
        (
            "[allow]\nregexes = [{ regex = \"(unclosed\", target = \"line\" }]\n",
            ":2:22:",
            "invalid regex",
        ),
        (
            "[allow]\nregexes = [{ regex = \".*\", target = \"line\" }]\n",
            ":2:22:",
            "matches everything",
        ),
        (
            "[allow]\npaths = [\"**\"]\n",
            ":2:10:",
            "matches every file",
        ),
        (
            "disable = [\"no-such-rule\"]\n",
            ":1:12:",
            "unknown rule id",
        ),
        (
            "[[allow.rule]]\nid = \"nope\"\n",
            ":2:6:",
            "unknown rule id",
        ),
        (
            "[[rules]]\nid = \"x-rule\"\nprovider = \"replicate\"\ndescription = \"d\"\nseverity = \"high\"\nconfidence = \"high\"\nkeywords = [\"xr_\"]\nregex = \"(xr_[a-z]{10}\"\n",
            ":2:6:",
            "regex does not compile",
        ),
        (
            "[scan]\nmax_file_size = \"ten parsecs\"\n",
            ":2:17:",
            "bad size",
        ),
    ];
    for (text, position, message) in cases {
        let repo = TestRepo::new();
        repo.write(".tokenguard.toml", text);
        repo.add("a.txt", "a\n");
        let run = repo.tokenguard(&["scan-staged"]);
        run.assert_code(2);
        assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
        assert!(
            run.stderr.contains(&format!(".tokenguard.toml{position}")),
            "{text:?}: {run:#?}"
        );
        assert!(run.stderr.contains(message), "{text:?}: {run:#?}");
        // The hook fails closed too.
        assert_ne!(repo.commit(&[]).code, Some(0));
    }
}

#[test]
fn bad_ignore_file_line_is_an_error_with_its_position() {
    let repo = TestRepo::new();
    repo.write(
        ".tokenguardignore",
        "# reviewed\n\n  not-a-fingerprint # oops\n",
    );
    repo.add("a.txt", "a\n");
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(2);
    assert!(run.stderr.contains(".tokenguardignore:3:3:"), "{run:#?}");
}

#[test]
fn fingerprint_ignore_survives_moving_and_editing_around_the_line() {
    let repo = TestRepo::new();
    let token = replicate_token(10);
    repo.add(
        "settings.py",
        format!("DEBUG = True\nTOKEN = '{token}'\nPORT = 80\n"),
    );
    let report = scan(&repo, &[]).json();
    let fingerprint = report["findings"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let run = repo.tokenguard(&[
        "ignore",
        &fingerprint,
        "--reason",
        "revoked demo token in the tutorial",
    ]);
    run.assert_code(0);
    let ignore = std::fs::read_to_string(repo.path().join(".tokenguardignore")).unwrap();
    assert_eq!(
        ignore,
        format!("{fingerprint}  # revoked demo token in the tutorial\n")
    );
    assert!(
        !ignore.contains(&token[3..]),
        "the ignore file reveals nothing of the secret"
    );
    repo.git(&["add", ".tokenguardignore"]);
    repo.commit(&[]).assert_code(0);
    // Moved to another line, neighbours edited, a second copy in another file: still ignored.
    repo.add(
        "settings.py",
        format!("import os\n\nPORT = 8080\nDEBUG = False\n\nTOKEN = '{token}'  # moved\n"),
    );
    repo.add("other/copy.env", format!("REPLICATE_API_TOKEN={token}\n"));
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("suppressed (2 by .tokenguardignore)"),
        "{run:#?}"
    );
    repo.commit(&[]).assert_code(0);
    // Adding it twice is a no-op; a malformed fingerprint is refused.
    repo.tokenguard(&["ignore", &fingerprint, "--reason", "again"])
        .assert_code(0);
    let lines = std::fs::read_to_string(repo.path().join(".tokenguardignore")).unwrap();
    assert_eq!(lines.lines().count(), 1);
    repo.tokenguard(&["ignore", "xyz", "--reason", "r"])
        .assert_code(2);
}

#[test]
fn next_line_and_rule_specific_directives() {
    let repo = TestRepo::new();
    let hf = token("hf_[alnum:34]", 11);
    repo.add(
        "a.py",
        format!(
            "# tokenguard:allow-next-line test fixture\n\
             A = '{}'\n\
             # pragma: allowlist nextline secret\n\
             B = '{}'\n\
             C = '{}'  # tokenguard:allow huggingface-user-token: fixture\n\
             D = '{}'  # tokenguard:allow huggingface-user-token\n\
             # tokenguard:allow-next-line replicate-api-token\n\
             E = '{hf}'\n\
             F = '{}'\n",
            replicate_token(12),
            replicate_token(13),
            hf,
            replicate_token(14),
            replicate_token(15),
        ),
    );
    let report = scan(&repo, &[]).json();
    let lines: Vec<u64> = findings(&report).into_iter().map(|f| f.2).collect();
    assert_eq!(lines, vec![6, 8, 9], "{report}");
    assert_eq!(report["stats"]["suppressed"]["inline comment"], 3);
}

#[test]
fn directives_inside_notebook_json_strings() {
    let repo = TestRepo::new();
    let notebook = format!(
        "{{\"cells\": [{{\"source\": [\n\
         \"# tokenguard:allow-next-line\\n\",\n\
         \"token = \\\"{}\\\"\\n\",\n\
         \"other = \\\"{}\\\"  # pragma: allowlist secret\\n\"\n\
         ]}}]}}\n",
        replicate_token(16),
        replicate_token(17)
    );
    repo.add("demo.ipynb", notebook);
    let report = scan(&repo, &[]).json();
    assert!(findings(&report).is_empty(), "{report}");
}

#[test]
fn env_file_warns_and_the_switch_blocks() {
    let repo = TestRepo::new();
    repo.add(".env", "DEBUG=1\n");
    repo.add("deploy/.env.production", "REGION=eu\n");
    repo.add(".env.example", "REPLICATE_API_TOKEN=\n");
    repo.add("config/credentials.json", "{}\n");
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(0);
    for path in [".env", "deploy/.env.production", "config/credentials.json"] {
        assert!(
            run.stdout.contains(&format!("warning: {path}:")),
            "{path}: {run:#?}"
        );
    }
    assert!(!run.stdout.contains(".env.example:"), "{run:#?}");
    let report = scan(&repo, &[]).json();
    assert_eq!(report["warnings"].as_array().unwrap().len(), 3);
    repo.commit(&[]).assert_code(0);

    repo.write(".tokenguard.toml", "[scan]\nblock_sensitive_files = true\n");
    repo.add(".env", "DEBUG=2\n");
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(1);
    assert!(run.stdout.contains("blocked: .env:"), "{run:#?}");
    assert_ne!(repo.commit(&[]).code, Some(0));
}

#[test]
fn size_limit_skips_and_reports_and_binary_scanning_is_a_switch() {
    let repo = TestRepo::new();
    repo.write(".tokenguard.toml", "[scan]\nmax_file_size = 100\n");
    repo.add(
        "big.txt",
        format!("{}\nkey = {}\n", "x".repeat(200), replicate_token(18)),
    );
    let report = scan(&repo, &[]).json();
    assert!(findings(&report).is_empty());
    assert_eq!(report["warnings"][0]["kind"], "too-large");
    assert_eq!(report["warnings"][0]["path"], "big.txt");
    assert_eq!(report["stats"]["too_large_skipped"], 1);

    let repo = TestRepo::new();
    let mut blob = b"\x00\x01binary".to_vec();
    blob.extend_from_slice(format!("\nkey = {}\n", replicate_token(19)).as_bytes());
    repo.add("model.bin", &blob);
    scan(&repo, &[]).assert_code(0);
    repo.write(".tokenguard.toml", "[scan]\nscan_binary = true\n");
    scan(&repo, &[]).assert_code(1);
}

#[test]
fn rules_check_covers_custom_rules_from_the_config() {
    let repo = TestRepo::new();
    repo.write(".tokenguard.toml", acme_rule());
    let run = repo.tokenguard(&["rules", "check"]);
    run.assert_code(0);
    let count = tokenguard::detect::rules::RuleSet::builtin().unwrap().len() + 1;
    assert!(
        run.stdout.contains(&format!("{count} rules ok")),
        "{run:#?}"
    );
    repo.write(
        ".tokenguard.toml",
        acme_rule().replace(
            "shape = \"acme_live_[alnum:32]\"",
            "shape = \"acme_live_[alnum:31]\"",
        ),
    );
    let run = repo.tokenguard(&["rules", "check"]);
    run.assert_code(1);
    assert!(run.stdout.contains("rule acme-api-key: dotenv"), "{run:#?}");
    assert!(repo.tokenguard(&["rules"]).stdout.contains("acme-api-key"));
}

#[test]
fn the_documented_example_config_is_valid() {
    let repo = TestRepo::new();
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/tokenguard.example.toml");
    let run = repo.tokenguard(&["--config", example.to_str().unwrap(), "rules", "check"]);
    run.assert_code(0);
    let run = repo.tokenguard(&["--config", example.to_str().unwrap(), "config"]);
    run.assert_code(0);
    assert!(run.stdout.contains("acme-api-key"), "{run:#?}");
}
