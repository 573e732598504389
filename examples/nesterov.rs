//! A new optimizer from outside the library: SGD with Nesterov momentum, one file.
//!
//! ```sh
//! cargo run --release --example nesterov
//! ```
//!
//! An optimizer is a type implementing [`Optimizer`]: its update rule for one parameter (a
//! flat slice, with its gradient and the learning rate), the state it keeps per parameter (in a
//! [`ParameterBuffers`], which refuses state of the wrong length), and that state's save and
//! restore. [`TrainStep`] then trains any model with it, allocating nothing per step once warm.
//!
//! Nesterov's look-ahead momentum in the form CS231n gives:
//! `v_prev = v; v = μ v - lr · g; w += -μ v_prev + (1 + μ) v`.
//! This program trains the library's two-layer [`Mlp`] on the spiral with it and with the
//! library's [`Momentum`] (same `μ`, rate and steps) and prints both losses.

use std::error::Error;
use std::sync::Arc;

use ndarray::Array2;
use tapegrad::autograd::Element;
use tapegrad::net::data::spiral_splits;
use tapegrad::net::optim::{Momentum, OptimError, Optimizer, OptimizerState, ParameterBuffers};
use tapegrad::net::{Init, Mlp, TrainStep};

/// SGD with Nesterov momentum `mu`; its state is one velocity `v` per parameter.
#[derive(Debug, Clone)]
pub struct Nesterov<T> {
    /// The momentum `μ`, in `[0, 1)`.
    pub mu: f64,
    steps: u64,
    velocity: ParameterBuffers<T>,
}

impl<T: Element> Nesterov<T> {
    /// Nesterov momentum `mu` with zero velocity.
    pub fn new(mu: f64) -> Self {
        Nesterov {
            mu,
            steps: 0,
            velocity: ParameterBuffers::new("nesterov", "v"),
        }
    }
}

impl<T: Element> Optimizer<T> for Nesterov<T> {
    fn name(&self) -> &'static str {
        "nesterov"
    }

    fn check(&self) -> Result<(), String> {
        if (0.0..1.0).contains(&self.mu) {
            Ok(())
        } else {
            Err(format!(
                "nesterov's mu is {}; it must be in [0, 1)",
                self.mu
            ))
        }
    }

    fn buffer_names(&self) -> &'static [&'static str] {
        &["v"]
    }

    fn begin_step(&mut self) {
        self.steps += 1;
    }

    fn update(&mut self, k: usize, w: &mut [T], g: &[T], lr: f64) -> Result<(), OptimError> {
        let (mu, lr) = (T::cast(self.mu), T::cast(lr));
        let one = T::cast(1.0);
        let v = self.velocity.get(k, w.len())?; // zeros on the first step, checked length
        for ((w, &g), v) in w.iter_mut().zip(g).zip(v) {
            let v_prev = *v;
            *v = mu * *v - lr * g;
            *w += (one + mu) * *v - mu * v_prev;
        }
        Ok(())
    }

    fn state(&self) -> OptimizerState<T> {
        OptimizerState {
            steps: self.steps,
            buffers: vec![self.velocity.as_vecs().to_vec()],
        }
    }

    fn load_state(&mut self, state: OptimizerState<T>, sizes: &[usize]) -> Result<(), OptimError> {
        let found = state.buffers.len();
        let [velocity]: [Vec<Vec<T>>; 1] =
            state
                .buffers
                .try_into()
                .map_err(|_| OptimError::StateCount {
                    optimizer: "nesterov",
                    buffer: "buffers",
                    expected: 1,
                    found,
                })?;
        self.velocity.restore(velocity, sizes, state.steps)?;
        self.steps = state.steps;
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Optimizer<T>> {
        Box::new(self.clone())
    }
}

/// Momentum of both optimizers.
const MU: f64 = 0.9;
/// Learning rate and full-batch steps.
const LR: f64 = 0.05;
const STEPS: usize = 300;

/// Trains a fresh `[2, 64, 3]` net on the spiral with `optimizer`; returns the first and last
/// losses and the training accuracy.
fn train(optimizer: impl Optimizer<f64> + 'static) -> Result<(f64, f64, f64), Box<dyn Error>> {
    let splits = spiral_splits(100, 3, 1)?;
    let x: Arc<Array2<f64>> = Arc::new(splits.train.features_as());
    let y = splits.train.labels();
    let mut net = Mlp::new(&[2, 64, 3], Init { std: 0.5, seed: 1 })?;
    let mut step = TrainStep::new(optimizer);
    let first = step.step(&mut net, &x, y, 0.0, LR)?;
    let mut last = first;
    for _ in 1..STEPS {
        last = step.step(&mut net, &x, y, 0.0, LR)?;
    }
    Ok((first, last, net.accuracy(x.view(), y)?))
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("spiral, [2, 64, 3] relu net, full batch, mu {MU}, lr {LR}, {STEPS} steps");
    for (name, run) in [
        ("nesterov", train(Nesterov::new(MU))?),
        ("momentum", train(Momentum::new(MU))?),
    ] {
        let (first, last, accuracy) = run;
        println!(
            "{name:<9} loss {first:.4} -> {last:.4}, train accuracy {:.1}%",
            100.0 * accuracy
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use tapegrad::net::optim::{update_parameter, Sgd};

    #[test]
    fn nesterov_trains_the_spiral_net() {
        let (first, last, accuracy) = train(Nesterov::new(MU)).unwrap();
        assert!(last < 0.5 * first, "{first} -> {last}");
        assert!(accuracy > 0.9, "train accuracy {accuracy}");
    }

    #[test]
    fn nesterov_follows_its_formula_over_two_steps() {
        let (mu, lr, g) = (0.5, 0.1, 2.0);
        let mut w = Arc::new(array![1.0]);
        let mut opt = Nesterov::new(mu);
        let mut expected = 1.0;
        let mut v: f64 = 0.0;
        for _ in 0..2 {
            Optimizer::<f64>::begin_step(&mut opt);
            update_parameter(&mut opt, 0, &mut w, &array![g], lr).unwrap();
            let v_prev = v;
            v = mu * v - lr * g;
            expected += -mu * v_prev + (1.0 + mu) * v;
            assert!((w[0] - expected).abs() < 1e-15, "{} vs {expected}", w[0]);
        }
    }

    #[test]
    fn nesterov_without_momentum_is_sgd() {
        let mut a = Arc::new(array![1.0, -2.0, 0.5]);
        let mut b = Arc::clone(&a);
        let (mut nesterov, mut sgd) = (Nesterov::new(0.0), Sgd::default());
        for grad in [array![0.3, -0.1, 2.0], array![-1.0, 0.25, 0.0]] {
            Optimizer::<f64>::begin_step(&mut nesterov);
            Optimizer::<f64>::begin_step(&mut sgd);
            update_parameter(&mut nesterov, 0, &mut a, &grad, 0.1).unwrap();
            update_parameter(&mut sgd, 0, &mut b, &grad, 0.1).unwrap();
        }
        assert_eq!(a, b);
    }

    #[test]
    fn nesterov_state_round_trips_and_state_of_the_wrong_length_is_refused() {
        let mut w = Arc::new(array![1.0, 2.0]);
        let mut opt = Nesterov::new(MU);
        Optimizer::<f64>::begin_step(&mut opt);
        update_parameter(&mut opt, 0, &mut w, &array![0.5, -0.5], 0.1).unwrap();
        let saved = opt.state();
        let mut restored = Nesterov::<f64>::new(MU);
        restored.load_state(saved.clone(), &[2]).unwrap();
        assert_eq!(restored.state(), saved);
        let err = Nesterov::<f64>::new(MU)
            .load_state(saved, &[3])
            .unwrap_err();
        assert!(matches!(err, OptimError::StateLength { .. }), "{err}");
    }
}
