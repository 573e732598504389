//! `tapegrad train --augment`: the run trains on augmented images, draws augment.png, saves
//! the augmentation in config.toml, is the same on any number of threads, and refuses bad
//! settings naming their flag. The recipes (`--recipe`, `--augment auto`) that build on it
//! are tested in [`recipes`] (one test binary: each costs CI a release link).

mod common;
mod recipes;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

#[test]
fn train_with_augment_affine_on_digits_runs_and_writes_augment_png() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    let stdout = train_quietly(&out, 3, &["--augment", "affine", "--augment-shift", "1"]);
    assert!(
        stdout.contains("augment affine"),
        "the settings line: {stdout}"
    );
    assert_run_folder(&out, 3, true);
    assert_png(&out.join("augment.png"));
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("<img src=\"augment.png\""),
        "report.html shows it"
    );
    let config = fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(config.contains("[augment]\nkind = \"affine\""), "{config}");
    assert!(config.contains("shift = 1.0"), "{config}");
    assert!(
        config.contains("rotate = 12.0"),
        "the kind's default: {config}"
    );
}

#[test]
fn a_run_without_augment_writes_no_augment_png_and_no_augment_table() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    train_quietly(&out, 1, &[]);
    assert!(!out.join("augment.png").exists());
    let config = fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(!config.contains("augment"), "{config}");
}

/// `train` on the digits with rayon's pool at `threads` threads (the matrix products on one
/// thread either way, so only the augmentation's parallelism differs); the model's bytes.
fn model_with_rayon_threads(dir: &Path, threads: &str) -> Vec<u8> {
    let out = dir.join(format!("run-{threads}"));
    let status = Command::new(env!("CARGO_BIN_EXE_tapegrad"))
        .args(["train", "--epochs", "2", "--threads", "1", "-q"])
        .args([
            "--augment",
            "elastic",
            "--elastic-alpha",
            "8",
            "--elastic-sigma",
            "2",
        ])
        .args(["--augment-flip", "--seed", "4", "--out", &s(&out)])
        .env("RAYON_NUM_THREADS", threads)
        .current_dir(dir)
        .output()
        .expect("the tapegrad binary runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    fs::read(out.join("model.safetensors")).unwrap()
}

#[test]
fn augmented_training_is_bit_identical_on_one_and_two_threads() {
    let tmp = tempdir();
    let one = model_with_rayon_threads(tmp.path(), "1");
    let two = model_with_rayon_threads(tmp.path(), "2");
    assert!(
        one == two,
        "model.safetensors differs between 1 and 2 threads"
    );
}

#[test]
fn augmentation_set_in_a_config_file_is_used_and_flags_lay_over_it() {
    let tmp = tempdir();
    let file = tmp.path().join("settings.toml");
    fs::write(&file, "[augment]\nkind = \"shift\"\nshift = 2\n").unwrap();
    let out = tmp.path().join("run");
    train_quietly(&out, 1, &["--config", &s(&file), "--augment-flip"]);
    assert_png(&out.join("augment.png"));
    let config = fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        config.contains("[augment]\nkind = \"shift\"\nshift = 2.0\nflip = true"),
        "{config}"
    );
}

#[test]
fn bad_augment_settings_are_refused_naming_their_flag() {
    let tmp = tempdir();
    let out = s(&tmp.path().join("run"));
    let train = |extra: &[&str]| {
        let mut args = vec!["train", "--epochs", "1", "--out", &out, "-q"];
        args.extend(extra);
        tapegrad(args)
    };
    train(&["--augment", "affine", "--augment-scale", "2"])
        .input_error(&["--augment-scale 2", "between 0 and 0.9"]);
    train(&["--augment", "elastic", "--elastic-sigma=-1"]).input_error(&["--elastic-sigma -1"]);
    train(&["--augment", "elastic", "--elastic-sigma", "0"])
        .input_error(&["--elastic-sigma 0", "positive"]);
    train(&["--augment", "shift", "--augment-shift", "1.5"])
        .input_error(&["--augment-shift 1.5", "whole"]);
    train(&["--augment-rotate", "5"]).input_error(&["--augment-rotate", "--augment"]);
    train(&["--augment", "affine", "--elastic-alpha", "3"]).input_error(&[
        "--elastic-alpha",
        "affine",
        "--augment-rotate",
    ]);
    train(&["--augment", "sideways"]).input_error(&["--augment", "sideways"]);
    train(&[
        "--data",
        "spiral",
        "--schedule",
        "constant",
        "--augment",
        "shift",
    ])
    .input_error(&["--augment shift", "no image shape"]);
}

#[test]
fn a_resumed_augmented_run_ends_where_an_uninterrupted_one_does() {
    let tmp = tempdir();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    let augment = ["--augment", "affine", "--augment-shift", "1", "--seed", "2"];
    train_quietly(&whole, 4, &augment);
    train_quietly(&parts, 2, &augment);
    train_quietly(&parts, 4, &["--resume"]);
    let model = |d: &Path| fs::read(d.join("model.safetensors")).unwrap();
    assert!(
        model(&whole) == model(&parts),
        "each epoch's images depend on (seed, epoch, index) alone, so resuming changes nothing"
    );
}
