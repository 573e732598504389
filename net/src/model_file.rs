//! The files a training run leaves: the model (`model.safetensors`: parameters, mean image and
//! what the model was trained on) and the resumable run state (`state.safetensors`).
//!
//! Both are [`Checkpoint`]s, so PyTorch and NumPy open them with `safetensors`; tensors are
//! `W1`, `b1`, `W2`, `b2` and `mean` (the training set's mean image, subtracted from every
//! input before the net sees it). Metadata holds the data set name, the class count, the image
//! shape (`height,width,channels,channel_major`), the hyperparameters and the tapegrad version.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array1, Array2};
use thiserror::Error;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::data::{ImageShape, MeanImage};
use crate::train::{EpochStats, TrainConfig, Training};
use crate::{Optimizer, OptimizerKind, TwoLayerNet};

/// What went wrong reading or writing a model or run-state file.
#[derive(Debug, Error)]
pub enum ModelFileError {
    /// The file itself: missing, unreadable, not safetensors, a tensor missing, ...
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A metadata entry that cannot be read back.
    #[error("model file {path}: metadata '{key}' = '{value}' is not {expected}")]
    Metadata {
        /// The file.
        path: String,
        /// The metadata key.
        key: String,
        /// Its value.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// Parameters whose shapes do not make a two-layer net.
    #[error("model file {path}: {message}")]
    Shapes {
        /// The file.
        path: String,
        /// What does not fit.
        message: String,
    },
}

/// What a model was trained on: enough to apply it to new data the same way.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The data set's name (for example `digits` or `mnist:/data/mnist`).
    pub dataset: String,
    /// Number of classes `c`.
    pub classes: usize,
    /// The input image's shape, for data sets of images.
    pub image: Option<ImageShape>,
    /// Free-form facts (hyperparameters, accuracies), stored as metadata.
    pub extra: BTreeMap<String, String>,
}

/// A trained model as saved: the net, the mean image to subtract and its [`ModelInfo`].
#[derive(Debug, Clone, PartialEq)]
pub struct SavedModel {
    /// The net.
    pub net: TwoLayerNet<f32>,
    /// The training set's mean image.
    pub mean: MeanImage,
    /// What it was trained on.
    pub info: ModelInfo,
}

/// Writes a model file atomically (a crash never leaves a broken file).
pub fn save_model(path: &Path, model: &SavedModel) -> Result<(), ModelFileError> {
    let mut ck = Checkpoint::new();
    put_net(&mut ck, "", &model.net);
    ck.insert("mean", model.mean.as_array());
    put_info(&mut ck, &model.info);
    Ok(ck.save(path)?)
}

/// Reads a model file written by [`save_model`].
pub fn load_model(path: &Path) -> Result<SavedModel, ModelFileError> {
    let ck = Checkpoint::load(path)?;
    let net = get_net(&ck, "", path)?;
    let mean: Array1<f32> = ck.get_with_shape("mean", net.dims().0)?;
    Ok(SavedModel {
        net,
        mean: MeanImage::from_array(mean),
        info: get_info(&ck, path)?,
    })
}

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

/// Reads a run state written by [`save_state`].
pub fn load_state(path: &Path) -> Result<SavedRun, ModelFileError> {
    let ck = Checkpoint::load(path)?;
    let config_text = ck.require_metadata("state.config")?;
    let config = config_from_json(config_text).ok_or_else(|| ModelFileError::Metadata {
        path: path.display().to_string(),
        key: "state.config".into(),
        value: config_text.into(),
        expected: "the run's hyperparameters as JSON",
    })?;
    let kind = config.optimizer;
    let net = get_net(&ck, "", path)?;
    let best = get_net(&ck, "best.", path)?;
    let mean = MeanImage::from_array(ck.get_with_shape("mean", net.dims().0)?);
    let buffers = |prefix: &str| -> Result<Vec<Vec<f32>>, ModelFileError> {
        (0..4)
            .map_while(|k| ck.contains(&format!("{prefix}{k}")).then_some(k))
            .map(|k| {
                Ok(ck
                    .get::<f32, ndarray::Ix1>(&format!("{prefix}{k}"))?
                    .to_vec())
            })
            .collect()
    };
    let (m, v) = (buffers("opt.m")?, buffers("opt.v")?);
    let number = |key: &str| -> Result<f64, ModelFileError> {
        let value = ck.require_metadata(key)?;
        value.parse().map_err(|_| ModelFileError::Metadata {
            path: path.display().to_string(),
            key: key.into(),
            value: value.into(),
            expected: "a number",
        })
    };
    let run = Training {
        net,
        best,
        best_val_accuracy: number("state.best_val_accuracy")?,
        optimizer: Optimizer::restore(kind, number("state.steps")? as u64, m, v),
        epoch: number("state.epoch")? as usize,
        iteration: number("state.iteration")? as usize,
        lr: number("state.lr")?,
        history: history_from_json(ck.require_metadata("state.history")?).ok_or_else(|| {
            ModelFileError::Metadata {
                path: path.display().to_string(),
                key: "state.history".into(),
                value: "…".into(),
                expected: "a JSON list of epoch records",
            }
        })?,
    };
    let info = get_info(&ck, path)?;
    Ok(SavedRun {
        run,
        config,
        mean,
        info,
    })
}

fn put_net(ck: &mut Checkpoint, prefix: &str, net: &TwoLayerNet<f32>) {
    ck.insert(format!("{prefix}W1"), &*net.w1);
    ck.insert(format!("{prefix}b1"), &*net.b1);
    ck.insert(format!("{prefix}W2"), &*net.w2);
    ck.insert(format!("{prefix}b2"), &*net.b2);
}

fn get_net(ck: &Checkpoint, prefix: &str, path: &Path) -> Result<TwoLayerNet<f32>, ModelFileError> {
    let w1: Array2<f32> = ck.get(&format!("{prefix}W1"))?;
    let b1: Array1<f32> = ck.get(&format!("{prefix}b1"))?;
    let w2: Array2<f32> = ck.get(&format!("{prefix}W2"))?;
    let b2: Array1<f32> = ck.get(&format!("{prefix}b2"))?;
    TwoLayerNet::from_parameters(w1, b1, w2, b2).map_err(|e| ModelFileError::Shapes {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn put_info(ck: &mut Checkpoint, info: &ModelInfo) {
    for (k, v) in &info.extra {
        ck.set_metadata(k.clone(), v.clone());
    }
    ck.set_metadata("dataset", info.dataset.clone());
    ck.set_metadata("classes", info.classes.to_string());
    if let Some(im) = info.image {
        ck.set_metadata(
            "image",
            format!(
                "{},{},{},{}",
                im.height, im.width, im.channels, im.channel_major
            ),
        );
    }
    ck.set_metadata("tapegrad_version", env!("CARGO_PKG_VERSION"));
}

fn get_info(ck: &Checkpoint, path: &Path) -> Result<ModelInfo, ModelFileError> {
    let bad = |key: &str, value: &str, expected| ModelFileError::Metadata {
        path: path.display().to_string(),
        key: key.into(),
        value: value.into(),
        expected,
    };
    let classes_text = ck.require_metadata("classes")?;
    let classes = classes_text
        .parse()
        .map_err(|_| bad("classes", classes_text, "a whole number"))?;
    let image = match ck.metadata().get("image") {
        None => None,
        Some(text) => {
            let parts: Vec<&str> = text.split(',').collect();
            let n = |i: usize| parts.get(i).and_then(|p| p.parse::<usize>().ok());
            match (
                n(0),
                n(1),
                n(2),
                parts.get(3).and_then(|p| p.parse::<bool>().ok()),
            ) {
                (Some(height), Some(width), Some(channels), Some(channel_major)) => {
                    Some(ImageShape {
                        height,
                        width,
                        channels,
                        channel_major,
                    })
                }
                _ => return Err(bad("image", text, "height,width,channels,channel_major")),
            }
        }
    };
    let extra = ck
        .metadata()
        .iter()
        .filter(|(k, _)| {
            !k.starts_with("state.") && !["dataset", "classes", "image"].contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(ModelInfo {
        dataset: ck.require_metadata("dataset")?.to_owned(),
        classes,
        image,
        extra,
    })
}

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
