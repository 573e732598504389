//! Ctrl-C in `tune`: the study stops after an epoch with exit code 130, the finished trials
//! kept and the running one saved, and `--resume` finishes exactly the uninterrupted study.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::tune_files::*;
use common::*;

#[test]
fn ctrl_c_stops_the_study_after_an_epoch_with_130_and_resume_finishes_the_same_study() {
    let tmp = tempdir();
    let (whole, dir) = (tmp.path().join("whole"), tmp.path().join("study"));
    let args = |out: &Path, extra: &[&str]| halving_epochs(out, 27, extra);
    tapegrad(args(&whole, &[])).ok();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapegrad"))
        .args(args(&dir, &[]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first row means the handler is set and a trial has finished.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for _ in 0..2 {
        line.clear();
        stdout.read_line(&mut line).unwrap();
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // It may have finished before the signal arrived on a fast machine; then there is
    // nothing to resume.
    if out.status.code() != Some(0) {
        assert_eq!(out.status.code(), Some(130), "{stderr}");
        assert!(
            stderr.contains("--resume") && stderr.contains("kept"),
            "{stderr}"
        );
        tapegrad(args(&dir, &["--resume"])).ok();
    }
    assert_eq!(rung_results(&dir), rung_results(&whole));
    assert_eq!(table(&dir), table(&whole));
}

#[test]
fn ctrl_c_mid_trial_saves_it_at_an_epoch_and_resume_continues_it_to_the_uninterrupted_result() {
    let tmp = tempdir();
    let (whole, dir) = (tmp.path().join("whole"), tmp.path().join("study"));
    // Trials long enough (40 epochs of 200 hidden units) that the first is still running
    // when the signal arrives.
    let args = |out: &Path, extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "tune",
            "--trials",
            "2",
            "--epochs",
            "40",
            "--hidden",
            "200",
            "--batch-size",
            "32",
            "--optimizer",
            "adam",
            "--threads",
            "1",
            "--out",
        ]
        .map(String::from)
        .to_vec();
        a.push(s(out));
        a.extend(extra.iter().map(|e| e.to_string()));
        a
    };
    tapegrad(args(&whole, &[])).ok();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapegrad"))
        .args(args(&dir, &[]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The header is printed once the handler is set, just before trial 0 starts.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut header = String::new();
    stdout.read_line(&mut header).unwrap();
    assert!(header.starts_with("trial"), "{header}");
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("trial 0 is saved at epoch"), "{stderr}");
    assert!(dir.join("trial-0000/state.safetensors").is_file());
    assert!(!dir.join("trial-0000/result.json").exists());
    tapegrad(args(&dir, &["--resume"])).ok();
    assert!(
        !dir.join("trial-0000/state.safetensors").exists(),
        "a finished trial keeps no state"
    );
    assert_eq!(rung_results(&dir), rung_results(&whole));
    assert_eq!(table(&dir), table(&whole));
    assert_eq!(
        fs::read(dir.join("model.safetensors")).unwrap(),
        fs::read(whole.join("model.safetensors")).unwrap()
    );
}
