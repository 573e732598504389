//! The dropout op: inverted dropout keeps each element's expected value, drops the fraction
//! asked for, has the gradient `g ⊙ m` of its mask (central differences agree), lets NaN
//! through, refuses probabilities outside [0, 1), and rebuilds the same mask from its seed.

use ndarray::{array, Array1, ArrayD};
use tapegrad_autograd::{gradcheck, DropoutMask, Error, Tape};

#[test]
fn the_mean_over_many_masks_is_the_input() {
    let x = array![-3.0, -0.5, 0.0, 0.25, 1.0, 7.0];
    for p in [0.1, 0.5, 0.8] {
        let masks = 20_000u64;
        let mut sum = Array1::<f64>::zeros(x.len());
        for seed in 0..masks {
            let tape = Tape::<f64>::new();
            let y = tape
                .constant(x.clone())
                .dropout(DropoutMask::new(p, seed).unwrap());
            sum += &y.value().into_dimensionality::<ndarray::Ix1>().unwrap();
        }
        let mean = sum / masks as f64;
        // Standard error of each mean: |x| sqrt(p / (1-p) / masks); allow 5 of them.
        for (m, &xi) in mean.iter().zip(&x) {
            let se = xi.abs() * (p / (1.0 - p) / masks as f64).sqrt();
            assert!(
                (m - xi).abs() <= 5.0 * se + 1e-12,
                "p {p}: mean {m} for {xi}"
            );
        }
    }
}

#[test]
fn a_mask_drops_the_fraction_asked_for_and_scales_the_rest() {
    for p in [0.0, 0.25, 0.5, 0.9] {
        let mask = DropoutMask::new(p, 11).unwrap();
        let n = 200_000;
        let kept = (0..n).filter(|&i| mask.keeps(i)).count() as f64 / n as f64;
        assert!((kept - (1.0 - p)).abs() < 0.005, "p {p}: kept {kept}");
        let k = (0..n).find(|&i| mask.keeps(i)).unwrap();
        assert_eq!(mask.factor::<f64>(k), 1.0 / (1.0 - p));
    }
    let never = DropoutMask::new(0.0, 11).unwrap();
    assert!((0..10_000).all(|i| never.keeps(i)));
}

#[test]
fn dropout_gradients_with_a_fixed_mask_match_central_differences() {
    let x = ArrayD::from_shape_fn(vec![4, 5], |i| {
        (i[0] as f64 - 1.5) * 0.7 + i[1] as f64 * 0.3
    });
    let mask = DropoutMask::new(0.5, 5).unwrap();
    let report = gradcheck(&[x], |_, v| Ok(v[0].tanh().dropout(mask).square().sum())).unwrap();
    assert!(report.max_relative_error() < 1e-8, "{report:?}");
}

#[test]
fn the_gradient_is_the_mask() {
    let tape = Tape::<f32>::new();
    let x = tape.param(ArrayD::from_elem(vec![3, 7], 2.0f32));
    let mask = DropoutMask::new(0.3, 9).unwrap();
    let g = x.dropout(mask).sum().backward().unwrap();
    for (i, &gi) in g[x].iter().enumerate() {
        assert_eq!(gi, mask.factor::<f32>(i), "element {i}");
    }
}

#[test]
fn the_same_seed_gives_the_same_mask_and_another_seed_another() {
    let x = ArrayD::from_elem(vec![64], 1.0);
    let value = |seed| {
        let tape = Tape::<f64>::new();
        let y = tape
            .constant(x.clone())
            .dropout(DropoutMask::new(0.5, seed).unwrap());
        y.value()
    };
    assert_eq!(value(1), value(1));
    assert_ne!(value(1), value(2));
}

#[test]
fn nan_stays_nan_even_where_dropped() {
    let tape = Tape::<f64>::new();
    let x = tape.constant(ArrayD::from_elem(vec![50], f64::NAN));
    let y = x.dropout(DropoutMask::new(0.5, 0).unwrap());
    assert!(y.value().iter().all(|v| v.is_nan()));
}

#[test]
fn a_probability_outside_zero_to_one_is_an_error_naming_it() {
    for p in [-0.5, 1.0, 2.0, f64::NAN, f64::INFINITY] {
        let err = DropoutMask::new(p, 0).unwrap_err();
        assert!(
            matches!(err, Error::BadProbability { op: "dropout", .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(&p.to_string()), "{err}");
    }
}
