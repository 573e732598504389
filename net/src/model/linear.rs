//! [`Linear`]: one fully connected layer, `x ↦ x W + b`.

use std::borrow::Cow;
use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use tapegrad_autograd::{Element, Tape, Var};

use super::step_gradients::GradientRef;
use crate::optim::{update_parameter, update_parameter_product, OptimError, Optimizer};
use crate::{NetError, Result};

/// A fully connected layer: `inputs x outputs` weights `W` and `outputs` biases `b`, applied to
/// a batch (one example per row) as `x W + b`.
///
/// The parameters are `Arc`-shared so a tape records them without copying; once the tape is
/// cleared the layer holds the only reference again and an optimizer updates them in place.
///
/// ```
/// use ndarray::array;
/// use tapegrad_net::model::Linear;
///
/// let layer = Linear::from_parameters(array![[1.0, 0.0], [0.0, 2.0]], array![0.5, -1.0])?;
/// assert_eq!(layer.apply(array![[3.0, 4.0]].view()), array![[3.5, 7.0]]);
/// # Ok::<(), tapegrad_net::NetError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Linear<T: Element> {
    weight: Arc<Array2<T>>,
    bias: Arc<Array1<T>>,
}

impl<T: Element> Linear<T> {
    /// A layer from its weights (`inputs x outputs`) and biases (`outputs`).
    pub fn from_parameters(weight: Array2<T>, bias: Array1<T>) -> Result<Self> {
        if weight.ncols() != bias.len() {
            return Err(NetError::Parameters(format!(
                "a weight of {}x{} needs {} biases, not {}",
                weight.nrows(),
                weight.ncols(),
                weight.ncols(),
                bias.len()
            )));
        }
        Ok(Linear {
            weight: Arc::new(weight),
            bias: Arc::new(bias),
        })
    }

    /// The weights `W`, `inputs x outputs`.
    pub fn weight(&self) -> ArrayView2<'_, T> {
        self.weight.view()
    }

    /// The biases `b`, `outputs`.
    pub fn bias(&self) -> ArrayView1<'_, T> {
        self.bias.view()
    }

    /// `W` and `b` to change in place (copied first if a tape or another net shares them), for
    /// weight averaging ([`WeightAverage`](crate::train::WeightAverage)).
    pub(crate) fn parameters_mut(&mut self) -> (&mut Array2<T>, &mut Array1<T>) {
        (
            Arc::make_mut(&mut self.weight),
            Arc::make_mut(&mut self.bias),
        )
    }

    /// Inputs per example (rows of `W`).
    pub fn inputs(&self) -> usize {
        self.weight.nrows()
    }

    /// Outputs per example (columns of `W`).
    pub fn outputs(&self) -> usize {
        self.weight.ncols()
    }

    /// `x W + b`, computed directly (no tape): each row starts as `b`, and the tape's own
    /// matrix-product kernel adds `x W` on as many threads as the product repays.
    pub fn apply(&self, x: ArrayView2<'_, T>) -> Array2<T> {
        let mut out = Array2::from_shape_fn((x.nrows(), self.bias.len()), |(_, j)| self.bias[j]);
        tapegrad_autograd::gemm(x, self.weight.view(), out.view_mut(), true);
        out
    }

    /// Records `W` and `b` as parameters named `weight_name` and `bias_name` (shared, not
    /// copied) and returns them.
    pub fn record_parameters<'t>(
        &self,
        tape: &'t Tape<T>,
        weight_name: Cow<'static, str>,
        bias_name: Cow<'static, str>,
    ) -> (Var<'t, T>, Var<'t, T>) {
        let w = tape.param_named(weight_name, Arc::clone(&self.weight));
        let b = tape.param_named(bias_name, Arc::clone(&self.bias));
        (w, b)
    }

    /// Applies one step of `optimizer` to `W` (parameter number `k`) and `b` (number `k + 1`)
    /// with their gradients (values of any dimensionality, as long as the shapes are the
    /// parameters', or a product for `W`).
    pub(crate) fn update(
        &mut self,
        optimizer: &mut (impl Optimizer<T> + ?Sized),
        k: usize,
        [grad_weight, grad_bias]: [GradientRef<'_, T>; 2],
        lr: f64,
    ) -> std::result::Result<(), OptimError> {
        let shape_error = |k: usize, shape: &[usize], grad: &[usize]| OptimError::GradientShape {
            parameter: k,
            shape: shape.to_vec(),
            gradient: grad.to_vec(),
        };
        match grad_weight {
            GradientRef::Values(g) => {
                let gw = g
                    .view()
                    .into_dimensionality::<ndarray::Ix2>()
                    .map_err(|_| shape_error(k, self.weight.shape(), g.shape()))?;
                update_parameter(optimizer, k, &mut self.weight, &gw, lr)?;
            }
            GradientRef::Product(p) => {
                update_parameter_product(optimizer, k, &mut self.weight, p, lr)?;
            }
        }
        let gb = match grad_bias {
            GradientRef::Values(g) => g,
            GradientRef::Product(p) => {
                return Err(shape_error(k + 1, self.bias.shape(), &p.shape()));
            }
        };
        let gb1 = gb
            .view()
            .into_dimensionality::<ndarray::Ix1>()
            .map_err(|_| shape_error(k + 1, self.bias.shape(), gb.shape()))?;
        update_parameter(optimizer, k + 1, &mut self.bias, &gb1, lr)
    }
}
