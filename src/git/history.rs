//! What a range of commits or a push adds: the commits to visit, oldest first, and for each
//! commit what it adds against its parents (all of them, for a merge).

use git2::{ObjectType, Oid, Sort, Tree};

use super::Repo;
use super::staged::NewSide;
use super::visit::{ChangeSet, WalkStats};
use crate::error::{Error, Result};

/// One ref update of a push (pre-push) or of a receive (pre-receive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub local_ref: String,
    pub new: Oid,
    pub old: Oid,
}

/// An annotated tag a push or range adds: its name and message.
#[derive(Debug, Clone)]
pub struct TagMessage {
    pub name: String,
    pub id: Oid,
    pub message: Vec<u8>,
}

impl Repo {
    /// A commit's message, as git stores it.
    pub fn commit_message(&self, id: Oid) -> Result<Vec<u8>> {
        let commit = self
            .repo
            .find_commit(id)
            .map_err(Error::git(format!("cannot read commit {id}")))?;
        Ok(commit.message_raw_bytes().to_vec())
    }

    /// The annotated tags among ref updates that create or move a tag (a lightweight tag has
    /// no message of its own).
    pub fn pushed_tags(&self, updates: &[RefUpdate]) -> Vec<TagMessage> {
        updates
            .iter()
            .filter(|update| update.new != update.old && !update.new.is_zero())
            .filter_map(|update| {
                let tag = self.repo.find_tag(update.new).ok()?;
                let name = update
                    .local_ref
                    .strip_prefix("refs/tags/")
                    .unwrap_or(&update.local_ref);
                Some(TagMessage {
                    name: name.to_string(),
                    id: tag.id(),
                    message: tag.message_bytes().unwrap_or_default().to_vec(),
                })
            })
            .collect()
    }

    /// Every annotated tag of the repository, with the object it names.
    pub(super) fn annotated_tags(&self) -> Result<Vec<(TagMessage, Oid)>> {
        let mut tags = Vec::new();
        let names = self
            .repo
            .tag_names(None)
            .map_err(Error::git("cannot list the tags"))?;
        let odb = self
            .repo
            .odb()
            .map_err(Error::git("cannot open the objects"))?;
        // Most tags are lightweight: their commit is told apart by its header alone, not
        // inflated whole as looking it up as a tag would (openai-python: 404 of 407 tags).
        let is_tag = |id: Oid| matches!(odb.read_header(id), Ok((_, ObjectType::Tag)));
        for name in names.iter() {
            let Ok(Some(name)) = name else { continue };
            let Ok(reference) = self.repo.find_reference(&format!("refs/tags/{name}")) else {
                continue;
            };
            let Some(tag) = reference
                .target()
                .filter(|id| is_tag(*id))
                .and_then(|id| self.repo.find_tag(id).ok())
            else {
                continue;
            };
            let message = TagMessage {
                name: name.to_string(),
                id: tag.id(),
                message: tag.message_bytes().unwrap_or_default().to_vec(),
            };
            tags.push((message, tag.target_id()));
        }
        Ok(tags)
    }

    /// What one commit added against its parents (all of them, for a merge).
    pub fn commit_changes(&self, id: Oid, stats: &mut WalkStats) -> Result<ChangeSet> {
        Ok(self.commit_changes_and_message(id, stats)?.0)
    }

    /// [`Repo::commit_changes`] and the commit's message, read from the one lookup of the
    /// commit.
    pub fn commit_changes_and_message(
        &self,
        id: Oid,
        stats: &mut WalkStats,
    ) -> Result<(ChangeSet, Vec<u8>)> {
        let commit = self
            .repo
            .find_commit(id)
            .map_err(Error::git(format!("cannot read commit {id}")))?;
        let tree = commit
            .tree()
            .map_err(Error::git(format!("cannot read the tree of {id}")))?;
        let parents: Vec<Tree<'_>> = commit
            .parents()
            .map(|p| p.tree())
            .collect::<std::result::Result<_, _>>()
            .map_err(Error::git(format!("cannot read the parents of {id}")))?;
        stats.commits += 1;
        let changes = match self.tree_changes(parents.first(), &tree)? {
            Some((changes, deleted)) => {
                stats.deleted_files += deleted;
                changes
            }
            None => self.libgit2_changes(parents.first(), NewSide::Tree(&tree), stats)?,
        };
        let set = ChangeSet {
            changes,
            other_parents: parents.iter().skip(1).map(|t| t.id()).collect(),
        };
        Ok((set, commit.message_raw_bytes().to_vec()))
    }

    /// The trees of `ids`, for [`Repo::visit_change`] during a merge.
    pub fn trees(&self, ids: &[Oid]) -> Result<Vec<Tree<'_>>> {
        ids.iter()
            .map(|id| {
                self.repo
                    .find_tree(*id)
                    .map_err(Error::git(format!("cannot read the tree {id}")))
            })
            .collect()
    }

    /// The commits of `spec` oldest first: `A..B` is what B has and A has not; a single
    /// revision is everything reachable from it.
    pub fn range_commits(&self, spec: &str) -> Result<Vec<Oid>> {
        let mut revwalk = self.revwalk()?;
        let pushed = if spec.contains("..") {
            revwalk.push_range(spec)
        } else {
            self.repo
                .revparse_single(spec)
                .and_then(|object| object.peel_to_commit())
                .and_then(|commit| revwalk.push(commit.id()))
        };
        pushed.map_err(Error::git(format!("cannot resolve the range {spec:?}")))?;
        revwalk
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(Error::git(format!("cannot walk the range {spec:?}")))
    }

    /// The commits a ref update adds, oldest first: reachable from `new` but not from `old`
    /// (when the receiving side has it) nor from any ref in `known_refs` (globs such as
    /// `refs/remotes/origin/*`, what the other side already has).
    pub fn update_commits(&self, update: &RefUpdate, known_refs: &[String]) -> Result<Vec<Oid>> {
        let mut revwalk = self.revwalk()?;
        let context = || format!("cannot walk the commits of {}", update.local_ref);
        revwalk.push(update.new).map_err(Error::git(context()))?;
        if !update.old.is_zero() && self.repo.find_commit(update.old).is_ok() {
            revwalk.hide(update.old).map_err(Error::git(context()))?;
        }
        for glob in known_refs {
            revwalk.hide_glob(glob).map_err(Error::git(context()))?;
        }
        revwalk
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(Error::git(context()))
    }

    fn revwalk(&self) -> Result<git2::Revwalk<'_>> {
        let mut revwalk = self
            .repo
            .revwalk()
            .map_err(Error::git("cannot walk the history"))?;
        revwalk
            .set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .map_err(Error::git("cannot walk the history"))?;
        Ok(revwalk)
    }
}

/// The tags of `tags` (each with the object it names) that name one of `commits`, in order.
pub(super) fn tags_on(tags: Vec<(TagMessage, Oid)>, commits: &[Oid]) -> Vec<TagMessage> {
    let commits: std::collections::HashSet<Oid> = commits.iter().copied().collect();
    (tags.into_iter())
        .filter(|(_, target)| commits.contains(target))
        .map(|(tag, _)| tag)
        .collect()
}

/// Reads the pre-push (`<local ref> <local oid> <remote ref> <remote oid>`) or pre-receive
/// (`<old oid> <new oid> <ref>`) lines git writes to a hook's stdin. Deleted refs add nothing
/// and are left out.
pub fn parse_ref_updates(input: &str) -> Result<Vec<RefUpdate>> {
    let mut updates = Vec::new();
    for (number, line) in input.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let oid = |text: &str| {
            Oid::from_str(text).map_err(|_| {
                Error::Usage(format!(
                    "hook input line {}: {text:?} is not an object id",
                    number + 1
                ))
            })
        };
        let update = match fields.as_slice() {
            [] => continue,
            [local_ref, local, _remote_ref, remote] => RefUpdate {
                local_ref: local_ref.to_string(),
                new: oid(local)?,
                old: oid(remote)?,
            },
            [old, new, reference] => RefUpdate {
                local_ref: reference.to_string(),
                new: oid(new)?,
                old: oid(old)?,
            },
            _ => {
                return Err(Error::Usage(format!(
                    "hook input line {}: expected the pre-push or pre-receive format",
                    number + 1
                )));
            }
        };
        if !update.new.is_zero() {
            updates.push(update);
        }
    }
    Ok(updates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_input_formats() {
        let a = "1".repeat(40);
        let b = "2".repeat(40);
        let zero = "0".repeat(40);
        let input = format!(
            "refs/heads/main {a} refs/heads/main {b}\n\
             refs/heads/gone {zero} refs/heads/gone {b}\n\
             {b} {a} refs/heads/feature\n"
        );
        let updates = parse_ref_updates(&input).unwrap();
        assert_eq!(updates.len(), 2, "the deletion adds nothing");
        assert_eq!(updates[0].local_ref, "refs/heads/main");
        assert_eq!(updates[0].new.to_string(), a);
        assert_eq!(updates[0].old.to_string(), b);
        assert_eq!(updates[1].local_ref, "refs/heads/feature");
        assert!(parse_ref_updates("only two").is_err());
        assert!(parse_ref_updates("x y z").is_err());
    }

    /// Only annotated tags on the listed commits count: lightweight tags, tags on other
    /// commits and a tag of a tag do not.
    #[test]
    fn tags_on_the_commits_are_the_annotated_ones_that_name_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        crate::test_support::git(root, &["init", "-q", "-b", "main"]);
        let commit = |message: &str| {
            crate::test_support::git(root, &["commit", "-q", "--allow-empty", "-m", message]);
            crate::test_support::git(root, &["rev-parse", "HEAD"])
        };
        let first = commit("first");
        crate::test_support::git(root, &["tag", "-a", "old", "-m", "on the first"]);
        let second = commit("second");
        crate::test_support::git(root, &["tag", "light"]);
        crate::test_support::git(root, &["tag", "-a", "v2", "-m", "release two"]);
        crate::test_support::git(root, &["tag", "-a", "nested", "-m", "of a tag", "v2"]);
        let repo = Repo {
            repo: git2::Repository::open(root).unwrap(),
        };
        let second = Oid::from_str(second.trim()).unwrap();
        let tags = tags_on(repo.annotated_tags().unwrap(), &[second]);
        let found: Vec<(&str, &[u8])> = (tags.iter())
            .map(|tag| (tag.name.as_str(), tag.message.as_slice()))
            .collect();
        assert_eq!(found, [("v2", &b"release two\n"[..])]);
        let first = Oid::from_str(first.trim()).unwrap();
        let names: Vec<String> = tags_on(repo.annotated_tags().unwrap(), &[first, second])
            .into_iter()
            .map(|tag| tag.name)
            .collect();
        assert_eq!(names, ["old", "v2"]);
    }
}
