//! What the tape records for each op: its kind, its inputs and the constants backward needs,
//! grouped the way the maths groups them.

use std::borrow::Cow;
use std::ops::Range;

use ndarray::IxDyn;

use crate::ops::binary::BinaryOp;
use crate::ops::reduce::Reduction;
use crate::ops::unary::UnaryOp;
use crate::{CustomOp, DropoutMask, Element};

/// One recorded operation. Inputs are indices of earlier nodes on the same tape, so the
/// recording order is a topological order and backward can walk it in reverse. The derivative
/// rule of every variant is in [`derivatives`](crate::derivatives).
pub(crate) enum Op<T: Element> {
    /// A leaf: a parameter (needs a gradient) or a constant (never gets one).
    Leaf {
        param: bool,
        name: Option<Cow<'static, str>>,
    },
    /// `y = f(x)` elementwise; `f` and `f'` are side by side in [`UnaryOp`].
    Unary { op: UnaryOp<T>, x: usize },
    /// `y = a ∘ b` elementwise, with NumPy broadcasting.
    Binary { op: BinaryOp, a: usize, b: usize },
    /// A reduction of all elements to a 0-D tensor.
    Reduce { op: Reduction, x: usize },
    /// `Σ` along one axis.
    SumAxis {
        x: usize,
        axis: usize,
        keepdims: bool,
    },
    /// The same elements in a new shape.
    Reshape { x: usize },
    /// Axis `k` of the output is axis `axes[k]` of `x`.
    Permute { x: usize, axes: IxDyn },
    /// `log softmax` along an axis.
    LogSoftmax { x: usize, axis: usize },
    /// `x[i, labels[i]]`; `labels` is a range into the tape's label arena.
    Pick { x: usize, labels: Range<usize> },
    /// Mean cross-entropy of scores `x` against labels smoothed by `smoothing`; `labels` is a
    /// range into the tape's label arena.
    SmoothedCrossEntropy {
        x: usize,
        labels: Range<usize>,
        smoothing: T,
    },
    /// The matrix product `a · b`.
    MatMul { a: usize, b: usize },
    /// `x · w + b`, or `relu(x · w + b)` when `relu`: a layer in one op.
    Linear {
        x: usize,
        w: usize,
        b: usize,
        relu: bool,
    },
    /// Inverted dropout `x ⊙ m`, the mask recomputed from its seed.
    Dropout { x: usize, mask: DropoutMask },
    /// A user-defined op; `inputs` is a range into the tape's input arena.
    Custom {
        op: Box<dyn CustomOp<T>>,
        inputs: Range<usize>,
    },
}

impl<T: Element> Op<T> {
    /// The op's name, as errors and the DOT export print it.
    pub fn name(&self) -> &str {
        match self {
            Op::Leaf { param: true, .. } => "param",
            Op::Leaf { param: false, .. } => "constant",
            Op::Unary { op, .. } => op.name(),
            Op::Binary { op, .. } => op.name(),
            Op::Reduce { op, .. } => op.name(),
            Op::SumAxis { .. } => "sum_axis",
            Op::Reshape { .. } => "reshape",
            Op::Permute { .. } => "permute",
            Op::LogSoftmax { .. } => "log_softmax",
            Op::Pick { .. } => "pick",
            Op::SmoothedCrossEntropy { .. } => "cross_entropy_smoothed",
            Op::MatMul { .. } => "matmul",
            Op::Linear { relu, .. } => crate::ops::linear::layer_name(*relu),
            Op::Dropout { .. } => "dropout",
            Op::Custom { op, .. } => op.name(),
        }
    }

    /// Calls `f` with every input index, in order. `arena` is the tape's input arena (where
    /// custom ops keep theirs).
    pub fn for_each_input(&self, arena: &[usize], mut f: impl FnMut(usize)) {
        match self {
            Op::Leaf { .. } => {}
            Op::Binary { a, b, .. } | Op::MatMul { a, b } => {
                f(*a);
                f(*b);
            }
            Op::Linear { x, w, b, .. } => {
                f(*x);
                f(*w);
                f(*b);
            }
            Op::Unary { x, .. }
            | Op::Reduce { x, .. }
            | Op::SumAxis { x, .. }
            | Op::Reshape { x }
            | Op::Permute { x, .. }
            | Op::LogSoftmax { x, .. }
            | Op::Dropout { x, .. }
            | Op::SmoothedCrossEntropy { x, .. }
            | Op::Pick { x, .. } => f(*x),
            Op::Custom { inputs, .. } => arena[inputs.clone()].iter().copied().for_each(f),
        }
    }
}
