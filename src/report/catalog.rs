//! The catalog as reports read it: each provider's name, docs, revoke page, variables and
//! rotation steps, and each rule's description, as plain borrowed data. The one place in
//! `report` that looks inside the compiled rules; reports never see a regex or a matcher.

use std::collections::BTreeMap;

use crate::detect::rules::{Confidence, RuleSet, Severity};
use crate::detect::schema::VerifySpec;

/// What a report says about a provider.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ProviderView<'a> {
    pub name: &'a str,
    pub docs: &'a str,
    pub revoke_url: &'a str,
    pub env_vars: &'a [String],
    /// The whole rotation checklist.
    pub steps: &'a [String],
}

/// What a report says about a rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleView<'a> {
    pub id: &'a str,
    /// Key of its provider in [`Catalog::providers`].
    pub provider: &'a str,
    pub description: &'a str,
    pub severity: Severity,
    pub confidence: Confidence,
    pub sources: &'a [String],
}

/// A rule's live check (`--verify`): what is sent where.
#[derive(Debug, Clone, Copy)]
pub struct CheckView<'a> {
    pub rule_id: &'a str,
    pub verify: &'a VerifySpec,
}

/// Providers by key and rules in catalog order, with an index by rule id.
#[derive(Debug, Clone, Default)]
pub struct Catalog<'a> {
    pub providers: BTreeMap<&'a str, ProviderView<'a>>,
    pub rules: Vec<RuleView<'a>>,
    /// The position in `rules` of each rule id.
    index: std::collections::HashMap<&'a str, usize>,
    /// The live checks, in catalog order; only from [`Catalog::with_live_checks`].
    pub checks: Vec<CheckView<'a>>,
    /// How many providers the catalog defines, with rules or not (`tokenguard config`).
    pub provider_count: usize,
}

impl<'a> Catalog<'a> {
    /// Every rule and provider (SARIF's descriptors, `rules`, `explain`).
    pub fn whole(rules: &'a RuleSet) -> Catalog<'a> {
        Catalog::select(rules, |_| true)
    }

    /// Every rule and provider and every live check (`tokenguard rules --format markdown`):
    /// reading a check decodes it, so only the listing that prints them asks.
    pub fn with_live_checks(rules: &'a RuleSet) -> Catalog<'a> {
        let mut catalog = Catalog::whole(rules);
        catalog.checks = rules
            .iter()
            .filter_map(|rule| {
                let verify = rule.verify()?;
                Some(CheckView {
                    rule_id: rule.id(),
                    verify,
                })
            })
            .collect();
        catalog
    }

    /// Only the providers and rules of `rule_ids`: a blocked commit's report reads a few
    /// providers' texts, not the whole catalog's.
    pub fn of_rules<'i>(rules: &'a RuleSet, rule_ids: impl IntoIterator<Item = &'i str>) -> Self {
        let wanted: std::collections::BTreeSet<&str> = rule_ids.into_iter().collect();
        Catalog::select(rules, |id| wanted.contains(id))
    }

    fn select(rules: &'a RuleSet, keep: impl Fn(&str) -> bool) -> Catalog<'a> {
        let mut catalog = Catalog {
            provider_count: rules.providers.count(),
            ..Catalog::default()
        };
        for rule in rules.iter().filter(|rule| keep(rule.id())) {
            let key = rule.spec().provider.as_str();
            if let Some(provider) = rules.providers.get(key) {
                catalog.providers.entry(key).or_insert(ProviderView {
                    name: &provider.name,
                    docs: &provider.docs,
                    revoke_url: &provider.revoke_url,
                    env_vars: &provider.env_vars,
                    steps: &provider.steps,
                });
            }
            catalog.index.insert(rule.id(), catalog.rules.len());
            catalog.rules.push(RuleView {
                id: rule.id(),
                provider: key,
                description: &rule.spec().description,
                severity: rule.spec().severity,
                confidence: rule.spec().confidence,
                sources: &rule.spec().sources,
            });
        }
        catalog
    }

    pub fn provider(&self, key: &str) -> Option<&ProviderView<'a>> {
        self.providers.get(key)
    }

    pub fn rule(&self, id: &str) -> Option<&RuleView<'a>> {
        self.rules.get(*self.index.get(id)?)
    }

    /// The rule's index in catalog order (SARIF's `ruleIndex`).
    pub fn rule_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }
}
