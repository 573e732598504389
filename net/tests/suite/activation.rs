//! The activation between an `Mlp`'s layers: the tape's gradients of tanh, sigmoid and leaky
//! ReLU nets agree with central differences, the tape-free scores agree with the tape, the
//! model file keeps the activation (a file without one is a ReLU net), and the document's
//! closed forms refuse any net but the ReLU one.

use std::path::Path;

use crate::small_nets::{self, assert_tape_matches_central_differences};
use ndarray::{Array1, Array2};
use tapegrad_autograd::{relative_error, Tape};
use tapegrad_net::checkpoint::{load_model, save_model, CheckpointError, ModelInfo, SavedModel};
use tapegrad_net::data::MeanImage;
use tapegrad_net::model::Objective;
use tapegrad_net::tensor_file::TensorFile;
use tapegrad_net::{closed_form, per_example, Activation, Init, Mlp, NetError};

/// A net of `sizes` with `activation`, weights of std 0.5 (so that tanh and sigmoid work away
/// from their linear middle), and a batch for it.
fn net_and_batch(
    sizes: &[usize],
    activation: Activation,
    seed: u64,
) -> (Mlp<f64>, Array2<f64>, Vec<usize>) {
    let (net, x, y) = small_nets::net_and_batch(sizes, 5, seed);
    (net.with_activation(activation), x, y)
}

#[test]
fn tape_gradients_of_tanh_sigmoid_and_leaky_relu_nets_match_central_differences() {
    for activation in [Activation::Tanh, Activation::Sigmoid, Activation::LeakyRelu] {
        for (seed, sizes) in [(1, vec![3, 6, 4]), (2, vec![4, 5, 3, 3])] {
            let (net, x, y) = net_and_batch(&sizes, activation, seed);
            let what = format!("{activation} {sizes:?}");
            assert_tape_matches_central_differences(&net, &x, &y, Objective::new(0.05), &what);
        }
    }
}

#[test]
fn scores_without_a_tape_equal_the_taped_scores_for_every_activation() {
    for activation in Activation::ALL {
        let (net, x, y) = net_and_batch(&[3, 7, 5, 4], activation, 9);
        let direct = net.scores(x.view()).unwrap().into_dyn();
        let tape = Tape::new();
        let recorded = net.record(&tape, x.clone(), &y, 0.0).unwrap();
        let taped = recorded.scores.value();
        let err = relative_error(&direct, &taped);
        assert!(err < 1e-14, "{activation}: {err:e}");
    }
}

#[test]
fn the_activation_changes_the_function_a_net_computes() {
    let (relu, x, _) = net_and_batch(&[3, 6, 4], Activation::Relu, 3);
    let tanh = relu.clone().with_activation(Activation::Tanh);
    assert_ne!(
        relu.scores(x.view()).unwrap(),
        tanh.scores(x.view()).unwrap()
    );
}

fn saved(net: Mlp<f32>) -> SavedModel {
    SavedModel {
        mean: MeanImage::from_array(Array1::zeros(net.inputs())),
        info: ModelInfo {
            dataset: "toy".into(),
            classes: net.classes(),
            image: None,
            input_scale: 1.0,
            extra: Default::default(),
        },
        net,
    }
}

fn save(dir: &Path, activation: Activation) -> (std::path::PathBuf, SavedModel) {
    let path = dir.join(format!("{activation}.safetensors"));
    let net = Mlp::new(&[4, 3, 2], Init { std: 0.1, seed: 0 })
        .unwrap()
        .with_activation(activation);
    let model = saved(net);
    save_model(&path, &model).unwrap();
    (path, model)
}

#[test]
fn a_model_file_round_trip_keeps_the_activation() {
    let dir = tempfile::tempdir().unwrap();
    for activation in Activation::ALL {
        let (path, model) = save(dir.path(), activation);
        let back = load_model(&path).unwrap();
        assert_eq!(back.net.activation(), activation);
        assert_eq!(back.net, model.net);
        assert!(
            !back.info.extra.contains_key("activation"),
            "not an extra fact"
        );
    }
}

#[test]
fn a_model_file_without_an_activation_reads_as_relu() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = save(dir.path(), Activation::Tanh);
    let mut ck = TensorFile::load(&path).unwrap();
    assert_eq!(
        ck.metadata_mut().remove("activation").as_deref(),
        Some("tanh")
    );
    ck.save(&path).unwrap();
    assert_eq!(
        load_model(&path).unwrap().net.activation(),
        Activation::Relu
    );
}

#[test]
fn an_unknown_activation_in_a_model_file_is_refused_naming_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = save(dir.path(), Activation::Relu);
    let mut ck = TensorFile::load(&path).unwrap();
    ck.set_metadata("activation", "swish");
    ck.save(&path).unwrap();
    let err = load_model(&path).unwrap_err();
    assert!(matches!(err, CheckpointError::Metadata { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("activation") && text.contains("swish"),
        "{text}"
    );
}

#[test]
fn closed_form_and_per_example_refuse_a_net_that_is_not_relu() {
    for activation in [Activation::Tanh, Activation::Sigmoid, Activation::LeakyRelu] {
        let (net, x, y) = net_and_batch(&[3, 4, 2], activation, 4);
        for err in [
            closed_form::gradients(&net, x.view(), &y, 0.0).unwrap_err(),
            per_example::gradients(&net, x.view(), &y, 0.0).unwrap_err(),
        ] {
            assert!(matches!(err, NetError::Parameters(_)), "{err:?}");
            assert!(err.to_string().contains(activation.name()), "{err}");
        }
    }
}
