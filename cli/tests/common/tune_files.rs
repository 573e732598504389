//! Reading a `tune` study's files in tests: every rung result, a rung's results, the table
//! without its seconds; and the flags of the small halving study the tests run.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

use super::s;

/// 9 trials of at most 9 epochs on the built-in digits: rungs of 1, 3 and 9 epochs holding
/// 9, 3 and 1 trials.
pub fn halving_args(out: &Path, extra: &[&str]) -> Vec<String> {
    halving_epochs(out, 9, extra)
}

/// 9 trials of at most `epochs` epochs, rung 0 of 1 epoch.
pub fn halving_epochs(out: &Path, epochs: usize, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "tune",
        "--trials",
        "9",
        "--search",
        "halving",
        "--min-epochs",
        "1",
        "--hidden",
        "16",
        "24,12",
        "--batch-size",
        "64",
        "--threads",
        "1",
        "--out",
    ]
    .map(String::from)
    .to_vec();
    args.push(s(out));
    args.extend(["--epochs".to_owned(), epochs.to_string()]);
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// Every result file of every trial folder of `dir` (`trial-0003/rung-1.json`, ...) without
/// its seconds (the one figure that differs between runs), by trial folder and file name.
pub fn rung_results(dir: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for trial in fs::read_dir(dir).unwrap() {
        let trial = trial.unwrap().path();
        if !trial.is_dir() {
            continue;
        }
        for file in fs::read_dir(&trial).unwrap() {
            let file = file.unwrap().path();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            // Results only: not ASHA's claims (`promoted-1.json`).
            if !name.ends_with(".json") || name.starts_with("promoted-") {
                continue;
            }
            let mut value: Value =
                serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
            value["metrics"].as_object_mut().unwrap().remove("seconds");
            let trial = trial.file_name().unwrap().to_string_lossy();
            out.insert(format!("{trial}/{name}"), value);
        }
    }
    out
}

/// The results of rung `rung`, by trial.
pub fn rung(results: &BTreeMap<String, Value>, rung: usize) -> BTreeMap<u64, Value> {
    let suffix = format!("/rung-{rung}.json");
    (results.iter())
        .filter(|(k, _)| k.ends_with(&suffix))
        .map(|(_, v)| (v["trial"].as_u64().unwrap(), v.clone()))
        .collect()
}

/// results.csv without its seconds column.
pub fn table(dir: &Path) -> Vec<String> {
    let text = fs::read_to_string(dir.join("results.csv")).unwrap();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let seconds = header.iter().position(|h| *h == "seconds").unwrap();
    assert_eq!(seconds, header.len() - 1, "seconds is the last column");
    (lines.map(|l| l.rsplit_once(',').unwrap().0.to_owned())).collect()
}
