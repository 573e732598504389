//! `TrainStep::step` updates each weight from its gradient left as a product (computed piece by
//! piece inside the optimizer's update, never written out): the nets it trains are the same bit
//! for bit as those trained from written-out gradients (`loss_and_gradients`, then `update`),
//! for every optimizer, with and without an L2 term, in f32 and f64, for batches the kernel
//! finishes in one pass and for deeper ones (written out), and for an optimizer of the user's
//! own that does not take products.

use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad_autograd::{Element, ProductGradient, Tape};
use tapegrad_net::optim::{Adam, Momentum, OptimError, Optimizer, OptimizerState, Sgd};
use tapegrad_net::{Init, Mlp, TrainStep};

/// Trains `net` for three steps on `x`, `y` with `optimizer`, through `TrainStep::step` and
/// through written-out gradients; returns both nets.
fn both_ways<T: Element>(
    net: &Mlp<T>,
    x: &Array2<T>,
    y: &[usize],
    reg: f64,
    optimizer: impl Optimizer<T> + Clone + 'static,
) -> (Mlp<T>, Mlp<T>) {
    let (mut fused, mut written) = (net.clone(), net.clone());
    let mut step = TrainStep::new(optimizer.clone());
    let (mut opt, mut tape) = (optimizer, Tape::new());
    for _ in 0..3 {
        step.step(&mut fused, x.clone(), y, T::cast(reg), 0.05)
            .unwrap();
        let (_, g) = written
            .loss_and_gradients(&mut tape, x.clone(), y, T::cast(reg))
            .unwrap();
        tape.clear();
        written.update(&mut opt, &g, 0.05).unwrap();
    }
    (fused, written)
}

fn problem<T: Element>(sizes: &[usize], n: usize, seed: u64) -> (Mlp<T>, Array2<T>, Vec<usize>) {
    let net = Mlp::new(sizes, Init { std: 0.3, seed }).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let x = Array2::from_shape_simple_fn((n, sizes[0]), || T::cast(rng.random_range(-2.0..2.0)));
    let c = sizes[sizes.len() - 1];
    (net, x, (0..n).map(|_| rng.random_range(0..c)).collect())
}

fn check<T: Element>(what: &str) {
    // 40 rows: one kernel pass; 500: deeper than one pass (400 at most), written out as before.
    for (sizes, n, seed) in [(vec![13, 37, 5], 40, 1), (vec![9, 20, 11, 3], 500, 2)] {
        for reg in [0.0, 1e-3] {
            let (net, x, y) = problem::<T>(&sizes, n, seed);
            let case = format!("{what} {sizes:?} n={n} λ={reg}");
            let (a, b) = both_ways(&net, &x, &y, reg, Sgd::default());
            assert_eq!(a, b, "sgd {case}");
            assert_ne!(a, net, "sgd {case}: the net was trained");
            let (a, b) = both_ways(&net, &x, &y, reg, Momentum::new(0.9));
            assert_eq!(a, b, "momentum {case}");
            let (a, b) = both_ways(&net, &x, &y, reg, Adam::<T>::default());
            assert_eq!(a, b, "adam {case}");
            let (a, b) = both_ways(&net, &x, &y, reg, ValuesOnly(Momentum::new(0.5)));
            assert_eq!(a, b, "an optimizer without products {case}");
            // Products reach the update where the kernel finishes them in one pass.
            let mut step = TrainStep::new(Sgd::default());
            step.step(&mut net.clone(), x.clone(), &y, T::cast(reg), 0.05)
                .unwrap();
            let mut counting = TrainStep::new(Counting(Sgd::default(), 0));
            counting
                .step(&mut net.clone(), x.clone(), &y, T::cast(reg), 0.05)
                .unwrap();
            let products = counting.optimizer().state().steps;
            let weights = sizes.len() as u64 - 1;
            assert_eq!(
                products,
                if n <= 128 { weights } else { 0 },
                "products {case}"
            );
        }
    }
}

#[test]
fn fused_updates_train_the_same_nets_bit_for_bit_in_f32() {
    check::<f32>("f32");
}

#[test]
fn fused_updates_train_the_same_nets_bit_for_bit_in_f64() {
    check::<f64>("f64");
}

/// An optimizer of the user's own: momentum, through `update` alone (no `update_product`), so
/// its products are evaluated for it.
#[derive(Debug, Clone)]
struct ValuesOnly<T: Element>(Momentum<T>);

impl<T: Element> Optimizer<T> for ValuesOnly<T> {
    fn name(&self) -> &'static str {
        "values-only"
    }
    fn check(&self) -> Result<(), String> {
        Optimizer::<T>::check(&self.0)
    }
    fn buffer_names(&self) -> &'static [&'static str] {
        Optimizer::<T>::buffer_names(&self.0)
    }
    fn begin_step(&mut self) {
        Optimizer::<T>::begin_step(&mut self.0)
    }
    fn update(&mut self, k: usize, w: &mut [T], g: &[T], lr: f64) -> Result<(), OptimError> {
        self.0.update(k, w, g, lr)
    }
    fn state(&self) -> OptimizerState<T> {
        self.0.state()
    }
    fn load_state(&mut self, state: OptimizerState<T>, sizes: &[usize]) -> Result<(), OptimError> {
        self.0.load_state(state, sizes)
    }
    fn clone_box(&self) -> Box<dyn Optimizer<T>> {
        Box::new(self.clone())
    }
}

/// SGD that counts the products it is given (its `state().steps`).
#[derive(Debug, Clone)]
struct Counting(Sgd, u64);

impl<T: Element> Optimizer<T> for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
    fn buffer_names(&self) -> &'static [&'static str] {
        &[]
    }
    fn begin_step(&mut self) {}
    fn update(&mut self, k: usize, w: &mut [T], g: &[T], lr: f64) -> Result<(), OptimError> {
        self.0.update(k, w, g, lr)
    }
    fn takes_products(&self) -> bool {
        true
    }
    fn update_product(
        &mut self,
        k: usize,
        w: &mut [T],
        g: &ProductGradient<T>,
        lr: f64,
    ) -> Result<(), OptimError> {
        self.1 += 1;
        self.0.update_product(k, w, g, lr)
    }
    fn state(&self) -> OptimizerState<T> {
        OptimizerState {
            steps: self.1,
            buffers: Vec::new(),
        }
    }
    fn load_state(&mut self, _: OptimizerState<T>, _: &[usize]) -> Result<(), OptimError> {
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn Optimizer<T>> {
        Box::new(self.clone())
    }
}
