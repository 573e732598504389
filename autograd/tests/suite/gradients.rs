//! Reading gradients: `Gradients::take_as` (typed, or an error that says why not) and its
//! `Debug` listing.

use crate::common::assert_error;
use ndarray::{array, Array1, Array2, Ix1, Ix2, IxDyn};
use tapegrad_autograd::{Error, Tape};

#[test]
fn take_as_moves_the_gradient_out_with_its_dimensionality_or_says_why_not() {
    let tape = Tape::<f64>::new();
    let w = tape.param(array![[1.0, 2.0], [3.0, 4.0]]);
    let c = tape.constant(array![1.0]);
    let loss = w.square().sum();
    let mut grads = loss.backward().unwrap();
    let dw: Array2<f64> = grads.take_as::<Ix2>(w).unwrap();
    assert_eq!(dw, array![[2.0, 4.0], [6.0, 8.0]]);
    assert!(grads.get(w).is_none(), "moved out");
    assert!(matches!(
        grads.take_as::<Ix1>(c),
        Err(Error::NoGradient { index: 1, .. })
    ));
    let mut grads = loss.backward().unwrap();
    assert_error(
        grads.take_as::<Ix1>(w),
        Error::WrongRank {
            op: "gradient lookup",
            expected: 1,
            shape: vec![2, 2],
        },
        "gradient lookup: expected a 1-D tensor, got shape [2, 2]",
    );
}

#[test]
fn take_as_with_the_wrong_dimensionality_leaves_the_gradient_in_place() {
    let tape = Tape::<f64>::new();
    let w = tape.param(array![[1.0, 2.0], [3.0, 4.0]]);
    let mut grads = w.square().sum().backward().unwrap();
    assert!(grads.take_as::<Ix1>(w).is_err());
    // The caller can retry with the right dimensionality.
    let dw = grads
        .take_as::<Ix2>(w)
        .expect("the gradient is still there");
    assert_eq!(dw, array![[2.0, 4.0], [6.0, 8.0]]);
}

#[test]
fn take_as_returns_the_typed_gradient() {
    let tape = Tape::<f64>::new();
    let w = tape.param(array![[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]]);
    let b = tape.param(array![1.0, 2.0, 3.0]);
    let mut g = w.add(b).unwrap().square().sum().backward().unwrap();
    let dw: Array2<f64> = g.take_as::<Ix2>(w).unwrap();
    let db: Array1<f64> = g.take_as::<Ix1>(b).unwrap();
    assert_eq!(dw, array![[4.0, 0.0, 12.0], [3.0, 4.0, 4.0]]);
    assert_eq!(db, array![7.0, 4.0, 16.0]);
    assert!(g.get(w).is_none() && g.get(b).is_none()); // moved out
}

#[test]
fn take_as_with_the_wrong_dimensionality_is_a_wrong_rank_error() {
    let tape = Tape::<f64>::new();
    let w = tape.param(Array2::<f64>::ones((2, 3)));
    let mut g = w.sum().backward().unwrap();
    let e = g.take_as::<Ix1>(w).unwrap_err();
    assert_eq!(
        e,
        Error::WrongRank {
            op: "gradient lookup",
            expected: 1,
            shape: vec![2, 3],
        }
    );
    assert_eq!(
        e.to_string(),
        "gradient lookup: expected a 1-D tensor, got shape [2, 3]"
    );
}

#[test]
fn take_as_any_dimensionality_is_always_accepted() {
    let tape = Tape::<f64>::new();
    let w = tape.param(Array2::<f64>::ones((2, 3)));
    let mut g = w.sum().backward().unwrap();
    assert_eq!(g.take_as::<IxDyn>(w).unwrap().shape(), &[2, 3]);
}

#[test]
fn take_as_on_a_constant_is_a_no_gradient_error() {
    let tape = Tape::<f64>::new();
    let w = tape.param(array![1.0, 2.0]);
    let x = tape.constant(array![3.0, 4.0]);
    let mut g = w.mul(x).unwrap().sum().backward().unwrap();
    let e = g.take_as::<Ix1>(x).unwrap_err();
    assert_eq!(
        e,
        Error::NoGradient {
            index: 1,
            what: "constant".into(),
            reason: "record it with Tape::param to get one",
        }
    );
    // A second take of a taken gradient says the same kind of thing, not a panic.
    g.take_as::<Ix1>(w).unwrap();
    assert!(matches!(
        g.take_as::<Ix1>(w),
        Err(Error::NoGradient { index: 0, .. })
    ));
}

#[test]
fn take_as_with_a_variable_of_another_tape_is_a_foreign_variable_error() {
    let (tape, other) = (Tape::<f64>::new(), Tape::<f64>::new());
    let w = tape.param(array![1.0]);
    let stranger = other.param(array![1.0]);
    let mut g = w.sum().backward().unwrap();
    assert!(matches!(
        g.take_as::<Ix1>(stranger),
        Err(Error::ForeignVariable { .. })
    ));
}

#[test]
fn gradients_debug_lists_the_indices_and_shapes_of_the_gradients_held() {
    let tape = Tape::<f64>::new();
    let w = tape.param(Array2::<f64>::ones((2, 3))); // #0
    let x = tape.constant(Array1::<f64>::ones(3)); // #1: a constant, no gradient
    let b = tape.param(Array1::<f64>::zeros(3)); // #2
    let s = tape.param(ndarray::arr0(2.0)); // #3: 0-D
    let unused = tape.param(array![1.0]); // #4: not in the loss
    let loss = w.mul(x).unwrap().add(b).unwrap().mul(s).unwrap().sum();
    let mut g = loss.backward().unwrap();
    assert_eq!(format!("{g:?}"), "{#0: [2, 3], #2: [3], #3: []}");
    assert!(g.get(unused).is_none());
    g.take(w);
    assert_eq!(format!("{g:?}"), "{#2: [3], #3: []}");
}
