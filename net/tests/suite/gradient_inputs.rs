//! The hand-written gradients refuse a batch that does not fit the net with a typed error
//! naming what is wrong, before computing anything.

use ndarray::Array2;
use tapegrad_net::{closed_form, per_example, Init, Mlp, NetError};

fn net() -> Mlp<f64> {
    Mlp::new(&[3, 4, 2], Init { std: 0.1, seed: 0 }).unwrap()
}

#[test]
fn fewer_labels_than_examples_is_a_label_count_error_in_both_forms() {
    let x = Array2::zeros((3, 3));
    for result in [
        closed_form::gradients(&net(), x.view(), &[0, 1], 0.0).map(|r| r.0),
        per_example::gradients(&net(), x.view(), &[0, 1], 0.0).map(|r| r.0),
    ] {
        assert!(
            matches!(
                result,
                Err(NetError::LabelCount {
                    examples: 3,
                    labels: 2
                })
            ),
            "{result:?}"
        );
    }
}

#[test]
fn a_label_beyond_the_classes_is_named_with_its_example_in_every_form() {
    let x = Array2::zeros((3, 3));
    let y = [0, 1, 5];
    let mut workspace = closed_form::Workspace::new(3, 3, 4, 2);
    for result in [
        closed_form::gradients(&net(), x.view(), &y, 0.0).map(|r| r.0),
        per_example::gradients(&net(), x.view(), &y, 0.0).map(|r| r.0),
        workspace.gradients(&net(), x.view(), &y, 0.0),
    ] {
        assert!(
            matches!(
                result,
                Err(NetError::Label {
                    index: 2,
                    label: 5,
                    classes: 2
                })
            ),
            "{result:?}"
        );
    }
}

#[test]
fn inputs_of_the_wrong_width_are_an_input_size_error() {
    let x = Array2::zeros((2, 5));
    let result = closed_form::gradients(&net(), x.view(), &[0, 1], 0.0);
    assert!(
        matches!(
            result,
            Err(NetError::InputSize {
                expected: 3,
                found: 5
            })
        ),
        "{:?}",
        result.map(|r| r.0)
    );
}

#[test]
fn the_closed_forms_refuse_a_net_that_is_not_the_documents_two_layers() {
    let deep = Mlp::<f64>::new(&[3, 4, 4, 2], Init::default()).unwrap();
    let x = Array2::zeros((2, 3));
    let mut workspace = closed_form::Workspace::new(2, 3, 4, 2);
    for result in [
        closed_form::gradients(&deep, x.view(), &[0, 1], 0.0).map(|r| r.0),
        per_example::gradients(&deep, x.view(), &[0, 1], 0.0).map(|r| r.0),
        workspace.gradients(&deep, x.view(), &[0, 1], 0.0),
    ] {
        let e = result.unwrap_err();
        assert!(
            matches!(e, NetError::Parameters(_)) && e.to_string().contains("has 3"),
            "{e}"
        );
    }
}
