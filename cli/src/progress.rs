//! Training progress on stderr: a bar with the ETA and a smoothed loss on a terminal, one
//! plain line per epoch when stderr is a file or a pipe (`nohup`, CI logs), nothing when quiet.

use std::io::{self, IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tapegrad_net::train::EpochStats;

/// The weight of the past in the smoothed loss (about the last 50 steps count).
const SMOOTHING: f64 = 0.98;

/// The bar: what it shows around the bar itself fits 80 columns with room for a bar of at
/// least 15 (`epoch 123/500 ████ 12345/99999 ETA 1m loss 0.0123 val 97.78%`); the bar takes
/// what the terminal has left.
const TEMPLATE: &str = "{prefix} {wide_bar:.cyan/blue} {pos}/{len} ETA {eta} {msg}";

/// Where progress goes.
enum Mode {
    Bar(ProgressBar),
    Lines,
    Quiet,
}

/// Reports a training run's steps and epochs.
pub struct TrainProgress {
    mode: Mode,
    epochs: usize,
    loss: SmoothedLoss,
    val_accuracy: Option<f64>,
}

impl TrainProgress {
    /// Progress for a run of `epochs` epochs with `steps` steps still to take: a bar if stderr
    /// is a terminal, lines if not, nothing if `quiet`.
    pub fn new(quiet: bool, steps: usize, epochs: usize) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if io::stderr().is_terminal() {
            let bar =
                ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(TEMPLATE) {
                bar.set_style(style.progress_chars("█▉▊▋▌▍▎▏ "));
            }
            Mode::Bar(bar)
        } else {
            Mode::Lines
        };
        TrainProgress {
            mode,
            epochs,
            loss: SmoothedLoss::default(),
            val_accuracy: None,
        }
    }

    /// A step of `epoch` finished with this minibatch loss.
    pub fn step(&mut self, epoch: usize, loss: f64) {
        let smoothed = self.loss.add(loss);
        if let Mode::Bar(bar) = &self.mode {
            bar.inc(1);
            bar.set_prefix(format!("epoch {epoch}/{}", self.epochs));
            let val = self
                .val_accuracy
                .map(|a| format!(" val {:.2}%", 100.0 * a))
                .unwrap_or_default();
            bar.set_message(format!("loss {smoothed:.4}{val}"));
        }
    }

    /// An epoch finished; `improved` if it is the best so far.
    pub fn epoch(&mut self, stats: &EpochStats, improved: bool) {
        self.val_accuracy = Some(stats.val_accuracy);
        if let Mode::Lines = self.mode {
            let line = epoch_line(stats, self.epochs, improved);
            // Progress is a courtesy: a closed stderr must not stop the run.
            let _ = writeln!(io::stderr().lock(), "{line}");
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Mode::Bar(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}

/// One epoch as a line: `epoch 3/60  loss 0.2345  val_loss 0.2100  train 93.10%  val 92.96%
/// lr 9.60e-4` and ` *` when it is the best so far.
pub fn epoch_line(stats: &EpochStats, epochs: usize, improved: bool) -> String {
    format!(
        "epoch {}/{epochs}  loss {:.4}  val_loss {:.4}  train {:.2}%  val {:.2}%  lr {:.2e}{}",
        stats.epoch,
        stats.loss,
        stats.val_loss,
        100.0 * stats.train_accuracy,
        100.0 * stats.val_accuracy,
        stats.lr,
        if improved { "  *" } else { "" }
    )
}

/// An exponential moving average of the step losses, corrected for its start at zero (as
/// Adam corrects its moments), so that the first steps show their own loss.
#[derive(Debug, Default)]
struct SmoothedLoss {
    average: f64,
    weight: f64,
}

impl SmoothedLoss {
    /// Adds a step's loss; returns the smoothed loss.
    fn add(&mut self, loss: f64) -> f64 {
        self.average = SMOOTHING * self.average + (1.0 - SMOOTHING) * loss;
        self.weight = SMOOTHING * self.weight + (1.0 - SMOOTHING);
        self.average / self.weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smoothed_loss_starts_at_the_first_loss_and_follows_slowly() {
        let mut s = SmoothedLoss::default();
        assert!((s.add(2.0) - 2.0).abs() < 1e-12);
        let after = s.add(0.0);
        assert!(
            after > 0.9 && after < 1.1,
            "two steps weigh about equally: {after}"
        );
        for _ in 0..1000 {
            s.add(0.5);
        }
        assert!((s.add(0.5) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn the_bar_leaves_at_least_15_of_80_columns_to_the_bar_itself() {
        // The widest texts around the bar: a long run's counts and an ETA in hours.
        let around = TEMPLATE
            .replace("{prefix}", "epoch 1000/1000")
            .replace("{wide_bar:.cyan/blue}", "")
            .replace("{pos}/{len}", "1234567/1234567")
            .replace("{eta}", "12h")
            .replace("{msg}", "loss 0.0123 val 97.78%");
        assert!(around.chars().count() <= 80 - 15, "{around}");
    }

    #[test]
    fn an_epoch_line_names_every_metric_and_marks_the_best() {
        let stats = EpochStats {
            epoch: 3,
            iteration: 120,
            loss: 0.25,
            val_loss: 0.3,
            train_accuracy: 0.9,
            val_accuracy: 0.875,
            lr: 1e-3,
            seconds: 0.1,
        };
        let line = epoch_line(&stats, 60, true);
        assert_eq!(
            line,
            "epoch 3/60  loss 0.2500  val_loss 0.3000  train 90.00%  val 87.50%  lr 1.00e-3  *"
        );
        assert!(!epoch_line(&stats, 60, false).ends_with('*'));
    }
}
