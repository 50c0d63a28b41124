//! History regions ([`super::region`]), for rules whose matches cross lines only inside one
//! call's parentheses (the generated credential-variable rules' SDK calls: `OpenAI(` then
//! anything but parentheses, over any number of lines, up to `api_key="..."`): where such a
//! match can reach, so that these rules too are searched around a change instead of in the
//! whole blob.
//!
//! A *paren-bound* regex ([`paren_bound`]) holds a line break only as a match's first or last
//! byte, or after a `(` of the match with no parenthesis between them. So no match holds the
//! line break before a line whose last parenthesis above it is a `)` (or that has none above
//! it): such a line start is a *cut*, and the matches on either side of a cut are those of each
//! side searched alone. A *reach* ([`reaches`]) is a region widened to cuts on both sides whose
//! deciding parenthesis lies in the unchanged far part next to it, so each cut is one in the old
//! version too: what lies between two reaches is a run of far lines that is searched the same
//! in both versions, and the old version's hits stand for it.

use std::ops::Range;

use regex_syntax::hir::{Class, Hir, HirKind};

use crate::detect::lines::{line_start, next_line_start};

/// A run of changed lines between far parts and its region (the run and a margin around it).
pub(super) type Group = (Range<usize>, Range<usize>);

/// Whether a newline may be the first or the last byte of what a part of a regex matches.
#[derive(Debug, Clone, Copy)]
struct Edges {
    first: bool,
    last: bool,
}

const INSIDE: Edges = Edges {
    first: false,
    last: false,
};

/// True when every line break a match of `hir` holds is its first byte, its last byte, or
/// follows a `(` of the match with no `(` or `)` between them.
pub(super) fn paren_bound(hir: &Hir) -> bool {
    open_after(
        hir,
        false,
        Edges {
            first: true,
            last: true,
        },
    )
    .is_some()
}

/// Whether, after a match of `hir` entered with `open` (a `(` of the match, then no
/// parenthesis, precedes it), that still holds on every path; `None` when a line break can
/// come where the property forbids it.
fn open_after(hir: &Hir, open: bool, edges: Edges) -> Option<bool> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(open),
        HirKind::Literal(literal) => {
            let bytes = &literal.0;
            let mut open = open;
            for (at, &byte) in bytes.iter().enumerate() {
                let edge = (edges.first && at == 0) || (edges.last && at + 1 == bytes.len());
                if byte == b'\n' && !open && !edge {
                    return None;
                }
                open = match byte {
                    b'(' => true,
                    b')' => false,
                    _ => open,
                };
            }
            Some(open)
        }
        HirKind::Class(class) => {
            if class_has(class, b'\n') && !open && !edges.first && !edges.last {
                return None;
            }
            // A byte that may be a parenthesis leaves no `(` known to be the last one.
            Some(open && !class_has(class, b'(') && !class_has(class, b')'))
        }
        HirKind::Capture(capture) => open_after(&capture.sub, open, edges),
        HirKind::Repetition(repetition) => {
            let edges = match repetition.max {
                Some(1) => edges,
                _ => INSIDE,
            };
            // Every state some number of repeats can leave: at most two, so two steps settle.
            let (mut reachable, mut state) = (open, open);
            for _ in 0..2 {
                state = open_after(&repetition.sub, state, edges)?;
                reachable &= state;
                if repetition.max == Some(1) {
                    break;
                }
            }
            Some(reachable && open_after(&repetition.sub, reachable, edges)?)
        }
        HirKind::Alternation(branches) => {
            let mut all = true;
            for branch in branches {
                all &= open_after(branch, open, edges)?;
            }
            Some(all)
        }
        HirKind::Concat(parts) => {
            let mut open = open;
            for (at, part) in parts.iter().enumerate() {
                let edges = Edges {
                    first: edges.first && at == 0,
                    last: edges.last && at + 1 == parts.len(),
                };
                open = open_after(part, open, edges)?;
            }
            Some(open)
        }
    }
}

fn class_has(class: &Class, byte: u8) -> bool {
    match class {
        Class::Unicode(class) => (class.ranges().iter())
            .any(|r| r.start() <= char::from(byte) && char::from(byte) <= r.end()),
        Class::Bytes(class) => {
            (class.ranges().iter()).any(|r| r.start() <= byte && byte <= r.end())
        }
    }
}

/// The reaches of `groups` (in order: each one's span between far parts and its region, whole
/// lines of `new`), merged where they touch: each region widened back to a cut whose last
/// parenthesis above it lies in the far part before the group, and on to one whose last
/// parenthesis lies in the far part after it; where that far part holds none, the reach runs
/// over it into the next group's. `far`: the far parts, in order.
pub(super) fn reaches(new: &[u8], far: &[Range<usize>], groups: &[Group]) -> Vec<Range<usize>> {
    let mut reaches: Vec<Range<usize>> = Vec::new();
    for (span, region) in groups {
        let before = far.iter().rev().find(|part| part.end <= span.start);
        let start = match before {
            None => 0,
            Some(part) => cut_back(new, region.start, part.start).unwrap_or(part.start),
        };
        let after = far.iter().find(|part| part.start >= span.end);
        let end = match after {
            None => new.len(),
            Some(part) => cut_on(new, region.end, part.clone()).unwrap_or(part.end),
        };
        let (start, end) = (start.min(region.start), end.max(region.end));
        match reaches.last_mut() {
            Some(last) if last.end >= start => last.end = last.end.max(end),
            _ => reaches.push(start..end),
        }
    }
    reaches
}

/// The last cut at or before `at` (a line start) whose deciding `)` lies at or after `floor`.
fn cut_back(new: &[u8], at: usize, floor: usize) -> Option<usize> {
    let mut cut = at;
    while cut > floor {
        let paren = floor + memchr::memrchr2(b'(', b')', &new[floor..cut])?;
        if new[paren] == b')' {
            return Some(cut);
        }
        cut = line_start(new, paren);
    }
    None
}

/// The first cut at or after `at` (a line start) within `part` whose deciding `)` lies in
/// `part`.
fn cut_on(new: &[u8], at: usize, part: Range<usize>) -> Option<usize> {
    let mut cut = at.max(part.start);
    while cut <= part.end {
        let last = memchr::memrchr2(b'(', b')', &new[part.start..cut]);
        if last.is_some_and(|at| new[part.start + at] == b')') {
            return Some(cut);
        }
        let close = cut + memchr::memchr(b')', &new[cut..part.end])?;
        cut = next_line_start(new, close + 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rules::RuleSet;

    fn hir(pattern: &str) -> Hir {
        regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .unwrap()
    }

    #[test]
    fn only_line_breaks_after_an_open_parenthesis_are_paren_bound() {
        let bound = [
            r#"\bOpenAI\([ \t\r\n]*\{?(?-u:[^()])*?\bapi_key[ \t]*=[ \t]*["'`]([A-Za-z0-9]{16,256})(?:[\\"'`,;#})\]\s]|$)"#,
            r"(?:(?m:^)|[^A-Za-z0-9])token[ \t]*=[ \t]*([a-z]{16})(?:\s|$)",
            r"\bf\(\n",
            r"x\((?:a|b)\n?c",
            r"\n?a",
        ];
        for pattern in bound {
            assert!(paren_bound(&hir(pattern)), "{pattern}");
        }
        let unbound = [
            r"\bOpenAI[^()]*?api_key",
            r"\bf\([^)]*\n",
            r"\bf\(\)\s+x",
            r"\bf\([a-z(]*\nx",
            r"\bf\((?:x\)|y)\nz",
            r"a\nb",
            r"(?:a\n)*b",
            r"-----BEGIN[^\n]*\n[A-Za-z0-9+/=\s]+-----END",
        ];
        for pattern in unbound {
            assert!(!paren_bound(&hir(pattern)), "{pattern}");
        }
    }

    /// Every generated rule with an SDK call is paren-bound: the regions search them.
    #[test]
    fn generated_sdk_call_rules_are_paren_bound() {
        let rules = RuleSet::builtin().unwrap();
        let mut calls = 0;
        for rule in rules.iter() {
            let spec = rule.spec();
            if !spec.id.ends_with("-credential-variable") {
                continue;
            }
            calls += usize::from(spec.regex.contains(r"\("));
            assert!(paren_bound(&hir(&spec.regex)), "{}", spec.id);
        }
        assert!(calls > 10, "{calls}");
    }

    /// A reach's cuts have a `)` as the last parenthesis above them, found in the far part
    /// next to the group; without one the reach runs over the far part.
    #[test]
    fn reaches_stop_at_lines_after_a_closing_parenthesis() {
        let text = "a()\nf(\nx\ny\nz)\nb\nc\ng(\nq\n";
        let line = |n: usize| {
            text.split_inclusive('\n')
                .take(n)
                .map(str::len)
                .sum::<usize>()
        };
        let group = |lines: Range<usize>| {
            (
                line(lines.start)..line(lines.end),
                line(lines.start)..line(lines.end),
            )
        };
        // A change at `y`: back to the line after `a()`, on to the line after `z)`.
        let far = [0..line(3), line(4)..line(9)];
        let got = reaches(text.as_bytes(), &far, &[group(3..4)]);
        assert_eq!(got, vec![line(1)..line(5)]);
        // The far part before holds only a `(`: the reach runs over it.
        let got = reaches(
            text.as_bytes(),
            std::slice::from_ref(&(line(7)..line(8))),
            &[group(8..9)],
        );
        assert_eq!(got, vec![line(7)..line(9)]);
        // No parenthesis before, none after: to the text's end.
        let got = reaches(
            text.as_bytes(),
            std::slice::from_ref(&(line(2)..line(4))),
            &[group(4..5)],
        );
        assert_eq!(got, vec![line(2)..line(9)]);
        // Two groups whose reaches meet are one.
        let far = [line(1)..line(2), line(3)..line(4), line(5)..line(9)];
        let got = reaches(text.as_bytes(), &far, &[group(2..3), group(4..5)]);
        assert_eq!(got, vec![line(1)..line(9)]);
    }
}
