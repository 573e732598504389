//! `tapegrad gradcheck`: the derivation of the specification (docs/two-layer-net-gradients.md,
//! "the document") demonstrated on random nets.

use std::io::{self, Write};

use ndarray::{Array1, Array2, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad_autograd::{gradcheck, numeric_gradients, GradcheckReport, Tape};
use tapegrad_net::model::Activation;
use tapegrad_net::{closed_form, per_example, Init, Linear, Mlp, ParameterGradients};

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
        let net = Mlp::<f64>::new(
            &[d, h, c],
            Init {
                std: 0.5,
                seed: rng.random(),
            },
        )?;
        // Nonzero first-layer biases, so the ReLU's kinks are not all at the same place.
        let b1 = Array1::from_shape_fn(h, |_| rng.random_range(-0.5..0.5));
        let first = Linear::from_parameters(net.layers()[0].weight().to_owned(), b1)?;
        let net = Mlp::from_layers(vec![first, net.layers()[1].clone()])?;
        let x = Array2::from_shape_fn((n, d), |_| rng.random_range(-1.0..1.0));
        let y: Vec<usize> = (0..n).map(|_| rng.random_range(0..c)).collect();

        let (_, tape) = net.loss_and_gradients(&mut Tape::new(), x.clone(), &y, reg)?;
        let (_, closed) = closed_form::gradients(&net, x.view(), &y, reg)?;
        let (_, doc) = per_example::gradients(&net, x.view(), &y, reg)?;
        let params: Vec<ArrayD<f64>> = net.parameters().map(|(_, p)| p.to_owned()).collect();
        let report = gradcheck(&params, |tape, p| {
            let xv = tape.constant(x.clone());
            Ok(tapegrad_net::loss(xv, [(p[0], p[1]), (p[2], p[3])], Activation::Relu, &y, reg)?.0)
        })?;
        let doc_numeric = numeric_error(&doc, &params, |net| {
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

/// `g` against central differences ([`numeric_gradients`]) of `loss` around the net of
/// `params`: the largest relative error over the parameters.
fn numeric_error(
    g: &ParameterGradients<f64>,
    params: &[ArrayD<f64>],
    loss: impl Fn(&Mlp<f64>) -> tapegrad_net::Result<f64>,
) -> Outcome<f64> {
    let numeric = numeric_gradients(params, |p| loss(&Mlp::from_parameters(p.to_vec())?))?;
    let report = GradcheckReport::compare(g.as_slice(), &numeric);
    Ok(report.max_relative_error())
}
