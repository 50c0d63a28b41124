//! The key formats and context windows of issue 15, each as a user would stage it: current
//! Tavily, OpenAI, Anthropic formats, legacy Replicate and Together keys, and context keywords
//! counted in lines (with API hosts as keywords).

use crate::fixture::{TestRepo, findings, token};

/// A hex token of `len` digits with at least four digits and letters (as real ones have).
fn hex(len: usize, seed: u64) -> String {
    let shape = format!("[hex:{len}]");
    let parsed = tokenguard::detect::shape::Shape::parse(&shape).unwrap();
    (seed..)
        .map(|s| parsed.generate(s).token)
        .find(|t| {
            let digits = t.bytes().filter(u8::is_ascii_digit).count();
            digits >= 4 && t.len() - digits >= 4
        })
        .unwrap()
}

/// Scans `text` staged as `path` and returns the rule ids found.
fn rules_found(path: &str, text: &str) -> Vec<String> {
    let repo = TestRepo::new();
    repo.write(path, text);
    repo.git(&["add", "-A"]);
    let run = repo.tokenguard(&["scan-staged", "--format", "json"]);
    findings(&run.json())
        .into_iter()
        .map(|(rule, ..)| rule)
        .collect()
}

#[test]
fn current_and_legacy_formats_are_found_by_their_own_rule() {
    let segmented = format!(
        "tvly-dev-{}-{}",
        &token("[alnum:32]", 1)[..5],
        token("[alnum:42]", 2)
    );
    let early_project = format!(
        "sk-proj-{}T3BlbkFJ{}",
        token("[alnum:20]", 3),
        token("[alnum:20]", 4)
    );
    let cases = [
        (
            "search.py",
            format!(
                "tavily = TavilyClient(api_key=\"tvly-dev-{}\")\n",
                token("[alnum:32]", 5)
            ),
            "tavily-api-key",
        ),
        (
            "web_search.py",
            format!("TAVILY_API_KEY = \"{segmented}\"\n"),
            "tavily-api-key-segmented",
        ),
        (
            ".env",
            format!("OPENAI_API_KEY={early_project}\n"),
            "openai-project-key",
        ),
        (
            "settings.json",
            format!(
                "{{\"claudeCode\": {{\"token\": \"sk-ant-oat01-{}\"}}}}\n",
                token("[base64url:95]", 6)
            ),
            "anthropic-oauth-token",
        ),
        (
            "predict.sh",
            format!(
                "curl -s -X POST \\\n  -H \"Authorization: Token {}\" \\\n  https://api.replicate.com/v1/predictions\n",
                hex(40, 7)
            ),
            "replicate-legacy-token",
        ),
        (
            "chat.py",
            format!("import together\n\ntogether.api_key = \"{}\"\n", hex(64, 8)),
            "together-legacy-api-key",
        ),
    ];
    for (path, text, rule) in cases {
        assert_eq!(rules_found(path, &text), [rule], "{path}: {text}");
    }
}

#[test]
fn context_counts_lines_and_provider_hosts() {
    let baseten = token("[alnum:8].[alnum:32]", 9);
    let stability = format!("sk-{}", token("[alnum:48]", 10));
    let found = [
        (
            format!(
                "API_KEY = \"{baseten}\"\n\ndef predict(prompt):\n    url = \"https://model-abcd1234.api.baseten.co/production/predict\"\n"
            ),
            "baseten-api-key",
        ),
        (
            format!(
                "ENDPOINT = \"https://api.stability.ai/v2beta/stable-image/generate/core\"\n\nAPI_KEY = \"{stability}\"\n"
            ),
            "stability-api-key",
        ),
    ];
    for (text, rule) in found {
        assert_eq!(rules_found("client.py", &text), [rule], "{text}");
    }
    // Four lines away is outside the three-line window: nothing names the service.
    let far = format!("# baseten\n\n\n\nAPI_KEY = \"{baseten}\"\n");
    assert!(rules_found("client.py", &far).is_empty(), "{far}");
    // A minified line is no line of code: the name 2 KB away on it does not count.
    let minified = format!(
        "var p=\"baseten\";{}var k={{key:\"{baseten}\"}};\n",
        "x".repeat(2000)
    );
    assert!(rules_found("bundle.js", &minified).is_empty());
}
