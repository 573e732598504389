//! [`Dataset`], [`ImageShape`], [`Splits`] and seeded splitting.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use num_traits::Float;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::DataError;

/// How a feature row lays out an image, so that rows (or first-layer weights) can be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImageShape {
    /// Image height in pixels.
    pub height: usize,
    /// Image width in pixels.
    pub width: usize,
    /// Colour channels (1 for grey, 3 for RGB).
    pub channels: usize,
    /// `true` if all of channel 0 comes first, then all of channel 1, ... (CIFAR-10's
    /// layout, "CHW"); `false` if the channels of one pixel sit together ("HWC"). Irrelevant
    /// for one channel.
    pub channel_major: bool,
}

impl ImageShape {
    /// A one-channel (grey) image shape.
    pub fn grey(height: usize, width: usize) -> Self {
        Self {
            height,
            width,
            channels: 1,
            channel_major: false,
        }
    }

    /// Number of features an image has: `height * width * channels`.
    pub fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Whether the shape has no pixels at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The feature index of pixel (`y`, `x`) in channel `c`.
    ///
    /// ```
    /// use tapegrad_net::data::ImageShape;
    /// let cifar = ImageShape { height: 32, width: 32, channels: 3, channel_major: true };
    /// assert_eq!(cifar.index(0, 1, 2), 2 * 1024 + 1);
    /// let hwc = ImageShape { channel_major: false, ..cifar };
    /// assert_eq!(hwc.index(0, 1, 2), 3 + 2);
    /// ```
    pub fn index(&self, y: usize, x: usize, c: usize) -> usize {
        if self.channel_major {
            (c * self.height + y) * self.width + x
        } else {
            (y * self.width + x) * self.channels + c
        }
    }
}

/// A labelled data set: `n` examples of `d` features each, and a class label per example.
///
/// Invariants (checked by [`Dataset::new`]): at least one feature, one label per feature
/// row, `classes` in `1..=`[`MAX_CLASSES`](crate::limits::MAX_CLASSES), every label
/// `< classes`, and if there is an [`ImageShape`], its [`len`](ImageShape::len) is `d`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    name: String,
    features: Array2<f32>,
    labels: Vec<usize>,
    classes: usize,
    image: Option<ImageShape>,
}

impl Dataset {
    /// Builds a data set, checking the invariants above.
    ///
    /// ```
    /// use ndarray::array;
    /// use tapegrad_net::data::Dataset;
    /// let d = Dataset::new("toy", array![[0.0, 1.0], [2.0, 3.0]], vec![1, 0], 2, None)?;
    /// assert_eq!((d.len(), d.dim(), d.classes()), (2, 2, 2));
    /// assert!(Dataset::new("bad", array![[0.0]], vec![5], 2, None).is_err());
    /// # Ok::<(), tapegrad_net::data::DataError>(())
    /// ```
    pub fn new(
        name: impl Into<String>,
        features: Array2<f32>,
        labels: Vec<usize>,
        classes: usize,
        image: Option<ImageShape>,
    ) -> Result<Self, DataError> {
        let name = name.into();
        if features.nrows() != labels.len() {
            return Err(DataError::Invalid(format!(
                "data set {name}: {} feature rows but {} labels",
                features.nrows(),
                labels.len()
            )));
        }
        if features.ncols() == 0 {
            return Err(DataError::Invalid(format!(
                "data set {name}: examples have no features"
            )));
        }
        if let Err(problem) = crate::limits::check_classes(classes) {
            return Err(DataError::Invalid(format!("data set {name}: {problem}")));
        }
        if let Some((i, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= classes) {
            return Err(DataError::Invalid(format!(
                "data set {name}: label {label} of example {i} is >= the number of classes {classes}"
            )));
        }
        if let Some(shape) = image {
            if shape.len() != features.ncols() {
                return Err(DataError::Invalid(format!(
                    "data set {name}: image shape {}x{}x{} has {} pixels but rows have {} features",
                    shape.height,
                    shape.width,
                    shape.channels,
                    shape.len(),
                    features.ncols()
                )));
            }
        }
        Ok(Self {
            name,
            features,
            labels,
            classes,
            image,
        })
    }

    /// Checks that a net can learn from this (training) set: at least one example and at
    /// least two classes.
    pub fn check_trainable(&self) -> Result<(), DataError> {
        if self.is_empty() {
            return Err(DataError::Invalid(format!(
                "data set {}: no examples to train on",
                self.name
            )));
        }
        if self.classes < 2 {
            return Err(DataError::Invalid(format!(
                "data set {}: only one class (labels are all 0): there is nothing to learn; \
                 a classifier needs at least 2 classes",
                self.name
            )));
        }
        Ok(())
    }

    /// The data set's name, e.g. `"digits/train"`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the data set.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The `n x d` feature matrix, one example per row.
    pub fn features(&self) -> ArrayView2<'_, f32> {
        self.features.view()
    }

    /// The feature matrix, writable in place (its shape cannot change).
    pub fn features_mut(&mut self) -> ArrayViewMut2<'_, f32> {
        self.features.view_mut()
    }

    /// The features converted to another float type (`f64` for the tape, usually).
    ///
    /// ```
    /// use ndarray::array;
    /// use tapegrad_net::data::Dataset;
    /// let d = Dataset::new("toy", array![[0.5f32, 0.25]], vec![0], 1, None)?;
    /// assert_eq!(d.features_as::<f64>(), array![[0.5f64, 0.25]]);
    /// # Ok::<(), tapegrad_net::data::DataError>(())
    /// ```
    pub fn features_as<T: Float>(&self) -> Array2<T> {
        // Casting an f32 to a float type never fails; NaN would only be a fallback.
        self.features.mapv(|x| T::from(x).unwrap_or_else(T::nan))
    }

    /// The class label of each example, each `< classes()`.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Number of classes (labels are `0..classes`).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// How a feature row lays out an image, if the features are pixels.
    pub fn image(&self) -> Option<ImageShape> {
        self.image
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of features per example.
    pub fn dim(&self) -> usize {
        self.features.ncols()
    }

    /// How many examples each class has: `counts[c]` for class `c`.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &label in &self.labels {
            counts[label] += 1;
        }
        counts
    }

    /// The examples at `indices`, in that order (repeats allowed): a minibatch or a split.
    ///
    /// # Panics
    /// If an index is `>= len()`, like slice indexing.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        Dataset {
            name: self.name.clone(),
            features: self.features.select(Axis(0), indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            classes: self.classes,
            image: self.image,
        }
    }

    /// Splits into the first `at` examples and the rest.
    ///
    /// # Panics
    /// If `at > len()`, like [`slice::split_at`].
    pub fn split_at(&self, at: usize) -> (Dataset, Dataset) {
        assert!(
            at <= self.len(),
            "split_at({at}) on a data set of {} examples",
            self.len()
        );
        let (a, b) = self.features.view().split_at(Axis(0), at);
        let part = |features: ArrayView2<'_, f32>, labels: &[usize]| Dataset {
            name: self.name.clone(),
            features: features.to_owned(),
            labels: labels.to_vec(),
            classes: self.classes,
            image: self.image,
        };
        (part(a, &self.labels[..at]), part(b, &self.labels[at..]))
    }

    /// Takes the data set apart: `(name, features, labels, classes, image)`.
    pub fn into_parts(self) -> (String, Array2<f32>, Vec<usize>, usize, Option<ImageShape>) {
        (
            self.name,
            self.features,
            self.labels,
            self.classes,
            self.image,
        )
    }

    /// Splits the examples at random (from `seed`, reproducibly) into train, validation and
    /// test sets of the sizes [`SplitFractions::sizes`] gives; names them `NAME/train`,
    /// `NAME/val` and `NAME/test`.
    ///
    /// The permutation is `StdRng::seed_from_u64(seed)` shuffling `0..n`; the first examples
    /// of the permutation form the training set, the next the validation set, the rest the
    /// test set.
    pub fn shuffle_split(&self, fractions: SplitFractions, seed: u64) -> Result<Splits, DataError> {
        let (n_train, n_val, n_test) = fractions.sizes(self.len())?;
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        let named = |part: &[usize], suffix: &str| {
            self.subset(part)
                .with_name(format!("{}/{suffix}", self.name))
        };
        let train = named(&order[..n_train], "train");
        let val = named(&order[n_train..n_train + n_val], "val");
        let test = (fractions.test > 0.0).then(|| named(&order[n_train + n_val..], "test"));
        debug_assert_eq!(test.as_ref().map_or(0, Dataset::len), n_test);
        Ok(Splits { train, val, test })
    }
}

/// Which fractions of a data set [`Dataset::shuffle_split`] sets aside for validation and
/// for testing; the rest is for training. The default is 15% and 15% (a 70/15/15 split).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitFractions {
    /// Fraction for the validation set, in `[0, 1)`.
    pub val: f64,
    /// Fraction for the test set, in `[0, 1)`; 0 means no test set.
    pub test: f64,
}

impl Default for SplitFractions {
    fn default() -> Self {
        Self {
            val: 0.15,
            test: 0.15,
        }
    }
}

impl SplitFractions {
    /// The `(train, val, test)` sizes for `n` examples: `train = round(n * (1 - val - test))`,
    /// `val = round(n * val)` (capped to what is left), `test` = the rest (0 if `test` is 0,
    /// in which case the rest goes to validation).
    ///
    /// ```
    /// use tapegrad_net::data::SplitFractions;
    /// assert_eq!(SplitFractions::default().sizes(1797)?, (1258, 270, 269));
    /// # Ok::<(), tapegrad_net::data::DataError>(())
    /// ```
    pub fn sizes(&self, n: usize) -> Result<(usize, usize, usize), DataError> {
        let ok = |f: f64| (0.0..1.0).contains(&f);
        if !ok(self.val) || !ok(self.test) || self.val + self.test >= 1.0 {
            return Err(DataError::Invalid(format!(
                "split fractions val {} and test {} must each be in [0, 1) and sum to less than 1",
                self.val, self.test
            )));
        }
        let count = |f: f64| ((n as f64) * f).round() as usize;
        let n_train = count(1.0 - self.val - self.test).min(n);
        if self.test == 0.0 {
            return Ok((n_train, n - n_train, 0));
        }
        let n_val = count(self.val).min(n - n_train);
        Ok((n_train, n_val, n - n_train - n_val))
    }
}

/// A data set split for training: fit on `train`, tune on `val`, report on `test`.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    /// The training set.
    pub train: Dataset,
    /// The validation set (model selection, early stopping).
    pub val: Dataset,
    /// The held-out test set, if the source has one.
    pub test: Option<Dataset>,
}

impl Splits {
    /// The splits that exist, in order: train, val, then test if there is one.
    pub fn iter(&self) -> impl Iterator<Item = &Dataset> {
        [&self.train, &self.val]
            .into_iter()
            .chain(self.test.as_ref())
    }
}
