use std::fs;

use super::*;

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_new_out_folder_is_created_locked_and_removed_again_if_nothing_was_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a").join("b");
    let folder = RunFolder::create(Some(&out), "digits", "train", false).unwrap();
    assert_eq!(names(&out), [LOCK_FILE]);
    drop(folder);
    assert!(
        !tmp.path().join("a").exists(),
        "both created folders are removed"
    );
}

#[test]
fn a_folder_with_a_run_file_is_kept_when_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let folder = RunFolder::create(Some(&out), "digits", "train", false).unwrap();
    fs::write(folder.file(STATE_FILE), b"state").unwrap();
    drop(folder);
    assert_eq!(names(&out), [LOCK_FILE, STATE_FILE]);
}

#[test]
fn an_existing_empty_folder_is_used_and_never_removed() {
    let tmp = tempfile::tempdir().unwrap();
    drop(RunFolder::create(Some(tmp.path()), "digits", "train", false).unwrap());
    assert!(tmp.path().is_dir());
}

#[test]
fn an_earlier_run_is_refused_then_replaced_with_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    for name in [MODEL_FILE, METRICS_FILE, ".metrics.csv.tmp-1-0"] {
        fs::write(tmp.path().join(name), b"old").unwrap();
    }
    let refused = RunFolder::create(Some(tmp.path()), "digits", "train", false).unwrap_err();
    assert_eq!(refused.code, 2);
    for needle in [
        "holds an earlier run",
        "metrics.csv, model.safetensors",
        "--overwrite",
        "--resume",
    ] {
        assert!(refused.message.contains(needle), "{}", refused.message);
    }
    let folder = RunFolder::create(Some(tmp.path()), "digits", "tune", true).unwrap();
    assert_eq!(names(folder.path()), [LOCK_FILE]);
}

#[test]
fn a_folder_with_other_files_is_never_cleared() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(MODEL_FILE), b"old").unwrap();
    fs::write(tmp.path().join("thesis.tex"), b"precious").unwrap();
    // Named like a temporary, but in a folder that is not a run's: kept too.
    fs::write(tmp.path().join(".notes.tmp-1-2"), b"mine").unwrap();
    for overwrite in [false, true] {
        let refused =
            RunFolder::create(Some(tmp.path()), "digits", "train", overwrite).unwrap_err();
        assert_eq!(refused.code, 2);
        assert!(
            refused.message.contains("thesis.tex"),
            "{}",
            refused.message
        );
    }
    assert_eq!(
        names(tmp.path()),
        [LOCK_FILE, ".notes.tmp-1-2", MODEL_FILE, "thesis.tex"]
    );
}

#[test]
fn resume_removes_stale_temporaries_and_keeps_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(STATE_FILE), b"state").unwrap();
    fs::write(tmp.path().join(".state.safetensors.tmp-77-3"), b"half").unwrap();
    let folder = RunFolder::resume(tmp.path(), "train").unwrap();
    assert_eq!(names(folder.path()), [LOCK_FILE, STATE_FILE]);
    drop(folder);
    assert_eq!(names(tmp.path()), [LOCK_FILE, STATE_FILE]);
}

#[test]
fn an_out_that_is_a_file_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("model.safetensors");
    fs::write(&file, b"a model").unwrap();
    let refused = RunFolder::create(Some(&file), "digits", "train", true).unwrap_err();
    assert_eq!(refused.code, 2);
    assert!(
        refused.message.ends_with("not a folder"),
        "{}",
        refused.message
    );
    assert_eq!(fs::read(&file).unwrap(), b"a model");
    let refused = RunFolder::resume(&file, "train").unwrap_err();
    assert!(
        refused.message.contains("cannot resume"),
        "{}",
        refused.message
    );
}

#[test]
fn listing_shows_three_names_and_counts_the_rest() {
    assert_eq!(listing(&["a", "b"]), "a, b");
    assert_eq!(listing(&["a", "b", "c", "d", "e"]), "a, b, c and 2 more");
}
