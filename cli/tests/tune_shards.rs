//! `tune --shard K/N`, `--resume` and `tune collect`: a study run in pieces, anywhere, merges
//! into exactly the study run in one process.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A small, fast study: 6 trials of 2 epochs on the built-in digits, two hidden choices of
/// which one has two layers (`12,8`, a comma inside a CSV field).
const STUDY: [&str; 8] = [
    "--trials",
    "6",
    "--epochs",
    "2",
    "--hidden",
    "16",
    "12,8",
    "--threads",
];

fn study_args(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["tune"]
        .into_iter()
        .chain(STUDY)
        .map(String::from)
        .collect();
    args.extend(["1".to_owned(), "--out".to_owned(), s(out)]);
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// results.csv's header and rows, parsed as RFC 4180 (quoted fields may hold commas).
fn results(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = fs::read_to_string(dir.join("results.csv")).unwrap();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty()).map(|line| {
        let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut field)),
                (c, _) => field.push(c),
            }
        }
        fields.push(field);
        fields
    });
    let header = lines.next().expect("a header");
    (header, lines.collect())
}

/// The rows without the `seconds` column (the one figure that differs between runs).
fn without_seconds(dir: &Path) -> Vec<Vec<String>> {
    let (header, rows) = results(dir);
    let seconds = header.iter().position(|h| h == "seconds").unwrap();
    rows.into_iter()
        .map(|mut r| {
            assert_eq!(r.len(), header.len(), "{r:?}");
            r.remove(seconds);
            r
        })
        .collect()
}

/// Each trial's `result.json` without its seconds, by trial folder name.
fn trial_results(dirs: &[PathBuf]) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for dir in dirs {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let result = path.join("result.json");
            if result.is_file() {
                let mut value: serde_json::Value =
                    serde_json::from_str(&fs::read_to_string(result).unwrap()).unwrap();
                value["metrics"]
                    .as_object_mut()
                    .unwrap()
                    .remove("seconds")
                    .expect("seconds recorded");
                out.push((
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    value,
                ));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn sharded_then_collected_results_equal_the_study_run_in_one_process_trial_for_trial() {
    let tmp = tempdir();
    let whole = tmp.path().join("whole");
    tapegrad(study_args(&whole, &[])).ok();

    // Shards 0 and 2 share a study folder, shard 1 has its own; merged elsewhere.
    let (shared, own, merged) = (
        tmp.path().join("shared"),
        tmp.path().join("own"),
        tmp.path().join("merged"),
    );
    for (shard, dir) in [("0/3", &shared), ("1/3", &own), ("2/3", &shared)] {
        let stdout = tapegrad(study_args(dir, &["--shard", shard]))
            .ok()
            .to_owned();
        assert!(
            stdout.contains(&format!("shard {shard}: 2 trials run")),
            "{stdout}"
        );
    }
    assert!(
        !shared.join("results.csv").exists(),
        "a shard does not collect"
    );
    tapegrad([
        "tune",
        "collect",
        &s(&shared),
        &s(&own),
        "--out",
        &s(&merged),
    ])
    .ok();

    let rows = without_seconds(&whole);
    assert_eq!(rows.len(), 6);
    assert_eq!(without_seconds(&merged), rows, "the same ranked table");
    let one = trial_results(std::slice::from_ref(&whole));
    assert_eq!(one.len(), 6);
    assert_eq!(
        trial_results(&[shared, own]),
        one,
        "configurations and metrics, trial for trial"
    );
    for name in ["model.safetensors", "config.toml", "summary.json"] {
        assert!(
            whole.join(name).is_file() && merged.join(name).is_file(),
            "{name}"
        );
    }
    assert_eq!(
        fs::read(whole.join("model.safetensors")).unwrap(),
        fs::read(merged.join("model.safetensors")).unwrap(),
        "the same best model"
    );
    // The two-layer choice is one quoted field.
    let (header, parsed) = results(&merged);
    let hidden = header.iter().position(|h| h == "hidden").unwrap();
    assert!(parsed.iter().any(|r| r[hidden] == "12,8"), "{parsed:?}");
    assert!(fs::read_to_string(merged.join("results.csv"))
        .unwrap()
        .contains("\"12,8\""));
}

#[test]
fn collect_on_a_partial_study_writes_what_it_found_names_the_missing_trials_and_exits_3() {
    let tmp = tempdir();
    let dir = tmp.path().join("study");
    tapegrad(study_args(&dir, &["--shard", "1/2"])).ok();
    let out = tapegrad(["tune", "collect", &s(&dir)]);
    let message = out.fails_with(3, &["incomplete", "3 of 6 trials missing: 0, 2, 4"]);
    assert!(
        out.stdout.contains("3 of the study's 6 trials"),
        "{message}"
    );
    assert_eq!(without_seconds(&dir).len(), 3);
    let summary = summary(&dir);
    assert_eq!(summary["missing"], serde_json::json!([0, 2, 4]));
}

#[test]
fn resume_skips_finished_trials_and_runs_only_the_unfinished_ones() {
    let tmp = tempdir();
    let dir = tmp.path().join("study");
    tapegrad(study_args(&dir, &["--shard", "0/2"])).ok();
    let before = trial_results(std::slice::from_ref(&dir));
    // A killed shard: trial 2 never wrote its result.
    fs::remove_file(dir.join("trial-0002/result.json")).unwrap();

    let again = tapegrad(study_args(&dir, &["--shard", "0/2"]));
    again.input_error(&["trial-0000", "finished already", "--resume"]);
    let stdout = tapegrad(study_args(&dir, &["--shard", "0/2", "--resume"]))
        .ok()
        .to_owned();
    assert!(stdout.contains("shard 0/2: 1 trials run"), "{stdout}");
    assert!(stdout.contains("2 finished trials skipped"), "{stdout}");
    assert_eq!(
        trial_results(&[dir]),
        before,
        "the rerun trial is the same trial"
    );
}

#[test]
fn shards_of_different_studies_are_never_mixed() {
    let tmp = tempdir();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    tapegrad(study_args(&a, &["--shard", "0/2"])).ok();
    // Another seed is another study: refused in the same folder, and when merging.
    tapegrad(study_args(&a, &["--shard", "1/2", "--seed", "1"])).input_error(&[
        &s(&a),
        "another study",
        "repeat the study's flags",
    ]);
    tapegrad(study_args(&b, &["--shard", "1/2", "--seed", "1"])).ok();
    tapegrad(["tune", "collect", &s(&a), &s(&b)]).input_error(&["different studies"]);
    tapegrad(["tune", "collect", &s(&tmp.path().join("none"))]).input_error(&["cannot read"]);
    tapegrad(["tune", "--shard", "2/2", "--out", &s(&a)]).input_error(&["2/2", "below N"]);
}

#[test]
fn the_best_trials_config_toml_retrains_the_same_model_with_train_config() {
    let tmp = tempdir();
    let study = tmp.path().join("study");
    tapegrad(study_args(&study, &[])).ok();
    let best = &summary(&study)["best"];
    let run = tmp.path().join("again");
    let config = s(&study.join("config.toml"));
    tapegrad([
        "train",
        "--config",
        &config,
        "--out",
        &s(&run),
        "-q",
        "--threads",
        "1",
    ])
    .ok();
    let trial = best["metrics"]["val_accuracy"]
        .as_f64()
        .expect("the best trial's accuracy");
    assert_eq!(
        summary(&run)["val_accuracy"].as_f64(),
        Some(trial),
        "train --config reproduces the best trial: {best}"
    );
}

#[test]
fn gnu_parallel_runs_a_4_shard_study_that_collects_like_one_process() {
    if Command::new("parallel").arg("--version").output().is_err() {
        eprintln!("note: GNU parallel is not installed; skipping the 4-shard parallel study");
        return;
    }
    let tmp = tempdir();
    let (whole, shared) = (tmp.path().join("whole"), tmp.path().join("shared"));
    tapegrad(study_args(&whole, &[])).ok();
    let mut command: Vec<String> = vec![env!("CARGO_BIN_EXE_tapegrad").to_owned()];
    command.extend(study_args(&shared, &["--shard", "{}/4"]));
    let out = Command::new("parallel")
        .args(["--will-cite", "--halt", "now,fail=1", "-j", "4"])
        .args(&command)
        .args([":::", "0", "1", "2", "3"])
        .output()
        .expect("parallel runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tapegrad(["tune", "collect", &s(&shared)]).ok();
    assert_eq!(without_seconds(&shared), without_seconds(&whole));
    assert_eq!(trial_results(&[shared]), trial_results(&[whole]));
}

#[test]
fn overwrite_replaces_a_whole_study_with_its_trial_folders_and_nothing_else() {
    let tmp = tempdir();
    let dir = tmp.path().join("study");
    tapegrad(study_args(&dir, &[])).ok();
    tapegrad(study_args(&dir, &[])).input_error(&[&s(&dir), "holds an earlier run", "--overwrite"]);
    tapegrad(study_args(&dir, &["--seed", "3", "--overwrite"])).ok();
    assert_eq!(summary(&dir)["study"]["seed"], 3);
    // A trial folder holding a file no trial writes is the user's: never cleared.
    fs::write(dir.join("trial-0001/notes.txt"), "mine").unwrap();
    tapegrad(study_args(&dir, &["--overwrite"])).input_error(&["trial-0001", "left alone"]);
    assert!(dir.join("trial-0001/notes.txt").is_file());
}

#[test]
fn a_broken_result_file_is_refused_naming_the_file() {
    let tmp = tempdir();
    let trial = tmp.path().join("study/trial-0000");
    fs::create_dir_all(&trial).unwrap();
    fs::write(trial.join("result.json"), "{\"trial\": 0,").unwrap();
    let path = s(&trial.join("result.json"));
    tapegrad(["tune", "collect", &s(&tmp.path().join("study"))]).input_error(&[
        &path,
        "not a trial result",
        "line 1",
    ]);
}
