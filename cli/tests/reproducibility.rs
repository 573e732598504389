//! Seeds and resuming: the same seed gives the same model, and a run resumed from its saved
//! state ends where an uninterrupted one does.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use tapegrad_net::tensor_file::TensorFile;

/// metrics.csv without the seconds column (the only one that may differ between runs).
fn metrics_without_seconds(dir: &Path) -> Vec<Vec<String>> {
    let (header, rows) = metrics(dir);
    assert_eq!(header.last().map(String::as_str), Some("seconds"));
    rows.into_iter()
        .map(|mut r| {
            r.pop();
            r
        })
        .collect()
}

/// Every tensor of a safetensors file, by name, as little-endian bytes.
fn tensors(path: &Path) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    let ck = TensorFile::load(path).unwrap_or_else(|e| panic!("{e}"));
    ck.tensors()
        .map(|(name, t)| (name.to_owned(), t.shape().to_vec(), t.to_le_bytes()))
        .collect()
}

/// Names of the tensors whose bytes differ between two files.
fn differing_tensors(a: &Path, b: &Path) -> Vec<String> {
    let (ta, tb) = (tensors(a), tensors(b));
    let names = |t: &[(String, Vec<usize>, Vec<u8>)]| -> Vec<String> {
        t.iter().map(|(n, _, _)| n.clone()).collect()
    };
    assert_eq!(names(&ta), names(&tb), "same tensors in {a:?} and {b:?}");
    ta.iter()
        .zip(&tb)
        .filter(|(x, y)| x != y)
        .map(|(x, _)| x.0.clone())
        .collect()
}

#[test]
fn same_seed_gives_byte_identical_models_and_identical_metrics() {
    let tmp = tempdir();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    train_quietly(&a, 3, &["--seed", "7"]);
    train_quietly(&b, 3, &["--seed", "7"]);
    let model = |d: &Path| fs::read(d.join("model.safetensors")).unwrap();
    assert!(model(&a) == model(&b), "model.safetensors differs");
    assert_eq!(metrics_without_seconds(&a), metrics_without_seconds(&b));
    let (sa, sb) = (summary(&a), summary(&b));
    for key in [
        "train_accuracy",
        "val_accuracy",
        "test_accuracy",
        "val_loss",
        "best_epoch",
    ] {
        assert_eq!(sa[key], sb[key], "{key}");
    }
}

#[test]
fn same_seed_gives_the_same_model_with_one_thread_or_several() {
    let tmp = tempdir();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    train_quietly(&a, 2, &["--seed", "5", "--threads", "1"]);
    train_quietly(&b, 2, &["--seed", "5", "--threads", "4"]);
    assert_eq!(
        differing_tensors(&a.join("model.safetensors"), &b.join("model.safetensors")),
        Vec::<String>::new()
    );
}

#[test]
fn the_parallel_passes_give_the_same_model_on_one_thread_or_several() {
    // Large enough that every parallel pass splits: the products (600 x 64 x 600), the
    // minibatch gather (600 x 64 values) and the optimizer's update of W1 (64 x 600).
    let tmp = tempdir();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let run = ["--seed", "2", "--hidden", "600", "--batch-size", "600"];
    let run = [&run[..], &["--optimizer", "adam", "--lr", "0.001"]].concat();
    train_quietly(&a, 2, &[&run[..], &["--threads", "1"]].concat());
    train_quietly(&b, 2, &[&run[..], &["--threads", "4"]].concat());
    assert_eq!(
        differing_tensors(&a.join("model.safetensors"), &b.join("model.safetensors")),
        Vec::<String>::new()
    );
}

#[test]
fn different_seed_gives_a_different_model() {
    let tmp = tempdir();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    train_quietly(&a, 2, &["--seed", "7"]);
    train_quietly(&b, 2, &["--seed", "8"]);
    let differ = differing_tensors(&a.join("model.safetensors"), &b.join("model.safetensors"));
    for name in ["W1", "W2"] {
        assert!(
            differ.iter().any(|n| n == name),
            "{name} is the same: {differ:?}"
        );
    }
}

/// `train --epochs 4` in one go into `whole`, and `--epochs 2` then `--epochs 4 --resume`
/// into `parts`.
fn whole_and_resumed(whole: &Path, parts: &Path, extra: &[&str]) {
    train_quietly(whole, 4, extra);
    train_quietly(parts, 2, extra);
    let stdout = train_quietly(parts, 4, &[extra, &["--resume"]].concat());
    assert!(stdout.contains("4 epochs"), "{stdout}");
}

#[test]
fn resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one() {
    let tmp = tempdir();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    whole_and_resumed(&whole, &parts, &["--seed", "2"]);
    for file in ["model.safetensors", "state.safetensors"] {
        assert_eq!(
            differing_tensors(&whole.join(file), &parts.join(file)),
            Vec::<String>::new(),
            "tensors of {file}"
        );
    }
    let (mw, mp) = (metrics(&whole).1, metrics(&parts).1);
    assert_eq!(mp.len(), 4, "the resumed metrics.csv has all 4 epochs");
    // epoch, iteration, val loss, train and val accuracy, lr: exactly equal. (The loss
    // column is checked by resumed_run_keeps_the_metrics_history_exactly.)
    let columns = |m: &[Vec<String>]| -> Vec<Vec<String>> {
        m.iter()
            .map(|r| [0, 1, 3, 4, 5, 6].iter().map(|&i| r[i].clone()).collect())
            .collect()
    };
    assert_eq!(columns(&mw), columns(&mp));
    let (sw, sp) = (summary(&whole), summary(&parts));
    for key in [
        "train_accuracy",
        "val_accuracy",
        "test_accuracy",
        "val_loss",
        "best_epoch",
        "iterations",
    ] {
        assert_eq!(sw[key], sp[key], "summary {key}");
    }
}

#[test]
fn resumed_run_with_momentum_ends_with_the_same_weights_as_an_uninterrupted_one() {
    let tmp = tempdir();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    whole_and_resumed(&whole, &parts, &["--optimizer", "momentum", "--lr", "0.01"]);
    assert_eq!(
        differing_tensors(
            &whole.join("state.safetensors"),
            &parts.join("state.safetensors")
        ),
        Vec::<String>::new()
    );
}

#[test]
fn resumed_run_writes_a_byte_identical_model_file() {
    let tmp = tempdir();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    whole_and_resumed(&whole, &parts, &[]);
    let read = |d: &Path| fs::read(d.join("model.safetensors")).unwrap();
    let (w, p) = (read(&whole), read(&parts));
    let metadata = |path: &Path| {
        let ck = TensorFile::load(path).unwrap();
        let mut m: Vec<_> = ck.metadata().clone().into_iter().collect();
        m.sort();
        m
    };
    assert_eq!(
        metadata(&whole.join("model.safetensors")),
        metadata(&parts.join("model.safetensors"))
    );
    assert!(w == p, "model.safetensors bytes differ");
}

#[test]
fn resumed_run_keeps_the_metrics_history_exactly() {
    let tmp = tempdir();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    whole_and_resumed(&whole, &parts, &[]);
    assert_eq!(
        metrics_without_seconds(&whole),
        metrics_without_seconds(&parts)
    );
}

#[test]
fn resumed_run_continues_with_the_saved_hyperparameters() {
    let tmp = tempdir();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    let flags = [
        "--hidden",
        "20",
        "--reg",
        "0.01",
        "--batch-size",
        "50",
        "--seed",
        "4",
    ];
    train_quietly(&whole, 2, &flags);
    train_quietly(&parts, 1, &flags);
    // Resume repeating none of the flags: the run should go on as it was configured.
    train_quietly(&parts, 2, &["--resume"]);
    let hp = summary(&parts)["hyperparameters"].clone();
    assert_eq!(
        hp,
        summary(&whole)["hyperparameters"],
        "summary.json hyperparameters"
    );
    assert_eq!(
        differing_tensors(
            &whole.join("state.safetensors"),
            &parts.join("state.safetensors")
        ),
        Vec::<String>::new()
    );
}

#[test]
fn resume_of_a_finished_run_trains_nothing_more() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    train_quietly(&dir, 2, &[]);
    let before = fs::read(dir.join("model.safetensors")).unwrap();
    let stdout = train_quietly(&dir, 2, &["--resume"]);
    assert!(stdout.contains("2 epochs"), "{stdout}");
    assert!(before == fs::read(dir.join("model.safetensors")).unwrap());
    assert_eq!(metrics(&dir).1.len(), 2);
}

#[test]
fn resume_on_other_data_is_rejected_naming_what_the_run_was_trained_on() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    train_quietly(&dir, 1, &[]);
    let file = tmp.path().join("five.csv");
    write_csv(&file, 40, 5, 3);
    let spec = format!("csv:{}", s(&file));
    let run = tapegrad([
        "train",
        "--data",
        &spec,
        "--resume",
        "--epochs",
        "2",
        "--out",
        &s(&dir),
    ]);
    let state = s(&dir.join("state.safetensors"));
    run.input_error(&[&format!("--data {spec}"), &state, "trained on digits"]);
}
