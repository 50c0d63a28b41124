//! detect-secrets' `.secrets.baseline`, read for `tokenguard import`: its results (each a
//! file, a line and a hashed secret, audited or not) and its exclude filters (path, line and
//! secret regexes given to `--exclude-files`, `--exclude-lines`, `--exclude-secrets`). Format
//! as detect-secrets 1.x writes it: <https://github.com/Yelp/detect-secrets#quickstart>.

use std::collections::BTreeMap;

use super::{Candidate, Entry, Lookup, Plan};
use crate::error::{Error, Result};

#[derive(Debug, serde::Deserialize)]
struct Baseline {
    #[serde(default)]
    filters_used: Vec<Filter>,
    #[serde(default)]
    results: BTreeMap<String, Vec<Secret>>,
}

#[derive(Debug, serde::Deserialize)]
struct Filter {
    path: String,
    #[serde(default)]
    pattern: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Secret {
    #[serde(rename = "type")]
    kind: String,
    line_number: u64,
    is_secret: Option<bool>,
}

/// Reads `.secrets.baseline`'s text into `plan`.
pub(super) fn read_baseline(text: &str, plan: &mut Plan) -> Result<()> {
    let file = ".secrets.baseline";
    let baseline: Baseline = serde_json::from_str(text)
        .map_err(|err| Error::Usage(format!("{file}: not a detect-secrets baseline: {err}")))?;
    for filter in &baseline.filters_used {
        read_filter(filter, plan);
    }
    for (path, secrets) in &baseline.results {
        for secret in secrets {
            let source = format!("{file} {} at {path}:{}", secret.kind, secret.line_number);
            if secret.is_secret == Some(true) {
                plan.left_out(
                    source,
                    "audited as a real secret: rotate it and take it out, do not ignore it",
                );
                continue;
            }
            plan.lookups.push(Lookup {
                source,
                rev: "HEAD".to_string(),
                path: path.clone(),
                line: secret.line_number,
            });
        }
    }
    Ok(())
}

fn read_filter(filter: &Filter, plan: &mut Plan) {
    let kind = filter.path.rsplit('.').next().unwrap_or_default();
    let target = match kind {
        "should_exclude_file" => None,
        "should_exclude_line" => Some("line"),
        "should_exclude_secret" => Some("secret"),
        // The heuristic filters are detect-secrets' own; tokenguard has its own placeholder
        // and reference checks.
        _ => return,
    };
    for pattern in &filter.pattern {
        let source = format!(".secrets.baseline {kind} {pattern:?}");
        match target {
            Some(target) => plan.candidate(Candidate {
                source,
                entry: Entry::Regex {
                    regex: pattern.clone(),
                    target,
                },
                translated: None,
            }),
            None => super::gitleaks::take_path_regex(plan, source, pattern),
        }
    }
}
