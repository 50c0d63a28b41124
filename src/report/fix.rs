//! The report of `tokenguard fix`: per file the unified diff (secrets already redacted by the
//! caller) and what happens to the index, then what goes into `.env` and `.gitignore`, the
//! steps left to the user, and how to rotate.

use std::io::Write;

use colored::Colorize;

use super::path::quote;

/// Everything a fix did, or would do in a preview. Plain data: no secret in it.
#[derive(Debug, Default)]
pub struct FixReport {
    /// False for the preview: nothing was written.
    pub applied: bool,
    pub files: Vec<FileChange>,
    pub env_files: Vec<EnvChange>,
    /// Patterns added to the top-level `.gitignore`.
    pub ignored: Vec<String>,
    /// The changed `.gitignore` is staged with the fix.
    pub gitignore_staged: bool,
    /// Staged `.env`-style files taken out of the next commit (their content kept on disk),
    /// and whether HEAD still tracks them.
    pub unstaged: Vec<(String, bool)>,
    pub manual: Vec<ManualStep>,
    /// Providers of the secrets: name and where to revoke.
    pub providers: Vec<(String, String)>,
}

/// One file whose secrets are replaced.
#[derive(Debug)]
pub struct FileChange {
    pub path: String,
    /// The reads that replace the secrets (`os.environ["X"]`), for the headline.
    pub reads: Vec<String>,
    /// The unified diff, secrets redacted; empty when the working tree is already fixed.
    pub diff: String,
    pub staging: Staging,
    /// Advice beside the edit (the build secret of a Dockerfile, the Actions secret).
    pub notes: Vec<String>,
}

/// What happens to the index for a fixed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staging {
    /// The working tree equalled the index: the fixed file is staged again.
    Restaged,
    /// The index holds changes the working tree does not (partial staging): only the working
    /// tree is fixed, the user stages the fix.
    StageHunk,
    /// Not staged at all (`fix PATHS` on a file that is not in the index).
    NotStaged,
}

/// Values appended to one `.env` file.
#[derive(Debug)]
pub struct EnvChange {
    pub path: String,
    /// `NAME=value` lines, the value redacted.
    pub lines: Vec<String>,
    /// The file did not exist: it is created with mode 0600.
    pub created: bool,
    /// Old values under the same names, kept as comments (`--replace-env`).
    pub replaced: usize,
}

/// A finding tokenguard does not fix by itself.
#[derive(Debug)]
pub struct ManualStep {
    /// `path:line`.
    pub location: String,
    pub rule_id: String,
    /// Where the value is kept meanwhile (`.env as HF_TOKEN`), if it is.
    pub kept: Option<String>,
    pub reason: String,
}

impl FixReport {
    /// True when nothing is left for the user to do for the commit to pass.
    pub fn complete(&self) -> bool {
        self.manual.is_empty() && self.files.iter().all(|f| f.staging != Staging::StageHunk)
    }

    fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.env_files.is_empty()
            && self.ignored.is_empty()
            && self.unstaged.is_empty()
            && self.manual.is_empty()
    }
}

pub fn write(out: &mut impl Write, report: &FixReport, scope: &str) -> std::io::Result<()> {
    if report.is_empty() {
        return writeln!(
            out,
            "{} {scope}",
            "tokenguard fix: nothing to fix: no secret in".green()
        );
    }
    let writes = !(report.files.is_empty()
        && report.env_files.is_empty()
        && report.ignored.is_empty()
        && report.unstaged.is_empty());
    let (will, headline) = if report.applied && !writes {
        (
            "",
            "tokenguard fix: nothing written: every step is left to you".bold(),
        )
    } else if report.applied {
        ("", "tokenguard fix: applied".bold())
    } else {
        (
            "would ",
            "tokenguard fix: preview, nothing written (run `tokenguard fix --apply` to write it)"
                .bold(),
        )
    };
    writeln!(out, "{headline}")?;
    for file in &report.files {
        write_file(out, file, report.applied)?;
    }
    write_side_files(out, report, will)?;
    write_manual(out, report)?;
    write_closing(out, report)
}

/// One fixed file: what reads the secret now, whether it is staged again, and its diff.
fn write_file(out: &mut impl Write, file: &FileChange, applied: bool) -> std::io::Result<()> {
    writeln!(out)?;
    let path = quote(&file.path);
    let staging = match (file.staging, applied) {
        (Staging::Restaged, true) => "re-staged".to_string(),
        (Staging::Restaged, false) => "to be re-staged".to_string(),
        (Staging::StageHunk, _) => format!(
            "not re-staged: the staged version differs from the working tree, so stage the fix yourself: git add -p {path}"
        ),
        (Staging::NotStaged, _) => {
            "not staged: git commit -a, git commit PATH or git add takes the fixed file".to_string()
        }
    };
    if file.diff.is_empty() {
        writeln!(
            out,
            "{}: already fixed in the working tree; {staging}",
            path.bold()
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{}: the secret {}read from {}; {staging}",
        path.bold(),
        if applied { "is now " } else { "would be " },
        file.reads.join(", ")
    )?;
    for line in file.diff.lines() {
        let line = match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++") => line.green(),
            Some(b'-') if !line.starts_with("---") => line.red(),
            _ => line.normal(),
        };
        writeln!(out, "  {line}")?;
    }
    for note in &file.notes {
        writeln!(out, "  note: {note}")?;
    }
    Ok(())
}

/// The `.env` files, `.gitignore` patterns and unstaged files the fix writes (or would).
fn write_side_files(out: &mut impl Write, report: &FixReport, will: &str) -> std::io::Result<()> {
    if !report.env_files.is_empty() || !report.ignored.is_empty() || !report.unstaged.is_empty() {
        writeln!(out)?;
    }
    for env in &report.env_files {
        let created = if env.created {
            " (a new file, mode 0600)".to_string()
        } else if env.replaced > 0 {
            format!(
                " (replacing {} old value(s), kept as comments)",
                env.replaced
            )
        } else {
            String::new()
        };
        writeln!(
            out,
            "{}: {will}append {}{created}",
            quote(&env.path).bold(),
            env.lines.join(", ")
        )?;
    }
    for pattern in &report.ignored {
        let staged = match (report.gitignore_staged, report.applied) {
            (true, true) => "staged with the fix",
            (true, false) => "to be staged with the fix",
            (false, _) => "commit it too: git add .gitignore",
        };
        writeln!(
            out,
            "{}: {will}add {pattern} ({staged})",
            ".gitignore".bold()
        )?;
    }
    for (path, tracked) in &report.unstaged {
        let path = quote(path);
        writeln!(
            out,
            "{}: {will}unstage it; the file stays on disk with its content",
            path.bold()
        )?;
        if *tracked {
            writeln!(
                out,
                "  HEAD already tracks it: stop tracking it with git rm --cached {path}, and rotate what its history holds"
            )?;
        }
    }
    Ok(())
}

/// The steps tokenguard leaves to the user.
fn write_manual(out: &mut impl Write, report: &FixReport) -> std::io::Result<()> {
    if !report.manual.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", "Left to you:".yellow().bold())?;
        for step in &report.manual {
            let kept = match &step.kept {
                Some(kept) => format!(
                    " (the value {}kept in {kept})",
                    if report.applied { "is " } else { "would be " }
                ),
                None => String::new(),
            };
            writeln!(
                out,
                "  {}  {}  {}{kept}",
                quote(&step.location).bold(),
                step.rule_id.yellow(),
                step.reason,
            )?;
        }
    }
    Ok(())
}

/// How to load the moved secret, what to do next, and where to rotate the token.
fn write_closing(out: &mut impl Write, report: &FixReport) -> std::io::Result<()> {
    writeln!(out)?;
    if let Some(first) = report.env_files.first() {
        let names: Vec<&str> = report.env_files.iter().map(|e| e.path.as_str()).collect();
        let env = first.path.rsplit('/').next().unwrap_or(&first.path);
        let compose = if env == ".env" {
            "docker compose reads the .env beside the compose file by itself.".to_string()
        } else {
            format!("docker compose reads only .env by itself: add --env-file {env}.")
        };
        writeln!(
            out,
            "The secret {}moved to {}, which git ignores. Load it into the environment before running the code: \
             `set -a; . ./{env}; set +a` (shell), python-dotenv's load_dotenv(\"{env}\"), `node --env-file={env}` (Node 20+); \
             {compose}",
            if report.applied { "was " } else { "would be " },
            names.join(", ")
        )?;
    }
    if !report.applied {
        writeln!(out, "Nothing was written. To do it: tokenguard fix --apply")?;
    } else if report.files.iter().any(|f| f.staging == Staging::Restaged) {
        writeln!(out, "Commit again: the hook checks the fixed version.")?;
    }
    if !report.providers.is_empty() {
        writeln!(
            out,
            "If the token was ever shared, pushed, pasted or logged anywhere, treat it as leaked and rotate it:"
        )?;
        for (name, url) in &report.providers {
            writeln!(out, "  - {name}: {url}")?;
        }
    }
    Ok(())
}
