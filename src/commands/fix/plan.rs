//! The planner: which language family a file belongs to, which variable name a secret gets,
//! and the edits that replace each occurrence (or the manual step when none is safe).

use super::literal::{Place, Syntax, is_identifier_byte};
use super::{code, config_files, docker, notebook};

/// One replacement in a file: `content[start..end]` becomes `text`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// The language family of a file, which decides how a secret in it is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    Python,
    JavaScript,
    Shell,
    Dockerfile,
    Notebook,
    /// docker compose: `${X}` is interpolated from the environment and the `.env` beside it.
    Compose,
    /// GitHub Actions workflows: `${{ secrets.X }}`.
    Actions,
    /// A `.env`-style file: it is where secrets belong, as long as git ignores it.
    DotEnv,
    /// Anything else: tokenguard cannot know what reads it, so the step is manual.
    Other,
}

impl Family {
    pub(super) fn of(path: &str, content: &[u8]) -> Family {
        let name = path.rsplit('/').next().unwrap_or(path);
        let lower = name.to_ascii_lowercase();
        let extension = lower.rsplit_once('.').map_or("", |(_, e)| e);
        if is_dotenv(name) {
            return Family::DotEnv;
        }
        if lower == "dockerfile"
            || lower.starts_with("dockerfile.")
            || lower.ends_with(".dockerfile")
            || lower == "containerfile"
        {
            return Family::Dockerfile;
        }
        let yaml = matches!(extension, "yml" | "yaml");
        if yaml && (path.starts_with(".github/workflows/") || path.contains("/.github/workflows/"))
        {
            return Family::Actions;
        }
        if yaml && (lower.starts_with("docker-compose") || lower.starts_with("compose.")) {
            return Family::Compose;
        }
        match extension {
            "py" | "pyw" => Family::Python,
            "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => Family::JavaScript,
            "sh" | "bash" | "zsh" | "ksh" => Family::Shell,
            "ipynb" => Family::Notebook,
            _ => match shebang(content) {
                Some(interpreter) if interpreter.starts_with("python") => Family::Python,
                Some("node") => Family::JavaScript,
                Some("sh" | "bash" | "zsh" | "ksh" | "dash") => Family::Shell,
                _ => Family::Other,
            },
        }
    }

    /// The read of an environment variable this family's fix writes, for messages.
    pub(super) fn read_of(self, var: &str) -> String {
        match self {
            Family::Python | Family::Notebook => format!("os.environ[\"{var}\"]"),
            Family::JavaScript => format!("process.env.{var}"),
            Family::Shell | Family::Dockerfile => format!("\"${{{var}}}\""),
            Family::Compose => format!("${{{var}}}"),
            Family::Actions => format!("${{{{ secrets.{var} }}}}"),
            Family::DotEnv | Family::Other => var.to_string(),
        }
    }

    /// Whether `tokenguard fix` can do the work for a file of this family.
    pub(super) fn fixable(self) -> bool {
        self != Family::Other
    }
}

/// `.env`, `.env.local`, `.env.production`; not the templates meant to be committed.
pub(super) fn is_dotenv(name: &str) -> bool {
    let templates = [".example", ".sample", ".template", ".dist", ".defaults"];
    name == ".env" || (name.starts_with(".env.") && !templates.iter().any(|t| name.ends_with(t)))
}

/// The interpreter a `#!` line names (`/usr/bin/env python3` -> `python3`).
fn shebang(content: &[u8]) -> Option<&str> {
    let first = content.strip_prefix(b"#!")?.split(|&b| b == b'\n').next()?;
    let first = std::str::from_utf8(first).ok()?;
    let mut words = first.split_whitespace();
    let program = words.next()?.rsplit('/').next()?;
    match program {
        "env" => words.find(|w| !w.starts_with('-')),
        other => Some(other),
    }
}

/// What to do about one occurrence of a secret.
#[derive(Debug)]
pub(super) enum Rewrite {
    /// Automatic: these edits, and advice to print beside them.
    Edits {
        edits: Vec<Edit>,
        note: Option<String>,
    },
    /// Nothing written to the file: the step the user has to take, and why.
    Manual(String),
}

/// What the whole-file tokenizer found around one occurrence.
#[derive(Debug, Clone)]
pub(super) enum Context {
    /// Source code: the enclosing literal or comment (`None`: across an edge).
    Code(Option<Place>),
    /// A Dockerfile: `Some(quoted)` inside a heredoc's body.
    Dockerfile(Option<bool>),
    /// Files read line by line (notebooks, configuration).
    Unread,
}

/// The edits for the secret at `content[start..end]`, read from `var`.
pub(super) fn rewrite(
    family: Family,
    content: &str,
    start: usize,
    end: usize,
    var: &str,
    context: Context,
) -> Rewrite {
    let code = |syntax| match context.clone() {
        Context::Code(place) => code::rewrite_at(content, start, end, var, syntax, place),
        _ => code::rewrite(content, start, end, var, syntax),
    };
    let result = match family {
        Family::Python => code(Syntax::Python).map(|e| (e, None)),
        Family::JavaScript => code(Syntax::JavaScript).map(|e| (e, None)),
        Family::Shell => code(Syntax::Shell).map(|e| (e, None)),
        Family::Dockerfile => {
            let heredoc = match context {
                Context::Dockerfile(heredoc) => heredoc,
                _ => None,
            };
            docker::rewrite(content, start, end, var, heredoc)
        }
        Family::Notebook => notebook::rewrite(content, start, end, var).map(|e| (e, None)),
        Family::Compose => Ok((
            config_files::replace(start, end, &Family::Compose.read_of(var)),
            None,
        )),
        Family::Actions => Ok((
            config_files::replace(start, end, &Family::Actions.read_of(var)),
            Some(format!(
                "add the value as a repository secret named {var} (Settings > Secrets and variables > Actions, or `gh secret set {var}`)"
            )),
        )),
        Family::DotEnv => Ok((Vec::new(), None)),
        Family::Other => Err(config_files::manual_reason(var)),
    };
    match result {
        Ok((edits, note)) => Rewrite::Edits { edits, note },
        Err(reason) => Rewrite::Manual(reason),
    }
}

/// The variable a secret is read from: the name the code already gives it (the variable or
/// key it is assigned to, or the environment variable it sets or defaults), else the
/// provider's documented one.
pub(super) fn variable_name(
    family: Family,
    content: &str,
    start: usize,
    provider_vars: &[String],
    rule_id: &str,
    generic: bool,
) -> String {
    let (line_start, _) = line_bounds(content, start);
    let before = &content[line_start..start];
    let from_code = name_in_code(family, before);
    let documented = !generic && !provider_vars.is_empty();
    match from_code {
        Some(name) if provider_vars.contains(&name) => name,
        Some(name) if documented && is_generic_name(&name) => provider_var(provider_vars, rule_id),
        Some(name) if is_env_name(&name) => name,
        Some(name) if generic => name.to_ascii_uppercase(),
        _ => provider_var(provider_vars, rule_id),
    }
}

/// A name that says nothing about whose token it is (`TOKEN`, `API_KEY`, `HF`): the
/// provider's documented variable, which its SDK reads, says more.
fn is_generic_name(name: &str) -> bool {
    const GENERIC: [&str; 18] = [
        "TOKEN",
        "KEY",
        "API_KEY",
        "APIKEY",
        "API_TOKEN",
        "SECRET",
        "SECRET_KEY",
        "ACCESS_TOKEN",
        "AUTH_TOKEN",
        "AUTH",
        "BEARER",
        "PASSWORD",
        "NEW",
        "OLD",
        "NEW_TOKEN",
        "OLD_TOKEN",
        "CLIENT",
        "VALUE",
    ];
    let upper = name.to_ascii_uppercase();
    upper.len() <= 2 || GENERIC.contains(&upper.as_str())
}

/// The provider's env var that shares most words with the rule id (`openai-admin-key` ->
/// `OPENAI_ADMIN_KEY`, `modal-token-id` -> `MODAL_TOKEN_ID`), the first on a tie.
fn provider_var(vars: &[String], rule_id: &str) -> String {
    let words: Vec<&str> = rule_id.split('-').collect();
    let score = |var: &String| {
        var.to_ascii_lowercase()
            .split('_')
            .filter(|w| words.contains(w))
            .count()
    };
    let mut best: Option<&String> = None;
    for var in vars {
        if best.is_none_or(|b| score(var) > score(b)) {
            best = Some(var);
        }
    }
    best.cloned().unwrap_or_else(|| "API_TOKEN".to_string())
}

/// An environment variable's conventional spelling: upper case, digits and underscores.
fn is_env_name(name: &str) -> bool {
    name.len() >= 2
        && name.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The name the text before a secret (on its line) gives it: `os.environ["X"] = `,
/// `getenv("X", `, `X = `, `X: `, `- X=`, `export X=`, `key: ` or `apiKey=` (the quote that
/// opens the literal is skipped).
fn name_in_code(family: Family, before: &str) -> Option<String> {
    let trimmed = before.trim_end_matches(['"', '\'', '`', 'f', 'r', 'b', 'u']);
    let trimmed = trimmed.trim_end();
    for marker in [
        "environ[",
        "setdefault(",
        "getenv(",
        "environ.get(",
        "env.get(",
        "process.env.",
        "ENV.fetch(",
    ] {
        if let Some(at) = trimmed.rfind(marker) {
            let rest = trimmed[at + marker.len()..].trim_start_matches(['"', '\'']);
            let name: String = rest
                .bytes()
                .take_while(|&b| is_identifier_byte(b))
                .map(char::from)
                .collect();
            // Only when the secret is what that variable is set to or defaults to:
            // nothing but quotes, brackets and operators between the name and the secret.
            let between = &rest[name.len()..];
            let allowed = if marker == "process.env." {
                " |?"
            } else {
                "\"'] ,=:"
            };
            if !name.is_empty() && between.chars().all(|c| allowed.contains(c)) {
                return Some(name);
            }
        }
    }
    let assignment = trimmed
        .strip_suffix(":=")
        .or_else(|| trimmed.strip_suffix('='))
        .or_else(|| trimmed.strip_suffix(':'))?;
    // A Python annotation (`X: str =`) or a quoted key (`"X":`).
    let assignment = match assignment.rsplit_once(':') {
        Some((name, annotation))
            if family == Family::Python && !annotation.contains(['"', '\'']) =>
        {
            name
        }
        _ => assignment,
    };
    let assignment = assignment.trim_end().trim_end_matches(['"', '\'']);
    let name: String = assignment
        .bytes()
        .rev()
        .take_while(|&b| is_identifier_byte(b))
        .map(char::from)
        .collect::<Vec<char>>()
        .into_iter()
        .rev()
        .collect();
    (!name.is_empty() && !name.as_bytes()[0].is_ascii_digit()).then_some(name)
}

/// The line around byte `at`: its start and its end (the newline excluded).
pub(super) fn line_bounds(content: &str, at: usize) -> (usize, usize) {
    let start = content[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = content[at..].find('\n').map_or(content.len(), |i| at + i);
    (start, end)
}

/// `content` with `edits` applied; identical edits count once, and an edit that overlaps
/// an earlier one is dropped (both came from the same secret).
pub(super) fn apply_edits(content: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut out = String::with_capacity(content.len());
    let mut at = 0;
    for edit in sorted {
        if edit.start < at {
            continue;
        }
        out.push_str(&content[at..edit.start]);
        out.push_str(&edit.text);
        at = edit.end;
    }
    out.push_str(&content[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_by_name_and_shebang() {
        let cases: [(&str, &[u8], Family); 12] = [
            ("app/main.py", b"", Family::Python),
            ("web/client.tsx", b"", Family::JavaScript),
            ("deploy.sh", b"", Family::Shell),
            ("bin/run", b"#!/usr/bin/env bash\n", Family::Shell),
            ("bin/tool", b"#!/usr/bin/env python3\n", Family::Python),
            ("Dockerfile", b"", Family::Dockerfile),
            ("svc/api.Dockerfile", b"", Family::Dockerfile),
            ("nb/Explore.ipynb", b"", Family::Notebook),
            ("docker-compose.yml", b"", Family::Compose),
            (".github/workflows/ci.yml", b"", Family::Actions),
            ("config/.env.local", b"", Family::DotEnv),
            ("settings.yaml", b"", Family::Other),
        ];
        for (path, content, family) in cases {
            assert_eq!(Family::of(path, content), family, "{path}");
        }
        assert_eq!(Family::of(".env.example", b""), Family::Other);
    }

    #[test]
    fn the_code_names_the_variable_else_the_provider_does() {
        let vars = vec!["OPENAI_API_KEY".to_string(), "OPENAI_ADMIN_KEY".to_string()];
        let cases = [
            (
                Family::Python,
                "MY_TOKEN = \"",
                "openai-project-key",
                false,
                "MY_TOKEN",
            ),
            (
                Family::Python,
                "os.environ[\"HF_TOKEN\"] = \"",
                "x",
                false,
                "HF_TOKEN",
            ),
            (
                Family::Python,
                "TOKEN: str = \"",
                "x",
                false,
                "OPENAI_API_KEY",
            ),
            (
                Family::Python,
                "SVC_TOKEN: str = \"",
                "x",
                false,
                "SVC_TOKEN",
            ),
            (
                Family::Python,
                "client = OpenAI(api_key=\"",
                "openai-project-key",
                false,
                "OPENAI_API_KEY",
            ),
        ];
        for (family, before, rule, generic, expected) in cases {
            let content = format!("{before}SECRET\"");
            let start = before.len();
            assert_eq!(
                variable_name(family, &content, start, &vars, rule, generic),
                expected,
                "{before}"
            );
        }
    }

    #[test]
    fn javascript_compose_and_config_names() {
        let vars = vec!["OPENAI_API_KEY".to_string(), "OPENAI_ADMIN_KEY".to_string()];
        let cases = [
            (
                Family::JavaScript,
                "const key = \"",
                "openai-admin-key",
                false,
                "OPENAI_ADMIN_KEY",
            ),
            (Family::Shell, "export SVC_TOKEN=", "x", false, "SVC_TOKEN"),
            (
                Family::Python,
                "k = os.environ.get(\"MY_KEY\", \"",
                "x",
                false,
                "MY_KEY",
            ),
            (
                Family::JavaScript,
                "k = process.env.MY_KEY ?? \"",
                "x",
                false,
                "MY_KEY",
            ),
            (
                Family::JavaScript,
                "h(process.env.A, \"",
                "openai-admin-key",
                false,
                "OPENAI_ADMIN_KEY",
            ),
            (
                Family::Compose,
                "      - OPENAI_API_KEY=",
                "x",
                false,
                "OPENAI_API_KEY",
            ),
            (
                Family::Other,
                "  \"OPENAI_KEY\": \"",
                "x",
                false,
                "OPENAI_KEY",
            ),
            (
                Family::Python,
                "acme_key = '",
                "generic-sk-key",
                true,
                "ACME_KEY",
            ),
            (
                Family::Python,
                "print('",
                "openai-project-key",
                false,
                "OPENAI_API_KEY",
            ),
        ];
        for (family, before, rule, generic, expected) in cases {
            let content = format!("{before}SECRET\"");
            let start = before.len();
            assert_eq!(
                variable_name(family, &content, start, &vars, rule, generic),
                expected,
                "{before}"
            );
        }
    }

    #[test]
    fn edits_apply_once_from_the_end() {
        let edit = |start, end, text: &str| Edit {
            start,
            end,
            text: text.to_string(),
        };
        let edits = [
            edit(4, 5, "X"),
            edit(0, 0, "import os\n"),
            edit(0, 0, "import os\n"),
        ];
        assert_eq!(apply_edits("a = b\n", &edits), "import os\na = X\n");
    }
}
