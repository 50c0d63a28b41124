//! The longest run of bytes from one class that every match of a rule's regex holds (the 64
//! hex digits of `(?i:key|token)[^\n]{0,48}?\b([a-f0-9]{64})\b`), read off the regex's syntax
//! tree. A text without such a run cannot match, and looking for one skips through the text:
//! when the last byte of a window as long as the run is outside the class, no run ends in that
//! window and the next one starts after it. Rules whose regexes open with common words
//! (`key`, `token`) or have no literal at all ran at 0.1 to 0.7 GB/s over the source that names
//! their vendor; the check reads a fraction of its bytes, and a text that fails it needs no
//! compiled regex either.

use std::ops::Range;

use crate::detect::shared_regex::{Found, SharedRegex};

use crate::detect::run_syntax::{pack, run_syntax, unpack};
use crate::detect::token_runs;

/// A class of bytes and how many of them in a row every match holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredRun {
    members: [bool; 256],
    /// The members as bits: four comparisons tell two classes apart.
    class: [u64; 4],
    length: usize,
    /// The longest match the regex can make, in bytes, when it has a bound: every match then
    /// lies within this many bytes of a run, and the regex need only look there.
    reach: Option<usize>,
    /// Every member is a token byte: runs of at least [`token_runs::MIN_RUN`] lie inside a
    /// text's token runs (see [`ClassRuns::within`]).
    token_class: bool,
}

/// A [`RequiredRun`] as build.rs writes it into the binary (the class as bits, see
/// [`pack`]).
#[derive(Debug, Clone, Copy)]
pub struct PackedRun {
    pub members: [u64; 4],
    pub length: usize,
    pub reach: Option<usize>,
}

/// The maximal runs of each class met in one text, found once for the rules that need that
/// class: the catalog's rules share a few classes (hex digits, letters and digits), and runs
/// are looked for through the whole text. Each class keeps the runs at least as long as the
/// shortest any rule asked for, or the shortest the blob's candidate rules may ask for when
/// known ([`ClassRuns::asking`]); a rule asking for shorter ones has them looked for again.
///
/// When the blob's token runs are known ([`ClassRuns::within`]), a class of token bytes is
/// looked for inside them alone.
#[derive(Debug, Default)]
pub struct ClassRuns<'t> {
    text: Option<&'t [u8]>,
    /// Per class listed in `text`, the runs found.
    found: Vec<Listed>,
    token_runs: Option<TokenRunsOf<'t>>,
    /// Per class: the shortest run the candidate rules may list (see [`ClassRuns::asking`]).
    shortest: Vec<([u64; 4], usize)>,
}

/// The runs of one class listed in a text.
#[derive(Debug)]
struct Listed {
    class: [u64; 4],
    /// The length looked for: `runs` are every maximal run at least this long.
    length: usize,
    runs: Vec<Range<usize>>,
    /// The class holds token bytes only.
    token_class: bool,
}

/// A blob's token runs, and the texts they hold for (the blob, its copy with escapes masked).
type TokenRunsOf<'t> = (&'t [Range<usize>], [&'t [u8]; 2]);

impl<'t> ClassRuns<'t> {
    /// The class runs of `texts`, whose runs of at least [`token_runs::MIN_RUN`] token bytes
    /// all lie inside `runs`, each of them bordered by non-token bytes or the text's ends: the
    /// blob's [`token_runs::token_runs`] hold for the blob and for its copy with escapes
    /// masked, where masking only turns bytes into spaces.
    pub fn within(runs: &'t [Range<usize>], texts: [&'t [u8]; 2]) -> ClassRuns<'t> {
        ClassRuns {
            token_runs: Some((runs, texts)),
            ..ClassRuns::default()
        }
    }

    /// Lists each class at the shortest length `runs` ask for (the required runs of the rules
    /// that may list runs here): a class listed for a rule asking 32 bytes in a row was
    /// listed again for the next asking 22 (on trees40, 31% of the bytes listed were listed
    /// again). Runs without a reach are only looked for, never listed.
    pub fn asking<'r>(mut self, runs: impl IntoIterator<Item = &'r RequiredRun>) -> ClassRuns<'t> {
        for run in runs.into_iter().filter(|run| run.has_reach()) {
            match (self.shortest.iter_mut()).find(|(class, _)| *class == run.class) {
                Some((_, length)) => *length = run.length.min(*length),
                None => self.shortest.push((run.class, run.length)),
            }
        }
        self
    }

    /// The token runs of `text` at least `length` long, when known and runs of `length` of
    /// `run`'s class lie inside them; `None`: the whole text is to be searched.
    fn bounds(
        &self,
        run: &RequiredRun,
        length: usize,
        text: &[u8],
    ) -> Option<impl Iterator<Item = &Range<usize>>> {
        let (runs, texts) = self.token_runs?;
        let known = run.token_class
            && length >= token_runs::MIN_RUN
            && texts.iter().any(|known| std::ptr::eq(*known, text));
        known.then(|| {
            runs.iter()
                .filter(move |token_run| token_run.end - token_run.start >= length)
        })
    }

    /// The runs of `run`'s class in `text` when some rule had them listed already, at least
    /// as long as `run` needs.
    fn known(&self, run: &RequiredRun, text: &[u8]) -> Option<&[Range<usize>]> {
        if !self.text.is_some_and(|seen| std::ptr::eq(seen, text)) {
            return None;
        }
        (self.found.iter())
            .find(|listed| listed.class == run.class && listed.length <= run.length)
            .map(|listed| listed.runs.as_slice())
    }

    /// Whether `text` holds `run.length` members of its class in a row.
    fn holds(&self, run: &RequiredRun, text: &[u8]) -> bool {
        if let Some(found) = self.known(run, text) {
            return found.iter().any(|found| found.len() >= run.length);
        }
        match self.bounds(run, run.length, text) {
            Some(mut within) => within.any(|token_run| run.is_in(&text[token_run.clone()])),
            None => run.is_in(text),
        }
    }

    fn of(&mut self, run: &RequiredRun, text: &'t [u8]) -> &[Range<usize>] {
        if !self.text.is_some_and(|seen| std::ptr::eq(seen, text)) {
            self.text = Some(text);
            self.found.clear();
        }
        let known = self
            .found
            .iter()
            .position(|listed| listed.class == run.class);
        let at = match known {
            Some(at) if self.found[at].length <= run.length => at,
            _ => {
                // Listed at the shortest length the candidates ask: shorter runs are found
                // too, and `regions` passes over them.
                let shortest = (self.shortest.iter())
                    .find(|(class, _)| *class == run.class)
                    .map_or(run.length, |(_, length)| run.length.min(*length));
                let entry = Listed {
                    class: run.class,
                    length: shortest,
                    runs: self.list(run, shortest, text),
                    token_class: run.token_class,
                };
                match known {
                    Some(at) => {
                        self.found[at] = entry;
                        at
                    }
                    None => {
                        self.found.push(entry);
                        self.found.len() - 1
                    }
                }
            }
        };
        &self.found[at].runs
    }

    /// Every maximal run of at least `length` members of `run`'s class in `text`, in order.
    fn list(&self, run: &RequiredRun, length: usize, text: &[u8]) -> Vec<Range<usize>> {
        let mut runs = Vec::new();
        let bounds = self.bounds(run, length, text);
        match (
            self.listed_around(run, length, text, bounds.is_some()),
            bounds,
        ) {
            (Some(wider), _) => {
                let wider = wider
                    .iter()
                    .filter(|wider| wider.end - wider.start >= length);
                run.runs_within(text, length, wider, &mut runs);
            }
            (None, Some(within)) => run.runs_within(text, length, within, &mut runs),
            (None, None) => run.runs_within(text, length, [&(0..text.len())], &mut runs),
        }
        runs
    }

    /// The fewest runs of a class holding `run`'s that `text` has listed already, at `length`
    /// or shorter: every run of `length` members lies inside one of them (the hex digits' runs
    /// inside those of letters and digits). Within token runs (`in_token_runs`), only a class
    /// of token bytes, whose runs lie inside the token runs, spares bytes.
    fn listed_around(
        &self,
        run: &RequiredRun,
        length: usize,
        text: &[u8],
        in_token_runs: bool,
    ) -> Option<&[Range<usize>]> {
        if !self.text.is_some_and(|seen| std::ptr::eq(seen, text)) {
            return None;
        }
        let holds = |wider: &[u64; 4]| (0..4).all(|i| run.class[i] & !wider[i] == 0);
        (self.found.iter())
            .filter(|listed| {
                listed.length <= length
                    && (listed.token_class || !in_token_runs)
                    && holds(&listed.class)
            })
            .map(|listed| listed.runs.as_slice())
            .min_by_key(|runs| runs.len())
    }
}

/// Where a regex's matches can be in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Regions {
    /// Nowhere: the text holds no run.
    None,
    /// Anywhere: the regex has no bound on its length.
    Whole,
    /// Within these disjoint ranges, in order: each run and `reach` bytes on either side.
    Windows(Vec<Range<usize>>),
}

impl RequiredRun {
    /// The requirement of `pattern` (parsed as the scanner's byte regexes are), if it has one
    /// worth checking: see [`run_syntax`].
    pub fn of(pattern: &str) -> Option<RequiredRun> {
        run_syntax(pattern).map(|run| RequiredRun::new(run.members, run.length, run.reach))
    }

    fn new(members: [bool; 256], length: usize, reach: Option<usize>) -> RequiredRun {
        RequiredRun {
            members,
            class: pack(&members),
            length,
            reach,
            token_class: token_runs::holds_class(&members),
        }
    }

    /// A built-in rule's requirement, as build.rs read it off the regex.
    pub fn unpacked(run: &PackedRun) -> RequiredRun {
        RequiredRun::new(unpack(&run.members), run.length, run.reach)
    }

    /// Where in `text` the regex can match. Every match holds `length` members in a row, so
    /// it overlaps a maximal run of members at least that long, and it is at most `reach`
    /// bytes long, so it lies within `reach` bytes of that run. Windows that overlap are
    /// merged: a match never crosses from one window into another, so searching each window
    /// from its start finds what one search over the whole text finds.
    fn regions<'t>(&self, text: &'t [u8], runs: &mut ClassRuns<'t>) -> Regions {
        let Some(reach) = self.reach else {
            // Runs another rule already listed answer at once; else the first run will do (in
            // code, the generated rules' value class has one within a few lines, while
            // listing them all crossed the whole text).
            return match runs.holds(self, text) {
                true => Regions::Whole,
                false => Regions::None,
            };
        };
        let listed = runs.of(self, text);
        // At most a window a run: grown from empty, the list took a reallocation in three
        // of four calls.
        let mut windows: Vec<Range<usize>> = Vec::with_capacity(listed.len());
        for run in listed {
            // Listed runs are never empty: their length is the difference (`len()` makes sure
            // first, two more instructions a run).
            if run.end - run.start < self.length {
                continue;
            }
            let window = run.start.saturating_sub(reach)..(run.end + reach).min(text.len());
            match windows.last_mut() {
                Some(last) if window.start <= last.end => last.end = window.end,
                _ => windows.push(window),
            }
        }
        if windows.is_empty() {
            Regions::None
        } else {
            Regions::Windows(windows)
        }
    }

    /// Adds to `runs` every maximal run of at least `length` members inside `spans` of
    /// `text`, each bordered by non-members (a token run, or a listed run of a wider class), so
    /// that a run found inside one is maximal. Generic over the spans, so that the search is
    /// inlined into one loop over them: a call per span, most of which hold no run, cost about
    /// as much as the search itself.
    #[inline(always)]
    fn runs_within<'s>(
        &self,
        text: &[u8],
        length: usize,
        spans: impl IntoIterator<Item = &'s Range<usize>>,
        runs: &mut Vec<Range<usize>>,
    ) {
        for within in spans {
            let text = &text[..within.end];
            let mut from = within.start;
            while let Some(found) = self.next_run(text, from, length) {
                from = found.end;
                runs.push(found);
            }
        }
    }

    /// The next maximal run of at least `length` members that starts at or after `from`
    /// (0, or a run's end: a non-member).
    fn next_run(&self, text: &[u8], from: usize, length: usize) -> Option<Range<usize>> {
        // The first window found starts the run: the search only ever moves a window's start
        // to just past a non-member.
        let start = from + self.first_window(&text[from..], length)?;
        let end = text[start + length..]
            .iter()
            .position(|&b| !self.members[usize::from(b)])
            .map_or(text.len(), |i| start + length + i);
        Some(start..end)
    }

    /// True when matches have a bounded length, so that [`RequiredRun::regions`] gives
    /// windows rather than the whole text.
    pub(crate) fn has_reach(&self) -> bool {
        self.reach.is_some()
    }

    /// Whether `text` holds `length` member bytes in a row.
    pub fn is_in(&self, text: &[u8]) -> bool {
        self.first_window(text, self.length).is_some()
    }

    /// The start of the first `length` member bytes in a row in `text`.
    fn first_window(&self, text: &[u8], length: usize) -> Option<usize> {
        // The window is text[end - length..end].
        let mut end = length;
        while end <= text.len() {
            if !self.members[usize::from(text[end - 1])] {
                end += length;
                continue;
            }
            let start = end - length;
            match text[start..end - 1]
                .iter()
                .rposition(|&b| !self.members[usize::from(b)])
            {
                // A run must start after the last outsider.
                Some(outsider) => end = start + outsider + 1 + length,
                None => return Some(start),
            }
        }
        None
    }
}

/// Whether `text` holds the run every match of the regex holds, when `run` says which
/// (searches other than [`captures`], such as around keywords, ask it first).
pub fn may_hold<'t>(run: Option<&RequiredRun>, text: &'t [u8], runs: &mut ClassRuns<'t>) -> bool {
    run.is_none_or(|run| runs.holds(run, text))
}

/// The matches of `regex` in `text`, the same as one search over all of it finds, looked for
/// only where `run` (read from the regex's pattern) allows them and `may_match(haystack, from)`
/// (whether the regex may match in `haystack[from..]`) does not rule out; `regex` is not asked
/// for when the text cannot match.
pub fn captures<'t, 'r>(
    run: Option<&RequiredRun>,
    may_match: impl Fn(&[u8], usize) -> bool,
    regex: impl FnOnce() -> &'r SharedRegex,
    text: &'t [u8],
    runs: &mut ClassRuns<'t>,
) -> Vec<Found> {
    let regions = run.map_or(Regions::Whole, |run| run.regions(text, runs));
    let mut windows = match regions {
        Regions::None => return Vec::new(),
        Regions::Whole if !may_match(text, 0) => return Vec::new(),
        Regions::Whole => return regex().captures_iter(text).collect(),
        Regions::Windows(windows) => windows,
    };
    windows.retain(|window| may_match(&text[..window.end], window.start));
    if windows.is_empty() {
        return Vec::new();
    }
    // The search sees everything before a window (`^`, a word boundary at its start) and stops
    // at its end, which is at least a run's length past the end of any match (a match starts
    // a run's length before the run's end at the latest), so a boundary at a match's end sees
    // the same next character as in the whole text.
    regex().captures_in_windows(text, &windows)
}

/// Every group's (start, end) of each match, for comparing two searches in tests.
#[cfg(test)]
pub(crate) type Spans = Vec<Vec<Option<(usize, usize)>>>;

/// A match as tests compare them: the shared regex's, or the regex crate's as the reference.
#[cfg(test)]
pub(crate) trait GroupSpans {
    fn group_spans(&self) -> Vec<Option<(usize, usize)>>;
}

#[cfg(test)]
impl GroupSpans for Found {
    fn group_spans(&self) -> Vec<Option<(usize, usize)>> {
        self.spans()
    }
}

#[cfg(test)]
impl GroupSpans for regex::bytes::Captures<'_> {
    fn group_spans(&self) -> Vec<Option<(usize, usize)>> {
        self.iter()
            .map(|m| m.map(|m| (m.start(), m.end())))
            .collect()
    }
}

#[cfg(test)]
pub(crate) fn spans(found: &[impl GroupSpans]) -> Spans {
    found.iter().map(GroupSpans::group_spans).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(pattern: &str, text: &[u8]) -> bool {
        regex::bytes::Regex::new(pattern).unwrap().is_match(text)
    }

    /// Random texts of members and outsiders, runs of every length near the one looked for:
    /// the first window and the listed runs are those a byte-by-byte look finds.
    #[test]
    fn skipping_windows_finds_the_runs_of_a_byte_by_byte_look() {
        let mut members = [false; 256];
        b"ab".iter().for_each(|&b| members[usize::from(b)] = true);
        let mut random = crate::test_support::Xorshift::new(0x9e37_79b9_7f4a_7c15);
        let mut listed = 0;
        for _ in 0..20_000 {
            let length = 1 + random.below(8);
            let run = RequiredRun::new(members, length, None);
            let spread = 2 + random.below(12);
            let text: Vec<u8> = (0..random.below(60))
                .map(|_| match random.below(spread) {
                    0 => b"- "[random.below(2)],
                    _ => b"ab"[random.below(2)],
                })
                .collect();
            let first = (text.windows(length))
                .position(|window| window.iter().all(|&b| members[usize::from(b)]));
            assert_eq!(
                run.first_window(&text, length),
                first,
                "{length} in {text:?}"
            );
            let mut expected = Vec::new();
            let mut at = 0;
            while at < text.len() {
                let len = (text[at..].iter())
                    .take_while(|&&b| members[usize::from(b)])
                    .count();
                if len >= length {
                    expected.push(at..at + len);
                }
                at += len.max(1);
            }
            let runs = ClassRuns::default().list(&run, length, &text);
            assert_eq!(runs, expected, "{length} in {text:?}");
            listed += runs.len();
        }
        assert!(listed > 20_000, "{listed}");
    }

    #[test]
    fn finds_the_run_every_match_needs() {
        let cases: [(&str, Option<usize>); 9] = [
            (
                r"(?i:key|token)(?-u:[^\n]){0,48}?(?-u:\b)([a-f0-9]{64})(?-u:\b)",
                Some(64),
            ),
            (
                r"(?-u:\b)([a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{12}:[a-f0-9]{32})",
                Some(32),
            ),
            (
                r"(?:^|[^A-Za-z0-9_-])([A-Za-z0-9]{32})(?:[^A-Za-z0-9_-]|$)",
                Some(32),
            ),
            (r"r8_[A-Za-z0-9]{37}", Some(37)),
            (r"(?:[a-z]{20}|x)", None),
            (r"([a-z]{20})?", None),
            (r"[a-z]{8}", None),
            (r"\w{20}", None),
            (r"(?:ab[0-9]{20}){2,}", Some(20)),
        ];
        for (pattern, expected) in cases {
            assert_eq!(
                RequiredRun::of(pattern).map(|run| run.length),
                expected,
                "{pattern}"
            );
        }
    }

    /// Fewer than `pieces_below` pieces drawn from `pieces`, each repeated now and then up to
    /// 23 times: runs long enough to hold a match, and every border between them.
    /// A pattern's whole-text regex, its shared regex and its required run.
    type Compiled = (regex::bytes::Regex, SharedRegex, RequiredRun);

    /// Asks each rule of `asking`, in that order, in both texts through the same `within`, and
    /// checks that it finds what a search of the whole text finds: the number of matches.
    fn finds_what_the_whole_text_search_finds<'t>(
        asking: &[&Compiled],
        texts: [&'t [u8]; 2],
        within: &mut ClassRuns<'t>,
    ) -> usize {
        let mut matched = 0;
        for text in texts {
            for (regex, shared, run) in asking {
                let whole: Vec<_> = regex.captures_iter(text).collect();
                let found = captures(Some(run), |_, _| true, || shared, text, within);
                let shown = String::from_utf8_lossy(text);
                assert_eq!(
                    spans(&found),
                    spans(&whole),
                    "{} on {shown:?}",
                    regex.as_str()
                );
                matched += whole.len();
            }
        }
        matched
    }

    fn random_blob(
        random: &mut crate::test_support::Xorshift,
        pieces: &[&[u8]],
        pieces_below: usize,
    ) -> Vec<u8> {
        let mut blob = Vec::new();
        for _ in 0..random.below(pieces_below) {
            let piece = pieces[random.below(pieces.len())];
            let repeats = if random.below(2) == 0 {
                random.below(24)
            } else {
                1
            };
            for _ in 0..repeats {
                blob.extend_from_slice(piece);
            }
        }
        blob
    }

    /// Random texts rich in runs, against patterns that put the run at a match's start, end
    /// and middle, anchor at the text's ends and lines, and need a word boundary after the
    /// run: the windowed search finds what the whole-text search finds.
    #[test]
    fn windows_find_what_the_whole_text_search_finds() {
        let patterns = [
            r"(?-u:\b)([a-f0-9]{16})(?-u:[^\n]){0,10}(?-u:\b)",
            r"\b([a-f0-9]{16})\b",
            r"(?:^|[^a-z0-9])([a-z0-9]{16})(?:[^a-z0-9]|$)",
            r"(?i:key|token)(?-u:[^\n]){0,8}?(?-u:\b)([a-f0-9]{16})(?-u:\b)",
            r"(?m:^)k([0-9a-f]{16})x?(?m:$)",
            r"([a-f]{16}) ([0-9]{16})",
            r"(?s:.){0,5}([a-f0-9]{16})\b",
        ];
        let pieces: [&[u8]; 14] = [
            b"a",
            b"0",
            b"f9",
            b"0123456789",
            b"abcdef",
            b" ",
            b"\n",
            b"\nk",
            b"key",
            b"Token",
            "é".as_bytes(),
            b"_",
            b"x",
            b"k",
        ];
        let mut random = crate::test_support::Xorshift::new(0x2545_f491_4f6c_dd1d);
        for pattern in patterns {
            let regex = regex::bytes::Regex::new(pattern).unwrap();
            let shared = SharedRegex::new(pattern, 1 << 20).unwrap();
            let run = RequiredRun::of(pattern).expect("a run of 16");
            assert!(run.has_reach(), "{pattern}");
            let mut matched = 0;
            for _ in 0..20_000 {
                let text = random_blob(&mut random, &pieces, 30);
                let whole: Vec<_> = regex.captures_iter(&text).collect();
                let windowed = captures(
                    Some(&run),
                    |_, _| true,
                    || &shared,
                    &text,
                    &mut ClassRuns::default(),
                );
                assert_eq!(
                    spans(&windowed),
                    spans(&whole),
                    "{pattern} on {:?}",
                    String::from_utf8_lossy(&text)
                );
                matched += whole.len();
            }
            assert!(matched >= 5, "{pattern}: {matched} matches");
        }
    }

    /// Every text a regex matches passes the check, and a text that fails the check is one the
    /// regex does not match, at every length around the run and every place in the text.
    #[test]
    fn never_rules_out_a_text_that_matches() {
        let pattern = r"(?i:key)(?-u:[^\n]){0,8}?(?-u:\b)([a-f0-9]{16})(?-u:\b)";
        let run = RequiredRun::of(pattern).expect("a run of 16");
        for length in 14..19 {
            for lead in 0..20 {
                let mut text = b"token KEY = ".to_vec();
                text.extend(std::iter::repeat_n(b'z', lead));
                text.extend(std::iter::repeat_n(b'e', length));
                text.extend(b" x");
                let matches = naive(pattern, &text);
                assert!(
                    !matches || run.is_in(&text),
                    "{}",
                    String::from_utf8_lossy(&text)
                );
                assert_eq!(run.is_in(&text), length >= 16, "{length} after {lead}");
            }
        }
        // Outsiders at every distance from a run's end.
        let mut text = vec![b'a'; 40];
        for gap in 0..40 {
            text[gap] = b'-';
            let longest_run = gap.max(40 - gap - 1);
            assert_eq!(run.is_in(&text), longest_run >= 16, "outsider at {gap}");
            text[gap] = b'a';
        }
        assert!(!run.is_in(b""));
        assert!(!run.is_in(b"0123456789abcde"));
        assert!(run.is_in(b"0123456789abcdef"));
    }

    /// Runs looked for inside the blob's token runs alone find what a search through the whole
    /// text finds, in the blob and in its copy with escapes masked (the token runs are the
    /// blob's), for bounded and unbounded regexes, after another rule listed the same class.
    #[test]
    fn searching_inside_token_runs_finds_what_the_whole_text_search_finds() {
        use crate::detect::decode::mask_escapes;
        use crate::detect::token_runs::token_runs;
        let patterns = [
            r"\b([a-f0-9]{16})\b",
            r"(?:^|[^A-Za-z0-9_-])([A-Za-z0-9_-]{20})(?:[^A-Za-z0-9_-]|$)",
            r"k(?-u:[^\n]){0,8}?([A-Za-z0-9+/=]{18})",
            r"(?i:key)(?-u:[^\n])*?([a-f0-9]{16})",
            r"x([a-z0-9.~]{17})",
        ];
        let pieces: [&[u8]; 16] = [
            b"a",
            b"0",
            b"f9",
            b"0123456789",
            b"abcdef",
            b" ",
            b"\n",
            b"\\n",
            b"\\u00e9",
            b"key",
            b"_",
            b"-",
            b"=",
            b"x",
            b".~",
            "\u{e9}".as_bytes(),
        ];
        let mut random = crate::test_support::Xorshift::new(0x2545_f491_4f6c_dd1d);
        let compiled: Vec<_> = (patterns.iter())
            .map(|p| {
                (
                    regex::bytes::Regex::new(p).unwrap(),
                    SharedRegex::new(p, 1 << 20).unwrap(),
                )
            })
            .collect();
        let runs: Vec<RequiredRun> = patterns
            .iter()
            .map(|p| RequiredRun::of(p).unwrap())
            .collect();
        assert!(runs.iter().all(|run| run.length >= 16));
        // The last class holds `~`, no token byte: its runs are looked for in the whole text.
        let token_classes: Vec<bool> = runs.iter().map(|run| run.token_class).collect();
        assert_eq!(token_classes, [true, true, true, true, false]);
        assert!(runs.iter().any(|run| !run.has_reach()));
        let mut matched = 0;
        for _ in 0..6000 {
            let blob = random_blob(&mut random, &pieces, 40);
            let masked = mask_escapes(&blob).into_owned();
            let token_runs = token_runs(&blob);
            for text in [&blob, &masked] {
                let mut within = ClassRuns::within(&token_runs, [&blob, &masked]);
                for ((regex, shared), run) in compiled.iter().zip(&runs) {
                    let whole: Vec<_> = regex.captures_iter(text).collect();
                    let found = captures(Some(run), |_, _| true, || shared, text, &mut within);
                    assert_eq!(
                        spans(&found),
                        spans(&whole),
                        "{} on {:?}",
                        regex.as_str(),
                        String::from_utf8_lossy(text)
                    );
                    matched += whole.len();
                }
            }
        }
        assert!(matched >= 2000, "{matched} matches");
    }

    /// A class listed at the shortest length the candidates ask (some of which never ask)
    /// gives each rule what the whole-text search finds, whichever rule asks first, in the
    /// blob and in its copy with escapes masked, and is not listed again for a shorter run.
    #[test]
    fn a_class_listed_at_the_candidates_shortest_finds_what_the_whole_text_search_finds() {
        use crate::detect::decode::mask_escapes;
        use crate::detect::token_runs::token_runs;
        let patterns = [
            r"\b([a-f0-9]{16})\b",
            r"x([a-f0-9]{20})",
            r"([a-f0-9]{24})(?:[^a-f0-9]|$)",
            r"k(?-u:[^\n]){0,8}?([a-f0-9]{18})",
            r"(?:^|[^A-Za-z0-9_-])([A-Za-z0-9_-]{20})(?:[^A-Za-z0-9_-]|$)",
            r"([A-Za-z0-9_-]{17})y",
        ];
        let pieces: [&[u8]; 12] = [
            b"a",
            b"0",
            b"f9",
            b"0123456789",
            b"abcdef",
            b" ",
            b"\\n",
            b"k",
            b"x",
            b"y",
            b"_",
            b"Z",
        ];
        let compiled: Vec<_> = (patterns.iter())
            .map(|p| {
                let run = RequiredRun::of(p).unwrap();
                assert!(run.has_reach() && run.token_class, "{p}");
                let regex = regex::bytes::Regex::new(p).unwrap();
                (regex, SharedRegex::new(p, 1 << 20).unwrap(), run)
            })
            .collect();
        let mut random = crate::test_support::Xorshift::new(0x9e6c_63d0_676a_9a99);
        let mut matched = 0;
        for _ in 0..3000 {
            let blob = random_blob(&mut random, &pieces, 40);
            let masked = mask_escapes(&blob).into_owned();
            let token_runs = token_runs(&blob);
            // The candidates: a random half; the rules that ask, in a random order.
            let candidates: Vec<_> = compiled.iter().filter(|_| random.below(2) == 0).collect();
            let asking: Vec<_> = compiled.iter().filter(|_| random.below(2) == 0).collect();
            let first = random.below(asking.len().max(1));
            let mut within = ClassRuns::within(&token_runs, [&blob, &masked])
                .asking(candidates.iter().map(|(_, _, run)| run));
            let order: Vec<_> = asking[first..]
                .iter()
                .chain(&asking[..first])
                .copied()
                .collect();
            matched +=
                finds_what_the_whole_text_search_finds(&order, [&blob, &masked], &mut within);
        }
        assert!(matched >= 1000, "{matched} matches");
        // Asked for 24 first, then 16: the hex runs are listed once, at 16.
        let text = b"0123456789abcdef0123 0123456789abcdef".as_slice();
        let token_runs = token_runs(text);
        let runs = [&compiled[2].2, &compiled[0].2];
        let mut within = ClassRuns::within(&token_runs, [text, text]).asking(runs);
        assert_eq!(runs[0].regions(text, &mut within), Regions::None);
        assert_eq!(within.found.len(), 1);
        assert_eq!(within.found[0].length, 16);
        let listed = within.found[0].runs.as_ptr();
        assert!(matches!(
            runs[1].regions(text, &mut within),
            Regions::Windows(_)
        ));
        assert_eq!(within.found[0].runs.as_ptr(), listed, "listed again");
    }

    /// A class listed inside the listed runs of a class holding it (hex digits inside letters
    /// and digits, and inside a class with `:`, no token byte; digits inside hex digits), in
    /// whatever order the rules ask, finds what the whole-text search finds, in the blob and
    /// in its copy with escapes masked.
    #[test]
    fn a_class_listed_inside_a_wider_listed_class_finds_what_the_whole_text_search_finds() {
        use crate::detect::decode::mask_escapes;
        use crate::detect::token_runs::token_runs;
        let patterns = [
            r"\b([a-f0-9]{16})\b",
            r"k([a-z0-9]{18})",
            r"([a-f0-9:]{17})z",
            r"([a-f:]{20})",
            r"(?:^|[^0-9])([0-9]{16})",
            r"([A-Za-z0-9_-]{24})",
        ];
        let pieces: [&[u8]; 14] = [
            b"a",
            b"0",
            b"f9",
            b"0123456789",
            b"abcdef",
            b"ghz",
            b" ",
            b"\\n",
            b":",
            b"k",
            b"z",
            b"_",
            b"-",
            b"Q",
        ];
        let compiled: Vec<_> = (patterns.iter())
            .map(|p| {
                let run = RequiredRun::of(p).unwrap();
                let regex = regex::bytes::Regex::new(p).unwrap();
                (regex, SharedRegex::new(p, 1 << 20).unwrap(), run)
            })
            .collect();
        let token_classes: Vec<bool> = compiled.iter().map(|(_, _, run)| run.token_class).collect();
        assert_eq!(token_classes, [true, true, false, false, true, true]);
        let mut random = crate::test_support::Xorshift::new(0x1b87_3593_cc9e_2d51);
        let mut matched = 0;
        for _ in 0..4000 {
            let blob = random_blob(&mut random, &pieces, 40);
            let masked = mask_escapes(&blob).into_owned();
            let token_runs = token_runs(&blob);
            let mut asking: Vec<_> = compiled.iter().collect();
            for i in (1..asking.len()).rev() {
                asking.swap(i, random.below(i + 1));
            }
            let mut within = ClassRuns::within(&token_runs, [&blob, &masked])
                .asking(asking.iter().map(|(_, _, run)| run));
            matched +=
                finds_what_the_whole_text_search_finds(&asking, [&blob, &masked], &mut within);
        }
        assert!(matched >= 1000, "{matched} matches");
    }
}
