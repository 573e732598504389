//! `tapegrad tune`: runs a study's trials, all of them or one shard's, each into its own
//! trial folder; a whole study is then collected ([`collect`]) into the study folder.

pub mod collect;

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use tapegrad_net::atomic_write;
use tapegrad_net::checkpoint::{ModelInfo, SavedModel};
use tapegrad_net::data::{self, DataSpec, MeanImage, Splits};
use tapegrad_net::train::TrainConfig;
use tapegrad_net::tune::{
    self, run_trial, trial_dir, LogRange, SearchSpace, Shard, Study, TrialResult, RESULT_FILE,
};

use crate::args::{TuneArgs, TuneCommand};
use crate::failure::{Failure, Outcome};
use crate::run_folder::{FolderLock, RunFolder};

/// Runs `tune` or `tune collect`.
pub fn run(args: &TuneArgs) -> Outcome {
    if let Some(TuneCommand::Collect(c)) = &args.command {
        return collect::run(c);
    }
    super::set_threads(args.threads);
    if args.trials == 0 || args.epochs == 0 || args.batch_size == 0 {
        return Err(Failure::input(
            "--trials, --epochs and --batch-size must be at least 1",
        ));
    }
    let spec = args.data.spec();
    let study = study_of(args, &spec)?;
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
    // Every hidden choice is checked against the data and the memory before any trial runs.
    let (d, c, n) = (
        splits.train.dim(),
        splits.train.classes(),
        splits.train.len(),
    );
    for hidden in &study.space.hidden {
        let config = TrainConfig {
            hidden: hidden.clone(),
            ..study.base.clone()
        };
        config.check_fits(d, c, n)?;
    }
    let mean = MeanImage::fit_apply_with(&mut splits, study.base.standardize)?;
    let mut stdout = io::stdout().lock();
    writeln!(
        stdout,
        "{:>5} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}",
        "trial", "lr", "reg", "hidden", "train", "val", "seconds"
    )?;
    let (mut ran, mut skipped) = (0, 0);
    for index in shard.trials(study.trials) {
        let trial = trial_dir(&dir, index);
        if trial.join(RESULT_FILE).is_file() {
            skipped += 1;
            continue;
        }
        let result = run_one(&study, index, &trial, &splits, &mean, &spec)?;
        let m = &result.metrics;
        writeln!(
            stdout,
            "{index:>5} {:>10.3e} {:>10.3e} {:>9} {:>8.2}% {:>8.2}% {:>7.2}{}",
            result.config.lr,
            result.config.reg,
            result.config.hidden_text(),
            100.0 * m.train_accuracy,
            100.0 * m.val_accuracy,
            m.seconds,
            match m.outcome {
                tune::TrialOutcome::Diverged => "  diverged",
                _ => "",
            }
        )?;
        ran += 1;
    }
    if skipped > 0 {
        writeln!(stdout, "{skipped} finished trials skipped (--resume)")?;
    }
    if args.shard.is_some() {
        writeln!(
            stdout,
            "shard {shard}: {ran} trials run into {}; when every shard is done, \
             `tapegrad tune collect {}` merges them",
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

/// The study the flags define.
fn study_of(args: &TuneArgs, spec: &DataSpec) -> Outcome<Study> {
    let range = |r: &[f64]| LogRange {
        min: r.first().copied().unwrap_or(f64::NAN),
        max: r.get(1).copied().unwrap_or(f64::NAN),
    };
    let space = SearchSpace {
        lr: range(&args.lr),
        reg: range(&args.reg),
        hidden: args.hidden.iter().map(|h| h.0.clone()).collect(),
    };
    let base = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        optimizer: args.optimizer.kind(),
        seed: args.seed,
        ..TrainConfig::for_data(spec)
    };
    Ok(Study::new(
        spec.to_string(),
        args.seed,
        args.trials,
        space,
        base,
    )?)
}

/// Refuses a folder holding another study's trials, and, without `resume`, one where a trial
/// of this shard is already finished.
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

/// Runs one trial into its folder, holding the folder's lock: the model, then `result.json`.
fn run_one(
    study: &Study,
    index: usize,
    trial: &PathBuf,
    splits: &Splits,
    mean: &MeanImage,
    spec: &DataSpec,
) -> Outcome<TrialResult> {
    fs::create_dir_all(trial).map_err(|e| {
        Failure::running(format!(
            "cannot create the trial folder {}: {e}",
            trial.display()
        ))
    })?;
    let _lock = FolderLock::acquire(trial, "tune")?;
    atomic_write::remove_stale_temporaries(trial)
        .map_err(|e| Failure::running(format!("cannot clean {}: {e}", trial.display())))?;
    let finished = run_trial(study, index, &splits.train, &splits.val)?;
    let model = finished.net.map(|net| SavedModel {
        net,
        mean: mean.clone(),
        info: ModelInfo {
            dataset: spec.absolute().to_string(),
            classes: splits.train.classes(),
            image: splits.train.image(),
            input_scale: spec.input_scale(),
            extra: finished.result.config.fields().into_iter().collect(),
        },
    });
    finished.result.save(study_dir(trial), model.as_ref())?;
    Ok(finished.result)
}

/// The study folder of a trial folder.
fn study_dir(trial: &Path) -> &Path {
    trial.parent().unwrap_or(Path::new("."))
}
