//! TestRepo: a real git repository in a temporary directory, with the real hook installed and
//! the real `tokenguard` binary behind it, isolated from the developer's own git config.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;
use tokenguard::detect::shape::Shape;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tokenguard");

/// The hook shim shipped in `hooks/`.
pub fn hook_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/pre-commit")
}

/// Exit status and output of one process.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// stdout and stderr together, for "appears nowhere" checks.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, Some(code), "unexpected exit status: {self:#?}");
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:#?}"))
    }
}

pub struct TestRepo {
    /// Holds the repository under `repo/` and an empty HOME beside it.
    root: TempDir,
}

impl TestRepo {
    /// `git init` with an identity, the hook installed, nothing committed.
    pub fn new() -> TestRepo {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("repo")).unwrap();
        std::fs::create_dir(root.path().join("home")).unwrap();
        std::fs::write(root.path().join("home/.gitconfig"), "").unwrap();
        let repo = TestRepo { root };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.install_hook(&repo.path().join(".git/hooks"));
        repo
    }

    pub fn path(&self) -> PathBuf {
        self.root.path().join("repo")
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn install_hook(&self, hooks_dir: &Path) {
        std::fs::create_dir_all(hooks_dir).unwrap();
        std::fs::copy(hook_source(), hooks_dir.join("pre-commit")).unwrap();
    }

    /// A command with a clean, deterministic environment: no inherited GIT_* variables, no
    /// user or system git config, no colour unless asked for.
    pub fn command(&self, program: &str, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("GIT_") {
                cmd.env_remove(key);
            }
        }
        let home = self.root.path().join("home");
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("GIT_CONFIG_GLOBAL", home.join(".gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("TOKENGUARD_BIN", BIN)
            .env("NO_COLOR", "1")
            .env_remove("TOKENGUARD_CONFIG")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs git in the repository; panics when it fails.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> Run {
        let run = self.git_in(&self.path(), args);
        assert_eq!(run.code, Some(0), "git {args:?} failed: {run:#?}");
        run
    }

    /// `git init --bare` of `name` beside the repository.
    pub fn bare_beside(&self, name: &str) -> PathBuf {
        let path = self.root().join(name);
        self.git(&["init", "-q", "--bare", "-b", "main", path.to_str().unwrap()]);
        path
    }

    /// A bare remote `origin` beside the repository holding one clean commit of main; with
    /// `pre_receive`, the remote runs `tokenguard scan-push` on every push it receives.
    pub fn with_origin(&self, name: &str, pre_receive: bool) -> PathBuf {
        let remote = self.bare_beside(name);
        if pre_receive {
            let hook = remote.join("hooks/pre-receive");
            std::fs::write(&hook, format!("#!/bin/sh\nexec \"{BIN}\" scan-push\n")).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        self.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
        self.add("a.txt", "a\n");
        self.commit(&[]).assert_code(0);
        self.git(&["push", "-q", "origin", "main"]);
        remote
    }

    /// `git push -q origin ARGS`, whatever its exit status.
    pub fn push(&self, args: &[&str]) -> Run {
        let mut full = vec!["push", "-q", "origin"];
        full.extend_from_slice(args);
        self.git_in(&self.path(), &full)
    }

    /// Runs git in `dir`, whatever its exit status.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> Run {
        Run::from(
            self.command("git", dir)
                .args(args)
                .output()
                .expect("git runs"),
        )
    }

    /// Runs git with `input` on stdin (for `git add -p`).
    #[track_caller]
    pub fn git_with_input(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .command("git", &self.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("git runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let run = Run::from(child.wait_with_output().unwrap());
        assert_eq!(run.code, Some(0), "git {args:?} failed: {run:#?}");
        run
    }

    /// `git commit -m msg ARGS...`, through the installed hook; returns whatever happened.
    pub fn commit(&self, args: &[&str]) -> Run {
        let mut full = vec!["commit", "-q", "-m", "test commit"];
        full.extend_from_slice(args);
        self.git_in(&self.path(), &full)
    }

    /// Commits bypassing the hook: how a token got into history before tokenguard.
    #[track_caller]
    pub fn commit_unchecked(&self, args: &[&str]) {
        let mut full = vec!["commit", "-q", "--no-verify", "-m", "old commit"];
        full.extend_from_slice(args);
        self.git(&full);
    }

    /// `tokenguard ARGS` in the repository root.
    pub fn tokenguard(&self, args: &[&str]) -> Run {
        self.tokenguard_in(&self.path(), args)
    }

    pub fn tokenguard_in(&self, dir: &Path, args: &[&str]) -> Run {
        Run::from(
            self.command(BIN, dir)
                .args(args)
                .output()
                .expect("tokenguard runs"),
        )
    }

    pub fn scan_json(&self) -> serde_json::Value {
        self.tokenguard(&["scan-staged", "--format", "json"]).json()
    }

    pub fn write(&self, relative: &str, content: impl AsRef<[u8]>) {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, content).unwrap();
    }

    pub fn add(&self, relative: &str, content: impl AsRef<[u8]>) {
        self.write(relative, content);
        self.git(&["add", "--", relative]);
    }

    /// Writes the user-level config (`$XDG_CONFIG_HOME/tokenguard/config.toml`).
    pub fn write_user_config(&self, text: &str) {
        let dir = self.root.path().join("home/.config/tokenguard");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.toml"), text).unwrap();
    }

    pub fn head(&self) -> Option<String> {
        let run = self.git_in(&self.path(), &["rev-parse", "-q", "--verify", "HEAD"]);
        (run.code == Some(0)).then(|| run.stdout.trim().to_string())
    }
}

/// A token of `shape` drawn until it has the digits and mix of a real one (`seed` makes it
/// reproducible). Built at run time: this repository holds no literal token.
pub fn token(shape: &str, seed: u64) -> String {
    let shape = Shape::parse(shape).unwrap();
    (seed..)
        .map(|s| shape.generate(s).token)
        .find(|t| {
            let digits = t.bytes().filter(u8::is_ascii_digit).count();
            let upper = t.bytes().filter(u8::is_ascii_uppercase).count();
            let lower = t.bytes().filter(u8::is_ascii_lowercase).count();
            digits >= 3 && upper >= 2 && lower >= 2
        })
        .unwrap()
}

pub fn replicate_token(seed: u64) -> String {
    token("r8_[alnum:37]", seed)
}

pub fn baseten_key(seed: u64) -> String {
    token("[alnum:8].[alnum:32]", seed)
}

/// The findings of a JSON report as (rule, path, line, column).
pub fn findings(report: &serde_json::Value) -> Vec<(String, String, u64, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A custom provider for custom-rule tests.
pub const ACME_PROVIDER: &str = r#"
[providers.acme]
name = "ACME Inference"
docs = "https://docs.acme.example/keys"
revoke_url = "https://console.acme.example/keys"
host = "api.acme.example"
env_vars = ["ACME_API_KEY"]
steps = ["Revoke the key at https://console.acme.example/keys."]
"#;
