//! A `.env` file as the fix sees it: the values it holds by name, what this run appends, and
//! which old values `--replace-env` turns into comments. A name never gets a number added,
//! and no value is ever lost: a different value under the name is a conflict for the user to
//! settle, or with `--replace-env` the old line stays as a comment.

use std::collections::{BTreeMap, BTreeSet};

use super::writer;

/// The values a `.env` file holds, by name, and what this run changes.
#[derive(Debug, Default)]
pub(super) struct EnvFile {
    /// Name: value and the index of its line.
    existing: BTreeMap<String, (String, usize)>,
    /// Names and values to append, in order.
    pub added: Vec<(String, String)>,
    /// Lines whose old value a new one replaces: kept as comments.
    replaced: BTreeSet<usize>,
}

/// Why a value cannot go under a name.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Conflict {
    /// The file holds another value under the name (`--replace-env` replaces it).
    InFile,
    /// Another secret of this very run wants the name.
    InThisRun,
}

impl EnvFile {
    pub(super) fn parse(text: &str) -> EnvFile {
        let mut existing = BTreeMap::new();
        let mut lines = text.lines().enumerate();
        while let Some((index, line)) = lines.next() {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line);
            if line.starts_with('#') {
                continue;
            }
            if let Some((name, value)) = line.split_once('=') {
                let mut value = value.trim().to_string();
                // A quoted value may go on over lines (a PEM key): up to its closing quote.
                if let Some(quote) = value.chars().next().filter(|q| *q == '\'' || *q == '"') {
                    while value.len() < 2 || !value.ends_with(quote) {
                        let Some((_, more)) = lines.next() else { break };
                        value.push('\n');
                        value.push_str(more);
                    }
                }
                let value = value.as_str();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                    .unwrap_or(value);
                existing.insert(name.trim().to_string(), (value.to_string(), index));
            }
        }
        EnvFile {
            existing,
            ..EnvFile::default()
        }
    }

    /// Keeps `secret` under `name`: nothing to do when it already holds this value, appended
    /// when the name is free; another value under it is a conflict unless `replace`.
    pub(super) fn assign(
        &mut self,
        name: &str,
        secret: &str,
        replace: bool,
    ) -> Result<(), Conflict> {
        if let Some((_, value)) = self.added.iter().find(|(k, _)| k == name) {
            return if value == secret {
                Ok(())
            } else {
                Err(Conflict::InThisRun)
            };
        }
        match self.existing.get(name) {
            Some((value, _)) if value == secret => Ok(()),
            Some((_, line)) if replace => {
                self.replaced.insert(*line);
                self.added.push((name.to_string(), secret.to_string()));
                Ok(())
            }
            Some(_) => Err(Conflict::InFile),
            None => {
                self.added.push((name.to_string(), secret.to_string()));
                Ok(())
            }
        }
    }

    /// True when the run changes the file.
    pub(super) fn changed(&self) -> bool {
        !self.added.is_empty()
    }

    /// The `NAME=value` lines this run appends.
    pub(super) fn added_lines(&self) -> Vec<String> {
        self.added
            .iter()
            .map(|(name, value)| writer::env_line(name, value))
            .collect()
    }

    /// How many old values become comments.
    pub(super) fn replaced_count(&self) -> usize {
        self.replaced.len()
    }

    /// `text` (the file this was parsed from) with replaced lines commented out and the new
    /// lines appended; line endings as the file has them.
    pub(super) fn render(&self, text: &str) -> String {
        let crlf = text.contains("\r\n");
        let mut out = String::with_capacity(text.len() + 64);
        for (index, line) in text.split_inclusive('\n').enumerate() {
            if self.replaced.contains(&index) {
                out.push_str("# replaced by tokenguard fix: ");
            }
            out.push_str(line);
        }
        let lines: Vec<String> = self.added_lines();
        let appended = writer::appended(&out, &lines);
        if crlf {
            appended.replace("\r\n", "\n").replace('\n', "\r\n")
        } else {
            appended
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_never_numbered_and_no_value_is_lost() {
        let mut env = EnvFile::parse("export A=one\nB='two'\n# C=old\n");
        assert_eq!(env.assign("B", "two", false), Ok(()));
        let pem = EnvFile::parse("K='-----BEGIN-----\nabc\n-----END-----'\nL=1\n");
        assert_eq!(pem.existing["K"].0, "-----BEGIN-----\nabc\n-----END-----");
        assert_eq!(pem.existing["L"].0, "1");
        assert_eq!(env.assign("A", "other", false), Err(Conflict::InFile));
        assert_eq!(env.assign("C", "three", false), Ok(()));
        assert_eq!(env.assign("C", "four", true), Err(Conflict::InThisRun));
        assert_eq!(
            env.render("export A=one\nB='two'\n# C=old\n"),
            "export A=one\nB='two'\n# C=old\nC=three\n"
        );
        assert_eq!(env.assign("A", "other", true), Ok(()));
        assert_eq!(
            env.render("export A=one\nB='two'\n# C=old\n"),
            "# replaced by tokenguard fix: export A=one\nB='two'\n# C=old\nC=three\nA=other\n"
        );
    }
}
