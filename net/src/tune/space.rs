//! The search space: which hyperparameters a study draws, and from what.
//!
//! [`HYPERPARAMETERS`] is the one table of what can be searched: each entry is a
//! [`TrainConfig`] key, the distribution searched when nothing else is said (or none: not
//! searched unless asked) and a line of help. A drawn value sets its key through
//! `TrainConfig`'s serde form, exactly as a config file would, so a new hyperparameter is one
//! line in the table: its key, and its default distribution.
//!
//! A [`SearchSpace`] maps keys to [`Distribution`]s. As a TOML file (`tapegrad tune --space
//! FILE`), in the spirit of Optuna's `suggest_*` and Ray Tune's `loguniform`/`choice`:
//!
//! ```toml
//! lr = { log_uniform = [1e-4, 1e-2] }
//! reg = { log_uniform = [1e-6, 1e-2] }
//! hidden = { choice = [[50], [100], [200, 100]] }
//! batch_size = { choice = [32, 64, 128] }
//! optimizer = { choice = ["adam", "momentum"] }
//! schedule = { choice = ["constant", { kind = "step", step_epochs = 5 }] }
//! ```
//!
//! A choice is a value as a config file writes it; a bare name where the setting is a table
//! with a `kind` (optimizer, schedule) is that kind with its usual constants. A log-uniform or
//! uniform draw for a whole-number setting (`batch_size`) is rounded.

use std::collections::BTreeMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::TuneError;
use crate::train::TrainConfig;

/// How one hyperparameter's values are spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// `[min, max]`, drawn as `exp(uniform(ln min, ln max))`, with `0 < min <= max`: for
    /// scales (learning rate, regularisation). Plotted on a log axis.
    LogUniform([f64; 2]),
    /// `[min, max]`, drawn uniformly, with `min <= max`.
    Uniform([f64; 2]),
    /// One of these values, each as likely.
    Choice(Vec<Value>),
}

impl Distribution {
    /// Log-uniform between `min` and `max`.
    pub fn log_uniform(min: f64, max: f64) -> Distribution {
        Distribution::LogUniform([min, max])
    }

    /// A choice among `values` (anything serde writes as a setting's value).
    pub fn choice<V: Serialize>(values: impl IntoIterator<Item = V>) -> Distribution {
        let value = |v| serde_json::to_value(v).unwrap_or(Value::Null);
        Distribution::Choice(values.into_iter().map(value).collect())
    }

    /// Whether values are best seen on a log axis.
    pub fn is_log(&self) -> bool {
        matches!(self, Distribution::LogUniform(_))
    }

    /// One value drawn from `rng`: always exactly one draw from it, whatever the distribution.
    fn sample(&self, rng: &mut StdRng) -> Value {
        let u = rng.random::<f64>();
        match self {
            Distribution::LogUniform([lo, hi]) => json!((lo.ln() + (hi.ln() - lo.ln()) * u).exp()),
            Distribution::Uniform([lo, hi]) => json!(lo + (hi - lo) * u),
            Distribution::Choice(values) => {
                let i = ((u * values.len() as f64) as usize).min(values.len().saturating_sub(1));
                values.get(i).cloned().unwrap_or(Value::Null)
            }
        }
    }

    /// The values that bound what is drawn: both ends of a range, every choice. Checking
    /// each of them checks the whole distribution.
    fn extremes(&self) -> Vec<Value> {
        match self {
            Distribution::LogUniform([lo, hi]) | Distribution::Uniform([lo, hi]) => {
                vec![json!(lo), json!(hi)]
            }
            Distribution::Choice(values) => values.clone(),
        }
    }

    /// Whether it can be sampled at all: what is wrong, if not.
    fn problem(&self) -> Option<String> {
        match self {
            Distribution::LogUniform([lo, hi]) if !(*lo > 0.0 && lo <= hi && hi.is_finite()) => {
                Some(format!(
                    "log_uniform [{lo}, {hi}]: takes MIN MAX with 0 < MIN <= MAX"
                ))
            }
            Distribution::Uniform([lo, hi]) if !(lo.is_finite() && lo <= hi && hi.is_finite()) => {
                Some(format!(
                    "uniform [{lo}, {hi}]: takes MIN MAX with MIN <= MAX, both finite"
                ))
            }
            Distribution::Choice(values) if values.is_empty() => {
                Some("choice []: needs at least one value".to_owned())
            }
            _ => None,
        }
    }
}

/// One hyperparameter a study can search: a row of [`HYPERPARAMETERS`].
#[derive(Debug, Clone, Copy)]
pub struct Hyperparameter {
    /// The [`TrainConfig`] key it sets (as a config file names it).
    pub name: &'static str,
    /// What is searched when neither `--space` nor a flag says: `None` is not searched (every
    /// trial keeps the base value).
    pub default: fn() -> Option<Distribution>,
    /// What it is, for the help.
    pub about: &'static str,
}

/// Every hyperparameter `tune` can search, in the order each trial draws them. Adding one is
/// a line here (its key must be a [`TrainConfig`] field).
pub const HYPERPARAMETERS: &[Hyperparameter] = &[
    Hyperparameter {
        name: "lr",
        default: || Some(Distribution::log_uniform(1e-4, 1e-1)),
        about: "learning rate (the peak, for schedules that rise)",
    },
    Hyperparameter {
        name: "reg",
        default: || Some(Distribution::log_uniform(1e-6, 1e-2)),
        about: "L2 regularisation strength",
    },
    Hyperparameter {
        name: "hidden",
        default: || {
            Some(Distribution::choice([
                vec![50],
                vec![100],
                vec![200],
                vec![100, 50],
            ]))
        },
        about: "hidden sizes, one per hidden layer (depth included)",
    },
    Hyperparameter {
        name: "batch_size",
        default: || Some(Distribution::choice([32, 64, 128])),
        about: "examples per minibatch",
    },
    Hyperparameter {
        name: "optimizer",
        default: || Some(Distribution::choice(["adam", "momentum"])),
        about: "update rule (a kind, or a table with its constants)",
    },
    Hyperparameter {
        name: "schedule",
        default: || {
            Some(Distribution::choice([
                "constant",
                "exponential",
                "one_cycle",
            ]))
        },
        about: "learning-rate schedule (a kind, or a table with its settings)",
    },
    Hyperparameter {
        name: "init_std",
        default: || None,
        about: "standard deviation of the initial weights",
    },
    Hyperparameter {
        name: "activation",
        default: || None,
        about: "nonlinearity between layers (relu, tanh, sigmoid, leaky_relu)",
    },
    Hyperparameter {
        name: "dropout",
        default: || None,
        about: "probability of dropping a hidden unit's output in training",
    },
    Hyperparameter {
        name: "label_smoothing",
        default: || None,
        about: "label smoothing of the training loss",
    },
    Hyperparameter {
        name: "ema",
        default: || None,
        about: "decay of the weights' exponential moving average (validated and saved)",
    },
    Hyperparameter {
        name: "augment",
        default: || None,
        about: "on-the-fly image augmentation (a kind: none, shift, affine, elastic; or a table)",
    },
];

/// What a study searches: a distribution per hyperparameter key (of [`HYPERPARAMETERS`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SearchSpace(pub BTreeMap<String, Distribution>);

impl SearchSpace {
    /// The default search space: every hyperparameter with a default distribution.
    pub fn defaults() -> SearchSpace {
        let entries = HYPERPARAMETERS
            .iter()
            .filter_map(|h| Some((h.name.to_owned(), (h.default)()?)));
        SearchSpace(entries.collect())
    }

    /// Reads a search-space file's text: a TOML table of `key = { distribution = ... }`.
    /// Errors name `path` and the key (or TOML's line and column).
    pub fn from_toml(text: &str, path: &Path) -> Result<SearchSpace, TuneError> {
        let bad = |problem: String| TuneError::SpaceFile {
            path: path.to_owned(),
            problem,
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            bad(e
                .to_string()
                .lines()
                .next()
                .unwrap_or("not TOML")
                .to_owned())
        })?;
        let mut space = BTreeMap::new();
        for (key, value) in table {
            if let Err(TuneError::Space { problem, .. }) = known(&key) {
                return Err(bad(problem));
            }
            let distribution: Distribution = value.try_into().map_err(|e: toml::de::Error| {
                bad(format!(
                    "key '{key}': {}; write {key} = {{ log_uniform = [MIN, MAX] }}, \
                     {{ uniform = [MIN, MAX] }} or {{ choice = [A, B, ...] }}",
                    e.message()
                ))
            })?;
            if let Some(problem) = distribution.problem() {
                return Err(bad(format!("key '{key}': {problem}")));
            }
            space.insert(key, distribution);
        }
        Ok(SearchSpace(space))
    }

    /// `self` with each of `layer`'s keys set to `layer`'s distribution.
    pub fn overlaid(mut self, layer: SearchSpace) -> SearchSpace {
        self.0.extend(layer.0);
        self
    }

    /// Checks every key is a hyperparameter, every distribution can be sampled and every
    /// value it can give (both ends of a range, each choice) makes `base` a valid
    /// configuration. The error names the key and the value.
    pub fn check(&self, base: &TrainConfig) -> Result<(), TuneError> {
        for (key, distribution) in &self.0 {
            let setting = known(key)?;
            let space = |problem: String| TuneError::Space { setting, problem };
            if let Some(problem) = distribution.problem() {
                return Err(space(problem));
            }
            for value in distribution.extremes() {
                let config = set(base, key, value.clone())
                    .and_then(|c| c.validate().map(|()| c).map_err(|e| e.to_string()));
                if let Err(e) = config {
                    return Err(space(format!("value {value}: {e}")));
                }
            }
        }
        Ok(())
    }

    /// `base` with a value of each searched hyperparameter drawn from `rng`, in the table's
    /// order (one draw each). The space must have passed [`check`](Self::check) with `base`.
    pub fn draw(&self, rng: &mut StdRng, base: &TrainConfig) -> Result<TrainConfig, TuneError> {
        let mut config = base.clone();
        for h in HYPERPARAMETERS {
            if let Some(distribution) = self.0.get(h.name) {
                let value = distribution.sample(rng);
                config = set(&config, h.name, value.clone()).map_err(|e| TuneError::Space {
                    setting: h.name,
                    problem: format!("drawn value {value}: {e}"),
                })?;
            }
        }
        Ok(config)
    }

    /// The searched keys in the table's (drawing) order, with their distributions.
    pub fn searched(&self) -> impl Iterator<Item = (&'static str, &Distribution)> {
        HYPERPARAMETERS
            .iter()
            .filter_map(|h| Some((h.name, self.0.get(h.name)?)))
    }
}

/// `key`'s row name, or an error listing the keys there are.
fn known(key: &str) -> Result<&'static str, TuneError> {
    match HYPERPARAMETERS.iter().find(|h| h.name == key) {
        Some(h) => Ok(h.name),
        None => {
            let names: Vec<&str> = HYPERPARAMETERS.iter().map(|h| h.name).collect();
            Err(TuneError::Space {
                setting: "space",
                problem: format!(
                    "key '{key}': not a hyperparameter tune searches (those are {})",
                    names.join(", ")
                ),
            })
        }
    }
}

/// The value of `key` in `config`, as its serde form has it (`{"kind": "adam", ...}` for the
/// optimizer); `null` for a key it does not have.
pub fn config_value(config: &TrainConfig, key: &str) -> Value {
    match serde_json::to_value(config) {
        Ok(Value::Object(map)) => map.get(key).cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// A setting's value as a short label: a kind's name, sizes as `200,100`, a number as is.
pub fn value_label(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(value_label).collect();
            items.join(",")
        }
        Value::Object(map) => match map.get("kind") {
            Some(kind) => value_label(kind),
            None => value.to_string(),
        },
        v => v.to_string(),
    }
}

/// `config` with `key` set to `value` through serde: a bare name where the setting is a table
/// with a `kind` is that kind; a fractional number for a whole-number setting is rounded.
fn set(config: &TrainConfig, key: &str, value: Value) -> Result<TrainConfig, String> {
    let Ok(Value::Object(mut map)) = serde_json::to_value(config) else {
        return Err("the configuration is not a table".to_owned());
    };
    let value = match (map.get(key), value) {
        (Some(Value::Number(old)), Value::Number(new)) if old.is_u64() && !new.is_u64() => {
            match new.as_f64().map(f64::round) {
                Some(n) if n >= 0.0 && n < u64::MAX as f64 => json!(n as u64),
                _ => return Err(format!("{new} is not a whole number of at least 0")),
            }
        }
        (_, value) => value,
    };
    map.insert(key.to_owned(), value.clone());
    let read = |map| serde_json::from_value::<TrainConfig>(Value::Object(map));
    match (read(map.clone()), value) {
        // A bare name for a setting that is a table with a `kind` (optimizer, schedule,
        // augment): that kind with its usual constants.
        (Err(_), Value::String(kind)) => {
            map.insert(key.to_owned(), json!({ "kind": kind }));
            read(map).map_err(|e| e.to_string())
        }
        (read, _) => read.map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests;
