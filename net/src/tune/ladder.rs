//! Where a study stands, replayed from its files: each rung's results, which trials each rung
//! promotes, and what is left to run.
//!
//! Every decision is a function of the files alone: rung `k + 1`'s entrants are the best
//! [`Rung::trials`] of rung `k`'s results ([`TrialResult::ranking`], diverged trials never
//! promoted), decided only once every entrant of rung `k` has its result. Since each trial's
//! training is deterministic, a synchronous halving study gives the same rungs, promotions and
//! results however many processes run it, in whatever order and timing.
//!
//! An ASHA study ([`Search::Asha`](super::Search::Asha)) records each promotion as it is
//! decided, in a claim file created once (`promoted-K.json`, [`claim_file`]); its rung `k`'s
//! entrants are the trials claimed for it. The claims say what was decided; which trials get
//! claimed depends on the order results arrive.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{
    claim_file, rung_file, trial_dir, Rung, Shard, Study, TrialOutcome, TrialResult, TuneError,
};

/// A study's rungs and the results each holds so far.
#[derive(Debug, Clone)]
pub struct Ladder {
    /// The study's rungs ([`Study::rungs`]).
    pub rungs: Vec<Rung>,
    /// Per rung, each finished trial's result there, by trial.
    pub results: Vec<BTreeMap<usize, TrialResult>>,
    /// Per rung, the trials claimed for it (ASHA's promotions; empty for other searches).
    pub claims: Vec<BTreeSet<usize>>,
    /// Whether promotions are claimed as results arrive (ASHA), or decided per full rung.
    asynchronous: bool,
    /// The reduction factor.
    eta: usize,
}

/// A promotion ASHA may claim: trial `trial` to rung `rung`, at `place` (from 0) among the `of`
/// ranked results of the rung below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Promotion {
    /// The rung promoted to.
    pub rung: usize,
    /// The trial.
    pub trial: usize,
    /// Its place in the rung below's ranking when decided, from 0.
    pub place: usize,
    /// How many results that ranking held.
    pub of: usize,
}

impl Ladder {
    /// The ladder of `study` holding `results` (each put on its rung; a later one of the same
    /// trial and rung replaces an earlier one) and the claims `(rung, trial)`.
    pub fn new(
        study: &Study,
        results: impl IntoIterator<Item = TrialResult>,
        claims: impl IntoIterator<Item = (usize, usize)>,
    ) -> Ladder {
        let rungs = study.rungs();
        let mut by_rung = vec![BTreeMap::new(); rungs.len()];
        for result in results {
            if let Some(rung) = by_rung.get_mut(result.rung) {
                rung.insert(result.trial, result);
            }
        }
        let mut claimed = vec![BTreeSet::new(); rungs.len()];
        for (rung, trial) in claims {
            if let Some(set) = claimed.get_mut(rung) {
                set.insert(trial);
            }
        }
        Ladder {
            rungs,
            results: by_rung,
            claims: claimed,
            asynchronous: study.search.is_asynchronous(),
            eta: study.search.eta().unwrap_or(2),
        }
    }

    /// The promotions ASHA may claim now, the highest rung first: on each rung, the best
    /// `⌊n/eta⌋` of its `n` results (diverged ones left out) not yet claimed for the next.
    pub fn promotable(&self) -> Vec<Promotion> {
        let mut found = Vec::new();
        for rung in (0..self.rungs.len().saturating_sub(1)).rev() {
            let mut ranked: Vec<&TrialResult> = (self.results[rung].values())
                .filter(|r| r.metrics.outcome != TrialOutcome::Diverged)
                .collect();
            ranked.sort_by(|a, b| TrialResult::ranking(a, b));
            let top = ranked.len() / self.eta;
            for (place, r) in ranked.iter().enumerate().take(top) {
                if !self.claims[rung + 1].contains(&r.trial) {
                    found.push(Promotion {
                        rung: rung + 1,
                        trial: r.trial,
                        place,
                        of: ranked.len(),
                    });
                }
            }
        }
        found
    }

    /// The ladder of `study` in the study folder `dir`: every trial's results on every rung
    /// (`rung-K.json` for a halving study, else `result.json`). A result of another study is
    /// [`TuneError::DifferentStudies`].
    pub fn read(dir: &Path, study: &Study) -> Result<Ladder, TuneError> {
        let mut results = Vec::new();
        let mut claims = Vec::new();
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
            if study.search.is_asynchronous() {
                claims.extend(
                    (1..rungs)
                        .filter(|&k| claim_file(&trial, k).is_file())
                        .map(|k| (k, index)),
                );
            }
        }
        Ok(Ladder::new(study, results, claims))
    }

    /// The trials that run rung `rung`, best first, or `None` while that is undecided (a trial
    /// of the rung before has yet to finish it).
    pub fn entrants(&self, rung: usize) -> Option<Vec<usize>> {
        if rung == 0 {
            return Some((0..self.rungs.first()?.trials).collect());
        }
        if self.asynchronous {
            return Some(self.claims.get(rung)?.iter().copied().collect());
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
    ///
    /// For ASHA: the claimed promotions not yet run, then the promotions to claim
    /// ([`promotable`](Self::promotable)), then rung 0 as above.
    pub fn todo(&self, shard: Shard, steal: bool) -> Vec<(usize, usize)> {
        let mut work = Vec::new();
        if self.asynchronous {
            for rung in (1..self.rungs.len()).rev() {
                let open = self.claims[rung]
                    .iter()
                    .filter(|t| !self.results[rung].contains_key(t));
                work.extend(open.map(|&t| (rung, t)));
            }
            work.extend(self.promotable().iter().map(|p| (p.rung, p.trial)));
            let entrants = self.entrants(0).unwrap_or_default();
            let left = entrants
                .into_iter()
                .filter(|t| !self.results[0].contains_key(t));
            let (mine, theirs): (Vec<usize>, Vec<usize>) = left.partition(|&t| shard.contains(t));
            work.extend(mine.into_iter().map(|t| (0, t)));
            if steal {
                work.extend(theirs.into_iter().map(|t| (0, t)));
            }
            return work;
        }
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

    /// Whether every rung is decided and every entrant has finished it (for ASHA: and nothing
    /// is left to promote).
    pub fn is_complete(&self) -> bool {
        if self.asynchronous && !self.promotable().is_empty() {
            return false;
        }
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
