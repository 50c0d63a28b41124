//! Between the keyword prefilter and the rule regexes: a rule that needs a context keyword
//! near its secret (`mistral` within three lines of 32 letters and digits) searches only the
//! windows that have one in reach. A file naming the provider once and holding thousands of
//! runs (a changelog's commit hashes, a lock file's digests) woke the gate or regex of each
//! run, and every match found far from the keyword was dropped afterwards for its context.

use std::cell::{Cell, RefCell};
use std::ops::Range;

use memchr::memmem::Finder;

use crate::detect::filter;
use crate::detect::rules::{self, Rule, Side, Window};

/// The context keywords of one rule in one text, found as the windows ask, front to back.
pub struct NearContext<'t> {
    text: &'t [u8],
    window: Window,
    side: Side,
    rule: &'t Rule,
    /// A lowercase copy of the bytes searched: the keywords are searched one by one in it
    /// (see [`Rule::context_finders`]), as the rule's own case-blind automaton has no fast
    /// prefilter (it stepped through every other byte, 13 instructions a byte).
    lower: RefCell<Vec<u8>>,
    /// The last search, which the next windows reuse while it answers for them.
    last: Cell<Option<Searched>>,
}

impl<'t> NearContext<'t> {
    /// The context keywords of `rule` in `text`; `None` when the rule needs no context or a
    /// keyword anywhere in the file counts, so that every window may have its context.
    pub fn of(text: &'t [u8], rule: &'t Rule) -> Option<NearContext<'t>> {
        // Tests ask short examples, each to be searched as a long text is.
        if !cfg!(test) && text.len() < MIN_TEXT {
            return None;
        }
        let context = rule.spec().context.as_ref()?;
        (context.side != Side::File).then(|| NearContext {
            text,
            window: rules::context_window(context),
            side: context.side,
            rule,
            lower: RefCell::new(Vec::new()),
            last: Cell::new(None),
        })
    }

    /// False when no match inside `window` of the text can have a context keyword where
    /// [`filter::has_context`] looks for one: such a match is dropped for its context.
    pub fn may_hold(&self, window: Range<usize>) -> bool {
        let Some(reach) = filter::context_reach(self.text, window, (self.window, self.side)) else {
            return true;
        };
        let last = self.last.get();
        if let Some(last) = last.filter(|last| last.answers(&reach)) {
            return last.holds_within(&reach);
        }
        // Bytes a search found no keyword in need no second look: a keyword starting there
        // ends there too, or a keyword's length before its end at the latest.
        let from = match last {
            Some(Searched {
                span: (start, end),
                first: None,
            }) if start <= reach.start && reach.start < end => reach
                .start
                .max(end.saturating_sub(self.longest().saturating_sub(1))),
            _ => reach.start,
        };
        let searched = Searched {
            span: (
                reach.start,
                (from + LOOKAHEAD).clamp(reach.end, self.text.len()),
            ),
            first: None,
        };
        let searched = Searched {
            first: self.first_keyword(from..searched.span.1),
            ..searched
        };
        self.last.set(Some(searched));
        searched.holds_within(&reach)
    }

    /// The keywords in lowercase.
    fn keywords(&self) -> &'t [Finder<'static>] {
        self.rule.context_finders()
    }

    /// The length of the longest keyword.
    fn longest(&self) -> usize {
        (self.keywords().iter())
            .map(|keyword| keyword.needle().len())
            .max()
            .unwrap_or(0)
    }

    /// The keyword occurrence in `span` of the text that ends first (its start and end), as
    /// the rule's case-blind automaton with its standard semantics reports it: per keyword the
    /// first occurrence ends first, and the earliest of those.
    fn first_keyword(&self, span: Range<usize>) -> Option<(usize, usize)> {
        let keywords = self.keywords();
        let mut lower = self.lower.borrow_mut();
        lower.clear();
        lower.extend(self.text[span.clone()].iter().map(u8::to_ascii_lowercase));
        (keywords.iter())
            .filter_map(|keyword| {
                let at = span.start + keyword.find(&lower)?;
                Some((at, at + keyword.needle().len()))
            })
            .min_by_key(|&(_, end)| end)
    }
}

/// Texts shorter than this search every window: they hold few, each searched for little,
/// and the keywords' search would cost more (the `small` and `dense` cases: 1% more
/// instructions without this bound).
const MIN_TEXT: usize = 32 << 10;

/// Bytes searched for a keyword past a window's reach, for the windows after it: a changelog
/// asked for thousands of windows, each searched on its own to the end of the text.
const LOOKAHEAD: usize = 4096;

/// One search for a context keyword: where, and the first keyword to end in there.
#[derive(Debug, Clone, Copy)]
struct Searched {
    /// Start and end of the bytes searched.
    span: (usize, usize),
    /// Start and end of the keyword found.
    first: Option<(usize, usize)>,
}

impl Searched {
    /// Whether this search tells whether a keyword lies within `reach` (at or after its
    /// start): the keyword it found starts in `reach` or later, so it is still the first to end
    /// there, or it found none and `reach` ends within what it searched.
    fn answers(&self, reach: &Range<usize>) -> bool {
        let (start, end) = self.span;
        start <= reach.start
            && match self.first {
                Some((first, _)) => reach.start <= first,
                None => reach.end <= end,
            }
    }

    /// Whether a keyword lies within `reach`, when this search [`Searched::answers`] for it.
    fn holds_within(&self, reach: &Range<usize>) -> bool {
        self.first.is_some_and(|(_, end)| end <= reach.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::examples;
    use crate::detect::required_run::ClassRuns;
    use crate::detect::rules::RuleSet;
    use crate::detect::scanner::Scanner;

    fn builtin() -> RuleSet {
        RuleSet::builtin().expect("built-in rules compile")
    }

    /// A text of short lines, long lines and a few keywords in either case, some further
    /// apart than a search looks ahead.
    fn text() -> Vec<u8> {
        let mut text = Vec::new();
        for line in 0..400 {
            match line {
                7 | 31 | 290 => text.extend_from_slice(b"key = MISTRAL"),
                20 => text.extend_from_slice(b"x = mistral_api_key"),
                44 => text.extend(std::iter::repeat_n(b'z', 1500)),
                45 | 399 => text.extend_from_slice(b"y = api.mistral.ai"),
                150 => text.extend(std::iter::repeat_n(b'z', 6000)),
                _ => text.extend(std::iter::repeat_n(b'a' + (line % 26) as u8, line % 9 * 5)),
            }
            text.push(b'\n');
        }
        text
    }

    /// Every window asked in order, of any size, gets the answer of a search of its reach
    /// alone: the searches reused from one window to the next answer as a new one would.
    #[test]
    fn windows_asked_in_order_answer_as_their_reach_alone() {
        let set = builtin();
        let rule = set.get("mistral-api-key").expect("a built-in rule");
        let context = rule.context().expect("it has a context");
        let text = text();
        for (step, size) in [(1, 3), (7, 40), (13, 300), (29, 2000), (97, 9), (701, 5000)] {
            let near = NearContext::of(&text, rule).expect("a window context");
            let mut held = 0;
            for start in (0..text.len()).step_by(step) {
                let window = start..(start + size).min(text.len());
                let reach = filter::context_reach(&text, window.clone(), (near.window, near.side));
                let alone = reach.is_none_or(|reach| context.keywords.is_match(&text[reach]));
                assert_eq!(near.may_hold(window.clone()), alone, "{window:?}");
                held += usize::from(alone);
            }
            assert!(held > 0 && held < text.len() / step, "both answers asked");
        }
    }

    /// A keyword across the end of a search that found none is found by the next search.
    #[test]
    fn a_keyword_across_the_end_of_a_search_is_found_next() {
        let set = builtin();
        let rule = set.get("mistral-api-key").expect("a built-in rule");
        let text = [&[b'a'; 95][..], b"mistral", &[b'a'; 200]].concat();
        let near = NearContext::of(&text, rule).expect("a window context");
        near.last.set(Some(Searched {
            span: (0, 100),
            first: None,
        }));
        assert!(near.may_hold(0..10));
    }

    /// A run of 32 letters and digits ten lines from `mistral` is not searched, one on the
    /// next line is, and a plain search finds both.
    #[test]
    fn a_match_far_from_its_context_is_not_searched() {
        let set = builtin();
        let rule = set.get("mistral-api-key").expect("a built-in rule");
        let token = "Xk3vQ9mZp2Lr7Tn4Ws8Yb1Hc6Jd0Fg5A";
        let far = format!("{}token = \"{token}\"\n", "filler line\n".repeat(10));
        let far_only = format!("# mistral client\n{far}");
        let fresh = rule.clone();
        let near = |text: &str| {
            fresh.secrets_in_context(text.as_bytes(), || &[], &mut ClassRuns::default(), None)
        };
        assert!(near(&far_only).is_empty());
        assert!(
            !fresh.built().0,
            "no regex compiled for a window out of reach"
        );
        let text = format!("# mistral client\nkey = \"{token}\"\n{far}");
        let plain = rule.secrets(text.as_bytes(), || &[], &mut ClassRuns::default(), None);
        assert_eq!(plain.len(), 2);
        assert_eq!(near(&text), plain[..1]);
    }

    /// A path that names the provider gives the context: its windows are all searched.
    #[test]
    fn a_path_naming_the_provider_searches_every_window() {
        let scanner = Scanner::new(builtin());
        let rule = scanner
            .rules()
            .get("baseten-api-key")
            .expect("a built-in rule");
        let sample = examples::sample_for(scanner.rules(), rule, 22).expect("a sample");
        let content = format!(
            "[tool.client]\nname = \"client\"\napi_key = \"{}\"\n",
            sample.token
        );
        let hits = |path: &str| {
            let candidates = scanner.candidates(content.as_bytes());
            scanner.hits_at(path, content.as_bytes(), candidates)
        };
        assert!(!hits("baseten-client/pyproject.toml").is_empty());
        assert!(hits("client/pyproject.toml").is_empty());
    }

    /// On every example of every built-in rule with a context window, the secrets that have
    /// their context are the same whether the windows out of reach were searched or not.
    #[test]
    fn skipping_windows_out_of_reach_keeps_every_secret_with_its_context() {
        let set = builtin();
        let mut compared = 0;
        for rule in set
            .iter()
            .filter(|rule| NearContext::of(b"", rule).is_some())
        {
            let context = rule.context().expect("a context");
            let Ok(sample) = examples::sample_for(&set, rule, examples::SEEDS[0]) else {
                continue;
            };
            for case in examples::cases(&set, rule, &sample) {
                let text = case.text.as_bytes();
                let lower = text.to_ascii_lowercase();
                let kept = |secrets: Vec<Range<usize>>| -> Vec<Range<usize>> {
                    (secrets.into_iter())
                        .filter(|secret| {
                            filter::has_context(text, secret.start, secret.end, context)
                        })
                        .collect()
                };
                let plain = kept(rule.secrets(text, || &lower, &mut ClassRuns::default(), None));
                let near =
                    rule.secrets_in_context(text, || &lower, &mut ClassRuns::default(), None);
                assert_eq!(kept(near), plain, "{} {}", rule.id(), case.name);
                compared += usize::from(!plain.is_empty());
            }
        }
        assert!(compared > 50, "{compared}");
    }
}
