//! A study: what is searched, how, and what every trial shares.

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::{Rung, Search, SearchSpace, TuneError};
use crate::train::TrainConfig;

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
    /// The settings of every trial apart from what is searched (the epochs, the training
    /// seed, ...); its `epochs` are the most a trial runs.
    pub base: TrainConfig,
    /// How trials are run: each for all its epochs, or by successive halving.
    #[serde(default)]
    pub search: Search,
}

impl Study {
    /// A study, checked: at least one trial, a search space every value of which makes `base`
    /// a valid configuration ([`SearchSpace::check`]), and a search that fits `base`'s epochs.
    pub fn new(
        data: String,
        seed: u64,
        trials: usize,
        space: SearchSpace,
        base: TrainConfig,
        search: Search,
    ) -> Result<Study, TuneError> {
        if trials == 0 {
            let problem = "0: a study needs at least 1 trial".to_owned();
            return Err(TuneError::Space {
                setting: "trials",
                problem,
            });
        }
        base.validate().map_err(|e| TuneError::Space {
            setting: "base",
            problem: e.to_string(),
        })?;
        space.check(&base)?;
        search.check(base.epochs)?;
        Ok(Study {
            data,
            seed,
            trials,
            space,
            base,
            search,
        })
    }

    /// The rungs trials climb: one rung of every trial for all the epochs for a random search.
    pub fn rungs(&self) -> Vec<Rung> {
        self.search.rungs(self.trials, self.base.epochs)
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

    /// Trial `index`'s configuration: `base` with each searched hyperparameter drawn from the
    /// trial's own generator ([`SearchSpace::draw`]).
    ///
    /// ```
    /// use tapegrad_net::train::TrainConfig;
    /// use tapegrad_net::tune::{Search, SearchSpace, Study};
    /// let study = Study::new(
    ///     "digits".into(), 7, 10, SearchSpace::defaults(), TrainConfig::default(), Search::Random,
    /// )?;
    /// assert_eq!(study.trial_config(3)?, study.clone().trial_config(3)?);
    /// assert_ne!(study.trial_config(3)?.lr, study.trial_config(4)?.lr);
    /// # Ok::<(), tapegrad_net::tune::TuneError>(())
    /// ```
    pub fn trial_config(&self, index: usize) -> Result<TrainConfig, TuneError> {
        self.space.draw(&mut self.trial_rng(index), &self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::Distribution;

    fn space() -> SearchSpace {
        let entries = [
            ("lr", Distribution::log_uniform(1e-4, 1e-1)),
            ("reg", Distribution::log_uniform(1e-6, 1e-2)),
            (
                "hidden",
                Distribution::choice([vec![10], vec![20], vec![30, 10]]),
            ),
        ];
        SearchSpace(
            entries
                .map(|(k, d)| (k.to_owned(), d))
                .into_iter()
                .collect(),
        )
    }

    fn study(seed: u64) -> Study {
        let base = TrainConfig::default();
        Study::new("digits".into(), seed, 50, space(), base, Search::Random).unwrap()
    }

    #[test]
    fn trial_configuration_depends_only_on_the_study_and_the_index() {
        let s = study(3);
        let forward: Vec<TrainConfig> = (0..50).map(|i| s.trial_config(i).unwrap()).collect();
        let backward: Vec<TrainConfig> =
            (0..50).rev().map(|i| s.trial_config(i).unwrap()).collect();
        for (i, config) in forward.iter().enumerate() {
            assert_eq!(config, &backward[49 - i], "trial {i}");
        }
        // Every trial draws its own values, and another seed draws others.
        let lrs: std::collections::BTreeSet<u64> = forward.iter().map(|c| c.lr.to_bits()).collect();
        assert_eq!(lrs.len(), 50);
        assert_ne!(study(4).trial_config(0).unwrap(), forward[0]);
    }

    #[test]
    fn trial_configurations_stay_in_the_search_space_and_use_every_hidden_choice() {
        let s = study(0);
        let mut used = std::collections::BTreeSet::new();
        for i in 0..50 {
            let c = s.trial_config(i).unwrap();
            assert!(
                (1e-4..=1e-1).contains(&c.lr) && (1e-6..=1e-2).contains(&c.reg),
                "{c:?}"
            );
            assert_eq!((c.epochs, c.seed), (s.base.epochs, s.base.seed));
            assert_eq!(
                (c.batch_size, c.optimizer),
                (s.base.batch_size, s.base.optimizer)
            );
            used.insert(c.hidden);
        }
        assert_eq!(used.len(), 3);
    }

    #[test]
    fn a_study_survives_a_trip_through_json_exactly() {
        let mut s = study(9);
        s.space = SearchSpace::defaults();
        s.search = Search::Halving {
            min_epochs: 2,
            eta: 3,
        };
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Study>(&text).unwrap(), s);
    }

    #[test]
    fn bad_studies_are_refused_naming_the_setting() {
        let s = study(0);
        let with = |f: &dyn Fn(&mut SearchSpace)| {
            let mut space = s.space.clone();
            f(&mut space);
            Study::new("digits".into(), 0, 5, space, s.base.clone(), Search::Random)
                .unwrap_err()
                .to_string()
        };
        let set = |k: &'static str, d: Distribution| {
            move |sp: &mut SearchSpace| {
                sp.0.insert(k.to_owned(), d.clone());
            }
        };
        assert!(with(&set("lr", Distribution::log_uniform(0.1, 0.01))).starts_with("lr "));
        assert!(with(&set("reg", Distribution::log_uniform(0.0, 0.01))).starts_with("reg "));
        assert!(with(&set("hidden", Distribution::Choice(vec![]))).starts_with("hidden"));
        assert!(with(&set("hidden", Distribution::choice([[0]]))).starts_with("hidden"));
        let none = Study::new(
            "digits".into(),
            0,
            0,
            s.space.clone(),
            s.base.clone(),
            Search::Random,
        );
        assert!(none.unwrap_err().to_string().starts_with("trials"));
        let halving = Search::Halving {
            min_epochs: 100,
            eta: 3,
        };
        let long = Study::new(
            "digits".into(),
            0,
            5,
            s.space.clone(),
            s.base.clone(),
            halving,
        );
        assert!(long.unwrap_err().to_string().contains("--min-epochs"));
    }
}
