//! A run folder belongs to one run: two runs at once, a killed run, runs started in the same
//! second, an earlier run in `--out`, a failed save, a closed stdout and hostile text in
//! messages, each tried on the real binary.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::process::*;
use common::*;

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The run's files but the lock file (which names its latest holder): names and contents.
fn run_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    names(dir)
        .into_iter()
        .filter(|n| n != ".lock")
        .map(|n| {
            let bytes = fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

/// Whether `dir`'s lock file names process `pid`.
fn locked_by(dir: &Path, pid: u32) -> bool {
    fs::read_to_string(dir.join(".lock"))
        .is_ok_and(|t| t.lines().next() == Some(&format!("pid {pid}")))
}

#[test]
fn second_run_on_a_busy_folder_is_refused_naming_the_holder_and_the_first_finishes() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    let first = spawn(
        tmp.path(),
        &[
            "train",
            "--epochs",
            "1500",
            "--threads",
            "1",
            "--out",
            "run",
            "-q",
        ],
    );
    let pid = first.id();
    wait_for("the first run to lock its folder", || locked_by(&dir, pid));

    let holder = format!("tapegrad train (process {pid}, started 20");
    for command in ["train", "tune"] {
        let second = tapegrad([command, "--epochs", "1", "--out", &s(&dir)]);
        second.input_error(&[&s(&dir), "is in use by", &holder, "choose another --out"]);
    }
    let resumed = tapegrad(["train", "--resume", "--epochs", "2", "--out", &s(&dir)]);
    resumed.input_error(&[&s(&dir), &holder]);

    let (code, stderr) = finish(first);
    assert_eq!(code, Some(0), "the first run finishes: {stderr}");
    assert_run_folder(&dir, 1500, true);
}

#[test]
fn a_killed_run_leaves_no_lock_and_resume_continues_it_without_its_stale_temporaries() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    let mut run = spawn(
        tmp.path(),
        &[
            "train",
            "--epochs",
            "100000",
            "--schedule",
            "exponential",
            "--threads",
            "1",
            "--out",
            "run",
            "-q",
        ],
    );
    wait_for("the first save", || dir.join("metrics.csv").exists());
    run.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
    run.wait().unwrap();
    assert!(dir.join(".lock").exists(), "the lock file stays behind");
    // What a kill in the middle of a save leaves.
    let stale = [".model.safetensors.tmp-999999-0", ".metrics.csv.tmp-1-12"];
    for name in stale {
        fs::write(dir.join(name), b"half a file").unwrap();
    }

    let state = tapegrad_net::checkpoint::load_state(&dir.join("state.safetensors")).unwrap();
    let saved = state.run.epoch;
    assert!(saved >= 1);
    train_quietly(&dir, saved + 1, &["--resume"]);
    assert_eq!(metrics(&dir).1.len(), saved + 1);
    for name in stale {
        assert!(!dir.join(name).exists(), "{name} is removed on resume");
    }
}

#[test]
fn stale_temporaries_are_removed_when_a_new_run_opens_the_folder() {
    let tmp = tempdir();
    let stale = tmp.path().join(".summary.json.tmp-4242-0");
    fs::write(&stale, b"{").unwrap();
    // Only temporaries: the folder counts as empty.
    train_quietly(tmp.path(), 1, &[]);
    assert!(!stale.exists());
    assert!(!names(tmp.path()).iter().any(|n| n.contains(".tmp-")));
}

#[test]
fn four_runs_started_together_leave_four_folders() {
    let tmp = tempdir();
    let runs: Vec<Child> = (1..=4)
        .map(|seed| {
            let seed = seed.to_string();
            spawn(
                tmp.path(),
                &["train", "--epochs", "1", "--seed", &seed, "-q"],
            )
        })
        .collect();
    for run in runs {
        let (code, stderr) = finish(run);
        assert_eq!(code, Some(0), "{stderr}");
    }
    let folders = names(&tmp.path().join("runs"));
    assert_eq!(folders.len(), 4, "{folders:?}");
    let seeds: Vec<u64> = folders
        .iter()
        .map(|f| {
            let dir = tmp.path().join("runs").join(f);
            assert!(f.starts_with("digits-"), "{f}");
            assert_run_folder(&dir, 1, true)["hyperparameters"]["seed"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let mut sorted = seeds.clone();
    sorted.sort();
    assert_eq!(sorted, [1, 2, 3, 4], "one folder per run");
}

#[test]
fn out_holding_a_run_is_refused_and_overwrite_replaces_it() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    train_quietly(&dir, 1, &[]);
    let before = run_files(&dir);

    let again = tapegrad(["train", "--epochs", "1", "--seed", "5", "--out", &s(&dir)]);
    again.input_error(&[&s(&dir), "holds an earlier run", "--resume", "--overwrite"]);
    let tune = tapegrad(["tune", "--trials", "1", "--epochs", "1", "--out", &s(&dir)]);
    let message = tune.input_error(&[&s(&dir), "--overwrite"]);
    assert!(
        !message.contains("--resume"),
        "tune cannot resume: {message}"
    );
    assert!(run_files(&dir) == before, "the earlier run is untouched");

    // spiral data are not images: the digits run's weights.png is replaced by a heat map
    // (assert_run_folder checks the report says so), never left stale.
    let digits_weights = fs::read(dir.join("weights.png")).unwrap();
    train_quietly(&dir, 1, &["--data", "spiral", "--overwrite"]);
    assert_run_folder(&dir, 1, false);
    assert_ne!(fs::read(dir.join("weights.png")).unwrap(), digits_weights);
    assert_eq!(summary(&dir)["dataset"], "spiral");
}

#[test]
fn overwrite_never_clears_a_folder_holding_other_files() {
    let tmp = tempdir();
    fs::write(tmp.path().join("model.safetensors"), b"not ours?").unwrap();
    fs::write(tmp.path().join("notes.txt"), b"precious").unwrap();
    for extra in [&[][..], &["--overwrite"][..]] {
        let mut args = vec!["train", "--epochs", "1", "--out"];
        let out = s(tmp.path());
        args.push(&out);
        args.extend(extra);
        tapegrad(&args).input_error(&[&out, "notes.txt", "choose a new or empty folder"]);
    }
    assert_eq!(fs::read(tmp.path().join("notes.txt")).unwrap(), b"precious");
    assert_eq!(
        fs::read(tmp.path().join("model.safetensors")).unwrap(),
        b"not ours?"
    );
}

#[test]
fn overwrite_needs_out_and_excludes_resume() {
    tapegrad(["train", "--overwrite"]).input_error(&["--out"]);
    tapegrad(["train", "--overwrite", "--resume", "--out", "x"]).input_error(&["--resume"]);
}

#[test]
fn a_run_that_fails_before_its_first_epoch_leaves_no_folder() {
    let tmp = tempdir();
    let missing = s(&tmp.path().join("missing.csv"));
    let data = format!("csv:{missing}");
    // A named folder (and its new parent)...
    let out = tmp.path().join("new").join("run");
    tapegrad(["train", "--data", &data, "--out", &s(&out)]).input_error(&["missing.csv"]);
    assert!(!tmp.path().join("new").exists());
    // ...a default one (and runs/)...
    tapegrad_in(tmp.path(), ["train", "--data", &data]).input_error(&["missing.csv"]);
    tapegrad_in(tmp.path(), ["tune", "--data", &data]).input_error(&["missing.csv"]);
    assert!(!tmp.path().join("runs").exists());
    // ...and one that diverged in its first epoch.
    let run = tapegrad([
        "train",
        "--epochs",
        "2",
        "--optimizer",
        "sgd",
        "--lr",
        "1e12",
        "--init-std",
        "1",
        "--out",
        &s(&out),
        "-q",
    ]);
    run.running_error(&["training diverged", "nothing was saved"]);
    assert!(!tmp.path().join("new").exists());
    // An existing folder is never removed.
    tapegrad(["train", "--data", &data, "--out", &s(tmp.path())]).input_error(&["missing.csv"]);
    assert!(tmp.path().is_dir());
}

#[cfg(target_os = "linux")]
#[test]
fn a_state_that_cannot_be_written_keeps_the_earlier_model_and_state_byte_for_byte() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    train_quietly(&dir, 2, &[]);
    let before = run_files(&dir);
    let size = |name: &str| fs::metadata(dir.join(name)).unwrap().len();
    // The digits state (~120 KB) does not fit under the limit, the model (~31 KB) does: were
    // the model written first, a new model would sit beside the old state.
    let limit_kib = 60;
    assert!(size("model.safetensors") < limit_kib * 1024);
    assert!(size("state.safetensors") > limit_kib * 1024);

    let out = s(&dir);
    let run = tapegrad_with_file_limit(
        limit_kib,
        &["train", "--resume", "--epochs", "4", "--out", &out, "-q"],
    );
    run.running_error(&[&s(&dir.join("state.safetensors")), "cannot save"]);
    assert!(
        run_files(&dir) == before,
        "every file is as it was, byte for byte"
    );

    // The same run, with room, goes on from the kept state.
    train_quietly(&dir, 4, &["--resume"]);
    assert_eq!(metrics(&dir).1.len(), 4);
}

#[test]
fn a_model_older_than_its_state_or_missing_is_restored_from_the_state_on_resume() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    let model = dir.join("model.safetensors");
    train_quietly(&dir, 2, &[]);
    let old_model = fs::read(&model).unwrap();
    train_quietly(&dir, 4, &["--resume"]);
    let new_model = fs::read(&model).unwrap();
    assert!(old_model != new_model, "epochs 3 and 4 improved the model");

    // What a kill between the state's rename and the model's leaves: the new state beside
    // the old model; then a lost model.
    for damage in [Some(&old_model), None] {
        match damage {
            Some(bytes) => fs::write(&model, bytes).unwrap(),
            None => fs::remove_file(&model).unwrap(),
        }
        let run = tapegrad(["train", "--resume", "--epochs", "4", "--out", &s(&dir)]);
        run.ok();
        assert!(run.stderr.contains("restored"), "{}", run.stderr);
        assert!(
            run.stderr.contains(&s(&model)),
            "the note names the model: {}",
            run.stderr
        );
        assert!(
            fs::read(&model).unwrap() == new_model,
            "the model is the state's best net"
        );
    }
    // A consistent folder is left alone.
    let run = tapegrad(["train", "--resume", "--epochs", "4", "--out", &s(&dir)]);
    assert!(!run.ok().contains("restored") && !run.stderr.contains("restored"));
}

#[test]
fn commands_printing_into_a_closed_pipe_end_quietly_with_exit_0() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    let model = s(&dir.join("model.safetensors"));
    let out = s(&dir);
    for args in [
        &["train", "--epochs", "1", "--out", &out, "-q"][..],
        &["predict", "--model", &model, "--split", "train"],
        &["eval", "--model", &model],
        &["graph"],
        &["bench", "--shape", "tiny", "--budget", "0.01", "--json"],
        &["gradcheck", "--nets", "1"],
    ] {
        let (code, stderr) = with_closed_stdout(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?} prints nothing on stderr");
    }
    assert_run_folder(&dir, 1, true);
}

#[test]
fn predict_piped_into_head_ends_quietly_after_the_first_lines() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    train_quietly(&dir, 1, &["--data", "spiral:30000,3"]);
    // 21,000 training rows: far more than a pipe holds, so predict is still writing when the
    // reader goes away.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapegrad"))
        .args(["predict", "--model", &s(&dir.join("model.safetensors"))])
        .args(["--data", "spiral:30000,3", "--split", "train"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    assert!(first.starts_with(b"row,predicted,probability,label\n"));
    drop(child.stdout.take());
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

/// Asserts `stderr` is one line with no control byte in it.
#[track_caller]
fn assert_one_clean_line(stderr: &str) {
    let body = stderr.strip_suffix('\n').unwrap_or(stderr);
    assert!(
        !body.chars().any(|c| c.is_control()),
        "a control character reached the terminal: {stderr:?}"
    );
}

#[test]
fn control_bytes_in_a_file_name_are_escaped_in_the_message() {
    let tmp = tempdir();
    let path: PathBuf = tmp.path().join("x\u{1b}[2J\u{7}\nforged: line.csv");
    let run = tapegrad(["eval", "--model", &s(&path)]);
    run.input_error(&["x\\u{1b}[2J\\u{7}\\nforged: line.csv"]);
    assert_one_clean_line(&run.stderr);
}

#[test]
fn control_bytes_in_a_data_field_are_escaped_in_the_message() {
    let tmp = tempdir();
    let path = tmp.path().join("bad.csv");
    fs::write(
        &path,
        "a,b,label\n0.5,0.25,1\n0.5,\u{1b}]0;pwned\u{7}\r,0\n",
    )
    .unwrap();
    let run = tapegrad_in(
        tmp.path(),
        ["train", "--data", &format!("csv:{}", s(&path)), "-q"],
    );
    run.input_error(&[&s(&path), "\\u{1b}]0;pwned\\u{7}"]);
    assert_one_clean_line(&run.stderr);
}
