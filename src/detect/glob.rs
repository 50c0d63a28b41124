//! Gitignore-like path globs for `[allow] paths`, compiled to byte regexes.
//!
//! `*` matches within one path segment, `**` across segments, `?` one byte, `[...]` a class.
//! A pattern without `/` (other than a trailing one) matches the file name at any depth; a
//! leading `/` anchors it at the repository root; a trailing `/` matches everything below a
//! directory.

use regex::bytes::Regex;

/// A compiled path glob.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: String,
    regex: Regex,
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
        let body = trimmed.trim_end_matches('/');
        let anchored = body.starts_with('/') || body.contains('/');
        let body = body.trim_start_matches('/');
        let mut regex = String::from("(?-u)^");
        if !anchored {
            regex.push_str("(?:.*/)?");
        }
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
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
        regex.push_str(if directory { "/.*$" } else { "(?:/.*)?$" });
        let regex = Regex::new(&regex).map_err(|e| format!("path pattern {pattern:?}: {e}"))?;
        Ok(Glob {
            pattern: pattern.to_string(),
            regex,
        })
    }

    /// True when `path` (relative to the repository root, `/`-separated) matches.
    pub fn is_match(&self, path: &str) -> bool {
        self.regex.is_match(path.as_bytes())
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
        ];
        for (pattern, path, expected) in cases {
            let glob = Glob::new(pattern).unwrap();
            assert_eq!(glob.is_match(path), expected, "{pattern} vs {path}");
        }
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
