//! gitleaks' files, read for `tokenguard import`: `.gitleaks.toml` (its allowlists: path
//! regexes, regexes, stopwords, commits; its custom rules) and `.gitleaksignore` (finding
//! fingerprints `[commit:]path:rule-id:line`). Field names as gitleaks v8 documents them:
//! <https://github.com/gitleaks/gitleaks#configuration>.

use std::collections::BTreeMap;

use super::{Candidate, Entry, Lookup, Plan};
use crate::error::{Error, Result};

/// One gitleaks allowlist (`[allowlist]`, `[[allowlists]]` or a rule's own).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Allowlist {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
    regex_target: Option<String>,
    #[serde(default)]
    target_rules: Vec<String>,
    condition: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Rule {
    id: String,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Config {
    allowlist: Option<Allowlist>,
    #[serde(default)]
    allowlists: Vec<Allowlist>,
    #[serde(default)]
    rules: Vec<Rule>,
    /// Everything else (title, extend, ...): not ours to translate.
    #[serde(flatten)]
    _rest: BTreeMap<String, toml::Value>,
}

/// Stopwords shorter than this are left out: a random token holds a short word by chance.
const MIN_STOPWORD: usize = 6;

/// Reads `.gitleaks.toml`'s text into `plan`.
pub(super) fn read_config(text: &str, plan: &mut Plan) -> Result<()> {
    let file = ".gitleaks.toml";
    let config: Config = toml::from_str(text).map_err(|err| {
        Error::Usage(format!(
            "{file}: not a gitleaks configuration: {}",
            err.message().trim().replace('\n', " ")
        ))
    })?;
    for list in config.allowlist.iter().chain(&config.allowlists) {
        read_allowlist(list, file, plan);
    }
    for rule in &config.rules {
        plan.left_out(
            format!("{file} rule {}", rule.id),
            "a custom rule: tokenguard's rules need a provider and examples that `tokenguard rules check` runs; write it as a [[rules]] entry of .tokenguard.toml (see config/tokenguard.example.toml)",
        );
    }
    Ok(())
}

fn read_allowlist(list: &Allowlist, file: &str, plan: &mut Plan) {
    let place = format!("{file} allowlist");
    if !list.target_rules.is_empty() {
        plan.left_out(
            format!("{place} for rules {}", list.target_rules.join(", ")),
            "it names gitleaks' rule ids, which are not tokenguard's; add it under [[allow.rule]] with tokenguard's rule id",
        );
        return;
    }
    if list
        .condition
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("and"))
    {
        plan.left_out(
            place,
            "condition = \"AND\" (every part must match together) has no equivalent: tokenguard's allowlists each stand alone",
        );
        return;
    }
    for regex in &list.paths {
        take_path_regex(plan, format!("{place} path {regex:?}"), regex);
    }
    let target = match list.regex_target.as_deref() {
        None | Some("secret") => ("secret", None),
        Some("line") => ("line", None),
        Some(other) => (
            "line",
            Some(format!("regexTarget {other:?} read as target \"line\"")),
        ),
    };
    for regex in &list.regexes {
        plan.candidate(Candidate {
            source: format!("{place} regex {regex:?}"),
            entry: Entry::Regex {
                regex: regex.clone(),
                target: target.0,
            },
            translated: target.1.clone(),
        });
    }
    for word in &list.stopwords {
        let source = format!("{place} stopword {word:?}");
        if word.chars().count() < MIN_STOPWORD {
            plan.left_out(
                source,
                "shorter than 6 characters: real tokens hold such a word by chance",
            );
            continue;
        }
        plan.candidate(Candidate {
            source,
            entry: Entry::Regex {
                regex: format!("(?i){}", regex::escape(word)),
                target: "secret",
            },
            translated: Some("stopword to a case-insensitive secret regex".to_string()),
        });
    }
    for commit in &list.commits {
        plan.left_out(
            format!("{place} commit {commit}"),
            "tokenguard has no commit allowlist; its findings can be recorded by fingerprint (`tokenguard baseline`, `tokenguard ignore`)",
        );
    }
}

/// A gitleaks path regex as a path glob, when it is a plain path with anchors: `^dir/` ->
/// `/dir/`, `(^|/)vendor/` -> `vendor/`, `\.lock$` -> `*.lock`, `^a/b\.json$` -> `/a/b.json`.
/// Anything with other regex syntax is `None`: guessing would allow more than the regex did.
pub(super) fn path_regex_to_glob(regex: &str) -> Option<String> {
    let (start, rest) = if let Some(rest) = regex.strip_prefix("(^|/)") {
        ("anywhere", rest)
    } else if let Some(rest) = regex.strip_prefix('^') {
        ("root", rest)
    } else {
        ("inside", regex)
    };
    let (rest, ends) = match rest.strip_suffix('$') {
        Some(rest) if !rest.ends_with('\\') => (rest, true),
        _ => (rest, false),
    };
    let literal = unescape(rest)?;
    if literal.is_empty() || literal.contains(['*', '?', '[', '!']) {
        return None;
    }
    let directory = literal.ends_with('/');
    match (start, ends || directory) {
        ("root", true) => Some(format!("/{literal}")),
        ("anywhere", true) if !literal.trim_end_matches('/').contains('/') => Some(literal),
        ("anywhere", true) => Some(format!("**/{literal}")),
        ("inside", true) if ends && !literal.contains('/') => Some(format!("*{literal}")),
        _ => None,
    }
}

/// The text a regex of literal characters matches; `None` at any regex syntax.
fn unescape(regex: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = regex.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                escaped @ ('.' | '-' | '/' | '_' | '+' | '(' | ')' | '$' | '^') => {
                    out.push(escaped)
                }
                _ => return None,
            },
            '.' | '+' | '*' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' => {
                return None;
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// Reads `.gitleaksignore`: each fingerprint names a finding by place, which is looked up as
/// tokenguard finds it there.
pub(super) fn read_ignore(text: &str, plan: &mut Plan) {
    for line in text.lines() {
        let entry = line.trim();
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let source = format!(".gitleaksignore {entry}");
        let mut parts = entry.rsplitn(3, ':');
        let (Some(number), Some(_rule), Some(place)) = (parts.next(), parts.next(), parts.next())
        else {
            plan.left_out(
                source,
                "not a gitleaks fingerprint ([commit:]path:rule-id:line)",
            );
            continue;
        };
        let Ok(line) = number.parse::<u64>() else {
            plan.left_out(
                source,
                "not a gitleaks fingerprint ([commit:]path:rule-id:line)",
            );
            continue;
        };
        let (rev, path) = match place.split_once(':') {
            Some((commit, path))
                if commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                (commit.to_string(), path.to_string())
            }
            _ => ("HEAD".to_string(), place.to_string()),
        };
        plan.lookups.push(Lookup {
            source,
            rev,
            path,
            line,
        });
    }
}

/// A path regex (gitleaks' allowlist paths, detect-secrets' file filters) taken as the glob it
/// spells, or left out when no glob can say the same.
pub(super) fn take_path_regex(plan: &mut Plan, source: String, regex: &str) {
    match path_regex_to_glob(regex) {
        Some(glob) => plan.candidate(Candidate {
            source,
            entry: Entry::Path(glob.clone()),
            translated: Some(format!("path regex to the glob {glob:?}")),
        }),
        None => plan.left_out(
            source,
            "not a plain path regex that a path glob can express; add a glob to [allow] paths by hand",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_path_regexes_become_globs_and_others_do_not() {
        let cases = [
            ("^tests/fixtures/", Some("/tests/fixtures/")),
            ("(^|/)vendor/", Some("vendor/")),
            ("(^|/)testdata/keys/", Some("**/testdata/keys/")),
            ("\\.lock$", Some("*.lock")),
            ("^docs/api\\.md$", Some("/docs/api.md")),
            ("(^|/)package-lock\\.json$", Some("package-lock.json")),
            ("fixtures", None),
            (".*", None),
            ("(?i)\\.md$", None),
            ("^src/.*\\.py$", None),
            ("(^|/)go\\.(mod|sum)$", None),
        ];
        for (regex, glob) in cases {
            assert_eq!(path_regex_to_glob(regex).as_deref(), glob, "{regex}");
        }
    }
}
