//! `--verify` against a local mock of the providers' APIs: never the internet.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::fixture::{ACME_PROVIDER, BIN, Run, TestRepo, baseten_key, replicate_token};

/// What the mock answers for one token.
#[derive(Clone)]
enum Reply {
    Status(u16, &'static str),
    Sleep(Duration),
}

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    headers: HashMap<String, String>,
}

struct Mock {
    base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    connections: Arc<AtomicUsize>,
}

/// An HTTP/1.1 server on 127.0.0.1 that answers by the token in the request's credentials.
fn mock(replies: HashMap<String, Reply>) -> Mock {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let (log, count) = (requests.clone(), connections.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            let (log, replies) = (log.clone(), replies.clone());
            std::thread::spawn(move || serve(stream, &log, &replies));
        }
    });
    Mock {
        base,
        requests,
        connections,
    }
}

fn serve(mut stream: TcpStream, log: &Mutex<Vec<Recorded>>, replies: &HashMap<String, Reply>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    while !data.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&data).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers: HashMap<String, String> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    log.lock().unwrap().push(Recorded {
        method,
        path,
        headers: headers.clone(),
    });
    let credential = headers.values().cloned().collect::<Vec<_>>().join(" ");
    let reply = replies
        .iter()
        .find(|(token, _)| credential.contains(token.as_str()))
        .map(|(_, reply)| reply.clone())
        .unwrap_or(Reply::Status(500, "{}"));
    let (code, body) = match reply {
        Reply::Status(code, body) => (code, body),
        Reply::Sleep(pause) => {
            std::thread::sleep(pause);
            (200, "{}")
        }
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn scan(repo: &TestRepo, base: &str, args: &[&str]) -> Run {
    let output = repo
        .command(BIN, &repo.path())
        .arg("scan-staged")
        .args(args)
        .env("TOKENGUARD_TEST_VERIFY_BASE", base)
        .output()
        .unwrap();
    Run::from(output)
}

fn statuses(run: &Run) -> Vec<(String, String)> {
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["verification"]["status"]
                    .as_str()
                    .unwrap_or("none")
                    .to_string(),
            )
        })
        .collect()
}

const LIVE_BODY: &str = r#"{"type": "user", "username": "someone", "name": "Some One"}"#;

#[test]
fn live_invalid_rate_limited_and_malformed() {
    let tokens: Vec<String> = (0..4).map(|i| replicate_token(110 + i)).collect();
    let server = mock(HashMap::from([
        (tokens[0].clone(), Reply::Status(200, LIVE_BODY)),
        (tokens[1].clone(), Reply::Status(401, "{}")),
        (tokens[2].clone(), Reply::Status(429, "{}")),
        (tokens[3].clone(), Reply::Status(200, "not json")),
    ]));
    let repo = TestRepo::new();
    for (i, token) in tokens.iter().enumerate() {
        repo.add(
            &format!("f{i}.env"),
            format!("REPLICATE_API_TOKEN={token}\n"),
        );
    }
    // The same live token a second time: still one request for it.
    repo.add("g.env", format!("REPLICATE_API_TOKEN={}\n", tokens[0]));
    let run = scan(&repo, &server.base, &["--verify", "--format", "json"]);
    run.assert_code(1);
    let mut got = statuses(&run);
    assert_eq!(
        got[..2].iter().map(|s| s.1.as_str()).collect::<Vec<_>>(),
        ["live", "live"],
        "live first"
    );
    got.sort();
    assert_eq!(
        got,
        vec![
            ("f0.env".into(), "live".into()),
            ("f1.env".into(), "invalid".into()),
            ("f2.env".into(), "unknown".into()),
            ("f3.env".into(), "unknown".into()),
            ("g.env".into(), "live".into()),
        ]
    );
    let report = run.json();
    let reasons: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["verification"]["reason"].as_str().map(str::to_string))
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("HTTP 429")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("without the expected body")),
        "{reasons:?}"
    );

    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(
        requests.len(),
        4,
        "one request per distinct secret: {requests:?}"
    );
    for request in &requests {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("GET", "/v1/account")
        );
        assert!(request.headers["authorization"].starts_with("Bearer r8_"));
    }
    for secret in &tokens {
        assert!(
            !run.all().contains(secret.as_str()),
            "no full secret in the report"
        );
    }
}

#[test]
fn human_and_sarif_reports_carry_the_status() {
    let token = replicate_token(120);
    let server = mock(HashMap::from([(
        token.clone(),
        Reply::Status(200, LIVE_BODY),
    )]));
    let repo = TestRepo::new();
    repo.add("a.env", format!("REPLICATE_API_TOKEN={token}\n"));
    let human = scan(&repo, &server.base, &["--verify"]);
    assert!(human.stdout.contains("LIVE"), "{human:#?}");
    assert!(human.stdout.contains("revoke it now"), "{human:#?}");
    assert!(
        human
            .stdout
            .contains("https://replicate.com/account/api-tokens")
    );
    let sarif = scan(&repo, &server.base, &["--verify", "--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(
        log["runs"][0]["results"][0]["properties"]["verification"]["status"],
        "live"
    );
    for run in [&human, &sarif] {
        assert!(!run.all().contains(&token), "no full secret");
    }
}

#[test]
fn baseten_check_uses_the_api_key_scheme() {
    let key = baseten_key(121);
    let server = mock(HashMap::from([(key.clone(), Reply::Status(200, "[]"))]));
    let repo = TestRepo::new();
    repo.add("deploy.sh", format!("export BASETEN_API_KEY={key}\n"));
    let run = scan(&repo, &server.base, &["--verify", "--format", "json"]);
    assert_eq!(statuses(&run)[0].1, "live");
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests[0].path, "/v1/api_keys");
    assert_eq!(
        requests[0].headers["authorization"],
        format!("Api-Key {key}")
    );
}

#[test]
fn slow_provider_times_out_and_refused_connection_is_unknown() {
    let token = replicate_token(122);
    let server = mock(HashMap::from([(
        token.clone(),
        Reply::Sleep(Duration::from_secs(3)),
    )]));
    let repo = TestRepo::new();
    repo.add("a.env", format!("REPLICATE_API_TOKEN={token}\n"));
    let run = scan(
        &repo,
        &server.base,
        &["--verify", "--verify-timeout", "0.5", "--format", "json"],
    );
    let reason = run.json()["findings"][0]["verification"]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("timed out"), "{reason}");

    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let run = scan(&repo, &base, &["--verify", "--format", "json"]);
    let finding = &run.json()["findings"][0];
    assert_eq!(finding["verification"]["status"], "unknown");
    assert!(
        finding["verification"]["reason"]
            .as_str()
            .unwrap()
            .contains("connection"),
        "{finding}"
    );
}

#[test]
fn without_verify_no_connection_is_attempted() {
    let token = replicate_token(123);
    let server = mock(HashMap::from([(
        token.clone(),
        Reply::Status(200, LIVE_BODY),
    )]));
    let repo = TestRepo::new();
    repo.add("a.env", format!("REPLICATE_API_TOKEN={token}\n"));
    let run = scan(&repo, &server.base, &["--format", "json"]);
    run.assert_code(1);
    assert!(run.json()["findings"][0]["verification"].is_null());
    // And through the real hook.
    let _ = repo.commit(&[]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.connections.load(Ordering::SeqCst), 0);
}

#[test]
fn only_the_user_config_can_turn_verification_on() {
    let token = replicate_token(124);
    let server = mock(HashMap::from([(
        token.clone(),
        Reply::Status(200, LIVE_BODY),
    )]));
    let repo = TestRepo::new();
    repo.add("a.env", format!("REPLICATE_API_TOKEN={token}\n"));
    repo.write(".tokenguard.toml", "[scan]\nverify = true\n");
    let run = scan(&repo, &server.base, &[]);
    run.assert_code(2);
    assert!(run.stderr.contains(".tokenguard.toml:2:10:"), "{run:#?}");
    assert!(run.stderr.contains("only in the user config"), "{run:#?}");
    assert_eq!(server.connections.load(Ordering::SeqCst), 0);

    std::fs::remove_file(repo.path().join(".tokenguard.toml")).unwrap();
    repo.write_user_config("[scan]\nverify = true\n");
    let run = scan(&repo, &server.base, &["--format", "json"]);
    assert_eq!(statuses(&run)[0].1, "live");
    assert_eq!(server.requests.lock().unwrap().len(), 1);
}

fn custom_rule() -> String {
    format!(
        r#"{ACME_PROVIDER}
[[rules]]
id = "acme-key"
provider = "acme"
description = "ACME key"
severity = "high"
confidence = "high"
keywords = ["acme_"]
regex = '''(?-u:\b)(acme_[A-Za-z0-9]{{30}})(?-u:\b)'''
verify = {{ method = "GET", url = "https://api.acme.example/v1/me", headers = {{ Authorization = "Bearer {{secret}}" }}, live = [200], invalid = [401] }}
"#
    )
}

#[test]
fn a_repository_cannot_add_a_check_but_the_user_config_can() {
    let token = crate::fixture::token("acme_[alnum:30]", 125);
    let server = mock(HashMap::from([(token.clone(), Reply::Status(200, "{}"))]));
    let repo = TestRepo::new();
    repo.add("a.txt", format!("key = {token}\n"));
    repo.write(".tokenguard.toml", custom_rule());
    let run = scan(&repo, &server.base, &["--verify", "--format", "json"]);
    let finding = &run.json()["findings"][0];
    assert_eq!(finding["rule_id"], "acme-key");
    assert_eq!(finding["verification"]["status"], "unknown", "{finding}");
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        0,
        "the repository's check is ignored"
    );

    std::fs::remove_file(repo.path().join(".tokenguard.toml")).unwrap();
    repo.write_user_config(&custom_rule());
    let run = scan(&repo, &server.base, &["--verify", "--format", "json"]);
    assert_eq!(run.json()["findings"][0]["verification"]["status"], "live");
    assert_eq!(server.requests.lock().unwrap()[0].path, "/v1/me");

    let insecure = custom_rule().replace("https://api.acme.example", "http://api.acme.example");
    repo.write_user_config(&insecure);
    let run = scan(&repo, &server.base, &["--verify"]);
    run.assert_code(2);
    assert!(run.stderr.contains("https"), "{run:#?}");
}

/// 50,000 distinct tokens against a provider that answers each after 10 s: the checks run a
/// few at a time until the overall 30 s budget is spent, each cut to what is left of it, and
/// every other token is reported unknown. The time is printed, never asserted.
#[test]
fn the_overall_budget_holds_for_fifty_thousand_distinct_tokens() {
    let tokens: Vec<String> = (0..50_000u64)
        .map(|i| replicate_token(200_000 + i))
        .collect();
    let replies: HashMap<String, Reply> = tokens
        .iter()
        .map(|t| (t.clone(), Reply::Sleep(Duration::from_secs(10))))
        .collect();
    let server = mock(replies);
    let repo = TestRepo::new();
    let text: String = tokens
        .iter()
        .map(|t| format!("REPLICATE_API_TOKEN={t}\n"))
        .collect();
    repo.add("many.env", text);
    let started = std::time::Instant::now();
    let run = scan(&repo, &server.base, &["--verify", "--format", "json"]);
    eprintln!(
        "--verify with 50,000 distinct tokens: {:.1} s (budget 30 s), {} connections",
        started.elapsed().as_secs_f64(),
        server.connections.load(Ordering::SeqCst)
    );
    run.assert_code(1);
    let report = run.json();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 50_000);
    let budget = findings
        .iter()
        .filter(|f| {
            f["verification"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("budget"))
        })
        .count();
    assert!(budget > 49_000, "{budget} checks were cut by the budget");
    assert!(
        findings
            .iter()
            .all(|f| f["verification"]["status"] == "unknown"),
        "every check has a status"
    );
    // At most a few connections per concurrent slot: the budget stopped the rest.
    assert!(server.connections.load(Ordering::SeqCst) < 100);
}

#[test]
fn baseline_with_verify_refuses_to_record_a_live_token() {
    let live = replicate_token(140);
    let revoked = replicate_token(141);
    let server = mock(HashMap::from([
        (live.clone(), Reply::Status(200, LIVE_BODY)),
        (revoked.clone(), Reply::Status(401, "{}")),
    ]));
    let repo = TestRepo::new();
    repo.add("a.env", format!("REPLICATE_API_TOKEN={live}\n"));
    repo.add("b.env", format!("REPLICATE_API_TOKEN={revoked}\n"));
    repo.commit_unchecked(&[]);
    let baseline = |args: &[&str]| {
        let output = repo
            .command(BIN, &repo.path())
            .arg("baseline")
            .args(args)
            .env("TOKENGUARD_TEST_VERIFY_BASE", &server.base)
            .output()
            .unwrap();
        Run::from(output)
    };
    let run = baseline(&["--reason", "adopting", "--verify"]);
    run.assert_code(1);
    assert!(run.stdout.contains("refusing to record 1"), "{run:#?}");
    assert!(run.stdout.contains("a.env:1:21"), "{run:#?}");
    assert!(!run.all().contains(&live[3..]), "{run:#?}");
    assert!(!repo.path().join(".tokenguardignore").exists());

    // Once the live token is gone from the tree, the revoked one is recorded.
    repo.git(&["rm", "-q", "a.env"]);
    repo.commit_unchecked(&[]);
    let run = baseline(&["--reason", "revoked", "--verify"]);
    run.assert_code(0);
    assert!(run.stdout.contains("recorded 1 finding(s)"), "{run:#?}");
}
