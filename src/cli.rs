//! Command-line interface: one clap-derive definition, nothing else.

use clap::{Parser, Subcommand, ValueEnum};

/// Blocks API tokens of ML platforms (Replicate, Baseten, ...) before they enter git history.
#[derive(Debug, Parser)]
#[command(name = "tokenguard", version, about)]
pub struct Cli {
    /// When to colour the report (NO_COLOR in the environment also turns colour off).
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

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan what the commit being made would add (the index against HEAD); the pre-commit hook.
    ScanStaged(ScanArgs),
    /// List the rules, or check a rules file (`rules check`).
    Rules(RulesArgs),
    /// Print the effective configuration: every layer and where each value came from.
    Config(ConfigArgs),
    /// Add a finding's fingerprint to .tokenguardignore, with the reason it is not a secret.
    Ignore(IgnoreArgs),
}

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

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
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
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
