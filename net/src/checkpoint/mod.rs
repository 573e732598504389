//! Checkpoints: the files a training run leaves: the model (`model.safetensors`: parameters, mean image and
//! what the model was trained on) and the resumable run state (`state.safetensors`).
//!
//! Both are [`TensorFile`]s, so PyTorch and NumPy open them with `safetensors`; tensors are
//! the net's parameters in order, `W1`, `b1`, `W2`, `b2` (and `W3`, `b3`, ... for deeper nets;
//! see [`Mlp`]), and `mean` (the training set's mean image, subtracted from every input before
//! the net sees it). Metadata holds the data set name, the class count, the image
//! shape (`height,width,channels,channel_major`), the hyperparameters and the tapegrad version.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array1, ArrayD};
use thiserror::Error;

use crate::config::ConfigError;
use crate::data::{ImageShape, MeanImage};
use crate::limits::{check_classes, quote, MAX_LAYERS};
use crate::model::parameter_name;
use crate::tensor_file::{TensorFile, TensorFileError};
use crate::Mlp;

mod state;

pub use state::{load_state, save_state, SavedRun};

/// What went wrong reading or writing a model or run-state file.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// The file itself: missing, unreadable, not safetensors, a tensor missing, ...
    #[error(transparent)]
    TensorFile(#[from] TensorFileError),
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
    /// Parameters whose shapes do not make a net, or that do not fit the metadata.
    #[error("model file {path}: {message}")]
    Shapes {
        /// The file.
        path: String,
        /// What does not fit.
        message: String,
    },
    /// A tensor holding NaN or an infinity: such a model computes garbage, so it is refused.
    #[error("model file {path}: tensor '{tensor}' holds {value} at element {index} (row-major); a model's numbers must all be finite")]
    NonFinite {
        /// The file.
        path: String,
        /// The tensor.
        tensor: String,
        /// The first non-finite element's index, counted row by row.
        index: usize,
        /// The value (`NaN`, `inf` or `-inf`).
        value: f32,
    },
    /// A run state whose optimizer state does not fit its optimizer or its nets.
    #[error("run state {path}: {source}")]
    Optimizer {
        /// The state file.
        path: String,
        /// What does not fit.
        source: crate::optim::OptimError,
    },
    /// A run state whose saved hyperparameters cannot work: the state file is at fault, not
    /// the flags of the run that resumes it.
    #[error("run state {path}: its saved hyperparameters are invalid: {source}")]
    Config {
        /// The state file.
        path: String,
        /// What is wrong.
        source: ConfigError,
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
    pub net: Mlp<f32>,
    /// The training set's mean image.
    pub mean: MeanImage,
    /// What it was trained on.
    pub info: ModelInfo,
}

/// Writes a model file atomically (a crash never leaves a broken file).
pub fn save_model(path: &Path, model: &SavedModel) -> Result<(), CheckpointError> {
    let mut ck = TensorFile::new();
    put_net(&mut ck, "", &model.net);
    ck.insert("mean", model.mean.as_array());
    put_info(&mut ck, &model.info);
    Ok(ck.save(path)?)
}

/// Reads a model file written by [`save_model`].
pub fn load_model(path: &Path) -> Result<SavedModel, CheckpointError> {
    let ck = TensorFile::load(path)?;
    let net = get_net(&ck, "", path)?;
    Ok(SavedModel {
        mean: get_mean(&ck, &net, path)?,
        info: get_info(&ck, &net, path)?,
        net,
    })
}

fn put_net(ck: &mut TensorFile, prefix: &str, net: &Mlp<f32>) {
    for (name, value) in net.parameters() {
        ck.insert(format!("{prefix}{name}"), value);
    }
}

/// Refuses a tensor with NaN or an infinity, naming it.
fn check_finite<'a>(
    path: &Path,
    tensor: &str,
    values: impl IntoIterator<Item = &'a f32>,
) -> Result<(), CheckpointError> {
    match values.into_iter().enumerate().find(|(_, v)| !v.is_finite()) {
        None => Ok(()),
        Some((index, &value)) => Err(CheckpointError::NonFinite {
            path: path.display().to_string(),
            tensor: tensor.to_owned(),
            index,
            value,
        }),
    }
}

/// The net stored under `prefix`: `W1, b1, W2, b2, ...` up to the first missing weight (at
/// least two layers' worth, at most [`MAX_LAYERS`]), shapes that fit together, at least one
/// input and hidden unit, `1..=MAX_CLASSES` classes, every number finite.
fn get_net(ck: &TensorFile, prefix: &str, path: &Path) -> Result<Mlp<f32>, CheckpointError> {
    let name = |k: usize| format!("{prefix}{}", parameter_name(k));
    let shapes = |message: String| CheckpointError::Shapes {
        path: path.display().to_string(),
        message,
    };
    let mut parameters: Vec<ArrayD<f32>> = Vec::new();
    for k in 0..2 * MAX_LAYERS {
        // The net ends where a weight is missing; W1 and W2 (the document's net) always exist.
        if k.is_multiple_of(2) && k >= 4 && !ck.contains(&name(k)) {
            break;
        }
        let value: ArrayD<f32> = if k.is_multiple_of(2) {
            ck.get::<f32, ndarray::Ix2>(&name(k))?.into_dyn()
        } else {
            ck.get::<f32, ndarray::Ix1>(&name(k))?.into_dyn()
        };
        check_finite(path, &name(k), value.iter())?;
        parameters.push(value);
    }
    if ck.contains(&name(2 * MAX_LAYERS)) {
        return Err(shapes(format!("more than {MAX_LAYERS} layers")));
    }
    let net = Mlp::from_parameters(parameters).map_err(|e| shapes(e.to_string()))?;
    let sizes = net.sizes();
    if sizes[..sizes.len() - 1].contains(&0) {
        let what = format!(
            "layer sizes {sizes:?} (inputs, hidden units, classes): a net needs at least 1 input \
             and 1 unit per hidden layer"
        );
        return Err(shapes(what));
    }
    let last = name(2 * (sizes.len() - 2));
    check_classes(net.classes())
        .map_err(|p| shapes(format!("{last} has {p} (one column per class)")))?;
    Ok(net)
}

/// The mean image: one finite number per input of `net`.
fn get_mean(ck: &TensorFile, net: &Mlp<f32>, path: &Path) -> Result<MeanImage, CheckpointError> {
    let mean: Array1<f32> = ck.get_with_shape("mean", net.inputs())?;
    check_finite(path, "mean", mean.iter())?;
    Ok(MeanImage::from_array(mean))
}

fn put_info(ck: &mut TensorFile, info: &ModelInfo) {
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

/// The metadata, checked against the weights: `classes` is W2's column count, `image` has
/// W1's row count of pixels.
fn get_info(ck: &TensorFile, net: &Mlp<f32>, path: &Path) -> Result<ModelInfo, CheckpointError> {
    let bad = |key: &str, value: &str, expected| CheckpointError::Metadata {
        path: path.display().to_string(),
        key: key.into(),
        value: quote(value),
        expected,
    };
    let (d, c) = (net.inputs(), net.classes());
    let classes_text = ck.require_metadata("classes")?;
    let classes: usize = classes_text
        .parse()
        .map_err(|_| bad("classes", classes_text, "a whole number"))?;
    if classes != c {
        return Err(bad(
            "classes",
            classes_text,
            "the class count of the weights (the last layer's columns and biases)",
        ));
    }
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
                (Some(height), Some(width), Some(channels), Some(channel_major))
                    if height
                        .checked_mul(width)
                        .and_then(|p| p.checked_mul(channels))
                        == Some(d) =>
                {
                    Some(ImageShape {
                        height,
                        width,
                        channels,
                        channel_major,
                    })
                }
                _ => {
                    let expected = "height,width,channels,channel_major with height x width x \
                                    channels = the model's inputs (W1's rows)";
                    return Err(bad("image", text, expected));
                }
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
