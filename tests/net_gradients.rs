//! The tape's gradients of the two-layer net equal the document's closed form, term by term
//! and vectorised, and all three equal central differences.

use approx::assert_relative_eq;
use ndarray::{Array1, Array2, ArrayD, Zip};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::autograd::{gradcheck, relative_error, Tape};
use tapegrad::net::{closed_form, per_example, Gradients, TwoLayerNet};

/// One random case: a net, a batch and λ.
struct Case {
    net: TwoLayerNet<f64>,
    x: Array2<f64>,
    y: Vec<usize>,
    reg: f64,
}

/// A seeded case of shape (n, d, h, c); `std` is the weight scale, `x_scale` the input scale.
fn case(
    seed: u64,
    (n, d, h, c): (usize, usize, usize, usize),
    std: f64,
    x_scale: f64,
    reg: f64,
) -> Case {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut net = TwoLayerNet::new(d, h, c, std, seed);
    // Non-zero biases so that their gradients are exercised away from the init.
    net.b1 = Array1::from_shape_fn(h, |_| rng.random_range(-std..std)).into();
    net.b2 = Array1::from_shape_fn(c, |_| rng.random_range(-std..std)).into();
    let x = Array2::from_shape_fn((n, d), |_| x_scale * rng.random_range(-1.0..1.0));
    let y = (0..n).map(|_| rng.random_range(0..c)).collect();
    Case { net, x, y, reg }
}

/// Asserts two gradient arrays are equal entry by entry within `rel` relative error; entries
/// below `rel · max|g|` (cancellation noise around zero) are compared absolutely at that level.
fn assert_close<D: ndarray::Dimension>(
    what: &str,
    a: &ndarray::Array<f64, D>,
    b: &ndarray::Array<f64, D>,
    rel: f64,
) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let scale = a.iter().chain(b.iter()).fold(0f64, |m, v| m.max(v.abs()));
    Zip::from(a).and(b).for_each(|&x, &y| {
        assert_relative_eq!(x, y, max_relative = rel, epsilon = rel * scale);
    });
    let _ = what;
}

fn assert_grads_close(a: &Gradients<f64>, b: &Gradients<f64>, rel: f64) {
    assert_close("W1", &a.w1, &b.w1, rel);
    assert_close("b1", &a.b1, &b.b1, rel);
    assert_close("W2", &a.w2, &b.w2, rel);
    assert_close("b2", &a.b2, &b.b2, rel);
}

/// Tape, vectorised closed form and per-example form agree on the loss and every gradient
/// entry within 1e-10 relative.
fn three_ways_agree(c: &Case) {
    let mut tape = Tape::new();
    let (l_tape, g_tape) = c
        .net
        .loss_and_gradients(&mut tape, c.x.clone(), &c.y, c.reg)
        .unwrap();
    let (l_closed, g_closed) = closed_form::gradients(&c.net, c.x.view(), &c.y, c.reg).unwrap();
    let (l_doc, g_doc) = per_example::gradients(&c.net, c.x.view(), &c.y, c.reg).unwrap();
    assert_relative_eq!(l_tape, l_closed, max_relative = 1e-10);
    assert_relative_eq!(l_tape, l_doc, max_relative = 1e-10);
    assert_grads_close(&g_tape, &g_closed, 1e-10);
    assert_grads_close(&g_tape, &g_doc, 1e-10);
}

#[test]
fn tape_equals_closed_form_and_per_example_over_many_random_nets() {
    let shapes = [
        (1, 5, 4, 2),
        (2, 10, 7, 10),
        (7, 64, 50, 10),
        (7, 33, 3, 2),
        (200, 100, 500, 10),
    ];
    let mut seed = 0;
    for &shape in &shapes {
        for &reg in &[0.0, 1e-3, 10.0] {
            seed += 1;
            three_ways_agree(&case(seed, shape, 0.3, 1.0, reg));
        }
    }
}

#[test]
fn tape_equals_closed_form_at_the_cifar_shape() {
    // n = 200, d = 3072 (32x32x3), h = 100, c = 10: the course's CIFAR-10 setting.
    three_ways_agree(&case(99, (200, 3072, 100, 10), 1e-2, 1.0, 1e-3));
}

#[test]
fn tape_equals_closed_form_with_logits_of_a_thousand() {
    // Weights and inputs scaled so that the class scores reach about ±1e3: the softmax is
    // one-hot in floating point and only a stable log-softmax keeps the loss finite.
    for (seed, &reg) in [0.0, 1e-3, 10.0].iter().enumerate() {
        let c = case(seed as u64 + 50, (7, 20, 30, 10), 3.0, 5.0, reg);
        let z = c.net.scores(c.x.view()).unwrap();
        let largest = z.iter().fold(0f64, |m, v| m.max(v.abs()));
        assert!(largest > 300.0, "logits only reach {largest}");
        three_ways_agree(&c);
    }
}

#[test]
fn relu_at_exactly_zero_passes_no_gradient_in_all_three_forms() {
    // Row 0 of X is zero and b1 = 0, so z1 = 0 exactly on every hidden unit of example 0.
    let mut c = case(7, (3, 6, 5, 4), 0.5, 1.0, 1e-3);
    c.x.row_mut(0).fill(0.0);
    c.net.b1 = Array1::zeros(5).into();
    let z1 = c.x.dot(&*c.net.w1);
    assert!(z1.row(0).iter().all(|&v| v == 0.0));
    three_ways_agree(&c);
    // With only example 0, no gradient reaches the first layer's data term: dW1 = 2λW1, db1 = 0.
    let (_, g) =
        closed_form::gradients(&c.net, c.x.slice(ndarray::s![0..1, ..]), &c.y[..1], 1e-3).unwrap();
    let mut tape = Tape::new();
    let (_, gt) = c
        .net
        .loss_and_gradients(
            &mut tape,
            c.x.slice(ndarray::s![0..1, ..]).to_owned(),
            &c.y[..1],
            1e-3,
        )
        .unwrap();
    assert_eq!(gt.b1, Array1::<f64>::zeros(5));
    assert_eq!(g.b1, Array1::<f64>::zeros(5));
    assert_close("W1", &gt.w1, &(c.net.w1.mapv(|w| 2e-3 * w)), 1e-12);
}

/// Numerical gradients of the loss (evaluated in closed form) with respect to the four
/// parameters, by central differences with h = 1e-6.
fn numerical(c: &Case) -> Gradients<f64> {
    let loss = |net: &TwoLayerNet<f64>| {
        closed_form::gradients(net, c.x.view(), &c.y, c.reg)
            .unwrap()
            .0
    };
    let h = 1e-6;
    let mut net = c.net.clone();
    macro_rules! diff {
        ($p:ident) => {{
            let mut g = (*c.net.$p).clone();
            for (k, gk) in g.iter_mut().enumerate() {
                let orig = *c.net.$p.iter().nth(k).unwrap();
                std::sync::Arc::make_mut(&mut net.$p)
                    .iter_mut()
                    .nth(k)
                    .map(|w| *w = orig + h);
                let up = loss(&net);
                std::sync::Arc::make_mut(&mut net.$p)
                    .iter_mut()
                    .nth(k)
                    .map(|w| *w = orig - h);
                let down = loss(&net);
                std::sync::Arc::make_mut(&mut net.$p)
                    .iter_mut()
                    .nth(k)
                    .map(|w| *w = orig);
                *gk = (up - down) / (2.0 * h);
            }
            g
        }};
    }
    Gradients {
        w1: diff!(w1),
        b1: diff!(b1),
        w2: diff!(w2),
        b2: diff!(b2),
    }
}

#[test]
fn all_three_forms_match_central_differences_within_1e_6() {
    let mut worst = [0f64; 3];
    for (seed, &(shape, reg, std)) in [
        ((4, 5, 6, 3), 0.0, 0.5),
        ((4, 5, 6, 3), 1e-3, 0.5),
        ((3, 4, 5, 2), 10.0, 0.1),
        ((6, 8, 7, 10), 1e-3, 1.0),
        ((1, 3, 4, 2), 1e-3, 1e-2),
    ]
    .iter()
    .enumerate()
    {
        let c = case(100 + seed as u64, shape, std, 1.0, reg);
        // The tape, through the public gradcheck on the net's loss function.
        let params: Vec<ArrayD<f64>> = vec![
            (*c.net.w1).clone().into_dyn(),
            (*c.net.b1).clone().into_dyn(),
            (*c.net.w2).clone().into_dyn(),
            (*c.net.b2).clone().into_dyn(),
        ];
        let report = gradcheck(&params, |tape, p| {
            let x = tape.constant(c.x.clone());
            Ok(tapegrad::net::loss(x, [p[0], p[1], p[2], p[3]], &c.y, c.reg)?.0)
        })
        .unwrap();
        worst[0] = worst[0].max(report.max_relative_error());
        // The two hand-written forms, against central differences of the loss.
        let num = numerical(&c);
        for (k, form) in [closed_form::gradients, per_example::gradients]
            .iter()
            .enumerate()
        {
            let (_, g) = form(&c.net, c.x.view(), &c.y, c.reg).unwrap();
            let e = relative_error(&g.w1, &num.w1)
                .max(relative_error(&g.b1, &num.b1))
                .max(relative_error(&g.w2, &num.w2))
                .max(relative_error(&g.b2, &num.b2));
            worst[k + 1] = worst[k + 1].max(e);
        }
    }
    println!("worst relative error vs central differences: tape {:.2e}, closed form {:.2e}, per example {:.2e}", worst[0], worst[1], worst[2]);
    for w in worst {
        assert!(w < 1e-6, "relative error {w:e} exceeds 1e-6");
    }
}

#[test]
fn f32_tape_matches_f64_closed_form_within_f32_rounding() {
    // The same net in f32 and f64. f32 carries 24 bits (eps ≈ 6e-8); a gradient entry here sums
    // n·(h or c) products of values of order 1, and each layer's rounding compounds through
    // softmax and two matmuls, so the error is a few hundred eps relative to the largest entry.
    // 1e-4 of the largest entry leaves room for that and fails on any wrong rule, whose error is
    // of the order of the entries themselves.
    let c = case(5, (50, 64, 40, 10), 0.1, 1.0, 1e-3);
    let net32 = TwoLayerNet::<f32>::from_parameters(
        c.net.w1.mapv(|v| v as f32),
        c.net.b1.mapv(|v| v as f32),
        c.net.w2.mapv(|v| v as f32),
        c.net.b2.mapv(|v| v as f32),
    )
    .unwrap();
    let x32 = c.x.mapv(|v| v as f32);
    let (l32, g32) = net32
        .loss_and_gradients(&mut Tape::new(), x32.clone(), &c.y, 1e-3)
        .unwrap();
    let (l64, g64) = closed_form::gradients(&c.net, c.x.view(), &c.y, c.reg).unwrap();
    let (lc32, gc32) = closed_form::gradients(&net32, x32.view(), &c.y, 1e-3).unwrap();
    assert_relative_eq!(f64::from(l32), l64, max_relative = 1e-6);
    assert_relative_eq!(f64::from(lc32), l64, max_relative = 1e-6);
    let up = |g: &Gradients<f32>| Gradients {
        w1: g.w1.mapv(f64::from),
        b1: g.b1.mapv(f64::from),
        w2: g.w2.mapv(f64::from),
        b2: g.b2.mapv(f64::from),
    };
    let (g32, gc32) = (up(&g32), up(&gc32));
    for (a, b) in [(&g32, &g64), (&gc32, &g64), (&g32, &gc32)] {
        for (x, y) in [(&a.w1, &b.w1), (&a.w2, &b.w2)] {
            assert!(
                relative_error(x, y) < 1e-4,
                "f32 weight gradient off by {:e}",
                relative_error(x, y)
            );
        }
        for (x, y) in [(&a.b1, &b.b1), (&a.b2, &b.b2)] {
            assert!(
                relative_error(x, y) < 1e-4,
                "f32 bias gradient off by {:e}",
                relative_error(x, y)
            );
        }
    }
}

#[test]
fn loss_at_init_with_small_weights_is_ln_c() {
    for &c in &[2, 10] {
        let case = case(3, (20, 50, 30, c), 1e-4, 1.0, 1e-3);
        let net = TwoLayerNet::<f64>::new(50, 30, c, 1e-4, 3); // b = 0 as at init
        let (loss, _) = net
            .loss_and_gradients(&mut Tape::new(), case.x.clone(), &case.y, 1e-3)
            .unwrap();
        assert!(
            (loss - (c as f64).ln()).abs() < 1e-3,
            "loss {loss} vs ln {c} = {}",
            (c as f64).ln()
        );
    }
}

#[test]
fn net_overfits_twenty_examples_to_full_training_accuracy() {
    use tapegrad::net::optim::Sgd;
    use tapegrad::net::TrainStep;
    let c = case(11, (20, 30, 50, 10), 1e-4, 1.0, 0.0);
    let mut net = TwoLayerNet::<f64>::new(30, 50, 10, 1e-1, 11);
    let mut step = TrainStep::new(Sgd::default());
    let before = net.accuracy(c.x.view(), &c.y).unwrap();
    let mut last = f64::INFINITY;
    for _ in 0..300 {
        last = step.step(&mut net, c.x.clone(), &c.y, 1e-5, 0.5).unwrap();
    }
    let after = net.accuracy(c.x.view(), &c.y).unwrap();
    assert!(
        before < 0.5,
        "random labels should not start learned ({before})"
    );
    assert_eq!(
        after, 1.0,
        "training accuracy {after} after 300 steps, final loss {last}"
    );
    assert!(last < 0.1, "final loss {last}");
}

/// The document's first-layer formula read literally: for each example, every class term
/// `j` multiplies the same `W2(y_i)ᵀ` (the index typo), with the factor `p_{y_i} - 1` for
/// `j = y_i` and `p_j` otherwise, summed over the classes and masked per hidden unit.
fn literal_document_dw1(c: &Case) -> Array2<f64> {
    let (w1, b1, w2, b2) = (&*c.net.w1, &*c.net.b1, &*c.net.w2, &*c.net.b2);
    let mut dw1 = Array2::<f64>::zeros(w1.dim());
    for (i, &yi) in c.y.iter().enumerate() {
        let xi = c.x.row(i);
        let z1 = xi.dot(w1) + b1;
        let a1 = z1.mapv(|v| v.max(0.0));
        let z2 = a1.dot(w2) + b2;
        let e = z2.mapv(|v| (v - z2.fold(f64::MIN, |m, &u| m.max(u))).exp());
        let p = &e / e.sum();
        for j in 0..p.len() {
            let factor = if j == yi { p[yi] - 1.0 } else { p[j] };
            let literal_w2 = w2.column(yi); // the typo: W2(y_i) for every j
            for k in 0..w1.ncols() {
                if z1[k] > 0.0 {
                    dw1.column_mut(k).scaled_add(factor * literal_w2[k], &xi);
                }
            }
        }
    }
    dw1 / c.y.len() as f64 + &w1.mapv(|w| 2.0 * c.reg * w)
}

#[test]
fn document_first_layer_taken_literally_fails_the_numerical_check() {
    let c = case(21, (6, 5, 8, 4), 0.5, 1.0, 1e-3);
    let num = numerical(&c);
    let literal = literal_document_dw1(&c);
    // Its data part vanishes: the class factors sum to Σ_j p_j - 1 = 0.
    let data_part = &literal - &c.net.w1.mapv(|w| 2.0 * c.reg * w);
    assert!(
        data_part.iter().all(|v| v.abs() < 1e-15),
        "literal data part is not zero"
    );
    // So it misses the true gradient by about its own size...
    let literal_error = relative_error(&literal, &num.w1);
    assert!(
        literal_error > 0.5,
        "literal form unexpectedly close: {literal_error:e}"
    );
    // ...while the corrected per-example form passes the same check.
    let (_, fixed) = per_example::gradients(&c.net, c.x.view(), &c.y, c.reg).unwrap();
    assert!(relative_error(&fixed.w1, &num.w1) < 1e-6);
}
