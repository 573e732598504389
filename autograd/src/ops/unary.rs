//! Elementwise ops of one tensor, `y[i] = f(x[i])`: each defined by one row of
//! [`UnaryOp::apply`], its name, `f` and its chain rule `dx = g·f'(x)` side by side, and
//! recorded by one method of [`Var`].

use std::convert::Infallible;

use ndarray::{ArrayD, ArrayViewD};

use crate::op::Op;
use crate::{Element, Error, Result, Var};

/// A unary elementwise op, with the constants it needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum UnaryOp<T> {
    Neg,
    Scale(T),
    AddScalar(T),
    Relu,
    LeakyRelu(T),
    Abs,
    Clamp(T, T),
    Exp,
    Log,
    Tanh,
    Sigmoid,
    Square,
    Sqrt,
}

/// What is done with a unary op's definition: the forward map, the backward chain rule, or
/// reading its name. Generic over `f` and `dx`, so the loop that runs them is compiled for each
/// op and the op is chosen once per tensor, not once per element.
pub(crate) trait UnaryKernel<T> {
    /// What the kernel produces.
    type Output;
    /// Runs with the op's `name`, `f(x)`, and its chain rule `dx = rule(g, v)`: the gradient
    /// reaching `x` when `g` reaches `y = f(x)`, where `v` is the value the rule `reads`, the
    /// input `x` or the output `y` (whichever is cheaper or more accurate; backward streams
    /// only that one).
    fn run<F, D>(self, name: &'static str, f: F, reads: Reads, rule: D) -> Self::Output
    where
        F: Fn(T) -> T + Sync,
        D: Fn(T, T) -> T + Sync;
}

/// The value a chain rule reads besides `g`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    /// The op's input `x`.
    X,
    /// The op's output `y = f(x)`.
    Y,
}

impl<T: Element> UnaryOp<T> {
    /// Calls `k` with the op's name, `f` and chain rule: the whole definition of each unary op,
    /// one row each.
    pub fn apply<K: UnaryKernel<T>>(self, k: K) -> K::Output {
        use Reads::{X, Y};
        let (zero, one) = (T::zero(), T::one());
        match self {
            // -x; dx = -g.
            UnaryOp::Neg => k.run("neg", |x| -x, X, |g, _| -g),
            // c x; dx = c g.
            UnaryOp::Scale(c) => k.run("scale", move |x| c * x, X, move |g, _| c * g),
            // x + c; dx = g.
            UnaryOp::AddScalar(c) => k.run("add_scalar", move |x| x + c, X, |g, _| g),
            // max(x, 0); dx = g where x > 0, 0 where x <= 0. NaN stays NaN, in both.
            UnaryOp::Relu => k.run(
                "relu",
                move |x| if x <= zero { zero } else { x },
                X,
                move |g, x| {
                    if x > zero {
                        g
                    } else if x.is_nan() {
                        x
                    } else {
                        zero
                    }
                },
            ),
            // x where x > 0, a x elsewhere; dx = g where x > 0, a g elsewhere. NaN stays NaN.
            UnaryOp::LeakyRelu(a) => k.run(
                "leaky_relu",
                move |x| if x > zero { x } else { a * x },
                X,
                move |g, x| {
                    if x > zero {
                        g
                    } else if x.is_nan() {
                        x
                    } else {
                        a * g
                    }
                },
            ),
            // |x|; dx = g sign(x), 0 at 0.
            UnaryOp::Abs => k.run("abs", T::abs, X, move |g, x| {
                if x > zero {
                    g
                } else if x < zero {
                    -g
                } else {
                    zero
                }
            }),
            // x limited to [lo, hi]; dx = g inside [lo, hi] (bounds included), 0 outside.
            UnaryOp::Clamp(lo, hi) => k.run(
                "clamp",
                move |x| {
                    if x < lo {
                        lo
                    } else if x > hi {
                        hi
                    } else {
                        x
                    }
                },
                X,
                move |g, x| if x >= lo && x <= hi { g } else { zero },
            ),
            // eˣ; dx = g y.
            UnaryOp::Exp => k.run("exp", T::exp, Y, |g, y| g * y),
            // ln x; dx = g / x.
            UnaryOp::Log => k.run("log", T::ln, X, |g, x| g / x),
            // tanh x; dx = g (1 - y²).
            UnaryOp::Tanh => k.run("tanh", T::tanh, Y, move |g, y| g * (one - y * y)),
            // σ(x); dx = g σ (1 - σ), σ recomputed from x for accuracy where it rounds to 1.
            UnaryOp::Sigmoid => k.run("sigmoid", sigmoid, X, move |g, x| {
                let s = sigmoid(x);
                g * s * (one - s)
            }),
            // x²; dx = 2 g x.
            UnaryOp::Square => k.run("square", |x| x * x, X, |g, x| g * (x + x)),
            // √x; dx = g / 2y.
            UnaryOp::Sqrt => k.run("sqrt", T::sqrt, Y, |g, y| g / (y + y)),
        }
    }

    /// The op's name, as errors and the DOT export print it.
    pub fn name(self) -> &'static str {
        self.apply(Name)
    }
}

/// The kernel that reads an op's name.
struct Name;

impl<T> UnaryKernel<T> for Name {
    type Output = &'static str;
    fn run<F, D>(self, name: &'static str, _: F, _: Reads, _: D) -> &'static str {
        name
    }
}

/// The forward kernel: `out = f(x)` elementwise.
struct Forward<'a, T> {
    x: ArrayViewD<'a, T>,
    out: ArrayD<T>,
}

impl<T: Element> UnaryKernel<T> for Forward<'_, T> {
    type Output = ArrayD<T>;
    fn run<F, D>(mut self, _: &'static str, f: F, _: Reads, _: D) -> ArrayD<T>
    where
        F: Fn(T) -> T + Sync,
    {
        crate::halves::zip1(self.out.view_mut(), self.x, &|o, x| *o = f(x));
        self.out
    }
}

impl<'t, T: Element> Var<'t, T> {
    /// Records `op` applied to every element.
    fn unary(self, op: UnaryOp<T>) -> Var<'t, T> {
        let recorded = self.tape.record(|r| {
            let x = r.value(self.index);
            let out = r.pool.dirty(x.shape());
            let y = op.apply(Forward { x, out });
            Ok::<_, Infallible>((Op::Unary { op, x: self.index }, y))
        });
        let Ok(y) = recorded;
        y
    }

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
        self.unary(UnaryOp::Neg)
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
        self.unary(UnaryOp::Scale(c))
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
        self.unary(UnaryOp::AddScalar(c))
    }

    /// `relu(x) = max(x, 0)`. Derivative: `1` where `x > 0`, `0` where `x <= 0` (the
    /// subgradient at 0 is 0, as the two-layer-net document uses). NaN propagates, as in
    /// PyTorch and NumPy: `relu(NaN) = NaN`, and the gradient at a NaN is NaN, so divergence
    /// shows in the gradients too.
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![1.5, 0.0, -2.0, f64::NAN]);
    /// let y = x.relu();
    /// assert!(y.value()[3].is_nan());
    /// let g = y.sum().backward()?;
    /// assert_eq!(g[x].slice(ndarray::s![..3]), array![1.0, 0.0, 0.0]);
    /// assert!(g[x][3].is_nan());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn relu(self) -> Var<'t, T> {
        self.unary(UnaryOp::Relu)
    }

    /// `leaky_relu(x) = x` where `x > 0`, `slope · x` elsewhere. Derivative: `1` where `x > 0`,
    /// `slope` elsewhere (also at 0). NaN propagates, as in [`relu`](Var::relu).
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![2.0, 0.0, -4.0]);
    /// let y = x.leaky_relu(0.25);
    /// assert_eq!(y.value(), array![2.0, 0.0, -1.0].into_dyn());
    /// assert_eq!(y.sum().backward()?[x], array![1.0, 0.25, 0.25].into_dyn());
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn leaky_relu(self, slope: T) -> Var<'t, T> {
        self.unary(UnaryOp::LeakyRelu(slope))
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
        self.unary(UnaryOp::Abs)
    }

    /// `x` limited to `[lo, hi]`. Derivative: `1` where `lo <= x <= hi`, `0` outside.
    /// Bounds that are not an interval (`lo > hi`, or a NaN) are [`Error::BadBounds`].
    ///
    /// ```
    /// # use ndarray::array; use tapegrad_autograd::{Error, Tape};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(array![-2.0, 0.5, 3.0]);
    /// let y = x.clamp(-1.0, 1.0)?;
    /// assert_eq!(y.value(), array![-1.0, 0.5, 1.0].into_dyn());
    /// assert_eq!(y.sum().backward()?[x], array![0.0, 1.0, 0.0].into_dyn());
    /// assert_eq!(x.clamp(1.0, -1.0).unwrap_err(), Error::BadBounds { lo: 1.0, hi: -1.0 });
    /// # Ok::<(), tapegrad_autograd::Error>(())
    /// ```
    pub fn clamp(self, lo: T, hi: T) -> Result<Var<'t, T>> {
        // Not `lo > hi`: a NaN bound must be refused too.
        if lo.partial_cmp(&hi).is_none_or(|o| o.is_gt()) {
            return Err(Error::BadBounds {
                lo: lo.as_f64(),
                hi: hi.as_f64(),
            });
        }
        Ok(self.unary(UnaryOp::Clamp(lo, hi)))
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
        self.unary(UnaryOp::Exp)
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
        self.unary(UnaryOp::Log)
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
        self.unary(UnaryOp::Tanh)
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
        self.unary(UnaryOp::Sigmoid)
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
        self.unary(UnaryOp::Square)
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
        self.unary(UnaryOp::Sqrt)
    }
}

/// The logistic function `σ(x) = 1 / (1 + e^-x)` on one number, evaluated so that `exp` never
/// overflows: what [`Var::sigmoid`] computes elementwise.
///
/// ```
/// assert_eq!(tapegrad_autograd::sigmoid(0.0f64), 0.5);
/// assert_eq!(tapegrad_autograd::sigmoid(-1000.0f64), 0.0);
/// ```
pub fn sigmoid<T: Element>(x: T) -> T {
    let one = T::one();
    if x >= T::zero() {
        one / (one + (-x).exp())
    } else {
        let e = x.exp();
        e / (one + e)
    }
}
