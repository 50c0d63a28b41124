//! The last step of planning a fix: every text the report will print (diffs with their
//! context lines, `.env` lines, reasons, notes, paths) redacted by the one redactor, with the
//! fix's own secrets known to it and whatever else a rule matches.

use crate::detect::Scanner;
use crate::redact::Redactor;
use crate::report::fix::FixReport;

/// Every text the report prints with each secret of this fix, and whatever else a rule
/// matches (a baselined, allowed or committed token in a diff's context), redacted.
pub(super) fn redact_report(report: &mut FixReport, scanner: &Scanner, secrets: &[&[u8]]) {
    let redactor =
        Redactor::new(scanner).with_known(secrets.iter().copied().filter(|s| !s.is_empty()));
    let redact_text = |text: &mut String| *text = redactor.redact(text);
    for file in &mut report.files {
        redact_text(&mut file.path);
        redact_text(&mut file.diff);
        file.notes.iter_mut().for_each(redact_text);
    }
    for env in &mut report.env_files {
        env.lines.iter_mut().for_each(redact_text);
    }
    for step in &mut report.manual {
        redact_text(&mut step.location);
        redact_text(&mut step.reason);
        step.kept.iter_mut().for_each(redact_text);
    }
}
