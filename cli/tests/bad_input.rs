//! Bad input and bad flags: exit code 2 and one clean `error: ` message that names the file
//! and says what is wrong (no panic, no backtrace).

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// `train --data SPEC --epochs 1 --out TMP/run -q`.
fn train_on(spec: &str, tmp: &Path) -> Out {
    let out = tmp.join("run");
    tapegrad([
        "train",
        "--data",
        spec,
        "--epochs",
        "1",
        "--out",
        &s(&out),
        "-q",
    ])
}

// ---- CIFAR-10 ----

#[test]
fn truncated_cifar10_record_names_the_file_and_byte_offset() {
    let tmp = tempdir();
    let data = tmp.path().join("cifar");
    write_cifar10(&data, 2, 2);
    // Two whole records and 100 bytes of a third.
    let batch = data.join("data_batch_3.bin");
    let mut bytes = fs::read(&batch).unwrap();
    bytes.extend(&cifar_records(1, 0, 5)[..100]);
    fs::write(&batch, bytes).unwrap();

    let run = train_on(&format!("cifar10:{}", s(&data)), tmp.path());
    let offset = (2 * CIFAR_RECORD).to_string();
    run.input_error(&[
        &s(&batch),
        "truncated record",
        "byte offset",
        &offset,
        "100 bytes",
    ]);
    assert!(!tmp.path().join("run").join("model.safetensors").exists());
}

#[test]
fn cifar10_label_byte_12_names_the_file_label_and_offset() {
    let tmp = tempdir();
    let data = tmp.path().join("cifar");
    write_cifar10(&data, 3, 2);
    let batch = data.join("data_batch_2.bin");
    let mut bytes = fs::read(&batch).unwrap();
    bytes[CIFAR_RECORD] = 12; // the second record's label byte
    fs::write(&batch, bytes).unwrap();

    let run = train_on(&format!("cifar10:{}", s(&data)), tmp.path());
    run.input_error(&[
        &s(&batch),
        "label 12",
        &format!("byte offset {CIFAR_RECORD}"),
        "number of classes 10",
    ]);
}

#[test]
fn cifar10_with_no_more_training_records_than_the_validation_split_says_so() {
    let tmp = tempdir();
    let data = tmp.path().join("cifar");
    write_cifar10(&data, 2, 2); // 10 training records, but validation takes the last 1,000
    let run = train_on(&format!("cifar10:{}", s(&data)), tmp.path());
    run.input_error(&[&s(&data), "validation set of 1000", "hold 10"]);
}

#[test]
fn empty_cifar10_file_is_reported() {
    let tmp = tempdir();
    let data = tmp.path().join("cifar");
    write_cifar10(&data, 2, 2);
    let batch = data.join("data_batch_1.bin");
    fs::write(&batch, b"").unwrap();
    let run = train_on(&format!("cifar10:{}", s(&data)), tmp.path());
    run.input_error(&[&s(&batch), "empty"]);
}

#[test]
fn missing_cifar10_directory_is_named() {
    let tmp = tempdir();
    let missing = tmp.path().join("no-such-dir");
    let run = train_on(&format!("cifar10:{}", s(&missing)), tmp.path());
    run.input_error(&[&s(&missing), "does not exist", "data_batch_1.bin"]);
}

#[test]
fn missing_cifar10_test_file_is_named() {
    let tmp = tempdir();
    let data = tmp.path().join("cifar");
    write_cifar10(&data, 2, 2);
    fs::remove_file(data.join("test_batch.bin")).unwrap();
    let run = train_on(&format!("cifar10:{}", s(&data)), tmp.path());
    run.input_error(&["missing file test_batch.bin", &s(&data)]);
}

// ---- MNIST IDX ----

#[test]
fn bad_idx_magic_names_the_file_and_both_magic_numbers() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 20, 5, (4, 4), false);
    let images = data.join("train-images-idx3-ubyte");
    let mut bytes = fs::read(&images).unwrap();
    bytes[..4].copy_from_slice(&0x0000_0802u32.to_be_bytes());
    fs::write(&images, bytes).unwrap();

    let run = train_on(&format!("mnist:{}", s(&data)), tmp.path());
    run.input_error(&[&s(&images), "magic", "0x00000802", "0x00000803"]);
}

#[test]
fn labels_file_with_the_images_magic_is_rejected() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 20, 5, (4, 4), false);
    let labels = data.join("train-labels-idx1-ubyte");
    let mut bytes = fs::read(&labels).unwrap();
    bytes[..4].copy_from_slice(&IDX_IMAGES.to_be_bytes());
    fs::write(&labels, bytes).unwrap();

    let run = train_on(&format!("mnist:{}", s(&data)), tmp.path());
    run.input_error(&[&s(&labels), "magic", "0x00000801"]);
}

#[test]
fn idx_images_and_labels_of_different_counts_name_both_files_and_counts() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 20, 5, (4, 4), false);
    let labels = data.join("train-labels-idx1-ubyte");
    fs::write(&labels, idx_labels(&cyclic_labels(19))).unwrap();

    let run = train_on(&format!("mnist:{}", s(&data)), tmp.path());
    let images = data.join("train-images-idx3-ubyte");
    run.input_error(&[&s(&images), &s(&labels), "20 images", "19 labels"]);
}

#[test]
fn gzipped_idx_with_bad_magic_is_reported_like_a_plain_one() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 5010, 5, (2, 2), true);
    let images = data.join("t10k-images-idx3-ubyte.gz");
    let mut raw = idx_images(5, 2, 2, 3);
    raw[3] = 0x01;
    fs::write(&images, gzip(&raw)).unwrap();

    let run = train_on(&format!("mnist:{}", s(&data)), tmp.path());
    run.input_error(&[&s(&images), "magic", "0x00000801", "0x00000803"]);
}

#[test]
fn truncated_idx_images_name_the_file() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 20, 5, (4, 4), false);
    let images = data.join("train-images-idx3-ubyte");
    let bytes = fs::read(&images).unwrap();
    fs::write(&images, &bytes[..bytes.len() - 3]).unwrap();

    let run = train_on(&format!("mnist:{}", s(&data)), tmp.path());
    run.input_error(&[&s(&images), "truncated", "byte offset 16"]);
}

#[test]
fn mnist_label_above_9_names_the_labels_file_and_offset() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 20, 5, (4, 4), false);
    let labels = data.join("train-labels-idx1-ubyte");
    let mut ls = cyclic_labels(20);
    ls[4] = 10;
    fs::write(&labels, idx_labels(&ls)).unwrap();

    let run = train_on(&format!("mnist:{}", s(&data)), tmp.path());
    run.input_error(&[&s(&labels), "label 10", "byte offset 12"]);
}

#[test]
fn missing_mnist_file_is_named() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 20, 5, (4, 4), false);
    fs::remove_file(data.join("t10k-labels-idx1-ubyte")).unwrap();
    let run = train_on(&format!("mnist:{}", s(&data)), tmp.path());
    run.input_error(&["missing file t10k-labels-idx1-ubyte", &s(&data)]);
}

#[test]
fn mnist_with_no_more_training_images_than_the_validation_split_says_so() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 20, 5, (4, 4), false);
    let run = train_on(&format!("mnist:{}", s(&data)), tmp.path());
    run.input_error(&[&s(&data), "validation set of 5000", "hold 20"]);
}

// ---- CSV ----

#[test]
fn ragged_csv_row_names_the_file_and_line_number() {
    let tmp = tempdir();
    let file = tmp.path().join("ragged.csv");
    fs::write(&file, "a,b,c,label\n1,2,3,0\n4,5,6,1\n\n7,8,1\n1,1,1,0\n").unwrap();
    let run = train_on(&format!("csv:{}", s(&file)), tmp.path());
    // Line 5: the header and the blank line count.
    run.input_error(&[&s(&file), "line 5", "3 fields", "4"]);
}

#[test]
fn csv_field_that_is_not_a_number_names_line_and_field() {
    let tmp = tempdir();
    let file = tmp.path().join("bad.csv");
    fs::write(&file, "1,2,0\n3,oops,1\n").unwrap();
    let run = train_on(&format!("csv:{}", s(&file)), tmp.path());
    run.input_error(&[&s(&file), "line 2", "field 2", "'oops'"]);
}

#[test]
fn csv_negative_label_is_rejected_with_its_line() {
    let tmp = tempdir();
    let file = tmp.path().join("bad.csv");
    fs::write(&file, "1,2,0\n3,4,-1\n").unwrap();
    let run = train_on(&format!("csv:{}", s(&file)), tmp.path());
    run.input_error(&[&s(&file), "line 2", "'-1'", "class label"]);
}

#[test]
fn missing_csv_file_is_named() {
    let tmp = tempdir();
    let file = tmp.path().join("nothing-here.csv");
    let run = train_on(&format!("csv:{}", s(&file)), tmp.path());
    run.input_error(&["nothing-here.csv", &s(tmp.path())]);
}

// ---- data specs ----

#[test]
fn unknown_data_spec_lists_the_accepted_forms() {
    let tmp = tempdir();
    let run = train_on("imagenet:/data", tmp.path());
    run.input_error(&["imagenet", "cifar10:DIR", "mnist:DIR", "csv:FILE", "digits"]);
}

#[test]
fn data_spec_without_its_path_is_rejected() {
    let tmp = tempdir();
    train_on("csv:", tmp.path()).input_error(&["csv needs a file"]);
    train_on("mnist", tmp.path()).input_error(&["mnist needs a directory"]);
    train_on("spiral:ten", tmp.path()).input_error(&["POINTS,CLASSES"]);
}

// ---- flags ----

#[test]
fn negative_learning_rate_is_a_usage_error() {
    let tmp = tempdir();
    let out = s(&tmp.path().join("run"));
    // `--lr -1` looks like a flag to the parser: a usage error.
    tapegrad(["train", "--lr", "-1", "--out", &out]).input_error(&["-1", "Usage"]);
    // `--lr=-1` reaches the check of the value.
    tapegrad(["train", "--lr=-1", "--out", &out]).input_error(&["--lr", "positive"]);
    tapegrad(["train", "--lr", "0", "--out", &out]).input_error(&["--lr", "positive"]);
    tapegrad(["train", "--lr", "NaN", "--out", &out]).input_error(&["--lr"]);
    assert!(
        !tmp.path().join("run").exists(),
        "bad flags create no run folder"
    );
}

#[test]
fn zero_batch_size_and_zero_hidden_units_are_rejected() {
    let tmp = tempdir();
    let out = s(&tmp.path().join("run"));
    tapegrad(["train", "--batch-size", "0", "--out", &out]).input_error(&["--batch-size"]);
    tapegrad(["train", "--hidden", "0", "--out", &out]).input_error(&["--hidden"]);
    assert!(
        !tmp.path().join("run").exists(),
        "bad flags create no run folder"
    );
}

#[test]
fn zero_epochs_is_rejected_by_train_and_tune() {
    // It used to "succeed" with no model file and a summary claiming one (train), or with a
    // validation accuracy of -inf% (tune).
    let tmp = tempdir();
    let out = tmp.path().join("run");
    tapegrad(["train", "--epochs", "0", "--out", &s(&out)]).input_error(&["--epochs"]);
    assert!(!out.exists(), "bad flags create no run folder");
    tapegrad(["tune", "--epochs", "0", "--out", &s(&out)]).input_error(&["--epochs"]);
    assert!(!out.exists(), "bad flags create no run folder");
}

#[test]
fn other_bad_hyperparameters_are_rejected() {
    let tmp = tempdir();
    let out = s(&tmp.path().join("run"));
    tapegrad(["train", "--reg=-0.1", "--out", &out]).input_error(&["--reg"]);
    let decay = [
        "train",
        "--schedule",
        "exponential",
        "--lr-decay",
        "0",
        "--out",
        &out,
    ];
    tapegrad(decay).input_error(&["--lr-decay 0", "positive"]);
    tapegrad(["train", "--init-std=-1", "--out", &out]).input_error(&["--init-std"]);
    tapegrad(["train", "--epochs", "two", "--out", &out]).input_error(&["--epochs", "two"]);
}

#[test]
fn unknown_optimizer_is_a_usage_error_listing_the_choices() {
    tapegrad(["train", "--optimizer", "rmsprop"])
        .input_error(&["rmsprop", "sgd", "momentum", "adam"]);
}

#[test]
fn unknown_flag_and_unknown_command_are_usage_errors() {
    tapegrad(["train", "--learning-rate", "1"]).input_error(&["--learning-rate"]);
    tapegrad(["fit"]).input_error(&["fit"]);
}

#[test]
fn no_command_prints_the_usage_to_stderr_with_exit_code_2() {
    let run = tapegrad(Vec::<&str>::new());
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(run.stderr.contains("Usage: tapegrad <COMMAND>"), "{run:?}");
}

#[test]
fn resume_needs_out_and_a_saved_state() {
    tapegrad(["train", "--resume"]).input_error(&["--out"]);
    let tmp = tempdir();
    let run = tapegrad(["train", "--resume", "--out", &s(tmp.path()), "-q"]);
    run.input_error(&["cannot resume", &s(&tmp.path().join("state.safetensors"))]);
}

#[test]
fn bad_flags_of_the_other_commands_are_rejected() {
    tapegrad(["gradcheck", "--nets", "0"]).input_error(&["--nets"]);
    tapegrad(["bench", "--shape", "huge"]).input_error(&["huge", "tiny"]);
    tapegrad(["bench", "--shape", "tiny", "--budget", "0"]).input_error(&["--budget"]);
    tapegrad(["graph", "--hidden", "0"]).input_error(&["--hidden"]);
    let tmp = tempdir();
    let out = s(&tmp.path().join("tune"));
    tapegrad(["tune", "--trials", "0", "--out", &out]).input_error(&["--trials"]);
    tapegrad(["tune", "--lr", "0.1", "0.01", "--out", &out]).input_error(&["--lr", "MIN MAX"]);
    tapegrad(["eval", "--model", "m", "--split", "dev"]).input_error(&["dev", "test"]);
    tapegrad(["eval"]).input_error(&["--model"]);
}

// ---- eval and predict with a model that does not fit ----

#[test]
fn eval_with_a_model_that_does_not_fit_the_data_names_both_sizes() {
    let tmp = tempdir();
    let run_dir = tmp.path().join("run");
    train_quietly(&run_dir, 1, &[]);
    let model = run_dir.join("model.safetensors");
    let file = tmp.path().join("five.csv");
    write_csv(&file, 40, 5, 3);
    let spec = format!("csv:{}", s(&file));
    for command in ["eval", "predict"] {
        let args = ["--model", &s(&model), "--data", &spec, "--allow-mismatch"];
        let run = tapegrad([command].into_iter().chain(args));
        run.input_error(&[&s(&model), &spec, "64 features", "has 5"]);
        assert!(run.stdout.is_empty(), "{command} printed: {}", run.stdout);
    }
}

#[test]
fn eval_with_more_classes_in_the_data_than_the_model_names_the_label() {
    let tmp = tempdir();
    let file = tmp.path().join("three.csv");
    write_csv(&file, 40, 4, 3);
    let run_dir = tmp.path().join("run");
    let spec = format!("csv:{}", s(&file));
    train_quietly(&run_dir, 1, &["--data", &spec]);
    let other = tmp.path().join("twelve.csv");
    write_csv(&other, 40, 4, 12);
    let model = run_dir.join("model.safetensors");
    let run = tapegrad([
        "eval",
        "--model",
        &s(&model),
        "--data",
        &format!("csv:{}", s(&other)),
        "--allow-mismatch",
    ]);
    run.input_error(&[&s(&model), "3 classes"]);
}

#[test]
fn eval_with_a_missing_model_file_names_it() {
    let tmp = tempdir();
    let model = tmp.path().join("model.safetensors");
    tapegrad(["eval", "--model", &s(&model)]).input_error(&[&s(&model), "no such file"]);
    tapegrad(["predict", "--model", &s(&model)]).input_error(&[&s(&model), "no such file"]);
}

#[test]
fn eval_with_a_garbage_model_file_names_it() {
    let tmp = tempdir();
    let model = tmp.path().join("model.safetensors");
    fs::write(&model, "this is not a model, just some text\n").unwrap();
    tapegrad(["eval", "--model", &s(&model)]).input_error(&[&s(&model), "not a safetensors file"]);
    fs::write(&model, b"").unwrap();
    tapegrad(["eval", "--model", &s(&model)]).input_error(&[&s(&model)]);
}

#[test]
fn eval_with_a_truncated_model_file_names_it() {
    let tmp = tempdir();
    let run_dir = tmp.path().join("run");
    train_quietly(&run_dir, 1, &[]);
    let model = run_dir.join("model.safetensors");
    let bytes = fs::read(&model).unwrap();
    fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    tapegrad(["eval", "--model", &s(&model)]).input_error(&[&s(&model), "truncated"]);
}
