//! Reductions: `sum`, `mean` (of everything), and `sum_axis` / `mean_axis`.
//!
//! Sums accumulate in `f64` whatever the element type, so the loss of a large `f32` model
//! stays accurate (a plain `f32` running sum of 3 million squares is off by about 0.3%).

use ndarray::{ArrayViewD, Axis, Zip};

use crate::op::Op;
use crate::{Element, Error, Result, Var};

impl<'t, T: Element> Var<'t, T> {
    /// The sum of all elements, as a 0-D tensor. Derivative: `1` for every element.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![[1.0, 2.0], [3.0, 4.0]]);
    /// let s = x.sum();
    /// assert_eq!(s.item(), 10.0);
    /// assert_eq!(s.backward()?[x], array![[1.0, 1.0], [1.0, 1.0]].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn sum(self) -> Var<'t, T> {
        self.reduce_all(Op::Sum(self.index), 1.0)
    }

    /// The mean of all elements, as a 0-D tensor. Derivative: `1 / N` for every element.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![1.0, 2.0, 3.0, 6.0]);
    /// let m = x.mean();
    /// assert_eq!(m.item(), 3.0);
    /// assert_eq!(m.backward()?[x], array![0.25, 0.25, 0.25, 0.25].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn mean(self) -> Var<'t, T> {
        let n = self.with_value(|v| v.len());
        self.reduce_all(Op::Mean(self.index), 1.0 / n as f64)
    }

    /// `Σ x²` over all elements, as a 0-D tensor: `x.square().sum()` in one pass, without the
    /// intermediate tensor (the L2 penalty of a weight matrix). Derivative: `2x`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let w = tape.param(array![[1.0, -2.0], [3.0, 0.5]]);
    /// let s = w.sum_squares();
    /// assert_eq!(s.item(), 14.25);
    /// assert_eq!(s.backward()?[w], array![[2.0, -4.0], [6.0, 1.0]].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn sum_squares(self) -> Var<'t, T> {
        self.reduce_all(Op::SumSquares(self.index), 1.0)
    }

    fn reduce_all(self, op: Op<T>, factor: f64) -> Var<'t, T> {
        let squares = matches!(op, Op::SumSquares(_));
        let value = {
            let mut inner = self.tape.inner.borrow_mut();
            let inner = &mut *inner;
            let x = inner.nodes[self.index].value.view();
            let total = if squares {
                sum_squares_f64(&x)
            } else {
                sum_f64(&x)
            };
            let mut out = inner.pool.dirty(&[]);
            out.fill(T::cast(total * factor));
            out
        };
        self.tape.push(op, value)
    }

    /// Sums along `axis`; with `keepdims` the axis stays with length 1 (handy for
    /// broadcasting the result back). Derivative: `1`, broadcast back along the axis.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(x.sum_axis(1, false)?.value(), array![3.0, 7.0].into_dyn());
    /// assert_eq!(x.sum_axis(0, true)?.value(), array![[4.0, 6.0]].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn sum_axis(self, axis: usize, keepdims: bool) -> Result<Var<'t, T>> {
        let op = Op::SumAxis {
            input: self.index,
            axis,
            keepdims,
        };
        self.record(op, |inner| {
            let x = inner.nodes[self.index].value.view();
            check_axis("sum_axis", axis, x.shape())?;
            let mut shape = x.shape().to_vec();
            if keepdims {
                shape[axis] = 1;
            } else {
                shape.remove(axis);
            }
            let mut out = inner.pool.dirty(&shape);
            let mut target = out.view_mut();
            if keepdims {
                target.index_axis_inplace(Axis(axis), 0);
            }
            Zip::from(&mut target)
                .and(x.lanes(Axis(axis)))
                .for_each(|o, lane| *o = T::cast(lane.iter().map(|v| v.as_f64()).sum()));
            Ok(out)
        })
    }

    /// The mean along `axis` (see [`sum_axis`](Var::sum_axis)). Derivative: `1 / len(axis)`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![[1.0, 3.0], [5.0, 7.0]]);
    /// assert_eq!(x.mean_axis(0, false)?.value(), array![3.0, 5.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn mean_axis(self, axis: usize, keepdims: bool) -> Result<Var<'t, T>> {
        let len = self
            .with_value(|v| check_axis("mean_axis", axis, v.shape()).map(|()| v.shape()[axis]))?;
        Ok(self
            .sum_axis(axis, keepdims)?
            .scale(T::cast(1.0 / len as f64)))
    }
}

/// [`Error::AxisOutOfRange`] unless `axis` is an axis of `shape`.
pub(crate) fn check_axis(op: &'static str, axis: usize, shape: &[usize]) -> Result<()> {
    if axis < shape.len() {
        Ok(())
    } else {
        Err(Error::AxisOutOfRange {
            op,
            axis,
            ndim: shape.len(),
            shape: shape.to_vec(),
        })
    }
}

/// The sum of all elements, accumulated in `f64` over eight independent lanes (fast, and
/// accurate for large `f32` tensors).
///
/// ```
/// # use ndarray::array;
/// let x = array![[1e8f32, 1.0], [-1e8, 1.0]].into_dyn();
/// assert_eq!(tapegrad_autograd::sum_f64(&x.view()), 2.0);
/// ```
pub fn sum_f64<T: Element>(x: &ArrayViewD<'_, T>) -> f64 {
    lanes_f64(x, |v| v.as_f64())
}

/// The sum of the squares of all elements, accumulated like [`sum_f64`].
///
/// ```
/// # use ndarray::array;
/// let x = array![3.0f32, 4.0].into_dyn();
/// assert_eq!(tapegrad_autograd::sum_squares_f64(&x.view()), 25.0);
/// ```
pub fn sum_squares_f64<T: Element>(x: &ArrayViewD<'_, T>) -> f64 {
    lanes_f64(x, |v| {
        let v = v.as_f64();
        v * v
    })
}

/// `Σ f(x)` in `f64`, over eight independent accumulators where the data is contiguous.
fn lanes_f64<T: Element>(x: &ArrayViewD<'_, T>, f: impl Fn(T) -> f64) -> f64 {
    match x.as_slice_memory_order() {
        Some(s) => {
            let mut acc = [0f64; 8];
            let chunks = s.chunks_exact(8);
            let rest: f64 = chunks.remainder().iter().map(|&v| f(v)).sum();
            for c in chunks {
                for (a, &v) in acc.iter_mut().zip(c) {
                    *a += f(v);
                }
            }
            acc.iter().sum::<f64>() + rest
        }
        None => x.iter().map(|&v| f(v)).sum(),
    }
}
