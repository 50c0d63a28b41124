//! After an automatic edit: does the file still parse? Asked of the language's own parser
//! where one is on the machine (`python3` compile, `node --check`, `bash -n`, a YAML or JSON
//! load). A file that parsed before and does not after falls back to a manual step; with no
//! parser at hand, or a file that did not parse before either, the edit stands.

use std::io::Write;
use std::process::{Command, Stdio};

use super::plan::Family;

/// Files larger than this are not handed to an outside parser: its time and memory (python3
/// takes seconds and hundreds of megabytes for tens of megabytes of code) would dwarf the
/// scan's. The report says the edit went unchecked.
const CHECKED_UP_TO: usize = 4 << 20;

/// Why the edit is refused, when the fixed text no longer parses and the original did;
/// `Ok(Some(note))` when the file was too large to check.
pub(super) fn still_parses(
    family: Family,
    path: &str,
    before: &str,
    after: &str,
) -> Result<Option<String>, String> {
    let Some(parser) = Parser::for_file(family, path) else {
        return Ok(None);
    };
    if after.len() > CHECKED_UP_TO && !matches!(parser, Parser::Json) {
        return Ok(Some(format!(
            "the file is over {} MB, so the edit was not checked with {}: run it once",
            CHECKED_UP_TO >> 20,
            parser.name()
        )));
    }
    if parser.accepts(after) != Some(false) || parser.accepts(before) != Some(true) {
        return Ok(None);
    }
    Err(format!(
        "after the edit the file would no longer parse ({} said so): tokenguard left it as it \
         was, so replace the value by hand",
        parser.name()
    ))
}

#[derive(Debug, Clone, Copy)]
enum Parser {
    Python,
    Node,
    Bash,
    Yaml,
    Json,
}

impl Parser {
    fn for_file(family: Family, path: &str) -> Option<Parser> {
        let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
        match family {
            Family::Python => Some(Parser::Python),
            // TypeScript and JSX are beyond node's own parser.
            Family::JavaScript if matches!(extension, "js" | "mjs" | "cjs") => Some(Parser::Node),
            Family::Shell if !matches!(extension, "zsh" | "ksh") => Some(Parser::Bash),
            Family::Compose | Family::Actions => Some(Parser::Yaml),
            Family::Notebook => Some(Parser::Json),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Parser::Python => "python3's compile()",
            Parser::Node => "node --check",
            Parser::Bash => "bash -n",
            Parser::Yaml => "a YAML load",
            Parser::Json => "a JSON load",
        }
    }

    /// Whether `text` parses; `None` when the parser is not on this machine.
    fn accepts(self, text: &str) -> Option<bool> {
        match self {
            Parser::Json => Some(serde_json::from_str::<serde_json::Value>(text).is_ok()),
            Parser::Python => run(
                "python3",
                &[
                    "-c",
                    "import sys\ncompile(sys.stdin.buffer.read(), 'fix', 'exec')",
                ],
                text,
            ),
            Parser::Yaml => run(
                "python3",
                &[
                    "-c",
                    "import sys\ntry:\n import yaml\nexcept ImportError:\n sys.exit(3)\nyaml.safe_load(sys.stdin)",
                ],
                text,
            ),
            // From stdin node reads a CommonJS script unless told it is a module.
            Parser::Node => match run("node", &["--check", "-"], text) {
                Some(false) => run("node", &["--input-type=module", "--check", "-"], text),
                other => other,
            },
            Parser::Bash => run("bash", &["-n"], text),
        }
    }
}

/// Runs `program args` with `text` on stdin: `Some(true)` on exit 0, `Some(false)` on 1 or 2
/// (a syntax error), `None` when it cannot run or says its parser is missing.
fn run(program: &str, args: &[&str], text: &str) -> Option<bool> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let written = stdin.write_all(text.as_bytes());
    drop(stdin);
    let status = child.wait().ok()?;
    written.ok()?;
    match status.code() {
        Some(0) => Some(true),
        Some(1 | 2) => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_that_breaks_the_syntax_is_refused() {
        let ok = still_parses(Family::Python, "a.py", "x = 1\n", "x = (\n");
        if Parser::Python.accepts("x = 1\n").is_some() {
            assert!(ok.is_err());
        }
        assert_eq!(
            still_parses(Family::Python, "a.py", "x = (\n", "x = ((\n"),
            Ok(None)
        );
        assert!(still_parses(Family::Notebook, "a.ipynb", "{}", "{").is_err());
        assert_eq!(still_parses(Family::Other, "a.txt", "a", "b"), Ok(None));
        let large = "x = 1\n".repeat(CHECKED_UP_TO / 6 + 1);
        let unchecked = still_parses(Family::Python, "a.py", &large, &large).unwrap();
        assert!(unchecked.unwrap().contains("not checked"));
    }
}
