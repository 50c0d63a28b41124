//! `tokenguard config`: the merged settings and where each came from.

use super::{repository_root, settings_for};
use crate::cli::{ConfigArgs, Format};
use crate::config::ConfigOptions;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::report;

pub(super) fn run(args: &ConfigArgs, options: &ConfigOptions) -> Result<ExitStatus> {
    let root = repository_root();
    let settings = settings_for(options, root.as_deref())?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Human => report::config::write_human(&mut stdout, &settings, root.as_deref())?,
        Format::Json => report::config::write_json(&mut stdout, &settings)?,
    }
    Ok(ExitStatus::Clean)
}
