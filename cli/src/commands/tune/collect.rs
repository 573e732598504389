//! `tapegrad tune collect DIR...`: merges finished trials into one ranked `results.csv`, the
//! best trial's model and `config.toml`, `summary.json` and `tune.png`; names the trials
//! missing.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use tapegrad_net::atomic_write::write_atomic;
use tapegrad_net::data::DataSpec;
use tapegrad_net::tune::{self, results_csv, Collection, TrialOutcome, TRIAL_MODEL_FILE};

use super::numbers;
use crate::args::CollectArgs;
use crate::failure::{Failure, Outcome};
use crate::plot;
use crate::run_folder::{CONFIG_FILE, MODEL_FILE, RESULTS_FILE, SUMMARY_FILE, TUNE_PICTURE};
use crate::settings::Settings;

/// Runs `tune collect`: into `--out`, else the first folder given.
pub fn run(args: &CollectArgs) -> Outcome {
    let out = args.out.clone().unwrap_or_else(|| args.dirs[0].clone());
    collect_into(&args.dirs, &out)
}

/// Merges the trials of `dirs` and writes the study's files into `out`. A study with trials
/// missing fails with [`Failure::incomplete`] after writing the files of the trials found.
pub fn collect_into(dirs: &[PathBuf], out: &Path) -> Outcome {
    let collection = tune::collect(dirs)?;
    fs::create_dir_all(out)
        .map_err(|e| Failure::input(format!("--out {}: cannot create it: {e}", out.display())))?;
    let results = out.join(RESULTS_FILE);
    write_atomic(&results, results_csv(&collection).as_bytes())?;
    write_atomic(
        &out.join(SUMMARY_FILE),
        summary(&collection, out).as_bytes(),
    )?;
    let picture = out.join(TUNE_PICTURE);
    plot::tune_picture(&picture, &collection).map_err(|e| Failure::running(e.to_string()))?;
    let mut stdout = io::stdout().lock();
    let study = &collection.study;
    writeln!(
        stdout,
        "{} of the study's {} trials found in {}",
        collection.ranked.len(),
        study.trials,
        listing(dirs)
    )?;
    let best = collection
        .ranked
        .first()
        .filter(|(_, r)| r.metrics.outcome != TrialOutcome::Diverged);
    let Some((best_dir, best)) = best else {
        return Err(Failure::running(format!(
            "every trial diverged (table in {}); try a smaller --lr range",
            results.display()
        )));
    };
    let model = out.join(MODEL_FILE);
    let source = best_dir.join(TRIAL_MODEL_FILE);
    let bytes = fs::read(&source)
        .map_err(|e| Failure::input(format!("cannot read {}: {e}", source.display())))?;
    write_atomic(&model, &bytes)?;
    let data: DataSpec = study.data.parse().map_err(|e| {
        Failure::input(format!(
            "{}: data {:?}: {e}",
            best_dir.display(),
            study.data
        ))
    })?;
    let settings = Settings {
        resumed: false,
        ..Settings::saved(data, best.config.clone())
    };
    let config = out.join(CONFIG_FILE);
    write_atomic(&config, settings.to_toml()?.as_bytes())?;
    writeln!(
        stdout,
        "best: trial {}, lr {:.3e}, reg {:.3e}, hidden {}: val {:.2}%; model in {}, its \
         settings in {}, table in {}",
        best.trial,
        best.config.lr,
        best.config.reg,
        best.config.hidden_text(),
        100.0 * best.metrics.val_accuracy,
        model.display(),
        config.display(),
        results.display()
    )?;
    if !collection.duplicates.is_empty() {
        writeln!(
            stdout,
            "trials found more than once (the first kept): {}",
            numbers(&collection.duplicates)
        )?;
    }
    if let Some((rung, trials)) = &collection.unfinished {
        let what = match trials.is_empty() {
            true => "is not decided yet (a rung before it is unfinished)".to_owned(),
            false => format!("has trials to run: {}", numbers(trials)),
        };
        return Err(Failure::incomplete(format!(
            "the study is incomplete: rung {rung} of {} {what}; run the shards again with \
             --resume (finished rungs are kept) and collect again",
            study.rungs().len()
        )));
    }
    if !collection.missing.is_empty() {
        return Err(Failure::incomplete(format!(
            "the study is incomplete: {} of {} trials missing: {}; run their shards (--resume \
             skips the finished trials) and collect again",
            collection.missing.len(),
            study.trials,
            numbers(&collection.missing)
        )));
    }
    Ok(())
}

/// `summary.json`: the study, what was found and missing, and the best trial.
fn summary(collection: &Collection, out: &Path) -> String {
    let best = collection.ranked.first();
    let value = serde_json::json!({
        "study": collection.study,
        "finished": collection.ranked.len(),
        "missing": collection.missing,
        "duplicates": collection.duplicates,
        "unfinished": collection.unfinished,
        "best": best.map(|(_, r)| r),
        "best_folder": best.map(|(d, _)| d.display().to_string()),
        "out": out.display().to_string(),
    });
    format!("{value:#}\n")
}

/// Folders as one line.
fn listing(dirs: &[PathBuf]) -> String {
    let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    names.join(", ")
}
