//! How a study spends its epochs: every trial for all of them ([`Search::Random`]), or
//! successive halving ([`Search::Halving`]): every trial for a few epochs, then the best
//! `1/eta` of them for `eta` times as many, and so on up to the study's epochs (Jamieson and
//! Talwalkar's successive halving, as scikit-learn's `HalvingRandomSearchCV` runs it).

use serde::{Deserialize, Serialize};

use super::TuneError;

/// How trials are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Search {
    /// Every trial runs all the study's epochs.
    #[default]
    Random,
    /// Synchronous successive halving: rung 0 runs every trial for `min_epochs` epochs; rung
    /// `k + 1` continues the best `1/eta` of rung `k`'s trials (at least one) to `eta` times
    /// rung `k`'s epochs, the last rung to the study's epochs.
    Halving {
        /// Epochs of rung 0 (the minimum resource, `r`).
        min_epochs: usize,
        /// The reduction factor: `1/eta` of a rung's trials are promoted, to `eta` times the
        /// epochs.
        eta: usize,
    },
    /// Asynchronous successive halving (ASHA, Li et al., 2020): the same rungs as
    /// [`Halving`](Search::Halving), but a trial is promoted as soon as it is among the best
    /// `⌊n/eta⌋` of the `n` results its rung holds so far, without waiting for the rung to
    /// fill; a worker with nothing to promote starts a new trial. No process ever waits, but
    /// which trials are promoted depends on the order results arrive: deterministic in one
    /// process, not across shards.
    Asha {
        /// Epochs of rung 0.
        min_epochs: usize,
        /// The reduction factor.
        eta: usize,
    },
}

/// The usual reduction factor of successive halving (Hyperband's, Optuna's and Ray Tune's).
pub const DEFAULT_ETA: usize = 3;

/// One rung of a study: how many trials reach it and how many epochs they then have run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rung {
    /// The epochs a trial has run when it finishes this rung (counted from its start).
    pub epochs: usize,
    /// How many trials run it.
    pub trials: usize,
}

impl Search {
    /// The rung-0 epochs that give as many rungs as `trials` trials can fill (each rung
    /// `1/eta` of the one before, the last at least one trial) below `max_epochs`:
    /// `max_epochs / eta^⌊log_eta trials⌋`, at least 1.
    ///
    /// ```
    /// use tapegrad_net::tune::Search;
    /// assert_eq!(Search::default_min_epochs(64, 27, 3), 1); // 1, 3, 9, 27 epochs
    /// assert_eq!(Search::default_min_epochs(12, 20, 3), 2); // 2, 6, 18, 20
    /// ```
    pub fn default_min_epochs(trials: usize, max_epochs: usize, eta: usize) -> usize {
        let eta = eta.max(2);
        let (mut epochs, mut left) = (max_epochs, trials);
        while left >= eta && epochs / eta >= 1 {
            epochs /= eta;
            left /= eta;
        }
        epochs.max(1)
    }

    /// Checks the search fits trials of `max_epochs` epochs.
    pub fn check(self, max_epochs: usize) -> Result<(), TuneError> {
        let (Search::Halving { min_epochs, eta } | Search::Asha { min_epochs, eta }) = self else {
            return Ok(());
        };
        let space = |setting, problem| Err(TuneError::Space { setting, problem });
        if eta < 2 {
            return space("eta", format!("{eta}: --eta must be at least 2"));
        }
        if min_epochs == 0 || min_epochs > max_epochs {
            return space(
                "min_epochs",
                format!("--min-epochs {min_epochs}: must be from 1 to --epochs ({max_epochs})"),
            );
        }
        Ok(())
    }

    /// The rungs of a study of `trials` trials of at most `max_epochs` epochs.
    ///
    /// ```
    /// use tapegrad_net::tune::{Rung, Search};
    /// let halving = Search::Halving { min_epochs: 1, eta: 3 };
    /// let rungs: Vec<(usize, usize)> =
    ///     halving.rungs(64, 27).iter().map(|r| (r.epochs, r.trials)).collect();
    /// assert_eq!(rungs, [(1, 64), (3, 21), (9, 7), (27, 2)]);
    /// assert_eq!(Search::Random.rungs(64, 27), [Rung { epochs: 27, trials: 64 }]);
    /// ```
    pub fn rungs(self, trials: usize, max_epochs: usize) -> Vec<Rung> {
        let (Search::Halving { min_epochs, eta } | Search::Asha { min_epochs, eta }) = self else {
            return vec![Rung {
                epochs: max_epochs,
                trials,
            }];
        };
        let eta = eta.max(2);
        let mut rung = Rung {
            epochs: min_epochs.clamp(1, max_epochs.max(1)),
            trials,
        };
        let mut rungs = vec![rung];
        while rung.epochs < max_epochs {
            rung = Rung {
                epochs: rung.epochs.saturating_mul(eta).min(max_epochs),
                trials: (rung.trials / eta).max(1),
            };
            rungs.push(rung);
        }
        rungs
    }

    /// The name `--search` takes.
    pub fn name(self) -> &'static str {
        match self {
            Search::Random => "random",
            Search::Halving { .. } => "halving",
            Search::Asha { .. } => "asha",
        }
    }

    /// The reduction factor of a halving search (none for a random one).
    pub fn eta(self) -> Option<usize> {
        match self {
            Search::Random => None,
            Search::Halving { eta, .. } | Search::Asha { eta, .. } => Some(eta.max(2)),
        }
    }

    /// Whether promotions are decided as results arrive ([`Search::Asha`]).
    pub fn is_asynchronous(self) -> bool {
        matches!(self, Search::Asha { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rungs_shrink_by_eta_and_end_at_the_studys_epochs() {
        let h = |min_epochs, eta| Search::Halving { min_epochs, eta };
        let pairs = |s: Search, n, e| -> Vec<(usize, usize)> {
            s.rungs(n, e).iter().map(|r| (r.epochs, r.trials)).collect()
        };
        assert_eq!(pairs(h(2, 3), 12, 20), [(2, 12), (6, 4), (18, 1), (20, 1)]);
        assert_eq!(pairs(h(5, 2), 8, 5), [(5, 8)]);
        assert_eq!(pairs(h(1, 2), 3, 4), [(1, 3), (2, 1), (4, 1)]);
        for (n, e, eta) in [
            (64, 27, 3),
            (12, 20, 3),
            (100, 100, 4),
            (1, 9, 3),
            (5, 1, 3),
        ] {
            let rungs = h(Search::default_min_epochs(n, e, eta), eta).rungs(n, e);
            assert_eq!(rungs.last().unwrap().epochs, e);
            assert!(rungs.windows(2).all(|w| w[0].epochs < w[1].epochs));
            assert!(rungs
                .windows(2)
                .all(|w| w[1].trials == (w[0].trials / eta).max(1)));
        }
    }

    #[test]
    fn bad_halving_settings_are_refused_naming_the_flag() {
        let e = |s: Search| s.check(10).unwrap_err().to_string();
        assert!(e(Search::Halving {
            min_epochs: 0,
            eta: 3
        })
        .contains("--min-epochs 0"));
        assert!(e(Search::Halving {
            min_epochs: 11,
            eta: 3
        })
        .contains("--epochs (10)"));
        assert!(e(Search::Halving {
            min_epochs: 1,
            eta: 1
        })
        .contains("--eta"));
        Search::Halving {
            min_epochs: 10,
            eta: 2,
        }
        .check(10)
        .unwrap();
    }
}
