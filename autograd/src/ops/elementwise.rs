//! Elementwise ops of one tensor: `y[i] = f(x[i])`.
//!
//! Each method states its derivative; the rules themselves are in
//! [`derivatives`](crate::derivatives).

use crate::op::Op;
use crate::{Element, Var};

impl<'t, T: Element> Var<'t, T> {
    /// `-x`. Derivative: `-1`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![1.0, -2.0]);
    /// assert_eq!(x.neg().value(), array![-1.0, 2.0].into_dyn());
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn neg(self) -> Var<'t, T> {
        self.map(Op::Neg(self.index), |x| -x)
    }

    /// `c * x` for a constant `c`. Derivative: `c`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![1.0, -2.0]);
    /// assert_eq!(x.scale(3.0).value(), array![3.0, -6.0].into_dyn());
    /// ```
    pub fn scale(self, c: T) -> Var<'t, T> {
        self.map(Op::Scale(self.index, c), |x| c * x)
    }

    /// `x + c` for a constant `c`. Derivative: `1`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![1.0, -2.0]);
    /// assert_eq!(x.add_scalar(0.5).value(), array![1.5, -1.5].into_dyn());
    /// ```
    pub fn add_scalar(self, c: T) -> Var<'t, T> {
        self.map(Op::AddScalar(self.index), |x| x + c)
    }

    /// `relu(x) = max(x, 0)`. Derivative: `1` where `x > 0`, `0` where `x <= 0` (the
    /// subgradient at 0 is 0, as the two-layer-net document uses).
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![1.5, 0.0, -2.0]);
    /// let g = x.relu().sum().backward()?;
    /// assert_eq!(g[x], array![1.0, 0.0, 0.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn relu(self) -> Var<'t, T> {
        self.map(Op::Relu(self.index), |x| {
            if x > T::zero() {
                x
            } else {
                T::zero()
            }
        })
    }

    /// `|x|`. Derivative: `sign(x)` (0 at 0).
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![-2.0, 0.0, 3.0]);
    /// let g = x.abs().sum().backward()?;
    /// assert_eq!(g[x], array![-1.0, 0.0, 1.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn abs(self) -> Var<'t, T> {
        self.map(Op::Abs(self.index), T::abs)
    }

    /// `x` limited to `[lo, hi]`. Derivative: `1` where `lo <= x <= hi`, `0` outside.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![-2.0, 0.5, 3.0]);
    /// let y = x.clamp(-1.0, 1.0);
    /// assert_eq!(y.value(), array![-1.0, 0.5, 1.0].into_dyn());
    /// assert_eq!(y.sum().backward()?[x], array![0.0, 1.0, 0.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn clamp(self, lo: T, hi: T) -> Var<'t, T> {
        let op = Op::Clamp {
            input: self.index,
            lo,
            hi,
        };
        self.map(op, |x| {
            if x < lo {
                lo
            } else if x > hi {
                hi
            } else {
                x
            }
        })
    }

    /// `exp(x)`. Derivative: `exp(x)`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![0.0, 1.0]);
    /// let g = x.exp().sum().backward()?;
    /// assert_eq!(g[x], array![1.0, 1f64.exp()].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn exp(self) -> Var<'t, T> {
        self.map(Op::Exp(self.index), T::exp)
    }

    /// Natural logarithm `ln(x)`. Derivative: `1 / x`. Non-positive inputs give `NaN`/`-inf`,
    /// as in IEEE arithmetic.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![1.0, 4.0]);
    /// let g = x.log().sum().backward()?;
    /// assert_eq!(g[x], array![1.0, 0.25].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn log(self) -> Var<'t, T> {
        self.map(Op::Log(self.index), T::ln)
    }

    /// `tanh(x)`. Derivative: `1 - tanh(x)²`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![0.0]);
    /// let g = x.tanh().sum().backward()?;
    /// assert_eq!(g[x], array![1.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn tanh(self) -> Var<'t, T> {
        self.map(Op::Tanh(self.index), T::tanh)
    }

    /// The logistic function `σ(x) = 1 / (1 + e^-x)`, computed without overflow for large `|x|`.
    /// Derivative: `σ(x)(1 - σ(x))`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![0.0, -1000.0]);
    /// let g = x.sigmoid().sum().backward()?;
    /// assert_eq!(g[x], array![0.25, 0.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn sigmoid(self) -> Var<'t, T> {
        self.map(Op::Sigmoid(self.index), sigmoid)
    }

    /// `x²`. Derivative: `2x`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![3.0]);
    /// let g = x.square().sum().backward()?;
    /// assert_eq!(g[x], array![6.0].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn square(self) -> Var<'t, T> {
        self.map(Op::Square(self.index), |x| x * x)
    }

    /// `√x`. Derivative: `1 / (2√x)`.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![4.0]);
    /// let g = x.sqrt().sum().backward()?;
    /// assert_eq!(g[x], array![0.25].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn sqrt(self) -> Var<'t, T> {
        self.map(Op::Sqrt(self.index), T::sqrt)
    }
}

/// The logistic function, evaluated so that `exp` never overflows.
pub(crate) fn sigmoid<T: Element>(x: T) -> T {
    let one = T::one();
    if x >= T::zero() {
        one / (one + (-x).exp())
    } else {
        let e = x.exp();
        e / (one + e)
    }
}
