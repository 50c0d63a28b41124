//! Rules end to end: placeholders, references and allow comments do not block.

use crate::fixture::{TestRepo, baseten_key, findings, replicate_token};

#[test]
fn placeholders_are_not_findings() {
    let repo = TestRepo::new();
    let x37 = "x".repeat(37);
    let content = format!(
        "REPLICATE_API_TOKEN=r8_{x37}\n\
         REPLICATE_API_TOKEN=<your-token>\n\
         REPLICATE_API_TOKEN=YOUR_REPLICATE_API_TOKEN\n\
         REPLICATE_API_TOKEN=r8_{}12\n\
         BASETEN_API_KEY=abcdefgh.1234567890ABCDEFGHIJKL1234567890\n\
         BASETEN_API_KEY=xxxxxxxx.{}\n",
        "EXAMPLE".repeat(5),
        "x".repeat(32)
    );
    repo.add(".env.example", content);
    let report = repo.scan_json();
    assert!(findings(&report).is_empty(), "{report}");
    repo.commit(&[]).assert_code(0);
}

#[test]
fn each_allow_comment_suppresses_its_line() {
    for marker in [
        "# tokenguard:allow",
        "// pragma: allowlist secret",
        "<!-- gitleaks:allow -->",
    ] {
        let repo = TestRepo::new();
        repo.add(
            "fixture.txt",
            format!("key = {} {marker}\n", replicate_token(30)),
        );
        let run = repo.tokenguard(&["scan-staged"]);
        run.assert_code(0);
        assert!(
            run.stdout
                .contains("1 finding suppressed (1 by inline comment)"),
            "{run:#?}"
        );
        repo.commit(&[]).assert_code(0);
    }
}

#[test]
fn allow_comment_on_another_line_does_not_suppress() {
    let repo = TestRepo::new();
    repo.add(
        "f.txt",
        format!("# tokenguard:allow\nkey = {}\n", replicate_token(31)),
    );
    repo.tokenguard(&["scan-staged"]).assert_code(1);
}

#[test]
fn environment_references_are_not_findings() {
    let repo = TestRepo::new();
    repo.add(
        "refs.txt",
        "token = os.environ[\"REPLICATE_API_TOKEN\"]\n\
         REPLICATE_API_TOKEN=${REPLICATE_API_TOKEN}\n\
         REPLICATE_API_TOKEN=$REPLICATE_API_TOKEN\n\
         const t = process.env.REPLICATE_API_TOKEN;\n\
         key := os.Getenv(\"BASETEN_API_KEY\")\n\
         BASETEN_API_KEY: ${{ secrets.BASETEN_API_KEY }}\n\
         curl -H \"Authorization: Api-Key $BASETEN_API_KEY\" https://api.baseten.co/v1/models\n",
    );
    let report = repo.scan_json();
    assert!(findings(&report).is_empty(), "{report}");
}

#[test]
fn credential_variables_in_many_syntaxes_are_findings() {
    let repo = TestRepo::new();
    let value = crate::fixture::token("[alnum:32]", 40);
    let lines = [
        format!("REPLICATE_API_TOKEN={value}"),
        format!("basetenKey: \"{value}\""),
        format!("replicateToken := \"{value}\""),
        format!("let baseten_token = \"{value}\";"),
    ];
    for (i, line) in lines.iter().enumerate() {
        repo.add(&format!("f{i}.txt"), format!("{line}\n"));
    }
    let report = repo.scan_json();
    let rules: Vec<String> = findings(&report).into_iter().map(|f| f.0).collect();
    assert_eq!(
        rules,
        vec![
            "replicate-credential-variable",
            "baseten-credential-variable",
            "replicate-credential-variable",
            "baseten-credential-variable",
        ],
        "{report}"
    );
}

#[test]
fn baseten_context_after_the_key_counts() {
    let repo = TestRepo::new();
    repo.add(
        "cfg.py",
        format!("api_key = \"{}\"  # baseten\n", baseten_key(41)),
    );
    let report = repo.scan_json();
    assert_eq!(findings(&report)[0].0, "baseten-api-key", "{report}");
}

#[test]
fn report_variable_names_do_not_fire_the_rpt_rule() {
    let repo = TestRepo::new();
    repo.add(
        "r.py",
        "# replicate the nightly job\nreport = rpt_MonthlySalesSummary\n",
    );
    assert!(findings(&repo.scan_json()).is_empty());
}
