//! A training step's gradients: each parameter's values, or, for a weight whose gradient ends in
//! a matrix product (`Xᵀ·G`, plus `2λW`), that product left unevaluated
//! ([`ProductGradient`]) for the optimizer to compute piece by piece as it updates the weight.
//! The `d x h` gradient is then never written out and read back: the weight and the
//! optimizer's state are read and written once per step. Results are the same bit for bit.

use ndarray::{ArrayD, ArrayViewD};
use tapegrad_autograd::{Element, Leaf, ProductGradient, Tape};

use super::mlp::Mlp;
use super::objective::Objective;
use crate::optim::{OptimError, Optimizer};
use crate::Result;

/// One parameter's gradient in a training step.
pub(crate) enum StepGradient<T: Element> {
    /// Its values, in a buffer of the tape's pool.
    Values(ArrayD<T>),
    /// A weight's gradient as a product.
    Product(ProductGradient<T>),
}

/// A parameter's gradient as [`Linear::update`](super::linear::Linear) reads it.
#[derive(Clone)]
pub(crate) enum GradientRef<'a, T: Element> {
    /// Values of the parameter's shape.
    Values(ArrayViewD<'a, T>),
    /// A product of the parameter's shape.
    Product(&'a ProductGradient<T>),
}

impl<T: Element> StepGradient<T> {
    /// The gradient as an update reads it.
    pub fn as_ref(&self) -> GradientRef<'_, T> {
        match self {
            StepGradient::Values(g) => GradientRef::Values(g.view()),
            StepGradient::Product(p) => GradientRef::Product(p),
        }
    }
}

impl<T: Element> Mlp<T> {
    /// The loss of the batch `x`, `y` recorded on `tape`; each parameter's gradient appended
    /// to `grads` in parameter order. With `products` (a list kept for its allocation), a
    /// weight's gradient is a [`StepGradient::Product`] where the tape leaves it one
    /// ([`backward_with_products`](tapegrad_autograd::Var::backward_with_products)).
    pub(crate) fn step_gradients_into(
        &self,
        tape: &mut Tape<T>,
        x: impl Into<Leaf<T>>,
        y: &[usize],
        objective: Objective<T>,
        grads: &mut Vec<StepGradient<T>>,
        products: Option<&mut Vec<ProductGradient<T>>>,
    ) -> Result<T> {
        tape.clear();
        let loss = {
            let rec = self.record(tape, x, y, objective)?;
            let (mut g, mut products) = match products {
                Some(p) => (rec.loss.backward_with_products(p)?, Some(p)),
                None => (rec.loss.backward()?, None),
            };
            for v in tape.params() {
                let product = products.as_mut().and_then(|p| {
                    let k = p.iter().position(|p| p.is_for(v))?;
                    Some(p.swap_remove(k))
                });
                grads.push(match product {
                    Some(p) => StepGradient::Product(p),
                    None => {
                        StepGradient::Values(g.take(v).unwrap_or_else(|| ArrayD::zeros(v.shape())))
                    }
                });
            }
            tape.recycle(g);
            rec.loss.item()?
        };
        tape.clear();
        Ok(loss)
    }

    /// Applies one step of `optimizer` with learning rate `lr` from a step's gradients (in
    /// parameter order).
    pub(crate) fn update_step(
        &mut self,
        optimizer: &mut (impl Optimizer<T> + ?Sized),
        grads: &[StepGradient<T>],
        lr: f64,
    ) -> std::result::Result<(), OptimError> {
        self.update_with(optimizer, grads.len(), |k| grads[k].as_ref(), lr)
    }
}

/// Gives the buffers of `grads` (emptied) back to `tape`'s pool, the products' through
/// `products` (a list kept for its allocation).
pub(crate) fn recycle<T: Element>(
    tape: &Tape<T>,
    grads: &mut Vec<StepGradient<T>>,
    products: &mut Vec<ProductGradient<T>>,
) {
    for g in grads.drain(..) {
        match g {
            StepGradient::Values(g) => tape.give_buffer(g),
            StepGradient::Product(p) => products.push(p),
        }
    }
    tape.recycle_products(products);
}
