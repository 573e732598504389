//! Hostile model and run-state files: non-finite tensors, metadata that contradicts the
//! weights, endless files and invalid saved hyperparameters are refused with an error that
//! names the file and what is wrong.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, ArrayD};
use tapegrad_net::checkpoint::{
    load_model, load_state, save_model, save_state, CheckpointError, ModelInfo, SavedModel,
};
use tapegrad_net::data::{spiral_splits, MeanImage};
use tapegrad_net::schedule::Schedule;
use tapegrad_net::tensor_file::TensorFile;
use tapegrad_net::train::{TrainConfig, Training};
use tapegrad_net::{Init, Mlp};

fn model(dir: &Path) -> PathBuf {
    let path = dir.join("model.safetensors");
    let saved = SavedModel {
        net: Mlp::new(&[4, 3, 2], Init { std: 0.1, seed: 0 }).unwrap(),
        mean: MeanImage::from_array(Array1::zeros(4)),
        info: ModelInfo {
            dataset: "toy".into(),
            classes: 2,
            image: None,
            input_scale: 1.0,
            extra: Default::default(),
        },
    };
    save_model(&path, &saved).unwrap();
    path
}

/// Loads `path`, lets `change` edit the checkpoint, saves it back.
fn tamper(path: &Path, change: impl FnOnce(&mut TensorFile)) {
    let mut ck = TensorFile::load(path).unwrap();
    change(&mut ck);
    ck.save(path).unwrap();
}

/// Sets element 0 of tensor `name` to `value`.
fn poison(ck: &mut TensorFile, name: &str, value: f32) {
    let mut t: ArrayD<f32> = ck.get(name).unwrap();
    if let Some(x) = t.iter_mut().next() {
        *x = value;
    }
    ck.insert(name, &t);
}

#[test]
fn non_finite_value_in_any_model_tensor_is_refused_naming_file_and_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    for tensor in ["W1", "b1", "W2", "b2", "mean"] {
        for value in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let path = model(tmp.path());
            tamper(&path, |ck| poison(ck, tensor, value));
            let err = load_model(&path).unwrap_err();
            assert!(matches!(err, CheckpointError::NonFinite { .. }), "{err}");
            let text = err.to_string();
            assert!(text.contains(&path.display().to_string()), "{text}");
            assert!(text.contains(&format!("tensor '{tensor}'")), "{text}");
        }
    }
}

#[test]
fn classes_metadata_that_is_not_w2s_column_count_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for classes in ["1000000000000", "3", "0", "18446744073709551616"] {
        let path = model(tmp.path());
        tamper(&path, |ck| {
            ck.set_metadata("classes", classes);
        });
        let err = load_model(&path).unwrap_err().to_string();
        assert!(err.contains("'classes'") && err.contains(classes), "{err}");
    }
}

#[test]
fn image_metadata_that_is_not_w1s_row_count_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = model(tmp.path());
    tamper(&path, |ck| {
        ck.set_metadata("image", "4294967296,4294967296,1,false");
    });
    let err = load_model(&path).unwrap_err().to_string();
    assert!(err.contains("'image'"), "{err}");
}

#[test]
fn weights_with_no_classes_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = model(tmp.path());
    tamper(&path, |ck| {
        ck.insert("W2", &Array2::<f32>::zeros((3, 0)));
        ck.insert("b2", &Array1::<f32>::zeros(0));
        ck.set_metadata("classes", "0");
    });
    let err = load_model(&path).unwrap_err().to_string();
    assert!(err.contains("W2 has zero classes"), "{err}");
}

#[test]
fn dev_zero_as_a_model_file_stops_after_its_header() {
    let err = load_model(Path::new("/dev/zero")).unwrap_err().to_string();
    assert!(
        err.contains("/dev/zero") && err.contains("not a safetensors file"),
        "{err}"
    );
}

#[test]
fn header_announcing_more_than_the_model_limit_is_refused_before_the_data_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let header =
        br#"{"W1":{"dtype":"F32","shape":[1000000000000],"data_offsets":[0,4000000000000]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header);
    let path = tmp.path().join("huge.safetensors");
    std::fs::write(&path, bytes).unwrap();
    let err = load_model(&path).unwrap_err().to_string();
    assert!(
        err.contains("4000000000000 bytes") && err.contains("limit"),
        "{err}"
    );
}

/// A run state after one epoch of a small spiral run.
fn state(dir: &Path) -> PathBuf {
    let splits = spiral_splits(20, 3, 0).unwrap();
    let config = TrainConfig {
        hidden: vec![5],
        epochs: 1,
        lr: 0.001,
        schedule: Schedule::OneCycle {
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
        },
        ..TrainConfig::default()
    };
    let mut run = Training::<f32>::new(&config, 2, 3).unwrap();
    run.run(&config, &splits.train, &splits.val, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let info = ModelInfo {
        dataset: "spiral".into(),
        classes: 3,
        image: None,
        input_scale: 1.0,
        extra: Default::default(),
    };
    let path = dir.join("state.safetensors");
    let mean = MeanImage::from_array(Array1::zeros(2));
    save_state(&path, &run, &config, &mean, &info).unwrap();
    path
}

#[test]
fn state_with_invalid_saved_hyperparameters_names_the_state_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = state(tmp.path());
    assert!(load_state(&path).is_ok());
    for (from, to) in [
        ("\"batch_size\":32", "\"batch_size\":0"),
        ("\"lr\":0.001", "\"lr\":-1.0"),
        ("\"hidden\":[5]", "\"hidden\":[1000000000000]"),
        ("\"pct_start\":0.3", "\"pct_start\":1.5"),
    ] {
        let path = state(tmp.path());
        tamper(&path, |ck| {
            let text = ck
                .require_metadata("state.config")
                .unwrap()
                .replace(from, to);
            ck.set_metadata("state.config", text);
        });
        let err = load_state(&path).err().expect("the state is refused");
        assert!(matches!(err, CheckpointError::Config { .. }), "{to}: {err}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
}

#[test]
fn non_finite_optimizer_state_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = state(tmp.path());
    tamper(&path, |ck| poison(ck, "opt.v2", f32::NAN));
    let err = load_state(&path)
        .err()
        .expect("the state is refused")
        .to_string();
    assert!(err.contains("tensor 'opt.v2'"), "{err}");
}
