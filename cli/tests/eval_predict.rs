//! `tapegrad eval` and `tapegrad predict` on a model saved by `train`.

mod common;

use std::path::Path;

use common::*;

/// Eval's first line: `NAME (N examples): accuracy P% (RIGHT/N)` → (right, n).
fn eval_counts(stdout: &str) -> (usize, usize) {
    let first = stdout.lines().next().expect("eval prints a line");
    let inner = first
        .rsplit_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no (right/n) in {first:?}"));
    let (right, n) = inner.split_once('/').expect("right/n");
    (right.parse().expect("right"), n.parse().expect("n"))
}

/// Eval's confusion matrix: the rows below the `---` line, `k | n n n ...`.
fn confusion(stdout: &str) -> Vec<Vec<usize>> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("---"))
        .skip(1)
        .map(|line| {
            let (_, counts) = line.split_once('|').expect("a matrix row has '|'");
            counts
                .split_whitespace()
                .map(|n| n.parse().expect("a count"))
                .collect()
        })
        .collect()
}

/// Trains on digits for a few epochs into `dir`.
fn trained(dir: &Path) -> std::path::PathBuf {
    train_quietly(dir, 5, &["--seed", "3"]);
    dir.join("model.safetensors")
}

#[test]
fn eval_of_the_saved_model_gives_the_summarys_test_accuracy() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    let model = trained(&dir);
    let summary = summary(&dir);
    let stdout = tapegrad(["eval", "--model", &s(&model), "--seed", "3"])
        .ok()
        .to_owned();
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
        let stdout = tapegrad([
            "eval",
            "--model",
            &s(&model),
            "--seed",
            "3",
            "--split",
            split,
        ])
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
fn eval_prints_a_confusion_matrix_whose_entries_sum_to_the_split_size() {
    let tmp = tempdir();
    let model = trained(&tmp.path().join("run"));
    let stdout = tapegrad(["eval", "--model", &s(&model), "--seed", "3"])
        .ok()
        .to_owned();
    assert!(stdout.contains("confusion matrix"), "{stdout}");
    let matrix = confusion(&stdout);
    assert_eq!(matrix.len(), 10, "{stdout}");
    assert!(matrix.iter().all(|row| row.len() == 10), "{stdout}");
    let total: usize = matrix.iter().flatten().sum();
    let diagonal: usize = (0..10).map(|k| matrix[k][k]).sum();
    let (right, n) = eval_counts(&stdout);
    assert_eq!(total, n, "{stdout}");
    assert_eq!(diagonal, right, "{stdout}");
}

#[test]
fn predict_prints_one_csv_row_per_example_agreeing_with_eval() {
    let tmp = tempdir();
    let model = trained(&tmp.path().join("run"));
    let stdout = tapegrad(["predict", "--model", &s(&model), "--seed", "3"])
        .ok()
        .to_owned();
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("index,predicted,label"));
    let rows: Vec<[usize; 3]> = lines
        .map(|l| {
            let f: Vec<usize> = l.split(',').map(|x| x.parse().expect("a number")).collect();
            [f[0], f[1], f[2]]
        })
        .collect();
    assert_eq!(rows.len(), 269);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], i, "indices count from 0");
        assert!(row[1] < 10 && row[2] < 10, "{row:?}");
    }
    let right = rows.iter().filter(|r| r[1] == r[2]).count();
    let eval = tapegrad(["eval", "--model", &s(&model), "--seed", "3"])
        .ok()
        .to_owned();
    assert_eq!((right, rows.len()), eval_counts(&eval));
}

#[test]
fn eval_and_predict_on_a_csv_model_apply_its_own_split_and_mean() {
    let tmp = tempdir();
    let file = tmp.path().join("points.csv");
    write_csv(&file, 80, 6, 4);
    let dir = tmp.path().join("run");
    let spec = format!("csv:{}", s(&file));
    train_quietly(&dir, 20, &["--data", &spec]);
    let summary = summary(&dir);
    let model = s(&dir.join("model.safetensors"));
    let stdout = tapegrad(["eval", "--model", &model, "--data", &spec])
        .ok()
        .to_owned();
    let (right, n) = eval_counts(&stdout);
    assert_eq!(n as u64, summary["examples"]["test"].as_u64().unwrap());
    let expected = summary["test_accuracy"].as_f64().unwrap();
    assert!(
        (right as f64 / n as f64 - expected).abs() < 1e-9,
        "{stdout}"
    );
    assert_eq!(confusion(&stdout).len(), 4);

    let predicted = tapegrad(["predict", "--model", &model, "--data", &spec])
        .ok()
        .to_owned();
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
    let stdout = tapegrad(["eval", "--model", &model, "--data", &spec])
        .ok()
        .to_owned();
    let (right, n) = eval_counts(&stdout);
    assert_eq!(n, 25);
    let expected = summary(&dir)["test_accuracy"].as_f64().unwrap();
    assert!(
        (right as f64 / n as f64 - expected).abs() < 1e-9,
        "{stdout}"
    );
}
