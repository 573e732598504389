//! `tapegrad train` on every data format: exit 0 and a complete run folder.

mod common;

use std::fs;

use common::*;

#[test]
fn train_on_cifar10_binary_batches_writes_a_complete_run_folder() {
    let tmp = tempdir();
    let data = tmp.path().join("cifar");
    // 5 x 201 = 1,005 training records: the reader keeps the last 1,000 for validation.
    write_cifar10(&data, 201, 20);
    let out = tmp.path().join("run");
    let spec = format!("cifar10:{}", s(&data));
    let stdout = tapegrad([
        "train",
        "--data",
        &spec,
        "--epochs",
        "2",
        "--hidden",
        "8",
        "--out",
        &s(&out),
        "-q",
    ]);
    let stdout = stdout.ok();
    assert!(
        stdout.contains(&spec),
        "the summary names the data: {stdout}"
    );

    let summary = assert_run_folder(&out, 2, true);
    assert_eq!(summary["examples"]["train"], 5);
    assert_eq!(summary["examples"]["val"], 1000);
    assert_eq!(summary["examples"]["test"], 20);
    assert_eq!(summary["classes"], 10);
    assert_eq!(summary["dataset"], spec.as_str());
    assert!(summary["test_accuracy"].is_f64());
}

#[test]
fn train_finds_cifar10_batches_in_the_tarballs_subdirectory() {
    let tmp = tempdir();
    write_cifar10(&tmp.path().join("cifar-10-batches-bin"), 201, 10);
    let out = tmp.path().join("run");
    let spec = format!("cifar10:{}", s(tmp.path()));
    train_quietly(&out, 1, &["--data", &spec, "--hidden", "4"]);
    let summary = assert_run_folder(&out, 1, true);
    assert_eq!(summary["examples"]["test"], 10);
}

#[test]
fn train_on_mnist_idx_files_plain_and_gzipped_writes_a_complete_run_folder() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    // 5,010 training images: the reader keeps the last 5,000 for validation. The test
    // files are gzipped (t10k-*.gz), the training files plain.
    write_mnist(&data, 5010, 30, (6, 5), true);
    assert!(data.join("t10k-images-idx3-ubyte.gz").is_file());
    let out = tmp.path().join("run");
    let spec = format!("mnist:{}", s(&data));
    train_quietly(&out, 3, &["--data", &spec, "--hidden", "10"]);

    let summary = assert_run_folder(&out, 3, true);
    assert_eq!(summary["examples"]["train"], 10);
    assert_eq!(summary["examples"]["val"], 5000);
    assert_eq!(summary["examples"]["test"], 30);
    assert_eq!(summary["classes"], 10);
}

#[test]
fn train_on_a_csv_file_with_a_header_writes_a_complete_run_folder_with_a_weight_heat_map() {
    let tmp = tempdir();
    let file = tmp.path().join("points.csv");
    write_csv(&file, 60, 5, 3);
    let out = tmp.path().join("run");
    let spec = format!("csv:{}", s(&file));
    train_quietly(&out, 4, &["--data", &spec]);

    let summary = assert_run_folder(&out, 4, false);
    let examples = &summary["examples"];
    let total: u64 = ["train", "val", "test"]
        .iter()
        .map(|k| examples[k].as_u64().expect("a count"))
        .sum();
    assert_eq!(total, 60, "the header line is not an example: {examples}");
    assert_eq!(summary["classes"], 3);
}

#[test]
fn train_on_digits_writes_a_complete_run_folder_and_says_where() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    let stdout = train_quietly(&out, 2, &["--data", "digits"]);
    assert!(stdout.contains("digits: 2 epochs"), "{stdout}");
    assert!(stdout.contains("best model (epoch "), "{stdout}");
    assert!(stdout.contains(&format!("wrote {}", s(&out))), "{stdout}");

    let summary = assert_run_folder(&out, 2, true);
    assert_eq!(summary["examples"]["train"], 1258);
    assert_eq!(summary["examples"]["val"], 270);
    assert_eq!(summary["examples"]["test"], 269);
    assert_eq!(summary["iterations"], 2 * 1258_usize.div_ceil(32));
}

#[test]
fn default_train_on_digits_reaches_98_percent_test_accuracy_and_says_it_used_the_defaults() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    // No --data and no hyperparameters: the defaults.
    let run = tapegrad(["train", "--out", &s(&out), "-q"]);
    assert!(
        run.ok().contains("(the defaults for digits)"),
        "{}",
        run.stdout
    );
    let defaults = tapegrad_net::train::TrainConfig::default();
    let summary = assert_run_folder(&out, defaults.epochs, true);
    assert_eq!(summary["dataset"], "digits");
    let hp: tapegrad_net::train::TrainConfig =
        serde_json::from_value(summary["hyperparameters"].clone()).unwrap();
    assert_eq!(hp, defaults);
    let test = summary["test_accuracy"]
        .as_f64()
        .expect("digits has a test split");
    assert!(test >= 0.98, "test accuracy {test} < 98%");
}

#[test]
fn train_creates_missing_parent_folders_of_out() {
    let tmp = tempdir();
    let out = tmp.path().join("a").join("b").join("run");
    train_quietly(&out, 1, &[]);
    assert!(fs::metadata(out.join("model.safetensors")).is_ok());
}

#[test]
fn hidden_with_two_sizes_trains_a_three_layer_net_that_eval_predict_and_resume_use() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    train_quietly(&out, 3, &["--data", "digits", "--hidden", "32,16"]);
    let summary = assert_run_folder(&out, 3, true);
    assert_eq!(
        summary["hyperparameters"]["hidden"],
        serde_json::json!([32, 16])
    );
    assert!(
        summary["test_accuracy"].as_f64().unwrap() > 0.5,
        "{summary}"
    );

    // The model file holds the three layers in order, and nothing more.
    let model = tapegrad_net::checkpoint::load_model(&out.join("model.safetensors")).unwrap();
    assert_eq!(model.net.sizes(), [64, 32, 16, 10]);
    let file = tapegrad_net::tensor_file::TensorFile::load(out.join("model.safetensors")).unwrap();
    for name in ["W1", "b1", "W2", "b2", "W3", "b3"] {
        assert!(file.contains(name), "{name} missing");
    }
    assert!(!file.contains("W4"));
    assert_eq!(file.metadata()["hidden"], "32,16");

    // eval and predict take it as they take the document's net.
    let eval = tapegrad(["eval", "--model", &s(&out)]);
    assert!(eval.ok().contains("accuracy"), "{}", eval.ok());
    let predicted = tapegrad(["predict", "--model", &s(&out)]);
    assert!(predicted.ok().lines().count() > 200);

    // A resumed run restores all three layers and goes on.
    tapegrad([
        "train",
        "--resume",
        "--out",
        &s(&out),
        "--epochs",
        "4",
        "-q",
    ])
    .ok();
    assert_eq!(metrics(&out).1.len(), 4);
}

#[test]
fn hidden_sizes_of_zero_or_garbage_are_refused_naming_the_flag() {
    let tmp = tempdir();
    for bad in ["32,0", "32,,16", "x"] {
        let out = tmp.path().join(format!("run-{}", bad.len()));
        tapegrad(["train", "--hidden", bad, "--out", &s(&out), "-q"]).input_error(&["--hidden"]);
    }
}

#[test]
fn train_run_folder_report_html_shows_every_picture_the_summary_and_the_metrics() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    train_quietly(&out, 3, &["--data", "digits", "--seed", "3"]);
    let summary = summary(&out);
    assert_report(&out, &summary, true);
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    // Every picture is linked by its name in the folder, so the page opens without a server.
    for picture in ["loss.png", "accuracy.png", "weights.png"] {
        assert!(
            out.join(picture).is_file(),
            "{picture} exists beside the report"
        );
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains(&s(tmp.path())), "no absolute paths");
    let val = format!("<th>val_accuracy</th><td>{}</td>", summary["val_accuracy"]);
    assert!(html.contains(&val), "{val}");
    assert!(html.contains("<th>best_epoch</th>"));
    let (header, rows) = metrics(&out);
    let header_cells: String = header.iter().map(|h| format!("<th>{h}</th>")).collect();
    assert!(html.contains(&header_cells), "the metrics header");
    assert_eq!(rows.len(), 3);
    assert!(html.contains("<tr><td>3</td><td>"), "the last epoch's row");
    let config = fs::read_to_string(out.join("config.toml")).unwrap();
    // The whole config.toml, escaped for HTML (its comment holds `<this file>`).
    let escaped = config
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    assert!(config.contains('<'), "the test covers escaping");
    assert!(
        html.contains(&format!("<pre>{escaped}</pre>")),
        "the config text"
    );
}
