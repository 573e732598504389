//! The tape's gradients of the two-layer net equal the document's closed form, term by term
//! and vectorised, and all three equal central differences; deeper nets' tape gradients equal
//! central differences too.

use approx::assert_relative_eq;
use ndarray::{Array1, Array2, ArrayD, Zip};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::autograd::{gradcheck, numeric_gradients, relative_error, GradcheckReport, Tape};
use tapegrad::net::model::Activation;
use tapegrad::net::{closed_form, per_example, Init, Mlp, ParameterGradients};

/// One random case: a net, a batch and λ.
struct Case {
    net: Mlp<f64>,
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
    let net = random_net(&[d, h, c], std, seed, &mut rng);
    let x = Array2::from_shape_fn((n, d), |_| x_scale * rng.random_range(-1.0..1.0));
    let y = (0..n).map(|_| rng.random_range(0..c)).collect();
    Case { net, x, y, reg }
}

/// A net of layer `sizes` with weights `std · N(0, 1)` and, so that the biases' gradients are
/// exercised away from the init, biases uniform in `±std`.
fn random_net(sizes: &[usize], std: f64, seed: u64, rng: &mut StdRng) -> Mlp<f64> {
    let init = Mlp::new(sizes, Init { std, seed }).unwrap();
    let params = init
        .parameters()
        .map(|(name, p)| match name.starts_with('b') {
            true => p.mapv(|_| rng.random_range(-std..std)),
            false => p.to_owned(),
        })
        .collect();
    Mlp::from_parameters(params).unwrap()
}

/// `net` with parameter number `k` replaced by `value`.
fn with_parameter(net: &Mlp<f64>, k: usize, value: ArrayD<f64>) -> Mlp<f64> {
    let mut params: Vec<ArrayD<f64>> = net.parameters().map(|(_, p)| p.to_owned()).collect();
    params[k] = value;
    Mlp::from_parameters(params).unwrap()
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

fn assert_grads_close(a: &ParameterGradients<f64>, b: &ParameterGradients<f64>, rel: f64) {
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(b.iter()) {
        assert_close(&name, x, y, rel);
    }
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
    c.net = with_parameter(&c.net, 1, Array1::zeros(5).into_dyn());
    let w1 = c.net.layers()[0].weight();
    let z1 = c.x.dot(&w1);
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
    assert_eq!(gt.bias(0), Array1::<f64>::zeros(5));
    assert_eq!(g.bias(0), Array1::<f64>::zeros(5));
    let expected = w1.mapv(|w| 2e-3 * w);
    assert_close("W1", &gt.weight(0).to_owned(), &expected, 1e-12);
}

/// Numerical gradients of the loss (evaluated in closed form) with respect to the four
/// parameters, by the workspace's one central difference.
fn numerical(c: &Case) -> Vec<ArrayD<f64>> {
    let params: Vec<ArrayD<f64>> = c.net.parameters().map(|(_, p)| p.to_owned()).collect();
    numeric_gradients(&params, |p| {
        let net = Mlp::from_parameters(p.to_vec())?;
        closed_form::gradients(&net, c.x.view(), &c.y, c.reg).map(|r| r.0)
    })
    .unwrap()
}

/// The largest relative error, parameter by parameter, of `g` against `numeric`.
fn error_vs(g: &ParameterGradients<f64>, numeric: &[ArrayD<f64>]) -> f64 {
    GradcheckReport::compare(g.as_slice(), numeric).max_relative_error()
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
        let params: Vec<ArrayD<f64>> = c.net.parameters().map(|(_, p)| p.to_owned()).collect();
        let report = gradcheck(&params, |tape, p| {
            let x = tape.constant(c.x.clone());
            Ok(tapegrad::net::loss(
                x,
                [(p[0], p[1]), (p[2], p[3])],
                Activation::Relu,
                &c.y,
                c.reg,
            )?
            .0)
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
            worst[k + 1] = worst[k + 1].max(error_vs(&g, &num));
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
    let net32 = Mlp::<f32>::from_parameters(
        c.net
            .parameters()
            .map(|(_, p)| p.mapv(|v| v as f32))
            .collect(),
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
    let up = |g: &ParameterGradients<f32>| -> Vec<ArrayD<f64>> {
        g.as_slice().iter().map(|a| a.mapv(f64::from)).collect()
    };
    let g64 = g64.into_vec();
    let (g32, gc32) = (up(&g32), up(&gc32));
    for (a, b) in [(&g32, &g64), (&gc32, &g64), (&g32, &gc32)] {
        for (k, (x, y)) in a.iter().zip(b.iter()).enumerate() {
            assert!(
                relative_error(x, y) < 1e-4,
                "f32 gradient of parameter {k} off by {:e}",
                relative_error(x, y)
            );
        }
    }
}

#[test]
fn loss_at_init_with_small_weights_is_ln_c() {
    for &c in &[2, 10] {
        let case = case(3, (20, 50, 30, c), 1e-4, 1.0, 1e-3);
        let net = Mlp::<f64>::new(&[50, 30, c], Init { std: 1e-4, seed: 3 }).unwrap(); // b = 0
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
    let mut net = Mlp::<f64>::new(
        &[30, 50, 10],
        Init {
            std: 1e-1,
            seed: 11,
        },
    )
    .unwrap();
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
    let [first, second] = c.net.layers() else {
        panic!("the document's net has two layers")
    };
    let (w1, b1, w2, b2) = (first.weight(), first.bias(), second.weight(), second.bias());
    let mut dw1 = Array2::<f64>::zeros(w1.dim());
    for (i, &yi) in c.y.iter().enumerate() {
        let xi = c.x.row(i);
        let z1 = xi.dot(&w1) + b1;
        let a1 = z1.mapv(|v| v.max(0.0));
        let z2 = a1.dot(&w2) + b2;
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
    let data_part = &literal - &c.net.layers()[0].weight().mapv(|w| 2.0 * c.reg * w);
    assert!(
        data_part.iter().all(|v| v.abs() < 1e-15),
        "literal data part is not zero"
    );
    // So it misses the true gradient by about its own size...
    let literal_error = relative_error(&literal.into_dyn(), &num[0]);
    assert!(
        literal_error > 0.5,
        "literal form unexpectedly close: {literal_error:e}"
    );
    // ...while the corrected per-example form passes the same check.
    let (_, fixed) = per_example::gradients(&c.net, c.x.view(), &c.y, c.reg).unwrap();
    assert!(relative_error(&fixed[0], &num[0]) < 1e-6);
}

#[test]
fn deeper_nets_tape_gradients_match_central_differences() {
    // Three and four layers: the same loss recorded through the same code as the document's
    // net, every parameter (W1..W4, b1..b4) against central differences of the loss.
    for (seed, sizes) in [vec![4, 6, 5, 3], vec![3, 5, 4, 4, 2]]
        .into_iter()
        .enumerate()
    {
        let mut rng = StdRng::seed_from_u64(seed as u64);
        let net = random_net(&sizes, 0.5, seed as u64, &mut rng);
        let x = Array2::from_shape_fn((5, sizes[0]), |_| rng.random_range(-1.0..1.0));
        let y: Vec<usize> = (0..5)
            .map(|_| rng.random_range(0..sizes[sizes.len() - 1]))
            .collect();
        let (loss, g) = net
            .loss_and_gradients(&mut Tape::new(), x.clone(), &y, 1e-2)
            .unwrap();
        assert_eq!(g.len(), 2 * (sizes.len() - 1));
        let params: Vec<ArrayD<f64>> = net.parameters().map(|(_, p)| p.to_owned()).collect();
        let numeric = numeric_gradients(&params, |p| {
            let net = Mlp::from_parameters(p.to_vec())?;
            net.loss_and_gradients(&mut Tape::new(), x.clone(), &y, 1e-2)
                .map(|r| r.0)
        })
        .unwrap();
        let e = error_vs(&g, &numeric);
        assert!(e < 1e-6, "{sizes:?}: relative error {e:e} (loss {loss})");
    }
}
