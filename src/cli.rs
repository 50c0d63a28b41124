//! Command-line interface: one clap-derive definition, nothing else.

use std::ffi::OsString;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  tokenguard install                      install the pre-commit hook in this repository
  tokenguard scan-staged                  what the pre-commit hook runs
  tokenguard scan-range origin/main..HEAD scan what a branch adds, commit by commit
  tokenguard scan-tree --format sarif     every file of HEAD, for a code-scanning upload
  tokenguard rules                        the built-in rules

Exit status: 0 nothing found, 1 findings (the commit or push is blocked), 2 error (also blocks).";

/// Blocks API tokens of ML platforms (Replicate, Baseten, Hugging Face, OpenAI, Anthropic, ...)
/// before they enter git history.
#[derive(Debug, Parser)]
#[command(name = "tokenguard", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// When to colour the report. NO_COLOR turns colour off and CLICOLOR_FORCE on for `auto`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    /// Use this config file instead of the repository's .tokenguard.toml (also:
    /// TOKENGUARD_CONFIG); the user config still applies below it.
    #[arg(long, value_name = "PATH", global = true, conflicts_with = "no_config")]
    pub config: Option<std::path::PathBuf>,

    /// Ignore every config file and the ignore file: built-in rules only (shows what a
    /// repository's configuration hides).
    #[arg(long, global = true)]
    pub no_config: bool,

    /// Fail (exit 2, commit blocked) if the command runs longer than this many seconds.
    #[arg(long, value_name = "SECS", global = true)]
    pub timeout: Option<f64>,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process's arguments, with `scan-range`'s rev-list options set apart first
    /// (see [`scan_range_argv`]).
    pub fn parse_args() -> Cli {
        let args: Vec<OsString> = std::env::args_os().collect();
        if let [_, command] = args.as_slice()
            && command == "scan-staged"
        {
            return Cli::hook();
        }
        Cli::try_parse_from(scan_range_argv(args)).unwrap_or_else(|err| exit_on(&err))
    }

    /// `tokenguard scan-staged` and nothing else, as the pre-commit hook runs it: clap's
    /// command is not built for it (a sixth of a small commit's start-up). A test checks that
    /// this is what clap makes of those arguments.
    fn hook() -> Cli {
        Cli {
            color: ColorChoice::Auto,
            config: None,
            no_config: false,
            timeout: None,
            command: Command::ScanStaged {
                paths: Vec::new(),
                output: ScanArgs {
                    format: ScanFormat::Human,
                    quiet: false,
                    verbose: false,
                    exit_zero: false,
                    verify: false,
                    verify_timeout: 5.0,
                    outputs: Vec::new(),
                },
            },
        }
    }
}

/// Ends the process on an argument error the way clap does, except that an argument holding
/// a secret (a token pasted in the wrong place) is never echoed: the message then goes
/// through the redactor, without colour.
fn exit_on(err: &clap::Error) -> ! {
    if !err.use_stderr() {
        err.exit();
    }
    let plain = err.render().to_string();
    let redacted = crate::redact::typed(&plain);
    if redacted == plain {
        err.exit();
    }
    let _ = std::io::Write::write_all(&mut std::io::stderr(), redacted.as_bytes());
    std::process::exit(err.exit_code());
}

/// `scan-range` takes git rev-list's options (`--all`, `--since=...`, `-n 5`) among its own
/// flags, in any order; clap would hand everything after the first revision to the
/// revisions, so tokenguard's own flags (and their values) are moved before a `--` and every
/// other argument after it. Any other command's arguments are returned unchanged.
pub fn scan_range_argv(args: Vec<OsString>) -> Vec<OsString> {
    // Building clap's command twice costs a small commit's hook a tenth of its start-up.
    if !args.iter().skip(1).any(|arg| arg == "scan-range") {
        return args;
    }
    let mut command = Cli::command();
    command.build();
    let Some(position) = subcommand_position(&args, &command) else {
        return args;
    };
    if args[position] != "scan-range" {
        return args;
    }
    let Some(range) = command.find_subcommand("scan-range") else {
        return args;
    };
    let (mut ours, mut revs) = (Vec::new(), Vec::new());
    let mut rest = args[position + 1..].iter();
    while let Some(arg) = rest.next() {
        match own_flag(arg, range) {
            Some(takes_value) => {
                ours.push(arg.clone());
                if takes_value {
                    ours.extend(rest.next().cloned());
                }
            }
            None => revs.push(arg.clone()),
        }
    }
    let mut out = args[..=position].to_vec();
    out.extend(ours);
    out.push("--".into());
    out.extend(revs);
    out
}

/// Where the subcommand's name is: the first argument that is neither a global flag nor the
/// value of one.
fn subcommand_position(args: &[OsString], command: &clap::Command) -> Option<usize> {
    let mut index = 1;
    while let Some(arg) = args.get(index) {
        match own_flag(arg, command) {
            Some(true) => index += 2,
            Some(false) => index += 1,
            None => return Some(index),
        }
    }
    None
}

/// Whether `arg` is one of `command`'s flags: `Some(true)` when its value is the next
/// argument, `Some(false)` when it needs none (or carries it after `=`), `None` otherwise.
fn own_flag(arg: &OsString, command: &clap::Command) -> Option<bool> {
    let text = arg.to_str()?;
    let takes_value = |a: &clap::Arg| a.get_num_args().is_some_and(|n| n.takes_values());
    if let Some(long) = text.strip_prefix("--") {
        let (name, inline_value) = match long.split_once('=') {
            Some((name, _)) => (name, true),
            None => (long, false),
        };
        let flag = command.get_arguments().find(|a| {
            a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|x| x.contains(&name))
        })?;
        return Some(takes_value(flag) && !inline_value);
    }
    // A cluster of our short switches (`-v`, `-qv`); `-n5` or `-n` belongs to rev-list.
    let shorts = text.strip_prefix('-').filter(|s| !s.is_empty())?;
    let all_ours = shorts.chars().all(|c| {
        command
            .get_arguments()
            .any(|a| a.get_short() == Some(c) && !takes_value(a))
    });
    all_ours.then_some(false)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan what the commit being made would add (the index against HEAD); the pre-commit hook.
    ///
    /// Under the pre-commit framework with nothing staged (`pre-commit run --all-files`), or
    /// when PATHS are given and nothing is staged, the named files (default: every tracked file)
    /// are scanned whole instead; PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF scan that range.
    #[command(after_help = "Example:\n  git add .env && tokenguard scan-staged --format json")]
    ScanStaged {
        /// Files to scan whole when nothing is staged.
        paths: Vec<std::path::PathBuf>,
        #[command(flatten)]
        output: ScanArgs,
    },
    /// Scan files whole: the staged version of tracked paths, the file on disk otherwise.
    #[command(after_help = "Example:\n  tokenguard scan-files config/ .env.production")]
    ScanFiles {
        /// Files or directories (default: every tracked file).
        paths: Vec<std::path::PathBuf>,
        #[command(flatten)]
        output: ScanArgs,
    },
    /// Scan every file of a tree, whole (default: HEAD).
    #[command(
        after_help = "Example:\n  tokenguard scan-tree v1.2.0 --format sarif > tokenguard.sarif"
    )]
    ScanTree {
        #[arg(default_value = "HEAD")]
        rev: String,
        #[command(flatten)]
        output: ScanArgs,
    },
    /// Scan the lines each commit of a range adds, the commits selected as `git rev-list`
    /// selects them (`A..B`, `A...B`, `--all`, `--since=...`, `^X`, several revisions; a single
    /// revision: its whole history).
    ///
    /// In a shallow clone, a commit whose parents were not fetched has its whole tree scanned
    /// as a baseline, and its findings say so: fetch the full history to see what each commit
    /// adds.
    #[command(
        after_help = "Examples:\n  tokenguard scan-range origin/main..HEAD\n  tokenguard scan-range main...feature\n  tokenguard scan-range --all --since=2.weeks\n  tokenguard scan-range HEAD ^v1.0 --format json"
    )]
    ScanRange {
        /// Revisions and rev-list options selecting the commits.
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true, value_name = "REVS")]
        range: Vec<String>,
        #[command(flatten)]
        output: ScanArgs,
    },
    /// Scan what a push would add; reads git's pre-push (or a server's pre-receive) input.
    #[command(
        after_help = "Examples:\n  .git/hooks/pre-push:   exec tokenguard scan-push \"$@\"\n  hooks/pre-receive:     exec tokenguard scan-push"
    )]
    ScanPush {
        /// The remote's name, as git passes it to pre-push.
        remote: Option<String>,
        /// The remote's URL, as git passes it to pre-push.
        url: Option<String>,
        #[command(flatten)]
        output: ScanArgs,
    },
    /// Scan a commit message file: the commit-msg hook (git passes the file).
    #[command(
        after_help = "Example:\n  .git/hooks/commit-msg:   exec tokenguard scan-message \"$1\""
    )]
    ScanMessage {
        /// The file holding the message (git passes .git/COMMIT_EDITMSG).
        file: std::path::PathBuf,
        #[command(flatten)]
        output: ScanArgs,
    },
    /// Install the hook shim into this repository (or, with --global, for every repository).
    #[command(
        after_help = "Examples:\n  tokenguard install\n  tokenguard install --hook pre-push\n  tokenguard install --global"
    )]
    Install(InstallArgs),
    /// Remove exactly what `install` added, restoring a hook it chained.
    Uninstall(InstallArgs),
    /// List the rules, or check a rules file (`rules check`).
    Rules(RulesArgs),
    /// Print the effective configuration: every layer and where each value came from.
    Config(ConfigArgs),
    /// Add a finding's fingerprint to .tokenguardignore, with the reason it is not a secret.
    Ignore(IgnoreArgs),
    /// Adopt tokenguard on an existing repository: record every finding `scan-tree` reports
    /// today in .tokenguardignore, so that CI passes on today's tree and anything new blocks.
    #[command(
        after_help = "Example:\n  tokenguard baseline --reason \"fixtures and revoked demo tokens, reviewed\" --verify"
    )]
    Baseline(BaselineArgs),
    /// Move over from gitleaks or detect-secrets: what .gitleaks.toml, .gitleaksignore and
    /// .secrets.baseline allow becomes .tokenguard.toml and .tokenguardignore entries, each
    /// through the same guards as one written by hand.
    #[command(
        after_help = "Examples:\n  tokenguard import --dry-run   the summary only: taken, translated, left out\n  tokenguard import             write the entries"
    )]
    Import(ImportArgs),
    /// Print a shell completion script, generated from this command line.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    #[command(after_help = MAN_HELP)]
    Man {
        /// Write tokenguard.1 and a tokenguard-COMMAND.1 page per command into DIR instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
    /// Replace each staged secret with a read of an environment variable and move the value
    /// to an ignored .env (a preview; --apply writes).
    #[command(
        after_help = "Examples:\n  tokenguard fix                 preview the fix of what is staged\n  tokenguard fix --apply         write it (re-stages files whose working tree equalled the index)\n  tokenguard fix app.py --apply  fix the named files as they are on disk"
    )]
    Fix(FixArgs),
    /// Everything about a rule, or a staged finding named by its fingerprint: the provider's
    /// whole rotation checklist and every way to allow a false positive.
    #[command(
        after_help = "Examples:\n  tokenguard explain replicate-api-token\n  tokenguard explain 0f3c...   (a fingerprint a report printed)"
    )]
    Explain(ExplainArgs),
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A rule id (`tokenguard rules`) or a fingerprint (32 hex digits).
    #[arg(value_name = "RULE|FINGERPRINT")]
    pub what: String,
}

#[derive(Debug, clap::Args)]
pub struct FixArgs {
    /// Files or directories to fix as they are on disk (default: what is staged).
    pub paths: Vec<std::path::PathBuf>,
    /// Write the fix: the files, .env (mode 0600) and .gitignore, and update the index.
    #[arg(long)]
    pub apply: bool,
    /// When .env already holds another value under the variable's name, put the new one in
    /// its place (the old line stays in the file as a comment).
    #[arg(long)]
    pub replace_env: bool,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Print what would be imported and why, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    /// The tree whose findings are recorded.
    #[arg(default_value = "HEAD")]
    pub rev: String,
    /// Why today's findings are accepted; kept beside each fingerprint.
    #[arg(long)]
    pub reason: String,
    /// Ask each provider first, and record nothing if any token is live (see scan --verify).
    #[arg(long)]
    pub verify: bool,
    /// Seconds one live check may take.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub verify_timeout: f64,
}

const COMPLETIONS_HELP: &str = "\
Install (the directory each shell loads completions from; mkdir -p it first):
  tokenguard completions bash > ~/.local/share/bash-completion/completions/tokenguard
  tokenguard completions zsh  > ~/.zfunc/_tokenguard   # with fpath+=(~/.zfunc) before compinit
  tokenguard completions fish > ~/.config/fish/completions/tokenguard.fish";

const MAN_HELP: &str = "\
Examples:
  tokenguard man | man -l -
  mkdir -p ~/.local/share/man/man1 && tokenguard man > ~/.local/share/man/man1/tokenguard.1
  tokenguard man --dir ~/.local/share/man/man1   # creates the directory";

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct IgnoreArgs {
    /// The fingerprint a report printed (32 hex digits).
    pub fingerprint: String,
    /// Why this is not a secret; kept as a comment beside the fingerprint.
    #[arg(long)]
    pub reason: String,
}

/// Output switches shared by every scan.
#[derive(Debug, Clone, clap::Args)]
pub struct ScanArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Human)]
    pub format: ScanFormat,
    /// Print only the findings (human format).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also list every skipped file and why (human format).
    #[arg(short, long)]
    pub verbose: bool,
    /// Exit 0 even with findings (for a CI job that only collects a report).
    #[arg(long)]
    pub exit_zero: bool,
    /// Ask each provider whether a found token is live. Sends the token to the provider's own
    /// API over HTTPS (see the README); off by default, and a repository's config cannot turn
    /// it on.
    #[arg(long)]
    pub verify: bool,
    /// Seconds one live check may take.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub verify_timeout: f64,
    /// Write the report to FILE (atomically) and the human report to the terminal. FORMAT:
    /// human, json or sarif; without it, --format when that is json or sarif, else from the
    /// file's name (.json, .sarif). Repeat for several files.
    #[arg(long = "output", value_name = "[FORMAT:]FILE")]
    pub outputs: Vec<OutputTarget>,
}

/// One `--output`: a report file and, when its `FORMAT:` prefix names one, its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputTarget {
    pub format: Option<ScanFormat>,
    pub path: std::path::PathBuf,
}

impl std::str::FromStr for OutputTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<OutputTarget, String> {
        let prefixed = text.split_once(':').and_then(|(name, path)| {
            let format = ScanFormat::from_str(name, true).ok()?;
            Some((Some(format), path))
        });
        let (format, path) = prefixed.unwrap_or((None, text));
        if path.is_empty() {
            return Err("a file name is needed (--output [FORMAT:]FILE)".to_string());
        }
        Ok(OutputTarget {
            format,
            path: path.into(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Human,
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// Which hook to install.
    /// One hook only; without it: pre-commit, commit-msg and pre-push.
    #[arg(long, value_enum)]
    pub hook: Option<HookKind>,
    /// For every repository of this user: the global core.hooksPath if one is set, else git's
    /// template directory (init.templateDir), used by `git init` and `git clone`.
    #[arg(long)]
    pub global: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookKind {
    PreCommit,
    CommitMsg,
    PrePush,
}

impl HookKind {
    pub fn file_name(self) -> &'static str {
        match self {
            HookKind::PreCommit => "pre-commit",
            HookKind::CommitMsg => "commit-msg",
            HookKind::PrePush => "pre-push",
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub action: Option<RulesAction>,

    /// Output format of the listing.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// Validate a rules file and run every rule's examples through the scanner; each problem
    /// is reported with its rule id (exit 1 when there are problems).
    Check {
        /// A rules file in the schema of config/rules.toml (default: the built-in rules);
        /// the configuration's custom rules (see --config) are checked on top of it.
        #[arg(long, value_name = "FILE")]
        rules: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
    /// The provider table of the README.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(text: &str) -> Vec<OsString> {
        text.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn the_hooks_arguments_parse_as_clap_parses_them() {
        let by_clap = Cli::try_parse_from(argv("tokenguard scan-staged")).unwrap();
        assert_eq!(format!("{:?}", Cli::hook()), format!("{by_clap:?}"));
    }

    #[test]
    fn scan_range_flags_and_rev_list_options_in_any_order() {
        let cases = [
            (
                "tg scan-range --all --format json",
                "tg scan-range --format json -- --all",
            ),
            (
                "tg --color never scan-range a...b -v --since=2.weeks --format=sarif",
                "tg --color never scan-range -v --format=sarif -- a...b --since=2.weeks",
            ),
            (
                "tg scan-range HEAD -n 5 ^v1 -q --exit-zero",
                "tg scan-range -q --exit-zero -- HEAD -n 5 ^v1",
            ),
            ("tg scan-staged -v", "tg scan-staged -v"),
            (
                "tg --config scan-range scan-tree",
                "tg --config scan-range scan-tree",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(scan_range_argv(argv(input)), argv(expected), "{input}");
        }
        let cli = Cli::parse_from(scan_range_argv(argv(
            "tg scan-range main...x --format json",
        )));
        let Command::ScanRange { range, output } = cli.command else {
            panic!("not scan-range");
        };
        assert_eq!(range, ["main...x"]);
        assert_eq!(output.format, ScanFormat::Json);
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
