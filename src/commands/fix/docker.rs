//! Dockerfiles: a secret in a `RUN` command is read from a build secret mounted as an
//! environment variable for that one command (`RUN --mount=type=secret,id=X,env=X`, Dockerfile
//! syntax 1.10+, see <https://docs.docker.com/build/building/secrets/>), so it never lands in a
//! layer. `ENV` and `ARG` values are stored in the image and its history: that is advice, not
//! an edit.

use super::code;
use super::literal::{Place, Syntax};
use super::plan::{Edit, line_bounds};
use super::tokens;

/// The edits for a secret at `start..end` of a Dockerfile, and the note to print beside them.
/// `heredoc`: the secret is in the body of a heredoc (`Some(quoted)`).
pub(super) fn rewrite(
    content: &str,
    start: usize,
    end: usize,
    var: &str,
    heredoc: Option<bool>,
) -> Result<(Vec<Edit>, Option<String>), String> {
    if heredoc.is_some() {
        return Err(format!(
            "it is in a heredoc (RUN <<EOT ... EOT): Docker expands ${{...}} in an unquoted one \
             at build time, before a build secret is mounted, and a quoted one is passed on as \
             it is; remove the value by hand and read it from a build secret \
             (RUN --mount=type=secret,id={var},env={var} <<'EOT', then \"${{{var}}}\" in the script)"
        ));
    }
    let instruction_start = instruction_start(content, start);
    let instruction = &content[instruction_start..];
    let keyword: String = instruction
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    let build = format!("docker build --secret id={var},env={var} ...");
    match keyword.as_str() {
        "RUN" => {}
        "ENV" | "ARG" => {
            return Err(format!(
                "an {keyword} value is stored in the image and its history: remove it, and read \
                 the value from a build secret in the RUN command that needs it \
                 (RUN --mount=type=secret,id={var},env={var} ..., built with `{build}`), or pass \
                 it when the container runs (docker run --env-file .env)"
            ));
        }
        _ => {
            return Err(format!(
                "it is in a {keyword} instruction: remove it by hand, and pass the value at build \
                 time as a secret (`{build}`) or at run time (docker run --env-file .env)"
            ));
        }
    }
    let indent = instruction.len() - instruction.trim_start().len();
    let after_run = instruction_start + indent + 3;
    let rest = content[after_run..].trim_start();
    if rest.starts_with('[') {
        return Err(
            "the RUN instruction is in exec form (a JSON array), where no shell expands a \
             variable: rewrite it in shell form by hand"
                .to_string(),
        );
    }
    // The command is shell: read it alone, from just after RUN to the end of the line.
    let (_, line_end) = line_bounds(content, start);
    let command = &content[after_run..line_end];
    let place = tokens::places(
        command,
        Syntax::Shell,
        &[(start - after_run, end - after_run)],
    )
    .remove(0)
    .map(|place| match place {
        Place::Literal(lit) => Place::Literal(lit.shifted(after_run)),
        other => other,
    });
    let mut edits = code::rewrite_at(content, start, end, var, Syntax::Shell, place)?;
    let mount = format!("--mount=type=secret,id={var},env={var}");
    if !content[instruction_start..line_end].contains(&mount) {
        edits.push(Edit {
            start: after_run,
            end: after_run,
            text: format!(" {mount}"),
        });
    }
    Ok((
        edits,
        Some(format!(
            "build with the value as a secret: {build} (needs BuildKit, Dockerfile syntax 1.10 or later)"
        )),
    ))
}

/// Where the instruction holding byte `at` starts: lines ending in a backslash continue.
fn instruction_start(content: &str, at: usize) -> usize {
    let (mut start, _) = line_bounds(content, at);
    while start > 0 {
        let (previous, _) = line_bounds(content, start - 1);
        if content[previous..start - 1].trim_end().ends_with('\\') {
            start = previous;
        } else {
            break;
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::fix::plan::apply_edits;

    fn fixed(content: &str) -> Result<String, String> {
        let start = content.find("SECRET").unwrap();
        let (edits, _) = rewrite(content, start, start + 6, "TOKEN", None)?;
        Ok(apply_edits(content, &edits))
    }

    #[test]
    fn run_reads_a_mounted_build_secret() {
        assert_eq!(
            fixed("FROM alpine\nRUN curl -H \"Authorization: Bearer SECRET\" https://x\n").unwrap(),
            "FROM alpine\nRUN --mount=type=secret,id=TOKEN,env=TOKEN curl -H \"Authorization: Bearer ${TOKEN}\" https://x\n"
        );
        assert_eq!(
            fixed("RUN apk add curl && \\\n    curl -u SECRET: https://x\n").unwrap(),
            "RUN --mount=type=secret,id=TOKEN,env=TOKEN apk add curl && \\\n    curl -u \"${TOKEN}\": https://x\n"
        );
    }

    #[test]
    fn env_arg_and_exec_form_are_manual() {
        for content in [
            "ENV TOKEN=SECRET\n",
            "ARG TOKEN=SECRET\n",
            "RUN [\"curl\", \"-u\", \"SECRET\"]\n",
            "LABEL t=SECRET\n",
        ] {
            assert!(fixed(content).is_err(), "{content}");
        }
    }
}
