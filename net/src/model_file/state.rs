//! The resumable run state (`state.safetensors`): both nets, the optimizer's buffers, the
//! counters, the history and the hyperparameters, each checked on load.

use std::path::Path;

use ndarray::Array1;

use super::{
    check_finite, get_info, get_mean, get_net, put_info, put_net, ModelFileError, ModelInfo,
};
use crate::checkpoint::Checkpoint;
use crate::data::MeanImage;
use crate::limits::quote;
use crate::train::{EpochStats, TrainConfig, Training};
use crate::{Optimizer, OptimizerKind};

/// Writes everything needed to continue a run: the current and best nets, the optimizer's
/// state, the counters and the history, plus the model's mean image and info.
pub fn save_state(
    path: &Path,
    run: &Training<f32>,
    config: &TrainConfig,
    mean: &MeanImage,
    info: &ModelInfo,
) -> Result<(), ModelFileError> {
    let mut ck = Checkpoint::new();
    put_net(&mut ck, "", &run.net);
    put_net(&mut ck, "best.", &run.best);
    ck.insert("mean", mean.as_array());
    let (steps, m, v) = run.optimizer.state();
    for (prefix, bufs) in [("opt.m", m), ("opt.v", v)] {
        for (k, b) in bufs.iter().enumerate() {
            ck.insert(format!("{prefix}{k}"), &Array1::from(b.clone()));
        }
    }
    put_info(&mut ck, info);
    let meta = ck.metadata_mut();
    meta.insert("state.optimizer".into(), format!("{:?}", config.optimizer));
    meta.insert("state.steps".into(), steps.to_string());
    meta.insert("state.epoch".into(), run.epoch.to_string());
    meta.insert("state.iteration".into(), run.iteration.to_string());
    meta.insert("state.lr".into(), format!("{:e}", run.lr));
    meta.insert(
        "state.best_val_accuracy".into(),
        format!("{:e}", run.best_val_accuracy),
    );
    meta.insert("state.history".into(), history_to_json(&run.history));
    meta.insert("state.config".into(), config_to_json(config));
    Ok(ck.save(path)?)
}

/// A saved run: its state, the hyperparameters it was started with, and the model's mean
/// image and info.
pub struct SavedRun {
    /// Where training stands.
    pub run: Training<f32>,
    /// The run's hyperparameters.
    pub config: TrainConfig,
    /// The training set's mean image.
    pub mean: MeanImage,
    /// What the model is trained on.
    pub info: ModelInfo,
}

/// Reads a run state written by [`save_state`], checking what `load_model` checks for both
/// nets (shapes, classes, finite numbers), finite optimizer buffers the size of their
/// parameters, whole-number counters, a positive finite learning rate, and the saved
/// hyperparameters ([`TrainConfig::validate`], and `hidden` equal to the nets' hidden size):
/// a bad one is [`ModelFileError::Config`], naming the state file.
pub fn load_state(path: &Path) -> Result<SavedRun, ModelFileError> {
    let ck = Checkpoint::load(path)?;
    let bad = |key: &str, value: &str, expected| ModelFileError::Metadata {
        path: path.display().to_string(),
        key: key.into(),
        value: quote(value),
        expected,
    };
    let config_text = ck.require_metadata("state.config")?;
    let config = config_from_json(config_text).ok_or_else(|| {
        bad(
            "state.config",
            config_text,
            "the run's hyperparameters as JSON",
        )
    })?;
    let invalid = |source| ModelFileError::Config {
        path: path.display().to_string(),
        source,
    };
    config.validate().map_err(invalid)?;
    let net = get_net(&ck, "", path)?;
    let best = get_net(&ck, "best.", path)?;
    if best.dims() != net.dims() {
        return Err(ModelFileError::Shapes {
            path: path.display().to_string(),
            message: {
                let dims = |(d, h, c): (usize, usize, usize)| format!("{d}-{h}-{c}");
                format!(
                    "the best net is {} (inputs-hidden-classes) but the current one {}",
                    dims(best.dims()),
                    dims(net.dims())
                )
            },
        });
    }
    let hidden = net.dims().1;
    if config.hidden != hidden {
        return Err(invalid(crate::config::ConfigError {
            setting: crate::config::Setting::Hidden,
            value: config.hidden.to_string(),
            problem: format!("the saved nets have {hidden} hidden units"),
        }));
    }
    let mean = get_mean(&ck, &net, path)?;
    let sizes = [net.w1.len(), net.b1.len(), net.w2.len(), net.b2.len()];
    let buffers = |prefix: &str| -> Result<Vec<Vec<f32>>, ModelFileError> {
        (0..4)
            .map_while(|k| ck.contains(&format!("{prefix}{k}")).then_some(k))
            .map(|k| {
                let name = format!("{prefix}{k}");
                let buffer = ck.get_with_shape::<f32, _>(&name, sizes[k])?;
                check_finite(path, &name, buffer.iter())?;
                Ok(buffer.to_vec())
            })
            .collect()
    };
    let (m, v) = (buffers("opt.m")?, buffers("opt.v")?);
    let count = |key: &str| -> Result<u64, ModelFileError> {
        let value = ck.require_metadata(key)?;
        value.parse().map_err(|_| bad(key, value, "a whole number"))
    };
    let number = |key: &str, ok: fn(f64) -> bool, expected| -> Result<f64, ModelFileError> {
        let value = ck.require_metadata(key)?;
        value
            .parse()
            .ok()
            .filter(|&x| ok(x))
            .ok_or_else(|| bad(key, value, expected))
    };
    let whole = |key: &str| -> Result<usize, ModelFileError> {
        let value = ck.require_metadata(key)?;
        value.parse().map_err(|_| bad(key, value, "a whole number"))
    };
    let history_text = ck.require_metadata("state.history")?;
    let run = Training {
        net,
        best,
        best_val_accuracy: number("state.best_val_accuracy", |x| !x.is_nan(), "an accuracy")?,
        optimizer: Optimizer::restore(config.optimizer, count("state.steps")?, m, v),
        epoch: whole("state.epoch")?,
        iteration: whole("state.iteration")?,
        lr: number(
            "state.lr",
            |x| x.is_finite() && x > 0.0,
            "a positive number",
        )?,
        history: history_from_json(history_text).ok_or_else(|| {
            bad(
                "state.history",
                history_text,
                "a JSON list of epoch records",
            )
        })?,
    };
    let info = get_info(&ck, &run.net, path)?;
    Ok(SavedRun {
        run,
        config,
        mean,
        info,
    })
}

/// The history as a JSON list of `[epoch, iteration, loss, train, val, lr, seconds]`.
fn history_to_json(history: &[EpochStats]) -> String {
    let rows: Vec<serde_json::Value> = history
        .iter()
        .map(|s| {
            serde_json::json!([
                s.epoch,
                s.iteration,
                s.loss,
                s.train_accuracy,
                s.val_accuracy,
                s.lr,
                s.seconds
            ])
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}

/// The history back from [`history_to_json`]'s form.
fn history_from_json(text: &str) -> Option<Vec<EpochStats>> {
    let rows: Vec<[f64; 7]> = serde_json::from_str(text).ok()?;
    Some(
        rows.into_iter()
            .map(|r| EpochStats {
                epoch: r[0] as usize,
                iteration: r[1] as usize,
                loss: r[2],
                train_accuracy: r[3],
                val_accuracy: r[4],
                lr: r[5],
                seconds: r[6],
            })
            .collect(),
    )
}

/// The hyperparameters as a JSON object.
fn config_to_json(c: &TrainConfig) -> String {
    let optimizer = match c.optimizer {
        OptimizerKind::Sgd => serde_json::json!({ "kind": "sgd" }),
        OptimizerKind::Momentum { mu } => serde_json::json!({ "kind": "momentum", "mu": mu }),
        OptimizerKind::Adam { beta1, beta2, eps } => {
            serde_json::json!({ "kind": "adam", "beta1": beta1, "beta2": beta2, "eps": eps })
        }
    };
    serde_json::json!({
        "hidden": c.hidden,
        "reg": c.reg,
        "lr": c.lr,
        "lr_decay": c.lr_decay,
        "batch_size": c.batch_size,
        "epochs": c.epochs,
        "optimizer": optimizer,
        "init_std": c.init_std,
        "seed": c.seed,
    })
    .to_string()
}

/// The hyperparameters back from [`config_to_json`]'s form.
fn config_from_json(text: &str) -> Option<TrainConfig> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let f = |k: &str| v.get(k)?.as_f64();
    let u = |k: &str| v.get(k)?.as_u64();
    let o = v.get("optimizer")?;
    let of = |k: &str| o.get(k)?.as_f64();
    let optimizer = match o.get("kind")?.as_str()? {
        "sgd" => OptimizerKind::Sgd,
        "momentum" => OptimizerKind::Momentum { mu: of("mu")? },
        "adam" => OptimizerKind::Adam {
            beta1: of("beta1")?,
            beta2: of("beta2")?,
            eps: of("eps")?,
        },
        _ => return None,
    };
    Some(TrainConfig {
        hidden: u("hidden")? as usize,
        reg: f("reg")?,
        lr: f("lr")?,
        lr_decay: f("lr_decay")?,
        batch_size: u("batch_size")? as usize,
        epochs: u("epochs")? as usize,
        optimizer,
        init_std: f("init_std")?,
        seed: u("seed")?,
    })
}
