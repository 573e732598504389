//! Checkpoints: the files a training run leaves: the model (`model.safetensors`: parameters, mean image and
//! what the model was trained on) and the resumable run state (`state.safetensors`).
//!
//! Both are [`TensorFile`]s, so PyTorch and NumPy open them with `safetensors`. A model file
//! holds, and a model written elsewhere must hold:
//!
//! | tensor | shape | what |
//! |---|---|---|
//! | `W1` | `d x h` (f32) | first layer's weights |
//! | `b1` | `h` | first layer's biases |
//! | `W2` | `h x c` | second layer's weights |
//! | `b2` | `c` | second layer's biases |
//! | `W3`, `b3`, ... | | further layers of a deeper net ([`Mlp`]), in order; the last layer's columns are the classes |
//! | `mean` | `d` | the training set's mean input (after `input_scale`), subtracted from every input |
//! | `std` | `d` | optional (`--standardize feature` or `global`): positive standard deviations the centred inputs are divided by; absent: none |
//!
//! | metadata key | example | what |
//! |---|---|---|
//! | `dataset` | `digits`, `csv:/data/x.csv` | the data the model was trained on, as `--data` names it; `eval` and `predict` default to it |
//! | `classes` | `10` | the class count, `c` (must equal the last layer's columns) |
//! | `input_scale` | `0.0625` | the factor the training data's numbers were multiplied by before `mean` was subtracted: 1/16 for digits, 1/255 for CIFAR-10 and MNIST, 1 for CSV and spiral |
//! | `image` | `8,8,1,false` | optional: `height,width,channels,channel_major`, for data sets of images (`height x width x channels = d`) |
//! | `activation` | `tanh` | optional: the nonlinearity between layers (`relu`, `tanh`, `sigmoid`, `leaky_relu`); a file without it is a ReLU net |
//! | `seed` | `7` | the seed the data was split with (also that of the initial weights); `eval` and `predict` default to it |
//! | `tapegrad_version` | `0.1.0` | the version that wrote the file |
//!
//! Training also records every other hyperparameter (`hidden`, `lr`, `optimizer.kind`, ...).
//! A net's input is `x * input_scale - mean` (divided by `std` when there is one), where `x` is a row in the data file's own units
//! ([`SavedModel::preprocess`]). Files written before `input_scale` existed are read with the
//! scale of the reader of their recorded data set (what it was trained on); a file without
//! `input_scale` whose `dataset` is not a source tapegrad reads is refused
//! ([`CheckpointError::MissingScale`]).

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array1, ArrayD, ArrayViewMut2};
use thiserror::Error;

use crate::config::ConfigError;
use crate::data::{DataError, DataSpec, ImageShape, MeanImage};
use crate::limits::{check_classes, quote, MAX_LAYERS};
use crate::model::{parameter_name, Activation};
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
    /// A standard deviation that is zero, negative or not a number: dividing by it would make
    /// the inputs infinite or flip their sign.
    #[error("model file {path}: tensor '{tensor}' holds {value} at element {index}; standard deviations must be positive and finite")]
    NotPositive {
        /// The file.
        path: String,
        /// The tensor.
        tensor: String,
        /// The first bad element's index.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A file without `input_scale` whose data set is not one tapegrad reads, so that its
    /// scale cannot be known.
    #[error(
        "model file {path}: no metadata 'input_scale', and its 'dataset' '{dataset}' is not a \
         data source tapegrad reads, so the scaling of its inputs is unknown: add 'input_scale' \
         (the factor the training data was multiplied by, 1 if it was used as written)"
    )]
    MissingScale {
        /// The file.
        path: String,
        /// Its recorded data set.
        dataset: String,
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
    /// The factor the training data's numbers were multiplied by before the mean image was
    /// subtracted ([`DataSpec::input_scale`] of the training data).
    pub input_scale: f64,
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

impl SavedModel {
    /// Brings feature rows to the net's inputs as training did: multiplies them by
    /// `input_scale / units`, then subtracts the mean image. `units` is the factor the rows'
    /// reader already applied ([`DataSpec::input_scale`] of their source; the model's own
    /// `input_scale` for rows already in the training data's units), so a CSV of raw 0..16
    /// counts and the built-in digits (already divided by 16) reach a digits model alike.
    ///
    /// Errors if the rows have another width than the model's inputs, or if scaling makes a
    /// number infinite.
    pub fn preprocess(
        &self,
        mut features: ArrayViewMut2<'_, f32>,
        units: f64,
    ) -> Result<(), DataError> {
        let factor = self.info.input_scale / units;
        if factor != 1.0 {
            features.mapv_inplace(|x| (f64::from(x) * factor) as f32);
            if let Some((i, _)) = features.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                let cols = features.ncols().max(1);
                return Err(DataError::Invalid(format!(
                    "row {} feature {}: multiplied by {factor} (the model's input_scale {} over \
                     the data's {units}), it is too large for a 32-bit float",
                    i / cols,
                    i % cols + 1,
                    self.info.input_scale
                )));
            }
        }
        self.mean.apply_to(features)
    }
}

/// Writes a model file atomically (a crash never leaves a broken file).
pub fn save_model(path: &Path, model: &SavedModel) -> Result<(), CheckpointError> {
    let mut ck = TensorFile::new();
    put_net(&mut ck, "", &model.net);
    put_mean(&mut ck, &model.mean);
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

/// The metadata key of the nets' activation (one for every net of a file: a run state's net
/// and best net share it).
const ACTIVATION_KEY: &str = "activation";

fn put_net(ck: &mut TensorFile, prefix: &str, net: &Mlp<f32>) {
    for (name, value) in net.parameters() {
        ck.insert(format!("{prefix}{name}"), value);
    }
    ck.set_metadata(ACTIVATION_KEY, net.activation().name());
}

/// The nets' activation: ReLU when the file has none (files written before there was a
/// choice), an error naming the value when it is not one tapegrad knows.
fn get_activation(ck: &TensorFile, path: &Path) -> Result<Activation, CheckpointError> {
    match ck.metadata().get(ACTIVATION_KEY) {
        None => Ok(Activation::Relu),
        Some(text) => text.parse().map_err(|_| CheckpointError::Metadata {
            path: path.display().to_string(),
            key: ACTIVATION_KEY.into(),
            value: quote(text),
            expected: "an activation: relu, tanh, sigmoid or leaky_relu",
        }),
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
    let net = Mlp::from_parameters(parameters)
        .map_err(|e| shapes(e.to_string()))?
        .with_activation(get_activation(ck, path)?);
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

/// Stores the mean image as `mean`, and its standard deviations, if any, as `std`.
fn put_mean(ck: &mut TensorFile, mean: &MeanImage) {
    ck.insert("mean", mean.as_array());
    if let Some(std) = mean.std() {
        ck.insert("std", std);
    }
}

/// The mean image: one finite number per input of `net`; and, if the file has `std` (files
/// without it are not standardised), one positive finite standard deviation per input.
fn get_mean(ck: &TensorFile, net: &Mlp<f32>, path: &Path) -> Result<MeanImage, CheckpointError> {
    let mean: Array1<f32> = ck.get_with_shape("mean", net.inputs())?;
    check_finite(path, "mean", mean.iter())?;
    let mean = MeanImage::from_array(mean);
    if !ck.contains("std") {
        return Ok(mean);
    }
    let std: Array1<f32> = ck.get_with_shape("std", net.inputs())?;
    if let Some((index, &value)) = std
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v > 0.0))
    {
        return Err(CheckpointError::NotPositive {
            path: path.display().to_string(),
            tensor: "std".into(),
            index,
            value,
        });
    }
    Ok(mean.with_std(std))
}

fn put_info(ck: &mut TensorFile, info: &ModelInfo) {
    for (k, v) in &info.extra {
        ck.set_metadata(k.clone(), v.clone());
    }
    ck.set_metadata("dataset", info.dataset.clone());
    ck.set_metadata("classes", info.classes.to_string());
    ck.set_metadata("input_scale", info.input_scale.to_string());
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
    let dataset = ck.require_metadata("dataset")?.to_owned();
    let input_scale = match ck.metadata().get("input_scale") {
        Some(text) => text
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x > 0.0)
            .ok_or_else(|| bad("input_scale", text, "a positive number"))?,
        // Written before input_scale was: the model saw what its data set's reader gave.
        None => match dataset.parse::<DataSpec>() {
            Ok(spec) => spec.input_scale(),
            Err(_) => {
                return Err(CheckpointError::MissingScale {
                    path: path.display().to_string(),
                    dataset: quote(&dataset),
                })
            }
        },
    };
    let extra = ck
        .metadata()
        .iter()
        .filter(|(k, _)| {
            !k.starts_with("state.")
                && !["dataset", "classes", "image", "input_scale", ACTIVATION_KEY]
                    .contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(ModelInfo {
        dataset,
        classes,
        image,
        input_scale,
        extra,
    })
}
