//! SGD with momentum: `v = μ v - lr · g; w += v` (the course's momentum update).

use tapegrad_autograd::Element;

use super::buffers::take_saved;
use super::{Gradient, OptimError, Optimizer, OptimizerState, ParameterBuffers};

/// SGD with momentum `mu` (typically 0.9); its state is one velocity `m` per parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Momentum<T> {
    /// The momentum `μ`, in `[0, 1)`.
    pub mu: f64,
    steps: u64,
    velocity: ParameterBuffers<T>,
}

impl<T: Element> Momentum<T> {
    /// Momentum `mu` with zero velocity.
    pub fn new(mu: f64) -> Self {
        Momentum {
            mu,
            steps: 0,
            velocity: ParameterBuffers::new("momentum", "m"),
        }
    }
}

impl<T: Element> Optimizer<T> for Momentum<T> {
    fn name(&self) -> &'static str {
        "momentum"
    }

    fn check(&self) -> Result<(), String> {
        if (0.0..1.0).contains(&self.mu) {
            Ok(())
        } else {
            Err(format!(
                "momentum's mu is {}; it must be in [0, 1)",
                self.mu
            ))
        }
    }

    fn buffer_names(&self) -> &'static [&'static str] {
        &["m"]
    }

    fn begin_step(&mut self) {
        self.steps += 1;
    }

    super::updates_through_apply!();

    fn state(&self) -> OptimizerState<T> {
        OptimizerState {
            steps: self.steps,
            buffers: vec![self.velocity.as_vecs().to_vec()],
        }
    }

    fn load_state(&mut self, state: OptimizerState<T>, sizes: &[usize]) -> Result<(), OptimError> {
        let mut saved = take_saved("momentum", &["m"], state.buffers)?;
        self.velocity
            .restore(saved.next().unwrap_or_default(), sizes, state.steps)?;
        self.steps = state.steps;
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Optimizer<T>> {
        Box::new(self.clone())
    }
}

impl<T: Element> Momentum<T> {
    /// One parameter's update, from gradient values or a product.
    fn apply(
        &mut self,
        k: usize,
        w: &mut [T],
        g: Gradient<'_, T>,
        lr: f64,
    ) -> Result<(), OptimError> {
        let (mu, lr) = (T::cast(self.mu), T::cast(lr));
        let v = self.velocity.get(k, w.len())?;
        g.elementwise([w, v], |[w, v], g| {
            for ((w, &g), v) in w.iter_mut().zip(g).zip(v) {
                *v = mu * *v - lr * g;
                *w += *v;
            }
        });
        Ok(())
    }
}
