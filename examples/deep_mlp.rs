//! A deep multilayer perceptron with a choice of hidden activation, on the spiral.
//!
//! ```sh
//! cargo run --release --example deep_mlp
//! ```
//!
//! `h_0 = X`, `h_{k+1} = act(h_k W_k + b_k)`, `scores = h_L W_L + b_L`, trained by full-batch
//! Adam on `cross_entropy(scores, y)` over the CS231n three-arm spiral (which no linear
//! classifier separates). The same code runs for each activation (`tanh`, `sigmoid`, `relu`)
//! and for 3, 4 and 5 linear layers, and prints a table. The claims: every configuration's loss
//! falls (below half its start, with train accuracy above 90%), `tanh` reaches
//! [`ACCURACY_BAR`] on the held-out test points at every depth, and `sigmoid` (whose slope is at
//! most 1/4) needs more steps than `tanh` to bring the loss below [`TARGET_LOSS`].
//!
//! The parameters of any depth live in one `Vec<Arc<ArrayD<f64>>>` (weights and biases
//! alternating), so one loop records them and one optimizer updates them.

use std::error::Error;
use std::sync::Arc;
use std::time::Instant;

use ndarray::{Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::autograd::{Result, Tape, Var};
use tapegrad::net::data::{spiral_splits, Dataset};
use tapegrad::net::{Optimizer, OptimizerKind};

/// Seed of the data, its split and the initial weights.
const SEED: u64 = 1;
/// Spiral size: points per arm, arms.
const POINTS: usize = 100;
const CLASSES: usize = 3;
/// Hidden units per hidden layer.
const WIDTH: usize = 20;
/// Full-batch Adam steps and step size.
const STEPS: usize = 600;
const LR: f64 = 0.02;
/// Test accuracy every `tanh` net must reach.
const ACCURACY_BAR: f64 = 0.9;
/// The training loss whose first crossing the table reports (how fast each net learns).
const TARGET_LOSS: f64 = 0.1;
/// The depths (number of linear layers) in the table.
const DEPTHS: [usize; 3] = [3, 4, 5];

/// The hidden units' nonlinearity: the choice this example is about.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Activation {
    Tanh,
    Sigmoid,
    Relu,
}

impl Activation {
    const ALL: [Activation; 3] = [Activation::Tanh, Activation::Sigmoid, Activation::Relu];

    fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Relu => "relu",
        }
    }

    /// Records the activation on `v`'s tape.
    fn apply(self, v: Var<'_, f64>) -> Var<'_, f64> {
        match self {
            Activation::Tanh => v.tanh(),
            Activation::Sigmoid => v.sigmoid(),
            Activation::Relu => v.relu(),
        }
    }

    /// Standard deviation of the initial weights for `fan_in` inputs: `1/√n` (LeCun) for the
    /// saturating units, He's `√(2/n)` for relu.
    fn init_std(self, fan_in: usize) -> f64 {
        let n = fan_in as f64;
        match self {
            Activation::Tanh | Activation::Sigmoid => (1.0 / n).sqrt(),
            Activation::Relu => (2.0 / n).sqrt(),
        }
    }
}

/// An MLP: `params` holds `W_0, b_0, W_1, b_1, ...`.
struct Mlp {
    activation: Activation,
    params: Vec<Arc<ArrayD<f64>>>,
}

impl Mlp {
    /// An MLP with layer sizes `sizes` (inputs, hidden..., classes); normal weights, zero biases.
    fn new(sizes: &[usize], activation: Activation, rng: &mut StdRng) -> Self {
        let mut params = Vec::new();
        for pair in sizes.windows(2) {
            let std = activation.init_std(pair[0]);
            let w = ArrayD::from_shape_simple_fn(IxDyn(pair), || std * normal(rng));
            params.push(Arc::new(w));
            params.push(Arc::new(ArrayD::zeros(IxDyn(&[pair[1]]))));
        }
        Mlp { activation, params }
    }

    /// Number of linear layers.
    fn depth(&self) -> usize {
        self.params.len() / 2
    }

    /// Records the parameters on `tape` (shared, not copied) and the scores of `x` through
    /// them; returns the scores and the parameter variables, in `params` order.
    fn record<'t>(
        &self,
        tape: &'t Tape<f64>,
        x: Var<'t, f64>,
    ) -> Result<(Var<'t, f64>, Vec<Var<'t, f64>>)> {
        let vars: Vec<_> = self.params.iter().map(|p| tape.param(p)).collect();
        let mut h = x;
        for (k, layer) in vars.chunks(2).enumerate() {
            h = h.matmul(layer[0])?.add(layer[1])?;
            if k + 1 < self.depth() {
                h = self.activation.apply(h);
            }
        }
        Ok((h, vars))
    }

    /// The fraction of `data` classified correctly.
    fn accuracy(&self, data: &Dataset) -> Result<f64> {
        let tape = Tape::new();
        let (scores, _) = self.record(&tape, tape.constant(data.features_as::<f64>()))?;
        let predicted = scores.argmax()?; // per row, the first highest score
        let correct = predicted
            .iter()
            .zip(data.labels())
            .filter(|(p, y)| p == y)
            .count();
        Ok(correct as f64 / data.len() as f64)
    }
}

/// One row of the table.
struct Run {
    activation: Activation,
    depth: usize,
    first_loss: f64,
    last_loss: f64,
    /// Adam updates taken before the loss first fell below [`TARGET_LOSS`], if it did.
    steps_to_target: Option<usize>,
    train_accuracy: f64,
    test_accuracy: f64,
    millis: u128,
}

/// Trains one configuration on `train`, then scores it on `train` and `test`.
fn train(activation: Activation, depth: usize, train: &Dataset, test: &Dataset) -> Result<Run> {
    let start = Instant::now();
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut sizes = vec![train.dim()];
    sizes.extend(std::iter::repeat_n(WIDTH, depth - 1));
    sizes.push(train.classes());
    let mut mlp = Mlp::new(&sizes, activation, &mut rng);
    let mut adam = Optimizer::new(OptimizerKind::ADAM);

    let x: Arc<Array2<f64>> = Arc::new(train.features_as());
    let mut tape = Tape::new();
    let mut grads = Vec::with_capacity(mlp.params.len());
    let (mut first_loss, mut last_loss) = (f64::NAN, f64::NAN);
    let mut steps_to_target = None;
    for step in 0..STEPS {
        {
            let (scores, vars) = mlp.record(&tape, tape.constant(&x))?;
            let loss = scores.cross_entropy(train.labels())?;
            let mut g = loss.backward()?;
            for &v in &vars {
                grads.push(g.take_as::<IxDyn>(v)?); // an error, not a panic, if one is unused
            }
            tape.recycle(g);
            last_loss = loss.item()?;
            if step == 0 {
                first_loss = last_loss;
            }
            if last_loss < TARGET_LOSS && steps_to_target.is_none() {
                steps_to_target = Some(step); // the loss after `step` updates
            }
        }
        tape.clear();
        adam.step_params(&mut mlp.params, &grads, LR);
        grads.drain(..).for_each(|g| tape.give_buffer(g));
    }
    Ok(Run {
        activation,
        depth,
        first_loss,
        last_loss,
        steps_to_target,
        train_accuracy: mlp.accuracy(train)?,
        test_accuracy: mlp.accuracy(test)?,
        millis: start.elapsed().as_millis(),
    })
}

/// Every activation at every depth in `depths`.
fn table(depths: &[usize]) -> Result<Vec<Run>, Box<dyn Error>> {
    let splits = spiral_splits(POINTS, CLASSES, SEED)?;
    let test = splits
        .test
        .as_ref()
        .ok_or("the spiral split has a test set")?;
    let mut runs = Vec::new();
    for activation in Activation::ALL {
        for &depth in depths {
            runs.push(train(activation, depth, &splits.train, test)?);
        }
    }
    Ok(runs)
}

/// A standard normal sample (Box–Muller; `rand` alone has no normal distribution).
fn normal(rng: &mut StdRng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn main() -> Result<(), Box<dyn Error>> {
    println!(
        "spiral ({CLASSES} arms x {POINTS} points, seed {SEED}); hidden width {WIDTH}; full-batch Adam, {STEPS} steps, lr {LR}"
    );
    println!("activation  layers  loss first -> last  steps to {TARGET_LOSS}  train acc  test acc   time");
    let runs = table(&DEPTHS)?;
    for r in &runs {
        let steps = r.steps_to_target.map_or("never".into(), |s| s.to_string());
        println!(
            "{:<10}  {:>6}  {:>9.4} -> {:<6.4}  {:>11}  {:>8.1}%  {:>7.1}%  {:>4} ms",
            r.activation.name(),
            r.depth,
            r.first_loss,
            r.last_loss,
            steps,
            100.0 * r.train_accuracy,
            100.0 * r.test_accuracy,
            r.millis
        );
    }
    let tanh_worst = runs
        .iter()
        .filter(|r| r.activation == Activation::Tanh)
        .map(|r| r.test_accuracy)
        .fold(1.0, f64::min);
    println!(
        "worst tanh test accuracy {:.1}% (bar {:.0}%)",
        100.0 * tanh_worst,
        100.0 * ACCURACY_BAR
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    /// The table, computed once for all tests.
    fn runs() -> &'static [Run] {
        static RUNS: OnceLock<Vec<Run>> = OnceLock::new();
        RUNS.get_or_init(|| table(&DEPTHS).unwrap())
    }

    #[test]
    fn every_configuration_learns_and_tanh_passes_the_bar() {
        for r in runs() {
            let what = format!("{} x{}", r.activation.name(), r.depth);
            assert!(
                r.last_loss < 0.5 * r.first_loss,
                "{what}: {} -> {}",
                r.first_loss,
                r.last_loss
            );
            assert!(r.train_accuracy > 0.9, "{what}: train {}", r.train_accuracy);
            if r.activation == Activation::Tanh {
                assert!(
                    r.test_accuracy >= ACCURACY_BAR,
                    "{what}: test {}",
                    r.test_accuracy
                );
            }
        }
    }

    #[test]
    fn sigmoid_learns_slower_than_tanh() {
        let steps = |a: Activation, depth: usize| {
            let r = runs()
                .iter()
                .find(|r| r.activation == a && r.depth == depth)
                .unwrap();
            r.steps_to_target.unwrap_or(usize::MAX)
        };
        for depth in DEPTHS {
            assert!(
                steps(Activation::Sigmoid, depth) > steps(Activation::Tanh, depth),
                "depth {depth}"
            );
        }
    }

    #[test]
    fn the_mlp_has_the_layers_asked_for() {
        let mut rng = StdRng::seed_from_u64(0);
        let mlp = Mlp::new(&[2, 8, 8, 3], Activation::Sigmoid, &mut rng);
        assert_eq!(mlp.depth(), 3);
        let shapes: Vec<_> = mlp.params.iter().map(|p| p.shape().to_vec()).collect();
        assert_eq!(
            shapes,
            [
                vec![2, 8],
                vec![8],
                vec![8, 8],
                vec![8],
                vec![8, 3],
                vec![3]
            ]
        );
    }
}
