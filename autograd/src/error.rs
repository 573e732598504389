//! The errors a tape reports: typed, and worded like a compiler error.

use thiserror::Error;

/// What went wrong while recording an op, walking the tape backwards or reading gradients.
///
/// Every variant names the op and the shapes involved, so the message alone says what to fix:
///
/// ```
/// use ndarray::Array2;
/// use tapegrad_autograd::{Error, Tape};
///
/// let tape = Tape::<f64>::new();
/// let a = tape.constant(Array2::<f64>::zeros((2, 3)));
/// let b = tape.constant(Array2::<f64>::zeros((4, 5)));
/// let err = a.matmul(b).unwrap_err();
/// assert!(matches!(err, Error::ShapeMismatch { op: "matmul", .. }));
/// assert_eq!(
///     err.to_string(),
///     "matmul: shapes [2, 3] and [4, 5] do not fit: the inner dimensions differ (3 vs 4)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    /// Two operands whose shapes the op cannot combine.
    #[error("{op}: shapes {lhs:?} and {rhs:?} do not fit: {reason}")]
    ShapeMismatch {
        /// The op that was being recorded.
        op: &'static str,
        /// Shape of the left operand.
        lhs: Vec<usize>,
        /// Shape of the right operand.
        rhs: Vec<usize>,
        /// Why they do not fit.
        reason: String,
    },
    /// An operand with the wrong number of dimensions.
    #[error("{op}: expected a {expected}-D tensor, got shape {shape:?}")]
    WrongRank {
        /// The op that was being recorded.
        op: &'static str,
        /// The number of dimensions the op needs.
        expected: usize,
        /// The shape it got.
        shape: Vec<usize>,
    },
    /// An axis index that the tensor does not have.
    #[error("{op}: axis {axis} is out of range for shape {shape:?} ({ndim} {})", if *ndim == 1 { "dimension" } else { "dimensions" })]
    AxisOutOfRange {
        /// The op that was being recorded.
        op: &'static str,
        /// The axis asked for.
        axis: usize,
        /// Number of dimensions of the operand.
        ndim: usize,
        /// The operand's shape.
        shape: Vec<usize>,
    },
    /// A reshape or permutation that does not fit the tensor.
    #[error("{op}: cannot turn shape {from:?} into {to:?}: {reason}")]
    BadReshape {
        /// The op that was being recorded.
        op: &'static str,
        /// Shape of the operand.
        from: Vec<usize>,
        /// The requested shape or axis order.
        to: Vec<usize>,
        /// Why not.
        reason: String,
    },
    /// `permute` was given a list that is not an order of the tensor's axes.
    #[error("permute: {axes:?} is not an axis order for shape {shape:?}: list each of the {} axes exactly once", shape.len())]
    BadAxisOrder {
        /// The requested order.
        axes: Vec<usize>,
        /// The operand's shape.
        shape: Vec<usize>,
    },
    /// `pick` was given a label that is not a valid column index.
    #[error(
        "pick: label {label} in row {row} is out of range for {classes} classes (shape {shape:?})"
    )]
    LabelOutOfRange {
        /// The row whose label is bad.
        row: usize,
        /// The label.
        label: usize,
        /// Number of columns (classes).
        classes: usize,
        /// Shape of the scores.
        shape: Vec<usize>,
    },
    /// `pick` was given a different number of labels than rows.
    #[error("pick: {labels} {} for {rows} {} (shape {shape:?}); give one label per row", if *labels == 1 { "label" } else { "labels" }, if *rows == 1 { "row" } else { "rows" })]
    LabelCount {
        /// Number of labels given.
        labels: usize,
        /// Number of rows in the scores.
        rows: usize,
        /// Shape of the scores.
        shape: Vec<usize>,
    },
    /// `backward`, `item` or `gradcheck` was given a tensor that is not of exactly one element.
    #[error("{op}: the value has shape {shape:?} ({len} elements), but {op} needs exactly one element; reduce it first with sum() or mean()")]
    NotScalar {
        /// What needed the single element: `backward`, `item` or `gradcheck`.
        op: &'static str,
        /// Shape of the value.
        shape: Vec<usize>,
        /// Its number of elements.
        len: usize,
    },
    /// `clamp` was given bounds that are not an interval: `lo > hi`, or a bound is NaN.
    #[error("clamp: the bounds lo = {lo} and hi = {hi} are not an interval; lo must be at most hi, and neither may be NaN")]
    BadBounds {
        /// The lower bound, as `f64`.
        lo: f64,
        /// The upper bound, as `f64`.
        hi: f64,
    },
    /// A probability outside its range: dropout's `p` must be in `[0, 1)`.
    #[error("{op}: the probability p = {p} is not in [0, 1)")]
    BadProbability {
        /// The op.
        op: &'static str,
        /// The probability given.
        p: f64,
    },
    /// Variables of two different tapes were combined, or gradients were looked up with a
    /// variable of another tape.
    #[error("{op}: the variables belong to different tapes; record every variable of a computation on the same tape")]
    ForeignVariable {
        /// The op (or lookup) that mixed them.
        op: &'static str,
    },
    /// Gradients were looked up after [`Tape::clear`](crate::Tape::clear) erased the recording
    /// they were computed on.
    #[error("gradient lookup: these gradients belong to a recording that Tape::clear has since erased; run backward on the new recording")]
    StaleGradients,
    /// A gradient was asked for a variable that has none: a constant, an intermediate value, or a
    /// parameter the output does not depend on.
    #[error("gradient: variable #{index} ({what}) has no gradient: {reason}")]
    NoGradient {
        /// The variable's index on its tape.
        index: usize,
        /// What the variable is (op name).
        what: String,
        /// Why it has none.
        reason: &'static str,
    },
    /// A user-defined op reported a problem or broke its contract.
    #[error("{op}: {message}")]
    CustomOp {
        /// The custom op's name.
        op: String,
        /// What went wrong.
        message: String,
    },
    /// [`set_isa`](crate::set_isa) asked for micro-kernels this CPU cannot run.
    #[error("set_isa: this CPU cannot run the {isa:?} micro-kernels (it has up to {best:?})")]
    UnsupportedIsa {
        /// The instruction set asked for.
        isa: crate::Isa,
        /// The widest this CPU has.
        best: crate::Isa,
    },
}

/// Shorthand for results whose error is [`Error`](enum@Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;
