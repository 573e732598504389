//! A training run's settings: the data source and its [`TrainConfig`], laid together from the
//! data source's defaults ([`TrainConfig::for_data`]) or a recipe's ([`Recipe::settings`]), a
//! `--config` TOML file and the flags given, each over the one before, key by key; and the
//! `config.toml` that reproduces a run. The augmentation's layer rules (`auto`, flags a kind
//! does not take) are in [`augment_layer`].
//!
//! Every layer is a TOML table keyed by [`TrainConfig`]'s field names (the defaults and the
//! flags are serialised to one), and the result is deserialised into a `TrainConfig`, so no
//! hyperparameter is listed here. A table with a `kind` (the schedule, the optimizer) is merged
//! key by key while the kind stays the same, and replaced when it changes: the new kind's
//! settings not given take their defaults.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::Serialize;
use tapegrad_net::data::DataSpec;
use tapegrad_net::schedule::Schedule;
use tapegrad_net::train::{Recipe, TrainConfig};
use toml::{Table, Value};

use crate::args::{HyperFlags, TrainArgs};
use crate::failure::{Failure, Outcome};
use augment_layer::{auto_augment, check_augment_flags, is_auto, without_auto};

/// The largest config file read, in bytes.
pub const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

/// A run's settings and where they came from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The data to train on.
    pub data: DataSpec,
    /// The hyperparameters.
    pub config: TrainConfig,
    /// The keys set by the config file or the flags; the others are the data source's defaults.
    pub given: Vec<String>,
    /// The settings are a resumed run's, saved with it.
    pub resumed: bool,
    /// The recipe laid under the config file and the flags, if any.
    pub recipe: Option<Recipe>,
    /// `augment = auto`: a pilot chooses the augmentation once the data are loaded (until
    /// then `config.augment` is none).
    pub choose_augment: bool,
    /// What the pilot tried and chose, for config.toml (empty until it has run).
    pub pilot_note: Vec<String>,
}

impl Settings {
    /// The settings of a new run: `args`' flags over its `--config` file over the defaults of
    /// the data source (`--data`, else the file's `data`, else `digits`).
    pub fn resolve(args: &TrainArgs) -> Outcome<Settings> {
        let file = match &args.config {
            Some(path) => Some((path, read_config_file(path)?)),
            None => None,
        };
        let in_file = |e: String| match &file {
            Some((path, _)) => Failure::input(format!("--config {}: {e}", path.display())),
            None => Failure::input(e),
        };
        let data = match (&args.data, file.as_ref().and_then(|(_, t)| t.get("data"))) {
            (Some(data), _) => data.clone(),
            (None, None) => DataSpec::default(),
            (None, Some(Value::String(text))) => text
                .parse()
                .map_err(|e| in_file(format!("data = \"{text}\": {e}")))?,
            (None, Some(other)) => {
                return Err(in_file(format!("data = {other}: not a string")));
            }
        };
        let recipe = match (
            &args.recipe,
            file.as_ref().and_then(|(_, t)| t.get("recipe")),
        ) {
            (Some(recipe), _) => Some(*recipe),
            (None, None) => None,
            (None, Some(Value::String(name))) => Some(
                name.parse()
                    .map_err(|e| in_file(format!("recipe = \"{name}\": {e}")))?,
            ),
            (None, Some(other)) => {
                return Err(in_file(format!("recipe = {other}: not a string")));
            }
        };
        let mut table = match recipe {
            None => to_table(&TrainConfig::for_data(&data))?,
            Some(recipe) => {
                let chosen = recipe.settings(&data);
                let mut table = to_table(&chosen.config)?;
                if chosen.choose_augment {
                    table.insert("augment".into(), auto_augment());
                }
                table
            }
        };
        let mut given = Vec::new();
        if let Some((_, mut layer)) = file.clone() {
            layer.remove("data");
            layer.remove("recipe");
            given.extend(layer.keys().cloned());
            merge(&mut table, layer);
            decode(&without_auto(&table)).map_err(in_file)?;
        }
        let flags = flags_table(&args.hyper)?;
        given.extend(
            flags
                .keys()
                .filter(|k| !given.contains(k))
                .cloned()
                .collect::<Vec<_>>(),
        );
        merge(&mut table, flags.clone());
        check_schedule_flags(&table, &flags)?;
        check_augment_flags(&table, &flags)?;
        let choose_augment = is_auto(&table);
        let config = decode(&without_auto(&table)).map_err(Failure::input)?;
        Ok(Settings {
            data,
            config,
            given,
            resumed: false,
            recipe,
            choose_augment,
            pilot_note: Vec::new(),
        })
    }

    /// Settings saved with a resumed run.
    pub fn saved(data: DataSpec, config: TrainConfig) -> Settings {
        Settings {
            data,
            config,
            given: Vec::new(),
            resumed: true,
            recipe: None,
            choose_augment: false,
            pilot_note: Vec::new(),
        }
    }

    /// One line naming every setting, and which are the data source's defaults:
    /// `hidden 100, reg 0.0001, ..., schedule exponential (lr_decay 0.98), ... (defaults for
    /// digits; given: epochs)`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let table = to_table(&self.config).unwrap_or_default();
        for (key, value) in &table {
            let text = match value {
                Value::Table(t) => {
                    let kind = t.get("kind").map(plain).unwrap_or_default();
                    let rest: Vec<String> = (t.iter())
                        .filter(|(k, _)| *k != "kind")
                        .map(|(k, v)| format!("{k} {}", plain(v)))
                        .collect();
                    match rest.is_empty() {
                        true => kind,
                        false => format!("{kind} ({})", rest.join(", ")),
                    }
                }
                v => plain(v),
            };
            parts.push(format!("{key} {text}"));
        }
        let base = match self.recipe {
            Some(recipe) => format!("the {recipe} recipe for {}", self.data),
            None => format!("the defaults for {}", self.data),
        };
        let source = match (self.resumed, self.given.is_empty()) {
            (true, _) => "saved with the run".to_owned(),
            (false, true) => base,
            (false, false) => format!("{base} except {}", self.given.join(", ")),
        };
        format!("{} ({source})", parts.join(", "))
    }

    /// The text of `config.toml`: `data` and every hyperparameter, which `tapegrad train
    /// --config` reads back into these settings exactly.
    pub fn to_toml(&self) -> Outcome<String> {
        check_integers("", &serde_json::to_value(&self.config).unwrap_or_default())?;
        let mut head = Table::new();
        head.insert("data".into(), Value::String(self.data.to_string()));
        let body = toml::to_string(&self.config).map_err(|e| cannot_write(&e))?;
        let mut origin = String::new();
        if let Some(recipe) = self.recipe {
            origin.push_str(&format!(
                "# From --recipe {recipe}{}.\n",
                match self.given.is_empty() {
                    true => String::new(),
                    false => format!(", with {} given", self.given.join(", ")),
                }
            ));
        }
        for line in &self.pilot_note {
            origin.push_str(&format!("# {line}\n"));
        }
        Ok(format!(
            "# The settings of this run: `tapegrad train --config <this file>` trains it again,\n\
             # bit for bit (with the same data). Paths are as given, from the working directory.\n\
             {origin}{}{body}",
            toml::to_string(&head).map_err(|e| cannot_write(&e))?
        ))
    }
}

/// The first flag of `flags` that would change `saved` (a resumed run's settings), as
/// `(flag, saved value)`; `epochs` is left out (a resumed run may change it).
pub fn contradicting_flag(
    saved: &TrainConfig,
    flags: &HyperFlags,
) -> Outcome<Option<(String, String)>> {
    let mut given = flags_table(flags)?;
    given.remove("epochs");
    let saved = to_table(saved)?;
    let mut merged = saved.clone();
    merge(&mut merged, given.clone());
    Ok(given
        .keys()
        .find(|k| merged.get(*k) != saved.get(*k))
        .map(|k| {
            let was = saved.get(k).map(plain).unwrap_or_default();
            (format!("--{}", k.replace('_', "-")), was)
        }))
}

/// The flags given, as a table (flags not given are left out).
pub fn flags_table(flags: &HyperFlags) -> Outcome<Table> {
    check_integers("", &serde_json::to_value(flags).unwrap_or_default())?;
    // The document serialiser leaves out `None` fields; a table of nothing is dropped too.
    let text = toml::to_string(flags).map_err(|e| cannot_write(&e))?;
    let mut table: Table = toml::from_str(&text).map_err(|e| cannot_write(&e))?;
    table.retain(|_, v| !matches!(v, Value::Table(t) if t.is_empty()));
    Ok(table)
}

/// Reads a `--config` file (at most [`MAX_CONFIG_FILE_BYTES`]) as a TOML table.
fn read_config_file(path: &Path) -> Outcome<Table> {
    let name = path.display();
    let mut text = String::new();
    File::open(path)
        .and_then(|f| f.take(MAX_CONFIG_FILE_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| Failure::input(format!("--config {name}: cannot read it: {e}")))?;
    if text.len() as u64 > MAX_CONFIG_FILE_BYTES {
        return Err(Failure::input(format!(
            "--config {name}: larger than {MAX_CONFIG_FILE_BYTES} bytes; a config file is a \
             few lines of settings"
        )));
    }
    text.parse::<Table>().map_err(|e| {
        let message = e.to_string();
        let mut lines = message.lines();
        let first = lines.next().unwrap_or("not TOML").to_owned();
        let mut failure = Failure::input(format!("--config {name}: {first}"));
        for line in lines.filter(|l| !l.trim().is_empty()) {
            failure = failure.line(line);
        }
        failure
    })
}

/// `value` as a TOML table. A count above TOML's largest integer (2^63 - 1) is refused, naming
/// its flag.
fn to_table(value: &impl Serialize) -> Outcome<Table> {
    check_integers("", &serde_json::to_value(value).unwrap_or_default())?;
    let text = toml::to_string(value).map_err(|e| cannot_write(&e))?;
    toml::from_str(&text).map_err(|e| cannot_write(&e))
}

/// Refuses a whole number TOML cannot hold, naming the flag that set it.
fn check_integers(key: &str, value: &serde_json::Value) -> Outcome {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                check_integers(k, v)?;
            }
            Ok(())
        }
        serde_json::Value::Array(items) => items.iter().try_for_each(|v| check_integers(key, v)),
        serde_json::Value::Number(n) if n.is_u64() && n.as_i64().is_none() => {
            Err(Failure::input(format!(
                "--{} {n}: must be at most {} (the largest whole number a config file holds)",
                key.replace('_', "-"),
                i64::MAX
            )))
        }
        _ => Ok(()),
    }
}

/// Lays `layer` over `base`, key by key (see the module's docs for tables with a `kind`).
fn merge(base: &mut Table, layer: Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(t))
                if t.get("kind").is_none_or(|k| Some(k) == b.get("kind")) =>
            {
                merge(b, t)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// The settings of `table` as a [`TrainConfig`]; the error is serde's, naming the key.
fn decode(table: &Table) -> Result<TrainConfig, String> {
    Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_owned())
}

/// Refuses a schedule flag that the schedule in force does not take (`--warmup-epochs` with
/// `--schedule step`), naming the ones it does take.
fn check_schedule_flags(table: &Table, flags: &Table) -> Outcome {
    let Some(Value::Table(given)) = flags.get("schedule") else {
        return Ok(());
    };
    let kind = table
        .get("schedule")
        .and_then(|s| s.get("kind"))
        .cloned()
        .unwrap_or(Value::String(String::new()));
    let mut alone = Table::new();
    alone.insert("kind".into(), kind.clone());
    let Ok(schedule) = Value::Table(alone).try_into::<Schedule>() else {
        return Ok(()); // decode names the bad kind
    };
    let takes = to_table(&schedule)?;
    let flag = |k: &str| format!("--{}", k.replace('_', "-"));
    let Some(key) = (given.keys()).find(|k| *k != "kind" && !takes.contains_key(*k)) else {
        return Ok(());
    };
    let accepted: Vec<String> = (takes.keys())
        .filter(|k| *k != "kind")
        .map(|k| flag(k))
        .collect();
    Err(Failure::input(format!(
        "{}: the {} schedule has no such setting ({}); choose another --schedule",
        flag(key),
        schedule.kind().replace('_', "-"),
        match accepted.is_empty() {
            true => "it takes none".to_owned(),
            false => format!("it takes {}", accepted.join(", ")),
        }
    )))
}

/// A TOML value as plain text (strings without quotes).
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

fn cannot_write(e: &impl std::fmt::Display) -> Failure {
    Failure::running(format!("cannot write the settings as TOML: {e}"))
}

mod augment_layer;
#[cfg(test)]
mod tests;
