use std::fs;
use std::path::Path;

use super::*;

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn write_atomic_creates_then_replaces_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.csv");
    write_atomic(&path, b"old").unwrap();
    write_atomic(&path, b"new contents").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"new contents");
    assert_eq!(names(dir.path()), ["metrics.csv"], "no temporary is left");
}

#[test]
fn failed_write_leaves_the_target_unchanged_and_removes_the_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    write_atomic(&path, b"the good model").unwrap();
    let err = write_atomic_interrupted(&path, b"a new model, cut short", 5).unwrap_err();
    assert_eq!(fs::read(&path).unwrap(), b"the good model");
    assert_eq!(names(dir.path()), ["model.safetensors"]);
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("writing temporary file"), "{msg}");
}

#[test]
fn failed_first_write_leaves_no_file_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("summary.json");
    write_atomic_interrupted(&path, b"{}", 0).unwrap_err();
    assert!(names(dir.path()).is_empty());
}

#[test]
fn missing_directory_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone").join("loss.png");
    let err = write_atomic(&path, b"png").unwrap_err();
    assert!(err.to_string().contains(&path.display().to_string()));
    assert!(err.to_string().contains("creating temporary file"));
    assert_eq!(err.source.kind(), io::ErrorKind::NotFound);
}

#[test]
fn a_directory_at_the_target_is_untouched_and_the_temporary_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.png");
    fs::create_dir(&path).unwrap();
    fs::write(path.join("inside"), b"keep").unwrap();
    let err = write_atomic(&path, b"png").unwrap_err();
    assert!(err.step.starts_with("renaming temporary file"), "{err}");
    assert_eq!(names(dir.path()), ["weights.png"]);
    assert_eq!(fs::read(path.join("inside")).unwrap(), b"keep");
}

#[test]
fn temporary_names_are_recognised_and_nothing_else() {
    for name in [
        ".model.safetensors.tmp-12-0",
        ".metrics.csv.tmp-4294967295-17",
    ] {
        assert!(is_temporary(OsStr::new(name)), "{name}");
    }
    for name in [
        "model.safetensors",
        "model.safetensors.tmp-12-0",
        "..tmp-12-0",
        ".metrics.csv.tmp-12",
        ".metrics.csv.tmp-12-x",
        ".metrics.csv.tmp--1",
        ".lock",
    ] {
        assert!(!is_temporary(OsStr::new(name)), "{name}");
    }
}

#[test]
fn stale_temporaries_are_removed_and_other_files_kept() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        ".state.safetensors.tmp-999-3",
        ".loss.png.tmp-1-0",
        "keep.txt",
        ".lock",
    ] {
        fs::write(dir.path().join(name), b"x").unwrap();
    }
    fs::create_dir(dir.path().join(".dir.tmp-1-1")).unwrap();
    let removed = remove_stale_temporaries(dir.path()).unwrap();
    assert_eq!(removed.len(), 2);
    assert_eq!(names(dir.path()), [".dir.tmp-1-1", ".lock", "keep.txt"]);
}

#[test]
fn the_temporary_name_is_taken_from_the_target_and_lives_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(200);
    let path = dir.path().join(&long);
    // A failing write shows the temporary's name in its message.
    let err = write_atomic_interrupted(&path, b"data", 1).unwrap_err();
    let expected = dir
        .path()
        .join(format!(".{}.tmp-{}-", &long[..100], std::process::id()));
    assert!(
        err.step.contains(&expected.display().to_string()),
        "{}",
        err.step
    );
}
