//! The Python wheel (pyproject.toml, maturin `bindings = "bin"`): the wheel scripts/test.sh
//! builds installs with pip, offline, into a fresh virtual environment and its `tokenguard`
//! blocks; the pre-commit framework installs the package through Python both ways a user
//! would: the `tokenguard-python` hook of `.pre-commit-hooks.yaml` (pip builds this checkout
//! with maturin) and a `repo: local` hook that installs the wheel, with no compiler on PATH.

use std::path::{Path, PathBuf};

use crate::fixture::{Run, TestRepo, replicate_token};
use crate::framework::{configure, hook_repository, project_files};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A path scripts/test.sh exports; without it the test cannot run, which is an error.
fn from_test_sh(variable: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{variable} is not set: run scripts/test.sh, which builds the wheel and fetches maturin"))
}

/// A command isolated from the user's pip configuration and from any package index.
fn offline(repo: &TestRepo, program: &Path, dir: &Path) -> std::process::Command {
    let mut cmd = repo.command(program.to_str().unwrap(), dir);
    cmd.env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", from_test_sh("TOKENGUARD_TEST_PIP_WHEELS"))
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("VIRTUAL_ENV");
    cmd
}

fn run(mut cmd: std::process::Command) -> Run {
    Run::from(cmd.output().expect("the command runs"))
}

/// The wheel's file names and its METADATA, read with Python's zipfile.
fn wheel_contents(repo: &TestRepo, wheel: &Path) -> (Vec<String>, String) {
    let program = format!(
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint('\\n'.join(z.namelist()))\nprint('---')\nprint(z.read('tokenguard_hook-{VERSION}.dist-info/METADATA').decode())"
    );
    let listing = repo
        .command("python3", &repo.path())
        .args(["-c", &program, wheel.to_str().unwrap()])
        .output()
        .map(Run::from)
        .unwrap();
    listing.assert_code(0);
    let (names, metadata) = listing.stdout.split_once("---\n").unwrap();
    (
        names.lines().map(str::to_string).collect(),
        metadata.to_string(),
    )
}

#[test]
fn wheel_installs_offline_into_a_fresh_venv_and_its_binary_blocks() {
    let repo = TestRepo::new();
    let wheel = from_test_sh("TOKENGUARD_TEST_WHEEL");
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("tokenguard_hook-{VERSION}-py3-none-")),
        "{name}"
    );
    let (names, metadata) = wheel_contents(&repo, &wheel);
    for expected in [
        format!("tokenguard_hook-{VERSION}.data/scripts/tokenguard"),
        format!("tokenguard_hook-{VERSION}.dist-info/licenses/LICENSE-MIT"),
        format!("tokenguard_hook-{VERSION}.dist-info/licenses/LICENSE-APACHE"),
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    for expected in [
        "Name: tokenguard-hook\n".to_string(),
        format!("Version: {VERSION}\n"),
        "License-Expression: MIT OR Apache-2.0\n".to_string(),
    ] {
        assert!(
            metadata.contains(&expected),
            "{expected:?} missing:\n{metadata}"
        );
    }

    let venv = repo.root().join("venv");
    let mut create = repo.command("python3", &repo.path());
    create.args(["-m", "venv", venv.to_str().unwrap()]);
    run(create).assert_code(0);
    let mut install = offline(&repo, &venv.join("bin/python"), &repo.path());
    install.args([
        "-m",
        "pip",
        "install",
        "--no-index",
        wheel.to_str().unwrap(),
    ]);
    let installed = run(install);
    installed.assert_code(0);

    let bin = venv.join("bin/tokenguard");
    let mut version = repo.command(bin.to_str().unwrap(), &repo.path());
    version.arg("--version");
    let version = run(version);
    assert_eq!(
        version.stdout.trim(),
        format!("tokenguard {VERSION}"),
        "{version:#?}"
    );

    // The installed binary blocks, on its own and as the hook (which finds it through
    // TOKENGUARD_BIN here, PATH for a user).
    let token = replicate_token(175);
    repo.add("a.env", format!("REPLICATE_API_TOKEN={token}\n"));
    let mut scan = repo.command(bin.to_str().unwrap(), &repo.path());
    scan.arg("scan-staged");
    let scan = run(scan);
    scan.assert_code(1);
    assert!(scan.stdout.contains("replicate-api-token"), "{scan:#?}");
    assert!(!scan.all().contains(&token), "{scan:#?}");
    let mut commit = repo.command("git", &repo.path());
    commit
        .args(["commit", "-q", "-m", "x"])
        .env("TOKENGUARD_BIN", &bin);
    let commit = run(commit);
    assert_eq!(commit.code, Some(1), "{commit:#?}");
    assert!(commit.all().contains("commit blocked"), "{commit:#?}");
    assert_eq!(repo.head(), None);
}

/// `python3 -m pre_commit ARGS` with pip offline and `PATH` as given.
fn pre_commit(repo: &TestRepo, args: &[&str], path: &str, extra: &[(&str, PathBuf)]) -> Run {
    let mut cmd = offline(repo, Path::new("python3"), &repo.path());
    cmd.args(["-m", "pre_commit"])
        .args(args)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", repo.root().join("pre-commit-cache"));
    for (key, value) in extra {
        cmd.env(key, value);
    }
    let run = run(cmd);
    assert!(
        !run.stderr.contains("No module named pre_commit"),
        "the pre-commit framework is missing: run scripts/test.sh, which installs it"
    );
    run
}

/// The framework's own environment for the hook holds the installed binary.
fn installed_by_framework(repo: &TestRepo) -> Vec<PathBuf> {
    let cache = repo.root().join("pre-commit-cache");
    let mut found = Vec::new();
    for repo_dir in std::fs::read_dir(&cache).unwrap().flatten() {
        for env in std::fs::read_dir(repo_dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let bin = env.path().join("bin/tokenguard");
            if env.file_name().to_string_lossy().starts_with("py_env-") && bin.is_file() {
                found.push(bin);
            }
        }
    }
    found
}

#[test]
fn framework_python_hook_builds_this_checkout_with_maturin_and_blocks() {
    let repo = TestRepo::new();
    let files = project_files();
    for needed in ["pyproject.toml", "LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(
            files.iter().any(|f| f == needed),
            "{needed} is not in the checkout"
        );
    }
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let (hook_repo, rev) = hook_repository(&repo, &files);
    configure(&repo, &hook_repo, &rev, "tokenguard-python");
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(176)),
    );
    let real_home = PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
    let toolchain = [
        (
            "RUSTUP_HOME",
            std::env::var_os("RUSTUP_HOME")
                .map_or_else(|| real_home.join(".rustup"), PathBuf::from),
        ),
        (
            "CARGO_HOME",
            std::env::var_os("CARGO_HOME").map_or_else(|| real_home.join(".cargo"), PathBuf::from),
        ),
        // The dev profile, into a target directory seeded by scripts/test.sh, with tokenguard
        // itself unoptimised and without debug info: seconds of compiling where the release
        // build a user's install makes takes minutes. The build is the same otherwise.
        (
            "MATURIN_PEP517_ARGS",
            PathBuf::from(
                "--profile dev --config profile.dev.package.tokenguard.opt-level=0 --config profile.dev.package.tokenguard.debug=0",
            ),
        ),
        ("CARGO_INCREMENTAL", PathBuf::from("0")),
        (
            "CARGO_TARGET_DIR",
            from_test_sh("TOKENGUARD_TEST_PEP517_TARGET"),
        ),
    ];
    let path = std::env::var("PATH").unwrap_or_default();
    let run = pre_commit(&repo, &["run"], &path, &toolchain);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.all().contains("replicate-api-token"), "{run:#?}");
    assert_eq!(installed_by_framework(&repo).len(), 1, "{run:#?}");
    repo.git(&["rm", "-q", "--cached", "a.env"]);
    let run = pre_commit(&repo, &["run"], &path, &toolchain);
    assert_eq!(run.code, Some(0), "{run:#?}");
}

/// `PATH` without the directories that hold a Rust toolchain (rustup's, cargo's) or a
/// `tokenguard`; system directories stay, git and Python live there.
fn path_without_compiler() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|dir| {
            dir.join("git").exists()
                || ["cargo", "rustc", "tokenguard"]
                    .iter()
                    .all(|tool| !dir.join(tool).exists())
        })
        .map(|dir| dir.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn framework_local_python_hook_installs_the_wheel_without_a_compiler() {
    let repo = TestRepo::new();
    let wheel = from_test_sh("TOKENGUARD_TEST_WHEEL");
    // The wheel is found where pip looks for packages (PyPI for a user).
    let index = repo.root().join("index");
    std::fs::create_dir(&index).unwrap();
    std::fs::copy(&wheel, index.join(wheel.file_name().unwrap())).unwrap();
    let links = format!(
        "{} {}",
        from_test_sh("TOKENGUARD_TEST_PIP_WHEELS").display(),
        index.display()
    );
    repo.add(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: local\n    hooks:\n      - id: tokenguard\n        name: tokenguard\n        entry: tokenguard scan-staged\n        language: python\n        additional_dependencies: [\"tokenguard-hook=={VERSION}\"]\n        pass_filenames: false\n"
        ),
    );
    repo.add(
        "a.env",
        format!("REPLICATE_API_TOKEN={}\n", replicate_token(177)),
    );
    let path = path_without_compiler();
    // pip may only install tokenguard-hook from a wheel: building it would need a compiler.
    let extra = [
        ("PIP_FIND_LINKS", PathBuf::from(links)),
        ("PIP_ONLY_BINARY", PathBuf::from("tokenguard-hook")),
    ];
    let run = pre_commit(&repo, &["run"], &path, &extra);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.all().contains("replicate-api-token"), "{run:#?}");
    assert_eq!(installed_by_framework(&repo).len(), 1, "{run:#?}");
    repo.git(&["rm", "-q", "--cached", "a.env"]);
    let run = pre_commit(&repo, &["run"], &path, &extra);
    assert_eq!(run.code, Some(0), "{run:#?}");
}

/// A YAML file as JSON, read by PyYAML (a dependency of the pre-commit framework).
fn yaml(repo: &TestRepo, path: &Path) -> serde_json::Value {
    let program =
        "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(open(sys.argv[1])), default=str))";
    let run = repo
        .command("python3", &repo.path())
        .args(["-c", program, path.to_str().unwrap()])
        .output()
        .map(Run::from)
        .unwrap();
    run.assert_code(0);
    run.json()
}

#[test]
fn release_workflow_builds_every_platform_publishes_on_a_tag_and_attaches_binaries() {
    let repo = TestRepo::new();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workflow = yaml(&repo, &manifest.join(".github/workflows/release.yml"));
    // YAML 1.1 reads the key `on` as true.
    assert_eq!(workflow["true"]["push"]["tags"][0], "v*", "{workflow:#}");
    let jobs = &workflow["jobs"];
    let matrix = jobs["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap();
    let targets: Vec<&str> = matrix
        .iter()
        .map(|entry| entry["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            "x86_64-unknown-linux-gnu",
            "aarch64-unknown-linux-gnu",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc",
        ]
    );
    for entry in matrix {
        let linux = entry["target"].as_str().unwrap().contains("linux");
        assert_eq!(entry["manylinux"] == "auto", linux, "{entry}");
    }
    let steps = |job: &str| jobs[job]["steps"].as_array().unwrap().clone();
    let maturin = |job: &str| {
        steps(job)
            .into_iter()
            .find(|s| s["uses"] == "PyO3/maturin-action@v1")
            .unwrap_or_else(|| panic!("{job} does not build with maturin-action"))
    };
    let args = maturin("build")["with"]["args"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        args.contains("--release") && args.contains("--locked"),
        "{args}"
    );
    assert_eq!(maturin("sdist")["with"]["command"], "sdist");
    let packaging = steps("build")
        .iter()
        .filter_map(|s| s["run"].as_str().map(str::to_string))
        .collect::<String>();
    assert!(
        packaging.contains("target/${{ matrix.target }}/release/tokenguard"),
        "{packaging}"
    );

    let release = &jobs["release"];
    assert_eq!(release["needs"], serde_json::json!(["build", "sdist"]));
    assert!(
        release["if"].as_str().unwrap().contains("refs/tags/"),
        "{release}"
    );
    let runs = steps("release")
        .iter()
        .filter_map(|s| s["run"].as_str().map(str::to_string))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(runs.contains("uv publish 'wheels-*/*'"), "{runs}");
    assert!(
        runs.contains("gh release create") && runs.contains("binary-*/*"),
        "{runs}"
    );
}
