//! Command-line interface: one clap-derive definition, nothing else.

use clap::{Parser, Subcommand, ValueEnum};

/// Blocks API tokens of ML platforms (Replicate, Baseten, ...) before they enter git history.
#[derive(Debug, Parser)]
#[command(name = "tokenguard", version, about)]
pub struct Cli {
    /// When to colour the report (NO_COLOR in the environment also turns colour off).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan what the commit being made would add (the index against HEAD); the pre-commit hook.
    ScanStaged(ScanArgs),
    /// List the rules, or check a rules file (`rules check`).
    Rules(RulesArgs),
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
        /// A rules file in the schema of config/rules.toml (default: the built-in rules).
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
