//! The end of a training run: the best model measured on every split, `summary.json`,
//! `metrics.csv`, the pictures and the closing lines on standard output.

use std::io::{self, Write};
use std::path::Path;
use std::time::Instant;

use tapegrad_net::atomic_write::write_atomic;
use tapegrad_net::checkpoint::ModelInfo;
use tapegrad_net::data::{Dataset, ImageShape, Splits};
use tapegrad_net::train::{self, EpochStats, Evaluation, Finish, TrainConfig, Training};

use super::short_config;
use crate::failure::{Failure, Outcome};
use crate::plot;
use crate::run_folder::{self, MODEL_FILE};

/// Where the run's time went, in seconds.
pub struct Timing {
    /// Reading the data and the settings.
    pub load: f64,
    /// The pilot runs that chose the augmentation (`--augment auto`; 0 without).
    pub pilot: f64,
    /// The epochs' steps.
    pub train: f64,
    /// When the command started.
    pub started: Instant,
}

/// Measures the best model on train, val and test and writes summary.json, metrics.csv and
/// the pictures, then prints the summary lines.
#[allow(clippy::too_many_arguments)]
pub fn write(
    out: &Path,
    run: &Training<f32>,
    config: &TrainConfig,
    splits: &Splits,
    info: &ModelInfo,
    timing: &Timing,
    losses: &[(f64, f64)],
    finish: Finish,
) -> Outcome {
    let measure = |d: &Dataset| train::evaluate(&run.best, d.features(), d.labels(), config.reg);
    let on_train = measure(&splits.train)?;
    let on_val = measure(&splits.val)?;
    let on_test = splits.test.as_ref().map(measure).transpose()?;
    let best = run.best_epoch(config);
    let stopped_early = finish == Finish::EarlyStopped;

    plot_run(out, run, config, losses, info.image)?;
    let loss = |e: Option<Evaluation>| e.map(|e| e.loss);
    let accuracy = |e: Option<Evaluation>| e.map(|e| e.accuracy);
    let summary = serde_json::json!({
        "dataset": info.dataset,
        "examples": {
            "train": splits.train.len(),
            "val": splits.val.len(),
            "test": splits.test.as_ref().map(|t| t.len()),
        },
        "classes": info.classes,
        "hyperparameters": config,
        "epochs_run": run.epoch,
        "stopped_early": stopped_early,
        "best_epoch": best.map(|b| b.epoch),
        "monitor": config.monitor,
        "train_accuracy": on_train.accuracy,
        "val_accuracy": on_val.accuracy,
        "test_accuracy": accuracy(on_test),
        "train_loss": on_train.loss,
        "val_loss": on_val.loss,
        "test_loss": loss(on_test),
        "iterations": run.iteration,
        "seconds": {
            "load": timing.load,
            "pilot": timing.pilot,
            "train": timing.train,
            "total": timing.started.elapsed().as_secs_f64(),
        },
        "model": MODEL_FILE,
    });
    let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
    write_atomic(
        &out.join(run_folder::SUMMARY_FILE),
        (text + "\n").as_bytes(),
    )?;
    write_atomic(
        &out.join(run_folder::METRICS_FILE),
        run_folder::metrics_csv(&run.history).as_bytes(),
    )?;
    write_report(out, info.image.is_some())?;

    let pct = |a: f64| format!("{:.2}%", 100.0 * a);
    let mut stdout = io::stdout().lock();
    writeln!(
        stdout,
        "{}: {} epochs, {} steps in {:.2}s ({})",
        info.dataset,
        run.epoch,
        run.iteration,
        timing.train,
        short_config(config)
    )?;
    if let (true, Some(best), Some(patience)) = (stopped_early, best, config.patience) {
        writeln!(
            stdout,
            "stopped early: {} has not improved for {patience} epochs since epoch {}",
            config.monitor, best.epoch
        )?;
    }
    writeln!(
        stdout,
        "best model ({}): train {}  val {}  test {}  (val loss {:.4})",
        match best {
            Some(EpochStats { epoch, .. }) => format!("epoch {epoch} by {}", config.monitor),
            None => "the initial net".to_owned(),
        },
        pct(on_train.accuracy),
        pct(on_val.accuracy),
        accuracy(on_test).map(pct).unwrap_or_else(|| "-".into()),
        on_val.loss
    )?;
    writeln!(
        stdout,
        "wrote {} (model, state, config.toml, metrics.csv, summary.json, pictures, report.html) in {:.2}s in all",
        out.display(),
        timing.started.elapsed().as_secs_f64()
    )?;
    Ok(())
}

/// loss.png, accuracy.png and weights.png (image tiles, or a heat map of W1 for other data).
fn plot_run(
    out: &Path,
    run: &Training<f32>,
    config: &TrainConfig,
    losses: &[(f64, f64)],
    image: Option<ImageShape>,
) -> Outcome {
    let fail = |e: plot::PlotError| Failure::running(e.to_string());
    // An epoch's mean loss sits at its middle step, its validation loss at its last.
    let mut previous = 0;
    let mut epoch_means = Vec::with_capacity(run.history.len());
    for s in &run.history {
        epoch_means.push(((previous + s.iteration) as f64 / 2.0, s.loss));
        previous = s.iteration;
    }
    let val: Vec<_> = run
        .history
        .iter()
        .map(|s| (s.iteration as f64, s.val_loss))
        .collect();
    let series = plot::LossSeries {
        steps: losses,
        epoch_means: &epoch_means,
        val: &val,
    };
    plot::loss_curves(&out.join(run_folder::LOSS_PICTURE), series).map_err(fail)?;
    let curve = |f: fn(&EpochStats) -> f64| -> Vec<(f64, f64)> {
        run.history.iter().map(|s| (s.epoch as f64, f(s))).collect()
    };
    plot::accuracy_curves(
        &out.join(run_folder::ACCURACY_PICTURE),
        &curve(|s| s.train_accuracy),
        &curve(|s| s.val_accuracy),
        run.best_epoch(config).map(|b| b.epoch),
    )
    .map_err(fail)?;
    let shape = image.map(|im| (im.height, im.width, im.channels, im.channel_major));
    let path = out.join(run_folder::WEIGHTS_PICTURE);
    plot::weights_picture(&path, run.best.layers()[0].weight(), shape).map_err(fail)?;
    Ok(())
}

/// report.html: the files just written, on one page.
fn write_report(out: &Path, images: bool) -> Outcome {
    let read = |name: &str| std::fs::read_to_string(out.join(name)).ok();
    let pictures = [
        (
            run_folder::LOSS_PICTURE,
            "Training loss per step, smoothed, its epoch means and the validation loss",
        ),
        (
            run_folder::ACCURACY_PICTURE,
            "Train and validation accuracy per epoch, best epoch marked",
        ),
        (
            run_folder::AUGMENT_PICTURE,
            "Training examples, each beside the images augmentation made of it",
        ),
        (
            run_folder::WEIGHTS_PICTURE,
            match images {
                true => "First-layer weights, one image per hidden unit",
                false => "First-layer weights W1 as a heat map, inputs by hidden units",
            },
        ),
    ];
    let report = plot::Report {
        name: out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| out.display().to_string()),
        summary_json: read(run_folder::SUMMARY_FILE),
        config_toml: read(run_folder::CONFIG_FILE),
        metrics_csv: read(run_folder::METRICS_FILE),
        pictures: pictures
            .into_iter()
            .filter(|(file, _)| out.join(file).is_file())
            .map(|(file, caption)| (file.to_string(), caption.to_string()))
            .collect(),
    };
    plot::write_report(&out.join(run_folder::REPORT_FILE), &report)
        .map_err(|e| Failure::running(e.to_string()))
}
