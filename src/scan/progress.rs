//! Progress on long scans (commits of a range or push, files of a tree or directory): one line
//! on stderr, redrawn in place. Shown only when stderr is a terminal, never with `-q`, and only
//! once a scan has run for a while, as git does, so a quick scan prints nothing and pays only a
//! clock read per item. It names counts, never a path or any content.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

use crate::error::{Error, Result};

/// Seconds before progress appears; git's `GIT_PROGRESS_DELAY` works the same way and also
/// defaults to 2 (git's progress.c, `start_delayed_progress`). 0 shows it at once.
pub(crate) const DELAY_VARIABLE: &str = "TOKENGUARD_PROGRESS_DELAY";
const DEFAULT_DELAY: Duration = Duration::from_secs(2);

/// What is being counted.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Work {
    /// Commits, whose number is known before the first one is read.
    Commits(u64),
    /// Files, whose number is known only at the end.
    Files,
}

/// A progress line that may never appear: inert until its delay has passed.
pub(crate) struct Progress {
    work: Work,
    /// `None` when progress is off (not a terminal, `-q`, a hook's quiet path).
    delay: Option<Duration>,
    started: Instant,
    done: u64,
    bytes: Arc<AtomicU64>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Progress for `work`, if `wanted` and stderr is a terminal that can redraw a line.
    pub(crate) fn new(work: Work, wanted: bool) -> Result<Progress> {
        let delay = if wanted {
            Some(delay_from_env()?)
        } else {
            None
        };
        let terminal = std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_none_or(|term| term != "dumb");
        Ok(Progress {
            work,
            delay: delay.filter(|_| terminal),
            started: Instant::now(),
            done: 0,
            bytes: Arc::new(AtomicU64::new(0)),
            bar: None,
        })
    }

    /// One more commit or file done, of `bytes` bytes.
    pub(crate) fn step(&mut self, bytes: u64) {
        self.advance(1, bytes);
    }

    /// `count` more commits or files done, of `bytes` bytes in all.
    pub(crate) fn advance(&mut self, count: u64, bytes: u64) {
        let Some(delay) = self.delay else {
            return;
        };
        self.done += count;
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        match &self.bar {
            Some(bar) => bar.inc(count),
            None if self.started.elapsed() >= delay => self.bar = Some(self.show()),
            None => {}
        }
    }

    fn show(&self) -> ProgressBar {
        let (bar, template) = match self.work {
            Work::Commits(total) => (
                ProgressBar::new(total),
                "tokenguard: scanning commits [{bar:30}] {pos}/{len} ({bytes_scanned}), {elapsed}",
            ),
            Work::Files => (
                ProgressBar::no_length(),
                "tokenguard: scanning files {spinner} {pos} files ({bytes_scanned}), {elapsed}",
            ),
        };
        let bytes = Arc::clone(&self.bytes);
        let style = ProgressStyle::with_template(template)
            .expect("the progress templates are valid")
            .progress_chars("=> ")
            .tick_chars("|/-\\ ")
            .with_key(
                "bytes_scanned",
                move |_: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                    let _ = write!(out, "{}", HumanBytes(bytes.load(Ordering::Relaxed)));
                },
            );
        let bar = bar
            .with_style(style)
            .with_position(self.done)
            .with_elapsed(self.started.elapsed())
            // Cleared when dropped, also on an error path, so nothing is left above the
            // report or the error line.
            .with_finish(ProgressFinish::AndClear);
        bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        // Keeps the clock moving while one big commit or file takes its time.
        // Drawn at once (before the steady tick, which makes `tick` a no-op): a range scan
        // steps a whole batch of commits at a time.
        bar.tick();
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }

    /// Clears the line before the report is written.
    pub(crate) fn finish(self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `TOKENGUARD_PROGRESS_DELAY`: seconds (a non-negative number); unset or empty: the default.
fn delay_from_env() -> Result<Duration> {
    parse_delay(std::env::var_os(DELAY_VARIABLE).as_deref()).ok_or_else(|| {
        let value = std::env::var_os(DELAY_VARIABLE).unwrap_or_default();
        Error::BadVariable {
            variable: DELAY_VARIABLE,
            expected: "a number of seconds",
            value: value.to_string_lossy().into_owned(),
        }
    })
}

fn parse_delay(value: Option<&std::ffi::OsStr>) -> Option<Duration> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Some(DEFAULT_DELAY);
    };
    value
        .to_str()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0 && *seconds < 1e9)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_is_seconds_and_defaults_to_gits_two() {
        let cases: [(Option<&str>, Option<Duration>); 8] = [
            (None, Some(Duration::from_secs(2))),
            (Some(""), Some(Duration::from_secs(2))),
            (Some("0"), Some(Duration::ZERO)),
            (Some(" 0.5 "), Some(Duration::from_millis(500))),
            (Some("10"), Some(Duration::from_secs(10))),
            (Some("-1"), None),
            (Some("inf"), None),
            (Some("soon"), None),
        ];
        for (value, expected) in cases {
            let value = value.map(std::ffi::OsStr::new);
            assert_eq!(parse_delay(value), expected, "{value:?}");
        }
    }

    #[test]
    fn progress_that_is_not_wanted_never_draws() {
        let mut progress = Progress::new(Work::Commits(3), false).unwrap();
        for _ in 0..3 {
            progress.step(10);
        }
        assert!(progress.bar.is_none());
        assert_eq!(progress.done, 0);
        progress.finish();
    }
}
