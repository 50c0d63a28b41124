//! The GitHub Action (`action.yml`) and the README's GitLab CI job, run here as a runner would
//! run them, since no runner is reachable: each step of the composite action in bash with the
//! environment variables GitHub sets (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_OUTPUT,
//! GITHUB_PATH, RUNNER_OS, ...), an event payload as GitHub sends it, a checkout as
//! `actions/checkout` with `fetch-depth: 0` leaves it, and a release served from a directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::fixture::{BIN, Run, TestRepo, replicate_token};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const ZERO: &str = "0000000000000000000000000000000000000000";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A YAML file as JSON (PyYAML, which the suite installs with the pre-commit framework).
fn yaml(repo: &TestRepo, text: &str) -> serde_json::Value {
    let program = "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(sys.stdin.read())))";
    let file = repo.root().join("input.yml");
    std::fs::write(&file, text).unwrap();
    let output = repo
        .command("python3", &repo.path())
        .args(["-c", program])
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    let run = Run::from(output);
    run.assert_code(0);
    run.json()
}

/// The history the scans read: main holds an old token (committed before tokenguard), and
/// the branch `feature` adds one commit with a new token and one clean commit. `origin` has
/// both branches; the checkout is a full clone at feature's tip.
struct Setup {
    repo: TestRepo,
    checkout: PathBuf,
    main: String,
    with_token: String,
    tip: String,
    new_token: String,
}

fn setup() -> Setup {
    let repo = TestRepo::new();
    repo.with_origin("origin.git", false);
    let old_token = replicate_token(801);
    repo.add("old.env", format!("REPLICATE_API_TOKEN={old_token}\n"));
    repo.commit_unchecked(&[]);
    repo.git(&["push", "-q", "origin", "main"]);
    let main = repo.head().unwrap();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let new_token = replicate_token(802);
    repo.add("app.py", format!("TOKEN = \"{new_token}\"\n"));
    repo.commit_unchecked(&[]);
    let with_token = repo.head().unwrap();
    repo.add("README.md", "# app\n");
    repo.commit_unchecked(&[]);
    let tip = repo.head().unwrap();
    repo.git(&["push", "-q", "origin", "feature"]);
    let checkout = repo.root().join("checkout");
    let origin = repo.root().join("origin.git");
    repo.git(&[
        "clone",
        "-q",
        "--branch",
        "feature",
        origin.to_str().unwrap(),
        checkout.to_str().unwrap(),
    ]);
    Setup {
        repo,
        checkout,
        main,
        with_token,
        tip,
        new_token,
    }
}

fn target_triple() -> String {
    format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
}

/// A release of this version for the runner's platform, as the release workflow lays it out
/// (`vVERSION/tokenguard-vVERSION-TARGET.tar.gz` and `vVERSION/SHA256SUMS`), built once: the
/// debug binary is large.
fn release() -> &'static Path {
    static RELEASES: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    RELEASES.get_or_init(|| {
        let releases = Path::new(env!("CARGO_TARGET_TMPDIR")).join("action-releases");
        let _ = std::fs::remove_dir_all(&releases);
        let name = format!("tokenguard-v{VERSION}-{}", target_triple());
        let dir = releases.join(format!("v{VERSION}"));
        std::fs::create_dir_all(dir.join(&name)).unwrap();
        std::fs::copy(BIN, dir.join(&name).join("tokenguard")).unwrap();
        let script = format!(
            "tar -cf - {name} | gzip -1 > {name}.tar.gz && rm -r {name} && sha256sum {name}.tar.gz > SHA256SUMS"
        );
        let status = std::process::Command::new("sh")
            .args(["-c", &script])
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(status.success());
        releases
    })
}

/// What one run of the action did.
#[derive(Debug)]
struct ActionRun {
    /// The exit status of the step that failed, or 0.
    code: i32,
    /// The job's log: every step's stdout and stderr.
    log: String,
    /// The action's outputs, as its `outputs:` map them from the steps.
    outputs: BTreeMap<String, String>,
}

/// Replaces `${{ inputs.NAME }}` and `${{ steps.ID.outputs.NAME }}`; any other expression is
/// a test failure, so the action cannot come to depend on one this runner does not know.
fn expand(
    text: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, String>,
) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").unwrap() + start;
        let expression = rest[start + 3..end].trim();
        let value = if let Some(name) = expression.strip_prefix("inputs.") {
            inputs.get(name).cloned()
        } else {
            expression
                .strip_prefix("steps.")
                .map(|path| steps.get(path).cloned().unwrap_or_default())
        };
        out.push_str(&value.unwrap_or_else(|| panic!("unknown expression {expression:?}")));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// `NAME=value` lines (GITHUB_OUTPUT's short form) into `steps.ID.outputs.NAME` keys.
fn read_outputs(file: &Path, id: &str, steps: &mut BTreeMap<String, String>) {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    for line in text.lines() {
        let (name, value) = line.split_once('=').expect("NAME=value");
        steps.insert(format!("{id}.outputs.{name}"), value.to_string());
    }
}

/// Runs the action's steps in `checkout` for `event` with `payload`, as a runner would.
fn run_action(
    setup: &Setup,
    event: &str,
    payload: serde_json::Value,
    with: &[(&str, &str)],
) -> ActionRun {
    let repo = &setup.repo;
    let action = yaml(
        repo,
        &std::fs::read_to_string(manifest_dir().join("action.yml")).unwrap(),
    );
    assert_eq!(action["runs"]["using"], "composite");
    let mut inputs: BTreeMap<String, String> = action["inputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, spec)| (name.clone(), spec["default"].as_str().unwrap().to_string()))
        .collect();
    inputs.insert(
        "release-url".into(),
        format!("file://{}", release().display()),
    );
    for (name, value) in with {
        assert!(inputs.contains_key(*name), "no input {name}");
        inputs.insert(name.to_string(), value.to_string());
    }
    let temp = repo.root().join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    let event_file = temp.join("event.json");
    std::fs::write(&event_file, payload.to_string()).unwrap();
    let path_file = temp.join("github-path");
    std::fs::write(&path_file, "").unwrap();
    let arch = match std::env::consts::ARCH {
        "aarch64" => "ARM64",
        _ => "X64",
    };
    let mut steps = BTreeMap::new();
    let mut log = String::new();
    let mut code = 0;
    for (index, step) in action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(step["shell"], "bash", "{step}");
        assert!(
            step.get("if").is_none(),
            "a condition this runner ignores: {step}"
        );
        let output_file = temp.join(format!("output-{index}"));
        // GITHUB_PATH's lines come before the runner's PATH, which has no tokenguard.
        let added: Vec<String> = std::fs::read_to_string(&path_file)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let path = [added.join(":"), "/usr/local/bin:/usr/bin:/bin".to_string()]
            .iter()
            .filter(|p| !p.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(":");
        let script = expand(step["run"].as_str().unwrap(), &inputs, &steps);
        let mut command = repo.command("bash", &setup.checkout);
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
            .env_remove("TOKENGUARD_BIN")
            .env("PATH", path)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", event)
            .env("GITHUB_EVENT_PATH", &event_file)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_PATH", &path_file)
            .env("GITHUB_WORKSPACE", &setup.checkout)
            .env("GITHUB_ACTION_PATH", manifest_dir())
            .env("GITHUB_ACTION_REPOSITORY", "OWNER/tokenguard")
            .env("GITHUB_REPOSITORY", "acme/app")
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", arch)
            .env("RUNNER_TEMP", &temp);
        for (name, value) in step["env"].as_object().into_iter().flatten() {
            command.env(name, expand(value.as_str().unwrap(), &inputs, &steps));
        }
        let run = Run::from(command.output().unwrap());
        log.push_str(&run.stdout);
        log.push_str(&run.stderr);
        if let Some(id) = step["id"].as_str() {
            read_outputs(&output_file, id, &mut steps);
        }
        if run.code != Some(0) {
            code = run.code.unwrap_or(-1);
            break;
        }
    }
    let outputs = action["outputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, spec)| {
            let value = expand(spec["value"].as_str().unwrap(), &inputs, &steps);
            (name.clone(), value)
        })
        .collect();
    ActionRun { code, log, outputs }
}

/// The SARIF the action wrote, by its output.
fn sarif_results(setup: &Setup, run: &ActionRun) -> Vec<serde_json::Value> {
    let path = setup.checkout.join(&run.outputs["sarif-file"]);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    sarif["runs"][0]["results"].as_array().unwrap().clone()
}

/// The new token of the branch is found, once, in app.py; main's old token is not in range.
fn assert_found_the_branchs_token(setup: &Setup, run: &ActionRun) {
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.outputs["findings"], "1", "{run:#?}");
    assert!(run.log.contains("replicate-api-token"), "{run:#?}");
    assert!(run.log.contains("::error title=tokenguard::"), "{run:#?}");
    assert!(!run.log.contains(&setup.new_token), "{run:#?}");
    let results = sarif_results(setup, run);
    assert_eq!(results.len(), 1, "{results:#?}");
    let location = &results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(location, "app.py");
}

fn push_payload(ref_name: &str, before: &str, after: &str) -> serde_json::Value {
    serde_json::json!({
        "ref": ref_name,
        "before": before,
        "after": after,
        "created": before == ZERO,
        "deleted": after == ZERO,
        "forced": false,
        "repository": {"full_name": "acme/app", "default_branch": "main"},
    })
}

#[test]
fn action_push_scans_before_to_after_and_fails_on_a_finding() {
    let setup = setup();
    let payload = push_payload("refs/heads/feature", &setup.main, &setup.tip);
    let run = run_action(&setup, "push", payload, &[]);
    assert_found_the_branchs_token(&setup, &run);
    assert_eq!(
        run.outputs["range"],
        format!("{}..{}", setup.main, setup.tip)
    );
    assert!(
        run.log
            .contains(&format!("installed tokenguard {VERSION} (release)"))
    );

    // A push of the clean commit alone passes, with an empty SARIF to upload.
    let payload = push_payload("refs/heads/feature", &setup.with_token, &setup.tip);
    let run = run_action(&setup, "push", payload, &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.outputs["findings"], "0");
    assert!(sarif_results(&setup, &run).is_empty());

    // fail-on-findings: false reports without failing the job.
    let payload = push_payload("refs/heads/feature", &setup.main, &setup.tip);
    let run = run_action(&setup, "push", payload, &[("fail-on-findings", "false")]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.outputs["findings"], "1");
}

#[test]
fn action_pull_request_scans_base_to_head() {
    let setup = setup();
    let payload = serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": {"ref": "main", "sha": setup.main},
            "head": {"ref": "feature", "sha": setup.tip},
        },
    });
    let run = run_action(&setup, "pull_request", payload, &[]);
    assert_found_the_branchs_token(&setup, &run);
    assert_eq!(
        run.outputs["range"],
        format!("{}..{}", setup.main, setup.tip)
    );
}

#[test]
fn action_first_push_of_a_branch_scans_what_no_other_branch_has() {
    let setup = setup();
    let payload = push_payload("refs/heads/feature", ZERO, &setup.tip);
    let run = run_action(&setup, "push", payload, &[]);
    assert_found_the_branchs_token(&setup, &run);
    assert!(run.outputs["range"].contains("--not"), "{run:#?}");

    // A force push whose old tip the clone does not have: the same.
    let payload = push_payload(
        "refs/heads/feature",
        "1111111111111111111111111111111111111111",
        &setup.tip,
    );
    let run = run_action(&setup, "push", payload, &[]);
    assert_found_the_branchs_token(&setup, &run);
    assert!(run.log.contains("a force push?"), "{run:#?}");

    // The first push of a new repository's only branch: its whole history, old token too.
    setup.repo.git_in(
        &setup.checkout,
        &["update-ref", "-d", "refs/remotes/origin/main"],
    );
    let payload = push_payload("refs/heads/feature", ZERO, &setup.tip);
    let run = run_action(&setup, "push", payload, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.outputs["findings"], "2", "{run:#?}");
}

#[test]
fn action_deleted_branch_and_other_events() {
    let setup = setup();
    let payload = push_payload("refs/heads/feature", &setup.tip, ZERO);
    let run = run_action(&setup, "push", payload, &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.outputs["findings"], "0");
    assert_eq!(run.outputs["sarif-file"], "", "nothing to upload: {run:#?}");

    // workflow_dispatch: every file of the checked-out tree.
    let run = run_action(&setup, "workflow_dispatch", serde_json::json!({}), &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.outputs["range"], "tree HEAD");
    assert_eq!(run.outputs["findings"], "2");
}

#[test]
fn action_refuses_a_shallow_checkout_and_a_wrong_checksum() {
    let setup = setup();
    // actions/checkout's default depth of 1.
    let shallow = setup.repo.root().join("shallow");
    let origin = format!("file://{}", setup.repo.root().join("origin.git").display());
    setup.repo.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        "--branch",
        "feature",
        &origin,
        shallow.to_str().unwrap(),
    ]);
    let shallow_setup = Setup {
        checkout: shallow,
        ..setup
    };
    let payload = push_payload(
        "refs/heads/feature",
        &shallow_setup.main,
        &shallow_setup.tip,
    );
    let run = run_action(&shallow_setup, "push", payload, &[]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.log.contains("fetch-depth: 0"), "{run:#?}");

    // A pinned checksum that is not the archive's: nothing is installed, nothing scanned.
    let payload = push_payload(
        "refs/heads/feature",
        &shallow_setup.main,
        &shallow_setup.tip,
    );
    let wrong = "ab".repeat(32);
    let run = run_action(&shallow_setup, "push", payload, &[("sha256", &wrong)]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.log.contains("is not the pinned"), "{run:#?}");
    assert!(!run.log.contains("scanning"), "{run:#?}");
}

#[test]
fn action_refuses_an_archive_that_does_not_match_sha256sums() {
    let setup = setup();
    let payload = push_payload("refs/heads/feature", &setup.main, &setup.tip);
    // A mirror whose SHA256SUMS names another archive's sum.
    let archive = format!("tokenguard-v{VERSION}-{}.tar.gz", target_triple());
    let mirror = setup.repo.root().join("mirror");
    let dir = mirror.join(format!("v{VERSION}"));
    std::fs::create_dir_all(&dir).unwrap();
    let served = release().join(format!("v{VERSION}"));
    std::fs::hard_link(served.join(&archive), dir.join(&archive)).unwrap();
    std::fs::write(
        dir.join("SHA256SUMS"),
        format!("{}  {archive}\n", "0".repeat(64)),
    )
    .unwrap();
    let url = format!("file://{}", mirror.display());
    let run = run_action(&setup, "push", payload, &[("release-url", &url)]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.log.contains("does not match SHA256SUMS"), "{run:#?}");
}

/// The README's workflow uses the action's real inputs and outputs, with the history and the
/// permission the upload needs.
#[test]
fn readme_workflow_matches_the_action() {
    let repo = TestRepo::new();
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    let section = &readme[readme.find("### GitHub Actions").unwrap()..];
    let block = section
        .split("```yaml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let workflow = yaml(&repo, block);
    assert_eq!(workflow["permissions"]["security-events"], "write");
    let steps = workflow["jobs"]["tokenguard"]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["with"]["fetch-depth"], 0);
    assert!(
        steps[1]["uses"]
            .as_str()
            .unwrap()
            .ends_with("/tokenguard@v0.1.0")
    );
    assert!(
        steps[2]["uses"]
            .as_str()
            .unwrap()
            .starts_with("github/codeql-action/upload-sarif@")
    );
    assert_eq!(
        steps[2]["with"]["sarif_file"],
        "${{ steps.tokenguard.outputs.sarif-file }}"
    );
    let action = yaml(
        &repo,
        &std::fs::read_to_string(manifest_dir().join("action.yml")).unwrap(),
    );
    // Every input the README mentions in its commented `with:` exists.
    for line in block.lines().filter(|l| l.trim_start().starts_with("#   ")) {
        let name = line.trim_start()[4..].split(':').next().unwrap().trim();
        assert!(action["inputs"].get(name).is_some(), "no input {name}");
    }
    assert_eq!(action["inputs"]["version"]["default"], VERSION);
    // The release publishes the SHA256SUMS the action checks against.
    let release = std::fs::read_to_string(manifest_dir().join(".github/workflows/release.yml"));
    let release = release.unwrap();
    assert!(release.contains("sha256sum -- * >"), "{release}");
    assert!(release.contains("binary-*/* SHA256SUMS"), "{release}");
}

/// The README's GitLab CI job's script, run with the variables GitLab sets.
fn run_gitlab(setup: &Setup, variables: &[(&str, &str)]) -> Run {
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    let section = &readme[readme.find("### GitLab CI").unwrap()..];
    let block = section
        .split("```yaml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let job = yaml(&setup.repo, block);
    let script: Vec<&str> = job["tokenguard"]["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let bin_dir = setup.repo.root().join("gitlab-bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let _ = std::os::unix::fs::symlink(BIN, bin_dir.join("tokenguard"));
    let mut command = setup.repo.command("sh", &setup.checkout);
    command
        .args(["-e", "-c", &script.join("\n")])
        .env_remove("TOKENGUARD_BIN")
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display()),
        )
        .env("CI_DEFAULT_BRANCH", "main")
        .env("CI_COMMIT_SHA", &setup.tip);
    for (name, value) in variables {
        command.env(name, value);
    }
    Run::from(command.output().unwrap())
}

#[test]
fn readme_gitlab_job_scans_the_merge_request_the_push_or_a_new_branch() {
    let setup = setup();
    // GitLab's clone of a branch pipeline has only that branch.
    setup.repo.git_in(
        &setup.checkout,
        &["update-ref", "-d", "refs/remotes/origin/main"],
    );
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, String);
    let cases: [Case; 3] = [
        (
            "merge request",
            vec![("CI_MERGE_REQUEST_DIFF_BASE_SHA", setup.main.as_str())],
            format!("{}..{}", setup.main, setup.tip),
        ),
        (
            "push",
            vec![("CI_COMMIT_BEFORE_SHA", setup.main.as_str())],
            format!("{}..{}", setup.main, setup.tip),
        ),
        (
            "new branch",
            vec![("CI_COMMIT_BEFORE_SHA", ZERO)],
            format!("origin/main..{}", setup.tip),
        ),
    ];
    for (name, variables, range) in cases {
        let _ = std::fs::remove_file(setup.checkout.join("tokenguard.json"));
        let run = run_gitlab(&setup, &variables);
        assert_eq!(run.code, Some(1), "{name}: {run:#?}");
        assert!(
            run.stdout.contains(&format!("scanning {range}")),
            "{name}: {run:#?}"
        );
        let report = std::fs::read_to_string(setup.checkout.join("tokenguard.json")).unwrap();
        let report: serde_json::Value = serde_json::from_str(&report).unwrap();
        assert_eq!(
            report["findings"].as_array().unwrap().len(),
            1,
            "{name}: {report:#}"
        );
    }
}
