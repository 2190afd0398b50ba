//! The progress bar every long command shows on stderr: hidden for the first second, so short
//! runs stay quiet, then drawn with an ETA.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: AtomicBool,
}

impl Progress {
    /// A bar of `total` units; `what` names them ("cell-hours", "runs").
    pub fn new(verb: &str, what: &str, total: u64) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {verb} {{pos}}/{{len}} {what} [{{bar:30}}] {{elapsed}} (eta {{eta}})"
            ))
            .expect("valid template")
            .progress_chars("=> "),
        );
        Progress {
            bar,
            started: Instant::now(),
            shown: AtomicBool::new(false),
        }
    }

    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
        if !self.shown.load(Ordering::Relaxed) && self.started.elapsed() > Duration::from_secs(1) {
            self.shown.store(true, Ordering::Relaxed);
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Sets the count done and the total, for a job whose total is known as it goes.
    pub fn set(&self, done: u64, total: u64) {
        self.bar.set_length(total.max(done));
        self.bar.set_position(done);
        self.inc(0);
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
