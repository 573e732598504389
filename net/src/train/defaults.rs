//! The default hyperparameters of each data source ([`TrainConfig::for_data`]).

use super::TrainConfig;
use crate::data::DataSpec;
use crate::monitor::Monitor;
use crate::schedule::Schedule;
use crate::OptimizerKind;

impl TrainConfig {
    /// The defaults for training on `data`, chosen on the validation split:
    ///
    /// - images (`digits`, `mnist:`, `cifar10:`) and `csv:` files: Adam, `h = 100`;
    /// - `spiral`: two inputs and thousands of tiny epochs call for a higher rate and more
    ///   epochs.
    ///
    /// ```
    /// use tapegrad_net::data::DataSpec;
    /// use tapegrad_net::train::TrainConfig;
    /// let digits = TrainConfig::for_data(&DataSpec::Digits);
    /// assert_eq!(digits, TrainConfig::default());
    /// assert!(digits.validate().is_ok());
    /// let spiral = TrainConfig::for_data(&"spiral".parse()?);
    /// assert!(spiral.epochs > digits.epochs);
    /// # Ok::<(), tapegrad_net::data::DataError>(())
    /// ```
    pub fn for_data(data: &DataSpec) -> TrainConfig {
        let images = TrainConfig {
            hidden: 100,
            reg: 1e-4,
            lr: 1e-3,
            schedule: Schedule::Exponential { lr_decay: 0.98 },
            batch_size: 32,
            epochs: 60,
            optimizer: OptimizerKind::ADAM,
            init_std: 1e-2,
            seed: 0,
            monitor: Monitor::ValAccuracy,
            patience: None,
        };
        match data {
            DataSpec::Spiral { .. } => TrainConfig {
                lr: 1e-2,
                epochs: 300,
                ..images
            },
            DataSpec::Digits | DataSpec::Mnist(_) | DataSpec::Cifar10(_) | DataSpec::Csv(_) => {
                images
            }
        }
    }
}
