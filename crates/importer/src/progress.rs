//! Progress of an import on the terminal: one line per phase with counts,
//! rates and the time left, redrawn in place; plain lines every few seconds
//! when stderr is not a terminal (logs, CI).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A counter with an optional total that grows as listings come in.
#[derive(Default)]
pub struct Counter {
    pub done: AtomicU64,
    pub total: AtomicU64,
}

impl Counter {
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    pub fn add_total(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
}

#[derive(Default)]
pub struct Progress {
    pub experiments: Counter,
    pub runs: Counter,
    pub points: Counter,
    pub artifact_bytes: Counter,
}

enum Unit {
    Count,
    Bytes,
}

/// A byte count for people: "3.1 MB".
pub fn bytes(n: u64) -> String {
    amount(n as f64, &Unit::Bytes)
}

fn amount(n: f64, unit: &Unit) -> String {
    match unit {
        Unit::Bytes => {
            let units = ["B", "KB", "MB", "GB", "TB"];
            let mut v = n;
            let mut i = 0;
            while v >= 1000.0 && i < units.len() - 1 {
                v /= 1000.0;
                i += 1;
            }
            if i == 0 {
                format!("{v:.0} {}", units[i])
            } else {
                format!("{v:.1} {}", units[i])
            }
        }
        Unit::Count if n >= 1e6 => format!("{:.2}M", n / 1e6),
        Unit::Count if n >= 1e4 => format!("{:.1}k", n / 1e3),
        // Rates below ten keep a decimal: "0.4/s", not "0/s".
        Unit::Count if n < 10.0 && n.fract() != 0.0 => format!("{n:.1}"),
        Unit::Count => format!("{n:.0}"),
    }
}

fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn line(name: &str, c: &Counter, unit: Unit, elapsed: f64) -> String {
    let done = c.done.load(Ordering::Relaxed) as f64;
    let total = c.total.load(Ordering::Relaxed) as f64;
    let rate = if elapsed > 0.0 { done / elapsed } else { 0.0 };
    let mut text = format!("{name:<12}");
    if total > 0.0 {
        let width = 24;
        let filled = ((done / total).min(1.0) * width as f64) as usize;
        text += &format!(
            "[{}{}] {} / {}",
            "#".repeat(filled),
            "-".repeat(width - filled),
            amount(done, &unit),
            amount(total, &unit)
        );
    } else {
        text += &amount(done, &unit);
    }
    if done > 0.0 {
        text += &format!("  {}/s", amount(rate, &unit));
        if total > done && rate > 0.0 {
            text += &format!("  {} left", duration((total - done) / rate));
        }
    }
    text
}

impl Progress {
    fn render(&self, elapsed: f64) -> Vec<String> {
        vec![
            line("experiments", &self.experiments, Unit::Count, elapsed),
            line("runs", &self.runs, Unit::Count, elapsed),
            line("points", &self.points, Unit::Count, elapsed),
            line("artifacts", &self.artifact_bytes, Unit::Bytes, elapsed),
        ]
    }
}

/// Draws `progress` until dropped.
pub struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    pub fn start(progress: Arc<Progress>, quiet: bool) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = (!quiet).then(|| {
            std::thread::spawn(move || {
                let started = Instant::now();
                let tty = std::io::stderr().is_terminal();
                let mut drawn = 0;
                let mut last_plain = Instant::now();
                loop {
                    let stopping = flag.load(Ordering::Relaxed);
                    let elapsed = started.elapsed().as_secs_f64();
                    let lines = progress.render(elapsed);
                    let mut err = std::io::stderr().lock();
                    if tty {
                        if drawn > 0 {
                            let _ = write!(err, "\x1b[{drawn}A");
                        }
                        for l in &lines {
                            let _ = writeln!(err, "\x1b[2K{l}");
                        }
                        drawn = lines.len();
                    } else if stopping || last_plain.elapsed() >= Duration::from_secs(5) {
                        let _ = writeln!(
                            err,
                            "progress: {}",
                            lines.join(" | ").split_whitespace().collect::<Vec<_>>().join(" ")
                        );
                        last_plain = Instant::now();
                    }
                    drop(err);
                    if stopping {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(if tty { 200 } else { 500 }));
                }
            })
        });
        Ticker { stop, thread }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_show_counts_rates_and_time_left() {
        let c = Counter::default();
        c.add_total(100);
        c.add(25);
        let text = line("runs", &c, Unit::Count, 5.0);
        assert!(text.contains("25 / 100"), "{text}");
        assert!(text.contains("5/s"), "{text}");
        assert!(text.contains("15s left"), "{text}");
        assert_eq!(amount(2_500_000.0, &Unit::Bytes), "2.5 MB");
        assert_eq!(amount(1_234_567.0, &Unit::Count), "1.23M");
        assert_eq!(amount(0.36, &Unit::Count), "0.4");
    }
}
