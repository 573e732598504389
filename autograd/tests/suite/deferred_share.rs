//! A weight's regularisation share `2g·W` (from `sum_squares`) is deferred until the next share
//! reaches the weight: a matrix product then stores `2g·W + Xᵀ·G` in one pass, any other share
//! gets `2g·W` written first, and a share nothing follows is written when the walk ends. Each
//! way gives the same bits as writing `2g·W` at once and adding the rest to it.

use ndarray::{Array2, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad_autograd::{gemm, Element, Tape};

fn random<T: Element>(rng: &mut StdRng, rows: usize, cols: usize) -> Array2<T> {
    Array2::from_shape_simple_fn((rows, cols), || T::cast(rng.random_range(-1.0..1.0)))
}

/// The gradient of `Σ (X·W ⊙ R) + λ ΣW²` with respect to W through the tape, and as two passes:
/// `dW = 2λ·W`, then `dW += Xᵀ·R` through the public kernel.
fn both_ways<T: Element>(m: usize, k: usize, n: usize) -> (ArrayD<T>, Array2<T>) {
    let mut rng = StdRng::seed_from_u64((m * 1000 + k * 10 + n) as u64);
    let (x, w, r) = (
        random::<T>(&mut rng, m, k),
        random::<T>(&mut rng, k, n),
        random::<T>(&mut rng, m, n),
    );
    let lambda = T::cast(0.37);
    let tape = Tape::<T>::new();
    let (xv, wv, rv) = (
        tape.constant(x.clone()),
        tape.param(w.clone()),
        tape.constant(r.clone()),
    );
    let data = xv.matmul(wv).unwrap().mul(rv).unwrap().sum();
    let loss = data.add(wv.sum_squares().scale(lambda)).unwrap();
    let tape_grad = loss.backward().unwrap()[wv].clone();

    let two_g = lambda + lambda;
    let mut expected = w.mapv(|w| two_g * w);
    gemm(x.t(), r.view(), expected.view_mut(), true);
    (tape_grad, expected)
}

#[test]
fn weight_gradient_with_sum_of_squares_equals_writing_it_first_then_the_product_bit_for_bit() {
    // Odd sizes cross the register tiles and leave narrow edge tiles (stored element by
    // element); 200 x 3072 x 100 is the benchmark's cifar shape (both cores, several depth
    // blocks).
    for (m, k, n) in [
        (1, 1, 1),
        (7, 5, 3),
        (37, 53, 29),
        (64, 64, 100),
        (200, 3072, 100),
    ] {
        let (got, expected) = both_ways::<f32>(m, k, n);
        assert_eq!(got, expected.into_dyn(), "f32, {m}x{k}x{n}");
        let (got, expected) = both_ways::<f64>(m, k, n);
        assert_eq!(got, expected.into_dyn(), "f64, {m}x{k}x{n}");
    }
}

#[test]
fn a_deferred_share_is_written_before_another_share_adds_to_it() {
    let tape = Tape::<f64>::new();
    let w = tape.param(ndarray::array![[0.5, -1.25], [3.0, 0.1]]);
    // Recorded first, so walked last: the sum's share lands on the deferred 2·W.
    let plain = w.sum();
    let loss = plain.add(w.sum_squares()).unwrap();
    let g = loss.backward().unwrap();
    let expected = w.value().mapv(|w| 2.0 * w + 1.0);
    assert_eq!(g[w], expected);
}

#[test]
fn a_deferred_share_that_nothing_follows_is_written_when_the_walk_ends() {
    let tape = Tape::<f32>::new();
    let w = tape.param(ndarray::array![[0.5f32, -1.25, 7.0]]);
    let g = w.sum_squares().scale(3.0).backward().unwrap();
    assert_eq!(g[w], w.value().mapv(|w| 6.0 * w));
}

#[test]
fn more_sums_of_squares_than_can_wait_are_each_written_in_full() {
    let tape = Tape::<f64>::new();
    let params: Vec<_> = (0..7)
        .map(|k| tape.param(ndarray::Array1::from_elem(3, k as f64 - 2.5)))
        .collect();
    let mut loss = params[0].sum_squares();
    for p in &params[1..] {
        loss = loss.add(p.sum_squares()).unwrap();
    }
    let g = loss.backward().unwrap();
    for p in &params {
        assert_eq!(g[*p], p.value().mapv(|w| 2.0 * w));
    }
}

#[test]
fn an_intermediate_value_with_a_deferred_share_gets_it_before_its_own_rule_runs() {
    // z = 3w is not a parameter, and its only share is the deferred 2z: it must be written when
    // the walk reaches z, which passes 3·2z on to w (whose other share is the sum's 1).
    let tape = Tape::<f64>::new();
    let w = tape.param(ndarray::array![1.0, -2.0]);
    let z = w.scale(3.0);
    let loss = z.sum_squares().add(w.sum()).unwrap();
    let g = loss.backward().unwrap();
    assert_eq!(g[w], ndarray::array![1.0 + 18.0, 1.0 - 36.0].into_dyn());
}
