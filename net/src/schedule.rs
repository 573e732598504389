//! Learning-rate schedules: how the learning rate moves over a run.
//!
//! A [`Schedule`] turns the configured learning rate (`lr`, the peak for the schedules that
//! rise) into the rate of each step. [`Constant`](Schedule::Constant),
//! [`Step`](Schedule::Step) and [`Exponential`](Schedule::Exponential) change it between
//! epochs, as PyTorch's `StepLR` and `ExponentialLR` stepped once an epoch do;
//! [`Cosine`](Schedule::Cosine) (with a linear warm-up) and [`OneCycle`](Schedule::OneCycle)
//! are defined per step and change it at every step; [`Plateau`](Schedule::Plateau) divides it
//! when the monitored validation metric stops improving (`ReduceLROnPlateau`).
//!
//! Every rate depends only on the position in the run and on the finished epochs' history,
//! never on a hidden state, so a resumed run follows exactly the rates of an uninterrupted one.
//!
//! Saved as `{"kind": "cosine", "warmup_epochs": 2, "min_lr": 0.0}` (TOML: a `[schedule]`
//! table); a missing setting takes its default (`{"kind": "cosine"}` is a cosine schedule
//! with [`DEFAULT_WARMUP_EPOCHS`]).

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::monitor::Monitor;
use crate::train::EpochStats;

/// How the learning rate moves over a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// `lr` throughout.
    Constant,
    /// `lr · lr_decay^⌊e / step_epochs⌋` in epoch `e` (from 0).
    Step {
        /// Epochs between two cuts.
        #[serde(default = "default_step_epochs")]
        step_epochs: usize,
        /// The factor of each cut.
        #[serde(default = "default_step_decay")]
        lr_decay: f64,
    },
    /// `lr · lr_decay^e` in epoch `e` (from 0): a cut after every epoch.
    Exponential {
        /// The factor applied after every epoch.
        #[serde(default = "default_exponential_decay")]
        lr_decay: f64,
    },
    /// A linear warm-up from `lr / w` to `lr` over the first `w` steps (`warmup_epochs` epochs'
    /// worth), then half a cosine from `lr` down to `min_lr` at the last step.
    Cosine {
        /// Epochs of linear warm-up (0: none).
        #[serde(default = "default_warmup_epochs")]
        warmup_epochs: usize,
        /// The rate at the last step.
        #[serde(default)]
        min_lr: f64,
    },
    /// PyTorch's `OneCycleLR` (cosine annealing, two phases): from `lr / div_factor` up to
    /// `lr` over the first `pct_start` of the steps, then down to
    /// `lr / (div_factor · final_div_factor)` at the last step.
    OneCycle {
        /// The fraction of the steps spent rising.
        #[serde(default = "default_pct_start")]
        pct_start: f64,
        /// The first step's rate is `lr / div_factor`.
        #[serde(default = "default_div_factor")]
        div_factor: f64,
        /// The last step's rate is the first's divided by this.
        #[serde(default = "default_final_div_factor")]
        final_div_factor: f64,
    },
    /// Multiplies the rate by `lr_decay` each time the monitored validation metric has not
    /// improved for more than `plateau_patience` epochs in a row, down to `min_lr`.
    Plateau {
        /// The factor of each cut.
        #[serde(default = "default_plateau_decay")]
        lr_decay: f64,
        /// Epochs without improvement tolerated before a cut.
        #[serde(default = "default_plateau_patience")]
        plateau_patience: usize,
        /// The rate is never cut below this.
        #[serde(default)]
        min_lr: f64,
    },
}

/// The warm-up of `{"kind": "cosine"}`, in epochs.
pub const DEFAULT_WARMUP_EPOCHS: usize = 1;

fn default_step_epochs() -> usize {
    10
}
fn default_step_decay() -> f64 {
    0.5
}
fn default_exponential_decay() -> f64 {
    0.98
}
fn default_warmup_epochs() -> usize {
    DEFAULT_WARMUP_EPOCHS
}
fn default_pct_start() -> f64 {
    0.3
}
fn default_div_factor() -> f64 {
    25.0
}
fn default_final_div_factor() -> f64 {
    1e4
}
fn default_plateau_decay() -> f64 {
    0.1
}
fn default_plateau_patience() -> usize {
    5
}

/// Where a step is in its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Epochs finished before this step's epoch (its epoch's number minus 1).
    pub epoch: usize,
    /// The step within its epoch, from 0.
    pub step: usize,
    /// Steps in each epoch.
    pub steps_per_epoch: usize,
    /// Epochs in the run.
    pub epochs: usize,
}

impl Position {
    /// The step's index in the run, from 0.
    pub fn index(&self) -> usize {
        (self.epoch.saturating_mul(self.steps_per_epoch)).saturating_add(self.step)
    }

    /// The steps in the run.
    pub fn total(&self) -> usize {
        self.epochs.saturating_mul(self.steps_per_epoch)
    }
}

/// The kinds of schedule, as `--schedule` and the `kind` key name them.
pub const SCHEDULE_KINDS: [&str; 6] = [
    "constant",
    "step",
    "exponential",
    "cosine",
    "one_cycle",
    "plateau",
];

impl Schedule {
    /// The kind's name (`constant`, `step`, ..., as in [`SCHEDULE_KINDS`]).
    pub fn kind(&self) -> &'static str {
        match self {
            Schedule::Constant => "constant",
            Schedule::Step { .. } => "step",
            Schedule::Exponential { .. } => "exponential",
            Schedule::Cosine { .. } => "cosine",
            Schedule::OneCycle { .. } => "one_cycle",
            Schedule::Plateau { .. } => "plateau",
        }
    }

    /// Whether the rates depend on the run's length (`epochs`): the cosine and one-cycle
    /// schedules are laid over the whole run.
    pub fn depends_on_length(&self) -> bool {
        matches!(self, Schedule::Cosine { .. } | Schedule::OneCycle { .. })
    }

    /// The learning rate of the step at `at` when the configured rate is `lr`. `history`
    /// holds the finished epochs (only [`Plateau`](Schedule::Plateau) reads it, through
    /// `monitor`).
    ///
    /// ```
    /// use tapegrad_net::schedule::{Position, Schedule};
    /// use tapegrad_net::monitor::Monitor;
    /// let cosine = Schedule::Cosine { warmup_epochs: 1, min_lr: 0.0 };
    /// let at = |epoch, step| Position { epoch, step, steps_per_epoch: 10, epochs: 5 };
    /// let lr = |p| cosine.lr(0.1, p, &[], Monitor::ValLoss);
    /// assert!((lr(at(0, 0)) - 0.01).abs() < 1e-12); // warming up: 1/10 of the way
    /// assert!((lr(at(0, 9)) - 0.1).abs() < 1e-12); // warmed up
    /// assert!(lr(at(4, 9)) < 1e-3); // annealed
    /// ```
    pub fn lr(&self, lr: f64, at: Position, history: &[EpochStats], monitor: Monitor) -> f64 {
        let (step, total) = (at.index(), at.total().max(1));
        match *self {
            Schedule::Constant => lr,
            Schedule::Step {
                step_epochs,
                lr_decay,
            } => lr * lr_decay.powi(exponent(at.epoch / step_epochs.max(1))),
            Schedule::Exponential { lr_decay } => lr * lr_decay.powi(exponent(at.epoch)),
            Schedule::Cosine {
                warmup_epochs,
                min_lr,
            } => {
                let warmup = (warmup_epochs.saturating_mul(at.steps_per_epoch)).min(total);
                if step < warmup {
                    lr * (step + 1) as f64 / warmup as f64
                } else {
                    let span = (total - warmup).saturating_sub(1).max(1);
                    let t = ((step - warmup) as f64 / span as f64).min(1.0);
                    cosine(lr, min_lr, t)
                }
            }
            Schedule::OneCycle {
                pct_start,
                div_factor,
                final_div_factor,
            } => {
                let start = lr / div_factor;
                let end = start / final_div_factor;
                // As PyTorch: the peak is at step pct_start·total - 1, the end at total - 1.
                let peak = (pct_start * total as f64 - 1.0).max(0.0);
                let last = (total - 1) as f64;
                let s = step as f64;
                if s <= peak && peak > 0.0 {
                    cosine(start, lr, s / peak)
                } else {
                    let t = if last > peak {
                        (s - peak) / (last - peak)
                    } else {
                        1.0
                    };
                    cosine(lr, end, t.min(1.0))
                }
            }
            Schedule::Plateau {
                lr_decay,
                plateau_patience,
                min_lr,
            } => {
                let cuts = plateau_cuts(history, monitor, plateau_patience);
                (lr * lr_decay.powi(exponent(cuts))).max(min_lr)
            }
        }
    }

    /// Checks the schedule's own settings against the run's `epochs` and learning rate `lr`;
    /// the error names the setting (`warmup_epochs`, ...) and says what is wrong.
    pub fn check(&self, lr: f64, epochs: usize) -> Result<(), (&'static str, String, String)> {
        let bad = |name, value: String, problem: &str| Err((name, value, problem.to_owned()));
        let factor = |x: f64| x.is_finite() && x > 0.0 && x <= 1.0;
        let rate = |x: f64| x.is_finite() && x >= 0.0 && x < lr;
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::Step {
                step_epochs,
                lr_decay,
            } => {
                if step_epochs == 0 {
                    return bad(
                        "step_epochs",
                        "0".into(),
                        "needs at least 1 epoch between cuts",
                    );
                }
                if !factor(lr_decay) {
                    return bad("lr_decay", lr_decay.to_string(), "must be in (0, 1]");
                }
                Ok(())
            }
            Schedule::Exponential { lr_decay } => {
                if !(lr_decay.is_finite() && lr_decay > 0.0) {
                    return bad(
                        "lr_decay",
                        lr_decay.to_string(),
                        "must be a positive number",
                    );
                }
                Ok(())
            }
            Schedule::Cosine {
                warmup_epochs,
                min_lr,
            } => {
                if warmup_epochs >= epochs {
                    let problem = format!("must be less than the run's {epochs} epochs");
                    return bad("warmup_epochs", warmup_epochs.to_string(), &problem);
                }
                if !rate(min_lr) {
                    let problem = format!("must be zero or positive and below --lr ({lr})");
                    return bad("min_lr", min_lr.to_string(), &problem);
                }
                Ok(())
            }
            Schedule::OneCycle {
                pct_start,
                div_factor,
                final_div_factor,
            } => {
                if !(pct_start.is_finite() && pct_start > 0.0 && pct_start < 1.0) {
                    return bad("pct_start", pct_start.to_string(), "must be in (0, 1)");
                }
                for (name, x) in [
                    ("div_factor", div_factor),
                    ("final_div_factor", final_div_factor),
                ] {
                    if !(x.is_finite() && x >= 1.0) {
                        return bad(name, x.to_string(), "must be a number of at least 1");
                    }
                }
                Ok(())
            }
            Schedule::Plateau {
                lr_decay,
                plateau_patience: _,
                min_lr,
            } => {
                if !(factor(lr_decay) && lr_decay < 1.0) {
                    return bad("lr_decay", lr_decay.to_string(), "must be in (0, 1)");
                }
                if !rate(min_lr) {
                    let problem = format!("must be zero or positive and below --lr ({lr})");
                    return bad("min_lr", min_lr.to_string(), &problem);
                }
                Ok(())
            }
        }
    }
}

/// Half a cosine from `from` (`t = 0`) to `to` (`t = 1`).
fn cosine(from: f64, to: f64, t: f64) -> f64 {
    to + (from - to) * (1.0 + (PI * t).cos()) / 2.0
}

/// An epoch count as a power's exponent (saturating: a factor below 1 to such a power is 0).
fn exponent(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// How many times a plateau schedule has cut the rate after `history`: once each time the
/// monitored metric went more than `patience` epochs without improving (the count restarts
/// after a cut, as in PyTorch's `ReduceLROnPlateau` without cooldown).
fn plateau_cuts(history: &[EpochStats], monitor: Monitor, patience: usize) -> usize {
    let mut best: Option<f64> = None;
    let (mut bad, mut cuts) = (0, 0);
    for stats in history {
        let value = monitor.value(stats);
        if best.is_none_or(|b| monitor.improves(value, b)) {
            best = Some(value);
            bad = 0;
        } else {
            bad += 1;
            if bad > patience {
                cuts += 1;
                bad = 0;
            }
        }
    }
    cuts
}

#[cfg(test)]
mod tests;
