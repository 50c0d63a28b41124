//! The allowlist guard's passes, remembered between runs. Judging a list draws hundreds of
//! tokens per rule (about a second of CPU and 250 MB with the grown catalog), and a
//! repository's config is read at every commit; a list that passed once is not judged again
//! until it, the catalog or tokenguard changes. Only passes are kept: a refused list is judged
//! (and refused) afresh every time. The file lives in the user's cache directory, never in a
//! repository, so a cloned repository cannot bring its own verdicts.

use std::io::Write;
use std::path::PathBuf;

use regex::bytes::Regex;
use sha2::{Digest, Sha256};

use crate::detect::policy::Target;
use crate::detect::rules::{BUILTIN_RULES_DIGEST, RuleSet};

/// Passes kept; the oldest go first. A few per config file a user has.
const MAX_ENTRIES: usize = 512;

/// What a verdict depends on: tokenguard's version, every rule a sample is drawn from (the
/// embedded ones by their build-time digest, a config's own by their whole spec: regex,
/// shape, filters), the regexes judged, their target, and the rule a per-rule list belongs to.
pub fn key(rules: &RuleSet, regexes: &[&Regex], target: Target, only_rule: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    if rules.has_embedded() {
        hasher.update(BUILTIN_RULES_DIGEST.to_le_bytes());
    }
    for rule in rules.added() {
        hasher.update(format!("{:?}\0", rule.spec()));
    }
    let mut sources: Vec<&str> = regexes.iter().map(|regex| regex.as_str()).collect();
    sources.sort_unstable();
    for source in sources {
        hasher.update(source);
        hasher.update([0]);
    }
    hasher.update(format!("{target:?}\0{only_rule:?}"));
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `$XDG_CACHE_HOME/tokenguard/allow-guard`, else `~/.cache/tokenguard/allow-guard`.
fn path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("tokenguard").join("allow-guard"))
}

/// Whether a list with this key passed before.
pub fn passed(key: &str) -> bool {
    let Some(path) = path() else { return false };
    std::fs::read_to_string(path).is_ok_and(|text| text.lines().any(|line| line == key))
}

/// Remembers a pass. A cache that cannot be written costs time, never a verdict, so errors are
/// dropped.
pub fn record(key: &str) {
    let Some(path) = path() else { return };
    let _ = (|| -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let mut lines: Vec<&str> = old.lines().filter(|line| line.len() == 64).collect();
        if lines.len() >= MAX_ENTRIES {
            lines.drain(..=lines.len() - MAX_ENTRIES);
        }
        let mut text = lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(key);
        text.push('\n');
        // Written beside and renamed over, so a concurrent hook never reads half a file.
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::File::create(&temporary)?.write_all(text.as_bytes())?;
        std::fs::rename(&temporary, &path)
    })();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_depends_on_the_regexes_target_and_rule_not_their_order() {
        let rules = RuleSet::builtin().expect("the built-in rules compile");
        let a = Regex::new("mock_client\\(").unwrap();
        let b = Regex::new("fixture_token").unwrap();
        let key_ab = key(&rules, &[&a, &b], Target::Line, None);
        assert_eq!(key_ab, key(&rules, &[&b, &a], Target::Line, None));
        assert_ne!(key_ab, key(&rules, &[&a], Target::Line, None));
        assert_ne!(key_ab, key(&rules, &[&a, &b], Target::Secret, None));
        assert_ne!(
            key_ab,
            key(&rules, &[&a, &b], Target::Line, Some("replicate-api-token"))
        );
        assert_eq!(key_ab.len(), 64);
    }
}
