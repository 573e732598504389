//! Losses: mean squared error, cross-entropy (built from `log_softmax` and `pick`), and
//! cross-entropy with label smoothing (one op, its rule in [`derivatives`](crate::derivatives)).

use ndarray::{ArrayView1, Ix0};

use crate::exp::sum_exp_shifted;
use crate::op::Op;
use crate::ops::matmul::as_matrix;
use crate::ops::pick::check_labels;
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

    /// Mean cross-entropy of scores `[n, c]` against labels smoothed by `ε` (PyTorch's
    /// `label_smoothing`): the target of row `i` is `(1-ε) onehot(y_i) + ε/c`, so
    ///
    /// `L = (1/n) Σ_i [ (1-ε)(-ln p_{i,y_i}) + (ε/c) Σ_k (-ln p_{i,k}) ]`, `p_i = softmax(z_i)`.
    ///
    /// Derivative: `dz_i = g (p_i - (1-ε) onehot(y_i) - ε/c) / n`. One op, computed with a
    /// stable log-sum-exp per row. `ε = 0` records exactly [`cross_entropy`](Var::cross_entropy)
    /// (the same ops, bit for bit); `ε` outside `[0, 1]` is [`Error::BadProbability`].
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let z = tape.param(array![[2.0, 0.0, 0.0]]);
    /// let loss = z.cross_entropy_smoothed(&[0], 0.3)?;
    /// let lse = (2f64.exp() + 2.0).ln();
    /// let expected = 0.7 * (lse - 2.0) + 0.1 * (3.0 * lse - 2.0);
    /// assert!((loss.item()? - expected).abs() < 1e-15);
    /// let g = loss.backward()?;
    /// let p0 = 2f64.exp() / (2f64.exp() + 2.0);
    /// assert!((g[z][[0, 0]] - (p0 - 0.7 - 0.1)).abs() < 1e-15);
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn cross_entropy_smoothed(self, labels: &[usize], smoothing: T) -> Result<Var<'t, T>> {
        const OP: &str = "cross_entropy_smoothed";
        let eps = smoothing.as_f64();
        if !(0.0..=1.0).contains(&eps) {
            return Err(Error::BadProbability { op: OP, p: eps });
        }
        if smoothing == T::zero() {
            return self.cross_entropy(labels);
        }
        self.tape.record(|r| {
            let x = as_matrix(OP, r.value(self.index))?;
            let (rows, classes) = x.dim();
            check_labels(x, labels)?;
            // Row i: (1-ε)(lse - z_y) + (ε/c) Σ_k (lse - z_k) = lse - (1-ε) z_y - (ε/c) Σ_k z_k.
            let per_class = eps / classes as f64;
            let mut total = 0.0;
            for (row, &label) in x.rows().into_iter().zip(labels) {
                let sum_z: f64 = row.iter().map(|z| z.as_f64()).sum();
                let lse = log_sum_exp(row).as_f64();
                total += lse - (1.0 - eps) * row[label].as_f64() - per_class * sum_z;
            }
            let mut out = r.pool.dirty(&[]);
            let loss = if rows == 0 { 0.0 } else { total / rows as f64 };
            out.view_mut()
                .into_dimensionality::<Ix0>()
                .expect("0-D")
                .fill(T::cast(loss));
            let start = r.labels.len();
            r.labels.extend_from_slice(labels);
            let op = Op::SmoothedCrossEntropy {
                x: self.index,
                labels: start..r.labels.len(),
                smoothing,
            };
            Ok((op, out))
        })
    }
}

/// `ln Σ_k e^{z_k}` of one row, computed as `m + ln Σ_k e^{z_k - m}` with `m` the row's
/// largest entry, so that nothing overflows.
pub(crate) fn log_sum_exp<T: Element>(row: ArrayView1<'_, T>) -> T {
    let m = row.fold(T::neg_infinity(), |m, &v| if v > m { v } else { m });
    m + sum_exp_shifted(row.iter().copied(), m).ln()
}
