//! `tapegrad tune`: random search over learning rate, regularisation and hidden size, as the
//! course's hyperparameter search does it.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad_net::atomic_write::write_atomic;
use tapegrad_net::checkpoint::{self, ModelInfo, SavedModel};
use tapegrad_net::data::{self, MeanImage};
use tapegrad_net::train::{self, TrainConfig, Training};

use crate::args::TuneArgs;
use crate::failure::{Failure, Outcome};
use crate::run_folder::{RunFolder, MODEL_FILE, RESULTS_FILE};

/// One trial's settings and result.
struct Trial {
    config: TrainConfig,
    val_accuracy: f64,
    train_accuracy: f64,
    seconds: f64,
    outcome: &'static str,
}

/// Runs the trials, prints a line per trial and the table sorted by validation accuracy, and
/// saves the best model with `results.csv` in the output folder.
pub fn run(args: &TuneArgs) -> Outcome {
    super::set_threads(args.threads);
    let range = |flag: &str, r: &[f64]| -> Outcome<(f64, f64)> {
        match r {
            [lo, hi] if *lo > 0.0 && hi >= lo && hi.is_finite() => Ok((lo.ln(), hi.ln())),
            _ => Err(Failure::input(format!(
                "--{flag} takes MIN MAX with 0 < MIN <= MAX"
            ))),
        }
    };
    let (lr_range, reg_range) = (range("lr", &args.lr)?, range("reg", &args.reg)?);
    if args.trials == 0 || args.epochs == 0 || args.hidden.contains(&0) || args.batch_size == 0 {
        return Err(Failure::input(
            "--trials, --epochs, --hidden and --batch-size must be at least 1",
        ));
    }
    let spec = args.data.spec();
    let prefix = format!("tune-{spec}");
    let folder = RunFolder::create(args.out.as_deref(), &prefix, "tune", args.overwrite)?;
    let mut splits = data::load(&spec, args.seed)?;
    splits.train.check_trainable()?;
    // Every hidden size is checked against the data and the memory before any trial runs.
    let (d, c, n) = (
        splits.train.dim(),
        splits.train.classes(),
        splits.train.len(),
    );
    for &hidden in &args.hidden {
        let config = args.trial_config(hidden, 1.0, 1.0);
        config.validate()?;
        config.check_fits(d, c, n)?;
    }
    let mean = MeanImage::fit_apply(&mut splits)?;
    let mut stdout = io::stdout().lock();

    let mut rng = StdRng::seed_from_u64(args.seed);
    let log_uniform =
        |rng: &mut StdRng, (lo, hi): (f64, f64)| (lo + (hi - lo) * rng.random::<f64>()).exp();
    let mut trials = Vec::new();
    let mut best: Option<(f64, Training<f32>)> = None;
    writeln!(
        stdout,
        "{:>5} {:>10} {:>10} {:>6} {:>9} {:>9} {:>7}",
        "trial", "lr", "reg", "hidden", "train", "val", "seconds"
    )?;
    for k in 0..args.trials {
        let hidden = args.hidden[rng.random_range(0..args.hidden.len())];
        let lr = log_uniform(&mut rng, lr_range);
        let config = args.trial_config(hidden, lr, log_uniform(&mut rng, reg_range));
        let start = Instant::now();
        let mut run = Training::new(&config, d, c)?;
        let result = run.run(&config, &splits.train, &splits.val, |_| {
            std::ops::ControlFlow::Continue(())
        });
        let seconds = start.elapsed().as_secs_f64();
        let (val_accuracy, train_accuracy, outcome) = match result {
            Ok(_) => (
                run.best_epoch(&config).map_or(0.0, |s| s.val_accuracy),
                train::accuracy(&run.best, splits.train.features(), splits.train.labels())?,
                "ok",
            ),
            Err(tapegrad_net::NetError::Diverged { .. }) => (0.0, 0.0, "diverged"),
            Err(e) => return Err(e.into()),
        };
        writeln!(
            stdout,
            "{k:>5} {:>10.3e} {:>10.3e} {:>6} {:>8.2}% {:>8.2}% {seconds:>7.2}{}",
            config.lr,
            config.reg,
            config.hidden_text(),
            100.0 * train_accuracy,
            100.0 * val_accuracy,
            if outcome == "ok" { "" } else { "  diverged" }
        )?;
        if outcome == "ok" && best.as_ref().is_none_or(|(v, _)| val_accuracy > *v) {
            best = Some((val_accuracy, run));
        }
        trials.push(Trial {
            config,
            val_accuracy,
            train_accuracy,
            seconds,
            outcome,
        });
    }
    // Finished trials first, best validation accuracy first.
    trials.sort_by(|a, b| {
        (b.outcome == "ok")
            .cmp(&(a.outcome == "ok"))
            .then(b.val_accuracy.total_cmp(&a.val_accuracy))
    });
    let mut csv = String::from("rank");
    // Every trial has the same optimizer, so the same fields.
    for (name, _) in trials[0].config.fields() {
        let _ = write!(csv, ",{name}");
    }
    csv.push_str(",train_accuracy,val_accuracy,seconds,outcome\n");
    for (rank, t) in trials.iter().enumerate() {
        let _ = write!(csv, "{}", rank + 1);
        for (_, value) in t.config.fields() {
            // RFC 4180: a value holding a comma (`hidden` = `512,256`) is quoted.
            let _ = match value.contains(',') {
                true => write!(csv, ",\"{value}\""),
                false => write!(csv, ",{value}"),
            };
        }
        let _ = writeln!(
            csv,
            ",{},{},{},{}",
            t.train_accuracy, t.val_accuracy, t.seconds, t.outcome
        );
    }
    let results = folder.file(RESULTS_FILE);
    write_atomic(&results, csv.as_bytes())?;
    let Some((val, run)) = best else {
        return Err(Failure::running(
            "every trial diverged; try a smaller --lr range",
        ));
    };
    let top = &trials[0].config;
    let info = ModelInfo {
        dataset: spec.absolute().to_string(),
        classes: splits.train.classes(),
        image: splits.train.image(),
        input_scale: spec.input_scale(),
        extra: top.fields().into_iter().collect(),
    };
    let model = SavedModel {
        net: run.best,
        mean,
        info,
    };
    let path = folder.file(MODEL_FILE);
    checkpoint::save_model(&path, &model)?;
    let test = match &splits.test {
        Some(t) => format!(
            ", test {:.2}%",
            100.0 * train::accuracy(&model.net, t.features(), t.labels())?
        ),
        None => String::new(),
    };
    writeln!(
        stdout,
        "best: lr {:.3e}, reg {:.3e}, hidden {}: val {:.2}%{test}; model in {}, table in {}",
        top.lr,
        top.reg,
        top.hidden_text(),
        100.0 * val,
        path.display(),
        results.display()
    )?;
    Ok(())
}
