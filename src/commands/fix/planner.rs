//! Plans a fix file by file: where each occurrence of a secret sits (one tokenizer pass per
//! file), the variable it is read from, the `.env` its value goes to, the edits, the check
//! that the file still parses, and the manual steps with their reasons. Nothing is written
//! here; every printed text is redacted at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use aho_corasick::{AhoCorasick, MatchKind};

use super::envfile::{Conflict, EnvFile};
use super::literal::Syntax;
use super::plan::{self, Context, Edit, Family, Rewrite};
use super::{Found, check, code, paths, redaction, tokens, writer};
use crate::detect::Scanner;
use crate::error::Result;
use crate::finding::Part;
use crate::git::{Repo, unified_diff};
use crate::report::fix::{EnvChange, FileChange, FixReport, ManualStep, Staging};

/// What a fix writes, and the report of it.
pub(super) struct Fix {
    /// Files to replace: path, new content, whether to re-stage.
    pub writes: Vec<(String, String, bool)>,
    /// `.env` files: where to write (a link's target inside the worktree), full new content.
    pub env_writes: Vec<(PathBuf, String)>,
    /// `.gitignore`: where to write, full new content, whether to stage it.
    pub gitignore: Option<(PathBuf, String, bool)>,
    pub unstage: Vec<String>,
    pub report: FixReport,
}

/// One `.env` file values go to.
struct EnvSlot {
    /// Relative to the worktree, as printed.
    shown: String,
    /// Where it is written, or why it cannot be.
    target: std::result::Result<PathBuf, String>,
    file: EnvFile,
    text: String,
    existed: bool,
}

pub(super) struct Planner<'a> {
    pub repo: &'a Repo,
    pub root: &'a Path,
    pub scanner: &'a Scanner,
    pub staged_mode: bool,
    pub replace_env: bool,
    dotenv_files: BTreeSet<String>,
    envs: BTreeMap<String, EnvSlot>,
    report: FixReport,
    writes: Vec<(String, String, bool)>,
}

/// What the occurrences of one file come to.
#[derive(Default)]
struct FilePlan<'f> {
    edits: Vec<Edit>,
    reads: BTreeSet<String>,
    notes: BTreeSet<String>,
    /// Occurrences edited automatically, with their lines.
    edited: Vec<(&'f Found, u64)>,
    /// Occurrences left to the user: line, where the value is kept, why.
    manual: Vec<(&'f Found, u64, Option<String>, String)>,
}

/// One occurrence of a secret in a file.
struct Occurrence<'f> {
    start: usize,
    end: usize,
    item: &'f Found,
}

impl<'a> Planner<'a> {
    pub(super) fn new(
        repo: &'a Repo,
        root: &'a Path,
        scanner: &'a Scanner,
        staged_mode: bool,
        replace_env: bool,
    ) -> Planner<'a> {
        Planner {
            repo,
            root,
            scanner,
            staged_mode,
            replace_env,
            dotenv_files: BTreeSet::new(),
            envs: BTreeMap::new(),
            report: FixReport::default(),
            writes: Vec::new(),
        }
    }

    pub(super) fn plan(mut self, found: &[Found], staged_dotenv: &[String]) -> Result<Fix> {
        let mut by_path: BTreeMap<&str, Vec<&Found>> = BTreeMap::new();
        for item in found {
            by_path.entry(item.finding.path()).or_default().push(item);
        }
        self.dotenv_files = staged_dotenv.iter().cloned().collect();
        for path in by_path.keys() {
            if Family::of(path, b"") == Family::DotEnv {
                self.dotenv_files.insert(path.to_string());
            }
        }
        for (path, items) in by_path {
            self.plan_file(path, &items)?;
        }
        self.finish(found)
    }

    fn manual(&mut self, item: &Found, line: u64, kept: Option<String>, reason: String) {
        self.report.manual.push(ManualStep {
            location: format!("{}:{line}", item.finding.path()),
            rule_id: item.finding.rule_id.clone(),
            kept,
            reason,
        });
    }

    /// Secrets in a file name, a link's target or only in a decoded view cannot be replaced
    /// in the text: the step is the user's, and says why.
    fn not_in_text(&mut self, item: &Found) -> bool {
        let reason = match (item.finding.part(), &item.finding.encoding) {
            (Part::Path, _) => "the token is in the file's name: rename the file with git mv \
                 (and change what refers to it)"
                .to_string(),
            (Part::SymlinkTarget, _) => "the token is in a symbolic link's target: point the \
                 link elsewhere (ln -sfn NEW LINK) or remove it with git rm"
                .to_string(),
            (Part::Content, Some(encoding)) => format!(
                "the token is stored {encoding} in the file, so its text does not show it: \
                 decode the value, move the token to the environment, and encode it at run \
                 time if the program needs it encoded"
            ),
            _ => return false,
        };
        self.manual(item, item.finding.line, None, reason);
        true
    }

    fn plan_file(&mut self, path: &str, items: &[&Found]) -> Result<()> {
        let items: Vec<&Found> = items
            .iter()
            .copied()
            .filter(|item| !self.not_in_text(item))
            .collect();
        if items.is_empty() || self.dotenv_files.contains(path) {
            return Ok(());
        }
        if let Some(reason) = paths::refuse_edit(self.root, path) {
            for item in items {
                self.manual(item, item.finding.line, None, reason.clone());
            }
            return Ok(());
        }
        let bytes = std::fs::read(self.root.join(path)).ok();
        let family = Family::of(path, bytes.as_deref().unwrap_or(b""));
        let Some(content) = bytes.and_then(|b| String::from_utf8(b).ok()) else {
            for item in items {
                let reason = "the file is missing from the working tree or is not UTF-8 text: \
                              fix it by hand";
                self.manual(item, item.finding.line, None, reason.to_string());
            }
            return Ok(());
        };
        let env_key = match (family, path.rsplit_once('/')) {
            (Family::Compose, Some((dir, _))) => format!("{dir}/"),
            _ => String::new(),
        };
        self.env_slot(&env_key)?;
        let occurrences = self.occurrences(&content, &items);
        let lines = LineIndex::new(&content);
        let mut planned = self.plan_occurrences(family, &content, &env_key, &occurrences, &lines);
        if family == Family::Python && planned.edits.iter().any(|e| e.text.contains("os.environ")) {
            planned.edits.extend(code::import_os(&content));
        }
        if content.contains("\r\n") {
            for edit in &mut planned.edits {
                edit.text = edit.text.replace("\r\n", "\n").replace('\n', "\r\n");
            }
        }
        let mut fixed = plan::apply_edits(&content, &planned.edits);
        if fixed != content {
            match check::still_parses(family, path, &content, &fixed) {
                Ok(unchecked) => planned.notes.extend(unchecked),
                Err(reason) => {
                    for (item, line) in std::mem::take(&mut planned.edited) {
                        planned.manual.push((item, line, None, reason.clone()));
                    }
                    fixed = content.clone();
                    planned.edits.clear();
                }
            }
        }
        let left = !planned.manual.is_empty();
        for (item, line, kept, reason) in planned.manual {
            self.manual(item, line, kept, reason);
        }
        if planned.edits.is_empty() && (left || !occurrences.is_empty()) {
            return Ok(());
        }
        self.file_change(path, &content, &fixed, planned.reads, planned.notes)
    }

    /// The variable, the `.env` entry and the edits (or the manual step) of each occurrence.
    fn plan_occurrences<'f>(
        &mut self,
        family: Family,
        content: &str,
        env_key: &str,
        occurrences: &[Occurrence<'f>],
        lines: &LineIndex,
    ) -> FilePlan<'f> {
        let mut planned = FilePlan::default();
        let rules = self.scanner.rules();
        for (occurrence, context) in occurrences
            .iter()
            .zip(contexts(family, content, occurrences))
        {
            let item = occurrence.item;
            let secret = std::str::from_utf8(&item.secret).unwrap_or_default();
            let provider_vars = rules
                .iter()
                .find(|r| r.id() == item.finding.rule_id)
                .map(|r| rules.provider(r).env_vars.clone())
                .unwrap_or_default();
            let generic = item.finding.provider_key == "generic";
            let (start, end) = (occurrence.start, occurrence.end);
            let rule_id = &item.finding.rule_id;
            let var = plan::variable_name(family, content, start, &provider_vars, rule_id, generic);
            let line = lines.line_of(start);
            let slot = self.envs.get_mut(env_key).expect("planned above");
            let kept = Some(format!("{} as {var}", slot.shown));
            if let Err(reason) = &slot.target {
                let reason = format!("the value cannot be kept in {}: {reason}", slot.shown);
                planned.manual.push((item, line, None, reason));
                continue;
            }
            if let Err(conflict) = slot.file.assign(&var, secret, self.replace_env) {
                let reason = conflict_reason(conflict, &slot.shown, &var);
                planned.manual.push((item, line, None, reason));
                continue;
            }
            match plan::rewrite(family, content, start, end, &var, context) {
                Rewrite::Edits { edits, note } => {
                    planned.edits.extend(edits);
                    planned.reads.insert(family.read_of(&var));
                    planned.notes.extend(note);
                    planned.edited.push((item, line));
                }
                Rewrite::Manual(reason) => planned.manual.push((item, line, kept, reason)),
            }
        }
        planned
    }

    /// Every occurrence of the file's secrets, in order, found in one pass.
    fn occurrences<'f>(&mut self, content: &str, items: &[&'f Found]) -> Vec<Occurrence<'f>> {
        let mut distinct: Vec<&'f Found> = Vec::new();
        let mut seen = BTreeSet::new();
        for item in items {
            if item.secret.is_empty() || !seen.insert(item.secret.clone()) {
                continue;
            }
            if std::str::from_utf8(&item.secret).is_err() {
                self.manual(
                    item,
                    item.finding.line,
                    None,
                    "the secret is not UTF-8 text".into(),
                );
                continue;
            }
            distinct.push(item);
        }
        let Ok(searcher) = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(distinct.iter().map(|item| &item.secret))
        else {
            return Vec::new();
        };
        searcher
            .find_iter(content)
            .map(|m| Occurrence {
                start: m.start(),
                end: m.end(),
                item: distinct[m.pattern().as_usize()],
            })
            .collect()
    }

    /// The `.env` for the directory `dir` (empty: the top of the worktree): `.env`, or
    /// `.env.local` when git tracks `.env`; neither when both are tracked.
    fn env_slot(&mut self, dir: &str) -> Result<()> {
        if self.envs.contains_key(dir) {
            return Ok(());
        }
        let mut chosen = None;
        for name in [".env", ".env.local"] {
            let shown = format!("{dir}{name}");
            let leaving = self.dotenv_files.contains(&shown) && !self.repo.head_has(&shown)?;
            let tracked = self.repo.head_has(&shown)? || (self.repo.is_staged(&shown)? && !leaving);
            if !tracked {
                chosen = Some(shown);
                break;
            }
        }
        let slot = match chosen {
            Some(shown) => {
                let target = paths::write_target(self.root, &shown);
                let (text, existed) = match &target {
                    Ok(path) => (writer::read_or_empty(path)?, path.exists()),
                    Err(_) => (String::new(), false),
                };
                EnvSlot {
                    file: EnvFile::parse(&text),
                    shown,
                    target,
                    text,
                    existed,
                }
            }
            None => EnvSlot {
                shown: format!("{dir}.env"),
                target: Err(format!(
                    "git tracks both {dir}.env and {dir}.env.local, so a value written there \
                     would be committed; keep it in your environment or a secret manager"
                )),
                file: EnvFile::default(),
                text: String::new(),
                existed: true,
            },
        };
        self.envs.insert(dir.to_string(), slot);
        Ok(())
    }

    fn file_change(
        &mut self,
        path: &str,
        content: &str,
        fixed: &str,
        reads: BTreeSet<String>,
        notes: BTreeSet<String>,
    ) -> Result<()> {
        let repo = self.repo;
        let staging =
            if !self.staged_mode && (!repo.is_staged(path)? || repo.index_matches_head(path)?) {
                Staging::NotStaged
            } else if repo.worktree_matches_index(path)? {
                Staging::Restaged
            } else {
                Staging::StageHunk
            };
        let diff = unified_diff(path, content.as_bytes(), fixed.as_bytes())?;
        // From the `---` line on: the `diff --git` and `index` lines name buffers, not commits.
        let diff = diff.find("\n--- ").map_or(&diff[..], |at| &diff[at + 1..]);
        self.report.files.push(FileChange {
            path: path.to_string(),
            reads: reads.into_iter().collect(),
            diff: diff.to_string(),
            staging,
            notes: notes.into_iter().collect(),
        });
        if fixed != content {
            self.writes.push((
                path.to_string(),
                fixed.to_string(),
                staging == Staging::Restaged,
            ));
        }
        Ok(())
    }

    fn finish(mut self, found: &[Found]) -> Result<Fix> {
        let mut env_writes = Vec::new();
        let mut to_ignore: Vec<String> = Vec::new();
        for slot in std::mem::take(&mut self.envs).into_values() {
            let Ok(target) = &slot.target else { continue };
            if slot.file.changed() {
                self.report.env_files.push(EnvChange {
                    path: slot.shown.clone(),
                    lines: slot.file.added_lines(),
                    created: !slot.existed,
                    replaced: slot.file.replaced_count(),
                });
                env_writes.push((target.clone(), slot.file.render(&slot.text)));
            }
            if !self.repo.is_ignored(&slot.shown)? {
                let name = slot.shown.rsplit('/').next().unwrap_or(&slot.shown);
                to_ignore.push(name.to_string());
            }
        }
        let unstage = self.unstaged()?;
        for path in &self.dotenv_files {
            if !self.repo.is_ignored(path)? {
                let name = path.rsplit('/').next().unwrap_or(path);
                to_ignore.push(if name == ".env" || name == ".env.local" {
                    name.to_string()
                } else {
                    format!("/{path}")
                });
            }
        }
        to_ignore.sort();
        to_ignore.dedup();
        let gitignore = self.gitignore(&to_ignore)?;
        let mut providers: BTreeSet<(String, String)> = BTreeSet::new();
        for item in found {
            if let Some(provider) = self
                .scanner
                .rules()
                .providers
                .get(&item.finding.provider_key)
                && !provider.revoke_url.is_empty()
            {
                providers.insert((provider.name.clone(), provider.revoke_url.to_string()));
            }
        }
        self.report.providers = providers.into_iter().collect();
        let secrets: Vec<&[u8]> = found.iter().map(|f| f.secret.as_slice()).collect();
        redaction::redact_report(&mut self.report, self.scanner, &secrets);
        Ok(Fix {
            writes: self.writes,
            env_writes,
            gitignore,
            unstage,
            report: self.report,
        })
    }

    /// The `.env`-style files taken out of the index.
    fn unstaged(&mut self) -> Result<Vec<String>> {
        let mut unstage = Vec::new();
        for path in &self.dotenv_files {
            let staged = self.repo.is_staged(path).unwrap_or(false);
            if self.staged_mode || (staged && !self.repo.head_has(path).unwrap_or(true)) {
                unstage.push(path.clone());
            }
        }
        for path in &unstage {
            self.report
                .unstaged
                .push((path.clone(), self.repo.head_has(path)?));
        }
        Ok(unstage)
    }

    /// The new `.gitignore` with `patterns` appended, and whether to stage it (a commit being
    /// fixed takes it along when git's copy equals the one on disk).
    fn gitignore(&mut self, patterns: &[String]) -> Result<Option<(PathBuf, String, bool)>> {
        if patterns.is_empty() {
            return Ok(None);
        }
        self.report.ignored = patterns.to_vec();
        match paths::write_target(self.root, ".gitignore") {
            Ok(target) => {
                let text = writer::read_or_empty(&target)?;
                let tracked = self.repo.is_staged(".gitignore")?;
                let stage = self.staged_mode
                    && target == self.root.join(".gitignore")
                    && (!tracked || self.repo.worktree_matches_index(".gitignore")?);
                self.report.gitignore_staged = stage;
                Ok(Some((target, writer::appended(&text, patterns), stage)))
            }
            Err(reason) => {
                self.report.manual.push(ManualStep {
                    location: ".gitignore".to_string(),
                    rule_id: "-".to_string(),
                    kept: None,
                    reason: format!("{reason}; add these lines to it: {}", patterns.join(" ")),
                });
                self.report.ignored.clear();
                Ok(None)
            }
        }
    }
}

fn conflict_reason(conflict: Conflict, env: &str, var: &str) -> String {
    match conflict {
        Conflict::InFile => format!(
            "{env} already holds a different value under {var} (an older token?): run \
             `tokenguard fix --apply --replace-env` to put this one in its place (the old line \
             stays as a comment), or rename one of them yourself"
        ),
        Conflict::InThisRun => format!(
            "another secret of this fix is read from {var} too: give one of them its own name \
             by hand"
        ),
    }
}

/// Where each occurrence sits, from one pass of the file's tokenizer.
fn contexts(family: Family, content: &str, occurrences: &[Occurrence]) -> Vec<Context> {
    let spans: Vec<(usize, usize)> = occurrences.iter().map(|o| (o.start, o.end)).collect();
    let syntax = match family {
        Family::Python => Some(Syntax::Python),
        Family::JavaScript => Some(Syntax::JavaScript),
        Family::Shell => Some(Syntax::Shell),
        Family::Dockerfile => {
            return tokens::dockerfile_heredocs(content, &spans)
                .into_iter()
                .map(Context::Dockerfile)
                .collect();
        }
        _ => None,
    };
    match syntax {
        Some(syntax) => tokens::places(content, syntax, &spans)
            .into_iter()
            .map(Context::Code)
            .collect(),
        None => vec![Context::Unread; spans.len()],
    }
}

/// Line numbers of byte offsets, from one pass over the file.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(content: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', content.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    fn line_of(&self, at: usize) -> u64 {
        self.starts.partition_point(|&s| s <= at) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_from_offsets() {
        let index = LineIndex::new("a\nbc\n\nd");
        let lines: Vec<u64> = [0, 1, 2, 4, 5, 6]
            .iter()
            .map(|&at| index.line_of(at))
            .collect();
        assert_eq!(lines, [1, 1, 2, 2, 3, 4]);
    }

    #[test]
    fn edits_keep_their_order() {
        let edits = [Edit {
            start: 0,
            end: 1,
            text: "b".into(),
        }];
        assert_eq!(plan::apply_edits("a", &edits), "b");
    }
}
