//! Errors reading model files: each names the tensor, the shapes, the file or the offset.

use ndarray::{array, Ix1, Ix2, IxDyn};
use tapegrad_net::tensor_file::{TensorFile, TensorFileError};

use super::*;

#[test]
fn missing_tensor_lists_the_available_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let mut ck = net_checkpoint();
    ck.remove("W1").unwrap();
    ck.save(&path).unwrap();
    let loaded = TensorFile::load(&path).unwrap();
    let err = loaded.get::<f32, Ix2>("W1").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "model file {}: no tensor 'W1' (it has: W2, b1, b2, mean)",
            path.display()
        )
    );
    match err {
        TensorFileError::MissingTensor {
            name, available, ..
        } => {
            assert_eq!(name, "W1");
            assert_eq!(available, ["W2", "b1", "b2", "mean"]);
        }
        other => panic!("unexpected error {other:?}"),
    }
    // In memory, the message says so.
    let err = TensorFile::new().tensor("x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint: no tensor 'x' (it has: nothing)"
    );
}

#[test]
fn missing_metadata_lists_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    net_checkpoint().save(&path).unwrap();
    let err = TensorFile::load(&path)
        .unwrap()
        .require_metadata("dataset")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "model file {}: no metadata key 'dataset' (it has: classes, hidden)",
            path.display()
        )
    );
}

#[test]
fn rank_and_shape_mismatches_name_tensor_and_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    net_checkpoint().save(&path).unwrap();
    let ck = TensorFile::load(&path).unwrap();

    let err = ck.get::<f32, Ix1>("W1").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "model file {}: tensor 'W1' has shape [3, 4] (F32), expected [_]",
            path.display()
        )
    );
    assert!(matches!(
        err,
        TensorFileError::ShapeMismatch { ref name, ref found, .. } if name == "W1" && found == &[3, 4]
    ));
    let err = ck.get::<f64, Ix2>("b1").unwrap_err();
    assert!(err
        .to_string()
        .ends_with("tensor 'b1' has shape [4] (F32), expected [_, _]"));

    // Exact shapes.
    let w1 = ck.get_with_shape::<f32, _>("W1", (3, 4)).unwrap();
    assert_eq!(w1.dim(), (3, 4));
    let err = ck.get_with_shape::<f32, _>("W1", (4, 3)).unwrap_err();
    assert!(err
        .to_string()
        .ends_with("tensor 'W1' has shape [3, 4] (F32), expected [4, 3]"));
    let err = ck
        .get_with_shape::<f32, _>("mean", IxDyn(&[3, 1]))
        .unwrap_err();
    assert!(err
        .to_string()
        .ends_with("tensor 'mean' has shape [3] (F32), expected [3, 1]"));
}

#[test]
fn loading_a_missing_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.safetensors");
    let err = TensorFile::load(&path).unwrap_err();
    assert!(matches!(err, TensorFileError::NotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("model file {}: no such file", path.display())
    );

    // A directory is not a model file either.
    let err = TensorFile::load(dir.path()).unwrap_err();
    assert!(matches!(err, TensorFileError::Read { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!(
        "model file {}: cannot read it:",
        dir.path().display()
    )));
}

#[test]
fn loading_garbage_says_not_safetensors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "text.safetensors",
            b"this is not a model, just some text\n",
            "header too large",
        ),
        ("tiny.safetensors", b"abc", "header too small"),
        ("empty.safetensors", b"", "header too small"),
        (
            "json.safetensors",
            b"\x08\x00\x00\x00\x00\x00\x00\x00not json",
            "invalid JSON in header",
        ),
    ];
    for (name, bytes, why) in cases {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        let err = TensorFile::load(&path).unwrap_err();
        assert!(
            matches!(err, TensorFileError::NotSafetensors { .. }),
            "{name}: {err:?}"
        );
        let msg = err.to_string();
        let prefix = format!("model file {}: not a safetensors file: ", path.display());
        assert!(msg.starts_with(&prefix), "{msg}");
        assert!(msg.contains(why), "{msg}");
    }
}

#[test]
fn loading_a_truncated_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let good = net_checkpoint().to_bytes().unwrap();
    let header_end = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    // Cut in the data, right after the header, and inside the header.
    for cut in [
        good.len() - 1,
        good.len() - 13,
        header_end,
        header_end - 20,
        9,
    ] {
        let path = dir.path().join(format!("cut{cut}.safetensors"));
        fs::write(&path, &good[..cut]).unwrap();
        let err = TensorFile::load(&path).unwrap_err();
        let needed = if cut < header_end {
            header_end
        } else {
            good.len()
        };
        assert_eq!(
            err.to_string(),
            format!(
                "model file {}: truncated: it has {cut} bytes but its header needs at least {needed}",
                path.display()
            )
        );
    }
    // Trailing junk is not truncation, but still an error.
    let mut long = good.clone();
    long.extend_from_slice(b"junk");
    let err = TensorFile::from_bytes(&long).unwrap_err();
    assert!(
        matches!(err, TensorFileError::NotSafetensors { .. }),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .starts_with("checkpoint: not a safetensors file:"));
}

/// A header padded to a multiple of 8 bytes, then `data`.
fn raw_safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut header = header.as_bytes().to_vec();
    let padding = (8 - header.len() % 8) % 8;
    header.resize(header.len() + padding, b' ');
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header);
    bytes.extend(data);
    bytes
}

#[test]
fn other_dtypes_are_refused_and_foreign_files_load() {
    let int = raw_safetensors(
        r#"{"labels":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}"#,
        &[0; 8],
    );
    let err = TensorFile::from_bytes(&int).unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint: tensor 'labels' has dtype I32; only F32 and F64 are supported"
    );
    // A file written by someone else (name order, no metadata) loads.
    let data: Vec<u8> = [2.0f64]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .chain(3.0f32.to_le_bytes())
        .collect();
    let foreign = raw_safetensors(
        r#"{"z":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}"#,
        &data,
    );
    let ck = TensorFile::from_bytes(&foreign).unwrap();
    assert_eq!(ck.get::<f64, Ix2>("z").unwrap(), array![[2.0]]);
    assert_eq!(ck.get::<f32, ndarray::Ix0>("a").unwrap()[()], 3.0);
}

#[test]
fn reserved_and_empty_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["__metadata__", ""] {
        let mut ck = TensorFile::new();
        ck.insert(name, &array![1.0f32]);
        let err = ck.save(dir.path().join("m.safetensors")).unwrap_err();
        assert!(
            matches!(err, TensorFileError::InvalidName { .. }),
            "{err:?}"
        );
        assert!(err
            .to_string()
            .starts_with(&format!("checkpoint: invalid tensor name '{name}'")));
    }
    assert!(entries(dir.path()).is_empty());
}
