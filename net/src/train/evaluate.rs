//! Measuring a net without a tape: predicted classes, accuracy, and the loss, over f32 data
//! converted to the net's element type a block of rows at a time.

use ndarray::{Array2, ArrayView2, Axis};
use tapegrad_autograd::Element;

use crate::model::argmax;
use crate::model::closed_form::sum_squares;
use crate::{Mlp, Result};

/// Rows converted to the net's element type at a time, so that the converted copy stays a few
/// megabytes whatever the data's size.
const BLOCK_ROWS: usize = 1024;

/// A net's loss and accuracy on a data set ([`evaluate`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// The training objective on the data: the mean cross-entropy `(1/n) Σ -ln p_{y_i}` plus
    /// `λ (ΣW1² + ΣW2²)`, summed in `f64`.
    pub loss: f64,
    /// The fraction of examples whose predicted class is their label.
    pub accuracy: f64,
}

/// The loss (with regularisation `reg`) and accuracy of `net` on f32 features `x` and labels
/// `y`, from the net's scores (no tape), a block of rows at a time, summed in `f64`. An empty
/// data set has loss and accuracy 0.
///
/// ```
/// use ndarray::array;
/// use tapegrad_autograd::Tape;
/// use tapegrad_net::{train::evaluate, Init, Mlp};
///
/// let net = Mlp::<f64>::new(&[2, 4, 3], Init { std: 0.1, seed: 0 })?;
/// let (x, y) = (array![[1.0f32, 2.0], [-1.0, 0.5]], [1, 2]);
/// let on_tape = net.loss_and_gradients(&mut Tape::new(), x.mapv(f64::from), &y, 1e-3)?.0;
/// assert!((evaluate(&net, x.view(), &y, 1e-3)?.loss - on_tape).abs() < 1e-12);
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
pub fn evaluate<T: Element>(
    net: &Mlp<T>,
    x: ArrayView2<'_, f32>,
    y: &[usize],
    reg: f64,
) -> Result<Evaluation> {
    net.check_batch(x, y)?;
    let (mut cross_entropy, mut right) = (0.0f64, 0usize);
    let mut labels = y.iter();
    for block in x.axis_chunks_iter(Axis(0), BLOCK_ROWS) {
        let scores = scores(net, block)?;
        for (row, &label) in scores.axis_iter(Axis(0)).zip(labels.by_ref()) {
            let (best, max) = argmax(row.iter().map(|v| v.as_f64()));
            let sum: f64 = row.iter().map(|z| (z.as_f64() - max).exp()).sum();
            cross_entropy += max + sum.ln() - row[label].as_f64();
            right += usize::from(best == label);
        }
    }
    if y.is_empty() {
        return Ok(Evaluation {
            loss: 0.0,
            accuracy: 0.0,
        });
    }
    let n = y.len() as f64;
    // λ = 0 reads no weights (as the training loss records no sums of squares).
    let squares: f64 = if reg == 0.0 {
        0.0
    } else {
        (net.layers().iter())
            .map(|layer| sum_squares(layer.weight()))
            .sum()
    };
    Ok(Evaluation {
        loss: cross_entropy / n + reg * squares,
        accuracy: right as f64 / n,
    })
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
    for block in x.axis_chunks_iter(Axis(0), BLOCK_ROWS) {
        let xt: Array2<T> = block.mapv(|v| T::cast(f64::from(v)));
        out.extend(net.predict(xt.view())?);
    }
    Ok(out)
}

/// The scores of a block of f32 rows.
fn scores<T: Element>(net: &Mlp<T>, block: ArrayView2<'_, f32>) -> Result<Array2<T>> {
    let xt: Array2<T> = block.mapv(|v| T::cast(f64::from(v)));
    net.scores(xt.view())
}
