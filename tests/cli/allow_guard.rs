//! The allowlist guard judges the allow regexes of a config file together, against fresh
//! random tokens and the lines real leaks sit in: a shape split over several regexes, a
//! character class fitted to fixed samples, or a line regex over `X_TOKEN = "..."` is refused
//! with a position, globally and in `[[allow.rule]]`, before any scan runs.

use tokenguard::detect::examples::sample_for;
use tokenguard::detect::rules::RuleSet;

use crate::fixture::{TestRepo, replicate_token};

const REPLICATE: &str = "replicate-api-token";

/// `[allow]` (or the replicate rule's own list) with these secret regexes.
fn config(regexes: &[String], target: &str, per_rule: bool) -> String {
    let list: Vec<String> = regexes
        .iter()
        .map(|r| format!("  {{ regex = '{r}', target = \"{target}\" }},\n"))
        .collect();
    let header = match per_rule {
        true => format!("[[allow.rule]]\nid = \"{REPLICATE}\"\n"),
        false => "[allow]\n".to_string(),
    };
    format!("{header}regexes = [\n{}]\n", list.concat())
}

#[track_caller]
fn assert_refused(repo: &TestRepo, text: &str) {
    repo.write(".tokenguard.toml", text);
    let run = repo.tokenguard(&["scan-staged"]);
    assert_eq!(run.code, Some(2), "accepted:\n{text}\n{run:#?}");
    assert!(
        run.stderr.contains(".tokenguard.toml:") && run.stderr.contains("too broad"),
        "{run:#?}"
    );
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
    // The commit is blocked too: the hook fails closed.
    let commit = repo.commit(&[]);
    assert_ne!(commit.code, Some(0), "{commit:#?}");
    assert_eq!(repo.head(), None);
}

fn repo_with_a_token() -> TestRepo {
    let repo = TestRepo::new();
    repo.add("app.py", format!("key = \"{}\"\n", replicate_token(2930)));
    repo
}

#[test]
fn a_class_fitted_to_fixed_samples_is_refused() {
    let repo = repo_with_a_token();
    // What probing the old guard found: it drew 4 tokens from fixed seeds, so a class that
    // leaves out their first characters hid about 94% of real tokens and passed.
    let set = RuleSet::builtin().unwrap();
    let rule = set.get(REPLICATE).unwrap();
    let probed: String = [101, 202, 303, 404]
        .iter()
        .map(|&seed| sample_for(&set, rule, seed).unwrap().token.as_bytes()[3] as char)
        .collect();
    let class = vec![format!("^r8_[^{probed}]")];
    assert_refused(&repo, &config(&class, "secret", false));
    assert_refused(&repo, &config(&class, "secret", true));
}

#[test]
fn a_first_character_split_over_several_regexes_is_refused() {
    let repo = repo_with_a_token();
    let five: Vec<String> = ["A-L", "M-Z", "a-l", "m-z", "0-9"]
        .iter()
        .map(|part| format!("^r8_[{part}]"))
        .collect();
    assert_refused(&repo, &config(&five, "secret", false));
    assert_refused(&repo, &config(&five, "secret", true));
    // One regex per character: each alone hides under 2% of the tokens, together all.
    let alphabet = ('A'..='Z').chain('a'..='z').chain('0'..='9');
    let each: Vec<String> = alphabet.map(|c| format!("^r8_{c}")).collect();
    assert_refused(&repo, &config(&each, "secret", false));
    assert_refused(&repo, &config(&each, "secret", true));
    // Split between the global list and the rule's own: judged together too.
    let (global, own) = five.split_at(2);
    let text = format!(
        "{}{}",
        config(global, "secret", false),
        config(own, "secret", true)
    );
    assert_refused(&repo, &text);
}

#[test]
fn a_line_regex_over_assignments_of_token_variables_is_refused() {
    let repo = repo_with_a_token();
    assert_refused(
        &repo,
        &config(&["_(TOKEN|KEY) = ".to_string()], "line", false),
    );
    assert_refused(
        &repo,
        &config(&["_(TOKEN|KEY) = ".to_string()], "line", true),
    );
    // Lines without spaces, dict keys and CLI flags count too.
    for regex in [
        r#"_(TOKEN|KEY)=""#,
        r#"_(token|key)": ""#,
        "--api-key[ =]",
        "Bearer ",
    ] {
        assert_refused(&repo, &config(&[regex.to_string()], "line", false));
    }
}

#[test]
fn narrow_lists_still_pass_together() {
    let repo = repo_with_a_token();
    let secret: Vec<String> = [
        "^TEST_[A-Z]+$",
        "^sk-test-fixture-[0-9]{4}$",
        "^r8_FIXTURE",
        "(?i)^hf_example",
    ]
    .iter()
    .map(|r| r.to_string())
    .collect();
    let line: Vec<String> = [
        r"mock_client\(",
        "# test fixture, revoked",
        "FAKE_KEY_FOR_DOCS",
    ]
    .iter()
    .map(|r| r.to_string())
    .collect();
    let text = format!(
        "{}{}",
        config(&secret, "secret", false),
        config(&line, "line", true)
    );
    repo.write(".tokenguard.toml", &text);
    let run = repo.tokenguard(&["scan-staged"]);
    assert_eq!(run.code, Some(1), "{text}\n{run:#?}");
}

#[test]
fn a_brace_glob_allows_each_alternative_and_a_broad_one_is_refused() {
    let repo = TestRepo::new();
    for (i, path) in ["fixtures/a.json", "fixtures/b.ipynb", "fixtures/c.py"]
        .iter()
        .enumerate()
    {
        let line = format!("{{\"key\": \"{}\"}}\n", replicate_token(2940 + i as u64));
        repo.add(path, line);
    }
    repo.write(
        ".tokenguard.toml",
        "[allow]\npaths = [\"fixtures/*.{json,ipynb}\"]\n",
    );
    let report = repo.scan_json();
    let paths: Vec<String> = crate::fixture::findings(&report)
        .into_iter()
        .map(|f| f.1)
        .collect();
    assert_eq!(paths, ["fixtures/c.py"], "{report:#}");
    // `**/*.{py,ipynb}` is every notebook and Python file: too broad, not silently nothing.
    assert_refused(&repo, "[allow]\npaths = [\"**/*.{py,ipynb}\"]\n");
    repo.write(
        ".tokenguard.toml",
        "[allow]\npaths = [\"fixtures/*.{json\"]\n",
    );
    let run = repo.tokenguard(&["scan-staged"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr.contains(".tokenguard.toml:2:") && run.stderr.contains("unclosed '{'"),
        "{run:#?}"
    );
}

#[test]
fn an_inline_allow_naming_an_unknown_rule_allows_nothing() {
    let repo = TestRepo::new();
    let token = replicate_token(2945);
    repo.add(
        "app.py",
        format!("key = \"{token}\"  # tokenguard:allow hf-token\n"),
    );
    let run = repo.commit(&[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("replicate-api-token"), "{run:#?}");
    assert!(
        run.stderr
            .contains("`tokenguard:allow hf-token` names no rule, so it allows nothing")
            && run.stderr.contains("the closest rule id is `")
            && run
                .stderr
                .contains("the secret on line 1 is a `replicate-api-token`"),
        "{run:#?}"
    );
    let json = repo.tokenguard(&["scan-staged", "--format", "json"]).json();
    assert_eq!(json["warnings"][0]["kind"], "unknown-rule-id", "{json:#}");
    // The right id, or a reason, still allows it.
    for comment in [
        "tokenguard:allow replicate-api-token",
        "tokenguard:allow test fixture",
    ] {
        repo.add("app.py", format!("key = \"{token}\"  # {comment}\n"));
        repo.tokenguard(&["scan-staged"]).assert_code(0);
    }
}

/// The guard's passes are kept in the user's cache (a repository cannot bring its own), and
/// only passes: a narrow list is judged once per version of it, a broad one every time.
#[test]
fn passes_are_remembered_in_the_user_cache_and_refusals_never_are() {
    let repo = repo_with_a_token();
    let cache = repo.root().join("home/.cache/tokenguard/allow-guard");
    let entries = || {
        std::fs::read_to_string(&cache)
            .map(|text| text.lines().count())
            .unwrap_or(0)
    };
    let narrow = config(&["mock_client\\(".to_string()], "line", false);
    repo.write(".tokenguard.toml", &narrow);
    for _ in 0..2 {
        let run = repo.tokenguard(&["scan-staged"]);
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert_eq!(entries(), 1, "one pass, kept once");
    }
    // Another list is another verdict.
    let other = config(&["fixture_client\\(".to_string()], "line", false);
    repo.write(".tokenguard.toml", &other);
    assert_eq!(repo.tokenguard(&["scan-staged"]).code, Some(1));
    assert_eq!(entries(), 2);
    // A broad list is refused, and refused again: nothing of it is kept.
    let broad = config(&["^r8_".to_string()], "secret", false);
    assert_refused(&repo, &broad);
    assert_refused(&repo, &broad);
    assert_eq!(entries(), 2);
    // A cache that cannot be written costs time, never the verdict.
    std::fs::remove_file(&cache).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    repo.write(".tokenguard.toml", &narrow);
    assert_eq!(repo.tokenguard(&["scan-staged"]).code, Some(1));
    assert_refused(&repo, &broad);
}
