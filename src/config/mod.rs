//! Configuration: the layers a user writes (user config, repository config, `--config`) and the
//! ignore file, parsed strictly and merged with the built-in rules into one [`Settings`](crate::config::Settings) before
//! any scan starts: the rule set, the policy (disabled rules, allowlists and ignored
//! fingerprints, compiled into `detect::policy`, which applies it) and the scan options.
//!
//! This stage reads only configuration files; it never reads a repository's content, never
//! matches a token and never prints.

/// Allowlists judged by what they match: generated tokens, lines and paths.
pub mod guard;
mod guard_cache;
mod ignore;
mod layers;
mod settings;

pub use ignore::{
    IGNORE_FILE, ignore_file_for_append, is_fingerprint, parse_ignore_file, read_ignore_file,
};
pub use layers::{
    ConfigOptions, Layer, LayerKind, REPO_CONFIG, line_column, load_layers, settings_from_text,
};
pub use settings::{ScanSettings, SensitiveMatcher, Settings, Sourced};
