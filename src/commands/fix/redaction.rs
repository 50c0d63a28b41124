//! The last step of planning a fix: every text the report will print (diffs with their
//! context lines, `.env` lines, reasons, notes, paths) redacted, with the fix's own secrets
//! and with whatever else a rule matches. The one place the fix calls the scanner's
//! redaction.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::detect::Scanner;
use crate::finding::redact;
use crate::report::fix::FixReport;

/// Every text the report prints with each secret of this fix, and whatever else a rule
/// matches (a baselined, allowed or committed token in a diff's context), redacted.
pub(super) fn redact_report(report: &mut FixReport, scanner: &Scanner, secrets: &[&[u8]]) {
    let known: Vec<&[u8]> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    let searcher = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&known)
        .ok();
    let redact_text = |text: &mut String| {
        if let Some(searcher) = &searcher {
            let mut out = String::with_capacity(text.len());
            let mut at = 0;
            for m in searcher.find_iter(text.as_bytes()) {
                out.push_str(&text[at..m.start()]);
                out.push_str(&redact(known[m.pattern().as_usize()]));
                at = m.end();
            }
            out.push_str(&text[at..]);
            *text = out;
        }
        *text = scanner.redact_text(text);
    };
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
