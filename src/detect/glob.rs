//! Gitignore-like path globs for `[allow] paths`, compiled to byte regexes.
//!
//! `*` matches within one path segment, `**` across segments, `?` one byte, `[...]` a class,
//! `{a,b}` either alternative (as in git's and editors' globs: `*.{py,ipynb}`).
//! A pattern without `/` (other than a trailing one) matches the file name at any depth; a
//! leading `/` anchors it at the repository root; a trailing `/` matches everything below a
//! directory.

use regex::bytes::Regex;

/// A compiled path glob.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: String,
    matcher: Matcher,
}

/// How a glob is matched. Most patterns name a file (`.env`, `*.pem`, `credentials.*`): they
/// are matched against each path segment without a regex, whose construction is most of a
/// small commit's set-up time.
#[derive(Debug, Clone)]
enum Matcher {
    /// A pattern without `/` and with at most one `*` (no `?`, `[` or `**`): some segment of
    /// the path starts with `prefix` and, when there was a `*`, ends with `suffix` after it.
    Segment {
        prefix: String,
        suffix: Option<String>,
    },
    Regex(Regex),
}

impl Matcher {
    /// The segment matcher for `body`, when it is that simple.
    fn segment(body: &str) -> Option<Matcher> {
        if body.contains(['/', '?', '[', '{']) {
            return None;
        }
        match body.split_once('*') {
            None => Some(Matcher::Segment {
                prefix: body.to_string(),
                suffix: None,
            }),
            Some((prefix, suffix)) if !suffix.contains('*') => Some(Matcher::Segment {
                prefix: prefix.to_string(),
                suffix: Some(suffix.to_string()),
            }),
            Some(_) => None,
        }
    }

    fn is_match(&self, path: &str) -> bool {
        match self {
            Matcher::Regex(regex) => regex.is_match(path.as_bytes()),
            // Bytes split by a byte test: `str::split('/')`'s char searcher cost 145
            // instructions a segment (10.2 M of trees40's 12.3 M in globs).
            Matcher::Segment { prefix, suffix } => {
                let (prefix, suffix) = (prefix.as_bytes(), suffix.as_deref().map(str::as_bytes));
                let mut segments = path.as_bytes().split(|&byte| byte == b'/');
                segments.any(|segment| match suffix {
                    None => segment == prefix,
                    Some(suffix) => {
                        segment.len() >= prefix.len() + suffix.len()
                            && segment.starts_with(prefix)
                            && segment.ends_with(suffix)
                    }
                })
            }
        }
    }
}

impl Glob {
    /// Compiles `pattern`; the error says why it cannot be used.
    ///
    /// ```
    /// let glob = tokenguard::detect::glob::Glob::new("tests/**/*.env").unwrap();
    /// assert!(glob.is_match("tests/fixtures/a/b.env"));
    /// assert!(!glob.is_match("src/b.env"));
    /// ```
    pub fn new(pattern: &str) -> Result<Glob, String> {
        let trimmed = pattern.trim();
        if trimmed.is_empty() || trimmed.starts_with('!') {
            return Err(format!("unsupported path pattern {pattern:?}"));
        }
        let directory = trimmed.ends_with('/');
        if !directory && let Some(matcher) = Matcher::segment(trimmed) {
            return Ok(Glob {
                pattern: pattern.to_string(),
                matcher,
            });
        }
        let body = trimmed.trim_end_matches('/');
        let anchored = body.starts_with('/') || body.contains('/');
        let body = body.trim_start_matches('/');
        let mut regex = String::from("(?-u)^");
        if !anchored {
            regex.push_str("(?:.*/)?");
        }
        let bytes = body.as_bytes();
        let mut open_braces = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => {
                    open_braces.push(i);
                    regex.push_str("(?:");
                }
                b',' if !open_braces.is_empty() => regex.push('|'),
                b'}' if open_braces.pop().is_some() => regex.push(')'),
                b'*' if bytes.get(i + 1) == Some(&b'*') => {
                    let slash_follows = bytes.get(i + 2) == Some(&b'/');
                    regex.push_str(if slash_follows { "(?:.*/)?" } else { ".*" });
                    i += if slash_follows { 3 } else { 2 };
                    continue;
                }
                b'*' => regex.push_str("[^/]*"),
                b'?' => regex.push_str("[^/]"),
                b'[' => {
                    let close = body[i..]
                        .find(']')
                        .ok_or_else(|| format!("unclosed '[' in path pattern {pattern:?}"))?;
                    let class = &body[i + 1..i + close];
                    let class = class
                        .strip_prefix('!')
                        .map_or(class.to_string(), |c| format!("^{c}"));
                    regex.push('[');
                    regex.push_str(&class.replace('\\', "\\\\"));
                    regex.push(']');
                    i += close + 1;
                    continue;
                }
                _ => {
                    let literal = body[i..].chars().next().expect("i is a char boundary");
                    regex.push_str(&regex::escape(&literal.to_string()));
                    i += literal.len_utf8();
                    continue;
                }
            }
            i += 1;
        }
        if let Some(&at) = open_braces.last() {
            return Err(format!(
                "unclosed '{{' at byte {} of path pattern {pattern:?}",
                at + 1
            ));
        }
        regex.push_str(if directory { "/.*$" } else { "(?:/.*)?$" });
        let regex = Regex::new(&regex).map_err(|e| format!("path pattern {pattern:?}: {e}"))?;
        Ok(Glob {
            pattern: pattern.to_string(),
            matcher: Matcher::Regex(regex),
        })
    }

    /// True when `path` (relative to the repository root, `/`-separated) matches.
    pub fn is_match(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }

    /// True when the pattern matches every path (`**`, `*`): refused for allowlists.
    pub fn matches_everything(&self) -> bool {
        ["a", "a/b/c.env", ".env", "src/x.py"]
            .iter()
            .all(|p| self.is_match(p))
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitignore_like_matching() {
        let cases = [
            ("*.env", "a.env", true),
            ("*.env", "deep/dir/a.env", true),
            ("*.env", "a.env.bak", false),
            ("/config.py", "config.py", true),
            ("/config.py", "sub/config.py", false),
            ("tests/", "tests/fixtures/x.py", true),
            ("tests/", "src/tests.py", false),
            ("fixtures", "tests/fixtures/x.py", true),
            ("tests/**/*.json", "tests/a/b/c.json", true),
            ("tests/**/*.json", "tests/c.json", true),
            ("tests/**/*.json", "src/tests/c.json", false),
            ("docs/*.md", "docs/a.md", true),
            ("docs/*.md", "docs/sub/a.md", false),
            ("file?.txt", "file1.txt", true),
            ("file[0-9].txt", "file7.txt", true),
            ("file[!0-9].txt", "file7.txt", false),
            ("dossier é/*.env", "dossier é/clé.env", true),
            ("**/*.{py,ipynb}", "nb/a.ipynb", true),
            ("**/*.{py,ipynb}", "a.py", true),
            ("**/*.{py,ipynb}", "a.pyc", false),
            ("*.{json,yaml}", "deep/x.yaml", true),
            ("tests/{fixtures,data}/", "tests/data/k.txt", true),
            ("tests/{fixtures,data}/", "tests/unit/k.txt", false),
            ("{a,b{c,d}}.txt", "bd.txt", true),
            ("{a,b{c,d}}.txt", "b.txt", false),
            ("a,b}.txt", "a,b}.txt", true),
        ];
        for (pattern, path, expected) in cases {
            let glob = Glob::new(pattern).unwrap();
            assert_eq!(glob.is_match(path), expected, "{pattern} vs {path}");
        }
    }

    /// The segment matcher agrees with the regex the same pattern compiles to.
    #[test]
    fn segment_patterns_match_as_their_regex() {
        let patterns = [
            ".env",
            ".env.*",
            "*.pem",
            "credentials.*",
            "*",
            "a*b",
            "é*",
            "x",
        ];
        let paths = [
            ".env",
            "a/.env",
            ".env/b",
            "a/.env.local",
            ".envx",
            "x.pem",
            "d/x.pem",
            "x.pem.bak",
            "credentials.json",
            "ab",
            "a",
            "b",
            "axb/c",
            "a/b",
            "é",
            "dir/éa",
            "x",
            "y/x/z",
            "",
            "/",
            "a//.env",
            "x.pem/",
            "/credentials.x",
            "é/x.pem.pem",
        ];
        for pattern in patterns {
            let fast = Glob::new(pattern).unwrap();
            assert!(matches!(fast.matcher, Matcher::Segment { .. }), "{pattern}");
            let regex = Regex::new(&format!(
                "(?-u)^(?:.*/)?{}(?:/.*)?$",
                regex::escape(pattern).replace("\\*", "[^/]*")
            ))
            .unwrap();
            for path in paths {
                assert_eq!(
                    fast.is_match(path),
                    regex.is_match(path.as_bytes()),
                    "{pattern} vs {path}"
                );
            }
        }
        for pattern in ["a/b", "**", "a?", "[ab]", "a*b*c", "dir/"] {
            let glob = Glob::new(pattern).unwrap();
            assert!(matches!(glob.matcher, Matcher::Regex(_)), "{pattern}");
        }
    }

    #[test]
    fn an_unclosed_brace_is_an_error_with_its_position() {
        let err = Glob::new("src/*.{py,ipynb").unwrap_err();
        assert!(err.contains("unclosed '{' at byte 7"), "{err}");
    }

    #[test]
    fn catch_all_patterns_are_recognised() {
        for pattern in ["**", "*", "/**", "**/*"] {
            assert!(
                Glob::new(pattern).unwrap().matches_everything(),
                "{pattern}"
            );
        }
        assert!(!Glob::new("tests/**").unwrap().matches_everything());
    }

    #[test]
    fn bad_patterns_are_errors() {
        for pattern in ["", "!negated", "a[bc"] {
            assert!(Glob::new(pattern).is_err(), "{pattern}");
        }
    }
}
