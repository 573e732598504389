//! [`Training`]: a run's state and the loop that advances it epoch by epoch.

use std::ops::ControlFlow;
use std::time::Instant;

use ndarray::{s, ArrayView1};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tapegrad_autograd::{Element, FlushSubnormals};

use super::{evaluate, Averaging, EpochStats, TrainConfig, WeightAverage};
use crate::augment::Augmenter;
use crate::data::{Dataset, MeanImage};
use crate::schedule::Position;
use crate::{Init, Mlp, NetError, Result, TrainStep};

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
        /// The step's learning rate.
        lr: f64,
    },
    /// An epoch finished.
    Epoch {
        /// Its statistics.
        stats: &'a EpochStats,
        /// The whole run's state after it.
        run: &'a Training<T>,
        /// Whether this epoch is the new best by the monitored metric.
        improved: bool,
    },
}

/// Why [`Training::run`] returned without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// All `epochs` epochs are done.
    Completed,
    /// The monitored metric did not improve for `patience` epochs.
    EarlyStopped,
    /// The observer asked to stop (after a step or an epoch).
    Interrupted,
}

/// A run's state: everything needed to continue it.
#[derive(Debug, Clone)]
pub struct Training<T: Element> {
    /// The current model.
    pub net: Mlp<T>,
    /// The model at the end of the best epoch so far by the monitored metric (the initial net
    /// before the first epoch): the averaged net ([`measured`](Self::measured)) when the
    /// configuration averages.
    pub best: Mlp<T>,
    /// The average of the parameters, with `ema` or `swa_start` ([`WeightAverage`]).
    pub average: Option<WeightAverage<T>>,
    /// The tape and the optimizer (with its state) that take each step.
    pub step: TrainStep<T>,
    /// Epochs completed.
    pub epoch: usize,
    /// Steps taken.
    pub iteration: usize,
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
        let net = Mlp::new(&sizes, init)?.with_activation(config.activation);
        Ok(Training {
            best: net.clone(),
            average: config.averaging().map(|_| WeightAverage::new(&net)),
            net,
            step: TrainStep::with_boxed(config.optimizer.build()),
            epoch: 0,
            iteration: 0,
            history: Vec::new(),
        })
    }

    /// The net that validation measures and [`best`](Self::best) keeps: the average once it
    /// holds an update, else the net being trained.
    pub fn measured(&self) -> &Mlp<T> {
        match &self.average {
            Some(average) if average.count > 0 => &average.net,
            _ => &self.net,
        }
    }

    /// The statistics of the epoch [`best`](Self::best) was taken from, by `config`'s monitor.
    pub fn best_epoch(&self, config: &TrainConfig) -> Option<&EpochStats> {
        config.monitor.best(&self.history)
    }

    /// Whether `config`'s patience has run out: the monitored metric has not improved for
    /// `patience` epochs.
    pub fn patience_exhausted(&self, config: &TrainConfig) -> bool {
        config.patience.is_some_and(|p| {
            !self.history.is_empty() && config.monitor.epochs_since_best(&self.history) >= p
        })
    }

    /// Trains until `config.epochs` epochs are complete (continuing from `self.epoch`) or the
    /// monitored metric has not improved for `config.patience` epochs, reporting to `observe`,
    /// which can stop the run by returning [`ControlFlow::Break`] (after a step: the net is then
    /// mid-epoch, and `self.history` ends at the last finished epoch). A non-finite loss stops
    /// the run with [`NetError::Diverged`]; `self` then still holds the state after the last
    /// good step.
    ///
    /// With [`TrainConfig::augment`] set, `train`'s features are taken as raw images (a pixel
    /// outside the image is 0); data whose mean image was subtracted train through
    /// [`run_centred`](Self::run_centred).
    pub fn run(
        &mut self,
        config: &TrainConfig,
        train: &Dataset,
        val: &Dataset,
        observe: impl FnMut(Progress<'_, T>) -> ControlFlow<()>,
    ) -> Result<Finish> {
        self.run_centred(config, train, val, None, observe)
    }

    /// [`run`](Self::run) on data from which `mean` (the training set's mean image) was
    /// subtracted: augmentation resamples the raw images (features plus `mean`), so that pixels
    /// moved in from outside are blank (`-mean`, as a raw 0 becomes) and the mean image stays
    /// in place.
    pub fn run_centred(
        &mut self,
        config: &TrainConfig,
        train: &Dataset,
        val: &Dataset,
        mean: Option<&MeanImage>,
        mut observe: impl FnMut(Progress<'_, T>) -> ControlFlow<()>,
    ) -> Result<Finish> {
        let d = self.net.inputs();
        if train.dim() != d {
            return Err(NetError::InputSize {
                expected: d,
                found: train.dim(),
            });
        }
        // Dead units' weights decay into subnormal numbers, which cost x86 a microcode assist
        // per operation: flushed to zero for the run (and restored after).
        let _flush = FlushSubnormals::new();
        let features = train.features();
        let mut order: Vec<usize> = (0..train.len()).collect();
        // A batch holds at most the whole training set, whatever `batch_size` says.
        let batch_size = config.batch_size.clamp(1, train.len().max(1));
        let steps_per_epoch = train.len().div_ceil(batch_size);
        let mut labels = Vec::with_capacity(batch_size);
        let reg = T::cast(config.reg);
        // Dropout and label smoothing as configured, the masks keyed by (seed, step) so a resumed run draws the same.
        let dropout = config.hidden_dropout()?;
        self.step.set_dropout(dropout, self.iteration as u64);
        self.step
            .set_label_smoothing(T::cast(config.label_smoothing));
        let averaging = config.averaging();
        if averaging.is_some() && self.average.is_none() {
            self.average = Some(WeightAverage::new(&self.net));
        }
        // The features are (raw - mean) / std with one global std (per-feature ones are refused
        // with augmentation by `TrainConfig::validate`): raw units are the features plus
        // mean / std, up to the common scale, which resampling (linear) leaves alone.
        let offset: Option<Vec<f32>> = mean.map(|m| match m.std() {
            Some(std) => ndarray::Zip::from(m.as_array())
                .and(std)
                .map_collect(|&mu, &s| mu / s)
                .to_vec(),
            None => m.as_array().to_vec(),
        });
        let mut augmenter = Augmenter::new(
            &config.augment,
            train.image(),
            offset.as_deref(),
            batch_size,
            train.name(),
        )?;
        while self.epoch < config.epochs {
            if self.patience_exhausted(config) {
                return Ok(Finish::EarlyStopped);
            }
            let epoch = self.epoch + 1;
            // Each epoch's shuffle depends on the seed and the epoch only, so a resumed run
            // sees the same batches as an uninterrupted one.
            let mut rng = StdRng::seed_from_u64(
                config.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            order.sort_unstable();
            order.shuffle(&mut rng);
            let start = Instant::now();
            let (mut total, mut lr) = (0.0, config.lr);
            for (step, batch) in order.chunks(batch_size).enumerate() {
                let at = Position {
                    epoch: self.epoch,
                    step,
                    steps_per_epoch,
                    epochs: config.epochs,
                };
                lr = config
                    .schedule
                    .lr(config.lr, at, &self.history, config.monitor);
                lr = config.averaged_lr(epoch, lr);
                let mut x = self.step.tape().take_buffer(&[batch.len(), d]);
                match augmenter.as_mut() {
                    Some(a) => {
                        let augmented = a.batch(config.seed, epoch, features, batch);
                        gather(&|r| augmented.row(r), &mut x)
                    }
                    None => gather(&|r| features.row(batch[r]), &mut x),
                }
                labels.clear();
                labels.extend(batch.iter().map(|&i| train.labels()[i]));
                let loss = self.step.step(&mut self.net, x, &labels, reg, lr)?;
                let loss = loss.as_f64();
                if !loss.is_finite() {
                    return Err(NetError::Diverged {
                        iteration: self.iteration + 1,
                        loss,
                    });
                }
                self.iteration += 1;
                if let (Some(Averaging::Ema { decay }), Some(average)) =
                    (averaging, self.average.as_mut())
                {
                    average.ema_update(&self.net, decay);
                }
                total += loss * batch.len() as f64;
                let flow = observe(Progress::Step {
                    iteration: self.iteration,
                    epoch,
                    loss,
                    lr,
                });
                if flow.is_break() {
                    return Ok(Finish::Interrupted);
                }
            }
            let seconds = start.elapsed().as_secs_f64();
            if let (Some(Averaging::Swa { start: first, .. }), Some(average)) =
                (averaging, self.average.as_mut())
            {
                if epoch >= first {
                    average.add_snapshot(&self.net);
                }
            }
            let sample = train.len().min(TRAIN_ACCURACY_SAMPLE);
            let measured = self.measured();
            let train_sample = evaluate(
                measured,
                features.slice(s![..sample, ..]),
                &train.labels()[..sample],
                config.reg,
            )?;
            let on_val = evaluate(measured, val.features(), val.labels(), config.reg)?;
            let stats = EpochStats {
                epoch,
                iteration: self.iteration,
                loss: total / train.len().max(1) as f64,
                val_loss: on_val.loss,
                train_accuracy: train_sample.accuracy,
                val_accuracy: on_val.accuracy,
                lr,
                seconds,
            };
            self.epoch = epoch;
            self.history.push(stats.clone());
            let improved = self.best_epoch(config).is_some_and(|b| b.epoch == epoch);
            if improved {
                self.best = self.measured().clone();
            }
            let flow = observe(Progress::Epoch {
                stats: &stats,
                run: self,
                improved,
            });
            if flow.is_break() {
                return Ok(Finish::Interrupted);
            }
        }
        Ok(Finish::Completed)
    }
}

/// Copies row `row(r)` into row `r` of `out` (the rows of a minibatch, or of its augmented
/// copy), converting to `T`; the two halves of a long batch on two threads of the team: the
/// rows come from random places of a large array, so each one waits on memory, and two
/// threads wait on two.
fn gather<'a, T: Element>(
    row: &(impl Fn(usize) -> ArrayView1<'a, f32> + Sync),
    out: &mut ndarray::ArrayD<T>,
) {
    let d = out.shape()[1];
    let out = out.as_slice_mut().expect("pool buffers are contiguous");
    gather_rows(row, 0, out, d, tapegrad_autograd::threads());
}

/// How many rows ahead of the one it copies [`gather_rows`] asks for.
const PREFETCH_ROWS: usize = 2;

/// Asks the processor to start loading `values` into its caches, so that copying them later
/// does not wait on memory line after line: the rows of a minibatch come from random places of
/// a large training set. In a profile of Fashion-MNIST epochs (the `best` recipe), the gather's
/// share of the samples fell from 11.6% to 5.4% with it.
fn prefetch(values: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in values.chunks(16) {
        // One 64-byte cache line (16 f32s) at a time.
        // SAFETY: `_mm_prefetch` is a hint: it reads nothing the program can see and never
        // faults, whatever the address; SSE, which provides it, is part of every x86-64 CPU.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}

/// Batches of at least this many elements are gathered on two threads.
const GATHER_PARALLEL_FROM: usize = 1 << 15;

/// [`gather`] of the rows from `first` on into `out` (`d` elements each) on up to `threads`
/// threads.
fn gather_rows<'a, T: Element>(
    row: &(impl Fn(usize) -> ArrayView1<'a, f32> + Sync),
    first: usize,
    out: &mut [T],
    d: usize,
    threads: usize,
) {
    let rows = out.len() / d.max(1);
    if threads > 1 && rows > 1 && out.len() >= GATHER_PARALLEL_FROM {
        let half = rows / 2;
        let (top, bottom) = out.split_at_mut(half * d);
        tapegrad_autograd::team::join(
            || gather_rows(row, first, top, d, threads - threads / 2),
            || gather_rows(row, first + half, bottom, d, threads / 2),
        );
        return;
    }
    for (r, dst) in out.chunks_exact_mut(d).enumerate() {
        if r + PREFETCH_ROWS < rows {
            if let Some(ahead) = row(first + r + PREFETCH_ROWS).as_slice() {
                prefetch(ahead);
            }
        }
        let src = row(first + r);
        // A contiguous row converts as a slice, which compiles to vector loads; an element
        // iterator over a view loads one scalar at a time (a tenth of an epoch's time).
        match src.as_slice() {
            Some(src) => dst
                .iter_mut()
                .zip(src)
                .for_each(|(o, &v)| *o = T::cast(f64::from(v))),
            None => dst
                .iter_mut()
                .zip(src)
                .for_each(|(o, &v)| *o = T::cast(f64::from(v))),
        }
    }
}
