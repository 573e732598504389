//! `tapegrad eval` and `tapegrad predict` on a split of the data a model was trained on.

mod common;

use std::path::{Path, PathBuf};

use common::eval_output::*;
use common::*;

/// Trains on digits with seed 3 (not the default 0) for a few epochs into `dir`.
fn trained(dir: &Path) -> PathBuf {
    train_quietly(dir, 5, &["--seed", "3"]);
    dir.join("model.safetensors")
}

#[test]
fn eval_with_no_flags_gives_the_summarys_test_accuracy_of_a_seed_3_model() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    let model = trained(&dir);
    let summary = summary(&dir);
    let stdout = tapegrad(["eval", "--model", &s(&model)]).ok().to_owned();
    let (right, n) = eval_counts(&stdout);
    assert_eq!(n, 269, "{stdout}");
    let expected = summary["test_accuracy"].as_f64().expect("test accuracy");
    let got = right as f64 / n as f64;
    assert!(
        (got - expected).abs() < 1e-9,
        "eval says {got} ({stdout}), summary.json says {expected}"
    );
    assert!(
        stdout.contains(&format!("accuracy {:.2}%", 100.0 * expected)),
        "{stdout}"
    );
    assert!(stdout.contains("split seed 3"), "{stdout}");
}

#[test]
fn eval_on_the_validation_and_training_splits_matches_the_summary_too() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    let model = trained(&dir);
    let summary = summary(&dir);
    for (split, key, size) in [
        ("val", "val_accuracy", 270),
        ("train", "train_accuracy", 1258),
    ] {
        let stdout = tapegrad(["eval", "--model", &s(&model), "--split", split])
            .ok()
            .to_owned();
        let (right, n) = eval_counts(&stdout);
        assert_eq!(n, size, "{split}: {stdout}");
        let expected = summary[key].as_f64().expect("an accuracy");
        assert!(
            (right as f64 / n as f64 - expected).abs() < 1e-9,
            "{split}: {stdout} vs {expected}"
        );
    }
}

#[test]
fn eval_prints_a_confusion_matrix_and_per_class_scores_that_follow_from_it() {
    let tmp = tempdir();
    let model = trained(&tmp.path().join("run"));
    let stdout = tapegrad(["eval", "--model", &s(&model)]).ok().to_owned();
    assert!(stdout.contains("confusion matrix"), "{stdout}");
    let matrix = confusion(&stdout);
    assert_eq!(matrix.len(), 10, "{stdout}");
    assert!(matrix.iter().all(|row| row.len() == 10), "{stdout}");
    let total: usize = matrix.iter().flatten().sum();
    let diagonal: usize = (0..10).map(|k| matrix[k][k]).sum();
    let (right, n) = eval_counts(&stdout);
    assert_eq!(total, n, "{stdout}");
    assert_eq!(diagonal, right, "{stdout}");
    let scores = class_scores(&stdout);
    assert_eq!(scores.len(), 10);
    for k in 0..10 {
        let predicted: usize = (0..10).map(|y| matrix[y][k]).sum();
        let support: usize = matrix[k].iter().sum();
        let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
        let (p, r) = (ratio(matrix[k][k], predicted), ratio(matrix[k][k], support));
        let close = |printed: Option<f64>, exact: Option<f64>| match (printed, exact) {
            (Some(a), Some(b)) => (a - b).abs() <= 5e-4,
            (a, b) => a.is_none() && b.is_none(),
        };
        assert!(close(scores[k][0], p), "class {k} precision: {stdout}");
        assert!(close(scores[k][1], r), "class {k} recall: {stdout}");
        let f1 = p.zip(r).map(|(p, r)| {
            if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            }
        });
        assert!(close(scores[k][2], f1), "class {k} F1: {stdout}");
    }
    assert!(stdout.contains("macro average"), "{stdout}");
}

#[test]
fn eval_loss_is_the_mean_negative_log_probability_predict_gives_the_labels() {
    let tmp = tempdir();
    let model = trained(&tmp.path().join("run"));
    let stdout = tapegrad(["eval", "--model", &s(&model)]).ok().to_owned();
    let loss = eval_loss(&stdout);
    assert!(loss > 0.0 && loss.is_finite(), "{stdout}");
    let predicted = tapegrad(["predict", "--model", &s(&model), "--probabilities"])
        .ok()
        .to_owned();
    let labels: Vec<usize> = numbers(&predicted, "label");
    let columns: Vec<Vec<f64>> = (0..10)
        .map(|k| numbers(&predicted, &format!("p{k}")))
        .collect();
    let mean: f64 = labels
        .iter()
        .enumerate()
        .map(|(i, &y)| -columns[y][i].max(5e-7).ln())
        .sum::<f64>()
        / labels.len() as f64;
    assert!(
        (mean - loss).abs() < 2e-3,
        "eval's loss {loss}, from predict's probabilities {mean}"
    );
}

#[test]
fn predict_on_a_split_prints_every_example_with_its_label_agreeing_with_eval() {
    let tmp = tempdir();
    let model = trained(&tmp.path().join("run"));
    let stdout = tapegrad(["predict", "--model", &s(&model)]).ok().to_owned();
    let (header, rows) = predictions(&stdout);
    assert_eq!(header, ["row", "predicted", "probability", "label"]);
    assert_eq!(rows.len(), 269);
    let row: Vec<usize> = numbers(&stdout, "row");
    assert_eq!(row, (0..269).collect::<Vec<_>>(), "rows count from 0");
    let predicted: Vec<usize> = numbers(&stdout, "predicted");
    let labels: Vec<usize> = numbers(&stdout, "label");
    let probability: Vec<f64> = numbers(&stdout, "probability");
    assert!(predicted.iter().chain(&labels).all(|&k| k < 10));
    // The predicted class is the most likely of 10, so its probability is at least 1/10.
    assert!(probability.iter().all(|&p| (0.1..=1.0).contains(&p)));
    let right = predicted
        .iter()
        .zip(&labels)
        .filter(|(p, y)| p == y)
        .count();
    let eval = tapegrad(["eval", "--model", &s(&model)]).ok().to_owned();
    assert_eq!((right, rows.len()), eval_counts(&eval));
}

#[test]
fn predict_probabilities_sum_to_one_and_the_predicted_class_has_the_largest() {
    let tmp = tempdir();
    let model = trained(&tmp.path().join("run"));
    let stdout = tapegrad(["predict", "--model", &s(&model), "--probabilities"])
        .ok()
        .to_owned();
    let (header, rows) = predictions(&stdout);
    let expected: Vec<String> = ["row", "predicted", "probability", "label"]
        .into_iter()
        .map(String::from)
        .chain((0..10).map(|k| format!("p{k}")))
        .collect();
    assert_eq!(header, expected);
    for row in rows {
        let p: Vec<f64> = row[4..].iter().map(|x| x.parse().unwrap()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-5, "{row:?}");
        let predicted: usize = row[1].parse().unwrap();
        assert_eq!(row[2], row[4 + predicted], "{row:?}");
        assert!(p.iter().all(|&x| x <= p[predicted]), "{row:?}");
    }
}

#[test]
fn eval_with_no_flags_on_a_csv_model_of_seed_7_gives_its_held_out_accuracy() {
    let tmp = tempdir();
    let file = tmp.path().join("points.csv");
    write_csv(&file, 200, 6, 4);
    let dir = tmp.path().join("run");
    let spec = format!("csv:{}", s(&file));
    train_quietly(&dir, 3, &["--data", &spec, "--seed", "7"]);
    let summary = summary(&dir);
    let model = s(&dir.join("model.safetensors"));
    // From another directory: the model file records the data's absolute path.
    let stdout = tapegrad_in(tmp.path(), ["eval", "--model", &model])
        .ok()
        .to_owned();
    let (right, n) = eval_counts(&stdout);
    assert_eq!(n as u64, summary["examples"]["test"].as_u64().unwrap());
    let expected = summary["test_accuracy"].as_f64().unwrap();
    assert!(
        (right as f64 / n as f64 - expected).abs() < 1e-9,
        "{stdout} vs {expected}"
    );
    assert_eq!(confusion(&stdout).len(), 4);
    let predicted = tapegrad(["predict", "--model", &model]).ok().to_owned();
    assert_eq!(predicted.lines().count(), n + 1);
}

#[test]
fn eval_on_mnist_reads_the_gzipped_test_files() {
    let tmp = tempdir();
    let data = tmp.path().join("mnist");
    write_mnist(&data, 5010, 25, (3, 3), true);
    let spec = format!("mnist:{}", s(&data));
    let dir = tmp.path().join("run");
    train_quietly(&dir, 2, &["--data", &spec, "--hidden", "5"]);
    let model = s(&dir.join("model.safetensors"));
    let stdout = tapegrad(["eval", "--model", &model]).ok().to_owned();
    let (right, n) = eval_counts(&stdout);
    assert_eq!(n, 25);
    let expected = summary(&dir)["test_accuracy"].as_f64().unwrap();
    assert!(
        (right as f64 / n as f64 - expected).abs() < 1e-9,
        "{stdout}"
    );
    assert!(
        !stdout.contains("split seed"),
        "MNIST's split has no seed: {stdout}"
    );
}

#[test]
fn eval_of_a_standardized_or_averaged_model_gives_the_training_runs_test_accuracy() {
    let tmp = tempdir();
    for (name, flags) in [
        ("feature", ["--standardize", "feature"]),
        ("global", ["--standardize", "global"]),
        ("ema", ["--ema", "0.99"]),
        ("swa", ["--swa-start", "3"]),
    ] {
        let dir = tmp.path().join(name);
        train_quietly(&dir, 5, &flags);
        let expected = summary(&dir)["test_accuracy"]
            .as_f64()
            .expect("test accuracy");
        let model = dir.join("model.safetensors");
        let stdout = tapegrad(["eval", "--model", &s(&model)]).ok().to_owned();
        let (right, n) = eval_counts(&stdout);
        assert!(
            (right as f64 / n as f64 - expected).abs() < 1e-9,
            "{name}: eval says {stdout}, summary.json says {expected}"
        );
        let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
        assert!(
            config.contains(&flags[0][2..].replace('-', "_")),
            "{name}: {config}"
        );
    }
}
