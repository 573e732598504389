//! Every error case: the typed variant (`Error` is `PartialEq`, so the whole value is
//! compared) and the full message a user reads. A failed op records nothing. (The errors of
//! custom ops that break their contract are in custom_op.rs.)

use crate::common::{assert_error, FOREIGN};
use ndarray::{array, Array1, Array2, Array3, ArrayD};
use tapegrad_autograd::{Error, Result, Tape, Var};

fn zeros(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::zeros(shape)
}

#[test]
fn matmul_with_different_inner_dimensions_is_a_shape_mismatch() {
    let tape = Tape::<f64>::new();
    let a = tape.param(Array2::<f64>::zeros((2, 3)));
    let b = tape.param(Array2::<f64>::zeros((4, 5)));
    let before = tape.len();
    assert_error(
        a.matmul(b),
        Error::ShapeMismatch {
            op: "matmul",
            lhs: vec![2, 3],
            rhs: vec![4, 5],
            reason: "the inner dimensions differ (3 vs 4)".into(),
        },
        "matmul: shapes [2, 3] and [4, 5] do not fit: the inner dimensions differ (3 vs 4)",
    );
    assert_eq!(tape.len(), before, "a failed op records nothing");
}

#[test]
fn matmul_of_a_1d_or_3d_tensor_is_a_wrong_rank() {
    let tape = Tape::<f64>::new();
    let v = tape.param(Array1::<f64>::zeros(3));
    let m = tape.param(Array2::<f64>::zeros((3, 2)));
    let t = tape.param(Array3::<f64>::zeros((2, 2, 3)));
    let wrong_rank = |shape: Vec<usize>| Error::WrongRank {
        op: "matmul",
        expected: 2,
        shape,
    };
    let msg = "matmul: expected a 2-D tensor, got shape [3]";
    assert_error(v.matmul(m), wrong_rank(vec![3]), msg);
    assert_error(m.transpose().matmul(v), wrong_rank(vec![3]), msg);
    let msg = "matmul: expected a 2-D tensor, got shape [2, 2, 3]";
    assert_error(t.matmul(m), wrong_rank(vec![2, 2, 3]), msg);
    let s = tape.constant(zeros(&[]));
    assert_error(
        m.matmul(s),
        wrong_rank(vec![]),
        "matmul: expected a 2-D tensor, got shape []",
    );
}

#[test]
fn binary_ops_with_unbroadcastable_shapes_are_shape_mismatches() {
    let tape = Tape::<f64>::new();
    let a = tape.param(zeros(&[2, 3]));
    let b = tape.param(zeros(&[4]));
    type Op = fn(Var<'_, f64>, Var<'_, f64>) -> Result<()>;
    let ops: [(&str, Op); 4] = [
        ("add", |a, b| a.add(b).map(drop)),
        ("sub", |a, b| a.sub(b).map(drop)),
        ("mul", |a, b| a.mul(b).map(drop)),
        ("div", |a, b| a.div(b).map(drop)),
    ];
    for (name, op) in ops {
        assert_error(
            op(a, b),
            Error::ShapeMismatch {
                op: name,
                lhs: vec![2, 3],
                rhs: vec![4],
                reason: "cannot broadcast dimension 3 against 4 (axis 1 of the result); \
                         dimensions must be equal or 1"
                    .into(),
            },
            &format!(
                "{name}: shapes [2, 3] and [4] do not fit: cannot broadcast dimension 3 against 4 \
                 (axis 1 of the result); dimensions must be equal or 1"
            ),
        );
    }
    // 3-D against 2-D: the first clash from the front of the aligned shapes is reported.
    let c = tape.param(zeros(&[2, 3, 4]));
    let d = tape.param(zeros(&[5, 4]));
    assert_error(
        d.mul(c),
        Error::ShapeMismatch {
            op: "mul",
            lhs: vec![5, 4],
            rhs: vec![2, 3, 4],
            reason: "cannot broadcast dimension 5 against 3 (axis 1 of the result); \
                     dimensions must be equal or 1"
                .into(),
        },
        "mul: shapes [5, 4] and [2, 3, 4] do not fit: cannot broadcast dimension 5 against 3 \
         (axis 1 of the result); dimensions must be equal or 1",
    );
}

#[test]
fn backward_from_a_non_scalar_is_not_scalar() {
    let tape = Tape::<f64>::new();
    let x = tape.param(zeros(&[2, 3]));
    assert_error(
        x.relu().backward(),
        Error::NotScalar {
            op: "backward",
            shape: vec![2, 3],
            len: 6,
        },
        "backward: the value has shape [2, 3] (6 elements), but backward needs exactly one \
         element; reduce it first with sum() or mean()",
    );
    let empty = tape.param(zeros(&[0]));
    assert_error(
        empty.backward(),
        Error::NotScalar {
            op: "backward",
            shape: vec![0],
            len: 0,
        },
        "backward: the value has shape [0] (0 elements), but backward needs exactly one \
         element; reduce it first with sum() or mean()",
    );
}

#[test]
fn item_of_more_or_fewer_than_one_element_is_not_scalar() {
    let tape = Tape::<f64>::new();
    let x = tape.param(zeros(&[2, 3]));
    assert_error(
        x.item(),
        Error::NotScalar {
            op: "item",
            shape: vec![2, 3],
            len: 6,
        },
        "item: the value has shape [2, 3] (6 elements), but item needs exactly one element; \
         reduce it first with sum() or mean()",
    );
    assert!(matches!(
        tape.param(zeros(&[0])).item(),
        Err(Error::NotScalar { len: 0, .. })
    ));
    // One element of any rank is fine.
    assert_eq!(tape.param(zeros(&[1, 1])).item(), Ok(0.0));
}

#[test]
fn clamp_with_bounds_that_are_not_an_interval_is_bad_bounds() {
    let tape = Tape::<f32>::new();
    let x = tape.param(ndarray::ArrayD::<f32>::zeros(vec![3]));
    let before = tape.len();
    assert_error(
        x.clamp(1.0, -1.0),
        Error::BadBounds { lo: 1.0, hi: -1.0 },
        "clamp: the bounds lo = 1 and hi = -1 are not an interval; lo must be at most hi, and \
         neither may be NaN",
    );
    assert!(matches!(
        x.clamp(f32::NAN, 1.0),
        Err(Error::BadBounds { .. })
    ));
    assert!(matches!(
        x.clamp(0.0, f32::NAN),
        Err(Error::BadBounds { .. })
    ));
    assert_eq!(tape.len(), before, "a refused clamp records nothing");
    assert!(x.clamp(0.5, 0.5).is_ok(), "a single point is an interval");
}

#[test]
fn variables_of_two_tapes_in_one_binary_op_are_foreign() {
    let (t1, t2) = (Tape::<f64>::new(), Tape::<f64>::new());
    let a = t1.param(zeros(&[2, 2]));
    let b = t2.param(zeros(&[2, 2]));
    assert_error(
        a.add(b),
        Error::ForeignVariable { op: "add" },
        &format!("add: {FOREIGN}"),
    );
    assert_error(
        b.matmul(a),
        Error::ForeignVariable { op: "matmul" },
        &format!("matmul: {FOREIGN}"),
    );
    assert_eq!(
        (t1.len(), t2.len()),
        (1, 1),
        "nothing recorded on either tape"
    );
}

#[test]
fn gradient_lookup_with_a_variable_of_another_tape_is_foreign() {
    let (t1, t2) = (Tape::<f64>::new(), Tape::<f64>::new());
    let x = t1.param(array![1.0, 2.0]);
    let y = t2.param(array![1.0, 2.0]); // same index (0) as x, on another tape
    let grads = x.sum().backward().unwrap();
    assert_error(
        grads.wrt(y),
        Error::ForeignVariable {
            op: "gradient lookup",
        },
        &format!("gradient lookup: {FOREIGN}"),
    );
    assert!(grads.get(y).is_none());
}

#[test]
fn pick_with_a_label_out_of_range_names_row_label_and_classes() {
    let tape = Tape::<f64>::new();
    let x = tape.param(zeros(&[3, 4]));
    let expected = Error::LabelOutOfRange {
        row: 1,
        label: 4,
        classes: 4,
        shape: vec![3, 4],
    };
    let msg = "pick: label 4 in row 1 is out of range for 4 classes (shape [3, 4])";
    let before = tape.len();
    assert_error(x.pick(&[0, 4, 9]), expected.clone(), msg);
    assert_eq!(tape.len(), before, "a failed pick records nothing");
    // cross_entropy reports the same error (it is built on pick).
    assert_error(x.cross_entropy(&[0, 4, 9]), expected, msg);
}

#[test]
fn pick_with_the_wrong_number_of_labels_is_a_label_count_error() {
    let tape = Tape::<f64>::new();
    let x = tape.param(zeros(&[3, 4]));
    assert_error(
        x.pick(&[0, 1]),
        Error::LabelCount {
            labels: 2,
            rows: 3,
            shape: vec![3, 4],
        },
        "pick: 2 labels for 3 rows (shape [3, 4]); give one label per row",
    );
    assert_error(
        x.cross_entropy(&[0, 1, 2, 3]),
        Error::LabelCount {
            labels: 4,
            rows: 3,
            shape: vec![3, 4],
        },
        "pick: 4 labels for 3 rows (shape [3, 4]); give one label per row",
    );
}

#[test]
fn pick_on_a_1d_tensor_is_a_wrong_rank() {
    let tape = Tape::<f64>::new();
    let x = tape.param(zeros(&[4]));
    assert_error(
        x.pick(&[1]),
        Error::WrongRank {
            op: "pick",
            expected: 2,
            shape: vec![4],
        },
        "pick: expected a 2-D tensor, got shape [4]",
    );
}

#[test]
fn reductions_and_log_softmax_along_a_missing_axis_are_axis_out_of_range() {
    let tape = Tape::<f64>::new();
    let x = tape.param(zeros(&[2, 3]));
    let v = tape.param(zeros(&[5]));
    let out_of_range = |op, axis, shape: &[usize]| Error::AxisOutOfRange {
        op,
        axis,
        ndim: shape.len(),
        shape: shape.to_vec(),
    };
    assert_error(
        x.sum_axis(2, false),
        out_of_range("sum_axis", 2, &[2, 3]),
        "sum_axis: axis 2 is out of range for shape [2, 3] (2 dimensions)",
    );
    assert_error(
        x.log_softmax(7),
        out_of_range("log_softmax", 7, &[2, 3]),
        "log_softmax: axis 7 is out of range for shape [2, 3] (2 dimensions)",
    );
    assert_error(
        x.softmax(2),
        out_of_range("softmax", 2, &[2, 3]),
        "softmax: axis 2 is out of range for shape [2, 3] (2 dimensions)",
    );
    // cross_entropy of 1-D scores: log_softmax along axis 1 fails first.
    assert_error(
        v.cross_entropy(&[0]),
        out_of_range("log_softmax", 1, &[5]),
        "log_softmax: axis 1 is out of range for shape [5] (1 dimension)",
    );
    // mean_axis reports under its own name.
    assert_error(
        x.mean_axis(3, true),
        out_of_range("mean_axis", 3, &[2, 3]),
        "mean_axis: axis 3 is out of range for shape [2, 3] (2 dimensions)",
    );
}

#[test]
fn reshape_to_a_different_number_of_elements_is_a_bad_reshape() {
    let tape = Tape::<f64>::new();
    let x = tape.param(zeros(&[2, 3]));
    assert_error(
        x.reshape(&[4, 2]),
        Error::BadReshape {
            op: "reshape",
            from: vec![2, 3],
            to: vec![4, 2],
            reason: "6 elements cannot become 8".into(),
        },
        "reshape: cannot turn shape [2, 3] into [4, 2]: 6 elements cannot become 8",
    );
}

#[test]
fn permute_with_a_bad_axis_list_is_a_bad_axis_order() {
    let tape = Tape::<f64>::new();
    let x = tape.param(zeros(&[2, 3, 4]));
    // A repeated axis, a missing axis (too short), an axis that does not exist.
    for axes in [vec![0, 0, 1], vec![1, 0], vec![0, 1, 3], vec![2, 1, 0, 3]] {
        assert_error(
            x.permute(&axes),
            Error::BadAxisOrder {
                axes: axes.clone(),
                shape: vec![2, 3, 4],
            },
            &format!(
                "permute: {axes:?} is not an axis order for shape [2, 3, 4]: list each of the 3 \
                 axes exactly once"
            ),
        );
    }
}

#[test]
fn gradient_of_a_constant_an_intermediate_or_an_unused_parameter_says_why_there_is_none() {
    let tape = Tape::<f64>::new();
    let x = tape.constant(array![[1.0, 2.0]]); // #0
    let w = tape.param_named("W", array![[1.0], [2.0]]); // #1
    let unused = tape.param(array![3.0]); // #2
    let h = x.matmul(w).unwrap(); // #3
    let grads = h.sum().backward().unwrap();
    assert_error(
        grads.wrt(x),
        Error::NoGradient {
            index: 0,
            what: "constant".into(),
            reason: "record it with Tape::param to get one",
        },
        "gradient: variable #0 (constant) has no gradient: record it with Tape::param to get one",
    );
    assert_error(
        grads.wrt(h),
        Error::NoGradient {
            index: 3,
            what: "matmul".into(),
            reason: "it is an intermediate value, and backward keeps the gradients of \
                     parameters only",
        },
        "gradient: variable #3 (matmul) has no gradient: it is an intermediate value, and \
         backward keeps the gradients of parameters only",
    );
    assert_error(
        grads.wrt(unused),
        Error::NoGradient {
            index: 2,
            what: "param".into(),
            reason: "the output of backward does not depend on it",
        },
        "gradient: variable #2 (param) has no gradient: the output of backward does not \
         depend on it",
    );
    assert!(grads.wrt(w).is_ok());
}

#[test]
#[should_panic(
    expected = "gradient: variable #0 (constant) has no gradient: record it with Tape::param to \
                get one"
)]
fn indexing_gradients_with_a_constant_panics_with_the_no_gradient_message() {
    let tape = Tape::<f64>::new();
    let x = tape.constant(array![1.0]);
    let w = tape.param(array![2.0]);
    let grads = x.mul(w).unwrap().sum().backward().unwrap();
    let _ = &grads[x];
}
