//! `tokenguard config`: the effective configuration and where each value came from.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::config::{LayerKind, ScanSettings, Sourced};

/// The merged configuration as `tokenguard config` shows it: plain data, no compiled rule.
#[derive(Debug, Clone, Copy)]
pub struct ConfigView<'a> {
    /// Rules in the catalog, built-in and custom.
    pub rules: usize,
    /// Providers the catalog defines.
    pub providers: usize,
    /// The layers, lowest first.
    pub layers: &'a [(LayerKind, std::path::PathBuf)],
    pub scan: &'a ScanSettings,
    /// Each merged entry with its origin, keyed by setting name.
    pub sources: &'a std::collections::BTreeMap<String, Vec<Sourced>>,
}

pub fn write_human(
    out: &mut impl Write,
    settings: &ConfigView<'_>,
    root: Option<&Path>,
) -> std::io::Result<()> {
    writeln!(out, "layers, lowest first:")?;
    writeln!(
        out,
        "  built-in     config/rules.toml ({} rules, {} providers)",
        settings.rules, settings.providers
    )?;
    for (kind, path) in settings.layers {
        let kind = serde_json::to_value(kind).unwrap_or_default();
        writeln!(
            out,
            "  {:12} {}",
            kind.as_str().unwrap_or(""),
            path.display()
        )?;
    }
    if settings.layers.is_empty() {
        writeln!(out, "  (no config file: none found, or --no-config)")?;
    }
    if let Some(root) = root {
        writeln!(out, "repository: {}", root.display())?;
    }
    writeln!(out, "scan:")?;
    let scan = [
        (
            "scan.max_file_size",
            settings
                .scan
                .max_file_size
                .map_or("none (no limit)".to_string(), |b| format!("{b} bytes")),
        ),
        ("scan.scan_binary", settings.scan.scan_binary.to_string()),
        (
            "scan.block_sensitive_files",
            settings.scan.block_sensitive_files.to_string(),
        ),
        ("scan.verify", settings.scan.verify.to_string()),
        (
            "scan.timeout",
            settings
                .scan
                .timeout
                .map_or("none (no limit)".to_string(), |s| format!("{s} s")),
        ),
    ];
    for (key, value) in scan {
        let origin = settings
            .sources
            .get(key)
            .and_then(|v| v.last())
            .map_or("default".to_string(), |s| s.origin.clone());
        writeln!(out, "  {key} = {value}  ({origin})")?;
    }
    for (key, entries) in settings.sources {
        if key.starts_with("scan.") {
            continue;
        }
        writeln!(out, "{key}:")?;
        for Sourced { value, origin } in entries {
            writeln!(out, "  {value}  ({origin})")?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Document<'a> {
    layers: Vec<serde_json::Value>,
    rules: usize,
    scan: &'a ScanSettings,
    sources: &'a std::collections::BTreeMap<String, Vec<Sourced>>,
}

pub fn write_json(out: &mut impl Write, settings: &ConfigView<'_>) -> std::io::Result<()> {
    let layers = settings
        .layers
        .iter()
        .map(|(kind, path)| serde_json::json!({"kind": kind, "path": path.display().to_string()}))
        .collect();
    let document = Document {
        layers,
        rules: settings.rules,
        scan: settings.scan,
        sources: settings.sources,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}
