//! Placeholders: values that documentation writes where a token goes (`r8_xxxx…`,
//! `YOUR_API_KEY`, `<your-token>`, `hf_A1B2C3…`, `sk-1234567890abcdef…`). A value is a
//! placeholder only when its *whole* body has such a shape; a word or a short run inside an
//! otherwise random body never is, since real random tokens contain `example` or `123456` too.

use crate::detect::schema::{PlaceholderSpec, Provider, RuleSpec};
use crate::detect::shape::Shape;

/// What a placeholder of a rule may keep besides filler: its keywords (`r8_`), the fixed text
/// of its example shape (`T3BlbkFJ`), and the provider's name and variable names
/// (`YOUR_REPLICATE_API_TOKEN`, `<hugging-face-token>`).
pub fn fixed_parts(rule: &RuleSpec, provider: &Provider) -> Vec<String> {
    let mut parts = rule.keywords.clone();
    if let Some(shape) = rule
        .examples
        .as_ref()
        .and_then(|e| Shape::parse(&e.shape).ok())
    {
        parts.extend(shape.literals().map(str::to_string));
    }
    parts.push(provider.name.clone());
    parts.extend(provider.env_vars.iter().cloned());
    parts
}

/// The words a placeholder's body may be made of, for one rule: the filler words and the
/// rule's fixed parts, normalised once (letters and digits, lowercase) and sorted by their
/// first two characters. A generated rule's fixed parts are every vendor's names, thousands of
/// words: normalising and searching each for every value found was most of a placeholder
/// check's cost. No `Default`: an empty table of pair starts could not be looked up.
#[derive(Debug, Clone)]
pub struct BodyWords {
    /// The fixed parts as written, stripped from either end of a value.
    fixed_parts: Vec<String>,
    /// Sorted by `pair`.
    words: Vec<BodyWord>,
    /// Where each pair's words start in `words` (and, one further, end).
    starts: Box<[u32]>,
}

#[derive(Debug, Clone)]
struct BodyWord {
    /// Its first two characters (see [`pair_index`]).
    pair: usize,
    text: Box<[u8]>,
    filler: bool,
}

impl BodyWords {
    pub fn new(spec: &PlaceholderSpec, fixed_parts: Vec<String>) -> BodyWords {
        let mut words = Vec::new();
        let mut text = Vec::new();
        for (i, written) in spec.fillers.iter().chain(&fixed_parts).enumerate() {
            normalise_into(written.as_bytes(), &mut text);
            let filler = i < spec.fillers.len();
            // A fixed part of two characters (`hf`, the `as` of an `as_` prefix) inside a
            // random body is chance, as `pass123` shows; at either end it is stripped.
            let shortest = if filler { 2 } else { 3 };
            if text.len() >= shortest {
                let pair = pair_index(&text);
                let text = text.as_slice().into();
                words.push(BodyWord { pair, text, filler });
            }
        }
        words.sort_by_key(|word| word.pair);
        let starts = (0..=PAIRS)
            .map(|pair| words.partition_point(|word| word.pair < pair) as u32)
            .collect();
        BodyWords {
            fixed_parts,
            words,
            starts,
        }
    }

    /// The words that start with `pair` (see [`pair_index`]).
    fn starting_with(&self, pair: usize) -> &[BodyWord] {
        &self.words[self.starts[pair] as usize..self.starts[pair + 1] as usize]
    }

    /// Marks in `covered` where a word occurs in `alnum` (a normalised body, as [`occurrences`]
    /// finds them); true when a filler word does.
    fn cover(&self, alnum: &[u8], covered: &mut [bool]) -> bool {
        let mut worded = false;
        // Only a word whose first two characters are a pair of the body can be in it; each
        // pair's words are looked for once (a bit per pair, not a sorted list of them).
        let mut seen = [0u64; PAIRS.div_ceil(64)];
        for two in alnum.windows(2) {
            let pair = pair_index(two);
            let bit = 1u64 << (pair % 64);
            if seen[pair / 64] & bit != 0 {
                continue;
            }
            seen[pair / 64] |= bit;
            for word in self.starting_with(pair) {
                for at in occurrences(alnum, &word.text) {
                    covered[at..at + word.text.len()].fill(true);
                    worded |= word.filler;
                }
            }
        }
        worded
    }
}

/// How many pairs of counting characters there are: every normalised text is made of them.
const PAIRS: usize = COUNTING_ORDER.len() * COUNTING_ORDER.len();

/// The first two characters of `text` (normalised, at least two long) as one number below
/// [`PAIRS`].
fn pair_index(text: &[u8]) -> usize {
    let place = |byte: u8| usize::from(COUNTING_PLACE[usize::from(byte)]);
    place(text[0]) * COUNTING_ORDER.len() + place(text[1])
}

/// True when `secret` is a placeholder: a vendor's documented example, a wrapped name
/// (`<...>`, `{{...}}`), a rule's own placeholder value, or a body (what is left after the
/// rule's fixed parts: prefix, keywords, shape literals) made almost entirely of filler words
/// and counting chains: runs of one character, ascending or descending sequences, and
/// interleaved ones such as `A1B2C3` (two chains, one every other character).
pub fn is_placeholder(
    secret: &[u8],
    rule_id: &str,
    spec: &PlaceholderSpec,
    words: &BodyWords,
    rule_placeholders: &[String],
) -> bool {
    if is_truncated_display(secret) {
        return true;
    }
    if spec.literals.iter().any(|l| l.as_bytes() == secret)
        || rule_placeholders
            .iter()
            .any(|p| p.as_bytes().eq_ignore_ascii_case(secret))
    {
        return true;
    }
    let fixed_parts = &words.fixed_parts[..];
    let body = strip_suffix(strip_prefix(secret, fixed_parts), fixed_parts);
    if spec
        .wrappers
        .iter()
        .any(|(open, close)| body.starts_with(open.as_bytes()) || body.ends_with(close.as_bytes()))
    {
        return true;
    }
    // Sized once: collecting through a filter grew it two or three times.
    let mut alnum = Vec::with_capacity(body.len());
    normalise_into(body, &mut alnum);
    if alnum.is_empty() {
        // `****`, `...`: nothing but masking characters.
        return !body.is_empty();
    }
    let mut covered = vec![false; alnum.len()];
    for stride in 1..=3 {
        mark_chains(&alnum, stride, spec.min_chain, &mut covered);
    }
    let worded = words.cover(&alnum, &mut covered);
    let stray = covered.iter().filter(|c| !**c).count();
    stray <= spec.stray_allowance(rule_id, alnum.len(), worded)
}

/// `secret` with the letters that people write as digits or symbols spelt out again
/// (`p@55w0rd` -> `password`, `Str0ng` -> `strong`); `None` when it has none. A digit is a
/// letter only in a run of such spellings between two letters (`p@55w0rd`): `123` and a
/// random value's `o00` stay digits.
pub fn undo_digits_for_letters(secret: &[u8]) -> Option<Vec<u8>> {
    let letter = |b: u8| match b {
        b'@' | b'4' => Some(b'a'),
        b'$' | b'5' => Some(b's'),
        b'0' => Some(b'o'),
        b'1' => Some(b'i'),
        b'3' => Some(b'e'),
        b'7' => Some(b't'),
        _ => None,
    };
    let is_letter = |at: Option<&u8>| at.is_some_and(u8::is_ascii_alphabetic);
    let mut plain = secret.to_vec();
    let mut changed = false;
    let mut at = 0;
    while at < secret.len() {
        let run = secret[at..]
            .iter()
            .take_while(|b| letter(**b).is_some())
            .count();
        if run == 0 {
            at += 1;
            continue;
        }
        let between_letters =
            at > 0 && is_letter(secret.get(at - 1)) && is_letter(secret.get(at + run));
        for i in at..at + run {
            if between_letters || !secret[i].is_ascii_digit() {
                plain[i] = letter(secret[i]).unwrap_or(secret[i]);
                changed = true;
            }
        }
        at += run;
    }
    changed.then_some(plain)
}

/// The text `secret` encodes when it is canonical base64 (whole groups of four) of printable
/// ASCII, a final line end aside (`cG9zdGdyZXM=` -> `postgres`); `None` for anything else, a
/// random value included.
pub fn base64_text(secret: &[u8]) -> Option<Vec<u8>> {
    let body = secret
        .strip_suffix(b"==")
        .or_else(|| secret.strip_suffix(b"="));
    let body = body.unwrap_or(secret);
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/');
    if secret.len() < 8 || !secret.len().is_multiple_of(4) || !body.iter().all(alphabet) {
        return None;
    }
    let mut decoded = crate::detect::decode::decode_base64(body);
    // `echo postgres | base64` encodes the line's end too.
    while decoded.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
        decoded.pop();
    }
    (!decoded.is_empty() && decoded.iter().all(|b| (0x20..=0x7E).contains(b))).then_some(decoded)
}

/// True when `secret` shows a key cut short with an ellipsis (`sk-ant-api03-Ab3-x...q7rzAA`,
/// `sk-proj-Hq2Lx9...`): how dashboards, logs and docs display a key they hide. No token
/// format holds two dots in a row, nor `…`.
fn is_truncated_display(secret: &[u8]) -> bool {
    occurrences(secret, b"..").next().is_some()
        || occurrences(secret, "…".as_bytes()).next().is_some()
}

/// The secret without the longest fixed part it starts with (`r8_`, `sk-proj-`).
fn strip_prefix<'a>(secret: &'a [u8], fixed_parts: &[String]) -> &'a [u8] {
    &secret[longest_fixed_part(secret, fixed_parts, |p| &secret[..p.len()])..]
}

/// The body without the longest fixed part it ends with (Anthropic's `AA`).
fn strip_suffix<'a>(body: &'a [u8], fixed_parts: &[String]) -> &'a [u8] {
    &body[..body.len() - longest_fixed_part(body, fixed_parts, |p| &body[body.len() - p.len()..])]
}

/// The length of the longest fixed part, shorter than `text`, that `end` (the slice of `text`
/// as long as the part, at one end) equals without case; 0 when none does.
fn longest_fixed_part<'t>(
    text: &'t [u8],
    fixed_parts: &[String],
    end: impl Fn(&[u8]) -> &'t [u8],
) -> usize {
    fixed_parts
        .iter()
        .map(String::as_bytes)
        .filter(|p| text.len() > p.len() && end(p).eq_ignore_ascii_case(p))
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0)
}

/// `text`'s letters and digits, lowercase, into `out` (emptied first).
fn normalise_into(text: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(
        text.iter()
            .filter(|b| b.is_ascii_alphanumeric())
            .map(u8::to_ascii_lowercase),
    );
}

/// Where `needle` (not empty) occurs in `haystack`, without overlaps, left to right (what
/// `memmem::find_iter` reports). A placeholder's body is a few dozen bytes, searched for a
/// hundred words: building a `memmem` searcher per word and call cost more than the search
/// (3% of a 40 MB first commit of ML repositories).
fn occurrences<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let mut from = 0;
    std::iter::from_fn(move || {
        loop {
            let at = from + memchr::memchr(needle[0], haystack.get(from..)?)?;
            if haystack[at..].starts_with(needle) {
                from = at + needle.len();
                return Some(at);
            }
            from = at + 1;
        }
    })
}

/// Marks every character that belongs to a chain of at least `min_chain` characters taken
/// `stride` apart, each the same as, or next to, the one before (`xxxx`, `1234`, `zyxw`, and
/// with stride 2 both halves of `a1b2c3d4`).
fn mark_chains(alnum: &[u8], stride: usize, min_chain: usize, covered: &mut [bool]) {
    let shortest = min_chain.max(2);
    for first in 0..stride.min(alnum.len()) {
        // The chain so far: `length` characters from `start`, the last at `last`.
        let (mut start, mut last, mut length) = (first, first, 1);
        loop {
            let next = last + stride;
            if next < alnum.len() && linked(alnum[last], alnum[next]) {
                (last, length) = (next, length + 1);
                continue;
            }
            if length >= shortest {
                (start..=last)
                    .step_by(stride)
                    .for_each(|at| covered[at] = true);
            }
            if next >= alnum.len() {
                break;
            }
            (start, last, length) = (next, next, 1);
        }
    }
}

/// The counting order of chains, digits then letters: each byte's place in it, or
/// [`NOT_COUNTED`]. A table, as every character of a checked body is looked up three times
/// (once per stride); searching the order for each cost most of a placeholder check.
const COUNTING_PLACE: [u8; 256] = {
    let mut table = [NOT_COUNTED; 256];
    let mut place = 0;
    while place < COUNTING_ORDER.len() {
        table[COUNTING_ORDER[place] as usize] = place as u8;
        place += 1;
    }
    table
};

const COUNTING_ORDER: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Marks bytes outside [`COUNTING_ORDER`] in [`COUNTING_PLACE`].
const NOT_COUNTED: u8 = 0xFF;

/// True when `b` repeats `a` or follows it, up or down, in counting order: digits, then
/// letters (`9` to `a` as in hex, `z` back to `0`), each wrapping around.
fn linked(a: u8, b: u8) -> bool {
    let (a, b) = (
        COUNTING_PLACE[usize::from(a)],
        COUNTING_PLACE[usize::from(b)],
    );
    a != NOT_COUNTED && b != NOT_COUNTED && LINKED_PLACES[usize::from(a)][usize::from(b)]
}

/// [`linked`] by places in [`COUNTING_ORDER`]: a table, as the wraps cost a division each.
const LINKED_PLACES: [[bool; COUNTING_ORDER.len()]; COUNTING_ORDER.len()] = {
    let n = COUNTING_ORDER.len();
    let mut table = [[false; COUNTING_ORDER.len()]; COUNTING_ORDER.len()];
    let mut a = 0;
    while a < n {
        let mut b = 0;
        while b < n {
            // Digits also wrap on their own (`7890`), as letters do (`xyzab`).
            let digit_wrap = a == 9 && b == 0 || a == 0 && b == 9;
            let letter_wrap = a == n - 1 && b == 10 || a == 10 && b == n - 1;
            table[a][b] =
                a == b || (a + 1) % n == b || (b + 1) % n == a || digit_wrap || letter_wrap;
            b += 1;
        }
        a += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rules::RuleSet;
    use crate::detect::shape::Shape;

    #[test]
    fn occurrences_are_memmems() {
        let cases: [(&[u8], &[u8]); 7] = [
            (b"aaaaa", b"aa"),
            (b"abcabcab", b"abc"),
            (b"xyz", b"xyz"),
            (b"xy", b"xyz"),
            (b"", b"ab"),
            (b"example123example", b"example"),
            ("a\u{2026}b..c...".as_bytes(), b".."),
        ];
        for (haystack, needle) in cases {
            let ours: Vec<usize> = occurrences(haystack, needle).collect();
            let theirs: Vec<usize> = memchr::memmem::find_iter(haystack, needle).collect();
            assert_eq!(ours, theirs, "{needle:?} in {haystack:?}");
        }
    }

    /// The check with the words built for this call.
    fn is_placeholder(
        secret: &[u8],
        rule_id: &str,
        spec: &PlaceholderSpec,
        fixed_parts: &[String],
        rule_placeholders: &[String],
    ) -> bool {
        let words = BodyWords::new(spec, fixed_parts.to_vec());
        super::is_placeholder(secret, rule_id, spec, &words, rule_placeholders)
    }

    /// The pair index finds what searching for every word finds: the same characters covered
    /// and the same answer to "a filler word is in it", on bodies made of fillers, the
    /// thousands of words a generated rule's fixed parts are, and random characters.
    #[test]
    fn words_found_by_their_first_pair_are_every_word_found() {
        // What a generated rule's fixed parts hold: every built-in keyword.
        let parts: Vec<String> = (crate::detect::prefilter::builtin_keywords())
            .map(str::to_string)
            .collect();
        assert!(parts.len() > 1000);
        let words = BodyWords::new(&spec(), parts);
        let mut random = crate::test_support::Xorshift::new(0x9e37_79b9_7f4a_7c15);
        let mut next = |below: usize| random.below(below);
        let (mut covered_any, mut worded_any) = (0, 0);
        for _ in 0..3000 {
            let mut body = Vec::new();
            for _ in 0..1 + next(5) {
                match next(3) {
                    0 => body.extend_from_slice(&words.words[next(words.words.len())].text),
                    1 => body.push(b"abcdefghijklmnopqrstuvwxyz0123456789"[next(36)]),
                    _ => body.extend_from_slice(b"x9"),
                }
            }
            let mut indexed = vec![false; body.len()];
            let worded = words.cover(&body, &mut indexed);
            let mut every = vec![false; body.len()];
            let mut every_worded = false;
            for word in &words.words {
                for at in occurrences(&body, &word.text) {
                    every[at..at + word.text.len()].fill(true);
                    every_worded |= word.filler;
                }
            }
            assert_eq!((&indexed, worded), (&every, every_worded), "{body:?}");
            covered_any += usize::from(indexed.contains(&true));
            worded_any += usize::from(worded);
        }
        assert!(
            covered_any > 1000 && worded_any > 500,
            "{covered_any} {worded_any}"
        );
    }

    fn spec() -> PlaceholderSpec {
        RuleSet::builtin().unwrap().placeholders
    }

    fn fixed(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| p.to_string()).collect()
    }

    /// The documentation shapes and fillers that are dropped, listed in one place (issue 15
    /// asks for the list), each with a rule that would otherwise match it.
    const DOCUMENTED: &[(&str, &str)] = &[
        (
            "replicate-api-token",
            concat!("r8_", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        ),
        (
            "replicate-api-token",
            concat!("r8_", "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
        ),
        (
            "replicate-api-token",
            concat!("r8_", "000000000000000000000000000000000000"),
        ),
        (
            "huggingface-user-token",
            concat!("hf_", "A1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P6Q7"),
        ),
        (
            "huggingface-user-token",
            concat!("hf_", "1a2b3c4d5e6f7g8h9i0j1k2l3m4n5o6p7q"),
        ),
        (
            "huggingface-user-token",
            concat!("hf_", "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7"),
        ),
        (
            "huggingface-user-token",
            concat!("hf_", "zyxwvutsrqponmlkjihgfedcbazyxwvutsrq"),
        ),
        ("huggingface-user-token", "hf_YOUR_HUGGING_FACE_TOKEN_HERE"),
        (
            "huggingface-user-token",
            concat!("hf_", "abcdefghijklmnopqrstuvwxyz12345678"),
        ),
        (
            "openai-legacy-key",
            "sk-proj-1234567890abcdef1234567890abcdef",
        ),
        (
            "generic-sk-key",
            "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
        ),
        ("generic-sk-key", "sk-0123456789ABCDEF0123456789ABCDEF"),
        ("openai-legacy-key", "sk-your-openai-api-key-here"),
        ("generic-sk-key", "sk-**********************"),
        ("generic-sk-key", "sk-..."),
        ("generic-sk-key", "sk-test-not-a-real-key-0000"),
        (
            "anthropic-api-key",
            "sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxAA",
        ),
        (
            "openai-project-key",
            "sk-proj-xxxxxxxxxxxxxxxxxxxxT3BlbkFJxxxxxxxxxxxxxxxxxxxx",
        ),
        ("replicate-credential-variable", "YOUR_API_KEY"),
        ("replicate-credential-variable", "YOUR_REPLICATE_API_TOKEN"),
        ("replicate-credential-variable", "your-api-key-here"),
        ("replicate-credential-variable", "INSERT_YOUR_KEY_HERE"),
        ("replicate-credential-variable", "<your-token>"),
        ("replicate-credential-variable", "<API_KEY>"),
        ("replicate-credential-variable", "{{ secrets.token }}"),
        ("replicate-credential-variable", "${REPLICATE_API_TOKEN}"),
        ("replicate-credential-variable", "[YOUR_KEY]"),
        ("replicate-credential-variable", "my-Example-Key-123"),
        ("replicate-credential-variable", "dummy_token_for_tests"),
        ("replicate-credential-variable", "fake-api-key-12345"),
        (
            "replicate-credential-variable",
            "changeme-changeme-changeme",
        ),
        (
            "replicate-credential-variable",
            "replace_me_with_your_token",
        ),
        ("replicate-credential-variable", "REDACTED"),
        (
            "baseten-api-key",
            "abcdefgh.1234567890ABCDEFGHIJKL1234567890",
        ),
        (
            "baseten-api-key",
            "xxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ),
        (
            "baseten-api-key",
            "A1B2C3D4.a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6",
        ),
        ("anyscale-endpoints-key", "esecret_YOUR_API_KEY"),
    ];

    #[test]
    fn truncated_displays_and_counting_mocks_are_placeholders() {
        let set = RuleSet::builtin().unwrap();
        let cases = [
            (
                "anthropic-credential-variable",
                "sk-ant-api03-Ab3-x...q7rzAA",
            ),
            ("openai-credential-variable", "sk-proj-Hq2Lx9..."),
            ("openai-credential-variable", "sk-proj-Hq2Lx9\u{2026}q7rz"),
            ("github-token", "ghp_mock12345678901234567890"),
        ];
        for (rule_id, value) in cases {
            let rule = set.get(rule_id).unwrap();
            assert!(
                set.is_placeholder(rule, value.as_bytes()),
                "{rule_id} {value}"
            );
        }
    }

    #[test]
    fn documented_placeholders_are_dropped() {
        let set = RuleSet::builtin().unwrap();
        let kept: Vec<String> = DOCUMENTED
            .iter()
            .filter(|(rule_id, value)| {
                !set.is_placeholder(set.get(rule_id).unwrap(), value.as_bytes())
            })
            .map(|(rule_id, value)| format!("{rule_id} {value}"))
            .collect();
        assert!(kept.is_empty(), "not taken for placeholders: {kept:#?}");
    }

    /// The property the filter must keep: random tokens of every rule's shape are never
    /// placeholders, however many are drawn (they contain `example`, `000000` or `abcdef`
    /// by chance, as real ones do).
    #[test]
    fn random_tokens_of_every_rule_are_never_placeholders() {
        // Per rule: enough to meet `example`, `000` or `abc` by chance in most shapes; the
        // catalog's hundreds of rules multiply it.
        const SEEDS: u64 = 500;
        let set = RuleSet::builtin().unwrap();
        let mut checked = 0;
        for rule in set.iter() {
            let Some(examples) = &*rule.spec().examples else {
                continue;
            };
            let shape = Shape::parse(&examples.shape).unwrap();
            for seed in 0..SEEDS {
                let token = shape.generate(seed).token;
                assert!(
                    !set.is_placeholder(rule, token.as_bytes()),
                    "{}: {token}",
                    rule.id()
                );
                checked += 1;
            }
        }
        assert!(checked >= SEEDS * 50, "{checked}");
    }

    /// Real tokens with a filler word or run planted in them stay findings.
    #[test]
    fn planted_words_and_runs_do_not_make_a_placeholder() {
        let set = RuleSet::builtin().unwrap();
        let plants = [
            "example", "sample", "dummy", "123456", "abcdef", "000000", "aaaaaa",
        ];
        for rule in set.iter() {
            let Some(examples) = &*rule.spec().examples else {
                continue;
            };
            let shape = Shape::parse(&examples.shape).unwrap();
            for (seed, plant) in plants.iter().enumerate() {
                let sample = shape.generate(seed as u64);
                let Some(at) = sample.token.find(&sample.body) else {
                    continue;
                };
                let mut token = sample.token.clone();
                let end = (at + plant.len()).min(token.len());
                token.replace_range(at..end, &plant[..end - at]);
                assert!(
                    !set.is_placeholder(rule, token.as_bytes()),
                    "{}: {token}",
                    rule.id()
                );
            }
        }
    }

    #[test]
    fn words_or_runs_inside_a_random_body_are_not_placeholders() {
        let spec = spec();
        let parts = fixed(&["r8_", "hf_", "Replicate", "Hugging Face", "HF_TOKEN"]);
        for value in [
            concat!("r8_", "Kq9mTz3LwPx8RexampleFg1QeUaZb7Yc2Wd"),
            concat!("r8_", "Kq9mTz3LwPx8R123456Fg1QeUaZb7Yc2Wd4"),
            concat!("hf_", "q8Zr2LmP0vXdummy7TbNaaaaaaKd3Jw9Ms"),
            concat!("hf_", "q8Zr2LmP0vXsample7TbN000000Kd3Jw9M"),
            concat!("hf_", "abcdefq8Zr2LmP0vX7TbNKd3Jw9MsPq2Lz"),
            concat!("r8_", "Kq9mTz3LwPx8RvYOUR_Fg1QeUaZb7Yc2Wd"),
            "q8Zr2LmP0vXy7TbN",
            "aab123ZqPw",
        ] {
            assert!(
                !is_placeholder(value.as_bytes(), "any-rule", &spec, &parts, &[]),
                "{value}"
            );
        }
    }

    /// Counting runs broken in several places, without a word that says "example", are how
    /// test tokens are built: one stray character is allowed to them. A filler word, or a
    /// password rule, keeps the wider allowance (`EXAMPLE…12`, `hunter42`).
    #[test]
    fn bare_runs_keep_one_stray_words_and_passwords_more() {
        let spec = spec();
        let token_rule = "tiingo-named-key";
        let password_rule = "generic-password-literal";
        assert!(spec.password_rules.iter().any(|id| id == password_rule));
        let mixed = concat!(
            "abcdef",
            "1234567890",
            "abcdef",
            "1234567890",
            "abcdef",
            "12"
        );
        assert!(!is_placeholder(
            mixed.as_bytes(),
            token_rule,
            &spec,
            &[],
            &[]
        ));
        assert!(is_placeholder(
            mixed.as_bytes(),
            password_rule,
            &spec,
            &[],
            &[]
        ));
        let worded = format!("{}12", "EXAMPLE".repeat(5));
        assert!(is_placeholder(
            worded.as_bytes(),
            token_rule,
            &spec,
            &[],
            &[]
        ));
        for padded in ["hunter42", "2Password2"] {
            assert!(
                is_placeholder(padded.as_bytes(), token_rule, &spec, &[], &[]),
                "{padded}"
            );
            assert!(
                is_placeholder(padded.as_bytes(), password_rule, &spec, &[], &[]),
                "{padded}"
            );
        }
        let one_stray = concat!("abcdefghijklmnop", "7", "rstuvwxyz");
        assert!(is_placeholder(
            one_stray.as_bytes(),
            token_rule,
            &spec,
            &[],
            &[]
        ));
        let two_strays = concat!("abcdefghijklmnop", "7", "rstuvwxyz", "7");
        assert!(!is_placeholder(
            two_strays.as_bytes(),
            token_rule,
            &spec,
            &[],
            &[]
        ));
    }

    /// A fallback rule strips any vendor's token prefix (`hf_`), but a prefix's two letters
    /// inside a password (`as` in `pass123`) cover nothing.
    #[test]
    fn vendor_prefixes_are_stripped_not_searched_for() {
        let set = RuleSet::builtin().unwrap();
        let fallback = set.get("generic-api-token-variable").unwrap();
        let documented = concat!("hf_", "A1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P6Q7");
        assert!(set.is_placeholder(fallback, documented.as_bytes()));
        let netrc = set.get("netrc-password").unwrap();
        assert!(netrc.spec().fallback);
        assert!(!set.is_placeholder(netrc, b"pass123"));
    }

    #[test]
    fn a_rules_own_placeholders_match_whole_values_only() {
        let spec = spec();
        let own = fixed(&["esecret_YOUR_API_KEY"]);
        let parts = fixed(&["esecret_"]);
        assert!(is_placeholder(
            b"esecret_your_api_key",
            "esecret",
            &spec,
            &parts,
            &own
        ));
        assert!(!is_placeholder(
            concat!("esecret_", "Kq9mTz3LwPx8RvQ2Lz7YbNcHd4JsFg1Q").as_bytes(),
            "esecret",
            &spec,
            &parts,
            &own
        ));
    }

    /// `linked` as first written: each byte's place found by searching the order.
    fn linked_by_search(a: u8, b: u8) -> bool {
        let index = |c: u8| COUNTING_ORDER.iter().position(|&o| o == c);
        let (Some(a), Some(b)) = (index(a), index(b)) else {
            return false;
        };
        let n = COUNTING_ORDER.len();
        let digit_wrap = a == 9 && b == 0 || a == 0 && b == 9;
        let letter_wrap = a == n - 1 && b == 10 || a == 10 && b == n - 1;
        a == b || (a + 1) % n == b || (b + 1) % n == a || digit_wrap || letter_wrap
    }

    /// `mark_chains` as first written: the positions of each stride listed, then cut where
    /// two in a row are not linked.
    fn mark_chains_by_positions(alnum: &[u8], stride: usize, min_chain: usize) -> Vec<bool> {
        let mut covered = vec![false; alnum.len()];
        for first in 0..stride.min(alnum.len()) {
            let positions: Vec<usize> = (first..alnum.len()).step_by(stride).collect();
            let mut start = 0;
            for i in 1..=positions.len() {
                let linked = i < positions.len()
                    && linked_by_search(alnum[positions[i - 1]], alnum[positions[i]]);
                if !linked {
                    if i - start >= min_chain.max(2) {
                        positions[start..i].iter().for_each(|&p| covered[p] = true);
                    }
                    start = i;
                }
            }
        }
        covered
    }

    #[test]
    fn the_counting_table_links_what_searching_the_order_links() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(linked(a, b), linked_by_search(a, b), "{a} {b}");
            }
        }
    }

    /// Random bodies rich in chains, every stride and chain length: the same characters
    /// marked as by listing each stride's positions.
    #[test]
    fn chains_marked_in_place_are_those_of_the_listed_positions() {
        let mut random = crate::test_support::Xorshift::new(0x2545_f491_4f6c_dd1d);
        let mut marked = 0;
        for length in 0..60 {
            for _ in 0..30 {
                let mut body = Vec::with_capacity(length);
                for _ in 0..length {
                    // Mostly the previous character or the one after it, so chains form.
                    let byte = match (body.last(), random.below(4)) {
                        (Some(&last), 0) => last,
                        (Some(&last), 1) => {
                            COUNTING_ORDER
                                [(usize::from(COUNTING_PLACE[usize::from(last)]) + 1) % 36]
                        }
                        _ => COUNTING_ORDER[random.below(36)],
                    };
                    body.push(byte);
                }
                for stride in 1..=3 {
                    for min_chain in 0..6 {
                        let mut covered = vec![false; body.len()];
                        mark_chains(&body, stride, min_chain, &mut covered);
                        let expected = mark_chains_by_positions(&body, stride, min_chain);
                        assert_eq!(covered, expected, "{body:?} {stride} {min_chain}");
                        marked += covered.iter().filter(|c| **c).count();
                    }
                }
            }
        }
        assert!(marked > 10_000, "{marked}");
    }

    #[test]
    fn chains() {
        for (a, b, expected) in [
            (b'1', b'2', true),
            (b'9', b'a', true),
            (b'9', b'0', true),
            (b'z', b'a', true),
            (b'z', b'0', true),
            (b'c', b'b', true),
            (b'x', b'x', true),
            (b'a', b'c', false),
            (b'-', b'-', false),
        ] {
            assert_eq!(linked(a, b), expected, "{} {}", a as char, b as char);
        }
    }
}
