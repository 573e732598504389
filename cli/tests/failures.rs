//! Failures while running: a diverging loss and a save that cannot be made. Either way the
//! run folder keeps the last good model.

mod common;

use common::*;
use tapegrad_net::checkpoint;

/// The iteration number in `training diverged at iteration N`.
fn diverged_at(stderr: &str) -> usize {
    let rest = stderr
        .split_once("diverged at iteration ")
        .unwrap_or_else(|| panic!("no iteration in {stderr}"))
        .1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("an iteration number")
}

#[test]
fn divergence_after_a_good_epoch_exits_1_naming_the_iteration_and_keeps_that_epoch() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    // Epoch 1 trains at lr 1e-3; the decay then makes epoch 2's lr 1e12, and plain SGD
    // from weights of std 1 blows up.
    let run = tapegrad([
        "train",
        "--epochs",
        "3",
        "--optimizer",
        "sgd",
        "--lr",
        "1e-3",
        "--schedule",
        "exponential",
        "--lr-decay",
        "1e15",
        "--init-std",
        "1",
        "--out",
        &s(&dir),
        "-q",
    ]);
    let stderr = run
        .running_error(&[
            "training diverged at iteration",
            "smaller learning rate",
            "--lr",
        ])
        .to_owned();
    assert!(stderr.contains(&s(&dir)), "names the run folder: {stderr}");
    assert!(stderr.contains("last good model"), "{stderr}");
    // 1,258 training digits in batches of 32: 40 steps per epoch; epoch 2 is steps 41..=80.
    let at = diverged_at(&stderr);
    assert!((41..=80).contains(&at), "diverged at {at}");

    // The folder holds epoch 1: its state, its model and its metrics row.
    let state = checkpoint::load_state(&dir.join("state.safetensors"))
        .unwrap_or_else(|e| panic!("{e}"))
        .run;
    assert_eq!((state.epoch, state.iteration), (1, 40));
    let model = checkpoint::load_model(&dir.join("model.safetensors")).unwrap();
    assert!(
        model.net == state.best,
        "the model file is the state's best net"
    );
    assert!(model
        .net
        .parameters()
        .all(|(_, p)| p.iter().all(|w| w.is_finite())));
    assert_eq!(metrics(&dir).1.len(), 1);
    // ... and the model still evaluates.
    tapegrad(["eval", "--model", &s(&dir.join("model.safetensors"))]).ok();
}

#[test]
fn divergence_in_the_first_epoch_exits_1_and_does_not_claim_a_saved_model() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
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
        &s(&dir),
        "-q",
    ]);
    let stderr = run
        .running_error(&["training diverged at iteration", "smaller learning rate"])
        .to_owned();
    assert!(diverged_at(&stderr) <= 40, "{stderr}");
    assert!(!dir.join("model.safetensors").exists());
    assert!(
        !stderr.contains("last good model"),
        "no model was saved, but the message says so: {stderr}"
    );
}

/// A save that cannot be made, through Linux's limit on path length (tests may run as root,
/// so permissions would not stop the writes).
#[cfg(target_os = "linux")]
mod failed_save {
    use std::fs;
    use std::path::Path;

    use crate::common::*;

    /// Snapshot of the files in `dir` but the lock file (which names its latest holder):
    /// names and contents.
    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                (name, fs::read(e.path()).unwrap())
            })
            .filter(|(name, _)| name != ".lock")
            .collect();
        out.sort();
        out
    }

    /// A directory under `base` whose absolute path is such that `DIR/model.safetensors` is
    /// 4,090 bytes long: just under Linux's PATH_MAX (4,096 with the NUL), while the save's
    /// temporary file `DIR/.model.safetensors.tmp-PID-N` is over it.
    fn dir_at_the_path_limit(base: &Path) -> std::path::PathBuf {
        let target = 4090 - "/model.safetensors".len();
        let mut dir = base.to_path_buf();
        while s(&dir).len() + 1 + 200 < target - 20 {
            dir.push("d".repeat(200));
        }
        let rest = target - s(&dir).len() - 1;
        dir.push("e".repeat(rest));
        assert_eq!(s(&dir.join("model.safetensors")).len(), 4090);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn failed_save_exits_with_an_error_naming_the_path_and_leaves_the_earlier_model_intact() {
        let tmp = tempdir();
        let dir = dir_at_the_path_limit(tmp.path());
        // A first run saves through a short relative path...
        let first = [
            "train",
            "--epochs",
            "1",
            "--schedule",
            "step",
            "--out",
            ".",
            "-q",
        ];
        tapegrad_in(&dir, first).ok();
        let before = files(&dir);
        assert!(before.iter().any(|(n, _)| n == "model.safetensors"));

        // ...then it is resumed for a second epoch through the long absolute path: the
        // temporary file's name is too long, so the first save (the state's) fails.
        // (Permissions would not stop root.)
        let run = tapegrad([
            "train",
            "--epochs",
            "2",
            "--resume",
            "--out",
            &s(&dir),
            "-q",
        ]);
        run.running_error(&[&s(&dir.join("state.safetensors")), "cannot save"]);

        let after = files(&dir);
        let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&after),
            names(&before),
            "no temporary file is left behind"
        );
        for ((name, a), (_, b)) in after.iter().zip(&before) {
            assert!(a == b, "{name} changed");
        }
        tapegrad_in(&dir, ["eval", "--model", "model.safetensors"]).ok();
    }
}
