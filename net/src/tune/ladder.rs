//! Where a study stands, replayed from its files: each rung's results, which trials each rung
//! promotes, and what is left to run.
//!
//! Every decision is a function of the files alone: rung `k + 1`'s entrants are the best
//! [`Rung::trials`] of rung `k`'s results ([`TrialResult::ranking`], diverged trials never
//! promoted), decided only once every entrant of rung `k` has its result. Since each trial's
//! training is deterministic, a synchronous halving study gives the same rungs, promotions and
//! results however many processes run it, in whatever order and timing.

use std::collections::BTreeMap;
use std::path::Path;

use super::{rung_file, trial_dir, Rung, Shard, Study, TrialOutcome, TrialResult, TuneError};

/// A study's rungs and the results each holds so far.
#[derive(Debug, Clone)]
pub struct Ladder {
    /// The study's rungs ([`Study::rungs`]).
    pub rungs: Vec<Rung>,
    /// Per rung, each finished trial's result there, by trial.
    pub results: Vec<BTreeMap<usize, TrialResult>>,
}

impl Ladder {
    /// The ladder of `study` holding `results` (each put on its rung; a later one of the same
    /// trial and rung replaces an earlier one).
    pub fn new(study: &Study, results: impl IntoIterator<Item = TrialResult>) -> Ladder {
        let rungs = study.rungs();
        let mut by_rung = vec![BTreeMap::new(); rungs.len()];
        for result in results {
            if let Some(rung) = by_rung.get_mut(result.rung) {
                rung.insert(result.trial, result);
            }
        }
        Ladder {
            rungs,
            results: by_rung,
        }
    }

    /// The ladder of `study` in the study folder `dir`: every trial's results on every rung
    /// (`rung-K.json` for a halving study, else `result.json`). A result of another study is
    /// [`TuneError::DifferentStudies`].
    pub fn read(dir: &Path, study: &Study) -> Result<Ladder, TuneError> {
        let mut results = Vec::new();
        let mut first: Option<std::path::PathBuf> = None;
        for index in 0..study.trials {
            let trial = trial_dir(dir, index);
            let rungs = study.rungs().len();
            for (rung, path) in result_files(&trial, rungs).into_iter().enumerate() {
                if !path.is_file() {
                    continue;
                }
                let result = TrialResult::load(&path)?;
                // A result file is its folder's trial's, at its file's rung (a random
                // search's `result.json` is rung 0).
                if result.trial != index || result.rung != rung {
                    return Err(TuneError::BadResult {
                        path,
                        problem: format!(
                            "holds trial {} at rung {}, but its place is trial {index} at rung \
                             {rung}",
                            result.trial, result.rung
                        ),
                    });
                }
                if &result.study != study {
                    return Err(TuneError::DifferentStudies {
                        first: first.unwrap_or_else(|| dir.to_owned()),
                        second: path,
                    });
                }
                first.get_or_insert(path);
                results.push(result);
            }
        }
        Ok(Ladder::new(study, results))
    }

    /// The trials that run rung `rung`, best first, or `None` while that is undecided (a trial
    /// of the rung before has yet to finish it).
    pub fn entrants(&self, rung: usize) -> Option<Vec<usize>> {
        if rung == 0 {
            return Some((0..self.rungs.first()?.trials).collect());
        }
        let before = self.entrants(rung - 1)?;
        let results = &self.results[rung - 1];
        if !before.iter().all(|t| results.contains_key(t)) {
            return None;
        }
        let mut ranked: Vec<&TrialResult> = (before.iter())
            .filter_map(|t| results.get(t))
            .filter(|r| r.metrics.outcome != TrialOutcome::Diverged)
            .collect();
        ranked.sort_by(|a, b| TrialResult::ranking(a, b));
        let count = self.rungs.get(rung)?.trials;
        Some(ranked.iter().take(count).map(|r| r.trial).collect())
    }

    /// What is left to run, as `(rung, trial)`, on the rungs decided so far: the lower rung
    /// first, and in a rung `shard`'s own first (rung 0: `trial mod N == K`; a later rung: the
    /// entrant at place `j`, `j mod N == K`), then, if `steal`, every other shard's.
    pub fn todo(&self, shard: Shard, steal: bool) -> Vec<(usize, usize)> {
        let mut work = Vec::new();
        for rung in 0..self.rungs.len() {
            let Some(entrants) = self.entrants(rung) else {
                break;
            };
            let mut theirs = Vec::new();
            for (place, &trial) in entrants.iter().enumerate() {
                if self.results[rung].contains_key(&trial) {
                    continue;
                }
                match shard.contains(place) {
                    true => work.push((rung, trial)),
                    false => theirs.push((rung, trial)),
                }
            }
            if steal {
                work.extend(theirs);
            }
        }
        work
    }

    /// Whether every rung is decided and every entrant has finished it.
    pub fn is_complete(&self) -> bool {
        (0..self.rungs.len()).all(|rung| {
            self.entrants(rung)
                .is_some_and(|e| e.iter().all(|t| self.results[rung].contains_key(t)))
        })
    }

    /// The first rung not yet decided or not yet finished, with its entrants that have no
    /// result (empty while undecided).
    pub fn waiting_on(&self) -> Option<(usize, Vec<usize>)> {
        (0..self.rungs.len()).find_map(|rung| match self.entrants(rung) {
            None => Some((rung, Vec::new())),
            Some(e) => {
                let left: Vec<usize> = (e.into_iter())
                    .filter(|t| !self.results[rung].contains_key(t))
                    .collect();
                (!left.is_empty()).then_some((rung, left))
            }
        })
    }
}

/// The result files of a trial folder of a study of `rungs` rungs, in rung order.
pub fn result_files(trial: &Path, rungs: usize) -> Vec<std::path::PathBuf> {
    match rungs {
        1 => vec![trial.join(super::RESULT_FILE)],
        _ => (0..rungs).map(|k| rung_file(trial, k)).collect(),
    }
}

#[cfg(test)]
mod tests;
