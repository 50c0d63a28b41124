//! The matcher: candidate rules' regexes over a blob, kept only where the secret sits on an
//! added line and survives the filters; overlapping matches resolve to the most specific rule.
//! No I/O: bytes in, findings out.

use std::collections::BTreeMap;

use crate::detect::directive;
use crate::detect::filter::{self, Rejection};
use crate::detect::lines::AddedLines;
use crate::detect::policy::Policy;
use crate::detect::prefilter::{Prefilter, RuleMask};
use crate::detect::rules::{Rule, RuleSet, Side};
use crate::finding::Secret;
use crate::finding::{self, Finding, Location, RuleInfo};

/// How reports name suppressions by inline directives.
pub const INLINE_DIRECTIVE: &str = "inline comment";

/// Rules, prefilter and policy, compiled once and shared by every blob of a run.
#[derive(Debug, Clone)]
pub struct Scanner {
    rules: RuleSet,
    prefilter: Prefilter,
    policy: Policy,
    /// Keep each finding's secret for the opt-in live check (`--verify`) and nothing else.
    keep_secrets: bool,
}

/// What scanning one blob produced.
#[derive(Debug, Default)]
pub struct BlobScan {
    pub findings: Vec<Finding>,
    /// Findings that were suppressed, counted by what suppressed them (a config file, the
    /// ignore file, an inline comment).
    pub suppressed: BTreeMap<String, usize>,
    /// With `keep_secrets`: each finding's fingerprint and secret, for the live check.
    pub secrets: Vec<(String, Secret)>,
}

/// The matches of one blob that could become findings, whatever lines a change adds to it
/// (from [`Scanner::hits`]).
#[derive(Debug, Clone, Default)]
pub struct Hits(Vec<Hit>);

impl Hits {
    /// True when no change to the blob can add a finding.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A regex match that passed every filter, before overlaps are resolved.
#[derive(Debug, Clone, Copy)]
struct Hit {
    rule: usize,
    start: usize,
    end: usize,
    line: u64,
    line_start: usize,
    /// The rule needs no context, needs it anywhere in the file, or found it on the
    /// secret's own line: when providers' context windows overlap, the one named on the
    /// line wins.
    near: bool,
}

impl Hit {
    /// Closes the last cluster in [`Scanner::most_specific`].
    const SENTINEL: Hit = Hit {
        rule: usize::MAX,
        start: usize::MAX,
        end: usize::MAX,
        line: 0,
        line_start: 0,
        near: false,
    };
}

impl Scanner {
    /// A scanner with the built-in policy: nothing disabled or allowed beyond the rules.
    pub fn new(rules: RuleSet) -> Scanner {
        Scanner::with_policy(rules, Policy::default())
    }

    pub fn with_policy(rules: RuleSet, policy: Policy) -> Scanner {
        let prefilter = Prefilter::new(&rules.rules);
        Scanner {
            rules,
            prefilter,
            policy,
            keep_secrets: false,
        }
    }

    /// Keeps the secrets of findings for `--verify`.
    pub fn keeping_secrets(mut self, keep: bool) -> Scanner {
        self.keep_secrets = keep;
        self
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Rules that could match `content`: a blob with none cannot add a finding.
    pub fn candidates(&self, content: &[u8]) -> RuleMask {
        self.prefilter.candidates(content)
    }

    /// Scans `content` (the whole staged blob, so context on unchanged lines still counts) and
    /// reports secrets that start on an added line, unless something allows them.
    pub fn scan(
        &self,
        path: &str,
        content: &[u8],
        added: &AddedLines,
        candidates: &RuleMask,
    ) -> BlobScan {
        let hits = self.hits(content, candidates);
        self.scan_hits(path, content, added, &hits)
    }

    /// The candidate rules' matches in `content` that pass every filter that does not depend
    /// on which lines are added. None means no change to this blob can add a finding, so its
    /// lines need no diff; the same blob reached by many commits needs this only once.
    pub fn hits(&self, content: &[u8], candidates: &RuleMask) -> Hits {
        let mut matches: Vec<(usize, usize, usize)> = Vec::new();
        for index in candidates.iter() {
            let rule = &self.rules.rules[index];
            for caps in rule.regex().captures_iter(content) {
                if let Some(secret) = caps.get(1) {
                    matches.push((secret.start(), secret.end(), index));
                }
            }
        }
        matches.sort_unstable();
        let mut hits = Vec::new();
        let mut cursor = LineCursor::default();
        let mut file_context: Vec<Option<bool>> = vec![None; self.rules.rules.len()];
        for (start, end, index) in matches {
            let rule = &self.rules.rules[index];
            if self
                .reject(rule, content, start, end, &mut file_context[index])
                .is_some()
            {
                continue;
            }
            let (line, line_start) = cursor.advance(content, start);
            hits.push(Hit {
                rule: index,
                start,
                end,
                line,
                line_start,
                near: rule.context().is_none_or(|context| {
                    context.side == Side::File
                        || filter::context_on_line(content, start, end, context)
                }),
            });
        }
        Hits(hits)
    }

    /// [`Scanner::scan`] from the blob's [`Hits`]: those on an added line, resolved to one
    /// finding per secret, minus what the policy and allow comments suppress.
    pub fn scan_hits(
        &self,
        path: &str,
        content: &[u8],
        added: &AddedLines,
        hits: &Hits,
    ) -> BlobScan {
        let mut enabled = Vec::new();
        let mut disabled = Vec::new();
        for hit in hits.0.iter().filter(|hit| added.contains(hit.line)) {
            if self
                .policy
                .disabled_by(self.rules.rules[hit.rule].id())
                .is_some()
            {
                disabled.push(*hit);
            } else {
                enabled.push(*hit);
            }
        }

        let mut scan = BlobScan::default();
        let kept = self.most_specific(enabled);
        // A disabled rule's secret counts as suppressed only when no enabled rule reports it.
        for hit in self.most_specific(disabled) {
            if !kept.iter().any(|k| overlaps(k, &hit)) {
                let origin = self.policy.disabled_by(self.rules.rules[hit.rule].id());
                *scan
                    .suppressed
                    .entry(origin.unwrap_or_default().to_string())
                    .or_default() += 1;
            }
        }
        for hit in kept {
            let rule = &self.rules.rules[hit.rule];
            let secret = &content[hit.start..hit.end];
            let line_end = memchr::memchr(b'\n', &content[hit.start..])
                .map_or(content.len(), |i| hit.start + i);
            let line = &content[hit.line_start..line_end];
            let at = hit.start - hit.line_start;
            if self.directive_allows(rule, line, at, previous_line(content, hit.line_start)) {
                *scan
                    .suppressed
                    .entry(INLINE_DIRECTIVE.to_string())
                    .or_default() += 1;
                continue;
            }
            let fingerprint = finding::fingerprint(rule.id(), secret);
            if let Some(origin) =
                self.policy
                    .allowed_by(rule.id(), path, secret, line, &fingerprint)
            {
                *scan.suppressed.entry(origin.to_string()).or_default() += 1;
                continue;
            }
            let provider = self.rules.provider(rule);
            let info = RuleInfo {
                id: rule.id(),
                provider_key: &rule.spec.provider,
                provider: &provider.name,
                severity: rule.spec.severity,
                confidence: rule.spec.confidence,
            };
            let location = Location {
                path,
                line: hit.line,
                column: (hit.start - hit.line_start + 1) as u64,
            };
            let finding = Finding::new(info, location, secret);
            if self.keep_secrets {
                scan.secrets
                    .push((finding.fingerprint.clone(), Secret(secret.to_vec())));
            }
            scan.findings.push(finding);
        }
        scan
    }

    /// True when an inline directive allows `rule` here: a same-line marker in a comment on
    /// the secret's logical line (byte `at` of `line`), or a next-line marker on the logical
    /// line before it.
    fn directive_allows(
        &self,
        rule: &Rule,
        line: &[u8],
        at: usize,
        previous: Option<&[u8]>,
    ) -> bool {
        let is_rule_id = |word: &[u8]| self.rules.rules.iter().any(|r| r.id().as_bytes() == word);
        let allows = |logical: directive::LogicalLine<'_>, markers: &[String]| {
            markers
                .iter()
                .any(|marker| directive::allows(logical, marker, rule.id(), &is_rule_id))
        };
        allows(directive::around(line, at), &self.rules.allow.same_line)
            || directive::before(line, at, previous)
                .is_some_and(|prev| allows(prev, &self.rules.allow.next_line))
    }

    /// Why a match of `rule` at `start..end` is not a finding, if it is not.
    /// `file_context` caches, per rule, whether a file-wide context keyword is present: a
    /// blob with many matches must not be searched once per match.
    fn reject(
        &self,
        rule: &Rule,
        content: &[u8],
        start: usize,
        end: usize,
        file_context: &mut Option<bool>,
    ) -> Option<Rejection> {
        let secret = &content[start..end];
        if let Err(rejection) = filter::check_filters(secret, &rule.spec.filters) {
            return Some(rejection);
        }
        if self.rules.is_placeholder(rule, secret) {
            return Some(Rejection::Placeholder);
        }
        if filter::is_preceded_by(content, start, &rule.spec.filters.not_preceded_by) {
            return Some(Rejection::Preceded);
        }
        if filter::is_reference(secret, &self.rules.references) {
            return Some(Rejection::Reference);
        }
        if let Some(context) = rule.context() {
            let found = match context.side {
                Side::File => {
                    *file_context.get_or_insert_with(|| context.keywords.is_match(content))
                }
                _ => filter::has_context(content, start, end, context),
            };
            if !found {
                return Some(Rejection::NoContext);
            }
        }
        None
    }

    /// One secret is reported once: among overlapping hits a specific rule beats a fallback,
    /// then a rule whose context is on the secret's line (or that needs none), then the higher
    /// confidence, then the longer match (`uuid:secret` over its hex tail), then the rule
    /// listed first in the rules file.
    /// Hits are first cut into clusters of mutually overlapping spans (in position order),
    /// so that a blob with many secrets costs time linear in their number.
    fn most_specific(&self, mut hits: Vec<Hit>) -> Vec<Hit> {
        hits.sort_by_key(|hit| (hit.start, hit.end));
        let priority = |hit: &Hit| {
            let spec = &self.rules.rules[hit.rule].spec;
            (
                spec.fallback,
                !hit.near,
                std::cmp::Reverse(spec.confidence),
                std::cmp::Reverse(hit.end - hit.start),
                hit.rule,
            )
        };
        let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
        let mut cluster: Vec<Hit> = Vec::new();
        let mut cluster_end = 0;
        for hit in hits.into_iter().chain(std::iter::once(Hit::SENTINEL)) {
            if !cluster.is_empty() && hit.start >= cluster_end {
                cluster.sort_by_key(priority);
                let first_kept = kept.len();
                for candidate in cluster.drain(..) {
                    if !kept[first_kept..].iter().any(|k| overlaps(k, &candidate)) {
                        kept.push(candidate);
                    }
                }
                kept[first_kept..].sort_by_key(|hit| (hit.start, hit.rule));
            }
            if hit.rule == usize::MAX {
                break;
            }
            cluster_end = if cluster.is_empty() {
                hit.end
            } else {
                cluster_end.max(hit.end)
            };
            cluster.push(hit);
        }
        kept
    }
}

fn overlaps(a: &Hit, b: &Hit) -> bool {
    a.start < b.end && b.start < a.end
}

/// The line before the one starting at `line_start`, if there is one.
fn previous_line(content: &[u8], line_start: usize) -> Option<&[u8]> {
    let end = line_start.checked_sub(1)?;
    let start = memchr::memrchr(b'\n', &content[..end]).map_or(0, |i| i + 1);
    Some(&content[start..end])
}

/// Turns increasing byte offsets into 1-based line numbers with one pass over the content.
#[derive(Debug, Default)]
struct LineCursor {
    offset: usize,
    line: u64,
    line_start: usize,
}

impl LineCursor {
    /// Line number and line start of `offset`; offsets must not decrease.
    fn advance(&mut self, content: &[u8], offset: usize) -> (u64, usize) {
        if self.line == 0 {
            self.line = 1;
        }
        for newline in memchr::memchr_iter(b'\n', &content[self.offset..offset]) {
            self.line += 1;
            self.line_start = self.offset + newline + 1;
        }
        self.offset = offset;
        (self.line, self.line_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::shape::Shape;

    fn scanner() -> Scanner {
        Scanner::new(RuleSet::builtin().unwrap())
    }

    /// A token of `shape` that passes the rule's own filters (retrying seeds, as a real token
    /// would be drawn until it looks random enough).
    pub(crate) fn token_for(
        scanner: &Scanner,
        rule_id: &str,
        seed: u64,
    ) -> crate::detect::shape::Sample {
        let rule = scanner
            .rules
            .rules
            .iter()
            .find(|r| r.id() == rule_id)
            .unwrap();
        let shape = Shape::parse(&rule.spec.examples.as_ref().unwrap().shape).unwrap();
        (seed..seed + 1000)
            .map(|s| shape.generate(s))
            .find(|sample| {
                filter::check_filters(sample.token.as_bytes(), &rule.spec.filters).is_ok()
                    && !scanner.rules.is_placeholder(rule, sample.token.as_bytes())
            })
            .unwrap()
    }

    fn scan_all(scanner: &Scanner, text: &str) -> Vec<Finding> {
        let candidates = scanner.candidates(text.as_bytes());
        scanner
            .scan("f", text.as_bytes(), &AddedLines::All, &candidates)
            .findings
    }

    #[test]
    fn only_added_lines_count() {
        let scanner = scanner();
        let token = token_for(&scanner, "replicate-api-token", 7).token;
        let text = format!("a\nkey = \"{token}\"\nc\n");
        let candidates = scanner.candidates(text.as_bytes());
        let on_line_2 = AddedLines::from_ranges(vec![(2, 2)]);
        let on_line_3 = AddedLines::from_ranges(vec![(3, 3)]);
        let found = scanner.scan("f", text.as_bytes(), &on_line_2, &candidates);
        assert_eq!(found.findings.len(), 1);
        assert_eq!((found.findings[0].line, found.findings[0].column), (2, 8));
        assert!(
            scanner
                .scan("f", text.as_bytes(), &on_line_3, &candidates)
                .findings
                .is_empty()
        );
    }

    #[test]
    fn context_may_sit_on_an_unchanged_line() {
        let scanner = scanner();
        let key = token_for(&scanner, "baseten-api-key", 1).token;
        let text = format!("[baseten]\napi_key = {key}\n");
        let candidates = scanner.candidates(text.as_bytes());
        let added = AddedLines::from_ranges(vec![(2, 2)]);
        let findings = scanner
            .scan("f", text.as_bytes(), &added, &candidates)
            .findings;
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule_id, "baseten-api-key");
    }

    #[test]
    fn most_specific_rule_wins_an_overlap() {
        let scanner = scanner();
        let token = token_for(&scanner, "replicate-api-token", 3).token;
        let findings = scan_all(&scanner, &format!("REPLICATE_API_TOKEN={token}"));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule_id, "replicate-api-token");
        let key = token_for(&scanner, "baseten-api-key", 3).token;
        let findings = scan_all(
            &scanner,
            &format!("# baseten\nAuthorization: Api-Key {key}"),
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].provider, "Baseten");
    }

    #[test]
    fn allow_comments_suppress_and_are_counted() {
        let scanner = scanner();
        let token = token_for(&scanner, "replicate-api-token", 4).token;
        for marker in [
            "# tokenguard:allow",
            "// pragma: allowlist secret",
            "/* gitleaks:allow */",
        ] {
            let text = format!("x = \"{token}\" {marker}\ny = \"{token}\"\n");
            let candidates = scanner.candidates(text.as_bytes());
            let scan = scanner.scan("f", text.as_bytes(), &AddedLines::All, &candidates);
            assert_eq!(scan.suppressed[INLINE_DIRECTIVE], 1, "{marker}");
            assert_eq!(scan.findings.len(), 1, "{marker}");
            assert_eq!(scan.findings[0].line, 2);
        }
    }

    #[test]
    fn line_cursor_counts_crlf_and_long_lines() {
        let content = b"ab\r\ncd\r\n\r\nxyz";
        let mut cursor = LineCursor::default();
        assert_eq!(cursor.advance(content, 1), (1, 0));
        assert_eq!(cursor.advance(content, 4), (2, 4));
        assert_eq!(cursor.advance(content, 11), (4, 10));
    }
}
