//! The one redactor, writer by writer: argument errors, ignore reasons and the fix preview's
//! context lines never print a secret whole, whichever path printed it.

use crate::fix::assert_no_secret;
use crate::fixture::{TestRepo, replicate_token, token};

/// A Hugging Face token of lower-case letters only: no digits and one case, so that only the
/// rule (not the random-word shape) knows it is a secret.
fn lowercase_hf_token(seed: u64) -> String {
    let mut state = seed;
    let body: String = (0..34)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (b'a' + (state >> 33) as u8 % 26) as char
        })
        .collect();
    format!("hf_{body}")
}

#[test]
fn an_argument_error_never_echoes_a_pasted_token() {
    let repo = TestRepo::new();
    let secret = replicate_token(41);
    for args in [
        vec!["--timeout", secret.as_str(), "scan-staged"],
        vec![secret.as_str()],
        vec!["scan-staged", "--format", secret.as_str()],
    ] {
        let run = repo.tokenguard(&args);
        run.assert_code(2);
        assert_no_secret(&run, &secret);
        assert!(run.stderr.contains("error"), "{run:#?}");
        assert!(run.stderr.contains("…(40 chars)"), "{run:#?}");
    }
    // An error without a secret is clap's own, unchanged.
    let run = repo.tokenguard(&["--timeout", "soon", "scan-staged"]);
    run.assert_code(2);
    assert!(run.stderr.contains("'soon'"), "{run:#?}");
}

#[test]
fn an_ignore_reason_loses_a_token_only_a_rule_knows() {
    let repo = TestRepo::new();
    let secret = lowercase_hf_token(3);
    let fingerprint = "939328f0f6332011c07122531155054f";
    let run = repo.tokenguard(&["ignore", fingerprint, "--reason", &format!("was {secret}")]);
    run.assert_code(0);
    let written = std::fs::read_to_string(repo.path().join(".tokenguardignore")).unwrap();
    assert!(written.contains(fingerprint), "{written}");
    assert!(!written.contains(&secret[3..]), "{written}");
    assert_no_secret(&run, &secret);
}

#[test]
fn the_fix_preview_redacts_every_secret_in_its_context_lines() {
    let repo = TestRepo::new();
    // Committed before the hook: an older line the diff shows as context.
    let older = token("hf_[alnum:34]", 9);
    repo.add("app.py", format!("HF_TOKEN = \"{older}\"\n"));
    repo.commit_unchecked(&[]);
    let secret = replicate_token(12);
    repo.add(
        "app.py",
        format!("HF_TOKEN = \"{older}\"\nREPLICATE_API_TOKEN = \"{secret}\"\n"),
    );
    let preview = repo.tokenguard(&["fix"]);
    assert!(preview.stdout.contains("preview"), "{preview:#?}");
    assert!(preview.stdout.contains("HF_TOKEN = \"hf_"), "{preview:#?}");
    assert_no_secret(&preview, &secret);
    assert_no_secret(&preview, &older);
}
