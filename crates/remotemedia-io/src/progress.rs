//! Progress of long work (one long file, or many files): counters the runners update, and a
//! progress bar on stderr that reads them.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Counters of work done, shared between the runners and whoever shows them.
#[derive(Debug)]
pub struct Progress {
    started: Instant,
    /// Audio fed to pipelines, in microseconds.
    audio_us: AtomicU64,
    /// The audio expected in all, in microseconds (0: unknown).
    total_audio_us: AtomicU64,
    files_total: AtomicU64,
    files_ok: AtomicU64,
    files_failed: AtomicU64,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            audio_us: AtomicU64::new(0),
            total_audio_us: AtomicU64::new(0),
            files_total: AtomicU64::new(0),
            files_ok: AtomicU64::new(0),
            files_failed: AtomicU64::new(0),
        }
    }
}

fn micros(secs: f64) -> u64 {
    (secs.max(0.0) * 1e6).round() as u64
}

impl Progress {
    /// Counts `secs` of audio fed.
    pub fn add_audio(&self, secs: f64) {
        self.audio_us.fetch_add(micros(secs), Ordering::Relaxed);
    }

    /// Audio fed so far, in seconds.
    pub fn audio_secs(&self) -> f64 {
        self.audio_us.load(Ordering::Relaxed) as f64 / 1e6
    }

    /// Sets how much audio is expected in all (for one file of known length).
    pub fn set_total_audio(&self, secs: f64) {
        self.total_audio_us.store(micros(secs), Ordering::Relaxed);
    }

    /// Sets the number of files to run.
    pub fn set_files(&self, total: usize) {
        self.files_total.store(total as u64, Ordering::Relaxed);
    }

    /// Counts one file finished.
    pub fn file_done(&self, ok: bool) {
        let counter = if ok { &self.files_ok } else { &self.files_failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Files finished so far: (succeeded, failed).
    pub fn files_done(&self) -> (u64, u64) {
        (
            self.files_ok.load(Ordering::Relaxed),
            self.files_failed.load(Ordering::Relaxed),
        )
    }

    /// Time since the work started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// How many times faster than real time the audio went.
    pub fn speed(&self) -> f64 {
        let wall = self.elapsed().as_secs_f64();
        if wall > 0.0 { self.audio_secs() / wall } else { 0.0 }
    }

    /// The end-of-work line for stderr: files ok/failed (when there are files), audio processed,
    /// wall time and speed.
    pub fn summary(&self) -> String {
        let (ok, failed) = self.files_done();
        let files = self.files_total.load(Ordering::Relaxed);
        let mut line = String::new();
        if files > 0 {
            line.push_str(&format!("{ok} of {files} files ok, {failed} failed; "));
        }
        let hours = self.audio_secs() / 3600.0;
        line.push_str(&format!(
            "{hours:.2} h of audio in {:.1} s ({:.0}x real time)",
            self.elapsed().as_secs_f64(),
            self.speed()
        ));
        line
    }
}

/// When to show a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// When stderr is a terminal.
    #[default]
    Auto,
    /// Always (to stderr, even when it is not a terminal).
    Always,
    /// Never.
    Never,
}

impl ProgressMode {
    /// Parses `auto`, `always` or `never`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "auto" => Self::Auto,
            "always" => Self::Always,
            "never" => Self::Never,
            _ => return None,
        })
    }

    fn shows(self) -> bool {
        match self {
            Self::Auto => std::io::stderr().is_terminal(),
            Self::Always => true,
            Self::Never => false,
        }
    }
}

/// A progress bar on stderr, redrawn from a [`Progress`] until it is finished or dropped: files
/// done of total (or audio done of the file's length), audio time processed, speed as a multiple
/// of real time, and the ETA.
pub struct ProgressDisplay {
    bar: ProgressBar,
    stop: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl ProgressDisplay {
    /// Starts drawing `progress` if `mode` says so.
    pub fn start(progress: Arc<Progress>, mode: ProgressMode) -> Option<Self> {
        if !mode.shows() {
            return None;
        }
        let files = progress.files_total.load(Ordering::Relaxed);
        let total_audio = progress.total_audio_us.load(Ordering::Relaxed);
        let (len, template) = if files > 0 {
            (
                files,
                "{elapsed_precise} [{bar:30}] {pos}/{len} files, {msg}, ETA {eta}",
            )
        } else if total_audio > 0 {
            (
                total_audio / 1000,
                "{elapsed_precise} [{bar:30}] {percent}%, {msg}, ETA {eta}",
            )
        } else {
            (0, "{elapsed_precise} {spinner} {msg}")
        };
        let bar = if len > 0 {
            ProgressBar::with_draw_target(Some(len), target())
        } else {
            ProgressBar::with_draw_target(None, target())
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (bar, stop) = (bar.clone(), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        redraw(&bar, &progress, files > 0);
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    redraw(&bar, &progress, files > 0);
                })
                .ok()
        };
        Some(Self { bar, stop, ticker })
    }

    /// Draws the final state and leaves it on screen.
    pub fn finish(mut self) {
        self.stop_ticker();
        self.bar.abandon();
    }

    fn stop_ticker(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

impl Drop for ProgressDisplay {
    fn drop(&mut self) {
        self.stop_ticker();
    }
}

fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr_with_hz(10)
    } else {
        // `--progress always` on a pipe or file: draw anyway.
        ProgressDrawTarget::term_like_with_hz(Box::new(console::Term::stderr()), 2)
    }
}

fn redraw(bar: &ProgressBar, progress: &Progress, by_files: bool) {
    let audio = progress.audio_secs();
    if by_files {
        let (ok, failed) = progress.files_done();
        bar.set_position(ok + failed);
        let failed = if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        };
        bar.set_message(format!(
            "{} audio, {:.0}x real time{failed}",
            clock(audio),
            progress.speed()
        ));
    } else {
        bar.set_position((audio * 1000.0) as u64);
        bar.set_message(format!(
            "{} audio, {:.0}x real time",
            clock(audio),
            progress.speed()
        ));
    }
}

/// Seconds as `h:mm:ss`.
fn clock(secs: f64) -> String {
    let s = secs as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_summary() {
        let progress = Progress::default();
        progress.set_files(3);
        progress.add_audio(1800.0);
        progress.add_audio(1800.0);
        progress.file_done(true);
        progress.file_done(false);
        assert_eq!(progress.files_done(), (1, 1));
        assert!((progress.audio_secs() - 3600.0).abs() < 1e-9);
        let summary = progress.summary();
        assert!(
            summary.starts_with("1 of 3 files ok, 1 failed; 1.00 h of audio in "),
            "{summary}"
        );
        assert_eq!(clock(3725.9), "1:02:05");
        assert_eq!(ProgressMode::from_name("always"), Some(ProgressMode::Always));
        assert_eq!(ProgressMode::from_name("sometimes"), None);
    }
}
