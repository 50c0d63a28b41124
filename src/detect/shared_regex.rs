//! A rule's compiled regex and its search caches, shared by the scanning threads: what
//! [`Rule::captures`](crate::detect::rules::Rule::captures) runs once the cheaper checks let a
//! text through.
//!
//! Memory: `regex::bytes::Regex` keeps one lazy-DFA cache for the first thread that searches
//! with it and one more for each other thread, each growing up to 2 MiB of states. A 150 MB
//! first commit wakes several hundred rules, so the second scanning thread doubled the largest
//! part of the peak (15 MB of 82 MB). Here a search borrows an idle cache of the rule and gives
//! it back: two threads rarely search with the same rule at the same moment, so most rules
//! keep one cache, which also learns its states once instead of once per thread. The regex is
//! built as `regex::bytes::RegexBuilder` builds it, so matches are the same, but without the
//! one-pass DFA (one of the engines that resolve groups; the others give the same groups): it
//! was built for every regex at compile time, 2.5 MB of the 150 MB first commit's peak, and
//! that case ran 0.8% fewer instructions without it.
//!
//! A cache a rule has not searched with while `IDLE_BYTES` were scanned is dropped (see
//! `SharedRegex::drop_idle_caches`): a big first commit wakes many rules for one or two files,
//! and their caches (up to 3 MB for a connection-string rule) stayed to the end of the run.
//!
//! A pattern is compiled once per process (see `COMPILED`): two rules with the same regex
//! share the compiled program and keep caches of their own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use regex_automata::meta::{self, Cache};
use regex_automata::util::captures::Captures;
use regex_automata::util::iter::Searcher;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind};

/// A compiled rule regex and the caches no search is using at the moment.
pub struct SharedRegex {
    regex: Arc<meta::Regex>,
    idle: Mutex<Vec<Cache>>,
    /// [`SCANNED`] when a search last took a cache.
    last_used: AtomicU64,
}

/// The patterns compiled so far in this process, with their size limits. A big first commit
/// wakes two rules with the same pattern (`(?i:api-key)[ \t]+...`, 0.35 ms a compile); the
/// list stays short (one entry per rule compiled, about 60 on a 40 MB first commit), so a
/// look-up is a few string compares.
static COMPILED: Mutex<Vec<(String, usize, Arc<meta::Regex>)>> = Mutex::new(Vec::new());

/// Bytes the scanners of this process have been handed so far (see [`note_scanned`]).
static SCANNED: AtomicU64 = AtomicU64::new(0);

/// A rule whose regex searched nothing while this many bytes were scanned gives its caches
/// back. On the bench's 150 MB first commit (instructions by callgrind, peak RSS): never
/// 7.67 G and 77 MB, 16 MB 7.76 G and 70-72 MB, 4 MB 7.86 G and 64 MB (bound 67): the
/// rules a few files wake rebuild a cache now and then, and memory stays in bound.
const IDLE_BYTES: u64 = 4 << 20;

/// How often idle caches are looked for, in bytes scanned.
const SWEEP_EVERY: u64 = 4 << 20;

/// Counts `bytes` more scanned; true when the caches of idle rules are due to be dropped
/// (once every `SWEEP_EVERY` bytes, on whichever thread crosses the mark).
pub fn note_scanned(bytes: usize) -> bool {
    let before = SCANNED.fetch_add(bytes as u64, Ordering::Relaxed);
    before / SWEEP_EVERY != (before + bytes as u64) / SWEEP_EVERY
}

/// One match and its groups' places.
#[derive(Debug, Clone)]
pub struct Found {
    caps: Captures,
}

/// Where one group of a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    start: usize,
    end: usize,
}

impl Group {
    pub fn start(&self) -> usize {
        self.start
    }

    pub fn end(&self) -> usize {
        self.end
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

impl Found {
    /// Group `index` (0: the whole match), when it took part in the match.
    pub fn get(&self, index: usize) -> Option<Group> {
        (self.caps.get_group(index)).map(|span| Group {
            start: span.start,
            end: span.end,
        })
    }

    /// Every group's (start, end), for comparing two searches.
    pub fn spans(&self) -> Vec<Option<(usize, usize)>> {
        (self.caps.iter())
            .map(|span| span.map(|span| (span.start, span.end)))
            .collect()
    }
}

impl SharedRegex {
    /// `pattern` compiled as `regex::bytes::RegexBuilder::new(pattern).size_limit(size_limit)`
    /// compiles it (byte regexes: Unicode on, UTF-8 not required; leftmost-first), without the
    /// one-pass DFA. Errors are the regex crate's, so that a rule's error reads as before.
    pub fn new(pattern: &str, size_limit: usize) -> Result<SharedRegex, regex::Error> {
        let known = |compiled: &Vec<(String, usize, Arc<meta::Regex>)>| {
            (compiled.iter())
                .find(|(known, limit, _)| known == pattern && *limit == size_limit)
                .map(|(_, _, regex)| Arc::clone(regex))
        };
        if let Some(regex) = known(&COMPILED.lock().unwrap_or_else(PoisonError::into_inner)) {
            return Ok(SharedRegex::around(regex));
        }
        // Compiled unlocked: another thread may compile another pattern meanwhile (or, rarely,
        // the same one; the first to finish is kept).
        let regex = Arc::new(SharedRegex::compile(pattern, size_limit)?);
        let mut compiled = COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
        let regex = known(&compiled).unwrap_or_else(|| {
            compiled.push((pattern.to_string(), size_limit, Arc::clone(&regex)));
            regex
        });
        Ok(SharedRegex::around(regex))
    }

    /// `pattern` compiled (see [`SharedRegex::new`]).
    fn compile(pattern: &str, size_limit: usize) -> Result<meta::Regex, regex::Error> {
        let config = meta::Config::new()
            .nfa_size_limit(Some(size_limit))
            .hybrid_cache_capacity(2 * (1 << 20))
            .onepass(false)
            .match_kind(MatchKind::LeftmostFirst)
            .utf8_empty(false);
        let built = meta::Builder::new()
            .configure(config)
            .syntax(syntax::Config::new().utf8(false))
            .build(pattern);
        match built {
            Ok(regex) => Ok(regex),
            // The regex crate words the error (and checks the pattern the same way).
            Err(_) => Err(regex::bytes::RegexBuilder::new(pattern)
                .size_limit(size_limit)
                .build()
                .err()
                .unwrap_or_else(|| regex::Error::Syntax(pattern.to_string()))),
        }
    }

    fn around(regex: Arc<meta::Regex>) -> SharedRegex {
        SharedRegex {
            regex,
            idle: Mutex::new(Vec::new()),
            last_used: AtomicU64::new(SCANNED.load(Ordering::Relaxed)),
        }
    }

    /// Drops the idle caches when no search used one while `IDLE_BYTES` were scanned.
    pub fn drop_idle_caches(&self) {
        let now = SCANNED.load(Ordering::Relaxed);
        if now.saturating_sub(self.last_used.load(Ordering::Relaxed)) > IDLE_BYTES {
            let idle =
                std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
            drop(idle);
        }
    }

    /// How many caches wait for a search (tests).
    #[cfg(test)]
    pub(crate) fn idle_caches(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// How many groups a match has, the whole match included.
    pub fn captures_len(&self) -> usize {
        self.regex.captures_len()
    }

    /// Runs `search` with an idle cache of this regex (a new one when every cache is in use),
    /// then gives the cache back.
    fn with_cache<T>(&self, search: impl FnOnce(&meta::Regex, &mut Cache) -> T) -> T {
        (self.last_used).store(SCANNED.load(Ordering::Relaxed), Ordering::Relaxed);
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut cache = idle.unwrap_or_else(|| self.regex.create_cache());
        let found = search(&self.regex, &mut cache);
        (self.idle.lock().unwrap_or_else(PoisonError::into_inner)).push(cache);
        found
    }

    /// Whether the regex matches somewhere in `text`.
    pub fn is_match(&self, text: &[u8]) -> bool {
        self.with_cache(|regex, cache| regex.is_match_with(cache, &Input::new(text)))
    }

    /// Every match in `text`, as `regex::bytes::Regex::captures_iter` finds them (found at
    /// once, so that the cache goes back to the rule before the caller reads them).
    pub fn captures_iter(&self, text: &[u8]) -> std::vec::IntoIter<Found> {
        self.with_cache(|regex, cache| {
            let mut caps = regex.create_captures();
            let mut searcher = Searcher::new(Input::new(text));
            let mut found = Vec::new();
            while searcher
                .advance(|input| {
                    regex.search_captures_with(cache, input, &mut caps);
                    Ok(caps.get_match())
                })
                .is_some()
            {
                found.push(Found { caps: caps.clone() });
            }
            found.into_iter()
        })
    }

    /// The matches in each window of `text` (disjoint, in order), as
    /// `regex::bytes::Regex::captures_at` finds them from the window's start on in
    /// `text[..window.end]`, past an empty match one byte on, until a match ends at or past
    /// the window's end.
    pub fn captures_in_windows(
        &self,
        text: &[u8],
        windows: &[std::ops::Range<usize>],
    ) -> Vec<Found> {
        self.with_cache(|regex, cache| {
            let mut caps = regex.create_captures();
            let mut found = Vec::new();
            for window in windows {
                let haystack = &text[..window.end];
                let mut at = window.start;
                loop {
                    let input = Input::new(haystack).span(at..haystack.len());
                    regex.search_captures_with(cache, &input, &mut caps);
                    let Some(whole) = caps.get_match() else { break };
                    // As the iterator does: past an empty match, one byte on.
                    at = whole.end().max(whole.start() + 1);
                    found.push(Found { caps: caps.clone() });
                    if at >= window.end {
                        break;
                    }
                }
            }
            found
        })
    }
}

impl Clone for SharedRegex {
    /// The same regex, with caches of its own.
    fn clone(&self) -> SharedRegex {
        SharedRegex::around(Arc::clone(&self.regex))
    }
}

impl std::fmt::Debug for SharedRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedRegex").field(&self.regex).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::required_run::spans;

    const PATTERN: &str = r"(?i:key|token)(?-u:[^\n]){0,8}?(?-u:\b)([a-f0-9]{16})(?-u:\b)|(x*)";

    fn texts() -> Vec<Vec<u8>> {
        (0..64)
            .map(|i| {
                let digits = "0123456789abcdef".repeat(2);
                let token = &digits[i % 16..i % 16 + 16];
                format!("a\nTOKEN = {token}\nxx key:{token}z\n{}é", "x".repeat(i)).into_bytes()
            })
            .collect()
    }

    /// Every match and group the regex crate finds, empty matches included, from threads that
    /// take each other's caches.
    #[test]
    fn finds_what_the_regex_crate_finds_from_threads_sharing_caches() {
        let shared = SharedRegex::new(PATTERN, 1 << 20).unwrap();
        let reference = regex::bytes::Regex::new(PATTERN).unwrap();
        let texts = texts();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for text in &texts {
                        let whole: Vec<_> = reference.captures_iter(text).collect();
                        assert_eq!(
                            spans(&shared.captures_iter(text).collect::<Vec<_>>()),
                            spans(&whole)
                        );
                        assert!(shared.is_match(text));
                    }
                });
            }
        });
        assert!((1..=4).contains(&shared.idle_caches()));
    }

    /// A window's search sees the bytes before it and stops at its end, as `captures_at` over
    /// `text[..end]` does.
    #[test]
    fn windows_search_from_their_start_to_their_end() {
        let shared = SharedRegex::new(PATTERN, 1 << 20).unwrap();
        let reference = regex::bytes::Regex::new(PATTERN).unwrap();
        for text in texts() {
            let windows = [2..20, 20..text.len()];
            let mut expected = Vec::new();
            for window in &windows {
                let mut at = window.start;
                while let Some(caps) = reference.captures_at(&text[..window.end], at) {
                    let whole = caps.get(0).unwrap();
                    at = whole.end().max(whole.start() + 1);
                    expected.push(caps);
                    if at >= window.end {
                        break;
                    }
                }
            }
            let found = shared.captures_in_windows(&text, &windows);
            assert_eq!(spans(&found), spans(&expected));
        }
    }

    /// Two regexes of one pattern and size limit share one compile and keep caches of their
    /// own; another size limit compiles anew.
    #[test]
    fn a_pattern_is_compiled_once_per_size_limit() {
        let pattern = r"(?i:shared)[ \t]+([a-f0-9]{16})";
        let first = SharedRegex::new(pattern, 1 << 20).unwrap();
        let second = SharedRegex::new(pattern, 1 << 20).unwrap();
        let other_limit = SharedRegex::new(pattern, 2 << 20).unwrap();
        assert!(Arc::ptr_eq(&first.regex, &second.regex));
        assert!(!Arc::ptr_eq(&first.regex, &other_limit.regex));
        let text = b"SHARED 0123456789abcdef";
        assert_eq!(first.captures_iter(text).count(), 1);
        assert_eq!((first.idle_caches(), second.idle_caches()), (1, 0));
        assert!(SharedRegex::new(r"(unclosed", 1 << 20).is_err());
    }

    /// A rule idle for a while gives its caches back, one in use keeps them, and a search after
    /// the drop finds the same.
    #[test]
    fn idle_caches_are_dropped_and_made_again() {
        let shared = SharedRegex::new(PATTERN, 1 << 20).unwrap();
        let text = &texts()[5];
        let first = spans(&shared.captures_iter(text).collect::<Vec<_>>());
        shared.drop_idle_caches();
        assert_eq!(shared.idle_caches(), 1, "just used");
        note_scanned(IDLE_BYTES as usize + 1);
        shared.drop_idle_caches();
        assert_eq!(shared.idle_caches(), 0, "idle");
        assert_eq!(
            spans(&shared.captures_iter(text).collect::<Vec<_>>()),
            first
        );
        assert_eq!(shared.idle_caches(), 1);
    }
}
