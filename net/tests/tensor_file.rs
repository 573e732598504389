//! Model files: safetensors round trips, error messages, atomic saves.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use ndarray::{array, Array, Array0, Array1, Array2, ArrayD, Ix1, Ix2, Ix3, IxDyn};
use tapegrad_net::tensor_file::{Dtype, Origin, TensorFile, TensorFileError};

/// The entries of a directory, by name.
fn entries(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A net-shaped checkpoint: W1 3x4, b1 4, W2 4x2, b2 2, mean 3, plus metadata.
fn net_checkpoint() -> TensorFile {
    let mut ck = TensorFile::new();
    let w1 = Array2::from_shape_fn((3, 4), |(i, j)| (i as f32 - 1.5) * 0.25 + j as f32 * 1e-3);
    ck.insert("W1", &w1);
    ck.insert("b1", &array![0.1f32, -0.2, 0.3, f32::MIN_POSITIVE]);
    ck.insert("W2", &Array2::<f32>::from_elem((4, 2), -0.75));
    ck.insert("b2", &array![1e-30f32, -0.0]);
    ck.insert("mean", &array![0.5f32, 0.25, 0.125]);
    ck.set_metadata("classes", "2");
    ck.set_metadata("hidden", "4");
    ck
}

fn bits32(a: &[f32]) -> Vec<u32> {
    a.iter().map(|x| x.to_bits()).collect()
}

fn bits64(a: &[f64]) -> Vec<u64> {
    a.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn round_trip_f32_is_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let mut ck = net_checkpoint();
    let special = array![
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        f32::MAX,
        f32::MIN,
        f32::EPSILON,
        1e-45, // smallest subnormal
        std::f32::consts::PI,
    ];
    ck.insert("special", &special);
    ck.save(&path).unwrap();

    let loaded = TensorFile::load(&path).unwrap();
    assert_eq!(loaded.origin(), &Origin::File(path.clone()));
    assert_eq!(
        loaded.names().collect::<Vec<_>>(),
        ["W1", "W2", "b1", "b2", "mean", "special"]
    );
    for (name, t) in ck.tensors() {
        let back = loaded.tensor(name).unwrap();
        assert_eq!(back.dtype(), Dtype::F32, "{name}");
        assert_eq!(back.shape(), t.shape(), "{name}");
        assert_eq!(back.to_le_bytes(), t.to_le_bytes(), "{name}");
        assert_eq!(bits32(&back.to_vec::<f32>()), bits32(&t.to_vec::<f32>()));
    }
    let w1: Array2<f32> = loaded.get("W1").unwrap();
    assert_eq!(w1, ck.get::<f32, Ix2>("W1").unwrap());
    assert_eq!(w1.dim(), (3, 4));
    let s: Array1<f32> = loaded.get("special").unwrap();
    assert_eq!(
        bits32(s.as_slice().unwrap()),
        bits32(special.as_slice().unwrap())
    );
    assert_eq!(loaded.metadata(), ck.metadata());
    assert_eq!(loaded.require_metadata("classes").unwrap(), "2");
    // Saving the loaded checkpoint again reproduces the file byte for byte.
    assert_eq!(loaded.to_bytes().unwrap(), fs::read(&path).unwrap());
}

#[test]
fn round_trip_f64_is_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model64.safetensors");
    let w = Array2::from_shape_fn((5, 3), |(i, j)| {
        (i as f64 + 1.0).sqrt() * 0.1 - j as f64 / 3.0
    });
    let v = array![0.1f64, -1e-310, f64::MAX, f64::NEG_INFINITY, -0.0, f64::NAN];
    let mut ck = TensorFile::new();
    ck.insert("W", &w);
    ck.insert("v", &v);
    ck.insert("scalar", &Array0::from_elem((), std::f64::consts::E));
    ck.insert("empty", &Array2::<f64>::zeros((0, 7)));
    ck.insert(
        "cube",
        &Array::from_shape_fn((2, 3, 4), |(a, b, c)| (a * 12 + b * 4 + c) as f64),
    );
    ck.set_metadata("dataset", "digits");
    ck.set_metadata("unicode", "üñí → 漢字 \"quoted\"\n");
    ck.save(&path).unwrap();

    let loaded = TensorFile::load(&path).unwrap();
    assert_eq!(loaded.len(), 5);
    assert_eq!(loaded.tensor("W").unwrap().dtype(), Dtype::F64);
    let w_back: Array2<f64> = loaded.get("W").unwrap();
    assert_eq!(
        bits64(w_back.as_slice().unwrap()),
        bits64(w.as_slice().unwrap())
    );
    let v_back: Array1<f64> = loaded.get("v").unwrap();
    assert_eq!(
        bits64(v_back.as_slice().unwrap()),
        bits64(v.as_slice().unwrap())
    );
    let scalar: Array0<f64> = loaded.get("scalar").unwrap();
    assert_eq!(scalar[()].to_bits(), std::f64::consts::E.to_bits());
    let empty: Array2<f64> = loaded.get("empty").unwrap();
    assert_eq!(empty.dim(), (0, 7));
    assert!(loaded.tensor("empty").unwrap().is_empty());
    let cube = loaded.get::<f64, Ix3>("cube").unwrap();
    assert_eq!(cube[[1, 2, 3]], 23.0);
    let dynamic: ArrayD<f64> = loaded.get("cube").unwrap();
    assert_eq!(dynamic.shape(), &[2, 3, 4]);
    assert_eq!(loaded.metadata(), ck.metadata());
}

#[test]
fn mixed_dtypes_round_trip_through_bytes() {
    let mut ck = TensorFile::new();
    ck.insert("a32", &array![1.5f32, 2.5]);
    ck.insert("a64", &array![[1.0f64 / 3.0]]);
    let bytes = ck.to_bytes().unwrap();
    let back = TensorFile::from_bytes(&bytes).unwrap();
    assert_eq!(back, ck);
    assert_eq!(back.origin(), &Origin::Memory);
    assert_eq!(back.tensor("a32").unwrap().dtype(), Dtype::F32);
    assert_eq!(back.tensor("a64").unwrap().dtype(), Dtype::F64);
    assert!(back.metadata().is_empty());
}

/// The bytes follow the safetensors layout: u64 LE header length, JSON header (padded to 8)
/// with dtype/shape/data_offsets and `__metadata__`, then little-endian row-major data.
#[test]
fn file_layout_is_standard_safetensors() {
    let mut ck = TensorFile::new();
    ck.insert("W1", &array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    ck.insert("b1", &array![-1.0f32]);
    ck.set_metadata("classes", "3");
    let bytes = ck.to_bytes().unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0);
    let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    assert!(header.starts_with('{'), "{header}");
    assert!(
        header.contains(r#""__metadata__":{"classes":"3"}"#),
        "{header}"
    );
    assert!(
        header.contains(r#""W1":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}"#),
        "{header}"
    );
    assert!(
        header.contains(r#""b1":{"dtype":"F32","shape":[1],"data_offsets":[24,28]}"#),
        "{header}"
    );
    let data = &bytes[8 + n..];
    let expected: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, -1.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    assert_eq!(data, expected.as_slice());
}

#[test]
fn non_contiguous_views_are_stored_in_logical_order() {
    let a = array![[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let mut ck = TensorFile::new();
    ck.insert("t", a.t());
    ck.insert("col", a.column(1));
    let back = TensorFile::from_bytes(&ck.to_bytes().unwrap()).unwrap();
    assert_eq!(back.get::<f64, Ix2>("t").unwrap(), a.t());
    assert_eq!(back.get::<f64, Ix1>("col").unwrap(), array![2.0, 5.0]);
    // Inserting again replaces.
    let old = ck.insert("col", &array![9.0f64]).unwrap();
    assert_eq!(old.shape(), &[2]);
    assert_eq!(ck.get::<f64, Ix1>("col").unwrap(), array![9.0]);
}

#[test]
fn dtypes_convert_on_get() {
    let mut ck = TensorFile::new();
    ck.insert("d", &array![0.1f64, 1.0 + 1e-12, 1e300]);
    ck.insert("s", &array![0.1f32, 16_777_217.0]);
    let ck = TensorFile::from_bytes(&ck.to_bytes().unwrap()).unwrap();
    // F64 read as f32: rounded to nearest (1e300 overflows to infinity).
    let d: Array1<f32> = ck.get("d").unwrap();
    assert_eq!(d, array![0.1f32, 1.0, f32::INFINITY]);
    // F32 read as f64: exact widening of the stored f32 values.
    let s: Array1<f64> = ck.get("s").unwrap();
    assert_eq!(s, array![f64::from(0.1f32), f64::from(16_777_217.0f32)]);
    assert_eq!(ck.tensor("s").unwrap().dtype(), Dtype::F32);
}

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

#[test]
fn save_replaces_an_existing_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    net_checkpoint().save(&path).unwrap();
    let mut second = TensorFile::new();
    second.insert("only", &array![7.0f64]);
    second.save(&path).unwrap();
    assert_eq!(TensorFile::load(&path).unwrap(), second);
    assert_eq!(entries(dir.path()), names(&["model.safetensors"]));
}

/// A save that fails part-way (here: the write fails after some bytes, as on a full disk)
/// leaves the earlier model byte-identical and no temporary file.
#[test]
fn failed_save_keeps_the_earlier_model_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let first = net_checkpoint();
    first.save(&path).unwrap();
    let before = fs::read(&path).unwrap();

    let mut second = net_checkpoint();
    second.insert("W1", &Array2::<f32>::ones((3, 4)));
    let full = second.to_bytes().unwrap().len();
    for after in [0, 8, full / 2, full - 1, full] {
        let err = second.save_interrupted(&path, after).unwrap_err();
        let msg = err.to_string();
        let prefix = format!(
            "model file {}: cannot save it (writing temporary file {}",
            path.display(),
            dir.path().join(".model.safetensors.tmp-").display()
        );
        assert!(msg.starts_with(&prefix), "{msg}");
        assert!(msg.ends_with("injected write failure (test hook)"), "{msg}");
        assert_eq!(fs::read(&path).unwrap(), before, "after {after} bytes");
        assert_eq!(entries(dir.path()), names(&["model.safetensors"]));
    }
    assert_eq!(TensorFile::load(&path).unwrap(), first);
}

/// Real failures: the target is a directory, its parent is a regular file, or its
/// directory does not exist. Each error names the path and the cause, and nothing is left.
#[test]
fn save_errors_name_the_path_and_leave_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let ck = net_checkpoint();

    // Target is an existing (non-empty) directory: the rename fails; the directory stays.
    let target_dir = dir.path().join("model.safetensors");
    fs::create_dir(&target_dir).unwrap();
    fs::write(target_dir.join("keep"), b"x").unwrap();
    let err = ck.save(&target_dir).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "model file {}: cannot save it (renaming temporary file",
            target_dir.display()
        )),
        "{msg}"
    );
    assert!(matches!(err, TensorFileError::Write { .. }));
    assert_eq!(entries(dir.path()), names(&["model.safetensors"]));
    assert_eq!(entries(&target_dir), names(&["keep"]));

    // Parent is a regular file.
    let file = dir.path().join("plain");
    fs::write(&file, b"not a dir").unwrap();
    let under_file = file.join("model.safetensors");
    let msg = ck.save(&under_file).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!(
            "model file {}: cannot save it (creating temporary file",
            under_file.display()
        )),
        "{msg}"
    );
    assert_eq!(fs::read(&file).unwrap(), b"not a dir");

    // Missing directory.
    let missing = dir.path().join("no/such/dir/model.safetensors");
    let err = ck.save(&missing).unwrap_err();
    match &err {
        TensorFileError::Write { path, source, .. } => {
            assert_eq!(path, &missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains(&missing.display().to_string()));
    assert_eq!(entries(dir.path()), names(&["model.safetensors", "plain"]));
}

#[test]
fn concurrent_saves_leave_one_complete_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let models: Vec<TensorFile> = (0..8)
        .map(|i| {
            let mut ck = TensorFile::new();
            ck.insert("W", &Array2::from_elem((64, 64), i as f32));
            ck.set_metadata("i", i.to_string());
            ck
        })
        .collect();
    std::thread::scope(|s| {
        for ck in &models {
            let path = &path;
            s.spawn(move || {
                for _ in 0..5 {
                    ck.save(path).unwrap();
                }
            });
        }
    });
    let loaded = TensorFile::load(&path).unwrap();
    let i: usize = loaded.require_metadata("i").unwrap().parse().unwrap();
    assert_eq!(loaded, models[i]);
    assert_eq!(entries(dir.path()), names(&["model.safetensors"]));
}

/// Equal checkpoints give identical bytes, whatever order the metadata was set in.
#[test]
fn equal_checkpoints_give_identical_files() {
    let build = |reverse: bool| {
        let mut ck = TensorFile::new();
        ck.insert("x", &array![1.0f32]);
        let mut keys: Vec<usize> = (0..32).collect();
        if reverse {
            keys.reverse();
        }
        for k in keys {
            ck.set_metadata(format!("key{k}"), format!("value {k}"));
        }
        ck
    };
    let (a, b) = (build(false), build(true));
    assert_eq!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
    let back = TensorFile::from_bytes(&a.to_bytes().unwrap()).unwrap();
    assert_eq!(back, b);

    // Metadata without tensors, and an empty checkpoint, round trip too.
    let mut meta_only = TensorFile::new();
    meta_only.set_metadata("note", "no tensors");
    let back = TensorFile::from_bytes(&meta_only.to_bytes().unwrap()).unwrap();
    assert_eq!(back, meta_only);
    assert!(back.is_empty());
    let empty = TensorFile::from_bytes(&TensorFile::new().to_bytes().unwrap()).unwrap();
    assert!(empty.is_empty() && empty.metadata().is_empty());
}
