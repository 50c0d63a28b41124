//! The catalog as reports read it: each provider's name, docs, revoke page, variables and
//! rotation steps, and each rule's description, as plain borrowed data. The one place in
//! `report` that looks inside the compiled rules; reports never see a regex or a matcher.

use std::collections::BTreeMap;

use crate::detect::rules::{Confidence, RuleSet, Severity};

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

/// Providers by key and rules in catalog order.
#[derive(Debug, Clone, Default)]
pub struct Catalog<'a> {
    pub providers: BTreeMap<&'a str, ProviderView<'a>>,
    pub rules: Vec<RuleView<'a>>,
}

impl<'a> Catalog<'a> {
    /// Every rule and provider (SARIF's descriptors, `rules`, `explain`).
    pub fn whole(rules: &'a RuleSet) -> Catalog<'a> {
        Catalog::select(rules, |_| true)
    }

    /// Only the providers and rules of `rule_ids`: a blocked commit's report reads a few
    /// providers' texts, not the whole catalog's.
    pub fn of_rules<'i>(rules: &'a RuleSet, rule_ids: impl IntoIterator<Item = &'i str>) -> Self {
        let wanted: std::collections::BTreeSet<&str> = rule_ids.into_iter().collect();
        Catalog::select(rules, |id| wanted.contains(id))
    }

    fn select(rules: &'a RuleSet, keep: impl Fn(&str) -> bool) -> Catalog<'a> {
        let mut catalog = Catalog::default();
        for rule in rules.rules.iter().filter(|rule| keep(rule.id())) {
            let key = rule.spec.provider.as_str();
            if let Some(provider) = rules.providers.get(key) {
                catalog.providers.entry(key).or_insert(ProviderView {
                    name: &provider.name,
                    docs: &provider.docs,
                    revoke_url: &provider.revoke_url,
                    env_vars: &provider.env_vars,
                    steps: &provider.steps,
                });
            }
            catalog.rules.push(RuleView {
                id: rule.id(),
                provider: key,
                description: &rule.spec.description,
                severity: rule.spec.severity,
                confidence: rule.spec.confidence,
                sources: &rule.spec.sources,
            });
        }
        catalog
    }

    pub fn provider(&self, key: &str) -> Option<&ProviderView<'a>> {
        self.providers.get(key)
    }

    pub fn rule(&self, id: &str) -> Option<&RuleView<'a>> {
        self.rules.iter().find(|rule| rule.id == id)
    }

    /// The rule's index in catalog order (SARIF's `ruleIndex`).
    pub fn rule_index(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|rule| rule.id == id)
    }
}
