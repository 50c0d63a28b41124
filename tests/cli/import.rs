//! `tokenguard import` on realistic files of each format (a gitleaks v8 configuration with
//! allowlists and a custom rule, a `.gitleaksignore` with commit and directory fingerprints,
//! a detect-secrets 1.5 baseline with filters and audited results), and the inline spellings
//! of other scanners (`trufflehog:ignore`, `ggignore`).

use crate::fixture::{TestRepo, replicate_token};

/// A repository with a fixture token in `tests/fixtures/demo.env` (line 1) and a token in
/// `config/settings.py` (line 2), both committed before tokenguard.
fn repo_with_old_tokens() -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.add(
        "tests/fixtures/demo.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(960)),
    );
    repo.add(
        "config/settings.py",
        format!(
            "DEBUG = True\nREPLICATE_API_TOKEN = \"{}\"\n",
            replicate_token(961)
        ),
    );
    repo.add("app.py", "print('hi')\n");
    repo.commit_unchecked(&[]);
    let head = repo.head().unwrap();
    (repo, head)
}

const GITLEAKS_TOML: &str = r#"title = "acme gitleaks config"

[extend]
useDefault = true

[allowlist]
description = "global allowlist"
paths = [
  '''(^|/)vendor/''',
  '''^tests/fixtures/''',
  '''\.py$''',
  '''(^|/)go\.(mod|sum)$''',
]
regexTarget = "line"
regexes = ['''mock_client\(''', '''.''']
stopwords = ["fixture_token_value", "test"]
commits = ["0123456789abcdef0123456789abcdef01234567"]

[[allowlists]]
description = "only for one gitleaks rule"
targetRules = ["generic-api-key"]
regexes = ['''EXAMPLE''']

[[rules]]
id = "acme-internal-key"
description = "Acme internal key"
regex = '''acme_[a-z0-9]{32}'''
keywords = ["acme_"]
"#;

fn secrets_baseline() -> String {
    r#"{
  "version": "1.5.0",
  "plugins_used": [
    {"name": "Base64HighEntropyString", "limit": 4.5},
    {"name": "KeywordDetector", "keyword_exclude": ""}
  ],
  "filters_used": [
    {"path": "detect_secrets.filters.allowlist.is_line_allowlisted"},
    {"path": "detect_secrets.filters.common.is_baseline_file", "filename": ".secrets.baseline"},
    {"path": "detect_secrets.filters.heuristic.is_likely_id_string"},
    {"path": "detect_secrets.filters.regex.should_exclude_file", "pattern": ["^docs/examples/", "\\.py$"]},
    {"path": "detect_secrets.filters.regex.should_exclude_line", "pattern": ["mock_client\\("]},
    {"path": "detect_secrets.filters.regex.should_exclude_secret", "pattern": ["^fake-[a-z]+-value$"]}
  ],
  "results": {
    "config/settings.py": [
      {"type": "Secret Keyword", "filename": "config/settings.py", "hashed_secret": "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", "is_verified": false, "line_number": 2, "is_secret": false}
    ],
    "deploy/prod.env": [
      {"type": "Secret Keyword", "filename": "deploy/prod.env", "hashed_secret": "7c4a8d09ca3762af61e59520943dc26494f8941b", "is_verified": false, "line_number": 1, "is_secret": true}
    ]
  },
  "generated_at": "2026-11-30T12:00:00Z"
}
"#
    .to_string()
}

fn config(repo: &TestRepo) -> String {
    std::fs::read_to_string(repo.path().join(".tokenguard.toml")).unwrap()
}

#[test]
fn import_gitleaks_config_and_ignore_file() {
    let (repo, head) = repo_with_old_tokens();
    repo.write(".gitleaks.toml", GITLEAKS_TOML);
    repo.write(
        ".gitleaksignore",
        format!(
            "{head}:config/settings.py:generic-api-key:2\ntests/nothing.env:generic-api-key:3\n"
        ),
    );
    // Before: both old tokens block a scan of the tree.
    repo.tokenguard(&["scan-tree"]).assert_code(1);

    let dry = repo.tokenguard(&["import", "--dry-run"]);
    dry.assert_code(0);
    assert!(!repo.path().join(".tokenguard.toml").exists());
    assert!(
        dry.stdout.contains("--dry-run: nothing was written"),
        "{dry:#?}"
    );

    let run = repo.tokenguard(&["import"]);
    run.assert_code(0);
    let out = &run.stdout;
    // Taken and translated, with what they became.
    assert!(
        out.contains(r#"path "^tests/fixtures/" -> [allow] paths "/tests/fixtures/""#),
        "{out}"
    );
    assert!(out.contains(r#"[allow] paths "vendor/""#), "{out}");
    assert!(out.contains("(?i)fixture_token_value"), "{out}");
    assert!(out.contains("mock_client"), "{out}");
    // Left out, each with its reason: the guards refuse the broad ones.
    for expected in [
        r#"path "\\.py$" : allow path "*.py" is too broad"#,
        r#"regex "." : allow regex "." is too broad"#,
        r#"stopword "test" : shorter than 6 characters"#,
        "commit 0123456789abcdef0123456789abcdef01234567 : tokenguard has no commit allowlist",
        "rule acme-internal-key : a custom rule",
        "for rules generic-api-key : it names gitleaks' rule ids",
        "go\\\\.(mod|sum)$\" : not a plain path regex",
        "tests/nothing.env:generic-api-key:3 : tokenguard finds nothing",
    ] {
        assert!(out.contains(expected), "{expected:?} missing:\n{out}");
    }
    let config = config(&repo);
    assert!(config.contains("\"/tests/fixtures/\""), "{config}");
    assert!(!config.contains("*.py"), "{config}");
    let ignore = std::fs::read_to_string(repo.path().join(".tokenguardignore")).unwrap();
    assert_eq!(ignore.lines().count(), 1, "{ignore}");
    assert!(
        ignore.contains("# imported from .gitleaksignore"),
        "{ignore}"
    );

    // After: the tree passes (the fixture by path, the settings token by fingerprint), and
    // a new token still blocks.
    repo.tokenguard(&["scan-tree"]).assert_code(0);
    repo.add(
        "new.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(962)),
    );
    repo.tokenguard(&["scan-staged"]).assert_code(1);

    // Importing again adds nothing twice.
    let again = repo.tokenguard(&["import"]);
    again.assert_code(0);
    assert!(again.stdout.contains("already there"), "{again:#?}");
    let ignore_after = std::fs::read_to_string(repo.path().join(".tokenguardignore")).unwrap();
    assert_eq!(ignore_after, ignore);
}

#[test]
fn import_detect_secrets_baseline_keeps_an_existing_config_as_written() {
    let (repo, _) = repo_with_old_tokens();
    repo.write(".secrets.baseline", secrets_baseline());
    let existing = "# our team's settings\ndisable = []\n\n[scan]\nmax_file_size = \"20MB\"\n";
    repo.write(".tokenguard.toml", existing);
    let run = repo.tokenguard(&["import"]);
    run.assert_code(0);
    let out = &run.stdout;
    assert!(out.contains("read .secrets.baseline"), "{out}");
    assert!(out.contains(r#"[allow] paths "/docs/examples/""#), "{out}");
    assert!(
        out.contains(r#"{ regex = "^fake-[a-z]+-value$", target = "secret" }"#),
        "{out}"
    );
    assert!(
        out.contains(r#"should_exclude_file "\\.py$" : allow path "*.py" is too broad"#),
        "{out}"
    );
    assert!(
        out.contains("deploy/prod.env:1 : audited as a real secret"),
        "{out}"
    );
    assert!(
        out.contains("Secret Keyword at config/settings.py:2 -> .tokenguardignore"),
        "{out}"
    );
    let config = config(&repo);
    assert!(
        config.starts_with(existing),
        "the file as written, comments kept:\n{config}"
    );
    assert!(config.contains("[allow]"), "{config}");
    repo.tokenguard(&["config"]).assert_code(0);
    // The settings token is recorded; the fixture token is not (no baseline entry for it).
    let report = repo.tokenguard(&["scan-tree", "--format", "json"]).json();
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["tests/fixtures/demo.env"]);
}

#[test]
fn import_with_nothing_to_import_and_a_broken_file() {
    let repo = TestRepo::new();
    let run = repo.tokenguard(&["import"]);
    run.assert_code(0);
    assert!(run.stdout.contains("nothing to import"), "{run:#?}");
    repo.write(".secrets.baseline", "{ not json");
    let run = repo.tokenguard(&["import"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains(".secrets.baseline: not a detect-secrets baseline"),
        "{run:#?}"
    );
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
}

#[test]
fn trufflehog_and_ggshield_inline_ignores_count_like_gitleaks_allow() {
    let repo = TestRepo::new();
    repo.add(
        "a.py",
        format!(
            "A = \"{}\"  # trufflehog:ignore\nB = \"{}\"  # ggignore\n",
            replicate_token(970),
            replicate_token(971)
        ),
    );
    let run = repo.tokenguard(&["scan-staged"]);
    run.assert_code(0);
    assert!(run.stdout.contains("2 findings suppressed"), "{run:#?}");
    // Only after a comment opener, as the other directives.
    repo.add(
        "b.py",
        format!("C = \"{} trufflehog:ignore\"\n", replicate_token(972)),
    );
    repo.tokenguard(&["scan-staged"]).assert_code(1);
}
