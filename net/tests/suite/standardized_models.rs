//! Standardised inputs in model files: the standard deviations round-trip as the `std`
//! tensor, files without one (every earlier model) read as not standardised, preprocessing
//! divides by them, and a `std` of the wrong length or with a non-positive or non-finite
//! value is refused naming the file and the tensor.

use std::path::{Path, PathBuf};

use ndarray::{array, Array1};
use tapegrad_net::checkpoint::{load_model, save_model, CheckpointError, ModelInfo, SavedModel};
use tapegrad_net::data::{digits_splits, MeanImage, Standardize};
use tapegrad_net::tensor_file::{TensorFile, TensorFileError};
use tapegrad_net::{Init, Mlp};

fn saved(mean: MeanImage) -> SavedModel {
    SavedModel {
        net: Mlp::new(&[3, 4, 2], Init { std: 0.1, seed: 0 }).unwrap(),
        mean,
        info: ModelInfo {
            dataset: "toy".into(),
            classes: 2,
            image: None,
            input_scale: 1.0,
            extra: Default::default(),
        },
    }
}

fn standardized() -> MeanImage {
    MeanImage::from_array(array![1.0, 2.0, 3.0]).with_std(array![0.5, 2.0, 4.0])
}

fn write(dir: &Path, model: &SavedModel) -> PathBuf {
    let path = dir.join("model.safetensors");
    save_model(&path, model).unwrap();
    path
}

#[test]
fn a_standardized_model_round_trips_and_preprocesses_by_its_std() {
    let tmp = tempfile::tempdir().unwrap();
    let model = saved(standardized());
    let loaded = load_model(&write(tmp.path(), &model)).unwrap();
    assert_eq!((&loaded.net, &loaded.mean), (&model.net, &model.mean));
    let mut x = array![[2.0f32, 4.0, 7.0]];
    loaded.preprocess(x.view_mut(), 1.0).unwrap();
    assert_eq!(x, array![[2.0f32, 1.0, 1.0]]);
}

#[test]
fn a_model_file_without_std_reads_as_mean_subtraction_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), &saved(standardized()));
    let mut ck = TensorFile::load(&path).unwrap();
    assert!(ck.remove("std").is_some());
    ck.save(&path).unwrap();
    let loaded = load_model(&path).unwrap();
    assert_eq!(loaded.mean.std(), None);
    let mut x = array![[2.0f32, 4.0, 7.0]];
    loaded.preprocess(x.view_mut(), 1.0).unwrap();
    assert_eq!(x, array![[1.0f32, 2.0, 4.0]]);
}

#[test]
fn a_std_of_the_wrong_length_is_refused_naming_the_tensor_and_shapes() {
    let tmp = tempfile::tempdir().unwrap();
    for len in [0, 2, 4] {
        let path = write(tmp.path(), &saved(standardized()));
        let mut ck = TensorFile::load(&path).unwrap();
        ck.insert("std", &Array1::<f32>::ones(len));
        ck.save(&path).unwrap();
        let err = load_model(&path).unwrap_err();
        assert!(
            matches!(
                &err,
                CheckpointError::TensorFile(TensorFileError::ShapeMismatch { name, found, .. })
                    if name == "std" && found == &[len]
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
}

#[test]
fn a_zero_negative_or_non_finite_std_is_refused_naming_file_tensor_and_element() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in [
        0.0,
        -0.0,
        -1.0,
        f32::NAN,
        f32::INFINITY,
        f32::MIN_POSITIVE * 0.0,
    ] {
        let path = write(tmp.path(), &saved(standardized()));
        let mut ck = TensorFile::load(&path).unwrap();
        ck.insert("std", &array![1.0f32, bad, 1.0]);
        ck.save(&path).unwrap();
        let err = load_model(&path).unwrap_err();
        assert!(
            matches!(&err, CheckpointError::NotPositive { tensor, index: 1, .. } if tensor == "std"),
            "{bad}: {err}"
        );
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
}

#[test]
fn standardisation_is_fitted_on_the_training_split_alone() {
    let mut splits = digits_splits(0).unwrap();
    let train = splits.train.clone();
    let mean = MeanImage::fit_apply_with(&mut splits, Standardize::Feature).unwrap();
    assert_eq!(mean, MeanImage::fit_with(&train, Standardize::Feature));
    // The standardised training features have unit spread where the floor does not apply.
    let std = mean.std().unwrap();
    let floor = std.iter().cloned().fold(f32::INFINITY, f32::min);
    for (j, column) in splits.train.features().columns().into_iter().enumerate() {
        let n = column.len() as f64;
        let spread = (column.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / n).sqrt();
        if std[j] > floor {
            assert!((spread - 1.0).abs() < 1e-4, "feature {j}: {spread}");
        } else {
            assert!(spread < 1.0 + 1e-4, "feature {j}: {spread}");
        }
    }
}
