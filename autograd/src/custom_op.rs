//! The `CustomOp` trait: the extension point for adding an op without forking the engine.
//! Recording one is in [`ops::custom`](crate::ops), beside the built-in ops.

use std::any::Any;

use ndarray::{ArrayViewD, ArrayViewMutD, IxDyn};

use crate::{Element, Result};

/// An op defined outside the engine: its forward computation and its derivative.
///
/// Record it with [`Tape::custom`](crate::Tape::custom) or [`Var::custom`](crate::Var::custom).
/// The engine owns the buffers, as it does for its own ops: [`forward`](CustomOp::forward)
/// writes the output into a pooled buffer of [`output_shape`](CustomOp::output_shape), and
/// [`backward`](CustomOp::backward) adds each input's gradient into a pooled buffer of that
/// input's shape. So a training step with custom ops still allocates nothing once it is warm,
/// and a gradient of the wrong shape cannot be returned.
///
/// Softplus, `y = ln(1 + eˣ)` with `dy/dx = σ(x)`:
///
/// ```
/// use ndarray::{array, ArrayViewD, ArrayViewMutD, Zip};
/// use tapegrad_autograd::{gradcheck, CustomOp, Result, Tape};
///
/// struct Softplus;
///
/// impl CustomOp<f64> for Softplus {
///     fn name(&self) -> &str {
///         "softplus"
///     }
///     fn forward(&self, x: &[ArrayViewD<'_, f64>], mut y: ArrayViewMutD<'_, f64>) -> Result<()> {
///         Zip::from(&mut y).and(&x[0]).for_each(|y, &x| *y = x.max(0.0) + (-x.abs()).exp().ln_1p());
///         Ok(())
///     }
///     fn backward(
///         &self,
///         x: &[ArrayViewD<'_, f64>],
///         _y: &ArrayViewD<'_, f64>,
///         g: &ArrayViewD<'_, f64>,
///         dx: &mut [Option<ArrayViewMutD<'_, f64>>],
///     ) -> Result<()> {
///         if let Some(dx) = &mut dx[0] {
///             Zip::from(dx).and(g).and(&x[0]).for_each(|d, &g, &x| *d = g / (1.0 + (-x).exp()));
///         }
///         Ok(())
///     }
/// }
///
/// let tape = Tape::<f64>::new();
/// let x = tape.param(array![-1.0, 0.0, 2.0]);
/// let y = tape.custom(Softplus, &[x])?.sum();
/// let expected = (1.0 + (-1f64).exp()).ln() + 2f64.ln() + (1.0 + 2f64.exp()).ln();
/// assert!((y.item()? - expected).abs() < 1e-12);
///
/// let report = gradcheck(&[array![-1.0, 0.0, 2.0].into_dyn()], |tape, xs| {
///     Ok(tape.custom(Softplus, &[xs[0]])?.sum())
/// })?;
/// assert!(report.max_relative_error() < 1e-8);
/// # Ok::<(), tapegrad_autograd::Error>(())
/// ```
pub trait CustomOp<T: Element>: Any {
    /// The op's name, used in errors and the DOT export.
    fn name(&self) -> &str;

    /// The shape of the output for these inputs, or an error naming what does not fit. The
    /// default is the first input's shape (an elementwise op), or `[]` without inputs.
    fn output_shape(&self, inputs: &[ArrayViewD<'_, T>]) -> Result<IxDyn> {
        Ok(inputs.first().map_or_else(|| IxDyn(&[]), |x| x.raw_dim()))
    }

    /// Computes the output from the inputs into `output`, a buffer of
    /// [`output_shape`](CustomOp::output_shape) filled with zeros.
    fn forward(&self, inputs: &[ArrayViewD<'_, T>], output: ArrayViewMutD<'_, T>) -> Result<()>;

    /// Given the inputs, the output and `grad` = dLoss/dOutput, writes dLoss/dInput `k` into
    /// `grads[k]`, a buffer of input `k`'s shape filled with zeros. `grads[k]` is `None` for an
    /// input that needs no gradient (a constant), so its work can be skipped.
    fn backward(
        &self,
        inputs: &[ArrayViewD<'_, T>],
        output: &ArrayViewD<'_, T>,
        grad: &ArrayViewD<'_, T>,
        grads: &mut [Option<ArrayViewMutD<'_, T>>],
    ) -> Result<()>;
}
