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
    let view = report::config::ConfigView {
        rules: settings.rules.len(),
        providers: settings.rules.providers.len(),
        layers: &settings.layers,
        scan: &settings.scan,
        sources: &settings.sources,
    };
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Human => report::config::write_human(&mut stdout, &view, root.as_deref())?,
        Format::Json => report::config::write_json(&mut stdout, &view)?,
    }
    Ok(ExitStatus::Clean)
}
