//! A linear classifier on the built-in digits: one matmul, a bias, cross-entropy.
//!
//! ```sh
//! cargo run --release --example softmax_regression
//! ```
//!
//! `scores = X W + b` (`W` is 64 x 10, `b` broadcast over the rows), trained by minibatch SGD
//! on `cross_entropy(scores, y)` over the 1,258 training digits, then scored on the 269 held-out
//! test digits. The claim: test accuracy of at least [`ACCURACY_BAR`].
//!
//! It shows the training-loop idioms: parameters as `Arc`s recorded with `tape.param(&w)`
//! (shared, not copied) and updated in place after `clear`, gradients taken as typed arrays
//! (`take_as`), minibatches filled into `take_buffer` buffers, gradients recycled, so that after
//! the first step the loop allocates no tensors; predictions are the scores' row `argmax`.

use std::error::Error;
use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayView2, Ix1, Ix2};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tapegrad::autograd::Tape;
use tapegrad::net::data::digits_splits;

/// Seed of the train/val/test split and of the minibatch order.
const SEED: u64 = 42;
const EPOCHS: usize = 40;
const BATCH: usize = 32;
const LR: f64 = 0.5;
/// The test accuracy the classifier must reach.
const ACCURACY_BAR: f64 = 0.94;

/// What the example shows, as numbers.
struct Report {
    /// Mean training loss of each epoch.
    epoch_losses: Vec<f64>,
    train_accuracy: f64,
    test_accuracy: f64,
    train_len: usize,
    test_len: usize,
}

/// A linear classifier's parameters.
struct Linear {
    w: Arc<Array2<f64>>,
    b: Arc<Array1<f64>>,
}

impl Linear {
    /// The fraction of rows of `x` whose highest score is at their label. Recorded on a tape of
    /// constants only: a plain forward pass, no gradient bookkeeping.
    fn accuracy(&self, x: ArrayView2<'_, f32>, labels: &[usize]) -> Result<f64, Box<dyn Error>> {
        let tape = Tape::<f64>::new();
        let x = tape.constant(x.mapv(f64::from));
        let (w, b) = (tape.constant(&self.w), tape.constant(&self.b));
        let predicted = x.matmul(w)?.add(b)?.argmax()?; // per row, the first highest score
        let correct = predicted.iter().zip(labels).filter(|(p, y)| p == y).count();
        Ok(correct as f64 / labels.len() as f64)
    }
}

/// Trains on the digits split of `seed` and scores the result.
fn run(seed: u64) -> Result<Report, Box<dyn Error>> {
    let splits = digits_splits(seed)?;
    let train = &splits.train;
    let test = splits
        .test
        .as_ref()
        .ok_or("the digits split has a test set")?;
    let (n, d, c) = (train.len(), train.dim(), train.classes());
    let features = train.features_as::<f64>();

    let mut model = Linear {
        w: Arc::new(Array2::zeros((d, c))),
        b: Arc::new(Array1::zeros(c)),
    };
    let mut tape = Tape::<f64>::new();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut labels = Vec::with_capacity(BATCH);
    let mut epoch_losses = Vec::with_capacity(EPOCHS);
    for _ in 0..EPOCHS {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for batch in order.chunks(BATCH) {
            // The minibatch goes into a pooled buffer: no allocation once the loop is warm.
            let mut xb = tape.take_buffer(&[batch.len(), d]);
            for (mut row, &i) in xb.outer_iter_mut().zip(batch) {
                row.assign(&features.row(i));
            }
            labels.clear();
            labels.extend(batch.iter().map(|&i| train.labels()[i]));

            let (loss, gw, gb) = {
                let x = tape.constant(xb);
                let (w, b) = (tape.param(&model.w), tape.param(&model.b));
                let loss = x.matmul(w)?.add(b)?.cross_entropy(&labels)?;
                let mut grads = loss.backward()?;
                let gw = grads.take_as::<Ix2>(w)?;
                let gb = grads.take_as::<Ix1>(b)?;
                tape.recycle(grads);
                (loss.item()?, gw, gb)
            };
            tape.clear();
            Arc::make_mut(&mut model.w).scaled_add(-LR, &gw);
            Arc::make_mut(&mut model.b).scaled_add(-LR, &gb);
            tape.give_buffer(gw);
            tape.give_buffer(gb);
            total += loss * batch.len() as f64;
        }
        epoch_losses.push(total / n as f64);
    }
    Ok(Report {
        epoch_losses,
        train_accuracy: model.accuracy(train.features(), train.labels())?,
        test_accuracy: model.accuracy(test.features(), test.labels())?,
        train_len: n,
        test_len: test.len(),
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let r = run(SEED)?;
    let (first, last) = (r.epoch_losses[0], r.epoch_losses[EPOCHS - 1]);
    println!(
        "softmax regression on digits (seed {SEED}): {} train / {} test, 64 -> 10",
        r.train_len, r.test_len
    );
    println!("SGD, {EPOCHS} epochs of batches of {BATCH}, lr {LR}: mean loss {first:.4} (epoch 1) -> {last:.4} (epoch {EPOCHS})");
    println!(
        "accuracy: train {:.1}%, test {:.1}% (bar {:.0}%)",
        100.0 * r.train_accuracy,
        100.0 * r.test_accuracy,
        100.0 * ACCURACY_BAR
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_accuracy_passes_the_bar() {
        let r = run(SEED).unwrap();
        assert!(r.test_accuracy >= ACCURACY_BAR, "{}", r.test_accuracy);
    }

    #[test]
    fn the_loss_falls() {
        let r = run(SEED).unwrap();
        assert!(
            r.epoch_losses[0] < 10f64.ln(),
            "the first epoch already learns"
        );
        assert!(r.epoch_losses[EPOCHS - 1] < 0.5 * r.epoch_losses[0]);
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        let tape = Tape::<f64>::new();
        let scores = tape.constant(ndarray::array![[0.1, 0.7, 0.2], [0.5, 0.5, 0.0]]);
        assert_eq!(scores.argmax().unwrap(), vec![1, 0]);
    }
}
