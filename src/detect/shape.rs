//! Token shapes such as `r8_[alnum:37]` turned into concrete tokens.
//!
//! Rules carry shapes instead of literal tokens so that this repository never holds a string that
//! a secret scanner (ours included) would rightly flag. Tests expand the shapes at run time.

/// Character classes a shape segment can draw from.
const CLASSES: &[(&str, &[u8])] = &[
    (
        "alnum",
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    ),
    ("hex", b"0123456789abcdef"),
    ("HEX", b"0123456789ABCDEF"),
    ("lower", b"abcdefghijklmnopqrstuvwxyz"),
    ("upper", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ("digit", b"0123456789"),
    ("lowernum", b"abcdefghijklmnopqrstuvwxyz0123456789"),
    ("uppernum", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
    (
        "base64",
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    ),
    (
        "base64url",
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    ),
];

/// One piece of a shape: fixed text, or `len` characters drawn from `class`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `min..=max` characters; a range such as `[alnum:44..52]` is written for tokens whose
    /// length varies.
    Random {
        class: &'static [u8],
        min: usize,
        max: usize,
    },
}

/// A parsed shape such as `[alnum:8].[alnum:32]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    segments: Vec<Segment>,
}

/// A generated token and the pieces the example templates refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The whole token.
    pub token: String,
    /// Only the random part (the token without its fixed prefix).
    pub body: String,
    /// The token with its last random segment one character shorter than its minimum.
    pub short: String,
    /// The token with its last random segment one character longer than its maximum.
    pub long: String,
    /// The token's fixed parts with every random character replaced by `x`.
    pub placeholder: String,
}

impl Shape {
    /// Parses a shape; the error names what is wrong.
    ///
    /// ```
    /// let shape = tokenguard::detect::shape::Shape::parse("r8_[alnum:37]").unwrap();
    /// assert_eq!(shape.generate(7).token.len(), 40);
    /// ```
    pub fn parse(text: &str) -> Result<Shape, String> {
        let mut segments = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let Some(open) = rest.find('[') else {
                segments.push(Segment::Literal(rest.to_string()));
                break;
            };
            if open > 0 {
                segments.push(Segment::Literal(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find(']')
                .ok_or_else(|| format!("shape {text:?}: unclosed '['"))?;
            let spec = &rest[open + 1..open + close];
            let (name, len) = spec
                .split_once(':')
                .ok_or_else(|| format!("shape {text:?}: expected [class:length]"))?;
            let class = CLASSES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, chars)| *chars)
                .ok_or_else(|| format!("shape {text:?}: unknown class {name:?}"))?;
            let bad_length = || format!("shape {text:?}: bad length {len:?}");
            let (min, max) = match len.split_once("..") {
                Some((min, max)) => (
                    min.parse().map_err(|_| bad_length())?,
                    max.parse().map_err(|_| bad_length())?,
                ),
                None => {
                    let exact = len.parse().map_err(|_| bad_length())?;
                    (exact, exact)
                }
            };
            if min == 0 || min > max {
                return Err(bad_length());
            }
            segments.push(Segment::Random { class, min, max });
            rest = &rest[open + close + 1..];
        }
        if !segments.iter().any(|s| matches!(s, Segment::Random { .. })) {
            return Err(format!("shape {text:?}: has no random segment"));
        }
        Ok(Shape { segments })
    }

    /// The shape's fixed text (`r8_`, `T3BlbkFJ`), which placeholders may keep.
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Literal(text) => Some(text.as_str()),
            Segment::Random { .. } => None,
        })
    }

    /// Generates a token deterministically from `seed`; ranged segments take a length that
    /// varies with the seed.
    pub fn generate(&self, seed: u64) -> Sample {
        let mut rng = SplitMix64(seed ^ 0x9e37_79b9_7f4a_7c15);
        let last_random = self
            .segments
            .iter()
            .rposition(|s| matches!(s, Segment::Random { .. }))
            .expect("parse guarantees a random segment");
        let mut token = String::new();
        let mut body = String::new();
        let mut short = String::new();
        let mut long = String::new();
        let mut placeholder = String::new();
        let mut seen_random = false;
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(text) => {
                    token.push_str(text);
                    short.push_str(text);
                    long.push_str(text);
                    placeholder.push_str(text);
                    if seen_random {
                        body.push_str(text);
                    }
                }
                Segment::Random { class, min, max } => {
                    seen_random = true;
                    let len = min + (seed as usize % (max - min + 1));
                    let chars: String = (0..=*max)
                        .map(|_| class[rng.below(class.len())] as char)
                        .collect();
                    let exact = &chars[..len];
                    token.push_str(exact);
                    body.push_str(exact);
                    placeholder.push_str(&"x".repeat(len));
                    if i == last_random {
                        short.push_str(&chars[..min - 1]);
                        long.push_str(&chars[..=*max]);
                    } else {
                        short.push_str(exact);
                        long.push_str(exact);
                    }
                }
            }
        }
        Sample {
            token,
            body,
            short,
            long,
            placeholder,
        }
    }
}

impl Sample {
    /// Fills an example template: `{token}`, `{body}`, `{token_short}`, `{token_long}`,
    /// `{placeholder}` and `{repeat:C:N}` (the character C, N times).
    pub fn fill(&self, template: &str) -> String {
        let mut out = template
            .replace("{placeholder}", &self.placeholder)
            .replace("{token_short}", &self.short)
            .replace("{token_long}", &self.long)
            .replace("{token}", &self.token)
            .replace("{body}", &self.body);
        expand_each(&mut out, "{repeat:", |spec| match spec.rsplit_once(':') {
            Some((ch, n)) => ch.repeat(n.parse().unwrap_or(0)),
            None => String::new(),
        });
        // Vendors' documented example values, kept in lower case in the rules file so that the
        // file itself never holds a token-shaped literal.
        expand_each(&mut out, "{upper:", str::to_ascii_uppercase);
        out
    }
}

/// Replaces each `{NAME:SPEC}` (`opening` is `{NAME:`) in `out` by `expand(SPEC)`.
fn expand_each(out: &mut String, opening: &str, expand: impl Fn(&str) -> String) {
    while let Some(start) = out.find(opening) {
        let Some(len) = out[start..].find('}') else {
            break;
        };
        let expanded = expand(&out[start + opening.len()..start + len]);
        out.replace_range(start..start + len + 1, &expanded);
    }
}

/// A small, well-known generator; good enough for test data and fully reproducible (also the
/// allowlist guard's draws).
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_generate_tokens_of_the_declared_form() {
        let cases = [
            ("r8_[alnum:37]", 40, "r8_"),
            ("[alnum:8].[alnum:32]", 41, ""),
            ("sk-ant-api03-[base64url:93]AA", 108, "sk-ant-api03-"),
        ];
        for (text, len, prefix) in cases {
            let sample = Shape::parse(text).unwrap().generate(1);
            assert_eq!(sample.token.len(), len, "{text}");
            assert!(sample.token.starts_with(prefix), "{text}");
            assert_eq!(sample.short.len(), len - 1, "{text}");
            assert_eq!(sample.long.len(), len + 1, "{text}");
        }
    }

    #[test]
    fn ranged_segments_vary_and_bound_short_and_long() {
        let shape = Shape::parse("llx-[alnum:44..52]").unwrap();
        let lengths: std::collections::BTreeSet<usize> = (0..40)
            .map(|seed| shape.generate(seed).token.len())
            .collect();
        assert_eq!(lengths.first(), Some(&48));
        assert_eq!(lengths.last(), Some(&56));
        let sample = shape.generate(3);
        assert_eq!(sample.short.len(), 4 + 43);
        assert_eq!(sample.long.len(), 4 + 53);
        assert_eq!(
            sample.placeholder,
            format!("llx-{}", "x".repeat(sample.body.len()))
        );
    }

    #[test]
    fn body_is_the_token_without_its_fixed_prefix() {
        let sample = Shape::parse("r8_[alnum:37]").unwrap().generate(3);
        assert_eq!(format!("r8_{}", sample.body), sample.token);
    }

    #[test]
    fn templates_expand() {
        let sample = Shape::parse("ab[digit:2]").unwrap().generate(5);
        assert_eq!(sample.fill("x={repeat:z:3}"), "x=zzz");
        assert_eq!(sample.fill("{token}"), sample.token);
    }

    #[test]
    fn bad_shapes_are_rejected() {
        for text in [
            "plain",
            "[alnum]",
            "[nope:3]",
            "[alnum:3",
            "[alnum:x]",
            "[alnum:0]",
            "[alnum:9..3]",
        ] {
            assert!(Shape::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn seeds_give_different_tokens() {
        let shape = Shape::parse("[alnum:32]").unwrap();
        assert_ne!(shape.generate(1).token, shape.generate(2).token);
        assert_eq!(shape.generate(1), shape.generate(1));
    }
}
