//! The decoding layer end to end: tokens behind string escapes, URL escapes, UTF-16 and
//! base64 are blocked through the real hook, with positions in the file as git stores it.

use crate::fixture::{TestRepo, findings, replicate_token, token};

pub fn hf_token(seed: u64) -> String {
    token("hf_[alnum:34]", seed)
}

/// Standard base64 with padding (tests build encoded tokens at run time).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let mut buf = [0u8; 3];
        buf[..group.len()].copy_from_slice(group);
        let bits = u32::from(buf[0]) << 16 | u32::from(buf[1]) << 8 | u32::from(buf[2]);
        for i in 0..=group.len() {
            out.push(ALPHABET[(bits >> (18 - 6 * i) & 63) as usize] as char);
        }
        out.extend(std::iter::repeat_n('=', 3 - group.len()));
    }
    out
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect()
}

fn utf16be(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// Findings of the staged change as (rule, path, line, column, encoding).
fn staged(repo: &TestRepo) -> Vec<(String, String, u64, u64, String)> {
    let report = repo.scan_json();
    let encodings: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["encoding"].as_str().unwrap_or("").to_string())
        .collect();
    findings(&report)
        .into_iter()
        .zip(encodings)
        .map(|((rule, path, line, column), encoding)| (rule, path, line, column, encoding))
        .collect()
}

fn one(
    rule: &str,
    path: &str,
    line: u64,
    column: u64,
    encoding: &str,
) -> Vec<(String, String, u64, u64, String)> {
    vec![(rule.into(), path.into(), line, column, encoding.into())]
}

#[test]
fn a_token_right_after_a_string_escape_is_blocked() {
    let repo = TestRepo::new();
    let r8 = replicate_token(300);
    let hf = hf_token(301);
    // nbformat allows a cell's source or an output's text as one string.
    repo.add(
        "saved.json",
        format!("{{\"text\": \"Saved token:\\n{r8}\\n\"}}\n"),
    );
    repo.add("tab.py", format!("x = \"\\t{hf}\"\n"));
    repo.add("link.md", format!("see https://x.test/?q=%0A{r8}\n"));
    let mut found = staged(&repo);
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "huggingface-user-token".into(),
                "tab.py".into(),
                1,
                8,
                String::new()
            ),
            (
                "replicate-api-token".into(),
                "link.md".into(),
                1,
                26,
                String::new()
            ),
            (
                "replicate-api-token".into(),
                "saved.json".into(),
                1,
                25,
                String::new()
            ),
        ]
    );
    let run = repo.commit(&[]);
    run.assert_code(1);
    assert!(!run.all().contains(&r8) && !run.all().contains(&hf));
    assert_eq!(repo.head(), None);
}

#[test]
fn a_url_encoded_token_is_found_and_said_so() {
    let repo = TestRepo::new();
    let r8 = replicate_token(302);
    let encoded: String = r8.bytes().map(|b| format!("%{b:02X}")).collect();
    repo.add(
        "call.sh",
        format!("curl 'https://api.test/v1?token={encoded}&x=1'\n"),
    );
    assert_eq!(
        staged(&repo),
        one("replicate-api-token", "call.sh", 1, 33, "URL-encoded")
    );
    repo.commit(&[]).assert_code(1);
}

#[test]
fn utf16_files_are_decoded_with_file_positions() {
    let repo = TestRepo::new();
    let r8 = replicate_token(303);
    let hf = hf_token(304);
    // Notepad's "Unicode" .env: UTF-16LE with a byte-order mark.
    repo.add(
        "notepad.env",
        utf16le_with_bom(&format!("# settings\r\nREPLICATE_API_TOKEN={r8}\r\n")),
    );
    // A PowerShell script in UTF-16BE without a mark.
    repo.add(
        "setup.ps1",
        utf16be(&format!(
            "Write-Host 'setting up'\n$env:HF_TOKEN = \"{hf}\"\n"
        )),
    );
    let mut found = staged(&repo);
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "huggingface-user-token".into(),
                "setup.ps1".into(),
                2,
                35,
                "UTF-16BE".into()
            ),
            (
                "replicate-api-token".into(),
                "notepad.env".into(),
                2,
                41,
                "UTF-16LE".into()
            ),
        ]
    );
    let run = repo.commit(&[]);
    run.assert_code(1);
    assert!(run.all().contains("(UTF-16LE)"), "{run:#?}");
    assert!(!run.all().contains(&r8), "{run:#?}");
}

#[test]
fn a_modified_utf16_file_reports_only_its_new_lines() {
    let repo = TestRepo::new();
    let old = replicate_token(305);
    repo.add(
        "legacy.reg",
        utf16le_with_bom(&format!(
            "Windows Registry Editor Version 5.00\r\n\"Token\"=\"{old}\"\r\n"
        )),
    );
    repo.commit_unchecked(&[]);
    let new = replicate_token(306);
    repo.add(
        "legacy.reg",
        utf16le_with_bom(&format!(
            "Windows Registry Editor Version 5.00\r\n\"Token\"=\"{old}\"\r\n\"Other\"=\"{new}\"\r\n"
        )),
    );
    assert_eq!(
        staged(&repo),
        one("replicate-api-token", "legacy.reg", 3, 19, "UTF-16LE")
    );
}

#[test]
fn base64_encoded_tokens_are_found_where_they_are_used() {
    let repo = TestRepo::new();
    let r8 = replicate_token(307);
    let hf = hf_token(308);
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: replicate\ntype: Opaque\ndata:\n  REPLICATE_API_TOKEN: {}\n",
        base64(r8.as_bytes())
    );
    repo.add("k8s/secret.yaml", secret);
    let docker = format!(
        "{{\n  \"auths\": {{\n    \"registry.test\": {{\n      \"auth\": \"{}\"\n    }}\n  }}\n}}\n",
        base64(format!("user:{hf}").as_bytes())
    );
    repo.add(".docker/config.json", docker);
    repo.add(
        "request.http",
        format!(
            "GET https://api.test/v1/models\nAuthorization: Basic {}\n",
            base64(format!("api:{r8}").as_bytes())
        ),
    );
    let mut found = staged(&repo);
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "huggingface-user-token".into(),
                ".docker/config.json".into(),
                4,
                20,
                "base64-encoded".into()
            ),
            (
                "replicate-api-token".into(),
                "k8s/secret.yaml".into(),
                7,
                24,
                "base64-encoded".into()
            ),
            (
                "replicate-api-token".into(),
                "request.http".into(),
                2,
                26,
                "base64-encoded".into()
            ),
        ]
    );
    let run = repo.commit(&[]);
    run.assert_code(1);
    assert!(run.all().contains("(base64-encoded)"), "{run:#?}");
    for secret in [&r8, &hf] {
        assert!(!run.all().contains(secret.as_str()), "{run:#?}");
    }
    // The SARIF result says it too.
    let sarif = repo
        .tokenguard(&["scan-staged", "--format", "sarif"])
        .json();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(
        result["properties"]["encoding"], "base64-encoded",
        "{sarif}"
    );
}

#[test]
fn random_base64_hashes_and_images_are_not_findings() {
    let repo = TestRepo::new();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    };
    let mut text = String::new();
    text.push_str(&format!(
        "<img src=\"data:image/png;base64,{}\">\n",
        base64(&random(20_000))
    ));
    for _ in 0..200 {
        let digest = random(32);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        text.push_str(&format!(
            "sha256: {hex}  integrity: sha256-{}\n",
            base64(&digest)
        ));
        text.push_str(&format!("key: {}\n", base64(&random(60))));
    }
    repo.add("assets.html", text);
    assert_eq!(staged(&repo), vec![]);
    repo.commit(&[]).assert_code(0);
}
