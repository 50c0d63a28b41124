//! `tokenguard install` / `uninstall`: put the hook shim where git runs hooks, chain a hook
//! that was already there, hand over to a hook manager that owns the hooks (husky: a line in
//! its script; lefthook, the pre-commit framework, a tracked hooks directory: the exact
//! snippet, nothing written), and record what was done so that uninstall reverses exactly that.
//!
//! Paths come from the git binary (`git rev-parse --git-path hooks` honours `core.hooksPath`
//! and worktrees), as a user's own git would resolve them. Records live outside every hooks
//! directory: a local install's in the repository's git directory, a global install's in the
//! user's tokenguard config directory, so a template directory never copies one into a clone.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{HookKind, InstallArgs};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::git::git_stdout;

mod managers;

use managers::{
    LEGACY_HUSKY_HEADER, Manager, Scene, husky_insert_at, husky_line, is_husky_line, script_line,
};

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
/// Suffix of the record older versions kept beside the hook (read, never written).
const LEGACY_RECORD_SUFFIX: &str = ".tokenguard-install";

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

fn creating_dir(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::CreateDir {
        path: path.to_path_buf(),
        source,
    }
}

fn renaming<'a>(from: &'a Path, to: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Rename {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    }
}

/// Where the hook goes and where the record of the install is kept.
struct Target {
    hooks_dir: PathBuf,
    record: PathBuf,
    /// The work tree's top level (local installs outside a bare repository).
    workdir: Option<PathBuf>,
    /// The template directory a global install configured (to undo), if any.
    template: Option<PathBuf>,
    /// `--global`: every repository of this user.
    global: bool,
}

impl Target {
    fn hook(&self, hook: HookKind) -> PathBuf {
        self.hooks_dir.join(hook.file_name())
    }

    fn chained(&self, hook: HookKind) -> PathBuf {
        self.hooks_dir
            .join(format!("{}{CHAINED_SUFFIX}", hook.file_name()))
    }

    fn legacy_record(&self, hook: HookKind) -> PathBuf {
        self.hooks_dir
            .join(format!("{}{LEGACY_RECORD_SUFFIX}", hook.file_name()))
    }
}

/// A local install's target: the repository's hooks directory, unless `core.hooksPath`
/// comes from the global or system config (every repository's hooks: `--global` only).
fn local_target(hook: HookKind, verb: &str) -> Result<Target> {
    let not_a_repo = || {
        Error::NotARepository(format!(
            "tokenguard {verb} (without --global) runs inside a repository"
        ))
    };
    let hooks_dir = git_stdout(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"])?
        .ok_or_else(not_a_repo)?;
    let common = git_stdout(&["rev-parse", "--path-format=absolute", "--git-common-dir"])?
        .ok_or_else(not_a_repo)?;
    if let Some(scoped) = git_stdout(&["config", "--show-scope", "--get", "core.hooksPath"])? {
        let (scope, value) = scoped.split_once('\t').unwrap_or(("", &scoped));
        if scope == "global" || scope == "system" {
            return Err(Error::Usage(format!(
                "core.hooksPath is set in your {scope} git config ({value}), so every repository runs its hooks from there; `tokenguard {verb} --global` works on that directory, and a local {verb} would change every repository"
            )));
        }
    }
    let workdir = git_stdout(&["rev-parse", "--show-toplevel"])?
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from);
    Ok(Target {
        hooks_dir: PathBuf::from(hooks_dir),
        record: PathBuf::from(common)
            .join("tokenguard")
            .join(format!("{}.install", hook.file_name())),
        workdir,
        template: None,
        global: false,
    })
}

/// A global install's target: the global core.hooksPath if set, else git's template
/// directory (set as `init.templateDir` when `configure` and none is set yet).
fn global_target(hook: HookKind, configure: bool) -> Result<Target> {
    let home = std::env::var_os("HOME").ok_or(Error::HomeNotSet)?;
    let config_dir = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(&home).join(".config"), PathBuf::from)
        .join("tokenguard");
    let record = config_dir.join(format!("global-{}.install", hook.file_name()));
    let target = |hooks_dir: PathBuf, template: Option<PathBuf>| Target {
        hooks_dir,
        record: record.clone(),
        workdir: None,
        template,
        global: true,
    };
    if let Some(dir) = git_stdout(&["config", "--global", "core.hooksPath"])? {
        return Ok(target(expand_home(&dir), None));
    }
    if let Some(dir) = git_stdout(&["config", "--global", "init.templateDir"])? {
        return Ok(target(expand_home(&dir).join("hooks"), None));
    }
    let template = PathBuf::from(&home).join(".config/tokenguard/git-template");
    if configure {
        let value = template.display().to_string();
        git_stdout(&["config", "--global", "init.templateDir", &value])?
            .ok_or_else(|| Error::Usage("cannot set the global init.templateDir".into()))?;
    }
    Ok(target(template.join("hooks"), Some(template)))
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Whether git tracks a file in `dir` (a hooks directory inside the work tree).
fn tracks_files_in(dir: &Path, workdir: Option<&Path>) -> Result<bool> {
    let Some(relative) = workdir.and_then(|root| dir.strip_prefix(root).ok()) else {
        return Ok(false);
    };
    let relative = relative.to_string_lossy();
    let listed = git_stdout(&["ls-files", "--", &format!(":(top){relative}")])?;
    Ok(listed.is_some_and(|files| !files.is_empty()))
}

pub fn install(args: &InstallArgs) -> Result<ExitStatus> {
    let mut stdout = std::io::stdout().lock();
    // Every hook's target and manager first: a manager that owns the hooks gets its snippet
    // for all of them, and nothing is written.
    let mut plans = Vec::new();
    let mut refused: Vec<(Manager, HookKind)> = Vec::new();
    let mut workdir = None;
    for hook_kind in hooks(args) {
        let target = if args.global {
            global_target(hook_kind, true)?
        } else {
            local_target(hook_kind, "install")?
        };
        let existing = std::fs::read_to_string(target.hook(hook_kind)).ok();
        workdir.clone_from(&target.workdir);
        let manager = if args.global {
            None
        } else {
            let scene = Scene {
                workdir: target.workdir.as_deref(),
                hooks_dir: &target.hooks_dir,
                existing_hook: existing.as_deref(),
                hooks_dir_tracked: tracks_files_in(&target.hooks_dir, target.workdir.as_deref())?,
            };
            managers::detect(&scene, hook_kind)
        };
        match manager {
            Some(manager) if !matches!(manager, Manager::Husky { .. }) => {
                refused.push((manager, hook_kind));
            }
            manager => plans.push((target, hook_kind, existing, manager)),
        }
    }
    if let Some(root) = workdir.as_deref()
        && !refused.is_empty()
        && refused.iter().all(|(m, _)| *m == Manager::Framework)
        && managers::framework_runs_tokenguard(root)
    {
        writeln!(
            stdout,
            "already configured: {} runs tokenguard through the pre-commit framework, which owns the hooks here; nothing was changed (if this clone does not run it yet: pre-commit install --hook-type pre-commit --hook-type commit-msg --hook-type pre-push)",
            managers::FRAMEWORK_CONFIG
        )?;
        return Ok(ExitStatus::Clean);
    }
    if let Some((manager, _)) = refused.first() {
        let kinds: Vec<HookKind> = refused.iter().map(|(_, kind)| *kind).collect();
        let (reason, snippet) = managers::refusal(manager, &kinds);
        write!(stdout, "{snippet}")?;
        return Err(Error::Usage(format!(
            "{reason} (printed above; nothing was installed)"
        )));
    }
    let mut global_dir = None;
    for (target, hook_kind, existing, manager) in plans {
        match manager {
            Some(Manager::Husky { scripts, legacy }) => {
                install_into_husky(&target, &scripts, legacy, hook_kind, &mut stdout)?
            }
            _ => install_shim(&target, hook_kind, existing.as_deref(), &mut stdout)?,
        };
        if target.global {
            global_dir = Some(target.hooks_dir.clone());
        }
    }
    if let Some(dir) = global_dir {
        explain_global_reach(&dir, &mut stdout)?;
    }
    Ok(ExitStatus::Clean)
}

/// What a global install reaches: with a global core.hooksPath every repository, existing
/// ones included; with a template directory only repositories made from now on.
fn explain_global_reach(hooks_dir: &Path, stdout: &mut impl Write) -> Result<()> {
    if git_stdout(&["config", "--global", "core.hooksPath"])?.is_some() {
        writeln!(
            stdout,
            "every repository of this user runs its hooks from {} (the global core.hooksPath), existing ones included, unless one sets its own core.hooksPath",
            hooks_dir.display()
        )?;
        return Ok(());
    }
    writeln!(
        stdout,
        "new repositories (git init, git clone) get the hooks from the template directory; repositories that exist already are not changed: run `tokenguard install` in each (or `git init` there, which copies the template's hooks that are missing)"
    )?;
    Ok(())
}

/// Our shim at the hook's path, a different hook kept and run first.
fn install_shim(
    target: &Target,
    hook_kind: HookKind,
    existing: Option<&str>,
    stdout: &mut impl Write,
) -> Result<ExitStatus> {
    let hook = target.hook(hook_kind);
    let chained = target.chained(hook_kind);
    std::fs::create_dir_all(&target.hooks_dir).map_err(creating_dir(&target.hooks_dir))?;
    let mut record = String::new();
    if let Some(template) = &target.template {
        record.push_str(&format!("set-template-dir {}\n", template.display()));
    }
    // An earlier install's record stays: reinstalling refreshes the shim only. An older
    // version's record beside the hook moves out of the hooks directory.
    record.push_str(&read_record(target, hook_kind, &target.record));
    let legacy = target.legacy_record(hook_kind);
    if legacy.exists() {
        record.push_str(&read_record(target, hook_kind, &legacy));
        remove(&legacy)?;
    }
    match existing {
        Some(text) if text.contains(&marker(hook_kind)) => {}
        Some(_) => {
            if chained.exists() {
                return Err(Error::HooksToMerge {
                    hook: hook.clone(),
                    chained: chained.clone(),
                });
            }
            std::fs::rename(&hook, &chained).map_err(renaming(&hook, &chained))?;
            record.push_str(&format!("chained {}\n", chained.display()));
            writeln!(
                stdout,
                "kept the existing hook as {}; tokenguard runs it first and its failure blocks",
                chained.display()
            )?;
        }
        None => {}
    }
    write_file(&hook, shim(hook_kind))?;
    set_executable(&hook)?;
    record.push_str(&format!("installed {}\n", hook.display()));
    write_record(&target.record, &record)?;
    // The shim as written, so that uninstall can tell lines added to it since.
    write_file(&target.record.with_extension("shim"), shim(hook_kind))?;
    writeln!(
        stdout,
        "installed the {} hook at {}",
        hook_kind.file_name(),
        hook.display()
    )?;
    Ok(ExitStatus::Clean)
}

/// husky runs `.husky/<hook>` (its dispatcher finds it by name): one line there, never a
/// file in husky's own `_` directory, which husky rewrites.
fn install_into_husky(
    target: &Target,
    scripts: &Path,
    legacy: bool,
    hook_kind: HookKind,
    stdout: &mut impl Write,
) -> Result<ExitStatus> {
    let script = scripts.join(hook_kind.file_name());
    let line = husky_line(hook_kind);
    let current = std::fs::read_to_string(&script).ok();
    if current
        .as_deref()
        .is_some_and(|text| text.lines().any(|l| is_husky_line(l, hook_kind)))
    {
        writeln!(
            stdout,
            "husky already runs tokenguard: {} has `{}`",
            script.display(),
            script_line(hook_kind)
        )?;
        return Ok(ExitStatus::Clean);
    }
    let mut record = std::fs::read_to_string(&target.record).unwrap_or_default();
    let text = match &current {
        Some(text) => {
            // Before the script's first command (husky's default `npm test`).
            let mut lines: Vec<&str> = text.lines().collect();
            lines.insert(husky_insert_at(&lines), &line);
            lines.join("\n") + "\n"
        }
        None => {
            record.push_str(&format!("created {}\n", script.display()));
            let header = if legacy { LEGACY_HUSKY_HEADER } else { "" };
            format!("{header}{line}\n")
        }
    };
    std::fs::create_dir_all(scripts).map_err(creating_dir(scripts))?;
    write_file(&script, &text)?;
    if current.is_none() {
        set_executable(&script)?;
    }
    record.push_str(&format!("appended {}\n", script.display()));
    write_record(&target.record, &record)?;
    writeln!(
        stdout,
        "husky runs the hooks here: added `{}` to {}, before its other commands, which husky runs on {}; commit it so that every clone runs tokenguard (a clone without the binary is told how to install it)",
        script_line(hook_kind),
        script.display(),
        hook_kind.file_name()
    )?;
    Ok(ExitStatus::Clean)
}

pub fn uninstall(args: &InstallArgs) -> Result<ExitStatus> {
    for hook_kind in hooks(args) {
        uninstall_one(args.global, hook_kind)?;
    }
    Ok(ExitStatus::Clean)
}

/// Reverses what the recorded install of one hook did, and only that.
fn uninstall_one(global: bool, hook_kind: HookKind) -> Result<ExitStatus> {
    let target = if global {
        global_target(hook_kind, false)?
    } else {
        local_target(hook_kind, "uninstall")?
    };
    let hook = target.hook(hook_kind);
    let mut stdout = std::io::stdout().lock();
    let legacy = target.legacy_record(hook_kind);
    let record = if target.record.exists() {
        read_record(&target, hook_kind, &target.record)
    } else {
        read_record(&target, hook_kind, &legacy)
    };
    let shim_copy = target.record.with_extension("shim");
    let remove_records = || -> Result<()> {
        for path in [&target.record, &legacy, &shim_copy] {
            if path.exists() {
                remove(path)?;
            }
        }
        Ok(())
    };
    if record.is_empty() {
        remove_records()?;
        return uninstall_unrecorded(&target, hook_kind, &mut stdout);
    }
    // The hook first: if it is no longer ours, nothing is undone.
    let mut kept_user_lines = false;
    let installed = record.lines().any(|l| l.starts_with("installed "));
    match std::fs::read_to_string(&hook) {
        Ok(text) if installed && !text.contains(&marker(hook_kind)) => {
            return Err(Error::HookReplaced(hook.clone()));
        }
        Ok(text) if installed => {
            let written = std::fs::read_to_string(target.record.with_extension("shim"));
            let written = written.as_deref().unwrap_or(shim(hook_kind));
            kept_user_lines = remove_shim(&hook, &text, written, &mut stdout)?;
        }
        _ => {}
    }
    let created: Vec<&str> = record
        .lines()
        .filter_map(|l| l.strip_prefix("created "))
        .collect();
    for line in record.lines() {
        if let Some(chained) = line.strip_prefix("chained ") {
            if kept_user_lines {
                writeln!(
                    stdout,
                    "the previous hook stays at {chained}, since {} keeps your lines; merge the two by hand",
                    hook.display()
                )?;
                continue;
            }
            std::fs::rename(chained, &hook).map_err(renaming(Path::new(chained), &hook))?;
            writeln!(stdout, "restored the previous hook {}", hook.display())?;
        } else if let Some(script) = line.strip_prefix("appended ") {
            let was_created = created.contains(&script);
            remove_script_line(Path::new(script), hook_kind, was_created, &mut stdout)?;
        } else if line.starts_with("set-template-dir ") {
            git_stdout(&["config", "--global", "--unset", "init.templateDir"])?;
            writeln!(
                stdout,
                "unset the global init.templateDir that install had set"
            )?;
        }
    }
    remove_records()?;
    if installed {
        writeln!(
            stdout,
            "uninstalled the {} hook from {}",
            hook_kind.file_name(),
            target.hooks_dir.display()
        )?;
    }
    Ok(ExitStatus::Clean)
}

/// Takes tokenguard's shim out of `hook`, whose text is `text`: the file goes when it holds
/// nothing but the shim as `written`; lines someone added to it stay, in place, with the
/// shim's own lines taken out, and the user is told. Returns whether the file was kept.
fn remove_shim(hook: &Path, text: &str, written: &str, stdout: &mut impl Write) -> Result<bool> {
    let added = lines_added(text, written);
    if added.iter().all(|line| line.trim().is_empty()) {
        remove(hook)?;
        return Ok(false);
    }
    let mut kept = String::new();
    if !added[0].starts_with("#!") {
        kept.push_str("#!/bin/sh\n");
    }
    for line in &added {
        kept.push_str(line);
        kept.push('\n');
    }
    write_file(hook, &kept)?;
    writeln!(
        stdout,
        "kept {}: it has {} line(s) tokenguard did not write; only tokenguard's own lines were taken out",
        hook.display(),
        added.iter().filter(|l| !l.trim().is_empty()).count()
    )?;
    Ok(true)
}

/// The lines of `text` that are not the lines of `original`, in order: those left over by a
/// longest common subsequence of the two.
fn lines_added<'a>(text: &'a str, original: &str) -> Vec<&'a str> {
    let ours: Vec<&str> = text.lines().collect();
    let theirs: Vec<&str> = original.lines().collect();
    // common[i][j]: the longest common subsequence of ours[i..] and theirs[j..].
    let mut common = vec![vec![0usize; theirs.len() + 1]; ours.len() + 1];
    for i in (0..ours.len()).rev() {
        for j in (0..theirs.len()).rev() {
            common[i][j] = if ours[i] == theirs[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut added) = (0, 0, Vec::new());
    while i < ours.len() {
        if j < theirs.len() && ours[i] == theirs[j] {
            (i, j) = (i + 1, j + 1);
        } else if j < theirs.len() && common[i][j + 1] >= common[i + 1][j] {
            j += 1;
        } else {
            added.push(ours[i]);
            i += 1;
        }
    }
    added
}

/// No record here, but the hook may still be our shim: copied from the global template into
/// this clone. Removing this copy touches nothing global.
fn uninstall_unrecorded(
    target: &Target,
    hook_kind: HookKind,
    stdout: &mut impl Write,
) -> Result<ExitStatus> {
    let hook = target.hook(hook_kind);
    let text = std::fs::read_to_string(&hook).unwrap_or_default();
    if !text.contains(&marker(hook_kind)) {
        writeln!(
            stdout,
            "nothing to uninstall: tokenguard did not install {}",
            hook.display()
        )?;
        return Ok(ExitStatus::Clean);
    }
    if remove_shim(&hook, &text, shim(hook_kind), stdout)? {
        return Ok(ExitStatus::Clean);
    }
    writeln!(
        stdout,
        "removed tokenguard's {} hook from {} (no install here recorded it: it came from a template directory; the global setup is left as is, `tokenguard uninstall --global` removes it)",
        hook_kind.file_name(),
        target.hooks_dir.display()
    )?;
    let chained = target.chained(hook_kind);
    if chained.exists() {
        std::fs::rename(&chained, &hook).map_err(renaming(&chained, &hook))?;
        writeln!(stdout, "restored the previous hook {}", hook.display())?;
    }
    Ok(ExitStatus::Clean)
}

/// Takes our line out of a husky script again; a script install created and that holds
/// nothing else goes.
fn remove_script_line(
    script: &Path,
    hook_kind: HookKind,
    was_created: bool,
    stdout: &mut impl Write,
) -> Result<()> {
    let line = script_line(hook_kind);
    let Ok(text) = std::fs::read_to_string(script) else {
        return Ok(());
    };
    let mut lines: Vec<&str> = text.lines().collect();
    let Some(at) = lines.iter().rposition(|l| is_husky_line(l, hook_kind)) else {
        writeln!(
            stdout,
            "{} no longer has `{line}`; left as it is",
            script.display()
        )?;
        return Ok(());
    };
    lines.remove(at);
    let rest = lines.join("\n");
    let leftover = rest.trim().is_empty() || rest.trim() == LEGACY_HUSKY_HEADER.trim();
    if was_created && leftover {
        remove(script)?;
        writeln!(
            stdout,
            "removed {}, which install had created",
            script.display()
        )?;
    } else {
        let ending = if text.ends_with('\n') && !rest.is_empty() {
            "\n"
        } else {
            ""
        };
        write_file(script, &format!("{rest}{ending}"))?;
        writeln!(stdout, "removed `{line}` from {}", script.display())?;
    }
    Ok(())
}

/// The lines of a record that concern this target. A template directory copied an older
/// version's record into every clone, naming the template's own files and its
/// `init.templateDir`: a local uninstall must act on none of those.
fn read_record(target: &Target, hook_kind: HookKind, path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let ours = |recorded: &str| {
        let recorded = Path::new(recorded);
        recorded == target.hook(hook_kind) || recorded == target.chained(hook_kind)
    };
    text.lines()
        .filter(|line| match line.split_once(' ') {
            Some(("installed" | "chained", recorded)) => ours(recorded),
            Some(("set-template-dir", _)) => target.global,
            Some(("appended" | "created", _)) => true,
            _ => false,
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

fn write_record(path: &Path, record: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(creating_dir(dir))?;
    }
    let mut lines: Vec<&str> = Vec::new();
    for line in record.lines() {
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    write_file(path, &(lines.join("\n") + "\n"))
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(Error::writing(path))
}

fn remove(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|source| Error::Remove {
        path: path.to_path_buf(),
        source,
    })
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(|source| {
        Error::SetMode {
            path: path.to_path_buf(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_added_to_a_shim_are_found_wherever_they_are() {
        let shim = "#!/bin/sh\n# ours\nexec tokenguard scan-staged\n";
        assert!(lines_added(shim, shim).is_empty());
        let edited = "#!/bin/sh\nmake lint\n# ours\nexec tokenguard scan-staged\necho after\n";
        assert_eq!(lines_added(edited, shim), ["make lint", "echo after"]);
        // A line of the shim removed by the user is no added line.
        assert_eq!(lines_added("#!/bin/sh\nnpm test\n", shim), ["npm test"]);
    }
}
