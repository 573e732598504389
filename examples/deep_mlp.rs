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
//! The nets are the library's [`Mlp`] with a chosen [`Activation`]: one `TrainStep` (Adam)
//! trains any depth, and `Mlp::accuracy` scores it without a tape.

use std::error::Error;
use std::sync::Arc;
use std::time::Instant;

use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::net::data::{spiral_splits, Dataset};
use tapegrad::net::optim::Adam;
use tapegrad::net::{Activation, Linear, Mlp, NetError, TrainStep};

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

/// The activations compared, in the table's order.
const ACTIVATIONS: [Activation; 3] = [Activation::Tanh, Activation::Sigmoid, Activation::Relu];

/// Standard deviation of the initial weights for `fan_in` inputs: `1/√n` (LeCun) for the
/// saturating units, He's `√(2/n)` for the rectifiers.
fn init_std(activation: Activation, fan_in: usize) -> f64 {
    let n = fan_in as f64;
    match activation {
        Activation::Tanh | Activation::Sigmoid => (1.0 / n).sqrt(),
        Activation::Relu | Activation::LeakyRelu => (2.0 / n).sqrt(),
    }
}

/// The library's [`Mlp`] with layer sizes `sizes` (inputs, hidden..., classes) and
/// `activation` between layers; each layer's weights normal with [`init_std`] of its fan-in,
/// biases zero.
fn mlp(sizes: &[usize], activation: Activation, rng: &mut StdRng) -> Result<Mlp<f64>, NetError> {
    let layers = sizes
        .windows(2)
        .map(|io| {
            let std = init_std(activation, io[0]);
            let w = Array2::from_shape_simple_fn((io[0], io[1]), || std * normal(rng));
            Linear::from_parameters(w, Array1::zeros(io[1]))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Mlp::from_layers(layers)?.with_activation(activation))
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
fn train(
    activation: Activation,
    depth: usize,
    train: &Dataset,
    test: &Dataset,
) -> Result<Run, Box<dyn Error>> {
    let start = Instant::now();
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut sizes = vec![train.dim()];
    sizes.extend(std::iter::repeat_n(WIDTH, depth - 1));
    sizes.push(train.classes());
    let mut net = mlp(&sizes, activation, &mut rng)?;
    let mut adam = TrainStep::new(Adam::default());

    let x: Arc<Array2<f64>> = Arc::new(train.features_as());
    let (mut first_loss, mut last_loss) = (f64::NAN, f64::NAN);
    let mut steps_to_target = None;
    for step in 0..STEPS {
        last_loss = adam.step(&mut net, Arc::clone(&x), train.labels(), 0.0, LR)?;
        if step == 0 {
            first_loss = last_loss;
        }
        if last_loss < TARGET_LOSS && steps_to_target.is_none() {
            steps_to_target = Some(step); // the loss after `step` updates
        }
    }
    Ok(Run {
        activation,
        depth,
        first_loss,
        last_loss,
        steps_to_target,
        train_accuracy: accuracy(&net, train)?,
        test_accuracy: accuracy(&net, test)?,
        millis: start.elapsed().as_millis(),
    })
}

/// The fraction of `data` that `net` classifies correctly.
fn accuracy(net: &Mlp<f64>, data: &Dataset) -> Result<f64, NetError> {
    net.accuracy(data.features_as::<f64>().view(), data.labels())
}

/// Every activation at every depth in `depths`.
fn table(depths: &[usize]) -> Result<Vec<Run>, Box<dyn Error>> {
    let splits = spiral_splits(POINTS, CLASSES, SEED)?;
    let test = splits
        .test
        .as_ref()
        .ok_or("the spiral split has a test set")?;
    let mut runs = Vec::new();
    for activation in ACTIVATIONS {
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
    fn the_mlp_has_the_layers_and_activation_asked_for() {
        let mut rng = StdRng::seed_from_u64(0);
        let net = mlp(&[2, 8, 8, 3], Activation::Sigmoid, &mut rng).unwrap();
        assert_eq!(net.layers().len(), 3);
        assert_eq!(net.activation(), Activation::Sigmoid);
        let shapes: Vec<_> = net.parameters().map(|(_, p)| p.shape().to_vec()).collect();
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
