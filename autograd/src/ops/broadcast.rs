//! Binary elementwise ops with NumPy broadcasting: `add`, `sub`, `mul`, `div`.
//!
//! Shapes are aligned at their last axis; two dimensions fit when they are equal or one of
//! them is 1, and a missing leading dimension counts as 1. So `[n, h] + [h]` adds a bias to
//! every row. In backward, a broadcast operand's gradient is summed over the axes it was
//! stretched along.

use ndarray::{ArrayViewD, ArrayViewMutD, Axis, Dimension, IxDyn, Zip};

use crate::op::Op;
use crate::{Element, Error, Result, Var};

impl<'t, T: Element> Var<'t, T> {
    /// `self + other`, broadcasting. Derivatives: `1` and `1`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(array![[1.0, 2.0], [3.0, 4.0]]);
    /// let b = tape.param(array![10.0, 20.0]);
    /// let y = x.add(b)?;
    /// assert_eq!(y.value(), array![[11.0, 22.0], [13.0, 24.0]].into_dyn());
    /// let g = y.sum().backward()?;
    /// assert_eq!(g[b], array![2.0, 2.0].into_dyn()); // summed over the broadcast rows
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, other: Var<'t, T>) -> Result<Var<'t, T>> {
        self.zip(other, "add", Op::Add(self.index, other.index), |a, b| a + b)
    }

    /// `self - other`, broadcasting. Derivatives: `1` and `-1`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param(array![5.0, 7.0]);
    /// let b = tape.param(array![1.0]);
    /// let g = a.sub(b)?.sum().backward()?;
    /// assert_eq!(g[b], array![-2.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn sub(self, other: Var<'t, T>) -> Result<Var<'t, T>> {
        self.zip(other, "sub", Op::Sub(self.index, other.index), |a, b| a - b)
    }

    /// `self * other` elementwise, broadcasting. Derivatives: `other` and `self`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param(array![2.0, 3.0]);
    /// let b = tape.param(array![4.0, 5.0]);
    /// let g = a.mul(b)?.sum().backward()?;
    /// assert_eq!(g[a], array![4.0, 5.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn mul(self, other: Var<'t, T>) -> Result<Var<'t, T>> {
        self.zip(other, "mul", Op::Mul(self.index, other.index), |a, b| a * b)
    }

    /// `self / other` elementwise, broadcasting. Derivatives: `1 / other` and
    /// `-self / other²`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param(array![1.0]);
    /// let b = tape.param(array![4.0]);
    /// let g = a.div(b)?.sum().backward()?;
    /// assert_eq!(g[a], array![0.25].into_dyn());
    /// assert_eq!(g[b], array![-1.0 / 16.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn div(self, other: Var<'t, T>) -> Result<Var<'t, T>> {
        self.zip(other, "div", Op::Div(self.index, other.index), |a, b| a / b)
    }

    /// The larger of `self` and `other` elementwise, broadcasting. Derivative: `1` for the
    /// larger operand (`self` on ties), `0` for the other.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param(array![1.0, 5.0]);
    /// let b = tape.param(array![3.0]);
    /// let g = a.maximum(b)?.sum().backward()?;
    /// assert_eq!(g[a], array![0.0, 1.0].into_dyn());
    /// assert_eq!(g[b], array![1.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn maximum(self, other: Var<'t, T>) -> Result<Var<'t, T>> {
        let op = Op::Maximum(self.index, other.index);
        self.zip(other, "maximum", op, |a, b| if a >= b { a } else { b })
    }

    /// The smaller of `self` and `other` elementwise, broadcasting. Derivative: `1` for the
    /// smaller operand (`self` on ties), `0` for the other.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param(array![1.0, 5.0]);
    /// let b = tape.param(array![3.0, 3.0]);
    /// assert_eq!(a.minimum(b)?.value(), array![1.0, 3.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn minimum(self, other: Var<'t, T>) -> Result<Var<'t, T>> {
        let op = Op::Minimum(self.index, other.index);
        self.zip(other, "minimum", op, |a, b| if a <= b { a } else { b })
    }

    fn zip(
        self,
        other: Var<'t, T>,
        name: &'static str,
        op: Op<T>,
        f: impl Fn(T, T) -> T,
    ) -> Result<Var<'t, T>> {
        self.same_tape(other, name)?;
        self.record(op, |inner| {
            let a = inner.nodes[self.index].value.view();
            let b = inner.nodes[other.index].value.view();
            let shape = broadcast_shape(name, a.shape(), b.shape())?;
            let mut out = inner.pool.dirty(shape.slice());
            let (a, b) = (stretch(&a, &shape), stretch(&b, &shape));
            Zip::from(&mut out)
                .and(&a)
                .and(&b)
                .for_each(|o, &a, &b| *o = f(a, b));
            Ok(out)
        })
    }
}

/// The shape two operands broadcast to, or [`Error::ShapeMismatch`] naming `op`.
pub(crate) fn broadcast_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<IxDyn> {
    let n = a.len().max(b.len());
    let mut shape = IxDyn::zeros(n);
    for k in 0..n {
        let da = dim_from_end(a, n - 1 - k);
        let db = dim_from_end(b, n - 1 - k);
        shape[k] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            (x, y) => {
                return Err(Error::ShapeMismatch {
                    op,
                    lhs: a.to_vec(),
                    rhs: b.to_vec(),
                    reason: format!(
                        "cannot broadcast dimension {x} against {y} (axis {k} of the result); dimensions must be equal or 1"
                    ),
                })
            }
        };
    }
    Ok(shape)
}

/// Dimension `k` places from the end of `shape`, or 1 where `shape` has no such axis.
fn dim_from_end(shape: &[usize], k: usize) -> usize {
    if k < shape.len() {
        shape[shape.len() - 1 - k]
    } else {
        1
    }
}

/// `x` broadcast to `shape`, which the caller has checked it fits.
pub(crate) fn stretch<'a, T>(x: &'a ArrayViewD<'_, T>, shape: &IxDyn) -> ArrayViewD<'a, T> {
    x.broadcast(shape.clone())
        .expect("operand fits the broadcast shape")
}

/// Adds (or, when `fresh`, writes) `g` into `dst`, summing `g` over the axes along which
/// `dst`'s shape was broadcast up to `g`'s. Used by every backward rule of a broadcasting op.
pub(crate) fn reduce_into<T: Element>(
    g: &ArrayViewD<'_, T>,
    mut dst: ArrayViewMutD<'_, T>,
    fresh: bool,
    scale: T,
) {
    if g.shape() == dst.shape() {
        let zip = Zip::from(&mut dst).and(g);
        if fresh {
            zip.for_each(|d, &g| *d = scale * g);
        } else {
            zip.for_each(|d, &g| *d += scale * g);
        }
        return;
    }
    if fresh {
        dst.fill(T::zero());
    }
    // The bias case, `[n, h] -> [h]` with both contiguous: row by row over plain slices.
    let bias = match (g.shape(), dst.shape()) {
        (&[_, h], &[d]) | (&[_, h], &[1, d]) => h == d && h > 0,
        _ => false,
    };
    if let (true, Some(gs), Some(ds)) = (bias, g.as_slice(), dst.as_slice_mut()) {
        for row in gs.chunks_exact(ds.len()) {
            for (d, &g) in ds.iter_mut().zip(row) {
                *d += scale * g;
            }
        }
        return;
    }
    // Leading axes that dst lacks are summed one sub-array at a time, without temporaries.
    let extra = g.ndim() - dst.ndim();
    if extra > 0 {
        for sub in g.outer_iter() {
            reduce_into(&sub, dst.view_mut(), false, scale);
        }
        return;
    }
    // Same rank: sum the axes where dst has length 1.
    let mut g = g.to_owned();
    for (k, (&gd, &dd)) in g.shape().to_vec().iter().zip(dst.shape()).enumerate() {
        if dd == 1 && gd != 1 {
            g = g.sum_axis(Axis(k)).insert_axis(Axis(k));
        }
    }
    Zip::from(&mut dst)
        .and(&g)
        .for_each(|d, &g| *d += scale * g);
}
