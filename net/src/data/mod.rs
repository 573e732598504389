//! Data readers and preprocessing: labelled data sets for the net, split for training.
//!
//! Every reader gives a [`Dataset`] (features as an `n x d` `Array2<f32>`, one row per
//! example; labels `0..classes`; an [`ImageShape`] when the features are pixels) or the
//! [`Splits`] `train` / `val` / `test`. Files are gunzipped as they are read when their name
//! ends with `.gz` (or they start with the gzip magic number), and read only as far as their
//! format allows: IDX files as far as their header announces, CSV files line by line (at most
//! [`MAX_CSV_LINE_BYTES`](crate::limits::MAX_CSV_LINE_BYTES) a line), CIFAR-10 files up to
//! [`CIFAR10_MAX_RECORDS`] records; no file beyond
//! [`MAX_DATA_FILE_BYTES`](crate::limits::MAX_DATA_FILE_BYTES). Labels are below
//! [`MAX_CLASSES`](crate::limits::MAX_CLASSES).
//! A [`DataSpec`] such as `mnist:/data/mnist` names a source on the command line; [`load`]
//! turns it into splits. Both read [`FORMATS`], one row per format: a new format is a reader
//! file and a row there.
//!
//! | spec | reader | format | scaling | split |
//! |---|---|---|---|---|
//! | `digits` | [`digits`] | built in: 1,797 rows of 64 block counts (8x8) then the label | `/ 16` → `[0, 1]` | seeded 70/15/15%: 1,258/270/269 |
//! | `spiral` | [`spiral`] | generated 2-D points on `K` noisy arms (CS231n) | none (radius ≤ 1) | seeded 70/15/15% |
//! | `cifar10:DIR` | [`cifar10()`] | `data_batch_1.bin` .. `_5.bin`, `test_batch.bin`: 3,073-byte records, label byte then 1,024 R, G, B bytes | `/ 255` → `[0, 1]` | last 1,000 training examples are val; `test_batch` is test |
//! | `mnist:DIR` | [`mnist()`] | IDX: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-…` (plain or `.gz`) | `/ 255` → `[0, 1]` | last 5,000 training examples are val; `t10k` is test |
//! | `csv:FILE` | [`csv()`] | `feature,...,feature,label` rows, optional header | none: as written | seeded 70/15/15% |
//!
//! **Splits.** Seeded splits shuffle `0..n` with `StdRng::seed_from_u64(seed)` and cut the
//! permutation into train, val and test ([`Dataset::shuffle_split`], sizes by
//! [`SplitFractions::sizes`]); the same seed always gives the same split. CIFAR-10 and MNIST
//! keep their published test sets and hold out the *end* of the training files for
//! validation ([`cifar10_with_val`], [`mnist_with_val`] choose how many).
//!
//! **Preprocessing.** Each reader scales the file's numbers by its source's
//! [`DataSpec::input_scale`] (the table's "scaling" column). Then, as in CS231n: fit a
//! [`MeanImage`] (the mean training example, summed in `f64`) on the training set and
//! subtract it from train, val and test ([`MeanImage::fit_apply`]); optionally divide by the
//! training standard deviation too ([`Standardize`], [`MeanImage::fit_apply_with`]). A model
//! file stores them (`input_scale`, `mean` and `std`, see [`crate::checkpoint`]) so that evaluation and prediction
//! bring any input, in its file's own units, to the net's inputs the same way.
//!
//! **Scoring new data.** [`read_inputs`] reads the rows of a CSV file (labelled or not) or
//! every image of an IDX file, in order, as [`Inputs`].
//!
//! **Errors.** Readers never panic on bad input: a [`DataError`] names the file, what is wrong
//! and where (byte offset for binary files, counted in the decompressed stream for `.gz`;
//! line and field for CSV), e.g. `cifar10 file /x/data_batch_1.bin: truncated record at byte
//! offset 6146: a record is 3073 bytes (1 label + 3072 pixels), but only 20 bytes remain`.
//!
//! ```
//! use tapegrad_net::data::{load, DataSpec, MeanImage};
//! let spec: DataSpec = "digits".parse()?;
//! let mut splits = load(&spec, 42)?;
//! let mean = MeanImage::fit_apply(&mut splits)?;
//! assert_eq!(mean.dim(), 64);
//! assert_eq!(splits.train.features_as::<f64>().dim(), (1258, 64));
//! # Ok::<(), tapegrad_net::data::DataError>(())
//! ```
//!
//! **Credit.** The digits data built into this library is the test partition of E. Alpaydin
//! and C. Kaynak (1998), *Optical Recognition of Handwritten Digits*, UCI Machine Learning
//! Repository, <https://doi.org/10.24432/C50P49>, licensed CC BY 4.0, as scikit-learn ships
//! it (`sklearn/datasets/data/digits.csv.gz`). CIFAR-10 (Krizhevsky, 2009), MNIST (LeCun et
//! al.) and Fashion-MNIST (Xiao et al., 2017) are not included; point the readers at copies.

#![warn(missing_docs)]

mod cifar10;
mod csv;
mod dataset;
mod digits;
mod error;
mod file;
mod format;
mod inputs;
mod mnist;
mod preprocess;
mod spec;
mod spiral;
mod standardize;

pub use cifar10::{
    cifar10, cifar10_with_val, CIFAR10_DEFAULT_VAL, CIFAR10_MAX_RECORDS, CIFAR10_RECORD,
    CIFAR10_SHAPE, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES,
};
pub use csv::{csv, read_csv, MAX_CSV_CLASSES};
pub use dataset::{Dataset, ImageShape, SplitFractions, Splits};
pub use digits::{digits, digits_splits, DIGITS_CSV_GZ, DIGITS_LEN};
pub use error::DataError;
pub use format::{accepted_forms, find_format, Argument, Format, FORMATS};
pub use inputs::{read_inputs, Inputs};
pub use mnist::{
    mnist, mnist_with_val, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, MNIST_DEFAULT_VAL, MNIST_FILES,
};
pub use preprocess::MeanImage;
pub use spec::{load, DataSpec};
pub use spiral::{
    spiral, spiral_splits, SPIRAL_DEFAULT_CLASSES, SPIRAL_DEFAULT_POINTS, SPIRAL_MAX_POINTS,
};
pub use standardize::{Standardize, STD_FLOOR_OF_GLOBAL};
