//! Label smoothing in the net's loss: the tape's gradients agree with central differences and
//! with the document's closed form (also together with dropout); `ε = 0` is bit-identical to
//! the document's loss; the reported validation loss is never smoothed.

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
fn tape_gradients_with_label_smoothing_match_central_differences() {
    for activation in [Activation::Sigmoid, Activation::Relu] {
        for (seed, sizes) in [(1, vec![3, 8, 4]), (2, vec![4, 6, 5, 3])] {
            let (net, x, y) = net_and_batch(&sizes, seed);
            let net = net.with_activation(activation);
            let objective = Objective::new(0.02).with_label_smoothing(0.1);
            let what = format!("{activation} {sizes:?}");
            assert_tape_matches_central_differences(&net, &x, &y, objective, &what);
        }
    }
}

#[test]
fn closed_form_with_label_smoothing_and_dropout_agrees_with_the_tape() {
    for (seed, eps, p) in [(3, 0.1, 0.0), (4, 0.3, 0.0), (5, 0.1, 0.5), (6, 1.0, 0.2)] {
        let (net, x, y) = net_and_batch(&[5, 9, 4], seed);
        let mut objective = Objective::new(0.05).with_label_smoothing(eps);
        if p > 0.0 {
            objective = objective.with_dropout(Dropout::new(p, seed).unwrap());
        }
        let (loss, grads) = closed_form::gradients(&net, x.view(), &y, objective).unwrap();
        let (tape_loss, tape_grads) = net
            .loss_and_gradients(&mut Tape::new(), x.clone(), &y, objective)
            .unwrap();
        let what = format!("ε {eps}, p {p}");
        assert!(
            (loss - tape_loss).abs() < 1e-12,
            "{what}: {loss} vs {tape_loss}"
        );
        let err = grads.relative_error(&tape_grads);
        assert!(err < 1e-12, "{what}: {err:e}");
        let (plain, _) = closed_form::gradients(&net, x.view(), &y, 0.05).unwrap();
        assert_ne!(plain, loss, "{what}: smoothing changed nothing");
    }
}

#[test]
fn zero_label_smoothing_is_bit_identical_to_the_documents_loss() {
    let (net, x, y) = net_and_batch(&[4, 16, 3], 7);
    let mut plain = (net.clone(), TrainStep::new(Adam::default()));
    let mut zero = (net, TrainStep::new(Adam::default()));
    zero.1.set_label_smoothing(0.0);
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
fn the_reported_validation_loss_is_never_smoothed() {
    let splits = spiral_splits(40, 3, 2).unwrap();
    let config = TrainConfig {
        hidden: vec![32],
        epochs: 3,
        label_smoothing: 0.2,
        ..TrainConfig::for_data(&"spiral".parse().unwrap())
    };
    config.validate().unwrap();
    let mut run = Training::<f32>::new(&config, 2, 3).unwrap();
    run.run(&config, &splits.train, &splits.val, |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let (x, y) = (splits.val.features(), splits.val.labels());
    let reported = run.history.last().unwrap().val_loss;
    assert_eq!(reported, evaluate(&run.net, x, y, config.reg).unwrap().loss);
}

#[test]
fn label_smoothing_outside_zero_to_one_is_refused_naming_the_setting() {
    for eps in [-0.1, 1.5, f64::NAN] {
        let config = TrainConfig {
            label_smoothing: eps,
            ..TrainConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err().setting.name(),
            "label_smoothing"
        );
    }
}
