//! Pathological content: each case finishes in time roughly linear in its size and still finds
//! a real token planted at the end. Times are printed (run with --nocapture), never asserted.

use std::time::Instant;

use crate::fixture::{TestRepo, baseten_key, findings, replicate_token};

/// Scans what is staged and returns the findings' paths, printing how long it took.
fn timed_scan(repo: &TestRepo, label: &str, bytes: usize) -> Vec<String> {
    let started = Instant::now();
    let run = repo.tokenguard(&["scan-staged", "--format", "json"]);
    let elapsed = started.elapsed();
    eprintln!(
        "{label}: {:.1} MB in {:.2} s",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64()
    );
    run.assert_code(1);
    findings(&run.json()).into_iter().map(|f| f.1).collect()
}

#[test]
fn a_200_megabyte_file() {
    let repo = TestRepo::new();
    let mut content = "loss = model(batch).mean()  # step\n".repeat(200_000_000 / 35);
    content.push_str(&format!("token = '{}'\n", replicate_token(160)));
    repo.add("huge.py", &content);
    assert_eq!(
        timed_scan(&repo, "200 MB file", content.len()),
        vec!["huge.py"]
    );
}

#[test]
fn five_million_short_lines() {
    let repo = TestRepo::new();
    let mut content = "a\n".repeat(5_000_000);
    content.push_str(&format!("k={}\n", replicate_token(161)));
    repo.add("lines.txt", &content);
    let report = repo.scan_json();
    assert_eq!(findings(&report)[0].2, 5_000_001);
    assert_eq!(
        timed_scan(&repo, "5 M lines", content.len()),
        vec!["lines.txt"]
    );
}

#[test]
fn one_line_with_100000_keyword_hits() {
    let repo = TestRepo::new();
    let mut content = "r8_".repeat(100_000);
    content.push_str(&"hf_".repeat(100_000));
    content.push_str(&format!(" {}\n", replicate_token(162)));
    repo.add("hits.txt", &content);
    assert_eq!(
        timed_scan(&repo, "100k keyword hits", content.len()),
        vec!["hits.txt"]
    );
}

#[test]
fn fifty_thousand_staged_files() {
    let repo = TestRepo::new();
    for i in 0..50_000 {
        repo.write(&format!("d{}/f{i}.txt", i % 500), format!("value = {i}\n"));
    }
    repo.write(
        "d499/zz-last.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(163)),
    );
    repo.git(&["add", "-A"]);
    assert_eq!(
        timed_scan(&repo, "50k files", 50_001 * 12),
        vec!["d499/zz-last.env"]
    );
}

#[test]
fn a_100000_deep_run_of_a_context_keyword() {
    let repo = TestRepo::new();
    let mut content = "baseten ".repeat(100_000);
    content.push_str(&format!("\napi_key = {}\n", baseten_key(164)));
    repo.add("deep.txt", &content);
    assert_eq!(
        timed_scan(&repo, "100k context keywords", content.len()),
        vec!["deep.txt"]
    );
}

#[test]
fn a_config_with_500_custom_rules() {
    let repo = TestRepo::new();
    let mut config = String::from(
        "[providers.inhouse]\nname = \"In-house\"\ndocs = \"https://wiki.example/keys\"\n\
         revoke_url = \"https://keys.example\"\nhost = \"api.example\"\nenv_vars = []\nsteps = []\n",
    );
    for i in 0..500 {
        config.push_str(&format!(
            "[[rules]]\nid = \"inhouse-{i}\"\nprovider = \"inhouse\"\ndescription = \"d\"\n\
             severity = \"high\"\nconfidence = \"high\"\nkeywords = [\"ih{i}_\"]\n\
             regex = '''(?-u:\\b)(ih{i}_[A-Za-z0-9]{{30}})(?-u:\\b)'''\nfilters = {{ entropy = 3.0 }}\n"
        ));
    }
    repo.write(".tokenguard.toml", &config);
    let custom = crate::fixture::token("ih499_[alnum:30]", 165);
    repo.add(
        "a.txt",
        format!("x = 1\nkey = {custom}\nother = {}\n", replicate_token(166)),
    );
    let started = Instant::now();
    let report = repo.scan_json();
    eprintln!("500 custom rules: {:.2} s", started.elapsed().as_secs_f64());
    let rules: Vec<String> = findings(&report).into_iter().map(|f| f.0).collect();
    assert_eq!(rules, vec!["inhouse-499", "replicate-api-token"]);
}
