//! What is not a secret stays quiet through the real hook: a key shown cut short with an
//! ellipsis (how dashboards, logs and docs display a hidden key) and an obvious mock (a
//! prefix, a filler word and a counting run of the wrong length).

use crate::fixture::TestRepo;

#[test]
fn truncated_displays_and_counting_mocks_commit() {
    let repo = TestRepo::new();
    repo.add(
        "README.md",
        "Your key looks like `sk-ant-api03-Ab3-x...q7rzAA` in the console.\n",
    );
    repo.add(
        ".env.example",
        "ANTHROPIC_API_KEY=sk-ant-api03-Ab3-x...q7rzAA\nOPENAI_API_KEY=sk-proj-Hq2Lx9…\n",
    );
    repo.add(
        "settings.py",
        "OPENAI_API_KEY = \"sk-proj-Hq2Lx9...\"\nGITHUB_TOKEN = \"ghp_mock12345678901234567890\"\n",
    );
    repo.add(
        "config.yaml",
        "env:\n  ANTHROPIC_API_KEY: \"sk-ant-api03-Ab3-x...q7rzAA\"\n  token: ghp_mock12345678901234567890\n",
    );
    let run = repo.tokenguard(&["scan-staged", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    repo.commit(&[]).assert_code(0);
}
