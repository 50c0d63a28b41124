//! The matcher: candidate rules' regexes over a blob, kept only where the secret sits on an
//! added line and survives the filters; overlapping matches resolve to the most specific rule.
//! No I/O: bytes in, findings out.

use crate::filter::{self, Rejection};
use crate::finding::{Finding, Location, RuleInfo};
use crate::lines::AddedLines;
use crate::prefilter::{Prefilter, RuleMask};
use crate::rules::{Rule, RuleSet};

/// Rules and prefilter, compiled once and shared by every blob of a run.
#[derive(Debug, Clone)]
pub struct Scanner {
    rules: RuleSet,
    prefilter: Prefilter,
}

/// What scanning one blob produced.
#[derive(Debug, Default)]
pub struct BlobScan {
    pub findings: Vec<Finding>,
    /// Findings silenced by an inline allow comment.
    pub suppressed_inline: usize,
}

/// A regex match that passed every filter, before overlaps are resolved.
#[derive(Debug, Clone, Copy)]
struct Hit {
    rule: usize,
    start: usize,
    end: usize,
    line: u64,
    column: u64,
}

impl Scanner {
    pub fn new(rules: RuleSet) -> Scanner {
        let prefilter = Prefilter::new(&rules.rules);
        Scanner { rules, prefilter }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Rules that could match `content`: a blob with none cannot add a finding.
    pub fn candidates(&self, content: &[u8]) -> RuleMask {
        self.prefilter.candidates(content)
    }

    /// Scans `content` (the whole staged blob, so context on unchanged lines still counts) and
    /// reports secrets that start on an added line.
    pub fn scan(
        &self,
        path: &str,
        content: &[u8],
        added: &AddedLines,
        candidates: &RuleMask,
    ) -> BlobScan {
        let mut matches: Vec<(usize, usize, usize)> = Vec::new();
        for index in candidates.iter() {
            let rule = &self.rules.rules[index];
            for caps in rule.regex.captures_iter(content) {
                if let Some(secret) = caps.get(1) {
                    matches.push((secret.start(), secret.end(), index));
                }
            }
        }
        matches.sort_unstable();

        let mut scan = BlobScan::default();
        let mut hits = Vec::new();
        let mut cursor = LineCursor::default();
        for (start, end, index) in matches {
            let (line, line_start) = cursor.advance(content, start);
            if !added.contains(line) {
                continue;
            }
            let rule = &self.rules.rules[index];
            if self.reject(rule, content, start, end).is_some() {
                continue;
            }
            let line_end =
                memchr::memchr(b'\n', &content[start..]).map_or(content.len(), |i| start + i);
            if filter::has_allow_marker(&content[line_start..line_end], &self.rules.allow.same_line)
            {
                scan.suppressed_inline += 1;
                continue;
            }
            hits.push(Hit {
                rule: index,
                start,
                end,
                line,
                column: (start - line_start + 1) as u64,
            });
        }

        for hit in self.most_specific(hits) {
            let rule = &self.rules.rules[hit.rule];
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
                column: hit.column,
            };
            scan.findings
                .push(Finding::new(info, location, &content[hit.start..hit.end]));
        }
        scan
    }

    /// Why a match of `rule` at `start..end` is not a finding, if it is not.
    fn reject(&self, rule: &Rule, content: &[u8], start: usize, end: usize) -> Option<Rejection> {
        let secret = &content[start..end];
        if let Some(context) = &rule.context {
            if !filter::has_context(content, start, end, context) {
                return Some(Rejection::NoContext);
            }
        }
        if let Err(rejection) = filter::check_filters(secret, &rule.spec.filters) {
            return Some(rejection);
        }
        if filter::is_placeholder(secret, &self.rules.placeholders)
            || filter::is_rule_placeholder(secret, &rule.spec.placeholders)
        {
            return Some(Rejection::Placeholder);
        }
        if filter::is_preceded_by(content, start, &rule.spec.filters.not_preceded_by) {
            return Some(Rejection::Preceded);
        }
        if filter::is_reference(secret, &self.rules.references) {
            return Some(Rejection::Reference);
        }
        None
    }

    /// One secret is reported once: among overlapping hits a specific rule beats a fallback,
    /// then the higher confidence wins, then the rule listed first in the rules file.
    fn most_specific(&self, mut hits: Vec<Hit>) -> Vec<Hit> {
        hits.sort_by_key(|hit| {
            let spec = &self.rules.rules[hit.rule].spec;
            (spec.fallback, std::cmp::Reverse(spec.confidence), hit.rule)
        });
        let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
        for hit in hits {
            if !kept.iter().any(|k| k.start < hit.end && hit.start < k.end) {
                kept.push(hit);
            }
        }
        kept.sort_by_key(|hit| (hit.start, hit.rule));
        kept
    }
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
    use crate::shape::Shape;

    fn scanner() -> Scanner {
        Scanner::new(RuleSet::builtin().unwrap())
    }

    /// A token of `shape` that passes the rule's own filters (retrying seeds, as a real token
    /// would be drawn until it looks random enough).
    pub(crate) fn token_for(scanner: &Scanner, rule_id: &str, seed: u64) -> crate::shape::Sample {
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
                    && !filter::is_placeholder(sample.token.as_bytes(), &scanner.rules.placeholders)
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
            assert_eq!(scan.suppressed_inline, 1, "{marker}");
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
