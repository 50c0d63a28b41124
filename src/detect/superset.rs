//! Build time (build/gates.rs) and tests: a rule regex's cheap superset, a regex that matches
//! wherever the rule's does and compiles in a fraction of its time; run time asks it before
//! compiling the rule's regex (see [`crate::detect::regex_gate`]).
//!
//! What a rule regex costs to compile is mostly its bounded repeats of Unicode classes: the
//! NFA holds one copy of the class's UTF-8 automaton per count, and `[^;\n]{0,200}` is 200 of
//! them (an ODBC rule took 3 to 5 ms, more than scanning a megabyte). The superset replaces
//! every repeat `x{m,n}` by `x'{min(m,32),}` (a string of `x` is one of `x'`, whatever its
//! length), where `x'` has each class with non-ASCII members turned into the byte class of its
//! ASCII members and every byte from 0x80 up, repeated (a character outside ASCII is two to
//! four such bytes). It drops the groups and the Unicode word boundaries (an assertion left out
//! only widens what matches). What is left compiles to a few states per repeat.

use regex_syntax::hir::{Class, ClassBytes, ClassBytesRange, Hir, HirKind, Look, Repetition};

/// The least count a widened repeat keeps: counts above cost states and rarely decide a match.
const MIN_KEPT: u32 = 32;

/// The superset of `pattern` (a rule regex: Unicode on, UTF-8 not required), or `None` when
/// it does not parse or would be no cheaper than the pattern itself.
pub fn superset(pattern: &str) -> Option<String> {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let mut changed = false;
    let wide = widen(&hir, &mut changed);
    changed.then(|| wide.to_string())
}

/// `hir` with its repeats unbounded and what they repeat loosened (see the module doc);
/// `changed` is set when anything but a group was rewritten.
fn widen(hir: &Hir, changed: &mut bool) -> Hir {
    match hir.kind() {
        HirKind::Capture(capture) => widen(&capture.sub, changed),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(|sub| widen(sub, changed)).collect()),
        HirKind::Alternation(subs) => {
            Hir::alternation(subs.iter().map(|sub| widen(sub, changed)).collect())
        }
        HirKind::Look(look) if is_unicode_word_look(*look) => {
            *changed = true;
            Hir::empty()
        }
        HirKind::Repetition(rep) if rep.max.is_some_and(|max| max <= 1) => {
            Hir::repetition(Repetition {
                sub: Box::new(widen(&rep.sub, changed)),
                ..rep.clone()
            })
        }
        HirKind::Repetition(rep) => {
            let sub = widen(&rep.sub, changed);
            let min = rep.min.min(MIN_KEPT);
            *changed |= rep.max.is_some() || min != rep.min || holds_wide_class(&sub);
            Hir::repetition(Repetition {
                min,
                max: None,
                greedy: true,
                sub: Box::new(loosen(&sub)),
            })
        }
        _ => hir.clone(),
    }
}

/// `hir` with each class holding characters outside ASCII replaced by a repeat of bytes that
/// holds every encoding of them (see the module doc). A class that is `hir` itself becomes a
/// byte class alone: it sits in a repeat, and `x+` repeated matches what `x` repeated does.
fn loosen(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Class(Class::Unicode(_)) if holds_wide_class(hir) => Hir::class(bytes_of(hir)),
        _ => loosen_inner(hir),
    }
}

/// [`loosen`] below a repeat's own level: a wide class becomes one or more of its bytes.
fn loosen_inner(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Class(Class::Unicode(_)) if holds_wide_class(hir) => Hir::repetition(Repetition {
            min: 1,
            max: None,
            greedy: true,
            sub: Box::new(Hir::class(bytes_of(hir))),
        }),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(loosen_inner).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(loosen_inner).collect()),
        HirKind::Repetition(rep) => Hir::repetition(Repetition {
            sub: Box::new(loosen_inner(&rep.sub)),
            ..rep.clone()
        }),
        HirKind::Capture(capture) => loosen_inner(&capture.sub),
        _ => hir.clone(),
    }
}

/// The byte class of a Unicode class's ASCII members and of every byte from 0x80 up.
fn bytes_of(hir: &Hir) -> Class {
    let HirKind::Class(Class::Unicode(class)) = hir.kind() else {
        unreachable!("only Unicode classes are turned into bytes")
    };
    let ascii = (class.ranges().iter())
        .filter(|range| range.start().is_ascii())
        .map(|range| ClassBytesRange::new(range.start() as u8, range.end().min('\x7f') as u8));
    let high = std::iter::once(ClassBytesRange::new(0x80, 0xff));
    Class::Bytes(ClassBytes::new(ascii.chain(high)))
}

/// Whether `hir` holds a Unicode class with a member outside ASCII.
fn holds_wide_class(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => {
            (class.ranges().last()).is_some_and(|range| !range.end().is_ascii())
        }
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().any(holds_wide_class),
        HirKind::Repetition(rep) => holds_wide_class(&rep.sub),
        HirKind::Capture(capture) => holds_wide_class(&capture.sub),
        _ => false,
    }
}

fn is_unicode_word_look(look: Look) -> bool {
    matches!(
        look,
        Look::WordUnicode
            | Look::WordUnicodeNegate
            | Look::WordStartUnicode
            | Look::WordEndUnicode
            | Look::WordStartHalfUnicode
            | Look::WordEndHalfUnicode
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::regex_gate::RegexGate;
    use crate::test_support::Xorshift;

    /// Repeats of Unicode and ASCII classes, nested, lazy, inside groups and alternations,
    /// with word boundaries and case folding (`k` folds to the Kelvin sign, `s` to the long s).
    const PATTERNS: &[&str] = &[
        r"a[^;\n]{0,3}b",
        r"a[^;\n]{1,2};[^\n]{0,3}?(?i:pwd)=([^;\s]{1,3})",
        r"(?i:k)[^\s]{2,4}z",
        r"x:(?:[^\s:/@]|  ){1,3}:((?:[^\s/]|  ){2,4}?)@",
        r"\bk[a-z]{2}\b",
        r"(?-u:\b)(?i:sk)[A-Za-z0-9]{3}(?:[^A-Za-z0-9]|$)",
        r"(?:[ \t]+[A-Za-z_]{1,2}:[^\r\n]{0,3}\r?\n){0,2}s:\s*(\S{2,3})",
        r"^.{1,3}$",
    ];

    /// ASCII, two-, three- and four-byte characters, and pieces of the patterns.
    const ALPHABET: &[&str] = &[
        "a", "b", "k", "K", "\u{212a}", "s", "\u{17f}", "z", "x", ";", ":", "@", "/", "=", " ",
        "\t", "\n", "\u{a0}", "é", "日", "𝄞", "_", "1", "a;", "pwd=", "P\u{17f}", "x:", "s:",
        "\n ", "sk", "  ",
    ];

    fn random_text(rng: &mut Xorshift) -> String {
        let len = rng.below(16);
        (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect()
    }

    /// Wherever a pattern matches in a random text (searched from each offset, with the text
    /// before it as context), its compiled superset matches too; and the superset is not the
    /// pattern itself, so the test would see a wrong widening.
    #[test]
    fn a_superset_matches_wherever_its_pattern_does() {
        let mut rng = Xorshift::new(34);
        for pattern in PATTERNS {
            let mut matched = 0;
            let wide = superset(pattern).expect("every test pattern widens");
            let gate = RegexGate::compile(&wide).expect("the superset compiles");
            let exact = regex::bytes::Regex::new(pattern).unwrap();
            for _ in 0..20_000 {
                let text = random_text(&mut rng);
                let bytes = text.as_bytes();
                for from in (0..=bytes.len()).filter(|&at| text.is_char_boundary(at)) {
                    if exact.find_at(bytes, from).is_some() {
                        matched += 1;
                        assert!(
                            gate.may_match(bytes, from),
                            "{pattern} ({wide}) on {text:?} from {from}"
                        );
                    }
                }
            }
            assert!(matched > 20, "{pattern}: {matched} matches");
        }
    }

    #[test]
    fn repeats_lose_their_bound_and_unicode_classes_become_bytes() {
        let wide = superset(r"a[^;\n]{0,200}b(x)").unwrap();
        assert!(!wide.contains("200"), "{wide}");
        assert!(wide.contains(r"\xFF"), "{wide}");
        assert!(
            !wide.contains('('.to_string().as_str()) || !wide.contains("(x)"),
            "{wide}"
        );
        // Nothing to widen: no gate.
        assert_eq!(superset("abc"), None);
        assert_eq!(superset("(?:"), None);
    }
}
