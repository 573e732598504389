//! Reductions: `sum`, `mean` (of everything), and `sum_axis` / `mean_axis`.
//!
//! Sums accumulate pairwise in `f64` whatever the element type (see
//! [`summation`](crate::summation)), so the loss of a large `f32` model stays accurate (a plain
//! `f32` running sum of 3 million squares is off by about 0.3%).

use std::convert::Infallible;

use ndarray::{Axis, Dimension, RemoveAxis, Zip};

use crate::op::Op;
use crate::summation::{lane_sum_f64, sum_f64, sum_squares_f64};
use crate::{Element, Error, Result, Var};

/// A reduction of all elements to one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduction {
    /// `Σ x`.
    Sum,
    /// `Σ x / N`.
    Mean,
    /// `Σ x²`.
    SumSquares,
}

impl Reduction {
    /// The op's name, as errors and the DOT export print it.
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
            Reduction::SumSquares => "sum_squares",
        }
    }
}

impl<'t, T: Element> Var<'t, T> {
    /// The sum of all elements, as a 0-D tensor. Derivative: `1` for every element.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![[1.0, 2.0], [3.0, 4.0]]);
    /// let s = x.sum();
    /// assert_eq!(s.item()?, 10.0);
    /// assert_eq!(s.backward()?[x], array![[1.0, 1.0], [1.0, 1.0]].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn sum(self) -> Var<'t, T> {
        self.reduce_all(Reduction::Sum)
    }

    /// The mean of all elements, as a 0-D tensor. Derivative: `1 / N` for every element.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![1.0, 2.0, 3.0, 6.0]);
    /// let m = x.mean();
    /// assert_eq!(m.item()?, 3.0);
    /// assert_eq!(m.backward()?[x], array![0.25, 0.25, 0.25, 0.25].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn mean(self) -> Var<'t, T> {
        self.reduce_all(Reduction::Mean)
    }

    /// `Σ x²` over all elements, as a 0-D tensor: `x.square().sum()` in one pass, without the
    /// intermediate tensor (the L2 penalty of a weight matrix). Derivative: `2x`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let w = tape.param(array![[1.0, -2.0], [3.0, 0.5]]);
    /// let s = w.sum_squares();
    /// assert_eq!(s.item()?, 14.25);
    /// assert_eq!(s.backward()?[w], array![[2.0, -4.0], [6.0, 1.0]].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn sum_squares(self) -> Var<'t, T> {
        self.reduce_all(Reduction::SumSquares)
    }

    /// Records `op` over all elements, as a 0-D tensor.
    fn reduce_all(self, op: Reduction) -> Var<'t, T> {
        let recorded = self.tape.record(|r| {
            let x = r.value(self.index);
            let total = match op {
                Reduction::Sum => sum_f64(&x),
                Reduction::Mean => sum_f64(&x) / x.len() as f64,
                Reduction::SumSquares => sum_squares_f64(&x),
            };
            let mut out = r.pool.dirty(&[]);
            out.fill(T::cast(total));
            Ok::<_, Infallible>((Op::Reduce { op, x: self.index }, out))
        });
        let Ok(y) = recorded;
        y
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
        self.tape.record(|r| {
            let x = r.value(self.index);
            check_axis("sum_axis", axis, x.shape())?;
            let mut shape = x.raw_dim();
            if keepdims {
                shape[axis] = 1;
            } else {
                shape = shape.remove_axis(Axis(axis));
            }
            let mut out = r.pool.dirty(shape.slice());
            let mut target = out.view_mut();
            if keepdims {
                target.index_axis_inplace(Axis(axis), 0);
            }
            Zip::from(&mut target)
                .and(x.lanes(Axis(axis)))
                .for_each(|o, lane| *o = T::cast(lane_sum_f64(&lane)));
            let op = Op::SumAxis {
                x: self.index,
                axis,
                keepdims,
            };
            Ok((op, out))
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
