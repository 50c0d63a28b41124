//! The class run every match of a rule's regex holds, read off the regex's syntax tree (see
//! [`RequiredRun`](crate::detect::required_run::RequiredRun)). Apart from the search so that
//! build.rs can include it: the built-in rules' runs are read at build time, not at start-up
//! (parsing 876 regexes cost a small commit a tenth of its instructions).

use regex_syntax::hir::{Class, Hir, HirKind};

/// Shorter runs are too common in code (identifiers, numbers) to rule a text out.
const WORTH_CHECKING: u32 = 16;

/// A class of bytes, how many of them in a row every match holds, and the longest match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSyntax {
    pub members: [bool; 256],
    pub length: usize,
    /// The longest match the regex can make, in bytes, when it has a bound.
    pub reach: Option<usize>,
}

/// The requirement of `pattern` (parsed as the scanner's byte regexes are), if it has one
/// worth checking: a repetition of a single class, at least `WORTH_CHECKING` times, on the
/// path every match takes (not inside an alternation or an optional part).
pub fn run_syntax(pattern: &str) -> Option<RunSyntax> {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let run = longest(&hir)?;
    Some(RunSyntax {
        reach: hir.properties().maximum_len(),
        ..run
    })
}

/// The longest class run that every match of `hir` holds.
fn longest(hir: &Hir) -> Option<RunSyntax> {
    match hir.kind() {
        HirKind::Capture(capture) => longest(&capture.sub),
        HirKind::Concat(parts) => parts
            .iter()
            .filter_map(longest)
            .max_by_key(|run| run.length),
        HirKind::Repetition(repetition) if repetition.min >= 1 => match repetition.sub.kind() {
            HirKind::Class(class) if repetition.min >= WORTH_CHECKING => {
                run_of(class, repetition.min as usize)
            }
            // What is repeated at least once is there at least once.
            _ => longest(&repetition.sub),
        },
        _ => None,
    }
}

/// A class as bytes: Unicode classes only when every member is ASCII (a wider one would match
/// multi-byte sequences, which a byte table cannot follow).
fn run_of(class: &Class, length: usize) -> Option<RunSyntax> {
    let mut members = [false; 256];
    match class {
        Class::Bytes(bytes) => {
            for range in bytes.iter() {
                members[usize::from(range.start())..=usize::from(range.end())].fill(true);
            }
        }
        Class::Unicode(chars) => {
            for range in chars.iter() {
                let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                if end > 0x7f {
                    return None;
                }
                members[start as usize..=end as usize].fill(true);
            }
        }
    }
    Some(RunSyntax {
        members,
        length,
        reach: None,
    })
}

/// `members` as four words of bits (byte `b` is bit `b % 64` of word `b / 64`): how build.rs
/// writes a class into the binary.
pub fn pack(members: &[bool; 256]) -> [u64; 4] {
    let mut words = [0u64; 4];
    for (byte, _) in members.iter().enumerate().filter(|(_, member)| **member) {
        words[byte / 64] |= 1 << (byte % 64);
    }
    words
}

/// The members of a class written by [`pack`].
pub fn unpack(words: &[u64; 4]) -> [bool; 256] {
    std::array::from_fn(|byte| words[byte / 64] >> (byte % 64) & 1 != 0)
}
