//! `log_softmax` and `softmax` along an axis, computed without overflow.

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
        self.tape.record(|r| {
            let x = r.value(self.index);
            check_axis("log_softmax", axis, x.shape())?;
            let mut out = r.pool.dirty(x.shape());
            Zip::from(out.lanes_mut(Axis(axis)))
                .and(x.lanes(Axis(axis)))
                .for_each(|o, x| log_softmax_lane(o, x));
            Ok((
                Op::LogSoftmax {
                    x: self.index,
                    axis,
                },
                out,
            ))
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
