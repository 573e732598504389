//! A study: what is searched, how, and what every trial shares.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::TuneError;
use crate::train::TrainConfig;

/// A range sampled log-uniformly: `exp(uniform(ln min, ln max))`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRange {
    /// The smallest value, above zero.
    pub min: f64,
    /// The largest value, at least `min`.
    pub max: f64,
}

impl LogRange {
    /// One value drawn from `rng`.
    fn sample(self, rng: &mut StdRng) -> f64 {
        let (lo, hi) = (self.min.ln(), self.max.ln());
        (lo + (hi - lo) * rng.random::<f64>()).exp()
    }

    /// Checks `0 < min <= max < inf`.
    fn check(self, setting: &'static str) -> Result<(), TuneError> {
        if self.min > 0.0 && self.max >= self.min && self.max.is_finite() {
            return Ok(());
        }
        Err(TuneError::Space {
            setting,
            problem: format!(
                "{} {}: takes MIN MAX with 0 < MIN <= MAX",
                self.min, self.max
            ),
        })
    }
}

/// What a study searches: the learning rate and regularisation strength log-uniformly, the
/// hidden sizes from a list of choices (each one size per hidden layer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSpace {
    /// Learning rates.
    pub lr: LogRange,
    /// Regularisation strengths.
    pub reg: LogRange,
    /// Hidden sizes to choose from, uniformly: `[[100], [512, 256]]`.
    pub hidden: Vec<Vec<usize>>,
}

/// A study: its search space, seed and number of trials, the data and the settings every trial
/// shares. Trial `i`'s configuration depends on nothing else ([`Study::trial_config`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// The data source, as a command line names it (`digits`, `spiral:300,3`).
    pub data: String,
    /// The seed of the search (each trial's draw) and of the data split.
    pub seed: u64,
    /// How many trials the study has (`0..trials`).
    pub trials: usize,
    /// What is searched.
    pub space: SearchSpace,
    /// The settings of every trial apart from what is searched (epochs, batch size, optimizer,
    /// schedule, the training seed, ...).
    pub base: TrainConfig,
}

impl Study {
    /// A study, checked: at least one trial and one hidden choice, sampleable ranges, and a
    /// `base` that is a valid configuration with each hidden choice.
    pub fn new(
        data: String,
        seed: u64,
        trials: usize,
        space: SearchSpace,
        base: TrainConfig,
    ) -> Result<Study, TuneError> {
        if trials == 0 {
            let problem = "0: a study needs at least 1 trial".to_owned();
            return Err(TuneError::Space {
                setting: "trials",
                problem,
            });
        }
        space.lr.check("lr")?;
        space.reg.check("reg")?;
        if space.hidden.is_empty() {
            let problem = ": needs at least one choice".to_owned();
            return Err(TuneError::Space {
                setting: "hidden",
                problem,
            });
        }
        let study = Study {
            data,
            seed,
            trials,
            space,
            base,
        };
        for hidden in &study.space.hidden {
            let config = TrainConfig {
                hidden: hidden.clone(),
                lr: study.space.lr.min,
                reg: study.space.reg.min,
                ..study.base.clone()
            };
            config.validate().map_err(|e| TuneError::Space {
                setting: "hidden",
                problem: format!("choice: {e}"),
            })?;
        }
        Ok(study)
    }

    /// The generator of trial `index`'s draw: seeded by the study's seed and the index alone,
    /// so a trial draws the same values whichever trials ran before it, in whatever process.
    fn trial_rng(&self, index: usize) -> StdRng {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.seed.to_le_bytes());
        seed[8..16].copy_from_slice(&(index as u64).to_le_bytes());
        seed[16..24].copy_from_slice(b"tg-trial");
        StdRng::from_seed(seed)
    }

    /// Trial `index`'s configuration: `base` with a hidden size, learning rate and `reg` drawn
    /// from the trial's own generator.
    ///
    /// ```
    /// use tapegrad_net::train::TrainConfig;
    /// use tapegrad_net::tune::{LogRange, SearchSpace, Study};
    /// let space = SearchSpace {
    ///     lr: LogRange { min: 1e-4, max: 1e-2 },
    ///     reg: LogRange { min: 1e-6, max: 1e-2 },
    ///     hidden: vec![vec![50], vec![64, 32]],
    /// };
    /// let study = Study::new("digits".into(), 7, 10, space, TrainConfig::default())?;
    /// assert_eq!(study.trial_config(3), study.clone().trial_config(3));
    /// assert_ne!(study.trial_config(3).lr, study.trial_config(4).lr);
    /// # Ok::<(), tapegrad_net::tune::TuneError>(())
    /// ```
    pub fn trial_config(&self, index: usize) -> TrainConfig {
        let mut rng = self.trial_rng(index);
        let hidden = self.space.hidden[rng.random_range(0..self.space.hidden.len())].clone();
        let lr = self.space.lr.sample(&mut rng);
        let reg = self.space.reg.sample(&mut rng);
        TrainConfig {
            hidden,
            lr,
            reg,
            ..self.base.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study(seed: u64) -> Study {
        let space = SearchSpace {
            lr: LogRange {
                min: 1e-4,
                max: 1e-1,
            },
            reg: LogRange {
                min: 1e-6,
                max: 1e-2,
            },
            hidden: vec![vec![10], vec![20], vec![30, 10]],
        };
        Study::new("digits".into(), seed, 50, space, TrainConfig::default()).unwrap()
    }

    #[test]
    fn trial_configuration_depends_only_on_the_study_and_the_index() {
        let s = study(3);
        let forward: Vec<TrainConfig> = (0..50).map(|i| s.trial_config(i)).collect();
        let backward: Vec<TrainConfig> = (0..50).rev().map(|i| s.trial_config(i)).collect();
        for (i, config) in forward.iter().enumerate() {
            assert_eq!(config, &backward[49 - i], "trial {i}");
        }
        // Every trial draws its own values, and another seed draws others.
        let lrs: std::collections::BTreeSet<u64> = forward.iter().map(|c| c.lr.to_bits()).collect();
        assert_eq!(lrs.len(), 50);
        assert_ne!(study(4).trial_config(0), forward[0]);
    }

    #[test]
    fn trial_configurations_stay_in_the_search_space_and_use_every_hidden_choice() {
        let s = study(0);
        let mut used = std::collections::BTreeSet::new();
        for i in 0..50 {
            let c = s.trial_config(i);
            assert!(
                (1e-4..=1e-1).contains(&c.lr) && (1e-6..=1e-2).contains(&c.reg),
                "{c:?}"
            );
            assert!(s.space.hidden.contains(&c.hidden));
            assert_eq!((c.epochs, c.seed), (s.base.epochs, s.base.seed));
            used.insert(c.hidden);
        }
        assert_eq!(used.len(), 3);
    }

    #[test]
    fn a_study_survives_a_trip_through_json_exactly() {
        let s = study(9);
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Study>(&text).unwrap(), s);
    }

    #[test]
    fn bad_search_spaces_are_refused_naming_the_setting() {
        let s = study(0);
        let with = |f: &dyn Fn(&mut SearchSpace)| {
            let mut space = s.space.clone();
            f(&mut space);
            Study::new("digits".into(), 0, 5, space, s.base.clone())
                .unwrap_err()
                .to_string()
        };
        assert!(with(&|sp| sp.lr = LogRange {
            min: 0.1,
            max: 0.01
        })
        .starts_with("lr "));
        assert!(with(&|sp| sp.reg = LogRange {
            min: 0.0,
            max: 0.01
        })
        .starts_with("reg "));
        assert!(with(&|sp| sp.hidden.clear()).starts_with("hidden"));
        assert!(with(&|sp| sp.hidden = vec![vec![0]]).starts_with("hidden"));
        let none = Study::new("digits".into(), 0, 0, s.space.clone(), s.base.clone());
        assert!(none.unwrap_err().to_string().starts_with("trials"));
    }
}
