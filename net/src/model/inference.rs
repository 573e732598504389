//! What a trained [`Mlp`] computes without a tape: class scores, predicted classes and
//! accuracy, with the checks of inputs and labels they (and training) share.

use ndarray::{Array2, ArrayView2, Axis};
use tapegrad_autograd::Element;

use super::mlp::Mlp;
use crate::{NetError, Result};

impl<T: Element> Mlp<T> {
    /// The class scores `z_L`, computed directly (no tape).
    pub fn scores(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
        self.check(x.ncols(), x.nrows(), &[])?;
        let (layers, activation) = (self.layers(), self.activation());
        let mut a = layers[0].apply(x);
        for layer in &layers[1..] {
            activation.apply_in_place(a.view_mut());
            a = layer.apply(a.view());
        }
        Ok(a)
    }

    /// The most likely class of each example (the first one on ties).
    pub fn predict(&self, x: ArrayView2<'_, T>) -> Result<Vec<usize>> {
        Ok(predicted_classes(self.scores(x)?.view()))
    }

    /// The fraction of examples whose predicted class is their label (0 for no examples).
    pub fn accuracy(&self, x: ArrayView2<'_, T>, y: &[usize]) -> Result<f64> {
        self.check(x.ncols(), x.nrows(), y)?;
        let predicted = self.predict(x)?;
        let right = predicted.iter().zip(y).filter(|(p, y)| p == y).count();
        Ok(if y.is_empty() {
            0.0
        } else {
            right as f64 / y.len() as f64
        })
    }

    /// Checks a batch without computing anything: `x.ncols()` features, exactly one label per
    /// row of `x`, every label one of the model's classes. `x` may hold another element type
    /// than the net's (evaluation reads `f32` data with any net).
    pub(crate) fn check_batch<U>(&self, x: ArrayView2<'_, U>, y: &[usize]) -> Result<()> {
        if y.len() != x.nrows() {
            return Err(NetError::LabelCount {
                examples: x.nrows(),
                labels: y.len(),
            });
        }
        self.check(x.ncols(), x.nrows(), y)
    }

    /// Checks that `d` features, `n` examples and labels `y` (unless empty) fit the model.
    pub(super) fn check(&self, d: usize, n: usize, y: &[usize]) -> Result<()> {
        let (d_model, c) = (self.inputs(), self.classes());
        if d != d_model {
            return Err(NetError::InputSize {
                expected: d_model,
                found: d,
            });
        }
        if !y.is_empty() && y.len() != n {
            return Err(NetError::LabelCount {
                examples: n,
                labels: y.len(),
            });
        }
        if let Some((index, &label)) = y.iter().enumerate().find(|(_, &l)| l >= c) {
            return Err(NetError::Label {
                index,
                label,
                classes: c,
            });
        }
        Ok(())
    }
}

/// The class each row of `scores` predicts: its first largest score (what [`Mlp::predict`]
/// returns, for callers that already have the scores).
pub fn predicted_classes<T: Element>(scores: ArrayView2<'_, T>) -> Vec<usize> {
    scores
        .axis_iter(Axis(0))
        .map(|row| argmax(row.iter().copied()).0)
        .collect()
}

/// The first largest value's index, and the value.
pub(crate) fn argmax<T: Element>(row: impl IntoIterator<Item = T>) -> (usize, T) {
    row.into_iter()
        .enumerate()
        .fold((0, T::neg_infinity()), |best, (k, v)| {
            if v > best.1 {
                (k, v)
            } else {
                best
            }
        })
}
