//! The augmentation's layer of a run's settings: `kind = "auto"` (a pilot chooses once the
//! data are loaded, [`tapegrad_net::train::choose_augment`]), and augmentation flags that have
//! no kind to apply to or that the kind in force does not take.

use tapegrad_net::augment::{Augment, AUGMENT_KINDS};
use tapegrad_net::train::AUTO;
use toml::{Table, Value};

use super::to_table;
use crate::args::augment_flag;
use crate::failure::{Failure, Outcome};

/// Refuses an augmentation flag with no kind to apply to (`--augment-rotate 10` without
/// `--augment` or a config file's `[augment] kind`), or one the kind in force does not take
/// (`--elastic-alpha` with `--augment affine`), naming the ones it does take.
pub(super) fn check_augment_flags(table: &Table, flags: &Table) -> Outcome {
    let Some(Value::Table(given)) = flags.get("augment") else {
        return Ok(());
    };
    let kind = (table.get("augment"))
        .and_then(|a| a.get("kind"))
        .and_then(Value::as_str);
    let Some(kind) = kind else {
        let key = given.keys().next().map_or("kind", String::as_str);
        return Err(Failure::input(format!(
            "{}: choose what to augment with --augment {}",
            augment_flag(key),
            AUGMENT_KINDS[1..].join("|")
        )));
    };
    if kind == AUTO {
        let key = given.keys().find(|k| *k != "kind");
        return match key {
            None => Ok(()),
            Some(key) => Err(Failure::input(format!(
                "{}: --augment auto tries its own settings; give a kind ({}) to set them",
                augment_flag(key),
                AUGMENT_KINDS[1..].join("|")
            ))),
        };
    }
    let Some(default) = Augment::kind_default(kind) else {
        return Ok(()); // decode names the bad kind
    };
    let takes = to_table(&default)?;
    let Some(key) = (given.keys()).find(|k| *k != "kind" && !takes.contains_key(*k)) else {
        return Ok(());
    };
    let accepted: Vec<String> = (takes.keys())
        .filter(|k| *k != "kind")
        .map(|k| augment_flag(k))
        .collect();
    Err(Failure::input(format!(
        "{}: the {kind} augmentation has no such setting ({}); choose another --augment",
        augment_flag(key),
        match accepted.is_empty() {
            true => "it takes none".to_owned(),
            false => format!("it takes {}", accepted.join(", ")),
        }
    )))
}

/// The `[augment]` table that asks for a pilot.
pub(super) fn auto_augment() -> Value {
    let mut auto = Table::new();
    auto.insert("kind".into(), Value::String(AUTO.into()));
    Value::Table(auto)
}

/// Whether `table`'s augmentation is `auto`.
pub(super) fn is_auto(table: &Table) -> bool {
    let kind = (table.get("augment"))
        .and_then(|a| a.get("kind"))
        .and_then(Value::as_str);
    kind == Some(AUTO)
}

/// `table` without an `auto` augmentation (which [`TrainConfig`] cannot hold: the pilot
/// replaces it once the data are loaded).
pub(super) fn without_auto(table: &Table) -> Table {
    let mut table = table.clone();
    if is_auto(&table) {
        table.remove("augment");
    }
    table
}
