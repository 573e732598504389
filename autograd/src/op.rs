//! What the tape records for each op: its kind, its inputs and the constants backward needs.

use std::ops::Range;

use crate::custom::CustomOp;
use crate::Element;

/// One recorded operation. Inputs are indices of earlier nodes on the same tape, so the
/// recording order is a topological order and backward can walk it in reverse.
pub(crate) enum Op<T: Element> {
    /// A leaf: a parameter (needs a gradient) or a constant (never gets one).
    Leaf {
        param: bool,
        name: Option<std::borrow::Cow<'static, str>>,
    },
    MatMul(usize, usize),
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    Maximum(usize, usize),
    Minimum(usize, usize),
    Neg(usize),
    Scale(usize, T),
    AddScalar(usize),
    Relu(usize),
    Abs(usize),
    Clamp {
        input: usize,
        lo: T,
        hi: T,
    },
    Exp(usize),
    Log(usize),
    Tanh(usize),
    Sigmoid(usize),
    Square(usize),
    Sqrt(usize),
    Sum(usize),
    SumSquares(usize),
    Mean(usize),
    SumAxis {
        input: usize,
        axis: usize,
        keepdims: bool,
    },
    LogSoftmax {
        input: usize,
        axis: usize,
    },
    /// `labels` is a range into the tape's label arena.
    Pick {
        input: usize,
        labels: Range<usize>,
    },
    Reshape(usize),
    Permute {
        input: usize,
        axes: Vec<usize>,
    },
    Custom {
        op: Box<dyn CustomOp<T>>,
        inputs: Vec<usize>,
    },
}

impl<T: Element> Op<T> {
    /// The op's name, as errors and the DOT export print it.
    pub fn name(&self) -> &str {
        match self {
            Op::Leaf { param: true, .. } => "param",
            Op::Leaf { param: false, .. } => "constant",
            Op::MatMul(..) => "matmul",
            Op::Add(..) => "add",
            Op::Sub(..) => "sub",
            Op::Mul(..) => "mul",
            Op::Div(..) => "div",
            Op::Maximum(..) => "maximum",
            Op::Minimum(..) => "minimum",
            Op::Neg(_) => "neg",
            Op::Scale(..) => "scale",
            Op::AddScalar(_) => "add_scalar",
            Op::Relu(_) => "relu",
            Op::Abs(_) => "abs",
            Op::Clamp { .. } => "clamp",
            Op::Exp(_) => "exp",
            Op::Log(_) => "log",
            Op::Tanh(_) => "tanh",
            Op::Sigmoid(_) => "sigmoid",
            Op::Square(_) => "square",
            Op::Sqrt(_) => "sqrt",
            Op::Sum(_) => "sum",
            Op::SumSquares(_) => "sum_squares",
            Op::Mean(_) => "mean",
            Op::SumAxis { .. } => "sum_axis",
            Op::LogSoftmax { .. } => "log_softmax",
            Op::Pick { .. } => "pick",
            Op::Reshape(_) => "reshape",
            Op::Permute { .. } => "permute",
            Op::Custom { op, .. } => op.name(),
        }
    }

    /// Calls `f` with every input index, in order.
    pub fn for_each_input(&self, mut f: impl FnMut(usize)) {
        match self {
            Op::Leaf { .. } => {}
            Op::MatMul(a, b)
            | Op::Add(a, b)
            | Op::Sub(a, b)
            | Op::Mul(a, b)
            | Op::Div(a, b)
            | Op::Maximum(a, b)
            | Op::Minimum(a, b) => {
                f(*a);
                f(*b);
            }
            Op::Neg(x)
            | Op::Scale(x, _)
            | Op::AddScalar(x)
            | Op::Relu(x)
            | Op::Abs(x)
            | Op::Exp(x)
            | Op::Log(x)
            | Op::Tanh(x)
            | Op::Sigmoid(x)
            | Op::Square(x)
            | Op::Sqrt(x)
            | Op::Sum(x)
            | Op::SumSquares(x)
            | Op::Mean(x)
            | Op::Reshape(x) => f(*x),
            Op::SumAxis { input, .. }
            | Op::Clamp { input, .. }
            | Op::LogSoftmax { input, .. }
            | Op::Pick { input, .. }
            | Op::Permute { input, .. } => f(*input),
            Op::Custom { inputs, .. } => inputs.iter().copied().for_each(f),
        }
    }
}
