//! `tokenguard install` / `uninstall`: put the hook shim where git runs hooks, chain a hook
//! that was already there, and record what was done so that uninstall reverses exactly that.
//!
//! Paths come from the git binary (`git rev-parse --git-path hooks` honours `core.hooksPath`
//! and worktrees), as a user's own git would resolve them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::{HookKind, InstallArgs};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;

const PRE_COMMIT_SHIM: &str = include_str!("../../hooks/pre-commit");
const PRE_PUSH_SHIM: &str = include_str!("../../hooks/pre-push");
const COMMIT_MSG_SHIM: &str = include_str!("../../hooks/commit-msg");

/// The hooks `install` sets up without `--hook`: every client-side way a token enters history
/// that a hook can see. pre-commit checks the staged change, commit-msg the message, and
/// pre-push every commit about to leave the machine, which also covers commits that no
/// pre-commit hook saw (`git rebase -i`, `cherry-pick`, `revert`, `am`, `merge` without edits).
const DEFAULT_HOOKS: [HookKind; 3] = [HookKind::PreCommit, HookKind::CommitMsg, HookKind::PrePush];

fn hooks(args: &InstallArgs) -> Vec<HookKind> {
    args.hook.map_or(DEFAULT_HOOKS.to_vec(), |hook| vec![hook])
}
/// Suffix of a hook that was in place before ours; our shim runs it first.
const CHAINED_SUFFIX: &str = ".before-tokenguard";
/// Suffix of the record of what install did, beside the hook.
const MANIFEST_SUFFIX: &str = ".tokenguard-install";

fn shim(hook: HookKind) -> &'static str {
    match hook {
        HookKind::PreCommit => PRE_COMMIT_SHIM,
        HookKind::PrePush => PRE_PUSH_SHIM,
        HookKind::CommitMsg => COMMIT_MSG_SHIM,
    }
}

fn marker(hook: HookKind) -> String {
    format!("tokenguard {} hook", hook.file_name())
}

/// Runs git and returns its trimmed stdout; `None` when git exits non-zero (an unset key).
fn git(args: &[&str]) -> Result<Option<String>> {
    let output = Command::new("git")
        .args(args)
        .output()
        .map_err(|source| Error::Read {
            path: PathBuf::from("git"),
            source,
        })?;
    Ok(output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string()))
}

/// Where the hook goes, and the template directory install configured (to undo), if any.
fn hooks_dir(args: &InstallArgs, configure: bool) -> Result<(PathBuf, Option<PathBuf>)> {
    if !args.global {
        let dir = git(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"])?
            .ok_or_else(|| {
                Error::NotARepository(
                    "tokenguard install (without --global) runs inside a repository".into(),
                )
            })?;
        return Ok((PathBuf::from(dir), None));
    }
    if let Some(dir) = git(&["config", "--global", "core.hooksPath"])? {
        return Ok((expand_home(&dir), None));
    }
    if let Some(dir) = git(&["config", "--global", "init.templateDir"])? {
        return Ok((expand_home(&dir).join("hooks"), None));
    }
    let home = std::env::var_os("HOME").ok_or_else(|| Error::Usage("HOME is not set".into()))?;
    let template = PathBuf::from(home).join(".config/tokenguard/git-template");
    if configure {
        let value = template.display().to_string();
        git(&["config", "--global", "init.templateDir", &value])?
            .ok_or_else(|| Error::Usage("cannot set the global init.templateDir".into()))?;
    }
    Ok((template.join("hooks"), Some(template)))
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

pub fn install(args: &InstallArgs) -> Result<ExitStatus> {
    let (dir, template) = hooks_dir(args, true)?;
    for hook in hooks(args) {
        install_one(hook, &dir, template.as_deref())?;
    }
    Ok(ExitStatus::Clean)
}

fn install_one(kind: HookKind, dir: &Path, template: Option<&Path>) -> Result<()> {
    let dir = dir.to_path_buf();
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    std::fs::create_dir_all(&dir).map_err(|source| Error::Read {
        path: dir.clone(),
        source,
    })?;
    let hook = dir.join(kind.file_name());
    let chained = PathBuf::from(format!("{}{CHAINED_SUFFIX}", hook.display()));
    let manifest = PathBuf::from(format!("{}{MANIFEST_SUFFIX}", hook.display()));
    let mut stdout = std::io::stdout().lock();
    let mut record = String::new();
    if let Some(template) = template {
        record.push_str(&format!("set-template-dir {}\n", template.display()));
    }
    match std::fs::read_to_string(&hook) {
        Ok(existing) if existing.contains(&marker(kind)) => {
            // Ours already: refresh it, keep the earlier record of what was chained.
            if let Ok(previous) = std::fs::read_to_string(&manifest) {
                record.push_str(&previous);
            }
        }
        Ok(_) => {
            if chained.exists() {
                return Err(Error::Usage(format!(
                    "{} and {} both exist; merge them by hand",
                    hook.display(),
                    chained.display()
                )));
            }
            std::fs::rename(&hook, &chained).map_err(|source| Error::Read {
                path: hook.clone(),
                source,
            })?;
            record.push_str(&format!("chained {}\n", chained.display()));
            writeln!(
                stdout,
                "kept the existing hook as {}; tokenguard runs it first and its failure blocks",
                chained.display()
            )?;
        }
        Err(_) => {}
    }
    write(&hook, shim(kind))?;
    set_executable(&hook)?;
    record.push_str(&format!("installed {}\n", hook.display()));
    let mut lines: Vec<&str> = record.lines().collect();
    lines.dedup();
    write(&manifest, &(lines.join("\n") + "\n"))?;
    writeln!(
        stdout,
        "installed the {} hook at {}",
        kind.file_name(),
        hook.display()
    )?;
    Ok(())
}

pub fn uninstall(args: &InstallArgs) -> Result<ExitStatus> {
    let (dir, _) = hooks_dir(args, false)?;
    for hook in hooks(args) {
        uninstall_one(hook, &dir)?;
    }
    Ok(ExitStatus::Clean)
}

fn uninstall_one(kind: HookKind, dir: &Path) -> Result<()> {
    let hook = dir.join(kind.file_name());
    let manifest = PathBuf::from(format!("{}{MANIFEST_SUFFIX}", hook.display()));
    let mut stdout = std::io::stdout().lock();
    let Ok(record) = std::fs::read_to_string(&manifest) else {
        writeln!(
            stdout,
            "nothing to uninstall: tokenguard did not install {}",
            hook.display()
        )?;
        return Ok(());
    };
    match std::fs::read_to_string(&hook) {
        Ok(text) if !text.contains(&marker(kind)) => {
            return Err(Error::Usage(format!(
                "{} is no longer tokenguard's hook; remove it by hand",
                hook.display()
            )));
        }
        Ok(_) => remove(&hook)?,
        Err(_) => {}
    }
    for line in record.lines() {
        if let Some(chained) = line.strip_prefix("chained ") {
            std::fs::rename(chained, &hook).map_err(|source| Error::Read {
                path: PathBuf::from(chained),
                source,
            })?;
            writeln!(stdout, "restored the previous hook {}", hook.display())?;
        } else if line.starts_with("set-template-dir ") {
            git(&["config", "--global", "--unset", "init.templateDir"])?;
            writeln!(
                stdout,
                "unset the global init.templateDir that install had set"
            )?;
        }
    }
    remove(&manifest)?;
    writeln!(
        stdout,
        "uninstalled the {} hook from {}",
        kind.file_name(),
        dir.display()
    )?;
    Ok(())
}

fn remove(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(|source| {
        Error::Read {
            path: path.to_path_buf(),
            source,
        }
    })
}
