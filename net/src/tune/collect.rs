//! Merging the finished trials of any set of study, shard or trial folders.

use std::fs;
use std::path::{Path, PathBuf};

use super::{
    claim_file, is_trial_dir, result_files, Ladder, Study, TrialResult, TuneError, RESULT_FILE,
};

/// The finished trials of one study, ranked, and what is missing.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The study they belong to.
    pub study: Study,
    /// Each finished trial's folder and latest result, best first
    /// ([`TrialResult::ranking`]: trials with a model before diverged ones, then the higher
    /// rung, then by validation accuracy (higher first), validation loss, index).
    pub ranked: Vec<(PathBuf, TrialResult)>,
    /// The study's trials with no result in any folder given, in order.
    pub missing: Vec<usize>,
    /// The rungs of a halving study with work left (promotions not run yet, or not decided
    /// yet), as `(rung, trials without a result there)`; empty for a finished study.
    pub unfinished: Option<(usize, Vec<usize>)>,
    /// Trials found in more than one folder (the first found is kept), in order.
    pub duplicates: Vec<usize>,
}

/// Reads every finished trial in `dirs` (each a study folder holding `trial-*/` folders, or
/// one trial folder) and ranks them. Trials of different studies, or no trial at all, are
/// errors; a missing trial is not (see [`Collection::missing`]).
pub fn collect(dirs: &[PathBuf]) -> Result<Collection, TuneError> {
    let mut found: Vec<(PathBuf, TrialResult)> = Vec::new();
    for dir in dirs {
        for trial_dir in trial_dirs(dir)? {
            let path = trial_dir.join(RESULT_FILE);
            let result = TrialResult::load(&path)?;
            if let Some((first, other)) = found.first() {
                if other.study != result.study {
                    return Err(TuneError::DifferentStudies {
                        first: first.join(RESULT_FILE),
                        second: path,
                    });
                }
            }
            found.push((trial_dir, result));
        }
    }
    let Some(study) = found.first().map(|(_, r)| r.study.clone()) else {
        let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        return Err(TuneError::NoTrials {
            dirs: names.join(", "),
        });
    };
    let mut seen = vec![false; study.trials];
    let mut duplicates = Vec::new();
    found.retain(|(_, r)| {
        let first = !seen[r.trial];
        if !first {
            duplicates.push(r.trial);
        }
        seen[r.trial] = true;
        first
    });
    duplicates.sort_unstable();
    duplicates.dedup();
    let missing = (0..study.trials).filter(|&i| !seen[i]).collect();
    // A halving study's rungs, replayed from the rung files of the trials found.
    let rungs = study.rungs().len();
    let (mut results, mut claims) = (Vec::new(), Vec::new());
    for (dir, found) in found.iter().filter(|_| rungs > 1) {
        for path in result_files(dir, rungs).into_iter().filter(|p| p.is_file()) {
            results.push(TrialResult::load(&path)?);
        }
        let claimed = (1..rungs).filter(|&k| claim_file(dir, k).is_file());
        claims.extend(claimed.map(|k| (k, found.trial)));
    }
    let unfinished = match rungs {
        1 => None,
        _ => {
            let ladder = Ladder::new(&study, results, claims);
            // ASHA: a promotion due but never claimed (its process was killed first).
            let due = ladder.promotable();
            let due = due.first().map(|p| {
                let trials = due.iter().filter(|q| q.rung == p.rung).map(|q| q.trial);
                (p.rung, trials.collect())
            });
            (ladder.waiting_on().filter(|(rung, _)| *rung > 0)).or(due)
        }
    };
    found.sort_by(|(_, a), (_, b)| TrialResult::ranking(a, b));
    Ok(Collection {
        study,
        ranked: found,
        missing,
        unfinished,
        duplicates,
    })
}

/// The finished trial folders of `dir`, sorted: `dir` itself if it is one, else its
/// `trial-*` subfolders that hold a `result.json`.
fn trial_dirs(dir: &Path) -> Result<Vec<PathBuf>, TuneError> {
    if dir.join(RESULT_FILE).is_file() {
        return Ok(vec![dir.to_owned()]);
    }
    let read = |source| TuneError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut dirs = Vec::new();
    for entry in fs::read_dir(dir).map_err(read)? {
        let entry = entry.map_err(read)?;
        let name = entry.file_name();
        if name.to_str().is_some_and(is_trial_dir) && entry.path().join(RESULT_FILE).is_file() {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    Ok(dirs)
}
