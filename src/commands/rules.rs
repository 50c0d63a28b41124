//! `tokenguard rules` (list the catalog) and `tokenguard rules check` (validate a rules file
//! and run every rule's examples).

use std::collections::HashMap;
use std::io::Write;

use super::{repository_root, settings_for};
use crate::cli::{ListFormat, RulesAction, RulesArgs};
use crate::config::ConfigOptions;
use crate::detect::Scanner;
use crate::detect::examples;
use crate::detect::rules::{BUILTIN_RULES, Problem, RuleSet};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::report;
use crate::report::catalog::Catalog;

pub(super) fn run(args: &RulesArgs, options: &ConfigOptions) -> Result<ExitStatus> {
    if let Some(RulesAction::Check { rules }) = &args.action {
        return check_rules(rules.as_deref(), options);
    }
    let settings = settings_for(options, repository_root().as_deref())?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        ListFormat::Human => {
            report::rules::write_table(&mut stdout, &Catalog::whole(&settings.rules))?
        }
        ListFormat::Json => {
            report::rules::write_json(&mut stdout, &Catalog::whole(&settings.rules))?
        }
        ListFormat::Markdown => {
            let catalog = Catalog::with_live_checks(&settings.rules);
            report::rules::write_markdown(&mut stdout, &catalog)?
        }
    }
    Ok(ExitStatus::Clean)
}

/// Validates a rules file (and the configuration's custom rules on top of the built-in ones)
/// and runs every rule's examples; each problem is printed with its rule id.
fn check_rules(path: Option<&std::path::Path>, options: &ConfigOptions) -> Result<ExitStatus> {
    let (text, origin) = match path {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?,
            path.display().to_string(),
        ),
        None => (BUILTIN_RULES.to_string(), "built-in rules".to_string()),
    };
    let (set, mut problems) = RuleSet::check_toml(&text, &origin)?;
    let mut rule_count = 0;
    // Custom rule id -> the config file that defines it.
    let mut custom = HashMap::new();
    if let Some(set) = set {
        let set = match path {
            Some(_) => set,
            // Config errors (file:line:column) end the check with status 2, like a scan.
            None => {
                let settings = settings_for(options, repository_root().as_deref())?;
                for entry in settings.sources.get("rules").into_iter().flatten() {
                    custom.insert(entry.value.clone(), entry.origin.clone());
                }
                settings.rules
            }
        };
        rule_count = set.len();
        problems.extend(examples::check(&Scanner::new(set)));
    }
    let mut stdout = std::io::stdout().lock();
    for line in summarise(&problems, &origin, &custom) {
        writeln!(stdout, "{line}")?;
    }
    if problems.is_empty() {
        writeln!(
            stdout,
            "{rule_count} rules ok: each matched its examples in every context and missed its negatives"
        )?;
        Ok(ExitStatus::Clean)
    } else {
        writeln!(stdout, "{} problems", problems.len())?;
        Ok(ExitStatus::Blocked)
    }
}

/// One or two lines per broken rule, however many of its examples fail: the first problem in
/// full, then how many more and in which contexts. A custom rule is named as custom, with the
/// file that defines it.
fn summarise(problems: &[Problem], origin: &str, custom: &HashMap<String, String>) -> Vec<String> {
    let mut order: Vec<Option<&str>> = Vec::new();
    let mut by_rule: HashMap<Option<&str>, Vec<&Problem>> = HashMap::new();
    for problem in problems {
        let key = problem.rule_id.as_deref();
        if !by_rule.contains_key(&key) {
            order.push(key);
        }
        by_rule.entry(key).or_default().push(problem);
    }
    let mut lines = Vec::new();
    for key in order {
        let group = &by_rule[&key];
        let Some(id) = key else {
            lines.extend(group.iter().map(|p| format!("{origin}: {p}")));
            continue;
        };
        let name = match custom.get(id) {
            Some(file) => format!("{file}: custom rule {id}"),
            None => format!("{origin}: rule {id}"),
        };
        lines.push(format!("{name}: {}", group[0].message));
        if group.len() > 1 {
            let mut cases: Vec<&str> = Vec::new();
            for problem in &group[1..] {
                let case = problem.message.split(" (seed").next().unwrap_or("");
                if !cases.contains(&case) {
                    cases.push(case);
                }
            }
            let shown = cases.iter().take(6).copied().collect::<Vec<_>>().join(", ");
            let more = if cases.len() > 6 { ", ..." } else { "" };
            lines.push(format!(
                "  and {} more problems of {id} (in {shown}{more})",
                group.len() - 1
            ));
        }
    }
    lines
}
