//! Atomic saves: replace, fail part-way, fail outright, race; never a torn model.

use ndarray::{array, Array2};
use tapegrad_net::tensor_file::{TensorFile, TensorFileError};

use super::*;

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
