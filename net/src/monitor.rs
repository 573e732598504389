//! [`Monitor`]: the validation metric that picks the best epoch, stops a run early and drives
//! the plateau schedule.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::train::EpochStats;

/// A validation metric to watch, and which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// [`EpochStats::val_loss`]: lower is better.
    ValLoss,
    /// [`EpochStats::val_accuracy`]: higher is better.
    ValAccuracy,
}

impl Monitor {
    /// Every metric.
    pub const ALL: [Monitor; 2] = [Monitor::ValLoss, Monitor::ValAccuracy];

    /// The metric's name, as `--monitor` and metrics.csv write it.
    pub fn name(self) -> &'static str {
        match self {
            Monitor::ValLoss => "val_loss",
            Monitor::ValAccuracy => "val_accuracy",
        }
    }

    /// The metric's value in an epoch's statistics.
    pub fn value(self, stats: &EpochStats) -> f64 {
        match self {
            Monitor::ValLoss => stats.val_loss,
            Monitor::ValAccuracy => stats.val_accuracy,
        }
    }

    /// Whether `value` is strictly better than `best` (a tie is not an improvement, so the
    /// earliest of equal epochs stays the best).
    pub fn improves(self, value: f64, best: f64) -> bool {
        match self {
            Monitor::ValLoss => value < best,
            Monitor::ValAccuracy => value > best,
        }
    }

    /// The best epoch of `history`: the first whose metric no later epoch improves on.
    ///
    /// ```
    /// use tapegrad_net::monitor::Monitor;
    /// use tapegrad_net::train::EpochStats;
    /// let epoch = |epoch, val_loss, val_accuracy| EpochStats {
    ///     epoch, iteration: epoch, loss: 1.0, val_loss, train_accuracy: 0.5, val_accuracy,
    ///     lr: 0.1, seconds: 0.0,
    /// };
    /// let history = [epoch(1, 0.9, 0.5), epoch(2, 0.5, 0.7), epoch(3, 0.6, 0.7)];
    /// assert_eq!(Monitor::ValLoss.best(&history).unwrap().epoch, 2);
    /// assert_eq!(Monitor::ValAccuracy.best(&history).unwrap().epoch, 2); // the tie stays at 2
    /// ```
    pub fn best(self, history: &[EpochStats]) -> Option<&EpochStats> {
        history.iter().fold(None, |best, s| match best {
            Some(b) if !self.improves(self.value(s), self.value(b)) => Some(b),
            _ => Some(s),
        })
    }

    /// Epochs finished since the best one (0 when the last epoch is the best, or there is
    /// none yet).
    pub fn epochs_since_best(self, history: &[EpochStats]) -> usize {
        match (self.best(history), history.last()) {
            (Some(best), Some(last)) => last.epoch - best.epoch,
            _ => 0,
        }
    }
}

impl fmt::Display for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
