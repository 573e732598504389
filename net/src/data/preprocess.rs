//! Mean-image subtraction, as CS231n preprocesses its data, and the optional division by the
//! training standard deviation ([`Standardize`]).

use ndarray::{Array1, ArrayViewMut2, Axis};

use super::{DataError, Dataset, Splits, Standardize};

/// The mean of the training features ("the mean image"), to subtract from every example the
/// model sees: training, validation, test, and later anything `eval`/`predict` is given.
///
/// Store it with a model ([`MeanImage::as_array`] / [`MeanImage::into_array`]) and rebuild it
/// with [`MeanImage::from_array`], so that inference centres its inputs exactly as training
/// did. With standardisation ([`MeanImage::fit_with`]) it also holds the standard deviations
/// each centred feature is divided by ([`MeanImage::std`], [`MeanImage::with_std`]).
///
/// ```
/// use ndarray::array;
/// use tapegrad_net::data::{Dataset, MeanImage};
/// let mut d = Dataset::new("toy", array![[1.0, 10.0], [3.0, 20.0]], vec![0, 1], 2, None)?;
/// let mean = MeanImage::fit(&d);
/// assert_eq!(mean.as_array(), &array![2.0f32, 15.0]);
/// mean.apply(&mut d)?;
/// assert_eq!(d.features(), array![[-1.0f32, -5.0], [1.0, 5.0]]);
/// # Ok::<(), tapegrad_net::data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MeanImage {
    mean: Array1<f32>,
    /// Positive, one per feature, when the inputs are standardised.
    std: Option<Array1<f32>>,
}

impl MeanImage {
    /// The per-feature mean of `train`'s features, summed in `f64` and rounded to `f32` once.
    /// An empty data set gives all zeros (subtracting it changes nothing).
    pub fn fit(train: &Dataset) -> Self {
        let features = train.features();
        let mut sums = vec![0.0f64; features.ncols()];
        for row in features.rows() {
            for (s, &x) in sums.iter_mut().zip(row) {
                *s += f64::from(x);
            }
        }
        let n = features.nrows().max(1) as f64;
        Self {
            mean: sums.into_iter().map(|s| (s / n) as f32).collect(),
            std: None,
        }
    }

    /// The mean of `train`'s features and, as `standardize` asks, their standard deviations
    /// ([`Standardize::fit`]).
    pub fn fit_with(train: &Dataset, standardize: Standardize) -> Self {
        let mean = Self::fit(train);
        let std = standardize.fit(train, &mean);
        Self { std, ..mean }
    }

    /// Rebuilds a mean image stored with a model.
    pub fn from_array(mean: Array1<f32>) -> Self {
        Self { mean, std: None }
    }

    /// The same mean, and the centred features divided by `std` (one positive, finite number
    /// per feature; a model file's reader checks them first).
    pub fn with_std(self, std: Array1<f32>) -> Self {
        debug_assert_eq!(std.len(), self.mean.len(), "one std per feature");
        Self {
            std: Some(std),
            ..self
        }
    }

    /// The standard deviations the centred features are divided by, if standardised.
    pub fn std(&self) -> Option<&Array1<f32>> {
        self.std.as_ref()
    }

    /// The mean, one value per feature (to store with a model).
    pub fn as_array(&self) -> &Array1<f32> {
        &self.mean
    }

    /// The mean, one value per feature, by value.
    pub fn into_array(self) -> Array1<f32> {
        self.mean
    }

    /// Number of features the mean is for.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Subtracts the mean from every row of a feature matrix (`n x dim`), then divides by the
    /// standard deviations if there are any.
    ///
    /// Errors if the matrix has a different number of columns than the mean.
    pub fn apply_to(&self, mut features: ArrayViewMut2<'_, f32>) -> Result<(), DataError> {
        if features.ncols() != self.mean.len() {
            return Err(DataError::Invalid(format!(
                "mean image has {} features but the data has {}",
                self.mean.len(),
                features.ncols()
            )));
        }
        for mut row in features.axis_iter_mut(Axis(0)) {
            row -= &self.mean;
            if let Some(std) = &self.std {
                row /= std;
            }
        }
        Ok(())
    }

    /// Subtracts the mean from every example of `data`.
    ///
    /// Errors (naming the data set) if `data` has a different number of features.
    pub fn apply(&self, data: &mut Dataset) -> Result<(), DataError> {
        let name = data.name().to_owned();
        self.apply_to(data.features_mut())
            .map_err(|e| DataError::Invalid(format!("data set {name}: {e}")))
    }

    /// Fits the mean on `splits.train` and subtracts it from the training, validation and
    /// test sets; returns it for storing with the model.
    pub fn fit_apply(splits: &mut Splits) -> Result<Self, DataError> {
        Self::fit_apply_with(splits, Standardize::None)
    }

    /// [`fit_apply`](Self::fit_apply) with the standard deviations `standardize` asks for,
    /// fitted on the training split only.
    pub fn fit_apply_with(
        splits: &mut Splits,
        standardize: Standardize,
    ) -> Result<Self, DataError> {
        let mean = Self::fit_with(&splits.train, standardize);
        mean.apply(&mut splits.train)?;
        mean.apply(&mut splits.val)?;
        if let Some(test) = splits.test.as_mut() {
            mean.apply(test)?;
        }
        Ok(mean)
    }
}
