//! The training loop through the real binary: schedules, early stopping, validation loss in
//! metrics.csv and summary.json, config files, progress lines, Ctrl-C, and the defaults.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

/// metrics.csv's column `name` as numbers.
fn column(dir: &std::path::Path, name: &str) -> Vec<f64> {
    let (header, rows) = metrics(dir);
    let k = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name}"));
    rows.iter().map(|r| r[k].parse().unwrap()).collect()
}

#[test]
fn retraining_from_a_runs_config_toml_gives_a_bit_identical_model() {
    let tmp = tempdir();
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    #[rustfmt::skip]
    tapegrad([
        "train", "-q", "--data", "spiral:30,3", "--hidden", "9", "--epochs", "6", "--seed", "3",
        "--schedule", "cosine", "--warmup-epochs", "2", "--lr", "0.03", "--batch-size", "8",
        "--optimizer", "momentum", "--monitor", "val_accuracy", "--out", &s(&first),
    ])
    .ok();
    let config = first.join("config.toml");
    let text = fs::read_to_string(&config).unwrap();
    assert!(text.contains("data = \"spiral:30,3\""), "{text}");
    tapegrad(["train", "-q", "--config", &s(&config), "--out", &s(&second)]).ok();
    for file in ["model.safetensors", "config.toml"] {
        assert!(
            fs::read(first.join(file)).unwrap() == fs::read(second.join(file)).unwrap(),
            "{file} differs"
        );
    }
    assert_eq!(
        summary(&second)["hyperparameters"]["hidden"],
        serde_json::json!([9])
    );
}

#[test]
fn a_flag_overrides_the_config_file_and_the_rest_of_the_file_applies() {
    let tmp = tempdir();
    let file = tmp.path().join("run.toml");
    fs::write(&file, "data = \"spiral:20,3\"\nepochs = 9\nhidden = 5\n").unwrap();
    let out = tmp.path().join("run");
    let stdout = tapegrad([
        "train",
        "-q",
        "--config",
        &s(&file),
        "--epochs",
        "2",
        "--out",
        &s(&out),
    ]);
    let stdout = stdout.ok();
    assert!(stdout.contains("except epochs, hidden"), "{stdout}");
    let summary = summary(&out);
    assert_eq!(summary["dataset"], "spiral:20,3");
    assert_eq!(summary["hyperparameters"]["epochs"], 2);
    assert_eq!(summary["hyperparameters"]["hidden"], serde_json::json!([5]));
}

#[test]
fn metrics_have_val_loss_and_the_schedules_lr_and_the_summary_the_best_epochs_loss() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    #[rustfmt::skip]
    tapegrad([
        "train", "-q", "--data", "spiral:20,3", "--epochs", "5", "--schedule", "exponential",
        "--lr-decay", "0.5", "--lr", "0.04", "--monitor", "val_loss", "--out", &s(&out),
    ])
    .ok();
    let lr = column(&out, "lr");
    for (e, lr) in lr.iter().enumerate() {
        assert!(
            (lr - 0.04 * 0.5f64.powi(e as i32)).abs() < 1e-15,
            "epoch {e}: {lr}"
        );
    }
    let val_loss = column(&out, "val_loss");
    assert!(
        val_loss.iter().all(|l| l.is_finite() && *l > 0.0),
        "{val_loss:?}"
    );
    let summary = summary(&out);
    let best = summary["best_epoch"].as_u64().unwrap() as usize;
    let lowest = (val_loss.iter().enumerate())
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(
        best,
        lowest + 1,
        "the best epoch has the lowest val_loss: {val_loss:?}"
    );
    let reported = summary["val_loss"].as_f64().unwrap();
    assert!(
        (reported - val_loss[best - 1]).abs() < 1e-12,
        "summary's val_loss {reported} is the best epoch's {}",
        val_loss[best - 1]
    );
    assert_eq!(summary["stopped_early"], false);
}

#[test]
fn patience_stops_the_run_when_the_monitored_metric_stalls_and_keeps_the_best_epoch() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    #[rustfmt::skip]
    let run = tapegrad([
        "train", "-q", "--data", "spiral:20,3", "--epochs", "500", "--patience", "3",
        "--monitor", "val_accuracy", "--schedule", "constant", "--out", &s(&out),
    ]);
    let stdout = run.ok();
    let summary = summary(&out);
    let (best, ran) = (
        summary["best_epoch"].as_u64().unwrap(),
        summary["epochs_run"].as_u64().unwrap(),
    );
    assert_eq!(summary["stopped_early"], true, "{stdout}");
    assert_eq!(ran, best + 3, "three epochs without improvement, then stop");
    assert!(stdout.contains(&format!("since epoch {best}")), "{stdout}");
    assert_eq!(column(&out, "epoch").len() as u64, ran);
    let val = column(&out, "val_accuracy");
    let top = val.iter().cloned().fold(f64::MIN, f64::max);
    assert_eq!(
        val[best as usize - 1],
        top,
        "the best epoch has the top accuracy: {val:?}"
    );
}

#[test]
fn a_piped_stderr_gets_one_plain_line_per_epoch() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    let run = tapegrad([
        "train",
        "--data",
        "spiral:20,3",
        "--epochs",
        "3",
        "--out",
        &s(&out),
    ]);
    run.ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stderr);
    for (k, line) in lines.iter().enumerate() {
        assert!(
            line.starts_with(&format!("epoch {}/3  loss ", k + 1)),
            "{line}"
        );
        assert!(line.contains("val_loss") && line.contains(" lr "), "{line}");
    }
    let quiet = tapegrad([
        "train",
        "-q",
        "--data",
        "spiral:20,3",
        "--epochs",
        "2",
        "--out",
        &s(&tmp.path().join("q")),
    ]);
    assert!(quiet.ok().contains("training spiral:20,3"));
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}

#[test]
fn ctrl_c_stops_the_run_saves_it_says_how_to_resume_and_exits_130() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    #[rustfmt::skip]
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapegrad"))
        .args([
            "train", "--data", "spiral:20,3", "--epochs", "1000000", "--schedule", "constant",
            "--out", &s(&out),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("epoch 3/") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the run ended early"
        );
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut rest = String::new();
    for l in stderr.lines() {
        rest.push_str(&l.unwrap());
        rest.push('\n');
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    let hint = format!("tapegrad train --resume --out {}", s(&out));
    assert!(rest.contains(&hint), "{rest}");
    assert!(!rest.contains("error"), "{rest}");
    let saved = column(&out, "epoch").len();
    assert!(saved >= 3, "at least the 3 epochs seen were saved: {saved}");
    assert!(out.join("config.toml").is_file());

    let target = (saved + 2).to_string();
    let resumed = tapegrad([
        "train",
        "-q",
        "--resume",
        "--out",
        &s(&out),
        "--epochs",
        &target,
    ]);
    assert!(resumed
        .ok()
        .contains(&format!("resuming at epoch {saved} of spiral:20,3")));
    assert_eq!(column(&out, "epoch").len(), saved + 2);
}

#[test]
fn resume_keeps_the_runs_data_and_hyperparameters() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    let args = [
        "train",
        "-q",
        "--data",
        "spiral:20,3",
        "--epochs",
        "2",
        "--schedule",
        "step",
    ];
    tapegrad(args.iter().chain(&["--out", &s(&out)])).ok();
    let dir = s(&out);
    tapegrad(["train", "--resume", "--out", &dir, "--lr", "0.5"])
        .input_error(&["--lr", "saved hyperparameters"]);
    tapegrad(["train", "--resume", "--out", &dir, "--data", "digits"])
        .input_error(&["--data digits", "trained on spiral:20,3"]);
    // No --data needed; --epochs sets the total.
    tapegrad(["train", "-q", "--resume", "--out", &dir, "--epochs", "3"]).ok();
    assert_eq!(summary(&out)["epochs_run"], 3);
}

#[test]
fn a_resumed_cosine_run_keeps_its_length() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    #[rustfmt::skip]
    tapegrad([
        "train", "-q", "--data", "spiral:20,3", "--epochs", "3", "--schedule", "cosine",
        "--warmup-epochs", "1", "--out", &s(&out),
    ])
    .ok();
    tapegrad(["train", "--resume", "--out", &s(&out), "--epochs", "5"])
        .input_error(&["--epochs 5", "cosine schedule"]);
}

#[test]
fn default_train_on_spiral_learns_the_spiral() {
    let tmp = tempdir();
    let out = tmp.path().join("run");
    let stdout = tapegrad(["train", "-q", "--data", "spiral", "--out", &s(&out)]);
    assert!(stdout.ok().contains("(the defaults for spiral)"));
    let test = summary(&out)["test_accuracy"].as_f64().unwrap();
    assert!(test >= 0.9, "spiral test accuracy {test} with its defaults");
}
