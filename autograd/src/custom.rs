//! User-defined ops: the extension point for adding an op without forking the engine.

use ndarray::{ArrayD, ArrayViewD};

use crate::op::Op;
use crate::{Element, Error, Result, Tape, Var};

/// An op defined outside the engine: its forward computation and its derivative.
///
/// Record it with [`Tape::custom`]. Backward calls [`backward`](CustomOp::backward) with the
/// op's inputs, its output and the gradient of the loss with respect to that output; it returns
/// one gradient per input, each of its input's shape (the engine skips those of inputs that need
/// none, and reports a wrong count or shape as [`Error::CustomOp`]). An op that can save work
/// on inputs without a gradient implements [`backward_needed`](CustomOp::backward_needed)
/// instead.
///
/// Softplus, `y = ln(1 + eˣ)` with `dy/dx = σ(x)`:
///
/// ```
/// use ndarray::{array, ArrayD, ArrayViewD};
/// use tapegrad_autograd::{gradcheck, CustomOp, Result, Tape};
///
/// struct Softplus;
///
/// impl CustomOp<f64> for Softplus {
///     fn name(&self) -> &str {
///         "softplus"
///     }
///     fn forward(&self, inputs: &[ArrayViewD<'_, f64>]) -> Result<ArrayD<f64>> {
///         Ok(inputs[0].mapv(|x| x.max(0.0) + (-x.abs()).exp().ln_1p()))
///     }
///     fn backward(
///         &self,
///         inputs: &[ArrayViewD<'_, f64>],
///         _output: &ArrayViewD<'_, f64>,
///         grad: &ArrayViewD<'_, f64>,
///     ) -> Result<Vec<ArrayD<f64>>> {
///         Ok(vec![grad * &inputs[0].mapv(|x| 1.0 / (1.0 + (-x).exp()))])
///     }
/// }
///
/// let tape = Tape::<f64>::new();
/// let x = tape.param(array![-1.0, 0.0, 2.0]);
/// let y = tape.custom(Softplus, &[x])?.sum();
/// assert!((y.item() - (1.0 + (-1f64).exp()).ln() - 2f64.ln() - (1.0 + 2f64.exp()).ln()).abs() < 1e-12);
///
/// let report = gradcheck(&[array![-1.0, 0.0, 2.0].into_dyn()], |tape, xs| {
///     Ok(tape.custom(Softplus, &[xs[0]])?.sum())
/// })?;
/// assert!(report.max_relative_error() < 1e-8);
/// # Ok::<(), tapegrad_autograd::Error>(())
/// ```
pub trait CustomOp<T: Element>: 'static {
    /// The op's name, used in errors and the DOT export.
    fn name(&self) -> &str;

    /// Computes the output from the inputs.
    fn forward(&self, inputs: &[ArrayViewD<'_, T>]) -> Result<ArrayD<T>>;

    /// Given the inputs, the output and `grad` = dLoss/dOutput, returns dLoss/dInput for
    /// every input, in order.
    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, T>],
        output: &ArrayViewD<'_, T>,
        grad: &ArrayViewD<'_, T>,
    ) -> Result<Vec<ArrayD<T>>>;

    /// Like [`backward`](CustomOp::backward), but told which inputs need a gradient
    /// (`needs[k]`), so it can skip the others by returning `None` for them (a constant target
    /// of a loss, say). The default computes them all with `backward`.
    fn backward_needed(
        &self,
        inputs: &[ArrayViewD<'_, T>],
        output: &ArrayViewD<'_, T>,
        grad: &ArrayViewD<'_, T>,
        needs: &[bool],
    ) -> Result<Vec<Option<ArrayD<T>>>> {
        let _ = needs;
        Ok(self
            .backward(inputs, output, grad)?
            .into_iter()
            .map(Some)
            .collect())
    }
}

impl<'t, T: Element> Var<'t, T> {
    /// Records a user-defined op with `self` as the first input and `rest` after it (see
    /// [`CustomOp`]); the same as `tape.custom(op, &[self, rest...])`.
    pub fn custom(self, op: impl CustomOp<T>, rest: &[Var<'t, T>]) -> Result<Var<'t, T>> {
        let mut inputs = Vec::with_capacity(rest.len() + 1);
        inputs.push(self);
        inputs.extend_from_slice(rest);
        self.tape.custom(op, &inputs)
    }
}

impl<T: Element> Tape<T> {
    /// Records a user-defined op on `inputs` (see [`CustomOp`]).
    pub fn custom<'t>(&'t self, op: impl CustomOp<T>, inputs: &[Var<'t, T>]) -> Result<Var<'t, T>> {
        if inputs.iter().any(|v| v.tape.id != self.id) {
            return Err(Error::ForeignVariable { op: "custom op" });
        }
        let value = {
            let inner = self.inner.borrow();
            let views: Vec<_> = inputs
                .iter()
                .map(|v| inner.nodes[v.index].value.view())
                .collect();
            op.forward(&views)?
        };
        let op = Op::Custom {
            op: Box::new(op),
            inputs: inputs.iter().map(|v| v.index).collect(),
        };
        Ok(self.push(op, value))
    }
}
