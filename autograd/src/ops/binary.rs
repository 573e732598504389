//! Binary elementwise ops with NumPy broadcasting (see [`broadcast`](super::broadcast)):
//! `add`, `sub`, `mul`, `div`, `maximum`, `minimum`. Each method computes `f(a, b)`; the
//! derivative rules are in [`derivatives`](crate::derivatives).

use ndarray::Dimension;

use crate::op::Op;
use crate::ops::broadcast::{broadcast_shape, stretch};
use crate::{Element, Result, Var};

/// A binary elementwise op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
}

impl BinaryOp {
    /// The op's name, as errors and the DOT export print it.
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
        }
    }
}

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
        self.binary(other, BinaryOp::Add, |a, b| a + b)
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
        self.binary(other, BinaryOp::Sub, |a, b| a - b)
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
        self.binary(other, BinaryOp::Mul, |a, b| a * b)
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
        self.binary(other, BinaryOp::Div, |a, b| a / b)
    }

    /// The larger of `self` and `other` elementwise, broadcasting. Derivative: `1` for the
    /// larger operand (`self` on ties), `0` for the other. NaN propagates, as in NumPy's
    /// `maximum`: where either operand is NaN, the result is NaN (`maximum(NaN, 1)` and
    /// `maximum(1, NaN)` alike) and so are both gradients.
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
        self.binary(other, BinaryOp::Maximum, |a, b| {
            if a >= b {
                a
            } else if b > a {
                b
            } else {
                a + b // NaN
            }
        })
    }

    /// The smaller of `self` and `other` elementwise, broadcasting. Derivative: `1` for the
    /// smaller operand (`self` on ties), `0` for the other. NaN propagates as in
    /// [`maximum`](Var::maximum).
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
        self.binary(other, BinaryOp::Minimum, |a, b| {
            if a <= b {
                a
            } else if b < a {
                b
            } else {
                a + b // NaN
            }
        })
    }

    /// Records `op`, `f(a, b)` elementwise with `a` and `b` broadcast to a common shape.
    fn binary(
        self,
        other: Var<'t, T>,
        op: BinaryOp,
        f: impl Fn(T, T) -> T + Sync,
    ) -> Result<Var<'t, T>> {
        self.same_tape(other, op.name())?;
        self.tape.record(|r| {
            let (a, b) = (r.value(self.index), r.value(other.index));
            let shape = broadcast_shape(op.name(), a.shape(), b.shape())?;
            let mut out = r.pool.dirty(shape.slice());
            let (a, b) = (stretch(&a, &shape), stretch(&b, &shape));
            crate::halves::zip2(out.view_mut(), a, b, &|o, a, b| *o = f(a, b));
            let op = Op::Binary {
                op,
                a: self.index,
                b: other.index,
            };
            Ok((op, out))
        })
    }
}
