//! Hostile input, as issue 9 tries it: sizes taken from flags and files are checked before
//! they are allocated, degenerate data and models are refused, and endless files are not read
//! until memory runs out. Every case expects exit code 2 (or success) with a clean message
//! naming the flag or file; the memory-related ones run under `ulimit -v`, so that a
//! regression fails the test (killed or aborted) instead of exhausting the machine.

mod common;
#[path = "common/hostile.rs"]
mod hostile;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use hostile::*;
use ndarray::ArrayD;

/// `train --epochs 1 -q --out TMP/run` plus `extra`, under the memory limit.
fn train_limited(tmp: &Path, extra: &[&str]) -> Out {
    let out = s(&tmp.join("run"));
    let mut args = vec!["train", "--epochs", "1", "-q", "--out", &out];
    args.extend(extra);
    tapegrad_limited(args)
}

#[test]
fn train_with_a_trillion_hidden_units_is_refused_naming_hidden() {
    let tmp = tempdir();
    let run = train_limited(tmp.path(), &["--hidden", "1000000000000"]);
    run.input_error(&["--hidden 1000000000000", "needs about", "more than"]);
}

#[test]
fn train_with_hidden_u64_max_is_refused_not_a_shape_panic() {
    let tmp = tempdir();
    let run = train_limited(tmp.path(), &["--hidden", "18446744073709551615"]);
    run.input_error(&["--hidden 18446744073709551615"]);
}

#[test]
fn train_with_a_batch_larger_than_the_data_trains_on_one_batch_per_epoch() {
    let tmp = tempdir();
    let run = train_limited(tmp.path(), &["--batch-size", "1000000000000"]);
    let stdout = run.ok();
    assert!(stdout.contains("1 epochs, 1 steps"), "{stdout}");
}

#[test]
fn tune_with_a_huge_hidden_size_is_refused_before_any_trial() {
    let tmp = tempdir();
    let out = s(&tmp.path().join("tune"));
    let run = tapegrad_limited(["tune", "--hidden", "1000000000000", "--out", &out]);
    run.input_error(&["--hidden 1000000000000"]);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn graph_with_huge_sizes_is_refused_naming_the_flags() {
    for (flag, value) in [
        ("--hidden", "1000000000000"),
        ("--inputs", "18446744073709551615"),
        ("--batch-size", "1000000000000"),
        ("--classes", "1000000000000"),
    ] {
        let run = tapegrad_limited(["graph", flag, value]);
        run.input_error(&[&format!("{flag} {value}")]);
    }
}

#[test]
fn spiral_with_a_million_classes_is_refused() {
    let tmp = tempdir();
    let run = train_limited(tmp.path(), &["--data", "spiral:10,1000000"]);
    run.input_error(&["spiral:10,1000000", "65536"]);
}

/// A model trained for one epoch on the digits, in `dir/run`.
fn digits_model(dir: &Path) -> PathBuf {
    let run = dir.join("run");
    train_quietly(&run, 1, &[]);
    run.join("model.safetensors")
}

#[test]
fn model_whose_classes_metadata_is_a_trillion_is_refused_by_eval() {
    let tmp = tempdir();
    let model = digits_model(tmp.path());
    tamper(&model, |ck| {
        ck.set_metadata("classes", "1000000000000");
    });
    let run = tapegrad_limited(["eval", "--model", &s(&model)]);
    run.input_error(&[&s(&model), "'classes'", "1000000000000"]);
}

#[test]
fn non_finite_value_in_each_model_tensor_is_refused_naming_the_tensor() {
    let tmp = tempdir();
    let model = digits_model(tmp.path());
    let good = fs::read(&model).unwrap();
    for tensor in ["W1", "b1", "W2", "b2", "mean"] {
        fs::write(&model, &good).unwrap();
        tamper(&model, |ck| {
            let mut t: ArrayD<f32> = ck.get(tensor).unwrap();
            if let Some(x) = t.iter_mut().nth(1) {
                *x = f32::NAN;
            }
            ck.insert(tensor, &t);
        });
        for command in ["eval", "predict"] {
            let run = tapegrad([command, "--model", &s(&model)]);
            run.input_error(&[&s(&model), &format!("tensor '{tensor}'"), "NaN"]);
        }
    }
}

#[test]
fn csv_with_label_65535_trains_and_evaluates_without_a_classes_squared_matrix() {
    let tmp = tempdir();
    let file = tmp.path().join("sparse.csv");
    fs::write(
        &file,
        "0,0,0\n1,1,1\n0,1,0\n1,0,1\n0.5,0.5,0\n1,1,1\n2,2,65535\n",
    )
    .unwrap();
    let spec = format!("csv:{}", s(&file));
    let run = train_limited(tmp.path(), &["--data", &spec, "--hidden", "8"]);
    run.ok();
    let model = s(&tmp.path().join("run").join("model.safetensors"));
    let eval = tapegrad_limited(["eval", "--model", &model, "--data", &spec]);
    let stdout = eval.ok();
    assert!(
        stdout.contains("65536 classes, non-zero cells only"),
        "{stdout}"
    );
    assert!(stdout.lines().count() < 10, "{stdout}");
}

#[test]
fn idx_images_of_zero_by_zero_pixels_are_refused_naming_the_file() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 10, 10, (2, 2), false);
    let images = data.join("train-images-idx3-ubyte");
    fs::write(&images, idx_images(5100, 0, 0, 1)).unwrap();
    let run = train_limited(tmp.path(), &["--data", &format!("mnist:{}", s(&data))]);
    run.input_error(&[&s(&images), "5100x0x0"]);
}

#[test]
fn gz_bomb_is_refused_after_the_size_its_idx_header_announces() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 10, 10, (2, 2), false);
    let images = data.join("train-images-idx3-ubyte");
    let head = idx_images(10, 2, 2, 1);
    fs::remove_file(&images).unwrap();
    // About 3 MB of gzip that inflates to 3 GiB: more than the memory limit allows.
    let bomb = gzip_bomb(&head, 48);
    assert!(bomb.len() < 4 << 20, "the bomb is {} bytes", bomb.len());
    let gz = data.join("train-images-idx3-ubyte.gz");
    fs::write(&gz, bomb).unwrap();
    let run = train_limited(tmp.path(), &["--data", &format!("mnist:{}", s(&data))]);
    run.input_error(&[
        &s(&gz),
        "unexpected bytes after the images data",
        "byte offset 56",
    ]);
}

#[test]
fn csv_with_a_byte_order_mark_keeps_every_row() {
    let tmp = tempdir();
    let file = tmp.path().join("bom.csv");
    write_csv(&file, 40, 3, 2);
    let text = fs::read_to_string(&file).unwrap();
    // Without the header, so that a BOM read as text would turn the first row into one.
    let rows: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    with_bom(&file, &rows);
    let dir = tmp.path().join("run");
    train_quietly(&dir, 1, &["--data", &format!("csv:{}", s(&file))]);
    let examples = &summary(&dir)["examples"];
    let total: u64 = ["train", "val", "test"]
        .iter()
        .map(|k| examples[k].as_u64().unwrap())
        .sum();
    assert_eq!(total, 40, "{examples}");
}

#[test]
fn resume_from_a_state_with_a_tampered_configuration_blames_the_state_file() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    train_quietly(&dir, 1, &[]);
    let state = dir.join("state.safetensors");
    tamper(&state, |ck| {
        let text = ck.require_metadata("state.config").unwrap();
        let text = text.replace("\"batch_size\":32", "\"batch_size\":0");
        ck.set_metadata("state.config", text);
    });
    let run = tapegrad([
        "train",
        "--resume",
        "--out",
        &s(&dir),
        "--epochs",
        "2",
        "-q",
    ]);
    let stderr = run.input_error(&[&s(&state), "batch_size = 0"]);
    assert!(!stderr.contains("--batch-size"), "{stderr}");
}

#[test]
fn dev_zero_as_csv_data_is_refused_at_the_line_limit() {
    let tmp = tempdir();
    let run = train_limited(tmp.path(), &["--data", "csv:/dev/zero"]);
    run.input_error(&["/dev/zero", "longer than"]);
}

#[test]
fn dev_zero_as_a_model_is_refused_after_its_header() {
    let run = tapegrad_limited(["eval", "--model", "/dev/zero"]);
    run.input_error(&["/dev/zero", "not a safetensors file"]);
}
