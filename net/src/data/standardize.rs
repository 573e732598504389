//! Input standardisation: dividing the mean-subtracted inputs by the training set's standard
//! deviation, per feature or one for all ([`Standardize`]), fitted on the training split only
//! and stored with the model beside the mean image ([`MeanImage`]).

use std::fmt;
use std::str::FromStr;

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::{Dataset, MeanImage};

/// A feature's standard deviation is at least this fraction of the global one (`feature`
/// standardisation): pixels that are (almost) always blank have a standard deviation near 0,
/// and dividing by it would blow their rare non-zero values up by thousands.
pub const STD_FLOOR_OF_GLOBAL: f64 = 0.1;

/// How inputs are scaled after the mean image is subtracted.
///
/// ```
/// use ndarray::array;
/// use tapegrad_net::data::{Dataset, MeanImage, Standardize};
/// let mut d = Dataset::new("toy", array![[1.0, 10.0], [3.0, 30.0]], vec![0, 1], 2, None)?;
/// let scaling = MeanImage::fit_with(&d, Standardize::Feature);
/// assert_eq!(scaling.std(), Some(&array![1.0f32, 10.0]));
/// scaling.apply(&mut d)?;
/// assert_eq!(d.features(), array![[-1.0f32, -1.0], [1.0, 1.0]]);
/// assert_eq!("global".parse::<Standardize>()?, Standardize::Global);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Standardize {
    /// Only the mean image is subtracted.
    #[default]
    None,
    /// Each feature is divided by its training standard deviation, floored at
    /// [`STD_FLOOR_OF_GLOBAL`] times the global one.
    Feature,
    /// Every feature is divided by one standard deviation: that of all the training set's
    /// mean-subtracted features together.
    Global,
}

impl Standardize {
    /// Every kind, as the flag spells them.
    pub const ALL: [Standardize; 3] =
        [Standardize::None, Standardize::Feature, Standardize::Global];

    /// The kind's name: `none`, `feature`, `global`.
    pub fn name(self) -> &'static str {
        match self {
            Standardize::None => "none",
            Standardize::Feature => "feature",
            Standardize::Global => "global",
        }
    }

    /// Whether this is [`Standardize::None`] (today's mean subtraction alone).
    pub fn is_none(&self) -> bool {
        *self == Standardize::None
    }

    /// The standard deviations to divide `train`'s features by once `mean` is subtracted,
    /// one per feature (all equal for `global`); `None` for [`Standardize::None`]. Each is
    /// positive: data without any spread (every feature constant) gets 1.
    pub fn fit(self, train: &Dataset, mean: &MeanImage) -> Option<Array1<f32>> {
        if self.is_none() {
            return None;
        }
        let features = train.features();
        let mut squares = vec![0.0f64; features.ncols()];
        for row in features.rows() {
            for ((s, &x), &m) in squares.iter_mut().zip(row).zip(mean.as_array()) {
                let centred = f64::from(x) - f64::from(m);
                *s += centred * centred;
            }
        }
        let n = features.nrows().max(1) as f64;
        let d = squares.len().max(1) as f64;
        let global = (squares.iter().sum::<f64>() / (n * d)).sqrt();
        if !(global > 0.0 && global.is_finite()) {
            return Some(Array1::ones(squares.len()));
        }
        let std = squares.iter().map(|&s| match self {
            Standardize::Feature => (s / n).sqrt().max(STD_FLOOR_OF_GLOBAL * global),
            _ => global,
        });
        Some(std.map(|s| s as f32).collect())
    }
}

impl fmt::Display for Standardize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Standardize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Standardize::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("'{s}' is not one of none, feature, global"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn data() -> Dataset {
        // Feature 1 varies by ±2, feature 2 never (a blank pixel), feature 3 by ±4.
        let x = array![[1.0, 5.0, 0.0], [5.0, 5.0, 8.0]];
        Dataset::new("toy", x, vec![0, 1], 2, None).unwrap()
    }

    #[test]
    fn feature_std_is_each_features_own_with_a_floor_for_constant_features() {
        let d = data();
        let mean = MeanImage::fit(&d);
        let std = Standardize::Feature.fit(&d, &mean).unwrap();
        let global = ((4.0 + 0.0 + 16.0) / 3.0f64).sqrt();
        assert_eq!(std[0], 2.0);
        assert_eq!(std[1], (STD_FLOOR_OF_GLOBAL * global) as f32);
        assert_eq!(std[2], 4.0);
    }

    #[test]
    fn global_std_is_one_number_over_all_centred_features() {
        let d = data();
        let mean = MeanImage::fit(&d);
        let std = Standardize::Global.fit(&d, &mean).unwrap();
        let global = ((4.0 + 0.0 + 16.0) / 3.0f64).sqrt() as f32;
        assert_eq!(std, array![global, global, global]);
        assert_eq!(Standardize::None.fit(&d, &mean), None);
    }

    #[test]
    fn data_without_spread_is_divided_by_one() {
        let x = array![[2.0, 2.0], [2.0, 2.0]];
        let d = Dataset::new("flat", x, vec![0, 1], 2, None).unwrap();
        let mean = MeanImage::fit(&d);
        for kind in [Standardize::Feature, Standardize::Global] {
            assert_eq!(kind.fit(&d, &mean).unwrap(), array![1.0f32, 1.0]);
        }
    }

    #[test]
    fn names_round_trip_and_others_are_refused_naming_the_choices() {
        for kind in Standardize::ALL {
            assert_eq!(kind.name().parse::<Standardize>().unwrap(), kind);
        }
        let e = "pixel".parse::<Standardize>().unwrap_err();
        assert!(e.contains("none, feature, global"), "{e}");
    }
}
