//! Losses: mean squared error, and cross-entropy (built from `log_softmax` and `pick`).

use crate::{Element, Error, Result, Var};

impl<'t, T: Element> Var<'t, T> {
    /// Mean squared error `mean((self - target)²)` of two tensors of the same shape. Unlike
    /// `sub`, it refuses to broadcast: `[n, 1]` against `[n]` would silently make `[n, n]`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::{Error, Tape};
    /// let tape = Tape::<f64>::new();
    /// let y = tape.param(array![1.0, 2.0]);
    /// let t = tape.constant(array![0.0, 4.0]);
    /// assert_eq!(y.mse(t)?.item()?, 2.5);
    /// let column = tape.constant(array![[0.0], [4.0]]);
    /// assert!(matches!(y.mse(column), Err(Error::ShapeMismatch { op: "mse", .. })));
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn mse(self, target: Var<'t, T>) -> Result<Var<'t, T>> {
        self.same_tape(target, "mse")?;
        let (a, b) = (self.shape(), target.shape());
        if a != b {
            return Err(Error::ShapeMismatch {
                op: "mse",
                lhs: a,
                rhs: b,
                reason: "the prediction and the target must have the same shape".into(),
            });
        }
        Ok(self.sub(target)?.square().mean())
    }

    /// Mean cross-entropy of scores `[n, c]` against integer labels:
    /// `(1/n) Σ_i -log softmax(z_i)_{y_i}`, i.e. `-mean(pick(log_softmax(z, 1), y))`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let z = tape.param(array![[0.0, 0.0], [0.0, 0.0]]);
    /// let loss = z.cross_entropy(&[0, 1])?;
    /// assert!((loss.item()? - 2f64.ln()).abs() < 1e-15);
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn cross_entropy(self, labels: &[usize]) -> Result<Var<'t, T>> {
        Ok(self.log_softmax(1)?.pick(labels)?.mean().neg())
    }
}
