//! `log_softmax` along an axis, and the losses built from it.

use ndarray::{ArrayViewMut1, Axis, Zip};

use crate::op::Op;
use crate::ops::reduce::check_axis;
use crate::{Element, Result, Var};

impl<'t, T: Element> Var<'t, T> {
    /// `log_softmax(x)_k = x_k - log Σ_j exp(x_j)` along `axis`, computed as
    /// `x_k - m - log Σ_j exp(x_j - m)` with `m = max_j x_j`, so logits of `1e4` do not overflow.
    ///
    /// Derivative: `dx = g - softmax(x) · Σ_j g_j` along the axis.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let z = tape.param(array![[1e4, 0.0]]);
    /// let y = z.log_softmax(1)?;
    /// assert_eq!(y.value(), array![[0.0, -1e4]].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn log_softmax(self, axis: usize) -> Result<Var<'t, T>> {
        let op = Op::LogSoftmax {
            input: self.index,
            axis,
        };
        self.record(op, |inner| {
            let x = inner.nodes[self.index].value.view();
            check_axis("log_softmax", axis, x.shape())?;
            let mut out = inner.pool.dirty(x.shape());
            Zip::from(out.lanes_mut(Axis(axis)))
                .and(x.lanes(Axis(axis)))
                .for_each(|o, x| log_softmax_lane(o, x));
            Ok(out)
        })
    }

    /// `softmax(x)_k = exp(x_k) / Σ_j exp(x_j)` along `axis`: `exp` of
    /// [`log_softmax`](Var::log_softmax), so it is stable too.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let z = tape.param(array![[0.0, 0.0]]);
    /// assert_eq!(z.softmax(1)?.value(), array![[0.5, 0.5]].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn softmax(self, axis: usize) -> Result<Var<'t, T>> {
        self.with_value(|v| check_axis("softmax", axis, v.shape()))?;
        Ok(self.log_softmax(axis)?.exp())
    }

    /// Mean squared error `mean((self - target)²)` of two tensors of the same shape. Unlike
    /// `sub`, it refuses to broadcast: `[n, 1]` against `[n]` would silently make `[n, n]`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::{Error, Tape};
    /// let tape = Tape::<f64>::new();
    /// let y = tape.param(array![1.0, 2.0]);
    /// let t = tape.constant(array![0.0, 4.0]);
    /// assert_eq!(y.mse(t)?.item(), 2.5);
    /// let column = tape.constant(array![[0.0], [4.0]]);
    /// assert!(matches!(y.mse(column), Err(Error::ShapeMismatch { op: "mse", .. })));
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn mse(self, target: Var<'t, T>) -> Result<Var<'t, T>> {
        self.same_tape(target, "mse")?;
        let (a, b) = (self.shape(), target.shape());
        if a != b {
            return Err(crate::Error::ShapeMismatch {
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
    /// assert!((loss.item() - 2f64.ln()).abs() < 1e-15);
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn cross_entropy(self, labels: &[usize]) -> Result<Var<'t, T>> {
        Ok(self.log_softmax(1)?.pick(labels)?.mean().neg())
    }
}

/// One lane of log-softmax: `out = x - (m + log Σ exp(x - m))`.
fn log_softmax_lane<T: Element>(mut out: ArrayViewMut1<'_, T>, x: ndarray::ArrayView1<'_, T>) {
    let m = x.fold(T::neg_infinity(), |m, &v| if v > m { v } else { m });
    let m = if m.is_finite() { m } else { T::zero() };
    let s = x.fold(T::zero(), |s, &v| s + (v - m).exp());
    // (x - m) - ln s, not x - (m + ln s): the shift is exact, and rounding then stays at the
    // level of the result rather than of the largest logit.
    let ln_s = s.ln();
    Zip::from(&mut out)
        .and(&x)
        .for_each(|o, &v| *o = (v - m) - ln_s);
}
