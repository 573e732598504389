//! `tapegrad tune`: runs a study's work, all of it or one shard's, each trial in its own trial
//! folder: every trial for all its epochs (random search), or rung by rung (successive
//! halving, [`Ladder`]); a whole study is then collected ([`collect`]) into the study folder.
//! Ctrl-C stops after the current epoch: the trial's state is saved, finished trials are kept,
//! and `--resume` continues; the exit code is 130.

pub mod collect;
mod study_flags;
mod worker;

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;
use std::time::Duration;

use tapegrad_net::data::{self, MeanImage};
use tapegrad_net::tune::{
    self, config_value, value_label, Ladder, Search, Shard, Study, TrialOutcome, TrialResult,
    RESULT_FILE,
};

use crate::args::{TuneArgs, TuneCommand};
use crate::failure::{Failure, Outcome};
use crate::interrupt::Interrupt;
use crate::run_folder::RunFolder;
use worker::{run_rung, Bench, Ran};

/// How long a halving shard waits between two looks at the study folder while other
/// processes finish a rung.
const POLL: Duration = Duration::from_millis(500);

/// Runs `tune` or `tune collect`.
pub fn run(args: &TuneArgs) -> Outcome {
    if let Some(TuneCommand::Collect(c)) = &args.command {
        return collect::run(c);
    }
    super::set_threads(args.threads);
    let interrupt = Interrupt::catch();
    if args.trials == 0 || args.epochs == 0 {
        return Err(Failure::input("--trials and --epochs must be at least 1"));
    }
    let spec = args.data.spec();
    let study = study_flags::study_of(args, &spec)?;
    let shard = args.shard.unwrap_or(Shard::WHOLE);
    // A whole study owns its folder; shards share theirs, each trial locked on its own.
    let (folder, dir) = match (args.shard, args.resume, &args.out) {
        (None, false, out) => {
            let prefix = format!("tune-{spec}");
            let folder = RunFolder::create(out.as_deref(), &prefix, "tune", args.overwrite)?;
            let dir = folder.path().to_owned();
            (Some(folder), dir)
        }
        (None, true, Some(out)) => (Some(RunFolder::resume(out, "tune")?), out.clone()),
        (_, _, Some(out)) => {
            fs::create_dir_all(out).map_err(|e| {
                Failure::input(format!("--out {}: cannot create it: {e}", out.display()))
            })?;
            (None, out.clone())
        }
        (Some(_), _, None) | (None, true, None) => {
            return Err(Failure::input(
                "--shard and --resume need --out, the study folder",
            ));
        }
    };
    check_earlier_trials(&dir, &study, shard, args.resume)?;

    let mut splits = data::load(&spec, args.seed)?;
    splits.train.check_trainable()?;
    // Every trial's configuration is checked against the data and the memory before any
    // trial runs.
    let (d, c, n) = (
        splits.train.dim(),
        splits.train.classes(),
        splits.train.len(),
    );
    for index in 0..study.trials {
        study.trial_config(index)?.check_fits(d, c, n)?;
    }
    let mean = MeanImage::fit_apply_with(&mut splits, study.base.standardize)?;
    let bench = Bench {
        study: &study,
        dir: &dir,
        splits: &splits,
        mean: &mean,
        spec: &spec,
    };
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{}", header(&study))?;
    // Halving shards help each other (any process takes any unclaimed work, its own first);
    // a random search's shard runs its own trials only.
    let halving = study.search != Search::Random;
    let (mut ran, mut waiting) = (0, None);
    // What --resume skips: this shard's finished trials (all finished rungs, for halving).
    let skipped: usize = (Ladder::read(&dir, &study)?.results.iter())
        .map(|rung| {
            rung.keys()
                .filter(|&&t| halving || shard.contains(t))
                .count()
        })
        .sum();
    loop {
        let ladder = Ladder::read(&dir, &study)?;
        let mut progressed = false;
        let promotions = ladder.promotable();
        for (rung, index) in ladder.todo(shard, halving) {
            let stop = || interrupt.requested();
            let claim = promotions
                .iter()
                .find(|p| (p.rung, p.trial) == (rung, index));
            match run_rung(&bench, rung, index, claim, &stop)? {
                Ran::Done(result) => {
                    writeln!(stdout, "{}", row(&study, &result))?;
                    ran += 1;
                    progressed = true;
                    // ASHA decides on the results as they stand: look again after each.
                    if study.search.is_asynchronous() {
                        break;
                    }
                }
                Ran::Taken(holder) if !halving => {
                    return Err(Failure::input(format!(
                        "trial {index} in {} is in use by {holder}; two processes run the \
                         same shard",
                        dir.display()
                    )));
                }
                Ran::Taken(_) => {}
                Ran::Interrupted { trial, epoch } => {
                    return Err(interrupted(args, &dir).line(format!(
                        "trial {index} is saved at epoch {epoch} in {}",
                        trial.display()
                    )));
                }
            }
            if interrupt.requested() {
                return Err(interrupted(args, &dir));
            }
        }
        if progressed {
            continue;
        }
        if !halving || ladder.is_complete() {
            break;
        }
        // Other processes hold the rest of this rung: wait for their results.
        let now = ladder.waiting_on();
        if now != waiting {
            if let Some((rung, trials)) = &now {
                writeln!(
                    stdout,
                    "waiting for rung {rung} (trials {}) to be finished by the other shards \
                     in {} (halving shards share one --out)",
                    numbers(trials),
                    dir.display()
                )?;
            }
            waiting = now;
        }
        std::thread::sleep(POLL);
        if interrupt.requested() {
            return Err(interrupted(args, &dir));
        }
    }
    if skipped > 0 {
        let what = if halving { "rungs" } else { "trials" };
        writeln!(stdout, "{skipped} finished {what} skipped (--resume)")?;
    }
    if args.shard.is_some() {
        writeln!(
            stdout,
            "shard {shard}: {ran} {} run into {}; when every shard is done, \
             `tapegrad tune collect {}` merges them",
            if halving { "rungs" } else { "trials" },
            dir.display(),
            dir.display()
        )?;
        return Ok(());
    }
    drop(stdout);
    collect::collect_into(std::slice::from_ref(&dir), &dir)?;
    drop(folder);
    Ok(())
}

/// The table's header: the trial, its rung and epochs, each searched hyperparameter, the
/// accuracies and the seconds.
fn header(study: &Study) -> String {
    let mut line = format!("{:>5} {:>4} {:>6}", "trial", "rung", "epochs");
    for (name, _) in study.space.searched() {
        line.push_str(&format!(" {name:>10}"));
    }
    line + &format!(" {:>9} {:>9} {:>8}", "train", "val", "seconds")
}

/// One finished rung of a trial, as a row under [`header`].
fn row(study: &Study, result: &TrialResult) -> String {
    let m = &result.metrics;
    let mut line = format!("{:>5} {:>4} {:>6}", result.trial, result.rung, m.epochs_run);
    for (name, distribution) in study.space.searched() {
        let value = config_value(&result.config, name);
        let text = match value.as_f64() {
            Some(v) if distribution.is_log() => format!("{v:.3e}"),
            Some(v) if !value.is_u64() => format!("{v:.4}"),
            _ => value_label(&value),
        };
        line.push_str(&format!(" {text:>10}"));
    }
    line += &format!(
        " {:>8.2}% {:>8.2}% {:>8.2}",
        100.0 * m.train_accuracy,
        100.0 * m.val_accuracy,
        m.seconds
    );
    if m.outcome == TrialOutcome::Diverged {
        line.push_str("  diverged");
    }
    line
}

/// What Ctrl-C leaves: the finished trials and rungs kept, and how to continue.
fn interrupted(args: &TuneArgs, dir: &Path) -> Failure {
    let shard = args
        .shard
        .map(|s| format!(" --shard {s}"))
        .unwrap_or_default();
    Failure::interrupted(format!(
        "interrupted: the finished trials are kept in {}",
        dir.display()
    ))
    .line(format!(
        "continue with the same flags and{shard} --resume --out {}",
        dir.display()
    ))
}

/// Trial numbers as `3, 7, 11` (the first 20, then how many more).
pub fn numbers(trials: &[usize]) -> String {
    let shown: Vec<String> = trials.iter().take(20).map(usize::to_string).collect();
    match trials.len() {
        n if n > 20 => format!("{} and {} more", shown.join(", "), n - 20),
        _ => shown.join(", "),
    }
}

/// Refuses a folder holding another study's trials, and, without `resume`, one where a trial
/// of this shard of a random search is already finished (halving shards share their work).
fn check_earlier_trials(dir: &Path, study: &Study, shard: Shard, resume: bool) -> Outcome {
    let collection = match tune::collect(&[dir.to_path_buf()]) {
        Ok(c) => c,
        Err(tune::TuneError::NoTrials { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let (first, _) = &collection.ranked[0];
    if &collection.study != study {
        return Err(Failure::input(format!(
            "--out {}: holds the trials of another study ({} and more); these flags define a \
             different one (search space, seed, trial count or shared settings); choose \
             another --out, or repeat the study's flags",
            dir.display(),
            first.display()
        )));
    }
    if study.search != Search::Random {
        return Ok(());
    }
    let mine = collection
        .ranked
        .iter()
        .find(|(_, r)| shard.contains(r.trial));
    match mine {
        Some((path, _)) if !resume => Err(Failure::input(format!(
            "--out {}: trial {} of this study is finished already ({}); pass --resume to \
             skip finished trials",
            dir.display(),
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            path.join(RESULT_FILE).display()
        ))),
        _ => Ok(()),
    }
}
