//! The resumable run state (`state.safetensors`): both nets (and the weight average, under
//! `avg.` with its update count in `state.average_count`), the optimizer's buffers, the
//! counters, the history and the hyperparameters, each checked on load.

use std::path::Path;

use ndarray::Array1;

use super::{
    check_finite, get_info, get_mean, get_net, put_info, put_mean, put_net, CheckpointError,
    ModelInfo,
};
use crate::data::MeanImage;
use crate::limits::quote;
use crate::optim::OptimizerState;
use crate::tensor_file::TensorFile;
use crate::train::{TrainConfig, Training, WeightAverage};

/// Writes everything needed to continue a run: the current and best nets, the optimizer's
/// state, the counters and the history, plus the model's mean image and info.
pub fn save_state(
    path: &Path,
    run: &Training<f32>,
    config: &TrainConfig,
    mean: &MeanImage,
    info: &ModelInfo,
) -> Result<(), CheckpointError> {
    let mut ck = TensorFile::new();
    put_net(&mut ck, "", &run.net);
    put_net(&mut ck, "best.", &run.best);
    if let Some(average) = &run.average {
        put_net(&mut ck, "avg.", &average.net);
        ck.set_metadata("state.average_count", average.count.to_string());
    }
    put_mean(&mut ck, mean);
    let optimizer = run.step.optimizer();
    let state = optimizer.state();
    for (name, buffers) in optimizer.buffer_names().iter().zip(&state.buffers) {
        for (k, b) in buffers.iter().enumerate() {
            ck.insert(format!("opt.{name}{k}"), &Array1::from(b.clone()));
        }
    }
    put_info(&mut ck, info);
    let meta = ck.metadata_mut();
    meta.insert("state.optimizer".into(), to_json(&config.optimizer));
    meta.insert("state.steps".into(), state.steps.to_string());
    meta.insert("state.epoch".into(), run.epoch.to_string());
    meta.insert("state.iteration".into(), run.iteration.to_string());
    meta.insert("state.history".into(), to_json(&run.history));
    meta.insert("state.config".into(), to_json(config));
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
/// parameters, whole-number counters, and the saved
/// hyperparameters ([`TrainConfig::validate`], and `hidden` equal to the nets' hidden size):
/// a bad one is [`CheckpointError::Config`], naming the state file.
pub fn load_state(path: &Path) -> Result<SavedRun, CheckpointError> {
    let ck = TensorFile::load(path)?;
    let bad = |key: &str, value: &str, expected| CheckpointError::Metadata {
        path: path.display().to_string(),
        key: key.into(),
        value: quote(value),
        expected,
    };
    let config_text = ck.require_metadata("state.config")?;
    let config: TrainConfig = serde_json::from_str(config_text).map_err(|_| {
        bad(
            "state.config",
            config_text,
            "the run's hyperparameters as JSON",
        )
    })?;
    let invalid = |source| CheckpointError::Config {
        path: path.display().to_string(),
        source,
    };
    config.validate().map_err(invalid)?;
    let net = get_net(&ck, "", path)?;
    let best = get_net(&ck, "best.", path)?;
    if best.sizes() != net.sizes() {
        return Err(CheckpointError::Shapes {
            path: path.display().to_string(),
            message: format!(
                "the best net has layer sizes {:?} but the current one {:?}",
                best.sizes(),
                net.sizes()
            ),
        });
    }
    let hidden = net.hidden();
    if config.hidden != hidden {
        return Err(invalid(crate::config::ConfigError {
            setting: crate::config::Setting::Hidden,
            value: config.hidden_text(),
            problem: format!("the saved nets have hidden layers of {hidden:?} units"),
        }));
    }
    let mean = get_mean(&ck, &net, path)?;
    let sizes = net.parameter_sizes();
    let buffers = |prefix: String| -> Result<Vec<Vec<f32>>, CheckpointError> {
        (0..sizes.len())
            .map_while(|k| ck.contains(&format!("{prefix}{k}")).then_some(k))
            .map(|k| {
                let name = format!("{prefix}{k}");
                let buffer = ck.get_with_shape::<f32, _>(&name, sizes[k])?;
                check_finite(path, &name, buffer.iter())?;
                Ok(buffer.to_vec())
            })
            .collect()
    };
    let count = |key: &str| -> Result<u64, CheckpointError> {
        let value = ck.require_metadata(key)?;
        value.parse().map_err(|_| bad(key, value, "a whole number"))
    };
    let mut step = crate::TrainStep::with_boxed(config.optimizer.build());
    let saved = OptimizerState {
        steps: count("state.steps")?,
        buffers: (step.optimizer().buffer_names().iter())
            .map(|name| buffers(format!("opt.{name}")))
            .collect::<Result<_, _>>()?,
    };
    step.optimizer_mut()
        .load_state(saved, &sizes)
        .map_err(|source| CheckpointError::Optimizer {
            path: path.display().to_string(),
            source,
        })?;
    let whole = |key: &str| -> Result<usize, CheckpointError> {
        let value = ck.require_metadata(key)?;
        value.parse().map_err(|_| bad(key, value, "a whole number"))
    };
    let average = match config.averaging() {
        None => None,
        Some(_) => {
            let average = get_net(&ck, "avg.", path)?;
            if average.sizes() != net.sizes() {
                return Err(CheckpointError::Shapes {
                    path: path.display().to_string(),
                    message: format!(
                        "the averaged net has layer sizes {:?} but the current one {:?}",
                        average.sizes(),
                        net.sizes()
                    ),
                });
            }
            Some(WeightAverage {
                net: average,
                count: count("state.average_count")?,
            })
        }
    };
    let history_text = ck.require_metadata("state.history")?;
    let run = Training {
        net,
        best,
        average,
        step,
        epoch: whole("state.epoch")?,
        iteration: whole("state.iteration")?,
        history: serde_json::from_str(history_text).map_err(|_| {
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

/// `value` as JSON (of types whose serialisation cannot fail: plain structs of numbers).
fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("plain data serialises to JSON")
}
