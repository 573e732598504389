//! Plain stochastic gradient descent: `w -= lr · g`.

use tapegrad_autograd::Element;

use super::buffers::take_saved;
use super::{Gradient, OptimError, Optimizer, OptimizerState};

/// `w -= lr · g`: no state but the count of steps taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sgd {
    steps: u64,
}

impl<T: Element> Optimizer<T> for Sgd {
    fn name(&self) -> &'static str {
        "sgd"
    }

    fn check(&self) -> Result<(), String> {
        Ok(())
    }

    fn buffer_names(&self) -> &'static [&'static str] {
        &[]
    }

    fn begin_step(&mut self) {
        self.steps += 1;
    }

    super::updates_through_apply!();

    fn state(&self) -> OptimizerState<T> {
        OptimizerState {
            steps: self.steps,
            buffers: Vec::new(),
        }
    }

    fn load_state(&mut self, state: OptimizerState<T>, _sizes: &[usize]) -> Result<(), OptimError> {
        take_saved("sgd", &[], state.buffers)?;
        self.steps = state.steps;
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Optimizer<T>> {
        Box::new(*self)
    }
}

impl Sgd {
    /// One parameter's update, from gradient values or a product.
    fn apply<T: Element>(
        &mut self,
        _k: usize,
        w: &mut [T],
        g: Gradient<'_, T>,
        lr: f64,
    ) -> Result<(), OptimError> {
        let lr = T::cast(lr);
        g.elementwise([w], |[w], g| {
            for (w, &g) in w.iter_mut().zip(g) {
                *w -= lr * g;
            }
        });
        Ok(())
    }
}
