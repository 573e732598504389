//! Dropout of the hidden units: the tape's gradients with a fixed mask agree with central
//! differences and with the document's closed form given the same mask; `p = 0` is
//! bit-identical to no dropout; masks are keyed by (seed, step), so runs are reproducible; and
//! evaluation never drops.

use std::ops::ControlFlow;

use crate::small_nets::{self, assert_tape_matches_central_differences};
use ndarray::Array2;
use tapegrad_autograd::Tape;
use tapegrad_net::data::spiral_splits;
use tapegrad_net::model::{Dropout, Objective};
use tapegrad_net::optim::Adam;
use tapegrad_net::train::{evaluate, TrainConfig, Training};
use tapegrad_net::{closed_form, Activation, Mlp, TrainStep};

/// A net of `sizes` and a batch of 6 rows for it ([`small_nets::net_and_batch`]).
fn net_and_batch(sizes: &[usize], seed: u64) -> (Mlp<f64>, Array2<f64>, Vec<usize>) {
    small_nets::net_and_batch(sizes, 6, seed)
}

#[test]
fn tape_gradients_with_a_fixed_dropout_mask_match_central_differences() {
    for activation in [Activation::Tanh, Activation::Relu] {
        for (seed, sizes) in [(1, vec![3, 8, 4]), (2, vec![4, 7, 6, 3])] {
            let (net, x, y) = net_and_batch(&sizes, seed);
            let net = net.with_activation(activation);
            let objective = Objective::new(0.01).with_dropout(Dropout::new(0.4, seed).unwrap());
            let what = format!("{activation} {sizes:?}");
            assert_tape_matches_central_differences(&net, &x, &y, objective, &what);
        }
    }
}

#[test]
fn closed_form_with_the_same_mask_agrees_with_the_tape() {
    for (seed, p) in [(3, 0.2), (4, 0.5), (5, 0.8)] {
        let (net, x, y) = net_and_batch(&[5, 9, 4], seed);
        let objective = Objective::new(0.05).with_dropout(Dropout::new(p, seed).unwrap());
        let (loss, grads) = closed_form::gradients(&net, x.view(), &y, objective).unwrap();
        let (tape_loss, tape_grads) = net
            .loss_and_gradients(&mut Tape::new(), x.clone(), &y, objective)
            .unwrap();
        assert!(
            (loss - tape_loss).abs() < 1e-12,
            "p {p}: {loss} vs {tape_loss}"
        );
        let err = grads.relative_error(&tape_grads);
        assert!(err < 1e-12, "p {p}: {err:e}");
        // The mask did something: without it the loss is another.
        let (plain, _) = closed_form::gradients(&net, x.view(), &y, 0.05).unwrap();
        assert_ne!(plain, loss, "p {p}");
    }
}

#[test]
fn dropout_of_probability_zero_is_bit_identical_to_no_dropout() {
    let (net, x, y) = net_and_batch(&[4, 16, 3], 6);
    let mut plain = (net.clone(), TrainStep::new(Adam::default()));
    let mut zero = (net, TrainStep::new(Adam::default()));
    zero.1.set_dropout(Some(Dropout::new(0.0, 6).unwrap()), 0);
    for _ in 0..5 {
        let a = plain
            .1
            .step(&mut plain.0, x.clone(), &y, 1e-3, 0.01)
            .unwrap();
        let b = zero.1.step(&mut zero.0, x.clone(), &y, 1e-3, 0.01).unwrap();
        assert_eq!(a.to_bits(), b.to_bits());
    }
    assert_eq!(plain.0, zero.0);
}

#[test]
fn each_step_draws_new_masks_and_the_same_step_the_same_ones() {
    let (net, x, y) = net_and_batch(&[4, 32, 3], 7);
    let dropout = Dropout::new(0.5, 7).unwrap();
    let loss_at = |step: u64| {
        let objective = Objective::new(0.0).with_dropout(dropout.at_step(step));
        net.loss_and_gradients(&mut Tape::new(), x.clone(), &y, objective)
            .unwrap()
            .0
    };
    assert_eq!(loss_at(3).to_bits(), loss_at(3).to_bits());
    assert_ne!(loss_at(3), loss_at(4));
}

/// A short run on the spiral with `dropout`.
fn run(dropout: f64) -> Training<f32> {
    let splits = spiral_splits(40, 3, 2).unwrap();
    let config = TrainConfig {
        hidden: vec![32],
        epochs: 3,
        batch_size: 16,
        dropout,
        ..TrainConfig::for_data(&"spiral".parse().unwrap())
    };
    config.validate().unwrap();
    let mut run = Training::new(&config, 2, 3).unwrap();
    run.run(&config, &splits.train, &splits.val, |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    run
}

#[test]
fn a_run_with_dropout_is_reproducible_and_differs_from_one_without() {
    let (a, b, plain) = (run(0.5), run(0.5), run(0.0));
    assert_eq!(a.net, b.net);
    assert_eq!(
        a.history.last().map(|e| e.loss),
        b.history.last().map(|e| e.loss)
    );
    assert_ne!(a.net, plain.net);
}

#[test]
fn evaluation_never_drops() {
    let trained = run(0.5);
    let splits = spiral_splits(40, 3, 2).unwrap();
    let (x, y) = (splits.val.features(), splits.val.labels());
    let once = evaluate(&trained.net, x, y, 0.0).unwrap();
    let again = evaluate(&trained.net, x, y, 0.0).unwrap();
    assert_eq!(once, again);
    let scores = trained.net.scores(x).unwrap();
    assert_eq!(scores, trained.net.scores(x).unwrap());
    // The reported validation loss is the net's loss without dropout.
    let reg = TrainConfig::for_data(&"spiral".parse().unwrap()).reg;
    let reported = trained.history.last().unwrap().val_loss;
    assert_eq!(reported, evaluate(&trained.net, x, y, reg).unwrap().loss);
}

#[test]
fn a_dropout_probability_outside_zero_to_one_is_refused_naming_the_setting() {
    for p in [-0.1, 1.0, 1.5, f64::NAN] {
        assert!(Dropout::new(p, 0).is_err(), "{p}");
        let config = TrainConfig {
            dropout: p,
            ..TrainConfig::default()
        };
        let err = config.validate().unwrap_err();
        assert_eq!(err.setting.name(), "dropout", "{err}");
    }
}
