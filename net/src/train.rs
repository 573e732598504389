//! The training loop: shuffled minibatches, an optimizer, per-epoch learning-rate decay,
//! validation, and the best model kept.

use std::ops::ControlFlow;
use std::time::Instant;

use ndarray::{s, Array2, ArrayView2};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use tapegrad_autograd::Element;

use crate::data::Dataset;
use crate::{Init, Mlp, NetError, OptimizerKind, Result, TrainStep};

/// Hyperparameters of a run: the one definition from which the run state, the model file's
/// metadata, `summary.json` and `tune`'s results are all written (through serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Hidden units of each hidden layer: `[h]` is the document's two-layer net, `[512, 256]`
    /// a net of three layers. A saved single number (files of earlier versions) reads as one
    /// hidden layer.
    #[serde(deserialize_with = "hidden_sizes")]
    pub hidden: Vec<usize>,
    /// Regularisation strength `λ` of `λ(ΣW1² + ΣW2²)`.
    pub reg: f64,
    /// Initial learning rate.
    pub lr: f64,
    /// The learning rate is multiplied by this after every epoch.
    pub lr_decay: f64,
    /// Examples per minibatch (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Passes over the training data.
    pub epochs: usize,
    /// The update rule.
    pub optimizer: OptimizerKind,
    /// Standard deviation of the initial weights.
    pub init_std: f64,
    /// Seed of the initial weights and of every epoch's shuffle.
    pub seed: u64,
}

impl Default for TrainConfig {
    /// Settings that reach 97–98% test accuracy on the built-in digits in well under a second.
    fn default() -> Self {
        TrainConfig {
            hidden: vec![100],
            reg: 1e-4,
            lr: 1e-3,
            lr_decay: 0.98,
            batch_size: 32,
            epochs: 60,
            optimizer: OptimizerKind::ADAM,
            init_std: 1e-2,
            seed: 0,
        }
    }
}

/// Reads `hidden` as a list of sizes, or as one number (one hidden layer).
fn hidden_sizes<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<usize>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Hidden {
        One(usize),
        Layers(Vec<usize>),
    }
    Ok(match Hidden::deserialize(d)? {
        Hidden::One(h) => vec![h],
        Hidden::Layers(sizes) => sizes,
    })
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// The epoch's number, from 1.
    pub epoch: usize,
    /// Optimizer steps taken so far in the run.
    pub iteration: usize,
    /// Mean minibatch loss over the epoch.
    pub loss: f64,
    /// Accuracy on (up to the first [`TRAIN_ACCURACY_SAMPLE`]) training examples.
    pub train_accuracy: f64,
    /// Accuracy on the validation set.
    pub val_accuracy: f64,
    /// The learning rate used during the epoch.
    pub lr: f64,
    /// Seconds spent on the epoch's steps (not the evaluation).
    pub seconds: f64,
}

/// Training accuracy per epoch is measured on at most this many training examples, so that
/// large data sets don't spend a third of the time evaluating.
pub const TRAIN_ACCURACY_SAMPLE: usize = 5000;

/// What the loop reports as it goes, for progress bars and checkpoints.
pub enum Progress<'a, T: Element> {
    /// A step finished with this minibatch loss.
    Step {
        /// Steps so far.
        iteration: usize,
        /// The current epoch, from 1.
        epoch: usize,
        /// The minibatch loss.
        loss: f64,
    },
    /// An epoch finished.
    Epoch {
        /// Its statistics.
        stats: &'a EpochStats,
        /// The whole run's state after it.
        run: &'a Training<T>,
        /// Whether this epoch set a new best validation accuracy.
        improved: bool,
    },
}

/// A run's state: everything needed to continue it.
#[derive(Debug, Clone)]
pub struct Training<T: Element> {
    /// The current model.
    pub net: Mlp<T>,
    /// The model of the best validation accuracy so far.
    pub best: Mlp<T>,
    /// Its validation accuracy.
    pub best_val_accuracy: f64,
    /// The tape and the optimizer (with its state) that take each step.
    pub step: TrainStep<T>,
    /// Epochs completed.
    pub epoch: usize,
    /// Steps taken.
    pub iteration: usize,
    /// The learning rate of the next epoch.
    pub lr: f64,
    /// One entry per completed epoch.
    pub history: Vec<EpochStats>,
}

impl<T: Element> Training<T> {
    /// A fresh run for `d` inputs and `c` classes. Check the sizes first
    /// ([`TrainConfig::validate`], [`TrainConfig::check_fits`]): this allocates the net.
    pub fn new(config: &TrainConfig, d: usize, c: usize) -> Result<Self> {
        let mut sizes = vec![d];
        sizes.extend(&config.hidden);
        sizes.push(c);
        let init = Init {
            std: config.init_std,
            seed: config.seed,
        };
        let net = Mlp::new(&sizes, init)?;
        Ok(Training {
            best: net.clone(),
            net,
            best_val_accuracy: f64::NEG_INFINITY,
            step: TrainStep::with_boxed(config.optimizer.build()),
            epoch: 0,
            iteration: 0,
            lr: config.lr,
            history: Vec::new(),
        })
    }

    /// Trains until `config.epochs` epochs are complete (continuing from `self.epoch`),
    /// reporting to `observe`, which can stop the run early by returning
    /// [`ControlFlow::Break`] (the run then returns `Ok` with `self.epoch < config.epochs`).
    /// A non-finite loss stops the run with [`NetError::Diverged`]; `self` then still holds the
    /// state after the last good step.
    pub fn run(
        &mut self,
        config: &TrainConfig,
        train: &Dataset,
        val: &Dataset,
        mut observe: impl FnMut(Progress<'_, T>) -> ControlFlow<()>,
    ) -> Result<()> {
        let d = self.net.inputs();
        if train.dim() != d {
            return Err(NetError::InputSize {
                expected: d,
                found: train.dim(),
            });
        }
        let features = train.features();
        let mut order: Vec<usize> = (0..train.len()).collect();
        // A batch holds at most the whole training set, whatever `batch_size` says.
        let mut labels = Vec::with_capacity(config.batch_size.min(train.len()));
        while self.epoch < config.epochs {
            let epoch = self.epoch + 1;
            // Each epoch's shuffle depends on the seed and the epoch only, so a resumed run
            // sees the same batches as an uninterrupted one.
            let mut rng = StdRng::seed_from_u64(
                config.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            order.sort_unstable();
            order.shuffle(&mut rng);
            let start = Instant::now();
            let mut total = 0.0;
            for batch in order.chunks(config.batch_size.max(1)) {
                let mut x = self.step.tape().take_buffer(&[batch.len(), d]);
                gather(features, batch, &mut x);
                labels.clear();
                labels.extend(batch.iter().map(|&i| train.labels()[i]));
                let reg = T::cast(config.reg);
                let loss = self.step.step(&mut self.net, x, &labels, reg, self.lr)?;
                let loss = loss.as_f64();
                if !loss.is_finite() {
                    return Err(NetError::Diverged {
                        iteration: self.iteration + 1,
                        loss,
                    });
                }
                self.iteration += 1;
                total += loss * batch.len() as f64;
                let flow = observe(Progress::Step {
                    iteration: self.iteration,
                    epoch,
                    loss,
                });
                if flow.is_break() {
                    return Ok(());
                }
            }
            let seconds = start.elapsed().as_secs_f64();
            let sample = train.len().min(TRAIN_ACCURACY_SAMPLE);
            let stats = EpochStats {
                epoch,
                iteration: self.iteration,
                loss: total / train.len().max(1) as f64,
                train_accuracy: accuracy(
                    &self.net,
                    features.slice(s![..sample, ..]),
                    &train.labels()[..sample],
                )?,
                val_accuracy: accuracy(&self.net, val.features(), val.labels())?,
                lr: self.lr,
                seconds,
            };
            self.lr *= config.lr_decay;
            self.epoch = epoch;
            let improved = stats.val_accuracy > self.best_val_accuracy;
            if improved {
                self.best_val_accuracy = stats.val_accuracy;
                self.best = self.net.clone();
            }
            self.history.push(stats.clone());
            let flow = observe(Progress::Epoch {
                stats: &stats,
                run: self,
                improved,
            });
            if flow.is_break() {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Copies rows `rows` of `features` into `out` (`rows.len() x d`), converting to `T`.
fn gather<T: Element>(features: ArrayView2<'_, f32>, rows: &[usize], out: &mut ndarray::ArrayD<T>) {
    let d = features.ncols();
    let out = out.as_slice_mut().expect("pool buffers are contiguous");
    for (dst, &i) in out.chunks_exact_mut(d).zip(rows) {
        for (o, &v) in dst.iter_mut().zip(features.row(i)) {
            *o = T::cast(f64::from(v));
        }
    }
}

/// Accuracy of `net` on f32 features (converted to `T` in blocks, so memory stays small).
pub fn accuracy<T: Element>(net: &Mlp<T>, x: ArrayView2<'_, f32>, y: &[usize]) -> Result<f64> {
    let predicted = predict(net, x)?;
    let right = predicted.iter().zip(y).filter(|(p, y)| p == y).count();
    Ok(if y.is_empty() {
        0.0
    } else {
        right as f64 / y.len() as f64
    })
}

/// Predicted classes of `net` for f32 features, converted to `T` 1,024 rows at a time (so the
/// converted copy stays a few megabytes whatever the data's size).
pub fn predict<T: Element>(net: &Mlp<T>, x: ArrayView2<'_, f32>) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(x.nrows());
    for block in x.axis_chunks_iter(ndarray::Axis(0), 1024) {
        let xt: Array2<T> = block.mapv(|v| T::cast(f64::from(v)));
        out.extend(net.predict(xt.view())?);
    }
    Ok(out)
}
