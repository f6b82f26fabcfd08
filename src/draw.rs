//! Draws what the library reports: progress bars on a terminal, plain lines otherwise.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use kafkup::report::Reporter;
use std::collections::HashMap;
use std::sync::Mutex;

pub struct TerminalReporter {
    bars: Option<MultiProgress>,
    quiet: bool,
    active: Mutex<HashMap<String, ProgressBar>>,
}

impl TerminalReporter {
    pub fn new(progress_bars: bool, quiet: bool) -> Self {
        TerminalReporter {
            bars: progress_bars
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            quiet,
            active: Mutex::new(HashMap::new()),
        }
    }

    /// Removes any bar left on screen before an error is printed.
    pub fn clear(&self) {
        if let Some(bars) = &self.bars {
            let _ = bars.clear();
        }
    }

    fn line(&self, text: &str) {
        match &self.bars {
            Some(bars) => bars.suspend(|| to_stderr(text)),
            None => to_stderr(text),
        }
    }
}

impl Reporter for TerminalReporter {
    fn step(&self, message: &str) {
        if !self.quiet {
            self.line(&format!("· {message}"));
        }
    }

    fn warn(&self, message: &str) {
        self.line(&format!("warning: {message}"));
    }

    fn download_started(&self, name: &str, total: Option<u64>, already: u64) {
        let Some(bars) = &self.bars else {
            if !self.quiet {
                let size = total
                    .map(|t| format!(" ({:.1} MiB)", t as f64 / 1048576.0))
                    .unwrap_or_default();
                let resumed = if already > 0 {
                    format!(", resuming at {already} bytes")
                } else {
                    String::new()
                };
                to_stderr(&format!("· downloading {name}{size}{resumed}"));
            }
            return;
        };
        let bar = match total {
            Some(t) => ProgressBar::new(t),
            None => ProgressBar::no_length(),
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_message(name.to_string());
        bar.set_position(already);
        let bar = bars.add(bar);
        self.active.lock().unwrap().insert(name.to_string(), bar);
    }

    fn download_progress(&self, name: &str, bytes: u64) {
        if let Some(bar) = self.active.lock().unwrap().get(name) {
            bar.inc(bytes);
        }
    }

    fn download_finished(&self, name: &str) {
        if let Some(bar) = self.active.lock().unwrap().remove(name) {
            bar.finish_and_clear();
        } else if self.bars.is_none() && !self.quiet {
            to_stderr(&format!("· downloaded {name}"));
        }
    }
}

/// Progress is not worth a panic: a closed or full stderr loses it quietly.
fn to_stderr(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
