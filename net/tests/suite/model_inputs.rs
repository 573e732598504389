//! Bringing new data to a saved model: the model file's `input_scale` (and its default for
//! files written before it), `SavedModel::preprocess`, and `read_inputs` on CSV and IDX files.

use std::fs;
use std::path::Path;

use ndarray::{array, Array1};
use tapegrad_net::checkpoint::{load_model, save_model, CheckpointError, ModelInfo, SavedModel};
use tapegrad_net::data::{read_inputs, DataError, DataSpec, ImageShape, MeanImage};
use tapegrad_net::tensor_file::TensorFile;
use tapegrad_net::{Init, Mlp};

/// A 2-input model trained (nominally) on `dataset` with `input_scale`.
fn model(dataset: &str, input_scale: f64, mean: [f32; 2]) -> SavedModel {
    SavedModel {
        net: Mlp::new(&[2, 3, 2], Init { std: 0.1, seed: 0 }).unwrap(),
        mean: MeanImage::from_array(Array1::from(mean.to_vec())),
        info: ModelInfo {
            dataset: dataset.into(),
            classes: 2,
            image: None,
            input_scale,
            extra: Default::default(),
        },
    }
}

#[test]
fn input_scale_round_trips_through_the_model_file_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    for scale in [1.0, 1.0 / 16.0, 1.0 / 255.0, 3e-7] {
        let saved = model("csv:/x.csv", scale, [0.0, 0.0]);
        save_model(&path, &saved).unwrap();
        let loaded = load_model(&path).unwrap();
        assert_eq!(loaded.info.input_scale.to_bits(), scale.to_bits());
        assert_eq!((loaded.net, loaded.mean), (saved.net, saved.mean));
    }
}

/// Saves `saved`, then removes its `input_scale` as a file from before it existed.
fn without_scale(path: &Path, saved: &SavedModel) {
    save_model(path, saved).unwrap();
    let mut ck = TensorFile::load(path).unwrap();
    assert!(ck.metadata_mut().remove("input_scale").is_some());
    ck.save(path).unwrap();
}

#[test]
fn a_file_without_input_scale_gets_the_scale_of_its_data_sets_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    for (dataset, scale) in [
        ("digits", 1.0 / 16.0),
        ("mnist:/data/mnist", 1.0 / 255.0),
        ("cifar10:/data/c", 1.0 / 255.0),
        ("csv:/data/x.csv", 1.0),
        ("spiral", 1.0),
    ] {
        without_scale(&path, &model(dataset, 0.5, [0.0, 0.0]));
        let loaded = load_model(&path).unwrap();
        assert_eq!(loaded.info.input_scale, scale, "{dataset}");
        assert_eq!(
            loaded.info.input_scale,
            dataset.parse::<DataSpec>().unwrap().input_scale()
        );
    }
}

#[test]
fn a_file_without_input_scale_and_an_unknown_data_set_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    without_scale(&path, &model("my-data", 1.0, [0.0, 0.0]));
    let err = load_model(&path).unwrap_err();
    assert!(matches!(err, CheckpointError::MissingScale { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("'input_scale'") && message.contains("my-data"),
        "{message}"
    );
}

#[test]
fn preprocess_scales_by_the_models_scale_over_the_datas_then_subtracts_the_mean() {
    let saved = model("digits", 1.0 / 16.0, [0.5, 0.25]);
    // Raw counts (units 1): divided by 16, then centred.
    let mut raw = array![[16.0f32, 8.0], [0.0, 4.0]];
    saved.preprocess(raw.view_mut(), 1.0).unwrap();
    assert_eq!(raw, array![[0.5f32, 0.25], [-0.5, 0.0]]);
    // Already divided by 16 (the built-in reader's units): only centred.
    let mut scaled = array![[1.0f32, 0.5], [0.0, 0.25]];
    saved.preprocess(scaled.view_mut(), 1.0 / 16.0).unwrap();
    assert_eq!(scaled, raw);
}

#[test]
fn preprocess_refuses_numbers_that_scaling_makes_infinite_and_rows_of_another_width() {
    let saved = model("csv:/x.csv", 1.0, [0.0, 0.0]);
    let mut huge = array![[3e38f32, 0.0]];
    let err = saved.preprocess(huge.view_mut(), 1e-3).unwrap_err();
    assert!(err.to_string().contains("row 0 feature 1"), "{err}");
    let mut wide = array![[1.0f32, 2.0, 3.0]];
    assert!(saved.preprocess(wide.view_mut(), 1.0).is_err());
}

#[test]
fn read_inputs_takes_csv_rows_with_or_without_a_label_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let unlabelled = dir.path().join("u.csv");
    fs::write(&unlabelled, "a,b\n1,2\n\n3,4.5\n5,6\n").unwrap();
    let inputs = read_inputs(&unlabelled, 2).unwrap();
    assert_eq!(
        inputs.features,
        array![[1.0f32, 2.0], [3.0, 4.5], [5.0, 6.0]]
    );
    assert_eq!(
        (inputs.labels, inputs.units, inputs.image),
        (None, 1.0, None)
    );

    let labelled = dir.path().join("l.csv");
    fs::write(&labelled, "1,2,7\n3,4,0\n").unwrap();
    let inputs = read_inputs(&labelled, 2).unwrap();
    assert_eq!(inputs.features, array![[1.0f32, 2.0], [3.0, 4.0]]);
    assert_eq!(inputs.labels, Some(vec![7, 0]));
}

#[test]
fn read_inputs_refuses_csv_rows_of_another_width_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    fs::write(&path, "1,2,3,4\n").unwrap();
    let err = read_inputs(&path, 2).unwrap_err().to_string();
    assert!(
        err.contains("line 1") && err.contains("4 fields") && err.contains("takes 2 features"),
        "{err}"
    );
    // Rows after the first must have its width.
    fs::write(&path, "1,2\n1,2,3\n").unwrap();
    let err = read_inputs(&path, 2).unwrap_err();
    assert!(matches!(err, DataError::RaggedRow { line: 2, .. }), "{err}");
    // A label that is not a class label.
    fs::write(&path, "1,2,x\n").unwrap();
    assert!(read_inputs(&path, 2).is_err());
}

/// An IDX file: big-endian magic and dimensions, then the bytes.
fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    bytes
}

#[test]
fn read_inputs_takes_every_image_of_an_idx_file_scaled_to_0_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("images");
    let pixels: Vec<u8> = (0..12).map(|i| i * 20).collect();
    fs::write(&path, idx(0x0803, &[3, 2, 2], &pixels)).unwrap();
    let inputs = read_inputs(&path, 4).unwrap();
    assert_eq!(inputs.features.dim(), (3, 4));
    assert_eq!(inputs.features[[2, 3]], 220.0 / 255.0);
    assert_eq!(inputs.units, 1.0 / 255.0);
    assert_eq!(inputs.image, Some(ImageShape::grey(2, 2)));
    assert_eq!(inputs.labels, None);

    let labels = dir.path().join("labels");
    fs::write(&labels, idx(0x0801, &[3], &[1, 2, 3])).unwrap();
    let err = read_inputs(&labels, 4).unwrap_err().to_string();
    assert!(err.contains("labels, not images"), "{err}");
}
