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

/// A value of `shape` as drawn, whatever its mix (hex has no upper case; a word no digit).
fn shaped(shape: &str, seed: u64) -> String {
    tokenguard::detect::shape::Shape::parse(shape)
        .unwrap()
        .generate(seed)
        .token
}

/// `len` random lower-case letters: a password word without digits (built at run time).
fn word(len: usize, seed: u64) -> String {
    shaped(&format!("[lower:{len}]"), seed)
}

/// Passwords the peers' rule examples hold in real contexts (issue 33), as (path, text, rule).
fn peer_password_cases() -> Vec<(&'static str, String, &'static str)> {
    use crate::fixture::token;
    vec![
        (
            "config.php",
            format!(
                "$host = \"localhost\";\n$database = \"shop\";\n$user = \"shop\"; $password = \"{}\";\n",
                word(9, 1)
            ),
            "php-database-password",
        ),
        (
            "billing.vbs",
            format!(
                "adoConn.Open(\"Provider=SQLOLEDB.1;User ID=billing; \" & \"Password ={}_{};Initial Catalog=ledger;\")\n",
                word(7, 2),
                word(4, 3)
            ),
            "odbc-connection-password-word",
        ),
        (
            "deploy.py",
            format!(
                "hostname = '10.1.2.3'\nPASS = '`{}'\n",
                token("[alnum:11]", 4)
            ),
            "generic-password-literal",
        ),
        (
            "Ldap.cs",
            format!(
                "new DirectoryEntry(\"LDAP://EXAMPLE.COM\",\n          \"svc@EXAMPLE.COM\",\n          \"{}\");\n",
                token("[alnum:10]", 5)
            ),
            "generic-directory-entry-password",
        ),
    ]
}

/// Tokens and keys the peers' rule examples hold in real contexts, as (path, text, rule).
fn peer_token_cases() -> Vec<(&'static str, String, &'static str)> {
    use crate::fixture::token;
    let jwt = token(
        "eyJhbGciOi[base64url:26].eyJ[base64url:80].[base64url:43]",
        41,
    );
    vec![
        ("session.txt", format!("{jwt}\n"), "jwt-token"),
        (
            "oauth.yaml",
            format!(
                "oauthproviders:\n  jwtsecret: \"{}`'}}/;{}\"\n",
                token("[alnum:20]", 6),
                token("[alnum:20]", 7)
            ),
            "jwt-signing-secret",
        ),
        (
            "auth.yaml",
            format!(
                "JWT:\n  secret: \"{}#{}\"\n  exp: \"50m\"\n",
                word(11, 15),
                word(7, 16)
            ),
            "jwt-signing-secret-phrase",
        ),
        (
            "alerts.sh",
            format!(
                "curl -X POST {}\n",
                token(
                    "https://hooks.slack.com/services/T[alnum:8]/B[alnum:8]/[alnum:24]",
                    8
                )
            ),
            "slack-webhook-url",
        ),
        (
            "groove.sh",
            format!(
                "curl https://api.groovehq.com/v1/me?access_token={}\n",
                shaped("[hex:64]", 9)
            ),
            "groovehq-access-token",
        ),
        (
            "bot.yaml",
            format!("line_token: {}\n", token("[base64:171]=", 10)),
            "line-channel-access-token",
        ),
        (
            "search.md",
            format!(
                "https://kagi.com/search?token={}\n",
                token("[base64url:11].[base64url:43]", 11)
            ),
            "kagi-api-key",
        ),
        (
            "watsonx.env",
            format!("ibm_platform_key= {}\n", token("[base64url:44]", 12)),
            "ibm-cloud-api-key",
        ),
        (
            "login.js",
            format!(
                "                'clientSecret' : '{}'\n",
                token("[alnum:10]-[alnum:6]_[alnum:6]", 13)
            ),
            "generic-client-secret-literal",
        ),
        (
            "app.py",
            format!(
                "FLASK_APP_AIVEN_API_KEY = \"{}\"\n",
                token("[alnum:372]", 14)
            ),
            "aiven-named-key",
        ),
    ]
}

/// Credentials the peers' rule examples hold in real contexts (issue 33): each file is blocked
/// by its own rule. Every value is generated here.
#[test]
fn peer_credential_shapes_in_real_contexts_are_blocked() {
    let mut cases = peer_password_cases();
    cases.extend(peer_token_cases());
    let repo = TestRepo::new();
    for (path, text, _) in &cases {
        repo.add(path, text);
    }
    let found = findings(&repo.scan_json());
    for (path, _, rule) in &cases {
        assert!(
            (found.iter()).any(|f| f.0 == *rule && f.1 == *path),
            "{path}: expected {rule}, found {found:?}"
        );
    }
    assert_eq!(found.len(), cases.len(), "{found:?}");
}

/// Look-alikes of those shapes stay quiet: a PHP constant, code that joins statements with
/// `;`, a password word without a database nearby, a client secret that is an identifier, a
/// JWT without a signature, a LINE-length string after `headline`, a Kagi-shaped token without
/// Kagi.
#[test]
fn look_alikes_of_peer_credential_shapes_stay_quiet() {
    use crate::fixture::token;
    let repo = TestRepo::new();
    repo.add(
        "constant.php",
        format!(
            "$host = \"localhost\";\n$user = \"shop\"; $password = {};\n",
            word(9, 21)
        ),
    );
    repo.add(
        "session.py",
        format!("user = u; password = {}_{};\n", word(8, 22), word(5, 23)),
    );
    repo.add("form.php", format!("$password = \"{}\";\n", word(9, 24)));
    repo.add(
        "client.py",
        "client_secret = \"acreate_realtime_translation_client_secret\"\n",
    );
    repo.add(
        "unsigned.txt",
        format!(
            "{}.\n",
            token("eyJhbGciOi[base64url:26].eyJ[base64url:80]", 25)
        ),
    );
    repo.add(
        "news.yaml",
        format!("headline_token: {}\n", token("[base64:171]=", 26)),
    );
    repo.add(
        "ids.txt",
        format!("ref = {}\n", token("[base64url:11].[base64url:43]", 27)),
    );
    let report = repo.scan_json();
    assert!(findings(&report).is_empty(), "{report}");
}
