//! What `eval`, `predict` and `train --resume` take from the model or run state: its data set,
//! split seed and preprocessing, unless a flag says otherwise; a flag that contradicts the
//! file is refused unless `--allow-mismatch`; `--model` may name a run folder; files written
//! before `input_scale` existed.

mod common;
#[path = "common/hostile.rs"]
#[allow(dead_code)] // only `tamper` is used here
mod hostile;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use common::eval_output::*;
use common::*;
use hostile::tamper;
use tapegrad_net::tensor_file::TensorFile;

/// Trains on digits with seed 3 for a few epochs into `dir`; returns the model file.
fn trained(dir: &Path) -> PathBuf {
    train_quietly(dir, 5, &["--seed", "3"]);
    dir.join("model.safetensors")
}

#[test]
fn eval_and_predict_with_other_data_than_the_models_are_refused_naming_what_it_was_trained_on() {
    let tmp = tempdir();
    let model = s(&trained(&tmp.path().join("run")));
    let file = tmp.path().join("points.csv");
    write_csv(&file, 40, 64, 10);
    let spec = format!("csv:{}", s(&file));
    for command in ["eval", "predict"] {
        let run = tapegrad([command, "--model", &model, "--data", &spec]);
        run.input_error(&[
            &format!("--data {spec}"),
            "trained on digits (split seed 3)",
            "--allow-mismatch",
        ]);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        tapegrad([
            command,
            "--model",
            &model,
            "--data",
            &spec,
            "--allow-mismatch",
        ])
        .ok();
    }
    // Naming the model's own data is no contradiction.
    tapegrad(["eval", "--model", &model, "--data", "digits"]).ok();
}

#[test]
fn eval_with_another_split_seed_is_refused_unless_allowed() {
    let tmp = tempdir();
    let model = s(&trained(&tmp.path().join("run")));
    let run = tapegrad(["eval", "--model", &model, "--seed", "0"]);
    run.input_error(&["--seed 0", "split seed 3", "trained on"]);
    let same = tapegrad(["eval", "--model", &model, "--seed", "3"])
        .ok()
        .to_owned();
    assert_eq!(same, tapegrad(["eval", "--model", &model]).ok());
    let other = tapegrad(["eval", "--model", &model, "--seed", "0", "--allow-mismatch"]);
    assert!(other.ok().contains("split seed 0"), "{}", other.stdout);
}

#[test]
fn a_relative_data_path_naming_the_models_file_is_not_a_mismatch() {
    let tmp = tempdir();
    write_csv(&tmp.path().join("points.csv"), 80, 5, 3);
    let args = [
        "train",
        "-q",
        "--epochs",
        "2",
        "--out",
        "run",
        "--data",
        "csv:points.csv",
    ];
    tapegrad_in(tmp.path(), args).ok();
    let eval = ["eval", "--model", "run", "--data", "csv:./points.csv"];
    let named = tapegrad_in(tmp.path(), eval).ok().to_owned();
    let default = tapegrad(["eval", "--model", &s(&tmp.path().join("run"))])
        .ok()
        .to_owned();
    assert_eq!(eval_counts(&named), eval_counts(&default));
}

#[test]
fn model_flag_takes_a_run_folder_as_well_as_its_model_file() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    let model = trained(&dir);
    for command in ["eval", "predict"] {
        let by_file = tapegrad([command, "--model", &s(&model)]).ok().to_owned();
        let by_folder = tapegrad([command, "--model", &s(&dir)]).ok().to_owned();
        assert_eq!(by_file, by_folder, "{command}");
    }
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    tapegrad(["eval", "--model", &s(&empty)]).input_error(&[&s(&empty), "no model.safetensors"]);
}

#[test]
fn a_raw_0_to_16_digits_csv_evaluates_exactly_like_the_built_in_scaled_digits() {
    let tmp = tempdir();
    let model = s(&trained(&tmp.path().join("run")));
    let mut raw = String::new();
    flate2::read::GzDecoder::new(tapegrad_net::data::DIGITS_CSV_GZ)
        .read_to_string(&mut raw)
        .unwrap();
    let file = tmp.path().join("raw.csv");
    fs::write(&file, raw).unwrap();
    let spec = format!("csv:{}", s(&file));
    let built_in = tapegrad(["eval", "--model", &model]).ok().to_owned();
    let from_raw = tapegrad([
        "eval",
        "--model",
        &model,
        "--data",
        &spec,
        "--allow-mismatch",
    ])
    .ok()
    .to_owned();
    assert_eq!(eval_counts(&from_raw), eval_counts(&built_in), "{from_raw}");
    assert_eq!(eval_loss(&from_raw), eval_loss(&built_in));
    assert_eq!(confusion(&from_raw), confusion(&built_in));
}

#[test]
fn a_model_file_without_input_scale_is_read_with_its_data_sets_scale() {
    let tmp = tempdir();
    let model = trained(&tmp.path().join("run"));
    let before = tapegrad(["eval", "--model", &s(&model)]).ok().to_owned();
    tamper(&model, |ck| {
        assert_eq!(
            ck.metadata_mut().remove("input_scale").as_deref(),
            Some("0.0625")
        );
    });
    assert_eq!(tapegrad(["eval", "--model", &s(&model)]).ok(), before);

    // A data set tapegrad does not know: its scale cannot be guessed.
    tamper(&model, |ck| {
        ck.set_metadata("dataset", "my-own-data");
    });
    tapegrad(["eval", "--model", &s(&model)]).input_error(&[
        &s(&model),
        "'input_scale'",
        "my-own-data",
    ]);
    // With input_scale, such a model needs --data.
    tamper(&model, |ck| {
        ck.set_metadata("input_scale", "0.0625");
    });
    tapegrad(["eval", "--model", &s(&model)]).input_error(&["my-own-data", "give --data"]);
    let run = tapegrad([
        "eval",
        "--model",
        &s(&model),
        "--data",
        "digits",
        "--allow-mismatch",
    ]);
    assert_eq!(eval_counts(run.ok()), eval_counts(&before));
}

#[test]
fn a_model_file_without_a_seed_needs_seed_for_data_split_by_one() {
    let tmp = tempdir();
    let model = trained(&tmp.path().join("run"));
    let before = tapegrad(["eval", "--model", &s(&model)]).ok().to_owned();
    tamper(&model, |ck| {
        assert!(ck.metadata_mut().remove("seed").is_some());
    });
    tapegrad(["eval", "--model", &s(&model)]).input_error(&["no split seed", "give --seed"]);
    let given = tapegrad(["eval", "--model", &s(&model), "--seed", "3"]);
    assert_eq!(given.ok(), before);
}

#[test]
fn a_bad_input_scale_is_refused_naming_the_key() {
    let tmp = tempdir();
    let model = trained(&tmp.path().join("run"));
    for bad in ["0", "-1", "NaN", "inf", "one"] {
        tamper(&model, |ck| {
            ck.set_metadata("input_scale", bad);
        });
        tapegrad(["eval", "--model", &s(&model)]).input_error(&[
            &s(&model),
            "'input_scale'",
            "a positive number",
        ]);
    }
}

#[test]
fn resume_needs_no_data_flag_and_refuses_other_data_naming_the_runs() {
    let tmp = tempdir();
    let file = tmp.path().join("points.csv");
    write_csv(&file, 80, 5, 3);
    let spec = format!("csv:{}", s(&file));
    let dir = tmp.path().join("run");
    train_quietly(&dir, 2, &["--data", &spec]);
    let stdout = train_quietly(&dir, 3, &["--resume"]);
    assert!(stdout.contains("3 epochs"), "{stdout}");
    train_quietly(&dir, 4, &["--resume", "--data", &spec]);
    let run = tapegrad([
        "train",
        "--resume",
        "--epochs",
        "5",
        "--out",
        &s(&dir),
        "--data",
        "digits",
    ]);
    run.input_error(&["--data digits", &format!("trained on {spec}")]);
    assert_eq!(
        metrics(&dir).1.len(),
        4,
        "the refused resume trained nothing"
    );
}

#[test]
fn a_model_file_with_only_the_documented_tensors_and_keys_evaluates_like_trains() {
    // What the README's NumPy example writes: W1, b1, W2, b2, mean; dataset, classes,
    // input_scale, image, seed. Nothing else.
    let tmp = tempdir();
    let model = trained(&tmp.path().join("run"));
    let original = TensorFile::load(&model).unwrap();
    let mut written = TensorFile::new();
    for name in ["W1", "b1", "W2", "b2", "mean"] {
        let t: ndarray::ArrayD<f32> = original.get(name).unwrap();
        written.insert(name, &t);
    }
    for (key, value) in [
        ("dataset", "digits"),
        ("classes", "10"),
        ("input_scale", "0.0625"),
        ("image", "8,8,1,false"),
        ("seed", "3"),
    ] {
        written.set_metadata(key, value);
    }
    let path = tmp.path().join("from-numpy.safetensors");
    written.save(&path).unwrap();
    let expected = tapegrad(["eval", "--model", &s(&model)]).ok().to_owned();
    assert_eq!(tapegrad(["eval", "--model", &s(&path)]).ok(), expected);
    let png = tmp.path().join("blank.png");
    image::GrayImage::new(8, 8).save(&png).unwrap();
    let stdout = tapegrad(["predict", "--model", &s(&path), &s(&png)])
        .ok()
        .to_owned();
    assert_eq!(predictions(&stdout).1.len(), 1);
}

#[test]
fn when_the_models_csv_has_moved_eval_says_so_and_data_names_the_new_place() {
    let tmp = tempdir();
    let file = tmp.path().join("points.csv");
    write_csv(&file, 80, 5, 3);
    let dir = tmp.path().join("run");
    train_quietly(
        &dir,
        2,
        &["--data", &format!("csv:{}", s(&file)), "--seed", "4"],
    );
    let before = tapegrad(["eval", "--model", &s(&dir)]).ok().to_owned();
    let moved = tmp.path().join("moved.csv");
    fs::rename(&file, &moved).unwrap();
    tapegrad(["eval", "--model", &s(&dir)]).input_error(&[&s(&file), "moved", "--data"]);
    let spec = format!("csv:{}", s(&moved));
    let after = tapegrad(["eval", "--model", &s(&dir), "--data", &spec])
        .ok()
        .to_owned();
    assert_eq!(eval_counts(&after), eval_counts(&before));
    // The model's split seed still holds.
    tapegrad(["eval", "--model", &s(&dir), "--data", &spec, "--seed", "0"])
        .input_error(&["--seed 0", "split seed 4"]);
}
