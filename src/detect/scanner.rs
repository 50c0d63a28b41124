//! The matcher: candidate rules' regexes over a blob, kept only where the secret sits on an
//! added line and survives the filters; overlapping matches resolve to the most specific rule.
//! No I/O: bytes in, findings out.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::detect::decode::{self, View};
use crate::detect::directive;
use crate::detect::filter::{self, Rejection};
use crate::detect::lines::{AddedLines, LineCursor, line_bounds, previous_line};
use crate::detect::path_context::ProviderNames;
use crate::detect::policy::Policy;
use crate::detect::prefilter::{Prefilter, RuleMask, Walked, WordsSeen};
use crate::detect::required_run::ClassRuns;
use crate::detect::rules::{Rule, RuleSet, Side};
use crate::detect::shared_regex;
use crate::detect::token_runs;
use crate::finding::Secret;
use crate::finding::{self, Match, RuleInfo};
use crate::scratch::Lent;

/// Blobs up to this size have their token runs listed (see [`token_runs`]); a bigger one is
/// searched whole, as a list of its runs could take a fifth of its size in memory (a line of
/// 67 bytes holding one run of 16 token bytes) against the README's bound of the blob's old
/// and new versions plus 64 MB.
pub const TOKEN_RUNS_UP_TO: usize = 4 << 20;

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
    /// Look through escapes and encodings too (off only to measure what that costs).
    decoding: bool,
    /// Which rules a file's path names (built on first use).
    path_names: std::sync::OnceLock<ProviderNames>,
}

/// Which rules can match a blob: in the blob itself, and in each decoded view of it that
/// holds a rule keyword.
#[derive(Debug, Clone)]
pub struct Candidates {
    plain: RuleMask,
    /// The words the prefilter's automaton saw in the blob, when it walked it (not in views).
    plain_words: Option<WordsSeen>,
    views: Vec<(View, RuleMask)>,
    /// The blob's token runs, where every class run a rule needs lies (see
    /// [`token_runs`]); `None` when not looked for.
    token_runs: Option<Vec<std::ops::Range<usize>>>,
}

impl Candidates {
    /// No rule can match: the blob cannot add a finding.
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.views.is_empty()
    }

    /// The rules whose keywords occur in the blob itself.
    pub fn plain(&self) -> &RuleMask {
        &self.plain
    }
}

/// What scanning one blob produced.
#[derive(Debug, Default)]
pub struct BlobScan {
    /// The secrets found, each still to be placed (a [`Match`] becomes a finding with its
    /// origin).
    pub matches: Vec<Match>,
    /// Findings that were suppressed, counted by what suppressed them (a config file, the
    /// ignore file, an inline comment).
    pub suppressed: BTreeMap<String, usize>,
    /// With `keep_secrets`: each finding's fingerprint and secret, for the live check.
    pub secrets: Vec<(String, Secret)>,
}

impl BlobScan {
    /// One more finding suppressed by `origin`.
    fn count_suppressed(&mut self, origin: &str) {
        *self.suppressed.entry(origin.to_string()).or_default() += 1;
    }
}

/// The matches of one blob that could become findings, whatever lines a change adds to it
/// (from [`Scanner::hits`]), with the texts they were found in.
#[derive(Debug, Clone, Default)]
pub struct Hits {
    hits: Vec<Hit>,
    /// The blob with its escapes masked (same offsets), when masking changed it: in the
    /// thread's buffer for it, as big as the blob.
    masked: Option<Lent>,
    /// The decoded views, each with its escapes masked where that changed it.
    views: Vec<(View, Option<Vec<u8>>)>,
}

impl Hits {
    /// True when no change to the blob can add a finding.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// The lines the hits start on, ascending and distinct.
    pub fn lines(&self) -> Vec<u64> {
        let mut lines: Vec<u64> = self.hits.iter().map(|hit| hit.line).collect();
        lines.sort_unstable();
        lines.dedup();
        lines
    }

    /// The text `rule` runs on in `view` (the blob masked unless the rule reads escapes).
    fn text<'a>(&'a self, content: &'a [u8], view: ViewId, rule: &Rule) -> &'a [u8] {
        match view {
            ViewId::Blob if rule.reads_escapes() => content,
            ViewId::Blob => self.masked.as_deref().map_or(content, Vec::as_slice),
            ViewId::Decoded(index) => {
                let (view, masked) = &self.views[index];
                masked.as_deref().unwrap_or(&view.text)
            }
        }
    }

    /// The decoded view a match was found in; `None` for the blob itself.
    fn view(&self, view: ViewId) -> Option<&View> {
        match view {
            ViewId::Blob => None,
            ViewId::Decoded(index) => Some(&self.views[index].0),
        }
    }
}

/// A byte range in the text it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Which text a match was found in: the blob itself, or one of its decoded views (an index
/// into [`Hits::views`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ViewId {
    Blob,
    Decoded(usize),
}

/// A rule's regex match before the filters. Ordered by its place in the blob, then rule and
/// view, which is the order hits are located in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RawMatch {
    /// The secret in the blob (for a decoded view: the encoded bytes it came from).
    span: Span,
    /// Index of the rule in the rule set.
    rule: usize,
    view: ViewId,
    /// The secret in the view it was found in (the same as `span` in the blob).
    view_span: Span,
}

/// A match that passed every filter that does not depend on which lines are added, with its
/// place in the blob; before overlaps are resolved.
#[derive(Debug, Clone, Copy)]
struct Hit {
    found: RawMatch,
    line: u64,
    line_start: usize,
    column: u64,
    /// The rule needs no context, needs it anywhere in the file, or found it on the
    /// secret's own line: when providers' context windows overlap, the one named on the
    /// line wins.
    near: bool,
}

impl Hit {
    fn rule(&self) -> usize {
        self.found.rule
    }

    fn span(&self) -> Span {
        self.found.span
    }
}

/// The last text searched for literals, lowercased, kept while rules with literals take turns
/// on it.
struct LiteralText<'a> {
    of: Option<&'a [u8]>,
    /// The thread's lowercase buffer: as big as the texts, so one per blob would fault in
    /// fresh pages for each.
    lower: Lent,
}

thread_local! {
    /// The thread's buffer for [`LiteralText`]'s lowercase copies.
    static LOWERCASE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The thread's buffer for [`Hits`]' escape-masked blob.
    static MASKED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl<'a> LiteralText<'a> {
    fn new() -> LiteralText<'a> {
        LiteralText {
            of: None,
            lower: Lent::from(&LOWERCASE),
        }
    }

    /// Whether `rule` may match in `text`: its literals are looked for before its regex is
    /// compiled or run, since a vendor's name alone makes its generated rule a candidate.
    /// `walked`: the prefilter's walk of the text `text` is or masks, which tells where a
    /// literal's first word can be (nowhere when the walk did not see it).
    fn allows(&mut self, rule: &Rule, text: &'a [u8], walked: Option<Walked>) -> bool {
        if rule.spec().literals.is_empty() {
            return true;
        }
        match walked {
            None => rule.may_match(self.lower(text)),
            Some(walked) => {
                rule.may_match_where(text, |word| walked.places(text, word), || self.lower(text))
            }
        }
    }

    /// `text` ASCII-lowercased when the call asks (the shared matcher of the generated rules
    /// searches words the walk did not see).
    fn lazily<'s>(&'s mut self, text: &'a [u8]) -> impl FnOnce() -> &'s [u8] + use<'s, 'a> {
        move || self.lower(text)
    }

    /// `text` ASCII-lowercased (kept for the next rule on the same text).
    fn lower(&mut self, text: &'a [u8]) -> &[u8] {
        if !self.of.is_some_and(|of| std::ptr::eq(of, text)) {
            self.lower.clear();
            self.lower.extend(text.iter().map(u8::to_ascii_lowercase));
            self.of = Some(text);
        }
        &self.lower
    }
}

impl Scanner {
    /// A scanner with the built-in policy: nothing disabled or allowed beyond the rules.
    pub fn new(rules: RuleSet) -> Scanner {
        Scanner::with_policy(rules, Policy::default())
    }

    pub fn with_policy(rules: RuleSet, policy: Policy) -> Scanner {
        let prefilter = Prefilter::of(&rules);
        Scanner {
            rules,
            prefilter,
            policy,
            keep_secrets: false,
            decoding: true,
            path_names: std::sync::OnceLock::new(),
        }
    }

    /// Turns the decoding layer off: only to measure what it costs
    /// (`TOKENGUARD_MEASURE_WITHOUT_DECODING`).
    pub fn with_decoding(mut self, decoding: bool) -> Scanner {
        self.decoding = decoding;
        self
    }

    /// Keeps the secrets of findings for `--verify`.
    pub fn keeping_secrets(mut self, keep: bool) -> Scanner {
        self.keep_secrets = keep;
        self
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The tables a large scan reads whatever its files hold, each built on first use: a
    /// thread that would otherwise wait (the early thread, while the calling thread compares)
    /// builds them one at a time, so that the scanning threads neither build them nor wait
    /// while the other does. The keyword automaton (built at run time for a rule set with
    /// rules of a config's own, read past its first 256 KiB; the built-in one is read from
    /// the binary at almost no cost) and the providers' names in paths (read at every
    /// file). Not the providers (2.6 M to decode): only a match's placeholder check reads
    /// them, and a 500-file modified commit never decodes them.
    pub fn warm_ups() -> [fn(&Scanner); 2] {
        [
            |scanner| scanner.prefilter.warm_up(),
            |scanner| {
                let _ = scanner.named_by("");
            },
        ]
    }

    /// Rules that could match `content` or one of its decoded views: a blob with none cannot
    /// add a finding.
    pub fn candidates(&self, content: &[u8]) -> Candidates {
        let (plain, plain_words) = self.prefilter.candidates_and_words(content);
        self.with_views(content, content.len(), true, (plain, plain_words))
    }

    /// The candidates of `text` (a blob of `blob_len` bytes, or a run of its lines) given its
    /// own: its decoded views that may wake a rule, with those rules, and its token runs when
    /// the blob is small enough to list them; UTF-16 is looked for only when `text` is the
    /// whole blob. Counts the bytes toward the regex caches' idle budget.
    fn with_views(
        &self,
        text: &[u8],
        blob_len: usize,
        whole_blob: bool,
        (plain, plain_words): (RuleMask, Option<WordsSeen>),
    ) -> Candidates {
        if shared_regex::note_scanned(text.len()) {
            self.rules.iter().for_each(Rule::drop_idle_caches);
        }
        let mut views = Vec::new();
        let mut runs = None;
        if self.decoding {
            if blob_len <= TOKEN_RUNS_UP_TO {
                runs = Some(token_runs::token_runs(text));
            }
            let utf16 = whole_blob.then(|| decode::utf16(text)).flatten();
            let decoded = match utf16 {
                Some(view) => vec![view],
                None => decode::encoded_views(text, runs.as_deref()),
            };
            for view in decoded {
                let mask = self.prefilter.candidates(&view.text);
                if !mask.is_empty() {
                    views.push((view, mask));
                }
            }
        }
        Candidates {
            plain,
            plain_words,
            views,
            token_runs: runs,
        }
    }

    /// The rules whose keywords occur in `text` (ASCII case-insensitively).
    pub fn keyword_mask(&self, text: &[u8]) -> RuleMask {
        self.prefilter.candidates(text)
    }

    /// The lines of `region` (a run of whole lines of a blob of `blob_len` bytes that is not
    /// UTF-16) that hits start on, with `plain` as the rules that may match the region itself
    /// and every file-wide context taken as present. What [`Scanner::candidates`] and
    /// [`Scanner::hits`] find on the blob, searched only here: the decoded views are the
    /// region's own (each lies within one line), token runs are listed as for the blob.
    pub fn region_hit_lines(&self, region: &[u8], blob_len: usize, plain: RuleMask) -> Vec<u64> {
        // No walk of the blob's words: every literal is searched in the whole region.
        let candidates = self.with_views(region, blob_len, false, (plain, None));
        self.hits_named(region, candidates, None, Some(true))
            .lines()
    }

    /// Whether `rules` have a hit in `content` itself (not in its decoded views).
    pub fn has_hits_of(&self, content: &[u8], rules: RuleMask) -> bool {
        let candidates = Candidates {
            plain: rules,
            plain_words: None,
            views: Vec::new(),
            token_runs: None,
        };
        !self.hits(content, candidates).is_empty()
    }

    /// Scans `content` (the whole staged blob, so context on unchanged lines still counts) and
    /// its decoded views, and reports secrets that start on an added line, unless something
    /// allows them.
    pub fn scan(
        &self,
        path: &str,
        content: &[u8],
        added: &AddedLines,
        candidates: Candidates,
    ) -> BlobScan {
        let hits = self.hits_at(path, content, candidates);
        self.scan_hits(path, content, added, &hits)
    }

    /// The rules with a context requirement whose provider `path` names (`main_wandb.go`);
    /// `None` for most paths.
    fn named_by(&self, path: &str) -> Option<RuleMask> {
        (self.path_names)
            .get_or_init(|| ProviderNames::of(&self.rules))
            .named_by(path)
    }

    /// True when `path` names a provider: what is remembered of a blob's content alone (a
    /// clean verdict) does not answer for it.
    pub fn path_adds_context(&self, path: &str) -> bool {
        self.named_by(path).is_some()
    }

    /// [`Scanner::hits`] with the file's path as context: the rules whose provider the path
    /// names are candidates whatever the content holds, and their context requirement is
    /// met. Without such a name, the content's own hits.
    pub fn hits_at(&self, path: &str, content: &[u8], mut candidates: Candidates) -> Hits {
        match self.named_by(path) {
            None => self.hits(content, candidates),
            Some(named) => {
                candidates.plain.union_with(&named);
                self.hits_named(content, candidates, Some(&named), None)
            }
        }
    }

    /// The candidate rules' matches in `content` and its decoded views that pass every filter
    /// that does not depend on which lines are added. None means no change to this blob can
    /// add a finding, so its lines need no diff; the same blob reached by many commits needs
    /// this only once.
    pub fn hits(&self, content: &[u8], candidates: Candidates) -> Hits {
        self.hits_named(content, candidates, None, None)
    }

    /// [`Scanner::hits`], where the rules in `named` have their context from the path and,
    /// when `file_context` says, every file-wide context is taken as present or absent.
    fn hits_named(
        &self,
        content: &[u8],
        candidates: Candidates,
        named: Option<&RuleMask>,
        file_context: Option<bool>,
    ) -> Hits {
        if candidates.is_empty() {
            return Hits::default();
        }
        let masked = if self.decoding {
            let mut masked = Lent::from(&MASKED);
            decode::mask_escapes_into(content, &mut masked).then_some(masked)
        } else {
            None
        };
        let Candidates {
            plain,
            plain_words,
            views,
            token_runs,
        } = candidates;
        let (views, view_masks): (Vec<View>, Vec<RuleMask>) = views.into_iter().unzip();
        let views = views
            .into_iter()
            .map(|view| {
                let masked = match decode::mask_escapes(&view.text) {
                    Cow::Borrowed(_) => None,
                    Cow::Owned(masked) => Some(masked),
                };
                (view, masked)
            })
            .collect();
        let mut found = Hits {
            hits: Vec::new(),
            masked,
            views,
        };
        let class_runs = match &token_runs {
            Some(runs) => {
                let masked = found.masked.as_deref().map_or(content, Vec::as_slice);
                ClassRuns::within(runs, [content, masked])
            }
            None => ClassRuns::default(),
        };
        let listed = plain
            .iter()
            .filter_map(|index| self.rules.at(index).listed_run());
        let class_runs = class_runs.asking(listed);
        let plain = (&plain, plain_words.as_ref());
        let mut matches = self.collect(content, plain, &view_masks, &found, (class_runs, named));
        matches.sort_unstable();
        found.hits = self.locate(content, matches, &found, (named, file_context));
        if found.hits.is_empty() {
            return Hits::default();
        }
        found
    }

    /// Step 1, collect: every candidate rule's regex over the blob and its decoded views. A
    /// match in a view is mapped back to the blob's bytes; bytes around a decoded run are the
    /// blob's own and were searched there already.
    fn collect<'t>(
        &self,
        content: &'t [u8],
        (plain, plain_words): (&RuleMask, Option<&WordsSeen>),
        view_masks: &[RuleMask],
        found: &'t Hits,
        (mut class_runs, named): (ClassRuns<'t>, Option<&RuleMask>),
    ) -> Vec<RawMatch> {
        let mut matches = Vec::new();
        let mut literal_text = LiteralText::new();
        let views = std::iter::once((ViewId::Blob, plain)).chain(
            view_masks
                .iter()
                .enumerate()
                .map(|(index, mask)| (ViewId::Decoded(index), mask)),
        );
        for (view_id, mask) in views {
            for rule_index in mask.iter() {
                let rule = self.rules.at(rule_index);
                let text = found.text(content, view_id, rule);
                // The blob and its escape-masked copy (same length, escapes made spaces) were
                // walked by the automaton; decoded views were not.
                let walked = match view_id {
                    ViewId::Blob => plain_words.map(|seen| Walked::new(&self.prefilter, seen)),
                    ViewId::Decoded(_) => None,
                };
                if !literal_text.allows(rule, text, walked) {
                    continue;
                }
                let lower = literal_text.lazily(text);
                // A match without its context is dropped (`locate`) unless the path names
                // the provider.
                let secrets = match named.is_some_and(|named| named.contains(rule_index)) {
                    true => rule.secrets(text, lower, &mut class_runs, walked),
                    false => rule.secrets_in_context(text, lower, &mut class_runs, walked),
                };
                for secret in secrets {
                    let view_span = Span {
                        start: secret.start,
                        end: secret.end,
                    };
                    let span = match found.view(view_id) {
                        None => view_span,
                        Some(view) if view.is_decoded(view_span.start) => Span {
                            start: view.original(view_span.start),
                            end: view.original_end(view_span.end),
                        },
                        Some(_) => continue,
                    };
                    matches.push(RawMatch {
                        span,
                        rule: rule_index,
                        view: view_id,
                        view_span,
                    });
                }
            }
        }
        matches
    }

    /// Step 2, locate: the filters that do not depend on added lines, then each surviving
    /// match's line and column (`matches` in blob order, so one cursor walks the lines).
    /// `named`: the rules whose context the file's path gives; `file_context`, when known, the
    /// answer for every file-wide context.
    fn locate(
        &self,
        content: &[u8],
        matches: Vec<RawMatch>,
        found: &Hits,
        (named, file_context): (Option<&RuleMask>, Option<bool>),
    ) -> Vec<Hit> {
        let mut hits = Vec::new();
        let mut cursor = LineCursor::default();
        let mut file_context: Vec<Option<bool>> = vec![file_context; self.rules.len()];
        for raw in matches {
            let rule = self.rules.at(raw.rule);
            let text = found.text(content, raw.view, rule);
            let blob = (raw.view != ViewId::Blob).then_some(content);
            let Span { start: vs, end: ve } = raw.view_span;
            match self.reject(rule, text, vs, ve, blob, &mut file_context[raw.rule]) {
                None => {}
                Some(Rejection::NoContext)
                    if named.is_some_and(|n| n.contains(raw.rule))
                        && (self.path_names.get()).is_some_and(|names| {
                            names.gives_context(&self.rules, raw.rule, text, vs)
                        }) => {}
                Some(_) => continue,
            }
            let (line, line_start) = cursor.advance(content, raw.span.start);
            let column = match found.view(raw.view) {
                Some(view) if view.is_whole_blob() => {
                    let view_line_start = memchr::memrchr(b'\n', &text[..vs]).map_or(0, |i| i + 1);
                    (view.original(vs) - view.original(view_line_start) + 1) as u64
                }
                _ => (raw.span.start - line_start + 1) as u64,
            };
            hits.push(Hit {
                found: raw,
                line,
                line_start,
                column,
                near: rule.context().is_none_or(|context| {
                    context.side == Side::File || filter::context_on_line(text, vs, ve, context)
                }),
            });
        }
        hits
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
        for hit in hits.hits.iter().filter(|hit| added.contains(hit.line)) {
            match self.policy.disabled_by(self.rules.at(hit.rule()).id()) {
                Some(_) => disabled.push(*hit),
                None => enabled.push(*hit),
            }
        }
        let mut scan = BlobScan::default();
        let kept = self.most_specific(enabled);
        // A disabled rule's secret counts as suppressed only when no enabled rule reports it.
        for hit in self.most_specific(disabled) {
            if !kept.iter().any(|k| k.span().overlaps(&hit.span())) {
                let origin = self.policy.disabled_by(self.rules.at(hit.rule()).id());
                scan.count_suppressed(origin.unwrap_or_default());
            }
        }
        for hit in kept {
            let rule = self.rules.at(hit.rule());
            let text = hits.text(content, hit.found.view, rule);
            let secret = &text[hit.found.view_span.start..hit.found.view_span.end];
            if let Some(origin) = self.suppressed_by(path, content, text, &hit) {
                scan.count_suppressed(&origin);
                continue;
            }
            let found = self.build_match(&hit, secret, hits.view(hit.found.view));
            if self.keep_secrets {
                scan.secrets
                    .push((found.fingerprint.clone(), Secret(secret.to_vec())));
            }
            scan.matches.push(found);
        }
        scan
    }

    /// Step 4, suppress: what allows a resolved hit, if anything: an inline directive on the
    /// blob's line or the decoded line (a UTF-16 file), then the policy (allowlists, the
    /// ignore file). `text` is the view the hit was found in.
    fn suppressed_by(&self, path: &str, content: &[u8], text: &[u8], hit: &Hit) -> Option<String> {
        let rule = self.rules.at(hit.rule());
        let RawMatch {
            span, view_span, ..
        } = hit.found;
        let secret = &text[view_span.start..view_span.end];
        let line = &content[line_bounds(content, span.start)];
        let at = span.start - hit.line_start;
        let view_bounds = line_bounds(text, view_span.start);
        let view_line = &text[view_bounds.clone()];
        let decoded = hit.found.view != ViewId::Blob;
        let allowed_inline =
            self.directive_allows(rule, line, at, previous_line(content, hit.line_start))
                || (decoded
                    && self.directive_allows(
                        rule,
                        view_line,
                        view_span.start - view_bounds.start,
                        previous_line(text, view_bounds.start),
                    ));
        if allowed_inline {
            return Some(INLINE_DIRECTIVE.to_string());
        }
        let fingerprint = finding::fingerprint(rule.id(), secret);
        let policy_line = if decoded { view_line } else { line };
        self.policy
            .allowed_by(rule.id(), path, secret, policy_line, &fingerprint)
            .map(str::to_string)
    }

    /// Step 5, the match of a hit nothing suppressed, with the encoding of the `view` it was
    /// found through; the collector places it.
    fn build_match(&self, hit: &Hit, secret: &[u8], view: Option<&View>) -> Match {
        let rule = self.rules.at(hit.rule());
        let provider = self.rules.provider(rule);
        let info = RuleInfo {
            id: rule.id(),
            provider_key: &rule.spec().provider,
            provider: &provider.name,
            severity: rule.spec().severity,
            confidence: rule.spec().confidence,
        };
        let mut found = Match::new(info, (hit.line, hit.column), secret);
        found.encoding = view.map(|view| view.encoding.label().to_string());
        found
    }

    /// Where a rule finds a secret in `text`, through the filters but whatever the policy
    /// allows: what [`crate::redact::Redactor`] replaces in printed text.
    pub fn secret_spans(&self, text: &[u8]) -> Vec<std::ops::Range<usize>> {
        let candidates = self.prefilter.candidates(text);
        if candidates.is_empty() {
            return Vec::new();
        }
        let masked = decode::mask_escapes(text);
        let mut spans = Vec::new();
        let mut literal_text = LiteralText::new();
        let mut class_runs = ClassRuns::default();
        for index in candidates.iter() {
            let rule = self.rules.at(index);
            if !literal_text.allows(rule, &masked, None) {
                continue;
            }
            let mut file_context = None;
            // As the scan finds them: a path that names a vendor compiles no regex for it
            // unless it holds the run every match needs.
            let lower = literal_text.lazily(&masked);
            for secret in rule.secrets(&masked, lower, &mut class_runs, None) {
                let (start, end) = (secret.start, secret.end);
                if self
                    .reject(rule, &masked, start, end, None, &mut file_context)
                    .is_none()
                {
                    spans.push(start..end);
                }
            }
        }
        spans
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
        let is_rule_id = |word: &[u8]| {
            std::str::from_utf8(word).is_ok_and(|word| self.rules.get(word).is_some())
        };
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
    /// `content` is the text the match was found in; `blob`, for a decoded view, the whole
    /// blob, where a file-wide context keyword may sit too.
    ///
    /// The filters that decide alone are asked cheapest first: the byte before the match and
    /// the reference prefixes, then the value's own filters (entropy), then the placeholder
    /// check, the dearest by far (a changelog's commit links are hashes after `/`). Their
    /// order changes only which reason is given; the context comes last, as a missing context
    /// alone may be answered by the file's path (`locate`).
    fn reject(
        &self,
        rule: &Rule,
        content: &[u8],
        start: usize,
        end: usize,
        blob: Option<&[u8]>,
        file_context: &mut Option<bool>,
    ) -> Option<Rejection> {
        let secret = &content[start..end];
        if filter::is_preceded_by(content, start, &rule.spec().filters.not_preceded_by) {
            return Some(Rejection::Preceded);
        }
        if filter::is_reference(secret, &self.rules.references) {
            return Some(Rejection::Reference);
        }
        if let Err(rejection) = filter::check_filters(secret, &rule.spec().filters) {
            return Some(rejection);
        }
        if self.rules.is_placeholder(rule, secret) {
            return Some(Rejection::Placeholder);
        }
        if let Some(context) = rule.context() {
            let found = match context.side {
                Side::File => match blob {
                    None => *file_context.get_or_insert_with(|| context.keywords.is_match(content)),
                    Some(blob) => {
                        *file_context.get_or_insert_with(|| context.keywords.is_match(blob))
                            || context.keywords.is_match(content)
                    }
                },
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
    /// confidence, then a plain match over the same secret seen through a decoded view, then
    /// the longer match (`uuid:secret` over its hex tail), then the rule listed first in the
    /// rules file.
    /// Hits are first cut into clusters of mutually overlapping spans (in position order),
    /// so that a blob with many secrets costs time linear in their number.
    fn most_specific(&self, mut hits: Vec<Hit>) -> Vec<Hit> {
        hits.sort_by_key(|hit| (hit.span().start, hit.span().end));
        let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
        let mut cluster: Vec<Hit> = Vec::new();
        let mut cluster_end = 0;
        for hit in hits {
            if !cluster.is_empty() && hit.span().start >= cluster_end {
                self.keep_best_of(&mut cluster, &mut kept);
            }
            cluster_end = match cluster.is_empty() {
                true => hit.span().end,
                false => cluster_end.max(hit.span().end),
            };
            cluster.push(hit);
        }
        self.keep_best_of(&mut cluster, &mut kept);
        kept
    }

    /// Step 3 for one cluster of overlapping hits: the best first, then every hit that
    /// overlaps none kept so far; appended to `kept` in position order, `cluster` emptied.
    fn keep_best_of(&self, cluster: &mut Vec<Hit>, kept: &mut Vec<Hit>) {
        let priority = |hit: &Hit| {
            let spec = self.rules.at(hit.rule()).spec();
            (
                spec.fallback,
                !hit.near,
                std::cmp::Reverse(spec.confidence),
                hit.found.view != ViewId::Blob,
                std::cmp::Reverse(hit.span().len()),
                hit.rule(),
            )
        };
        cluster.sort_by_key(priority);
        let first_kept = kept.len();
        for candidate in cluster.drain(..) {
            if !kept[first_kept..]
                .iter()
                .any(|k| k.span().overlaps(&candidate.span()))
            {
                kept.push(candidate);
            }
        }
        kept[first_kept..].sort_by_key(|hit| (hit.span().start, hit.rule()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::shape::Shape;

    fn scanner() -> Scanner {
        Scanner::new(RuleSet::builtin().unwrap())
    }

    /// Each warm-up builds one of the tables a large scan reads; none is built before.
    #[test]
    fn the_warm_ups_build_what_a_large_scan_reads() {
        let scanner = scanner();
        let built = |scanner: &Scanner| {
            [
                scanner.prefilter.is_warm(),
                scanner.path_names.get().is_some(),
            ]
        };
        assert_eq!(built(&scanner), [false; 2]);
        for (done, warm_up) in Scanner::warm_ups().into_iter().enumerate() {
            warm_up(&scanner);
            let expected: Vec<bool> = (0..2).map(|piece| piece <= done).collect();
            assert_eq!(built(&scanner).to_vec(), expected);
        }
        // The providers are left to the first match that needs them.
        assert!(!scanner.rules.providers.is_decoded());
    }

    /// A token of `shape` that passes the rule's own filters (retrying seeds, as a real token
    /// would be drawn until it looks random enough).
    pub(crate) fn token_for(
        scanner: &Scanner,
        rule_id: &str,
        seed: u64,
    ) -> crate::detect::shape::Sample {
        let rule = scanner.rules.get(rule_id).unwrap();
        let shape = Shape::parse(&rule.spec().examples.as_ref().unwrap().shape).unwrap();
        (seed..seed + 1000)
            .map(|s| shape.generate(s))
            .find(|sample| {
                filter::check_filters(sample.token.as_bytes(), &rule.spec().filters).is_ok()
                    && !scanner.rules.is_placeholder(rule, sample.token.as_bytes())
            })
            .unwrap()
    }

    fn scan_all(scanner: &Scanner, text: &str) -> Vec<Match> {
        let candidates = scanner.candidates(text.as_bytes());
        scanner
            .scan("f", text.as_bytes(), &AddedLines::All, candidates)
            .matches
    }

    #[test]
    fn literal_texts_one_after_another_share_the_threads_lowercase_buffer() {
        let long = b"A Long TEXT, Lowercased First. ".repeat(10);
        let mut first = LiteralText::new();
        assert_eq!(first.lower(&long), long.to_ascii_lowercase());
        let at = first.lower(&long).as_ptr();
        drop(first);
        let mut second = LiteralText::new();
        assert_eq!(second.lower(b"Short"), b"short");
        assert_eq!(second.lower(b"Short").as_ptr(), at);
    }

    /// The thread's buffers (lowercase copies, the escape-masked blob) hold a longer blob's
    /// bytes when a shorter one comes: it must find what it finds on a fresh thread.
    #[test]
    fn a_blob_after_a_longer_one_finds_what_it_finds_alone() {
        let scanner = scanner();
        let token = token_for(&scanner, "replicate-api-token", 7).token;
        let long = format!(
            "{}x = \"\\n{token}\"\n",
            "Filler with an escape \\n here\n".repeat(200)
        );
        let short = format!("y = \"\\t{token}\"\n");
        let alone = std::thread::scope(|s| s.spawn(|| scan_all(&scanner, &short)).join());
        let alone = alone.unwrap();
        assert_eq!(alone.len(), 1);
        assert_eq!(scan_all(&scanner, &long).len(), 1);
        assert_eq!(scan_all(&scanner, &short), alone);
    }

    #[test]
    fn only_added_lines_count() {
        let scanner = scanner();
        let token = token_for(&scanner, "replicate-api-token", 7).token;
        let text = format!("a\nkey = \"{token}\"\nc\n");
        let candidates = scanner.candidates(text.as_bytes());
        let on_line_2 = AddedLines::from_ranges(vec![(2, 2)]);
        let on_line_3 = AddedLines::from_ranges(vec![(3, 3)]);
        let found = scanner.scan("f", text.as_bytes(), &on_line_2, candidates.clone());
        assert_eq!(found.matches.len(), 1);
        assert_eq!((found.matches[0].line, found.matches[0].column), (2, 8));
        assert!(
            scanner
                .scan("f", text.as_bytes(), &on_line_3, candidates)
                .matches
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
            .scan("f", text.as_bytes(), &added, candidates)
            .matches;
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

    /// A match the byte before it rejects (a commit hash in a link) is turned away before its
    /// value's filters and the placeholder check, which cost far more: the reason given is
    /// the cheapest filter's, whatever the others would say.
    #[test]
    fn the_byte_before_a_match_is_asked_before_its_value() {
        let scanner = scanner();
        let rule = scanner.rules.get("wandb-legacy-api-key").unwrap();
        // Of low entropy; a counting placeholder that passes the value's filters.
        for value in [
            "0".repeat(40),
            "0123456789abcdef".repeat(3)[..40].to_string(),
        ] {
            let text = format!("https://github.com/org/repo/commit/{value}");
            let start = text.len() - value.len();
            let mut file_context = None;
            let rejection = scanner.reject(
                rule,
                text.as_bytes(),
                start,
                text.len(),
                None,
                &mut file_context,
            );
            assert_eq!(rejection, Some(Rejection::Preceded), "{value}");
            let alone = &text.as_bytes()[start..];
            let rejection = scanner.reject(rule, alone, 0, alone.len(), None, &mut file_context);
            assert_ne!(rejection, None, "{value}");
            assert_ne!(rejection, Some(Rejection::Preceded), "{value}");
        }
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
            let scan = scanner.scan("f", text.as_bytes(), &AddedLines::All, candidates);
            assert_eq!(scan.suppressed[INLINE_DIRECTIVE], 1, "{marker}");
            assert_eq!(scan.matches.len(), 1, "{marker}");
            assert_eq!(scan.matches[0].line, 2);
        }
    }
}
