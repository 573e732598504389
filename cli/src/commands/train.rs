//! `tapegrad train`: the main job.

mod augmented;
mod pilot;
mod summary;

use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use tapegrad_net::checkpoint::{self, ModelInfo, SavedRun};
use tapegrad_net::data::{self, MeanImage, Splits};
use tapegrad_net::train::{Finish, Progress, TrainConfig, Training};
use tapegrad_net::NetError;

use super::trained_on;
use crate::args::TrainArgs;
use crate::failure::{Failure, Outcome};
use crate::interrupt::Interrupt;
use crate::progress::TrainProgress;
use crate::run_folder::{self, RunFolder, Saver, MODEL_FILE, STATE_FILE};
use crate::settings::{contradicting_flag, Settings};

/// Trains, saving the best model and the run state as epochs finish (at most every few
/// seconds, and the last epoch), then writes the summary, metrics and pictures. Ctrl-C stops
/// the run after its current step, saves it and exits with code 130.
pub fn run(args: &TrainArgs) -> Outcome {
    let started = Instant::now();
    super::set_threads(args.threads);
    let interrupt = Interrupt::catch();
    // Settings are checked before anything is written; the folder is locked before the data
    // are read, so that a second run on it is refused at once.
    let (folder, mut settings, saved) = match (&args.out, args.resume) {
        (Some(dir), true) => {
            let folder = RunFolder::resume(dir, "train")?;
            let saved = load_saved_run(&folder)?;
            let settings = resumed_settings(args, &saved, &folder.file(STATE_FILE))?;
            (folder, settings, Some(saved))
        }
        _ => {
            let settings = Settings::resolve(args)?;
            settings.config.validate()?;
            let name = settings.data.to_string();
            let folder = RunFolder::create(args.out.as_deref(), &name, "train", args.overwrite)?;
            (folder, settings, None)
        }
    };
    settings.config.validate()?;
    let out = folder.path();
    let mut splits = data::load(&settings.data, settings.config.seed)?;
    splits.train.check_trainable()?;
    let mut pilot_seconds = 0.0;

    let (mut run, mean, info) = match saved {
        Some(saved) => {
            // Before the mean image meets the data, so that other data gets this message.
            check_resumable(&saved.run, &splits, &folder.file(STATE_FILE))?;
            let mean = saved.mean;
            mean.apply(&mut splits.train)?;
            mean.apply(&mut splits.val)?;
            if let Some(t) = splits.test.as_mut() {
                mean.apply(t)?;
            }
            let mut info = saved.info;
            info.extra.extend(settings.config.fields());
            (saved.run, mean, info)
        }
        None => {
            let (d, c) = (splits.train.dim(), splits.train.classes());
            settings.config.check_fits(d, c, splits.train.len())?;
            let mean = MeanImage::fit_apply_with(&mut splits, settings.config.standardize)?;
            if settings.choose_augment {
                pilot_seconds =
                    pilot::choose(&mut settings, &splits, &mean, args.quiet, &interrupt)?;
            }
            let run = Training::new(&settings.config, d, c)?;
            (run, mean, model_info(&settings, &splits))
        }
    };
    let config = &settings.config;
    let config_toml = settings.to_toml()?;
    let verb = match run.epoch {
        0 => "training".to_owned(),
        e => format!("resuming at epoch {e} of"),
    };
    // A closed stdout must not stop the run before it starts: the summary at the end, after
    // every file is written, is where it ends the command.
    let _ = writeln!(
        io::stdout(),
        "{verb} {}: {}",
        settings.data,
        settings.describe()
    );
    augmented::draw(out, &config.augment, &splits.train, &mean, config.seed)?;
    let loaded = started.elapsed().as_secs_f64() - pilot_seconds;

    let steps_per_epoch = splits.train.len().div_ceil(config.batch_size.max(1));
    let steps = steps_per_epoch.saturating_mul(config.epochs.saturating_sub(run.epoch));
    let mut progress = TrainProgress::new(args.quiet, steps, config.epochs);
    let mut losses: Vec<(f64, f64)> = Vec::new();
    let mut save_error = None;
    let mut saver = Saver::new(out, config.clone(), mean.clone(), info.clone(), config_toml);
    let result = run.run_centred(config, &splits.train, &splits.val, Some(&mean), |p| {
        match p {
            Progress::Step {
                iteration,
                epoch,
                loss,
                ..
            } => {
                losses.push((iteration as f64, loss));
                progress.step(epoch, loss);
                if interrupt.requested() {
                    return ControlFlow::Break(());
                }
            }
            Progress::Epoch {
                stats,
                run,
                improved,
            } => {
                progress.epoch(stats, improved);
                if let Err(e) = saver.epoch_done(run, improved) {
                    // Stop: training on without a place to keep the result wastes the run.
                    save_error = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    });
    progress.finish();
    if let Some(e) = save_error {
        return Err(e);
    }
    // A run that stopped early keeps its last finished epoch.
    saver.flush(&run)?;
    let finish = match result {
        Ok(Finish::Interrupted) => return Err(interrupted(&run, out)),
        Ok(finish) => finish,
        // Only a finished epoch saves anything.
        Err(e @ NetError::Diverged { .. }) => {
            let failure = Failure::running(format!("{e} (start a new run with a smaller --lr)"));
            return Err(match run.epoch {
                0 => failure.line("no epoch finished, so nothing was saved"),
                _ => failure.line(format!(
                    "the last good model and run state stay in {}",
                    out.display()
                )),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let timing = summary::Timing {
        load: loaded,
        pilot: pilot_seconds,
        train: run.history.iter().map(|s| s.seconds).sum(),
        started,
    };
    summary::write(out, &run, config, &splits, &info, &timing, &losses, finish)
}

/// Reads the run state of the run in `folder`, restoring its model file if a save stopped
/// between the two.
fn load_saved_run(folder: &RunFolder) -> Outcome<SavedRun> {
    let saved = checkpoint::load_state(&folder.file(STATE_FILE))
        .map_err(|e| Failure::from(e).context("cannot resume"))?;
    if run_folder::restore_model(folder.path(), &saved)? {
        let _ = writeln!(
            io::stderr(),
            "note: restored {} from the run state (the last save stopped between the two)",
            folder.file(MODEL_FILE).display()
        );
    }
    Ok(saved)
}

/// A resumed run's settings: its saved data and hyperparameters, with `--epochs` if given
/// (the total to reach). `--data`, if given, must be the run's; other hyperparameter flags
/// are refused, since the run keeps its own.
fn resumed_settings(args: &TrainArgs, saved: &SavedRun, state: &Path) -> Outcome<Settings> {
    // The run knows its data; --data may only repeat it (or name where it has moved).
    let data = trained_on::resumed_data(args.data.as_ref(), &saved.info, state)?;
    if let Some((flag, was)) = contradicting_flag(&saved.config, &args.hyper)? {
        return Err(Failure::input(format!(
            "{flag}: a resumed run keeps its saved hyperparameters ({} in its config.toml); \
             only --epochs can change: leave {flag} out, or start a new run",
            if was.is_empty() {
                "none".to_owned()
            } else {
                format!("{} = {was}", &flag[2..])
            }
        )));
    }
    let mut config = saved.config.clone();
    if let Some(epochs) = args.hyper.epochs {
        if epochs != config.epochs && config.schedule.depends_on_length() {
            return Err(Failure::input(format!(
                "--epochs {epochs}: the run's {} schedule is laid over its {} epochs, so a \
                 resumed run keeps them; start a new run to train longer",
                config.schedule.kind(),
                config.epochs
            )));
        }
        config.epochs = epochs;
    }
    Ok(Settings::saved(data, config))
}

/// What Ctrl-C leaves: the last finished epoch saved, and how to continue.
fn interrupted(run: &Training<f32>, out: &Path) -> Failure {
    match run.epoch {
        0 => Failure::interrupted(
            "interrupted during the first epoch: no epoch finished, so nothing was saved",
        ),
        epoch => Failure::interrupted(format!(
            "interrupted: the run is saved at the end of epoch {epoch} in {}",
            out.display()
        ))
        .line(format!(
            "continue it with: tapegrad train --resume --out {}",
            shell_word(&out.display().to_string())
        )),
    }
}

/// `text` as one shell word: as it is when that is safe, else in single quotes.
fn shell_word(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./+:@%=,".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Rejects a saved run whose net does not fit the data (other features or more classes).
fn check_resumable(run: &Training<f32>, splits: &Splits, state_path: &Path) -> Outcome {
    let (d, c) = (run.net.inputs(), run.net.classes());
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
fn model_info(settings: &Settings, splits: &Splits) -> ModelInfo {
    ModelInfo {
        dataset: settings.data.absolute().to_string(),
        classes: splits.train.classes(),
        image: splits.train.image(),
        input_scale: settings.data.input_scale(),
        extra: settings.config.fields().into_iter().collect(),
    }
}

/// Hyperparameters of `config` as the summary line names them.
pub fn short_config(config: &TrainConfig) -> String {
    format!(
        "h={}, {}, lr {}, {} schedule, reg {}",
        config.hidden_text(),
        config.optimizer.name(),
        config.lr,
        config.schedule.kind(),
        config.reg
    )
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn a_path_with_spaces_or_quotes_is_quoted_for_the_shell() {
        assert_eq!(shell_word("runs/digits-1"), "runs/digits-1");
        assert_eq!(shell_word("my runs/a"), "'my runs/a'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
