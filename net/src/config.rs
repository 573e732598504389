//! Checking a [`TrainConfig`]: each hyperparameter on its own ([`TrainConfig::validate`]) and
//! the net it makes against the data and the machine ([`TrainConfig::check_fits`]).

use std::fmt;

use thiserror::Error;

use crate::limits::MAX_LAYERS;
use crate::memory::{about, MemoryLimit, NetShape};
use crate::train::TrainConfig;

/// One hyperparameter of a [`TrainConfig`], as errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// [`TrainConfig::hidden`].
    Hidden,
    /// [`TrainConfig::reg`].
    Reg,
    /// [`TrainConfig::lr`].
    Lr,
    /// One setting of [`TrainConfig::schedule`], by its key (`warmup_epochs`, `lr_decay`, ...).
    Schedule(&'static str),
    /// [`TrainConfig::batch_size`].
    BatchSize,
    /// [`TrainConfig::epochs`].
    Epochs,
    /// [`TrainConfig::optimizer`] (its momentum or Adam constants).
    Optimizer,
    /// [`TrainConfig::init_std`].
    InitStd,
    /// [`TrainConfig::dropout`].
    Dropout,
    /// [`TrainConfig::label_smoothing`].
    LabelSmoothing,
    /// One setting of the weight averaging, by its key (`ema`, `swa_start`, `swa_lr`).
    Averaging(&'static str),
    /// One setting of [`TrainConfig::augment`], by its key (`kind`, `rotate`, `alpha`, ...).
    Augment(&'static str),
}

impl Setting {
    /// The field's name: `hidden`, `batch_size`, ...
    pub fn name(self) -> &'static str {
        match self {
            Setting::Hidden => "hidden",
            Setting::Reg => "reg",
            Setting::Lr => "lr",
            Setting::Schedule(key) => key,
            Setting::BatchSize => "batch_size",
            Setting::Epochs => "epochs",
            Setting::Optimizer => "optimizer",
            Setting::InitStd => "init_std",
            Setting::Dropout => "dropout",
            Setting::LabelSmoothing => "label_smoothing",
            Setting::Averaging(key) => key,
            Setting::Augment(key) => key,
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A hyperparameter that cannot work: which one, its value, and why.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{setting} = {value}: {problem}")]
pub struct ConfigError {
    /// The hyperparameter at fault.
    pub setting: Setting,
    /// Its value, as written.
    pub value: String,
    /// What is wrong with it.
    pub problem: String,
}

impl TrainConfig {
    /// Checks every hyperparameter on its own: at least one hidden unit, example per batch
    /// and epoch; a positive finite learning rate; a finite non-negative `reg` and `init_std`;
    /// the schedule's settings ([`Schedule::check`](crate::schedule::Schedule::check)) and the
    /// optimizer's constants ([`OptimizerKind::check`](crate::OptimizerKind::check)).
    ///
    /// ```
    /// use tapegrad_net::train::TrainConfig;
    /// use tapegrad_net::config::Setting;
    /// let bad = TrainConfig { hidden: vec![0], ..TrainConfig::default() };
    /// assert_eq!(bad.validate().unwrap_err().setting, Setting::Hidden);
    /// assert!(TrainConfig::default().validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |setting, value: String, problem: &str| {
            Err(ConfigError {
                setting,
                value,
                problem: problem.to_owned(),
            })
        };
        let hidden = self.hidden_text();
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            let problem = "needs at least 1 hidden layer, each of at least 1 unit";
            return bad(Setting::Hidden, hidden, problem);
        }
        if self.hidden.len() >= MAX_LAYERS {
            let problem = format!("at most {} hidden layers", MAX_LAYERS - 1);
            return bad(Setting::Hidden, hidden, &problem);
        }
        if self.batch_size == 0 {
            return bad(
                Setting::BatchSize,
                "0".into(),
                "needs at least 1 example per batch",
            );
        }
        if self.epochs == 0 {
            return bad(Setting::Epochs, "0".into(), "needs at least 1 epoch");
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        let non_negative = |x: f64| x.is_finite() && x >= 0.0;
        if !positive(self.lr) {
            return bad(
                Setting::Lr,
                self.lr.to_string(),
                "must be a positive number",
            );
        }
        if !non_negative(self.reg) {
            return bad(
                Setting::Reg,
                self.reg.to_string(),
                "must be zero or positive",
            );
        }
        if let Err((key, value, problem)) = self.schedule.check(self.lr, self.epochs) {
            return bad(Setting::Schedule(key), value, &problem);
        }
        if !non_negative(self.init_std) {
            let value = self.init_std.to_string();
            return bad(Setting::InitStd, value, "must be zero or positive");
        }
        if !(0.0..1.0).contains(&self.dropout) {
            let value = self.dropout.to_string();
            return bad(Setting::Dropout, value, "must be at least 0 and below 1");
        }
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            let value = self.label_smoothing.to_string();
            return bad(Setting::LabelSmoothing, value, "must be between 0 and 1");
        }
        if let Err(problem) = self.optimizer.check() {
            return bad(
                Setting::Optimizer,
                self.optimizer.name().to_owned(),
                &problem,
            );
        }
        if let Err((key, value, problem)) = self.check_averaging() {
            return bad(Setting::Averaging(key), value, &problem);
        }
        self.augment.check()?;
        if !self.augment.is_none() && self.standardize == crate::data::Standardize::Feature {
            // Resampling mixes neighbouring pixels, which a per-pixel scale would weigh apart.
            return bad(
                Setting::Augment("kind"),
                self.augment.kind().to_owned(),
                "cannot resample inputs divided by each feature's own std: use --standardize \
                 global or none with augmentation",
            );
        }
        Ok(())
    }

    /// The hidden sizes as `--hidden` spells them: `100`, `512,256`.
    pub fn hidden_text(&self) -> String {
        let sizes: Vec<String> = self.hidden.iter().map(usize::to_string).collect();
        sizes.join(",")
    }

    /// The hyperparameters as `(name, value)` text pairs, derived from the serde definition
    /// (so a new field appears everywhere at once): one pair per field, the optimizer's as
    /// `optimizer.kind`, `optimizer.beta1`, ...; lists as comma-separated values (`hidden` =
    /// `512,256`); names in alphabetical order. The model file's metadata and `tune`'s table are
    /// written from these.
    ///
    /// ```
    /// use tapegrad_net::train::TrainConfig;
    /// let fields = TrainConfig::default().fields();
    /// assert!(fields.contains(&("optimizer.kind".to_owned(), "adam".to_owned())));
    /// assert!(fields.contains(&("seed".to_owned(), "0".to_owned())));
    /// let deep = TrainConfig { hidden: vec![512, 256], ..TrainConfig::default() };
    /// assert!(deep.fields().contains(&("hidden".to_owned(), "512,256".to_owned())));
    /// ```
    pub fn fields(&self) -> Vec<(String, String)> {
        fn flatten(prefix: String, value: serde_json::Value, out: &mut Vec<(String, String)>) {
            match value {
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        let name = if prefix.is_empty() {
                            k
                        } else {
                            format!("{prefix}.{k}")
                        };
                        flatten(name, v, out);
                    }
                }
                serde_json::Value::String(text) => out.push((prefix, text)),
                // Lists (the hidden sizes) as `--hidden` spells them: `512,256`.
                serde_json::Value::Array(items) => {
                    let items: Vec<String> = items.iter().map(|v| v.to_string()).collect();
                    out.push((prefix, items.join(",")))
                }
                other => out.push((prefix, other.to_string())),
            }
        }
        let mut out = Vec::new();
        let value = serde_json::to_value(self).expect("a configuration of numbers serialises");
        flatten(String::new(), value, &mut out);
        out
    }

    /// The net this configuration trains on `inputs` features, `classes` classes and
    /// `examples` training examples: batches hold at most the training set.
    pub fn net_shape(&self, inputs: usize, classes: usize, examples: usize) -> NetShape {
        NetShape {
            inputs,
            hidden: self.hidden.clone(),
            classes,
            batch: self.batch_size.min(examples.max(1)),
        }
    }

    /// Checks that the net fits the process's memory ([`MemoryLimit::of_this_process`]);
    /// see [`check_fits_within`](Self::check_fits_within).
    pub fn check_fits(
        &self,
        inputs: usize,
        classes: usize,
        examples: usize,
    ) -> Result<(), ConfigError> {
        self.check_fits_within(inputs, classes, examples, MemoryLimit::of_this_process())
    }

    /// Checks that training the net of [`net_shape`](Self::net_shape) needs no more than
    /// `limit` ([`NetShape::training_bytes`]). Blames `hidden` when even one example per batch does not fit,
    /// `batch_size` otherwise.
    pub fn check_fits_within(
        &self,
        inputs: usize,
        classes: usize,
        examples: usize,
        limit: MemoryLimit,
    ) -> Result<(), ConfigError> {
        let buffers = self.optimizer.buffers_per_parameter() as u64;
        let shape = self.net_shape(inputs, classes, examples);
        let needed = shape.training_bytes(buffers);
        if limit.fits(needed) {
            return Ok(());
        }
        let one = NetShape {
            batch: 1,
            ..shape.clone()
        };
        let (setting, value) = if limit.fits(one.training_bytes(buffers)) {
            (Setting::BatchSize, self.batch_size.to_string())
        } else {
            (Setting::Hidden, self.hidden_text())
        };
        Err(ConfigError {
            setting,
            value,
            problem: format!(
                "a net of {shape} needs {} to train, more than {limit}",
                about(needed)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Schedule;
    use crate::OptimizerKind;

    const LIMIT: MemoryLimit = MemoryLimit {
        bytes: 1 << 30,
        source: "a test's limit",
    };

    #[test]
    fn huge_hidden_is_blamed_on_hidden_and_says_how_much_memory() {
        for hidden in [1_000_000_000_000, usize::MAX] {
            let c = TrainConfig {
                hidden: vec![hidden],
                ..TrainConfig::default()
            };
            let e = c.check_fits_within(64, 10, 1000, LIMIT).unwrap_err();
            assert_eq!(e.setting, Setting::Hidden, "{e}");
            assert!(e.to_string().contains("a test's limit"), "{e}");
        }
    }

    #[test]
    fn hidden_reads_as_one_number_or_one_size_per_layer_and_nothing_else() {
        let with_hidden = |hidden: serde_json::Value| {
            let mut value = serde_json::to_value(TrainConfig::default()).unwrap();
            value["hidden"] = hidden;
            serde_json::from_value::<TrainConfig>(value)
        };
        assert_eq!(with_hidden(serde_json::json!(100)).unwrap().hidden, [100]);
        let deep = with_hidden(serde_json::json!([512, 256])).unwrap();
        assert_eq!(deep.hidden, [512, 256]);
        assert_eq!(deep.hidden_text(), "512,256");
        for bad in [
            serde_json::json!("many"),
            serde_json::json!(-3),
            serde_json::json!([1.5]),
        ] {
            let e = with_hidden(bad.clone()).unwrap_err().to_string();
            assert!(e.contains("invalid"), "{bad}: {e}");
        }
    }

    #[test]
    fn batch_size_beyond_the_data_is_clamped_and_fits() {
        let c = TrainConfig {
            batch_size: 1_000_000_000_000,
            ..TrainConfig::default()
        };
        assert_eq!(c.net_shape(64, 10, 1258).batch, 1258);
        assert!(c.check_fits_within(64, 10, 1258, LIMIT).is_ok());
    }

    #[test]
    fn huge_batch_on_huge_data_is_blamed_on_batch_size() {
        let c = TrainConfig {
            batch_size: usize::MAX,
            ..TrainConfig::default()
        };
        let e = c.check_fits_within(64, 10, usize::MAX, LIMIT).unwrap_err();
        assert_eq!(e.setting, Setting::BatchSize, "{e}");
    }

    #[test]
    fn each_bad_hyperparameter_names_its_setting() {
        let d = TrainConfig::default();
        let cases = [
            (
                TrainConfig {
                    hidden: vec![],
                    ..d.clone()
                },
                Setting::Hidden,
            ),
            (
                TrainConfig {
                    hidden: vec![100, 0],
                    ..d.clone()
                },
                Setting::Hidden,
            ),
            (
                TrainConfig {
                    hidden: vec![1; MAX_LAYERS],
                    ..d.clone()
                },
                Setting::Hidden,
            ),
            (
                TrainConfig {
                    batch_size: 0,
                    ..d.clone()
                },
                Setting::BatchSize,
            ),
            (
                TrainConfig {
                    epochs: 0,
                    ..d.clone()
                },
                Setting::Epochs,
            ),
            (
                TrainConfig {
                    lr: f64::NAN,
                    ..d.clone()
                },
                Setting::Lr,
            ),
            (
                TrainConfig {
                    reg: -1.0,
                    ..d.clone()
                },
                Setting::Reg,
            ),
            (
                TrainConfig {
                    schedule: Schedule::Exponential { lr_decay: 0.0 },
                    ..d.clone()
                },
                Setting::Schedule("lr_decay"),
            ),
            (
                TrainConfig {
                    schedule: Schedule::Cosine {
                        warmup_epochs: d.epochs,
                        min_lr: 0.0,
                    },
                    ..d.clone()
                },
                Setting::Schedule("warmup_epochs"),
            ),
            (
                TrainConfig {
                    init_std: f64::INFINITY,
                    ..d.clone()
                },
                Setting::InitStd,
            ),
            (
                TrainConfig {
                    optimizer: OptimizerKind::Momentum { mu: 1.5 },
                    ..d.clone()
                },
                Setting::Optimizer,
            ),
        ];
        for (config, setting) in cases {
            assert_eq!(config.validate().unwrap_err().setting, setting);
        }
    }
}
