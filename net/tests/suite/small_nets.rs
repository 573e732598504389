//! What the regulariser and activation tests share: a small net with a batch for it, and the
//! check that the tape's gradients of its loss agree with central differences.

use ndarray::{Array2, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad_autograd::{numeric_gradients, relative_error, Tape};
use tapegrad_net::model::Objective;
use tapegrad_net::{Mlp, NetError};

/// A ReLU net of `sizes` with weights of std 0.5 (so that tanh and sigmoid, when set, work
/// away from their linear middle) and a batch of `n` rows of inputs in `[-2, 2)` with random
/// labels, all drawn from `seed`.
pub fn net_and_batch(sizes: &[usize], n: usize, seed: u64) -> (Mlp<f64>, Array2<f64>, Vec<usize>) {
    let net = Mlp::new(sizes, tapegrad_net::Init { std: 0.5, seed }).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, sizes[0]), |_| rng.random_range(-2.0..2.0));
    let c = sizes[sizes.len() - 1];
    let y = (0..n).map(|_| rng.random_range(0..c)).collect();
    (net, x, y)
}

/// Asserts that the tape's gradient of every parameter of `net`'s loss on `x`, `y` under
/// `objective` is within 1e-6 relative error of central differences; `what` names the case
/// in the failure message.
pub fn assert_tape_matches_central_differences(
    net: &Mlp<f64>,
    x: &Array2<f64>,
    y: &[usize],
    objective: Objective<f64>,
    what: &str,
) {
    let (_, tape) = net
        .loss_and_gradients(&mut Tape::new(), x.clone(), y, objective)
        .unwrap();
    let params: Vec<ArrayD<f64>> = net.parameters().map(|(_, p)| p.to_owned()).collect();
    let activation = net.activation();
    let numeric = numeric_gradients(&params, |p| {
        let net = Mlp::from_parameters(p.to_vec())?.with_activation(activation);
        let (loss, _) = net.loss_and_gradients(&mut Tape::new(), x.clone(), y, objective)?;
        Ok::<_, NetError>(loss)
    })
    .unwrap();
    assert_eq!(
        tape.as_slice().len(),
        numeric.len(),
        "{what}: one gradient per parameter"
    );
    for (k, (t, n)) in tape.as_slice().iter().zip(&numeric).enumerate() {
        let err = relative_error(t, n);
        assert!(err < 1e-6, "{what} parameter {k}: {err:e}");
    }
}
