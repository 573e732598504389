//! `tapegrad gradcheck`: the derivation of the specification (docs/two-layer-net-gradients.md,
//! "the document") demonstrated on random nets.

use std::io::{self, Write};
use std::sync::Arc;

use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad_autograd::{gradcheck, Tape};
use tapegrad_net::{closed_form, per_example, Gradients, TwoLayerNet};

use crate::args::GradcheckArgs;
use crate::failure::{Failure, Outcome};

/// For each random net: the largest relative differences between the tape, the closed form,
/// the document's per-example form and central differences.
pub fn run(args: &GradcheckArgs) -> Outcome {
    if args.nets == 0 {
        return Err(Failure::input("--nets must be at least 1"));
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "relative error = max |a - b| / max(|a|, |b|) over all four gradients (f64)"
    )?;
    writeln!(
        out,
        "{:>4} {:>16} {:>8} {:>12} {:>12} {:>12} {:>12}",
        "net", "n,d,h,c", "lambda", "tape~closed", "tape~doc", "tape~numeric", "doc~numeric"
    )?;
    let mut worst: f64 = 0.0;
    for k in 0..args.nets {
        let shape = (
            rng.random_range(1..8),
            rng.random_range(2..10),
            rng.random_range(2..10),
            rng.random_range(2..6),
        );
        let reg = [0.0, 1e-3, 10.0][k % 3];
        let (n, d, h, c) = shape;
        let mut net = TwoLayerNet::<f64>::new(d, h, c, 0.5, rng.random());
        net.b1 = Array1::from_shape_fn(h, |_| rng.random_range(-0.5..0.5)).into();
        let x = Array2::from_shape_fn((n, d), |_| rng.random_range(-1.0..1.0));
        let y: Vec<usize> = (0..n).map(|_| rng.random_range(0..c)).collect();

        let (_, tape) = net.loss_and_gradients(&mut Tape::new(), x.clone(), &y, reg)?;
        let (_, closed) = closed_form::gradients(&net, x.view(), &y, reg)?;
        let (_, doc) = per_example::gradients(&net, x.view(), &y, reg)?;
        let params = [
            (*net.w1).clone().into_dyn(),
            (*net.b1).clone().into_dyn(),
            (*net.w2).clone().into_dyn(),
            (*net.b2).clone().into_dyn(),
        ];
        let report = gradcheck(&params, |tape, p| {
            let xv = tape.constant(x.clone());
            Ok(tapegrad_net::loss(xv, [p[0], p[1], p[2], p[3]], &y, reg)?.0)
        })?;
        let doc_numeric = numeric_error(&doc, &net, |net| {
            closed_form::gradients(net, x.view(), &y, reg).map(|r| r.0)
        })?;
        let errors = [
            tape.relative_error(&closed),
            tape.relative_error(&doc),
            report.max_relative_error(),
            doc_numeric,
        ];
        worst = errors.iter().fold(worst, |w, &e| w.max(e));
        writeln!(
            out,
            "{k:>4} {:>16} {reg:>8} {:>12.2e} {:>12.2e} {:>12.2e} {:>12.2e}",
            format!("{n},{d},{h},{c}"),
            errors[0],
            errors[1],
            errors[2],
            errors[3]
        )?;
    }
    writeln!(
        out,
        "worst: {worst:.2e} (central differences with h = 1e-6; below 1e-6 passes)"
    )?;
    if worst < 1e-6 {
        Ok(())
    } else {
        Err(Failure::running(format!(
            "gradient check failed: worst relative error {worst:.2e} >= 1e-6"
        )))
    }
}

/// `g` against central differences (h = 1e-6) of `loss` around `net`: the largest relative
/// error over the four parameters.
fn numeric_error(
    g: &Gradients<f64>,
    net: &TwoLayerNet<f64>,
    loss: impl Fn(&TwoLayerNet<f64>) -> tapegrad_net::Result<f64>,
) -> Outcome<f64> {
    let analytic = [
        g.w1.as_slice(),
        g.b1.as_slice(),
        g.w2.as_slice(),
        g.b2.as_slice(),
    ];
    let mut probe = net.clone();
    let mut worst: f64 = 0.0;
    for (k, a) in analytic.iter().enumerate() {
        let a = a.ok_or_else(|| Failure::running("gradients are not contiguous"))?;
        let (mut diff, mut scale) = (0f64, 0f64);
        for (i, &ai) in a.iter().enumerate() {
            let orig = parameter(&mut probe, k)[i];
            parameter(&mut probe, k)[i] = orig + 1e-6;
            let up = loss(&probe)?;
            parameter(&mut probe, k)[i] = orig - 1e-6;
            let down = loss(&probe)?;
            parameter(&mut probe, k)[i] = orig;
            let numeric = (up - down) / 2e-6;
            diff = diff.max((ai - numeric).abs());
            scale = scale.max(ai.abs()).max(numeric.abs());
        }
        worst = worst.max(if scale == 0.0 { 0.0 } else { diff / scale });
    }
    Ok(worst)
}

/// Parameter `k` (W1, b1, W2, b2) of `net` as a mutable slice.
fn parameter(net: &mut TwoLayerNet<f64>, k: usize) -> &mut [f64] {
    let slice = match k {
        0 => Arc::make_mut(&mut net.w1).as_slice_mut(),
        1 => Arc::make_mut(&mut net.b1).as_slice_mut(),
        2 => Arc::make_mut(&mut net.w2).as_slice_mut(),
        _ => Arc::make_mut(&mut net.b2).as_slice_mut(),
    };
    slice.expect("parameters are contiguous")
}
