//! History scans, between a changed blob and the scanner: a modified blob whose previous
//! version was searched earlier in the scan is searched only around the lines that differ, and
//! what the earlier search found stands in for the lines both versions share. Only a blob
//! found to hold no hit at all is decided here (it needs no line diff, as before); any other
//! is searched whole, so every finding and count stays what a whole search gives.
//!
//! Why the decision is exact. Every rule searched in the region matches within one line (its
//! regex cannot match a line break, nor `\A` or `\z`), and what else decides a hit reaches a
//! bounded distance from the secret's line ([`Margin`]: context windows, the byte before a
//! secret; decoded views lie inside one line). So a line whose neighbourhood is the same bytes
//! in both versions has the same hits in both, as long as the same rules are candidates and
//! the same file-wide contexts are present: the lines far from the change (outside the
//! *interior*) have the old version's hits, and the lines of the interior are searched in the
//! *region* (the interior and a margin around it). What differs in candidacy comes from the
//! region: a rule whose keyword the region holds is either one whose every match holds a
//! keyword (then a far hit has its keyword far from the change, in the old version too) or one
//! known to be a candidate in the old version; a file-wide context keyword in the region, or
//! any rule that may match across lines, sends the blob to the whole search.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use aho_corasick::AhoCorasick;
use git2::Oid;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind};

use super::call_reach::{self, Group};
use super::shared_lines::{LineKey, Lines, Run, shared_runs};
use crate::detect::lines::{line_start, next_line_start};
use crate::detect::prefilter::RuleMask;
use crate::detect::rules::Rule;
use crate::detect::schema::Side;
use crate::detect::{Hits, Scanner, decode, scanner};

/// Smaller blobs are searched whole: below this size, reading the old version and pairing
/// the lines cost about what the search saves (measured on accelerate's history, whose
/// largest blob is 0.25 MB: 256 KiB cost it CPU time, 64 KiB did not).
const SUMMARISED_FROM: usize = 64 << 10;

/// What the search of one blob learned, for the version that replaces it.
#[derive(Debug, Clone)]
pub(crate) struct Summary {
    /// Rules whose keywords may occur in the blob: every one that does, maybe more.
    may_match: RuleMask,
    /// Rules whose keywords surely occur in it.
    surely_match: RuleMask,
    /// Every line a hit starts on.
    hit_lines: Vec<u64>,
    /// Rules that may match across lines and whose literals the blob holds none of.
    literal_free: RuleMask,
}

impl Summary {
    /// The summary of a blob searched whole: `plain` its candidates, `hits` what was found.
    pub(crate) fn of_whole(plain: &RuleMask, hits: &Hits) -> Summary {
        Summary {
            may_match: plain.clone(),
            surely_match: plain.clone(),
            hit_lines: hits.lines(),
            literal_free: plain.empty_like(),
        }
    }
}

/// How far from a secret's line what decides a hit may sit: context windows in lines and in
/// bytes (at least 64 bytes, the window of a context around a very long line), one line more
/// for the byte before a secret at a line's start.
#[derive(Debug, Clone, Copy)]
struct Margin {
    lines: usize,
    bytes: usize,
}

impl Margin {
    /// The whole lines of `run` (which starts at a line start and ends at one or at the text's
    /// end) farther than the margin from both its ends, in lines and in bytes.
    fn inside(self, text: &[u8], run: Range<usize>) -> Range<usize> {
        let by_lines = (memchr::memchr_iter(b'\n', &text[run.clone()]).nth(self.lines.max(1) - 1))
            .map_or(run.end, |at| run.start + at + 1);
        let start = by_lines.max(next_line_start(text, (run.start + self.bytes).min(run.end)));
        let back_lines = (memchr::memrchr_iter(
            b'\n',
            &text[run.start..run.end.saturating_sub(1).max(run.start)],
        ))
        .nth(self.lines.max(1) - 1)
        .map_or(run.start, |at| run.start + at + 1);
        let end = back_lines.min(line_start(
            text,
            run.end.saturating_sub(self.bytes).max(run.start),
        ));
        start..end.max(start)
    }

    /// `span` (which starts at a line start and ends at one or at the text's end) and the
    /// whole lines that start within `lines` lines or `bytes` bytes of it.
    fn around(self, text: &[u8], span: Range<usize>) -> Range<usize> {
        let by_lines = match self.lines {
            0 => span.start,
            lines => {
                (memchr::memrchr_iter(b'\n', &text[..span.start]).nth(lines)).map_or(0, |at| at + 1)
            }
        };
        let by_bytes = line_start(text, span.start.saturating_sub(self.bytes));
        let after_lines = match self.lines {
            0 => span.end,
            lines => (memchr::memchr_iter(b'\n', &text[span.end..]).nth(lines - 1))
                .map_or(text.len(), |at| span.end + at + 1),
        };
        let after_bytes =
            next_line_start(text, span.end.saturating_add(self.bytes).min(text.len()));
        by_lines.min(by_bytes)..after_lines.max(after_bytes)
    }
}

/// Per rule, read off its regex.
#[derive(Debug, Clone, Copy)]
struct Traits {
    /// Every match lies within one line and no match depends on where the text starts or ends.
    line_bound: bool,
    /// Every hit holds one of the rule's keywords in its match or in its context window, and
    /// the rule needs no file-wide context.
    keyword_in_match: bool,
    /// Every line break a match holds inside it follows a `(` of the match with no
    /// parenthesis between them ([`call_reach::paren_bound`]), and a hit depends on nothing
    /// outside its match.
    paren_bound: bool,
}

/// What every blob of one history scan shares: the summaries by blob id, and each rule's
/// traits, read on first use.
pub(crate) struct Regions<'s> {
    scanner: &'s Scanner,
    summaries: Mutex<HashMap<Oid, Arc<Summary>>>,
    /// Each summarised blob's line hashes, until the next version takes them.
    line_hashes: Mutex<HashMap<Oid, Vec<u64>>>,
    key: LineKey,
    traits: Vec<OnceLock<Traits>>,
    literals: Vec<OnceLock<Option<Vec<Vec<u8>>>>>,
    setup: OnceLock<Option<Setup>>,
}

/// Read once from every rule: the margin and the rules with a file-wide context. `None` when
/// a keyword holds a line break (it could straddle a region's edge).
#[derive(Debug)]
struct Setup {
    margin: Margin,
    /// Every keyword of a file-wide context (the rules' own and their providers' hosts).
    file_wide: Option<AhoCorasick>,
}

impl<'s> Regions<'s> {
    pub(crate) fn new(scanner: &'s Scanner) -> Regions<'s> {
        Regions {
            scanner,
            summaries: Mutex::new(HashMap::new()),
            line_hashes: Mutex::new(HashMap::new()),
            key: LineKey::random(),
            traits: (0..scanner.rules().len())
                .map(|_| OnceLock::new())
                .collect(),
            literals: (0..scanner.rules().len())
                .map(|_| OnceLock::new())
                .collect(),
            setup: OnceLock::new(),
        }
    }

    /// Whether a blob is summarised, and its next version searched around its changes: one
    /// large enough that searching it costs more than reading its old version and pairing
    /// their lines, searched as a blob of this size is searched in parts (token runs listed),
    /// and not read as UTF-16.
    pub(crate) fn can_summarise(content: &[u8]) -> bool {
        (SUMMARISED_FROM..=scanner::TOKEN_RUNS_UP_TO).contains(&content.len())
            && decode::utf16_encoding(content).is_none()
    }

    /// Remembers a searched blob's summary and its lines' hashes.
    pub(crate) fn remember(&self, id: Oid, summary: Summary, lines: &Lines) {
        self.lock().insert(id, Arc::new(summary));
        lock(&self.line_hashes).insert(id, lines.hashes().to_vec());
    }

    /// The lines of a blob to summarise, hashed as this scan hashes them.
    pub(crate) fn lines(&self, content: &[u8]) -> Lines {
        Lines::of(content, self.key)
    }

    /// The line hashes of a summarised blob, taken: a blob is most often the old version of
    /// one other (a second reads its bytes again, [`Regions::lines`]).
    pub(crate) fn take_line_hashes(&self, id: Oid) -> Option<Vec<u64>> {
        lock(&self.line_hashes).remove(&id)
    }

    pub(crate) fn summary(&self, id: Oid) -> Option<Arc<Summary>> {
        self.lock().get(&id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Oid, Arc<Summary>>> {
        lock(&self.summaries)
    }

    /// The summary of `new` (its `lines`) when it holds no hit at all, decided from `old`
    /// (the line hashes of the version it replaces) and `before` (old's summary) by searching
    /// only around what differs; `None` when it may hold a hit or the region cannot decide
    /// (search it whole then).
    pub(crate) fn clean(
        &self,
        (new, lines): (&[u8], &Lines),
        old: &[u64],
        before: &Summary,
    ) -> Option<Summary> {
        let setup = self.setup()?;
        let margin = setup.margin;
        let far = far_parts(margin, new, shared_runs(old, lines));
        let far_spans: Vec<Range<usize>> = far.iter().map(|(part, _)| part.clone()).collect();
        // A far line's hits are the old version's.
        let hit_within = |lines: &Range<u64>| {
            let first = before.hit_lines.partition_point(|&line| line < lines.start);
            (before.hit_lines.get(first)).is_some_and(|&line| line < lines.end)
        };
        if far.iter().any(|(_, old_lines)| hit_within(old_lines)) {
            return None;
        }
        let groups = groups(margin, new, far.into_iter().map(|(part, _)| part));
        let mut found = RuleMask::empty(self.traits.len());
        for (_, region) in &groups {
            let text = &new[region.clone()];
            if self.file_wide_context_in(setup, text) {
                return None;
            }
            found.union_with(&self.scanner.keyword_mask(text));
        }
        let brought_in = |rule: usize| {
            let traits = self.traits(rule);
            traits.line_bound && !before.surely_match.contains(rule) && !traits.keyword_in_match
        };
        if found.iter().any(brought_in) {
            return None;
        }
        let mut plain = found.clone();
        plain.union_with(&before.may_match);
        // A rule that may match across lines reaches any distance: searched in the whole blob.
        let (mut line_bound, mut across) = (plain.clone(), RuleMask::empty(self.traits.len()));
        for rule in plain.iter().filter(|&rule| !self.traits(rule).line_bound) {
            across.insert(rule);
            line_bound.remove(rule);
        }
        let literal_free = self.without_hits_across(new, (&far_spans, &groups), across, before)?;
        for (interior, region) in groups {
            let first_region = lines.line_of(region.start);
            let first = lines.line_of(interior.start);
            let past = (interior.end < new.len()).then(|| lines.line_of(interior.end));
            let inside = |line: u64| {
                let line = line + first_region - 1;
                line >= first && past.is_none_or(|past| line < past)
            };
            let text = &new[region];
            let hits = (self.scanner).region_hit_lines(text, new.len(), line_bound.clone());
            if hits.into_iter().any(inside) {
                return None;
            }
        }
        Some(Summary {
            may_match: plain,
            surely_match: found,
            hit_lines: Vec::new(),
            literal_free,
        })
    }

    /// The rules of `across` (which may match across lines) whose literals `new` holds none
    /// of, when none of the others has a hit in `new`; `None` when one has.
    /// A rule that holds none of its literals in the old version nor in the regions holds none
    /// in the new one (a literal lies within one line): it cannot match. A paren-bound rule
    /// the old version was searched with is searched in the groups' reaches (what lies between
    /// them has the old version's hits: none, as the far parts hold none); any other in the
    /// whole of `new`.
    fn without_hits_across(
        &self,
        new: &[u8],
        (far, groups): (&[Range<usize>], &[Group]),
        across: RuleMask,
        before: &Summary,
    ) -> Option<RuleMask> {
        let mut literal_free = RuleMask::empty(self.traits.len());
        if across.is_empty() {
            return Some(literal_free);
        }
        let (mut searched, mut reached) = (literal_free.clone(), literal_free.clone());
        let lower_regions: Vec<Vec<u8>> = (groups.iter())
            .map(|(_, region)| new[region.clone()].to_ascii_lowercase())
            .collect();
        let mut lower_new: Option<Vec<u8>> = None;
        for rule in across.iter() {
            let literals = self.literals(rule);
            let holds = |text: &[u8]| {
                (literals.unwrap_or_default().iter())
                    .any(|l| memchr::memmem::find(text, l).is_some())
            };
            if literals.is_some()
                && before.literal_free.contains(rule)
                && !lower_regions.iter().any(|text| holds(text))
            {
                literal_free.insert(rule);
            } else if self.traits(rule).paren_bound && before.may_match.contains(rule) {
                reached.insert(rule);
            } else if literals.is_none()
                || holds(lower_new.get_or_insert_with(|| new.to_ascii_lowercase()))
            {
                searched.insert(rule);
            } else {
                literal_free.insert(rule);
            }
        }
        let hits = (!searched.is_empty() && self.scanner.has_hits_of(new, searched))
            || (!reached.is_empty()
                && (call_reach::reaches(new, far, groups).into_iter())
                    .any(|reach| self.scanner.has_hits_of(&new[reach], reached.clone())));
        (!hits).then_some(literal_free)
    }

    /// True when a keyword of a file-wide context (a rule's own or its provider's host) is in
    /// `text`.
    fn file_wide_context_in(&self, setup: &Setup, text: &[u8]) -> bool {
        // Lowercased first: an automaton that ignores case searches several times slower.
        (setup.file_wide.as_ref())
            .is_some_and(|keywords| keywords.is_match(&text.to_ascii_lowercase()))
    }

    fn setup(&self) -> Option<&Setup> {
        self.setup.get_or_init(|| setup_of(self.scanner)).as_ref()
    }

    /// A rule's literals in lowercase, when it has some and none holds a line break or a
    /// space.
    fn literals(&self, rule: usize) -> Option<&[Vec<u8>]> {
        self.literals[rule]
            .get_or_init(|| {
                let literals = &self.scanner.rules().at(rule).spec().literals;
                let lower: Vec<Vec<u8>> = (literals.iter())
                    .map(|l| l.to_ascii_lowercase().into_bytes())
                    .collect();
                // Masking turns escapes into spaces, which the blob's own bytes do not hold.
                let usable = (lower.iter())
                    .all(|l| !l.is_empty() && !l.contains(&b'\n') && !l.contains(&b' '));
                (!lower.is_empty() && usable).then_some(lower)
            })
            .as_deref()
    }

    fn traits(&self, rule: usize) -> Traits {
        *self.traits[rule].get_or_init(|| traits_of(self.scanner.rules().at(rule)))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Each entry is written whole: the map stays consistent after a panic elsewhere.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The far parts of `runs` (the lines the old version and `new` share): lines whose every
/// neighbour within the margin is in the same run, so the same bytes in both versions; each
/// with the numbers of its lines in the old version.
fn far_parts(margin: Margin, new: &[u8], runs: Vec<Run>) -> Vec<(Range<usize>, Range<u64>)> {
    let mut far = Vec::new();
    for run in runs {
        let part = margin.inside(new, run.new..run.new + run.len);
        if part.is_empty() {
            continue;
        }
        let skipped = memchr::memchr_iter(b'\n', &new[run.new..part.start]).count();
        let old_line = (run.old_line + skipped) as u64 + 1;
        let lines = memchr::memchr_iter(b'\n', &new[part.clone()]).count() as u64;
        far.push((part, old_line..old_line + lines));
    }
    far
}

/// What lies between the far parts, in groups whose regions (the group and its margin) do not
/// overlap: each group's span and its region.
fn groups(
    margin: Margin,
    new: &[u8],
    far: impl Iterator<Item = Range<usize>>,
) -> Vec<(Range<usize>, Range<usize>)> {
    let mut groups: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    let edges = std::iter::once(0..0)
        .chain(far)
        .chain(std::iter::once(new.len()..new.len()));
    let mut previous_end = None;
    for part in edges {
        if let Some(start) = previous_end.filter(|&start| start < part.start) {
            let span: Range<usize> = start..part.start;
            let region = margin.around(new, span.clone());
            match groups.last_mut() {
                Some((inside, last)) if last.end > region.start => {
                    inside.end = span.end;
                    *last = margin.around(new, inside.clone());
                }
                _ => groups.push((span, region)),
            }
        }
        previous_end = Some(part.end);
    }
    groups
}

fn setup_of(scanner: &Scanner) -> Option<Setup> {
    let mut margin = Margin {
        lines: 1,
        bytes: 128,
    };
    let mut file_wide: Vec<String> = Vec::new();
    for rule in scanner.rules().iter() {
        let spec = rule.spec();
        if spec.keywords.iter().any(|k| k.contains('\n')) {
            return None;
        }
        let Some(context) = &spec.context else {
            continue;
        };
        if context.side == Side::File {
            file_wide.extend(context.keywords.iter().map(|k| k.to_ascii_lowercase()));
            file_wide.extend(Some(rule.host().to_ascii_lowercase()).filter(|h| !h.is_empty()));
        }
        margin.lines = margin.lines.max(context.lines.unwrap_or(0) + 1);
        margin.bytes = margin.bytes.max(context.window.unwrap_or(0) + 1);
    }
    // Lowercase, searched in lowercased text: as each rule's context matches them (ASCII
    // case-insensitively); leftmost-first, which lets the automaton search with Teddy. An
    // automaton that cannot be built leaves regions unused.
    let file_wide = match file_wide.is_empty() {
        true => None,
        false => Some(
            AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .build(&file_wide)
                .ok()?,
        ),
    };
    Some(Setup { margin, file_wide })
}

fn traits_of(rule: &Rule) -> Traits {
    let spec = rule.spec();
    let parsed = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(&spec.regex);
    let Ok(hir) = parsed else {
        return Traits {
            line_bound: false,
            keyword_in_match: false,
            paren_bound: false,
        };
    };
    let file_wide = spec.context.as_ref().is_some_and(|c| c.side == Side::File);
    let keywords: Vec<Vec<u8>> = (spec.keywords.iter())
        .map(|k| k.to_ascii_lowercase().into_bytes())
        .filter(|k| !k.is_empty() && !k.contains(&b' '))
        .collect();
    let in_match = [ExtractKind::Prefix, ExtractKind::Suffix]
        .into_iter()
        .any(|kind| each_literal_holds_one(&hir, kind, &keywords));
    Traits {
        line_bound: line_bound(&hir),
        keyword_in_match: !file_wide && (in_match || context_holds_keyword(rule, &keywords)),
        // A hit found in a reach must not depend on bytes outside it.
        paren_bound: rule.context().is_none()
            && spec.filters.not_preceded_by.is_empty()
            && call_reach::paren_bound(&hir),
    }
}

/// True when the rule's context is a window around the secret and each of its keywords (the
/// provider's host too) holds one of the rule's `keywords`: a hit has one within the window.
fn context_holds_keyword(rule: &Rule, keywords: &[Vec<u8>]) -> bool {
    let Some(context) = &rule.spec().context else {
        return false;
    };
    let host = Some(rule.host()).filter(|host| !host.is_empty());
    let words = context.keywords.iter().map(String::as_str).chain(host);
    context.side != Side::File
        && words.into_iter().all(|word| {
            let word = word.to_ascii_lowercase().into_bytes();
            (keywords.iter()).any(|k| memchr::memmem::find(&word, k).is_some())
        })
}

/// True when the regex's every match starts (or ends) with one of finitely many literals and
/// each of those holds one of `keywords` (ASCII case-insensitively). Keywords with a space are
/// left out: masking turns escapes into spaces, which the blob's own bytes do not hold.
fn each_literal_holds_one(hir: &Hir, kind: ExtractKind, keywords: &[Vec<u8>]) -> bool {
    let seq = Extractor::new().kind(kind).extract(hir);
    let Some(literals) = seq.literals() else {
        return false;
    };
    !literals.is_empty()
        && literals.iter().all(|literal| {
            let lower = literal.as_bytes().to_ascii_lowercase();
            (keywords.iter()).any(|k| memchr::memmem::find(&lower, k).is_some())
        })
}

/// True when a match of `hir` holds a line break at most as its last byte (a token's end
/// written `(?:[^A-Za-z0-9_-]|$)` takes the line's own).
fn line_bound(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Literal(literal) => {
            !literal.0[..literal.0.len().saturating_sub(1)].contains(&b'\n')
        }
        HirKind::Class(_) | HirKind::Look(_) | HirKind::Empty => true,
        HirKind::Repetition(repetition) => {
            no_line_break(&repetition.sub)
                || (repetition.max == Some(1) && line_bound(&repetition.sub))
        }
        HirKind::Capture(capture) => line_bound(&capture.sub),
        HirKind::Alternation(parts) => parts.iter().all(line_bound),
        HirKind::Concat(parts) => match parts.split_last() {
            Some((last, rest)) => rest.iter().all(no_line_break) && line_bound(last),
            None => true,
        },
    }
}

/// True when no match of `hir` holds a line break.
fn no_line_break(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(literal) => !literal.0.contains(&b'\n'),
        HirKind::Class(Class::Unicode(class)) => {
            !(class.ranges().iter()).any(|r| r.start() <= '\n' && '\n' <= r.end())
        }
        HirKind::Class(Class::Bytes(class)) => {
            !(class.ranges().iter()).any(|r| r.start() <= b'\n' && b'\n' <= r.end())
        }
        HirKind::Repetition(repetition) => no_line_break(&repetition.sub),
        HirKind::Capture(capture) => no_line_break(&capture.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => parts.iter().all(no_line_break),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::filter;
    use crate::detect::rules::RuleSet;
    use crate::detect::shape::Shape;
    use crate::test_support::Xorshift;

    /// A token of `rule_id`'s example shape that passes its filters, drawn from `seed`.
    fn token(scanner: &Scanner, rule_id: &str, seed: u64) -> String {
        let rule = scanner.rules().get(rule_id).unwrap();
        let shape = Shape::parse(&rule.spec().examples.as_ref().unwrap().shape).unwrap();
        (seed..seed + 1000)
            .map(|s| shape.generate(s).token)
            .find(|token| {
                filter::check_filters(token.as_bytes(), &rule.spec().filters).is_ok()
                    && !scanner.rules().is_placeholder(rule, token.as_bytes())
            })
            .unwrap()
    }

    /// Lines that hold secrets, context for them, or neither: what edits insert.
    fn line(scanner: &Scanner, rng: &mut Xorshift) -> String {
        let seed = rng.next_u64() % 100_000;
        let hex = |rng: &mut Xorshift| -> String {
            (0..40)
                .map(|_| b"0123456789abcdef"[rng.below(16)] as char)
                .collect()
        };
        match rng.below(16) {
            11 | 12 => "import replicate".to_string(),
            13 | 14 => format!("api_token = \"{}\"", hex(rng)),
            0 => "import replicate".to_string(),
            1 => format!("api_token = \"{}\"", hex(rng)),
            2 => format!(
                "client = Client(\"{}\")",
                token(scanner, "replicate-api-token", seed)
            ),
            3 => format!("headers = {{\"Authorization\": \"Bearer {}\"}}", hex(rng)),
            4 => "import wandb".to_string(),
            5 => format!(
                "OPENAI_API_KEY = \"{}\"",
                token(scanner, "openai-project-key", seed)
            ),
            6 => "client = OpenAI(".to_string(),
            7 => format!("    api_key=\"x{}\",", hex(rng)),
            8 => {
                let plain = format!(
                    "REPLICATE_API_TOKEN={}",
                    token(scanner, "replicate-api-token", seed)
                );
                format!("data = \"{}\"", base64(plain.as_bytes()))
            }
            9 => "url = \"https://api.replicate.com/v1\"".to_string(),
            10 => format!(
                "key = \"{}\"  # the replicate one",
                token(scanner, "replicate-rpt-token", seed)
            ),
            _ => format!("    value_{seed} = compute({seed})  # token"),
        }
    }

    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    /// What the regions decide for `new`, replacing `old`.
    fn clean(regions: &Regions<'_>, new: &str, old: &str, before: &Summary) -> Option<Summary> {
        let lines = regions.lines(new.as_bytes());
        let old = regions.lines(old.as_bytes()).hashes().to_vec();
        regions.clean((new.as_bytes(), &lines), &old, before)
    }

    /// Whole-blob search: its summary, and whether it holds any hit.
    fn whole(scanner: &Scanner, text: &[u8]) -> (Summary, bool) {
        let candidates = scanner.candidates(text);
        let plain = candidates.plain().clone();
        let hits = scanner.hits(text, candidates);
        (Summary::of_whole(&plain, &hits), !hits.is_empty())
    }

    /// A provider's name written three lines above an unchanged 40-hex token makes it a hit
    /// (its rule asks for the name within three lines): the change reaches that far.
    #[test]
    fn context_written_near_an_unchanged_secret_is_searched() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let regions = Regions::new(&scanner);
        let filler: Vec<String> = (0..40)
            .map(|i| format!("    step_{i} = run({i})"))
            .collect();
        let hex: String = (0..40)
            .map(|i| b"0123456789abcdef"[(i * 7 + 3) % 16] as char)
            .collect();
        let mut lines = filler.clone();
        lines.insert(0, "# replicate".to_string());
        lines.insert(20, format!("api_token = \"{hex}\""));
        let old = lines.join("\n") + "\n";
        let (summary, old_hits) = whole(&scanner, old.as_bytes());
        assert!(!old_hits);
        for distance in 1..=3 {
            let mut edited = lines.clone();
            edited.insert(20 - distance + 1, "import replicate".to_string());
            let new = edited.join("\n") + "\n";
            assert!(whole(&scanner, new.as_bytes()).1, "{new}");
            assert!(clean(&regions, &new, &old, &summary).is_none(), "{new}");
        }
    }

    /// A multi-line SDK call whose opening and argument lie farther apart than the margin: a
    /// change at either end makes a hit at the other, and the call's reach takes it in.
    #[test]
    fn a_call_changed_far_from_its_argument_is_searched() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let regions = Regions::new(&scanner);
        let mut rng = Xorshift::new(7);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let value: String = (0..40)
            .map(|_| alphabet[rng.below(alphabet.len())] as char)
            .collect();
        // Calls with their parentheses closed around it: the reach stops at them.
        let closed = |from: usize| (from..from + 100).map(|i| format!("x_{i} = f({i})"));
        let version = |call: &str, argument: bool| {
            let mut lines = vec!["from openai import OpenAI  # api_key".to_string()];
            lines.extend(closed(0));
            lines.push(format!("client = {call}("));
            lines.extend((0..100).map(|i| format!("    step_{i}=\"s{i}\",")));
            if argument {
                lines.push(format!("    api_key=\"{value}\","));
            }
            lines.extend(["    timeout=3,".to_string(), ")".to_string()]);
            lines.extend(closed(100));
            lines.join("\n") + "\n"
        };
        let cases = [
            // The argument written far below the call's opening.
            (version("OpenAI", false), version("OpenAI", true)),
            // The call renamed far above its argument.
            (version("Other", true), version("OpenAI", true)),
        ];
        for (old, new) in cases {
            let (summary, old_hits) = whole(&scanner, old.as_bytes());
            assert!(!old_hits, "{old}");
            assert!(whole(&scanner, new.as_bytes()).1, "{new}");
            let decided = clean(&regions, &new, &old, &summary);
            assert!(decided.is_none(), "{new}");
        }
        // Renamed back: the regions decide it (the call's reach is searched, not the blob).
        let (old, new) = (version("OpenAI", false), version("Other", false));
        let (summary, _) = whole(&scanner, old.as_bytes());
        assert!(clean(&regions, &new, &old, &summary).is_some());
    }

    /// Versions of files edited a few lines at a time: every version the regions call clean
    /// has no hit when searched whole, and the regions decide most versions.
    #[test]
    fn clean_around_a_change_is_clean_when_searched_whole() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let regions = Regions::new(&scanner);
        let mut rng = Xorshift::new(34);
        let (mut decided, mut with_hits, mut versions) = (0, 0, 0);
        let filler = |rng: &mut Xorshift| format!("    step_{0} = run(step_{0})", rng.below(1000));
        for _ in 0..400 {
            let mut lines: Vec<String> = (0..120)
                .map(|i| match rng.below(80) {
                    0 => line(&scanner, &mut rng),
                    _ => format!("    step_{i} = run(step_{i})"),
                })
                .collect();
            // The provider's name in every version: rules it makes candidates are known ones.
            lines.insert(0, "import replicate".to_string());
            let mut old = lines.join("\n") + "\n";
            let (mut summary, _) = whole(&scanner, old.as_bytes());
            for _ in 0..6 {
                for _ in 0..1 + rng.below(3) {
                    let at = 1 + rng.below(lines.len());
                    let text = match rng.below(4) {
                        0 => line(&scanner, &mut rng),
                        _ => filler(&mut rng),
                    };
                    match rng.below(3) {
                        0 if at < lines.len() => drop(lines.remove(at)),
                        1 if at < lines.len() => lines[at] = text,
                        _ => lines.insert(at, text),
                    }
                }
                let new = lines.join("\n") + "\n";
                let (searched, has_hits) = whole(&scanner, new.as_bytes());
                versions += 1;
                with_hits += usize::from(has_hits);
                summary = match clean(&regions, &new, &old, &summary) {
                    Some(clean) => {
                        assert!(!has_hits, "called clean, but has hits:\n{old}\n---\n{new}");
                        decided += 1;
                        clean
                    }
                    None => searched,
                };
                old = new;
            }
        }
        assert!(decided * 8 > versions, "{decided} of {versions} decided");
        assert!(
            with_hits * 4 > versions,
            "{with_hits} of {versions} with hits"
        );
    }
}
