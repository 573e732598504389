//! `tapegrad train`: the main job.

use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tapegrad_net::atomic_write::write_atomic;
use tapegrad_net::checkpoint::{self, ModelInfo};
use tapegrad_net::data::{self, ImageShape, MeanImage, Splits};
use tapegrad_net::train::{self, Progress, TrainConfig, Training};
use tapegrad_net::NetError;

use super::trained_on;
use crate::args::TrainArgs;
use crate::failure::{Failure, Outcome};
use crate::plot;
use crate::run_folder::{self, RunFolder, Saver, MODEL_FILE, STATE_FILE};

/// Trains, saving the best model and the run state as epochs finish (at most every few
/// seconds, and the last epoch), then writes the summary, metrics and pictures.
pub fn run(args: &TrainArgs) -> Outcome {
    let started = Instant::now();
    super::set_threads(args.threads);
    // Flags are checked before anything is written; the folder is locked before the data are
    // read, so that a second run on it is refused at once.
    let folder = match (&args.out, args.resume) {
        (Some(dir), true) => RunFolder::resume(dir, "train")?,
        _ => {
            args.config().validate()?;
            RunFolder::create(
                args.out.as_deref(),
                &args.data.spec().to_string(),
                "train",
                args.overwrite,
            )?
        }
    };
    let out = folder.path();
    let state_path = folder.file(STATE_FILE);
    // A resumed run continues with its own saved hyperparameters; only --epochs (the total to
    // reach), --threads and --quiet apply. `load_state` checks the saved ones and blames the
    // state file for a bad one, so what `validate` finds below is the user's --epochs.
    let (saved, spec) = if args.resume {
        let saved = checkpoint::load_state(&state_path)
            .map_err(|e| Failure::from(e).context("cannot resume"))?;
        // The run knows its data; --data may only repeat it (checked before the folder is
        // touched, so that a refused resume changes nothing).
        let spec = trained_on::resumed_data(args.data.data.as_ref(), &saved.info, &state_path)?;
        if run_folder::restore_model(out, &saved)? && !args.quiet {
            let _ = writeln!(
                io::stderr(),
                "note: restored {} from the run state (the last save stopped between the two)",
                folder.file(MODEL_FILE).display()
            );
        }
        (Some(saved), spec)
    } else {
        (None, args.data.spec())
    };
    let config = match &saved {
        Some(s) => TrainConfig {
            epochs: args.epochs,
            ..s.config.clone()
        },
        None => args.config(),
    };
    config.validate()?;
    let mut splits = data::load(&spec, config.seed)?;
    splits.train.check_trainable()?;

    let (mut run, mean, info) = match saved {
        Some(saved) => {
            // Before the mean image meets the data, so that other data gets this message.
            check_resumable(&saved.run, &splits, &state_path)?;
            let mean = saved.mean;
            mean.apply(&mut splits.train)?;
            mean.apply(&mut splits.val)?;
            if let Some(t) = splits.test.as_mut() {
                mean.apply(t)?;
            }
            let mut info = saved.info;
            info.extra
                .insert("epochs".into(), config.epochs.to_string());
            (saved.run, mean, info)
        }
        None => {
            let (d, c) = (splits.train.dim(), splits.train.classes());
            config.check_fits(d, c, splits.train.len())?;
            let mean = MeanImage::fit_apply(&mut splits)?;
            let run = Training::new(&config, d, c);
            (run, mean, model_info(&spec, &config, &splits))
        }
    };
    let loaded = started.elapsed().as_secs_f64();

    let steps_per_epoch = splits.train.len().div_ceil(config.batch_size.max(1));
    let bar = progress_bar(
        args.quiet,
        steps_per_epoch.saturating_mul(config.epochs.saturating_sub(run.epoch)),
    );
    let mut losses: Vec<(f64, f64)> = Vec::new();
    let mut save_error = None;
    let mut saver = Saver::new(out, config.clone(), mean.clone(), info.clone());
    let result = run.run(&config, &splits.train, &splits.val, |p| {
        match p {
            Progress::Step {
                iteration,
                epoch,
                loss,
            } => {
                losses.push((iteration as f64, loss));
                bar.inc(1);
                if iteration % 10 == 0 {
                    bar.set_message(format!("epoch {epoch} loss {loss:.4}"));
                }
            }
            Progress::Epoch {
                stats,
                run,
                improved,
            } => {
                bar.set_message(format!(
                    "epoch {} loss {:.4} train {:.2}% val {:.2}%",
                    stats.epoch,
                    stats.loss,
                    100.0 * stats.train_accuracy,
                    100.0 * stats.val_accuracy
                ));
                if let Err(e) = saver.epoch_done(run, improved) {
                    // Stop: training on without a place to keep the result wastes the run.
                    save_error = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    });
    bar.finish_and_clear();
    if let Some(e) = save_error {
        return Err(e);
    }
    // A run that stopped early keeps its last finished epoch.
    saver.flush(&run)?;
    if let Err(e) = result {
        return Err(match e {
            // Only a finished epoch saves anything.
            NetError::Diverged { .. } if run.epoch > 0 => Failure::running(format!(
                "{e} (start a new run with a smaller --lr)"
            ))
            .line(format!(
                "the last good model and run state stay in {}",
                out.display()
            )),
            NetError::Diverged { .. } => {
                Failure::running(format!("{e} (start a new run with a smaller --lr)"))
                    .line("no epoch finished, so nothing was saved")
            }
            e => e.into(),
        });
    }
    let train_seconds: f64 = run.history.iter().map(|s| s.seconds).sum();
    summarize(
        out,
        &run,
        &config,
        &splits,
        &info,
        loaded,
        train_seconds,
        started,
        &losses,
    )
}

/// Rejects a saved run whose net does not fit the data (other features or more classes).
fn check_resumable(run: &Training<f32>, splits: &Splits, state_path: &Path) -> Outcome {
    let (d, _, c) = run.net.dims();
    if d != splits.train.dim() || c < splits.train.classes() {
        return Err(Failure::input(format!(
            "cannot resume from {}: the saved run takes {d} features and {c} classes, the data has {} and {}",
            state_path.display(),
            splits.train.dim(),
            splits.train.classes()
        )));
    }
    Ok(())
}

/// What the model file records about the run: the data (its path made absolute, so that
/// `eval` finds it from any directory), its scale and every hyperparameter.
fn model_info(spec: &data::DataSpec, config: &TrainConfig, splits: &Splits) -> ModelInfo {
    ModelInfo {
        dataset: spec.absolute().to_string(),
        classes: splits.train.classes(),
        image: splits.train.image(),
        input_scale: spec.input_scale(),
        extra: config.fields().into_iter().collect(),
    }
}

/// A progress bar on stderr, or none when quiet (indicatif draws nothing when stderr is not
/// a terminal).
fn progress_bar(quiet: bool, steps: usize) -> ProgressBar {
    if quiet {
        return ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(steps as u64);
    let style = ProgressStyle::with_template(
        "{bar:30.cyan/blue} {pos}/{len} steps {elapsed_precise} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Final accuracies, summary.json, metrics.csv, the pictures and the summary lines.
#[allow(clippy::too_many_arguments)]
fn summarize(
    out: &Path,
    run: &Training<f32>,
    config: &TrainConfig,
    splits: &Splits,
    info: &ModelInfo,
    load_seconds: f64,
    train_seconds: f64,
    started: Instant,
    losses: &[(f64, f64)],
) -> Outcome {
    let best = &run.best;
    let acc = |d: &data::Dataset| train::accuracy(best, d.features(), d.labels());
    let train_acc = acc(&splits.train)?;
    let val_acc = acc(&splits.val)?;
    let test_acc = splits.test.as_ref().map(acc).transpose()?;
    let final_loss = run.history.last().map(|s| s.loss).unwrap_or(f64::NAN);

    plot_run(out, run, losses, info.image)?;
    let summary = serde_json::json!({
        "dataset": info.dataset,
        "examples": {
            "train": splits.train.len(),
            "val": splits.val.len(),
            "test": splits.test.as_ref().map(|t| t.len()),
        },
        "classes": info.classes,
        "hyperparameters": config,
        "train_accuracy": train_acc,
        "val_accuracy": val_acc,
        "test_accuracy": test_acc,
        "final_loss": final_loss,
        "iterations": run.iteration,
        "seconds": {
            "load": load_seconds,
            "train": train_seconds,
            "total": started.elapsed().as_secs_f64(),
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

    let pct = |a: f64| format!("{:.2}%", 100.0 * a);
    let mut stdout = io::stdout().lock();
    writeln!(
        stdout,
        "{}: {} epochs, {} steps in {:.2}s (h={}, {}, lr {}, reg {})",
        info.dataset,
        run.epoch,
        run.iteration,
        train_seconds,
        config.hidden,
        config.optimizer.name(),
        config.lr,
        config.reg
    )?;
    writeln!(
        stdout,
        "best model: train {}  val {}  test {}  (final loss {final_loss:.4})",
        pct(train_acc),
        pct(val_acc),
        test_acc.map(pct).unwrap_or_else(|| "-".into())
    )?;
    writeln!(
        stdout,
        "wrote {} (model, state, metrics.csv, summary.json, pictures) in {:.2}s in all",
        out.display(),
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}

/// loss.png, accuracy.png and (for images) weights.png.
fn plot_run(
    out: &Path,
    run: &Training<f32>,
    losses: &[(f64, f64)],
    image: Option<ImageShape>,
) -> Outcome {
    let fail = |e: plot::PlotError| Failure::running(e.to_string());
    plot::loss_curve(&out.join(run_folder::LOSS_PICTURE), losses, "iteration").map_err(fail)?;
    let curve = |f: fn(&train::EpochStats) -> f64| -> Vec<(f64, f64)> {
        run.history.iter().map(|s| (s.epoch as f64, f(s))).collect()
    };
    plot::accuracy_curves(
        &out.join(run_folder::ACCURACY_PICTURE),
        &curve(|s| s.train_accuracy),
        &curve(|s| s.val_accuracy),
    )
    .map_err(fail)?;
    if let Some(im) = image {
        let shape = (im.height, im.width, im.channels, im.channel_major);
        let path = out.join(run_folder::WEIGHTS_PICTURE);
        plot::weight_grid(&path, run.best.w1.view(), shape).map_err(fail)?;
    }
    Ok(())
}
