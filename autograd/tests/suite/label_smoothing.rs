//! Cross-entropy with label smoothing: its value is PyTorch's definition, its gradient
//! `(p - target) / n` agrees with central differences, `ε = 0` is the plain cross-entropy bit
//! for bit, and `ε` outside [0, 1] or bad labels are errors naming the op.

use ndarray::{array, Array2, ArrayD};
use tapegrad_autograd::{gradcheck, Error, Tape};

fn scores() -> Array2<f64> {
    array![
        [1.5, -0.3, 0.2, 4.0],
        [-2.0, 0.0, 0.7, 0.1],
        [0.0, 0.0, 0.0, 0.0]
    ]
}

/// PyTorch's definition, written out with log-softmax row by row.
fn by_definition(z: &Array2<f64>, y: &[usize], eps: f64) -> f64 {
    let c = z.ncols() as f64;
    let mut total = 0.0;
    for (row, &label) in z.rows().into_iter().zip(y) {
        let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
        let nll: Vec<f64> = row.iter().map(|v| lse - v).collect();
        total += (1.0 - eps) * nll[label] + eps / c * nll.iter().sum::<f64>();
    }
    total / z.nrows() as f64
}

#[test]
fn the_value_is_pytorchs_definition() {
    let y = [3, 1, 0];
    for eps in [0.0, 0.05, 0.1, 0.5, 1.0] {
        let tape = Tape::<f64>::new();
        let loss = tape
            .constant(scores())
            .cross_entropy_smoothed(&y, eps)
            .unwrap();
        let (got, want) = (loss.item().unwrap(), by_definition(&scores(), &y, eps));
        assert!((got - want).abs() < 1e-14, "ε {eps}: {got} vs {want}");
    }
}

#[test]
fn gradients_match_central_differences() {
    for eps in [0.1, 0.3, 1.0] {
        let report = gradcheck(&[scores().into_dyn()], |_, v| {
            v[0].scale(1.3).cross_entropy_smoothed(&[3, 1, 0], eps)
        })
        .unwrap();
        assert!(report.max_relative_error() < 1e-8, "ε {eps}: {report:?}");
    }
}

#[test]
fn the_gradient_is_p_minus_the_smoothed_target_over_n() {
    let (y, eps) = ([2, 0, 3], 0.2);
    let tape = Tape::<f64>::new();
    let z = tape.param(scores());
    let g = z
        .cross_entropy_smoothed(&y, eps)
        .unwrap()
        .backward()
        .unwrap();
    let (n, c) = (3.0, 4.0);
    for (i, row) in scores().rows().into_iter().enumerate() {
        let sum: f64 = row.iter().map(|v| v.exp()).sum();
        for (k, v) in row.iter().enumerate() {
            let target = if k == y[i] { 1.0 - eps } else { 0.0 } + eps / c;
            let want = (v.exp() / sum - target) / n;
            assert!((g[z][[i, k]] - want).abs() < 1e-15, "[{i}, {k}]");
        }
    }
}

#[test]
fn zero_smoothing_is_the_plain_cross_entropy_bit_for_bit() {
    let y = [3, 1, 0];
    let run = |smoothed: bool| {
        let tape = Tape::<f32>::new();
        let z = tape.param(scores().mapv(|v| v as f32));
        let loss = if smoothed {
            z.cross_entropy_smoothed(&y, 0.0).unwrap()
        } else {
            z.cross_entropy(&y).unwrap()
        };
        let g: ArrayD<f32> = loss.backward().unwrap()[z].clone();
        (
            loss.item().unwrap().to_bits(),
            g.mapv(f32::to_bits),
            tape.len(),
        )
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn smoothing_outside_zero_to_one_is_an_error_naming_the_op() {
    for eps in [-0.1, 1.5, f64::NAN] {
        let tape = Tape::<f64>::new();
        let err = tape
            .constant(scores())
            .cross_entropy_smoothed(&[0, 0, 0], eps)
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::BadProbability {
                    op: "cross_entropy_smoothed",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn bad_labels_are_errors_not_panics() {
    let tape = Tape::<f64>::new();
    let z = tape.constant(scores());
    let too_few = z.cross_entropy_smoothed(&[0, 1], 0.1).unwrap_err();
    assert!(matches!(too_few, Error::LabelCount { .. }), "{too_few:?}");
    let too_big = z.cross_entropy_smoothed(&[0, 1, 4], 0.1).unwrap_err();
    assert!(
        matches!(too_big, Error::LabelOutOfRange { label: 4, .. }),
        "{too_big:?}"
    );
}
