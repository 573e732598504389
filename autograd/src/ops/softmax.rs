//! `log_softmax` and `softmax` along an axis, computed without overflow.

use ndarray::{ArrayViewMut1, Axis, Zip};

use crate::exp::{exp_in_place, sum_exp_shifted, BLOCK};
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
            let (width, last) = (x.shape()[axis], axis + 1 == x.ndim());
            match (x.as_slice(), out.as_slice_mut()) {
                // Lanes that are rows of a contiguous array: their exponentials in blocks of
                // rows, so that short rows (a classifier's 10 scores) vectorise too.
                (Some(x), Some(out)) if last && width > 0 => log_softmax_rows(out, x, width),
                _ => Zip::from(out.lanes_mut(Axis(axis)))
                    .and(x.lanes(Axis(axis)))
                    .for_each(|o, x| log_softmax_lane(o, x)),
            }
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

/// One lane of log-softmax: `out = (x - m) - ln Σ_j e^{x_j - m}`, `m` the lane's largest value
/// (0 when it is not finite: a lane holding `+inf`, or only `-inf`, then gives NaN).
fn log_softmax_lane<T: Element>(mut out: ArrayViewMut1<'_, T>, x: ndarray::ArrayView1<'_, T>) {
    let m = lane_max(x.iter().copied());
    let s = sum_exp_shifted(x.iter().copied(), m);
    // (x - m) - ln s, not x - (m + ln s): the shift is exact, and rounding then stays at the
    // level of the result rather than of the largest logit.
    let ln_s = s.ln();
    Zip::from(&mut out)
        .and(&x)
        .for_each(|o, &v| *o = (v - m) - ln_s);
}

/// [`log_softmax_lane`] of every `width`-long row of the contiguous `x`, into `out`, with the
/// same bits: each row's shifted values go into a block of rows whose exponentials are taken
/// in one vectorised loop, then each row's sum is formed in order.
fn log_softmax_rows<T: Element>(out: &mut [T], x: &[T], width: usize) {
    if width > BLOCK {
        for (out, x) in out.chunks_mut(width).zip(x.chunks(width)) {
            log_softmax_lane(ArrayViewMut1::from(out), ndarray::ArrayView1::from(x));
        }
        return;
    }
    let rows = BLOCK / width * width;
    let mut exps = [T::zero(); BLOCK];
    for (out, x) in out.chunks_mut(rows).zip(x.chunks(rows)) {
        for (o, x) in out.chunks_mut(width).zip(x.chunks(width)) {
            let m = lane_max(x.iter().copied());
            for (o, &v) in o.iter_mut().zip(x) {
                *o = v - m;
            }
        }
        let exps = &mut exps[..x.len()];
        exps.copy_from_slice(out);
        exp_in_place(exps);
        for (o, e) in out.chunks_mut(width).zip(exps.chunks(width)) {
            let ln_s = e.iter().fold(T::zero(), |s, &e| s + e).ln();
            for o in o.iter_mut() {
                *o -= ln_s;
            }
        }
    }
}

/// The largest value of a lane, or 0 when that is not finite.
fn lane_max<T: Element>(x: impl Iterator<Item = T>) -> T {
    let m = x.fold(T::neg_infinity(), |m, v| if v > m { v } else { m });
    if m.is_finite() {
        m
    } else {
        T::zero()
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;

    /// Row `i` of `x` through the lane path, element by element.
    fn by_lanes(x: &Array2<f32>) -> Vec<u32> {
        let mut out = Array2::<f32>::zeros(x.raw_dim());
        for (o, x) in out.rows_mut().into_iter().zip(x.rows()) {
            log_softmax_lane::<f32>(o, x);
        }
        out.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn rows_in_blocks_give_the_lane_paths_bits_across_block_boundaries() {
        // Widths that divide the block, do not, fill it, exceed it; rows spanning several
        // blocks; lanes of -inf, +inf and NaN.
        for (rows, width) in [(200, 10), (7, 1), (3, 512), (5, 513), (2, 1000), (61, 17)] {
            let mut x = Array2::from_shape_fn((rows, width), |(i, j)| {
                ((i * 131 + j * 71) % 997) as f32 * 0.05 - 20.0
            });
            if rows > 3 && width > 1 {
                x.row_mut(0).fill(f32::NEG_INFINITY);
                x[[1, 0]] = f32::INFINITY;
                x[[2, width - 1]] = f32::NAN;
            }
            let mut out = vec![0f32; rows * width];
            log_softmax_rows(&mut out, x.as_slice().unwrap(), width);
            let bits: Vec<u32> = out.iter().map(|v| v.to_bits()).collect();
            assert_eq!(bits, by_lanes(&x), "{rows} x {width}");
        }
    }
}
