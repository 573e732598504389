//! `results.csv`: one row per finished trial, best first.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::Collection;

/// `value` as one RFC 4180 field: quoted when it holds a comma, a double quote or a line
/// break, with its double quotes doubled.
///
/// ```
/// use tapegrad_net::tune::csv_field;
/// assert_eq!(csv_field("100"), "100");
/// assert_eq!(csv_field("512,256"), "\"512,256\"");
/// assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
/// ```
pub fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// The table of a collection: `rank`, `trial`, `rung` (the rung it reached), every
/// hyperparameter
/// of any trial ([`TrainConfig::fields`](crate::train::TrainConfig::fields)), then `outcome`, `best_epoch`,
/// `epochs_run`, `train_accuracy`, `val_accuracy`, `val_loss` (empty for a diverged trial) and
/// `seconds`; one row per ranked trial, lines ending in CRLF as RFC 4180 has them.
pub fn results_csv(collection: &Collection) -> String {
    // Every field any trial has (a momentum trial has `optimizer.mu`, an Adam one
    // `optimizer.beta1`), in alphabetical order; a trial without one leaves it empty.
    let names: BTreeSet<String> = (collection.ranked.iter())
        .flat_map(|(_, r)| r.config.fields())
        .map(|(n, _)| n)
        .collect();
    let mut header = vec!["rank".to_owned(), "trial".to_owned(), "rung".to_owned()];
    header.extend(names.iter().cloned());
    for name in [
        "outcome",
        "best_epoch",
        "epochs_run",
        "train_accuracy",
        "val_accuracy",
        "val_loss",
        "seconds",
    ] {
        header.push(name.to_owned());
    }
    let mut csv = String::new();
    let line: Vec<String> = header.iter().map(|h| csv_field(h)).collect();
    let _ = write!(csv, "{}\r\n", line.join(","));
    for (rank, (_, result)) in collection.ranked.iter().enumerate() {
        let fields = result.config.fields();
        let m = &result.metrics;
        let mut row = vec![
            (rank + 1).to_string(),
            result.trial.to_string(),
            result.rung.to_string(),
        ];
        for name in &names {
            let value = fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone());
            row.push(value.unwrap_or_default());
        }
        row.extend([
            m.outcome.name().to_owned(),
            m.best_epoch.to_string(),
            m.epochs_run.to_string(),
            m.train_accuracy.to_string(),
            m.val_accuracy.to_string(),
            m.val_loss.map(|l| l.to_string()).unwrap_or_default(),
            m.seconds.to_string(),
        ]);
        let row: Vec<String> = row.iter().map(|v| csv_field(v)).collect();
        let _ = write!(csv, "{}\r\n", row.join(","));
    }
    csv
}
