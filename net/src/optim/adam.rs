//! Adam (Kingma & Ba, 2015) with bias correction.

use tapegrad_autograd::Element;

use super::buffers::take_saved;
use super::{Gradient, OptimError, Optimizer, OptimizerState, ParameterBuffers};

/// Adam: first and second moments `m`, `v` per parameter, bias-corrected by the step count.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam<T> {
    /// Decay of the first moment, typically 0.9.
    pub beta1: f64,
    /// Decay of the second moment, typically 0.999.
    pub beta2: f64,
    /// Added to the root of the second moment, typically 1e-8.
    pub eps: f64,
    steps: u64,
    m: ParameterBuffers<T>,
    v: ParameterBuffers<T>,
}

impl<T: Element> Adam<T> {
    /// Adam with these constants and zero moments.
    pub fn new(beta1: f64, beta2: f64, eps: f64) -> Self {
        Adam {
            beta1,
            beta2,
            eps,
            steps: 0,
            m: ParameterBuffers::new("adam", "m"),
            v: ParameterBuffers::new("adam", "v"),
        }
    }
}

impl<T: Element> Default for Adam<T> {
    /// `beta1 = 0.9`, `beta2 = 0.999`, `eps = 1e-8`.
    fn default() -> Self {
        Adam::new(0.9, 0.999, 1e-8)
    }
}

impl<T: Element> Optimizer<T> for Adam<T> {
    fn name(&self) -> &'static str {
        "adam"
    }

    fn check(&self) -> Result<(), String> {
        let decay = |x: f64| (0.0..1.0).contains(&x);
        if decay(self.beta1) && decay(self.beta2) && self.eps.is_finite() && self.eps > 0.0 {
            Ok(())
        } else {
            Err(format!(
                "adam's beta1 {}, beta2 {}, eps {}: the decays must be in [0, 1) and eps a positive number",
                self.beta1, self.beta2, self.eps
            ))
        }
    }

    fn buffer_names(&self) -> &'static [&'static str] {
        &["m", "v"]
    }

    fn begin_step(&mut self) {
        self.steps += 1;
    }

    super::updates_through_apply!();

    fn state(&self) -> OptimizerState<T> {
        OptimizerState {
            steps: self.steps,
            buffers: vec![self.m.as_vecs().to_vec(), self.v.as_vecs().to_vec()],
        }
    }

    fn load_state(&mut self, state: OptimizerState<T>, sizes: &[usize]) -> Result<(), OptimError> {
        let mut saved = take_saved("adam", &["m", "v"], state.buffers)?;
        self.m
            .restore(saved.next().unwrap_or_default(), sizes, state.steps)?;
        self.v
            .restore(saved.next().unwrap_or_default(), sizes, state.steps)?;
        self.steps = state.steps;
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Optimizer<T>> {
        Box::new(self.clone())
    }
}

impl<T: Element> Adam<T> {
    /// One parameter's update, from gradient values or a product.
    fn apply(
        &mut self,
        k: usize,
        w: &mut [T],
        g: Gradient<'_, T>,
        lr: f64,
    ) -> Result<(), OptimError> {
        let (beta1, beta2) = (self.beta1, self.beta2);
        let t = i32::try_from(self.steps).unwrap_or(i32::MAX);
        let step = lr / (1.0 - beta1.powi(t)) * (1.0 - beta2.powi(t)).sqrt();
        let eps_hat = T::cast(self.eps) * T::cast((1.0 - beta2.powi(t)).sqrt());
        let (b1, b2, step, one) = (T::cast(beta1), T::cast(beta2), T::cast(step), T::one());
        let m = self.m.get(k, w.len())?;
        let v = self.v.get(k, w.len())?;
        g.elementwise([w, m, v], |[w, m, v], g| {
            for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m).zip(v) {
                *m = b1 * *m + (one - b1) * g;
                *v = b2 * *v + (one - b2) * g * g;
                *w -= step * *m / (v.sqrt() + eps_hat);
            }
        });
        Ok(())
    }
}
