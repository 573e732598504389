//! `tune --search halving`, `--space` and `tune.png`: successive halving promotes exactly the
//! best third of each rung, continues promoted trials from their saved state, gives the same
//! study in one process or in shards, and its best trial's config.toml retrains the same
//! model; a search-space file sets what is drawn.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::tune_files::*;
use common::*;
use serde_json::Value;

#[test]
fn halving_promotes_the_brute_force_top_third_of_each_rung_and_continues_them_to_the_max() {
    let tmp = tempdir();
    let dir = tmp.path().join("study");
    tapegrad(halving_args(&dir, &[])).ok();
    let results = rung_results(&dir);
    let sizes = [9, 3, 1];
    let epochs = [1, 3, 9];
    for k in 0..3 {
        let here = rung(&results, k);
        assert_eq!(here.len(), sizes[k], "rung {k}: {:?}", here.keys());
        for r in here.values() {
            assert_eq!(r["metrics"]["epochs_run"], epochs[k], "{r}");
        }
        if k == 0 {
            continue;
        }
        // Brute force: the rung before sorted by validation accuracy, then loss, then index.
        let mut before: Vec<(f64, f64, u64)> = (rung(&results, k - 1).values())
            .filter(|r| r["metrics"]["outcome"] != "diverged")
            .map(|r| {
                let m = &r["metrics"];
                (
                    m["val_accuracy"].as_f64().unwrap(),
                    m["val_loss"].as_f64().unwrap(),
                    r["trial"].as_u64().unwrap(),
                )
            })
            .collect();
        before.sort_by(|a, b| {
            (b.0.total_cmp(&a.0))
                .then(a.1.total_cmp(&b.1))
                .then(a.2.cmp(&b.2))
        });
        let top: Vec<u64> = before.iter().take(sizes[k]).map(|p| p.2).collect();
        let mut top_sorted = top.clone();
        top_sorted.sort_unstable();
        assert_eq!(
            here.keys().copied().collect::<Vec<_>>(),
            top_sorted,
            "rung {k}"
        );
    }
    // The last rung's trial has no state left; a promoted one keeps it for the next rung.
    let last = rung(&results, 2).keys().next().copied().unwrap() as usize;
    assert!(!dir
        .join(format!("trial-{last:04}/state.safetensors"))
        .exists());
    let summary = summary(&dir);
    assert_eq!(
        summary["best"]["trial"], last,
        "the best is the last rung's trial"
    );
    assert_eq!(summary["best"]["rung"], 2);
    assert_png(&dir.join("tune.png"));

    // The promoted trial was continued from its saved state: its model is exactly that of
    // one uninterrupted run of its configuration for 9 epochs (`train --config config.toml`).
    let again = tmp.path().join("again");
    let config = s(&dir.join("config.toml"));
    tapegrad([
        "train",
        "--config",
        &config,
        "--out",
        &s(&again),
        "-q",
        "--threads",
        "1",
    ])
    .ok();
    assert_eq!(
        fs::read(again.join("model.safetensors")).unwrap(),
        fs::read(dir.join("model.safetensors")).unwrap(),
        "the best trial's model, retrained from its config.toml"
    );
}

#[test]
fn sharded_halving_collected_equals_one_process_halving_rung_for_rung() {
    let tmp = tempdir();
    let (whole, shared) = (tmp.path().join("whole"), tmp.path().join("shared"));
    tapegrad(halving_args(&whole, &[])).ok();
    // Three shards at once on one shared folder: they claim work from each other.
    let children: Vec<_> = (0..3)
        .map(|k| {
            let args = halving_args(&shared, &["--shard", &format!("{k}/3")]);
            Command::new(env!("CARGO_BIN_EXE_tapegrad"))
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        !shared.join("results.csv").exists(),
        "a shard does not collect"
    );
    tapegrad(["tune", "collect", &s(&shared)]).ok();
    assert_eq!(rung_results(&shared), rung_results(&whole));
    assert_eq!(table(&shared), table(&whole));
    assert_eq!(
        fs::read(shared.join("model.safetensors")).unwrap(),
        fs::read(whole.join("model.safetensors")).unwrap()
    );
    assert_png(&shared.join("tune.png"));
}

#[test]
fn collect_names_the_unfinished_rung_of_a_halving_study_and_resume_finishes_it() {
    let tmp = tempdir();
    let (whole, dir) = (tmp.path().join("whole"), tmp.path().join("study"));
    tapegrad(halving_args(&whole, &[])).ok();
    tapegrad(halving_args(&dir, &[])).ok();
    // What a kill in rung 1 leaves: a promoted trial with its rung-0 result as its latest.
    let promoted = rung(&rung_results(&dir), 1).keys().next().copied().unwrap();
    let trial = dir.join(format!("trial-{promoted:04}"));
    for name in ["rung-1.json", "rung-2.json"] {
        let _ = fs::remove_file(trial.join(name));
    }
    fs::copy(trial.join("rung-0.json"), trial.join("result.json")).unwrap();
    let out = tapegrad(["tune", "collect", &s(&dir)]);
    out.fails_with(3, &["incomplete", "rung 1 of 3", &promoted.to_string()]);
    tapegrad(halving_args(&dir, &["--resume"])).ok();
    assert_eq!(rung_results(&dir), rung_results(&whole));
    assert_eq!(table(&dir), table(&whole));
}

#[test]
fn a_search_space_file_sets_what_is_drawn_and_its_errors_name_the_file_and_the_key() {
    let tmp = tempdir();
    let space = tmp.path().join("space.toml");
    fs::write(
        &space,
        "lr = { log_uniform = [1e-3, 2e-3] }\nhidden = { choice = [[8], [10, 6]] }\n\
         optimizer = { choice = [\"sgd\"] }\n",
    )
    .unwrap();
    let dir = tmp.path().join("study");
    let out: Vec<String> = [
        "tune",
        "--trials",
        "4",
        "--epochs",
        "2",
        "--threads",
        "1",
        "--space",
    ]
    .map(String::from)
    .into_iter()
    .chain([
        s(&space),
        "--hidden".into(),
        "12".into(),
        "--out".into(),
        s(&dir),
    ])
    .collect();
    tapegrad(&out).ok();
    for (_, r) in rung_results_plain(&dir) {
        let c = &r["config"];
        let lr = c["lr"].as_f64().unwrap();
        assert!((1e-3..=2e-3).contains(&lr), "{c}");
        assert_eq!(c["optimizer"]["kind"], "sgd", "from the file");
        assert_eq!(
            c["hidden"],
            serde_json::json!([12]),
            "the flag over the file"
        );
    }
    assert_png(&dir.join("tune.png"));

    for (text, needles) in [
        (
            "dropuot = { uniform = [0, 1] }",
            &["dropuot", "lr, reg"][..],
        ),
        ("lr = { log_uniform = [1e-3] }", &["key 'lr'"][..]),
        (
            "batch_size = { choice = [0] }",
            &["--batch-size", "value 0"][..],
        ),
        ("lr = [", &["line 1"][..]),
    ] {
        fs::write(&space, text).unwrap();
        let err = tapegrad([
            "tune",
            "--space",
            &s(&space),
            "--out",
            &s(&tmp.path().join("x")),
        ]);
        let mut needles = needles.to_vec();
        let name = s(&space);
        needles.push(&name);
        err.input_error(&needles);
    }
    tapegrad([
        "tune",
        "--min-epochs",
        "2",
        "--out",
        &s(&tmp.path().join("y")),
    ])
    .input_error(&["--min-epochs", "--search halving"]);
    let missing = s(&tmp.path().join("none.toml"));
    tapegrad(["tune", "--space", &missing]).input_error(&[&missing, "cannot read"]);
}

/// `result.json` of each trial folder of a random study.
fn rung_results_plain(dir: &Path) -> Vec<(PathBuf, Value)> {
    let mut out = Vec::new();
    for trial in fs::read_dir(dir).unwrap() {
        let path = trial.unwrap().path().join("result.json");
        if path.is_file() {
            let value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
            out.push((path, value));
        }
    }
    assert!(!out.is_empty());
    out
}

/// Each ASHA claim file of `dir` (`trial-0002/promoted-1.json`), checked to be a promotion
/// among the best third of its rung when claimed, and followed by that rung's result.
fn checked_claims(dir: &Path) -> BTreeMap<String, Value> {
    let results = rung_results(dir);
    let mut claims = BTreeMap::new();
    for trial in fs::read_dir(dir).unwrap() {
        let trial = trial.unwrap().path();
        for k in 1..4 {
            let path = trial.join(format!("promoted-{k}.json"));
            if let Ok(text) = fs::read_to_string(&path) {
                let claim: Value = serde_json::from_str(&text).unwrap();
                let (place, of) = (
                    claim["place"].as_u64().unwrap(),
                    claim["of"].as_u64().unwrap(),
                );
                assert!(place < of / 3, "{}: {claim}", path.display());
                let name = trial.file_name().unwrap().to_string_lossy().into_owned();
                assert!(
                    results.contains_key(&format!("{name}/rung-{k}.json")),
                    "{name} ran rung {k}"
                );
                claims.insert(format!("{name}/promoted-{k}"), claim);
            }
        }
    }
    claims
}

#[test]
fn asha_promotes_among_the_best_third_so_far_once_each_and_is_deterministic_in_one_process() {
    let tmp = tempdir();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for dir in [&a, &b] {
        let mut args = halving_args(dir, &[]);
        let at = args.iter().position(|x| x == "halving").unwrap();
        args[at] = "asha".into();
        tapegrad(&args).ok();
    }
    let claims = checked_claims(&a);
    assert!(!claims.is_empty(), "some trial was promoted");
    assert_eq!(checked_claims(&b), claims, "the same promotions");
    assert_eq!(rung_results(&b), rung_results(&a));
    assert_eq!(summary(&a)["unfinished"], Value::Null);
    assert_png(&a.join("tune.png"));
}

#[test]
fn sharded_asha_finishes_with_every_promotion_justified_and_rung_0_as_in_one_process() {
    let tmp = tempdir();
    let (whole, shared) = (tmp.path().join("whole"), tmp.path().join("shared"));
    let asha = |out: &Path, extra: &[&str]| {
        let mut args = halving_args(out, extra);
        let at = args.iter().position(|x| x == "halving").unwrap();
        args[at] = "asha".into();
        args
    };
    tapegrad(asha(&whole, &[])).ok();
    let children: Vec<_> = (0..3)
        .map(|k| {
            Command::new(env!("CARGO_BIN_EXE_tapegrad"))
                .args(asha(&shared, &["--shard", &format!("{k}/3")]))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    tapegrad(["tune", "collect", &s(&shared)]).ok();
    checked_claims(&shared);
    // Rung 0 runs every trial from its start, so it is the same whatever the timing; which
    // trials go further may differ.
    assert_eq!(
        rung(&rung_results(&shared), 0),
        rung(&rung_results(&whole), 0)
    );
}
