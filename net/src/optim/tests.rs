use std::sync::Arc;

use ndarray::{array, Array2};

use super::*;

fn step<T: Element>(
    opt: &mut dyn Optimizer<T>,
    params: &mut [Arc<Array2<T>>],
    grads: &[Array2<T>],
    lr: f64,
) {
    opt.begin_step();
    for (k, (p, g)) in params.iter_mut().zip(grads).enumerate() {
        update_parameter(opt, k, p, g, lr).unwrap();
    }
}

#[test]
fn a_transposed_parameter_is_converted_and_updated_elementwise() {
    let w = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let mut transposed = Arc::new(w.clone().reversed_axes());
    assert!(!transposed.is_standard_layout());
    let g = Array2::from_elem((3, 2), 1.0);
    let mut sgd = Sgd::default();
    Optimizer::<f64>::begin_step(&mut sgd);
    update_parameter(&mut sgd, 0, &mut transposed, &g, 0.5).unwrap();
    assert_eq!(*transposed, w.t().mapv(|x| x - 0.5));
    // A gradient in another layout is read in the parameter's element order.
    let mut p = Arc::new(Array2::<f64>::zeros((2, 3)));
    let g = array![[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]].reversed_axes();
    update_parameter(&mut sgd, 0, &mut p, &g, 1.0).unwrap();
    assert_eq!(*p, -&w);
}

#[test]
fn a_gradient_shaped_unlike_its_parameter_is_an_error_naming_both_shapes() {
    let mut p = Arc::new(Array2::<f64>::zeros((2, 3)));
    let e = update_parameter(&mut Sgd::default(), 4, &mut p, &Array2::zeros((3, 2)), 1.0);
    assert_eq!(
        e.unwrap_err(),
        OptimError::GradientShape {
            parameter: 4,
            shape: vec![2, 3],
            gradient: vec![3, 2]
        }
    );
}

#[test]
fn state_of_the_wrong_length_is_refused_not_resized() {
    for kind in [OptimizerKind::MOMENTUM, OptimizerKind::ADAM] {
        let mut opt = kind.build::<f64>();
        let buffers = opt
            .buffer_names()
            .iter()
            .map(|_| vec![vec![0.0; 5]])
            .collect();
        let state = OptimizerState { steps: 3, buffers };
        let e = opt.load_state(state.clone(), &[6]).unwrap_err();
        assert!(
            matches!(
                e,
                OptimError::StateLength {
                    expected: 6,
                    found: 5,
                    ..
                }
            ),
            "{e}"
        );
        let e = opt.load_state(state.clone(), &[5, 2]).unwrap_err();
        assert!(
            matches!(
                e,
                OptimError::StateCount {
                    expected: 2,
                    found: 1,
                    ..
                }
            ),
            "{e}"
        );
        // Loaded for a 5-element parameter, then asked to update a 6-element one.
        opt.load_state(state, &[5]).unwrap();
        opt.begin_step();
        let e = opt.update(0, &mut [0.0; 6], &[1.0; 6], 0.1).unwrap_err();
        assert!(
            matches!(
                e,
                OptimError::StateLength {
                    parameter: 0,
                    expected: 6,
                    found: 5,
                    ..
                }
            ),
            "{e}"
        );
    }
}

#[test]
fn state_with_a_missing_buffer_is_refused() {
    let mut adam = Adam::<f64>::default();
    let state = OptimizerState {
        steps: 1,
        buffers: vec![vec![vec![0.0; 2]]],
    };
    let e = adam.load_state(state, &[2]).unwrap_err();
    assert!(
        matches!(
            e,
            OptimError::StateCount {
                expected: 2,
                found: 1,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn adams_first_step_moves_each_weight_by_lr_against_its_gradients_sign() {
    let mut p = vec![Arc::new(array![[1.0f64, 1.0, 1.0]])];
    let g = vec![array![[3.0f64, -0.5, 1e-3]]];
    step(&mut Adam::default(), &mut p, &g, 0.01);
    for (w, g) in p[0].iter().zip(&g[0]) {
        let expected = 1.0 - 0.01 * g.signum();
        assert!((w - expected).abs() < 1e-7, "{w} vs {expected}");
    }
}

#[test]
fn momentum_accumulates_velocity_across_steps() {
    let mut p = vec![Arc::new(array![[0.0]])];
    let g = vec![array![[1.0]]];
    let mut opt = Momentum::new(0.5);
    step(&mut opt, &mut p, &g, 1.0); // v = -1, w = -1
    step(&mut opt, &mut p, &g, 1.0); // v = -0.5 - 1, w = -2.5
    assert_eq!(p[0][[0, 0]], -2.5);
}

#[test]
fn saved_and_restored_state_continues_exactly_like_an_uninterrupted_run() {
    for kind in [
        OptimizerKind::Sgd,
        OptimizerKind::MOMENTUM,
        OptimizerKind::ADAM,
    ] {
        let grads = |i: usize| vec![array![[i as f64, -1.0]], array![[0.5 * i as f64]]];
        let mut whole = kind.build::<f64>();
        let mut p_whole = vec![Arc::new(array![[1.0, 2.0]]), Arc::new(array![[3.0]])];
        for i in 0..4 {
            step(whole.as_mut(), &mut p_whole, &grads(i), 0.1);
        }
        let mut first = kind.build::<f64>();
        let mut p = vec![Arc::new(array![[1.0, 2.0]]), Arc::new(array![[3.0]])];
        for i in 0..2 {
            step(first.as_mut(), &mut p, &grads(i), 0.1);
        }
        let mut resumed = kind.build::<f64>();
        resumed.load_state(first.state(), &[2, 1]).unwrap();
        for i in 2..4 {
            step(resumed.as_mut(), &mut p, &grads(i), 0.1);
        }
        assert_eq!(p, p_whole, "{}", kind.name());
        assert_eq!(resumed.state(), whole.state(), "{}", kind.name());
    }
}

#[test]
fn bad_constants_are_refused_by_the_optimizers_own_check() {
    assert!(OptimizerKind::Momentum { mu: 1.0 }.check().is_err());
    let adam = OptimizerKind::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 0.0,
    };
    assert!(adam.check().unwrap_err().contains("eps"));
    assert!(OptimizerKind::ADAM.check().is_ok());
}

#[test]
fn the_kind_round_trips_through_json_in_the_run_state_form() {
    let json = serde_json::to_string(&OptimizerKind::MOMENTUM).unwrap();
    assert_eq!(json, r#"{"kind":"momentum","mu":0.9}"#);
    for kind in [
        OptimizerKind::Sgd,
        OptimizerKind::MOMENTUM,
        OptimizerKind::ADAM,
    ] {
        let back: OptimizerKind =
            serde_json::from_str(&serde_json::to_string(&kind).unwrap()).unwrap();
        assert_eq!(back, kind);
    }
}

#[test]
fn long_parameters_split_between_threads_get_every_elements_rule_bit_for_bit() {
    // Longer than the grain, of an odd length, so the update is cut into uneven parts.
    let len = 5 * UPDATE_GRAIN + 3;
    let w0: Vec<f32> = (0..len)
        .map(|i| ((i * 7919) % 1009) as f32 / 500.0 - 1.0)
        .collect();
    let g: Vec<f32> = (0..len)
        .map(|i| ((i * 104_729) % 997) as f32 / 400.0 - 1.2)
        .collect();
    let param = || Arc::new(Array2::from_shape_vec((1, len), w0.clone()).unwrap());
    let grad = Array2::from_shape_vec((1, len), g.clone()).unwrap();
    let (lr, mu) = (0.1f64, 0.9f64);
    for name in ["sgd", "momentum", "adam"] {
        let mut opt: Box<dyn Optimizer<f32>> = match name {
            "sgd" => Box::new(Sgd::default()),
            "momentum" => Box::new(Momentum::new(mu)),
            _ => Box::new(Adam::new(0.9, 0.999, 1e-8)),
        };
        let mut p = [param()];
        for _ in 0..2 {
            step(opt.as_mut(), &mut p, std::slice::from_ref(&grad), lr);
        }
        // The rules written out element by element, two steps.
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
        for (i, (&w, &g)) in w0.iter().zip(&g).enumerate() {
            let (mut w, mut v, mut m, mut s) = (w, 0f32, 0f32, 0f32);
            for t in 1..=2 {
                match name {
                    "sgd" => w -= lr as f32 * g,
                    "momentum" => {
                        v = mu as f32 * v - lr as f32 * g;
                        w += v;
                    }
                    _ => {
                        let step = lr / (1.0 - b1.powi(t)) * (1.0 - b2.powi(t)).sqrt();
                        let eps_hat = eps as f32 * ((1.0 - b2.powi(t)).sqrt()) as f32;
                        m = b1 as f32 * m + (1.0 - b1 as f32) * g;
                        s = b2 as f32 * s + (1.0 - b2 as f32) * g * g;
                        w -= step as f32 * m / (s.sqrt() + eps_hat);
                    }
                }
            }
            assert_eq!(p[0][[0, i]].to_bits(), w.to_bits(), "{name}, element {i}");
        }
    }
}
