//! The CIFAR-10 reader ("binary version" files).

use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::{file, DataError, Dataset, ImageShape, Splits};

/// Bytes of one CIFAR-10 record: 1 label byte, then 3,072 pixel bytes (1,024 red, 1,024
/// green, 1,024 blue; each a 32x32 image row by row).
pub const CIFAR10_RECORD: usize = 1 + CIFAR10_PIXELS;

/// Pixel bytes of one CIFAR-10 image.
const CIFAR10_PIXELS: usize = 3 * 32 * 32;

/// The most records one CIFAR-10 file may hold: ten times the official files' 10,000, so
/// that an endless file (`/dev/zero`) is refused after 307 MB instead of filling memory.
pub const CIFAR10_MAX_RECORDS: usize = 100_000;

/// [`CIFAR10_MAX_RECORDS`] in bytes.
const CIFAR10_MAX_BYTES: u64 = (CIFAR10_MAX_RECORDS * CIFAR10_RECORD) as u64;

/// The training files, in the order their examples are concatenated.
pub const CIFAR10_TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];

/// The test file.
pub const CIFAR10_TEST_FILE: &str = "test_batch.bin";

/// Default size of the validation set: the last 1,000 training examples (the usual
/// 49,000/1,000 split).
pub const CIFAR10_DEFAULT_VAL: usize = 1000;

/// The subdirectory the official tarball unpacks to; looked in if `dir` has no batch files.
const TARBALL_DIR: &str = "cifar-10-batches-bin";

/// The image layout of a CIFAR-10 row: 32x32 RGB, channel-major.
pub const CIFAR10_SHAPE: ImageShape = ImageShape {
    height: 32,
    width: 32,
    channels: 3,
    channel_major: true,
};

const EXPECTED: &str = "data_batch_1.bin .. data_batch_5.bin and test_batch.bin of the \
    CIFAR-10 binary version, each plain or with .gz appended";

/// Parses one CIFAR-10 file held in memory, appending scaled pixels and labels.
fn parse_into(
    path: &Path,
    bytes: &[u8],
    features: &mut Vec<f32>,
    labels: &mut Vec<usize>,
) -> Result<(), DataError> {
    let whole = bytes.len() / CIFAR10_RECORD * CIFAR10_RECORD;
    if whole < bytes.len() {
        return Err(DataError::Truncated {
            format: "cifar10",
            path: path.to_path_buf(),
            item: "record",
            offset: whole as u64,
            need: format!("a record is {CIFAR10_RECORD} bytes (1 label + {CIFAR10_PIXELS} pixels)"),
            remaining: (bytes.len() - whole) as u64,
        });
    }
    if bytes.is_empty() {
        return Err(DataError::Malformed {
            format: "cifar10",
            path: path.to_path_buf(),
            detail: "the file is empty: no records".to_owned(),
        });
    }
    let lut = file::unit_lut();
    features.reserve(bytes.len() / CIFAR10_RECORD * CIFAR10_PIXELS);
    for (i, record) in bytes.chunks_exact(CIFAR10_RECORD).enumerate() {
        let (&label, pixels) = match record.split_first() {
            Some(split) => split,
            None => continue,
        };
        if label >= 10 {
            return Err(DataError::LabelOutOfRange {
                format: "cifar10",
                path: path.to_path_buf(),
                label: u64::from(label),
                offset: (i * CIFAR10_RECORD) as u64,
                classes: 10,
            });
        }
        labels.push(usize::from(label));
        file::push_scaled(features, pixels, &lut);
    }
    Ok(())
}

/// Reads CIFAR-10 files (already located), concatenating their examples.
fn read_files(paths: &[PathBuf]) -> Result<(Vec<f32>, Vec<usize>), DataError> {
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for path in paths {
        let why = format!("the most {CIFAR10_MAX_RECORDS} records a CIFAR-10 file may hold");
        let bytes = file::read_bytes("cifar10", path, CIFAR10_MAX_BYTES, &why)?;
        parse_into(path, &bytes, &mut features, &mut labels)?;
    }
    Ok((features, labels))
}

/// Builds a CIFAR-10 data set from scaled pixels and labels.
fn dataset(name: &str, features: Vec<f32>, labels: Vec<usize>) -> Result<Dataset, DataError> {
    let features = Array2::from_shape_vec((labels.len(), CIFAR10_PIXELS), features)
        .map_err(|e| DataError::Invalid(format!("data set {name}: {e}")))?;
    Dataset::new(name, features, labels, 10, Some(CIFAR10_SHAPE))
}

/// The directory that holds the batch files: `dir`, or `dir/cifar-10-batches-bin` if only
/// that has them.
fn batch_dir(dir: &Path) -> PathBuf {
    let nested = dir.join(TARBALL_DIR);
    let has_batches = |d: &Path| file::find("cifar10", d, CIFAR10_TRAIN_FILES[0], EXPECTED).is_ok();
    if !has_batches(dir) && has_batches(&nested) {
        nested
    } else {
        dir.to_path_buf()
    }
}

/// Reads CIFAR-10 from `dir` with the last [`CIFAR10_DEFAULT_VAL`] training examples as the
/// validation set. See [`cifar10_with_val`].
pub fn cifar10(dir: impl AsRef<Path>) -> Result<Splits, DataError> {
    cifar10_with_val(dir, CIFAR10_DEFAULT_VAL)
}

/// Reads CIFAR-10's binary version from `dir` (or from `dir/cifar-10-batches-bin`).
///
/// Files: `data_batch_1.bin` .. `data_batch_5.bin` (training, concatenated in that order) and
/// `test_batch.bin`, each plain or with `.gz` appended. Each file is a sequence of 3,073-byte
/// records: a label byte (0..9), then 1,024 red, 1,024 green and 1,024 blue bytes, each
/// channel a 32x32 image row by row. The real files hold 10,000 records each; any whole
/// number of records up to [`CIFAR10_MAX_RECORDS`] is accepted. Pixels are scaled to `[0, 1]` by dividing by 255 and kept
/// in the file's channel-major order ([`CIFAR10_SHAPE`]).
///
/// The last `val` training examples form the validation set (`cifar10/val`), the others the
/// training set (`cifar10/train`); the test file is the test set (`cifar10/test`).
pub fn cifar10_with_val(dir: impl AsRef<Path>, val: usize) -> Result<Splits, DataError> {
    let dir = dir.as_ref();
    file::check_dir("cifar10", dir, EXPECTED)?;
    let dir = batch_dir(dir);
    let train_paths = CIFAR10_TRAIN_FILES
        .iter()
        .map(|name| file::find("cifar10", &dir, name, EXPECTED))
        .collect::<Result<Vec<_>, _>>()?;
    let test_path = file::find("cifar10", &dir, CIFAR10_TEST_FILE, EXPECTED)?;

    let (mut train_x, mut train_y) = read_files(&train_paths)?;
    if val >= train_y.len() {
        return Err(DataError::Invalid(format!(
            "cifar10 in {}: a validation set of {val} examples leaves no training examples \
             (the training files hold {})",
            dir.display(),
            train_y.len()
        )));
    }
    let keep = train_y.len() - val;
    let val_y = train_y.split_off(keep);
    let val_x = train_x.split_off(keep * CIFAR10_PIXELS);
    // Give the split-off tail's memory back rather than carry it as spare capacity.
    train_x.shrink_to_fit();
    let (test_x, test_y) = read_files(std::slice::from_ref(&test_path))?;
    Ok(Splits {
        train: dataset("cifar10/train", train_x, train_y)?,
        val: dataset("cifar10/val", val_x, val_y)?,
        test: Some(dataset("cifar10/test", test_x, test_y)?),
    })
}
