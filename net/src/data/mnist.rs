//! The IDX reader, for MNIST and Fashion-MNIST.

use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::{file, DataError, Dataset, ImageShape, Splits};
use crate::limits::MAX_DATA_FILE_BYTES;

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (count, rows, columns).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;

/// Magic number of an IDX file of unsigned bytes with 1 dimension (count).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// The four standard file names: train images, train labels, test images, test labels.
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Default size of the validation set: the last 5,000 of the 60,000 training examples.
pub const MNIST_DEFAULT_VAL: usize = 5000;

/// MNIST and Fashion-MNIST both have 10 classes.
const CLASSES: usize = 10;

const EXPECTED: &str = "train-images-idx3-ubyte, train-labels-idx1-ubyte, \
    t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each plain or with .gz appended";

/// Trailing bytes after an IDX file's data are counted up to this many in error messages.
const TRAILING_COUNTED: u64 = 1 << 20;

/// One IDX file read as far as its header announces: its dimensions and its data bytes.
struct Idx {
    dims: Vec<usize>,
    data: Vec<u8>,
    /// Byte offset of `data` in the file.
    offset: usize,
}

/// Reads an IDX file of unsigned bytes whose magic number must be `magic`: the header
/// first, then exactly the data bytes it announces (at most
/// [`MAX_DATA_FILE_BYTES`](crate::limits::MAX_DATA_FILE_BYTES)), then checks that nothing
/// follows. A gzipped file is inflated only that far, so a small `.gz` that inflates to far
/// more than its header says is refused after the announced size, not inflated whole.
fn read_idx(path: &Path, magic: u32, kind: &'static str) -> Result<Idx, DataError> {
    let mut file = file::DataFile::open("mnist", path)?;
    let truncated = |item, offset: usize, need: String, remaining: usize| DataError::Truncated {
        format: "mnist",
        path: path.to_path_buf(),
        item,
        offset: offset as u64,
        need,
        remaining: remaining as u64,
    };
    let mut bytes = Vec::with_capacity(16);
    file.read_up_to(4, &mut bytes)?;
    let be32 = |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    if bytes.len() < 4 {
        let need = "an IDX file starts with a 4-byte magic number".into();
        return Err(truncated("IDX header", 0, need, bytes.len()));
    }
    let found = be32(&bytes, 0);
    if found != magic {
        return Err(DataError::BadMagic {
            format: "mnist",
            path: path.to_path_buf(),
            found,
            expected: magic,
            kind,
        });
    }
    let ndims = (magic & 0xff) as usize;
    let header = 4 + 4 * ndims;
    file.read_up_to(4 * ndims as u64, &mut bytes)?;
    if bytes.len() < header {
        let need = format!("a {ndims}-dimensional IDX header is {header} bytes");
        return Err(truncated("IDX header", 0, need, bytes.len()));
    }
    let dims: Vec<usize> = (0..ndims)
        .map(|d| be32(&bytes, 4 + 4 * d) as usize)
        .collect();
    let shape: Vec<String> = dims.iter().map(usize::to_string).collect();
    let shape = shape.join("x");
    if let Some(d) = dims.iter().position(|&n| n == 0) {
        return Err(file.malformed(format!(
            "the IDX header announces {shape} {kind}: dimension {} (at byte offset {}) is 0, \
             so the file holds no {kind}",
            d + 1,
            4 + 4 * d
        )));
    }
    let total = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .filter(|&t| t <= MAX_DATA_FILE_BYTES)
        .ok_or_else(|| {
            file.malformed(format!(
                "the IDX header at byte offset 4 announces {shape} bytes of {kind}, more than \
                 the limit of {MAX_DATA_FILE_BYTES} bytes for a data file"
            ))
        })?;
    let mut data = Vec::new();
    let got = file.read_up_to(total, &mut data)?;
    if got < total {
        let need = format!("the header announces {shape} = {total} bytes of {kind}");
        return Err(truncated("data", header, need, got as usize));
    }
    match file.count_rest(TRAILING_COUNTED)? {
        Some(0) => {}
        extra => {
            let count = match extra {
                Some(n) => n.to_string(),
                None => format!("more than {TRAILING_COUNTED}"),
            };
            return Err(file.malformed(format!(
                "{count} unexpected bytes after the {kind} data, from byte offset {}{}",
                header as u64 + total,
                if extra.is_none() {
                    " (the header announces less than the file holds)"
                } else {
                    ""
                }
            )));
        }
    }
    Ok(Idx {
        dims,
        data,
        offset: header,
    })
}

/// Images (scaled to `[0, 1]`, row-major), labels, and the image shape of one pair of files.
struct Part {
    features: Vec<f32>,
    labels: Vec<usize>,
    shape: ImageShape,
    images_path: PathBuf,
}

/// Reads one IDX images file: its images scaled to `[0, 1]`, row-major, one after the
/// other; their count; their shape.
pub(crate) fn read_images(path: &Path) -> Result<(Vec<f32>, usize, ImageShape), DataError> {
    let images = read_idx(path, IDX_IMAGES_MAGIC, "images")?;
    let (count, shape) = match images.dims[..] {
        [count, rows, cols] => (count, ImageShape::grey(rows, cols)),
        _ => {
            let detail = format!("IDX images have 3 dimensions, not {}", images.dims.len());
            return Err(DataError::Malformed {
                format: "mnist",
                path: path.to_path_buf(),
                detail,
            });
        }
    };
    let mut features = Vec::with_capacity(images.data.len());
    file::push_scaled(&mut features, &images.data, &file::unit_lut());
    Ok((features, count, shape))
}

/// Reads and checks one images file and its labels file.
fn read_pair(images_path: PathBuf, labels_path: PathBuf) -> Result<Part, DataError> {
    let (features, count, shape) = read_images(&images_path)?;

    let idx = read_idx(&labels_path, IDX_LABELS_MAGIC, "labels")?;
    if idx.data.len() != count {
        return Err(DataError::CountMismatch {
            format: "mnist",
            images: count,
            images_path,
            labels: idx.data.len(),
            labels_path,
        });
    }
    let mut labels = Vec::with_capacity(count);
    for (i, &label) in idx.data.iter().enumerate() {
        if usize::from(label) >= CLASSES {
            return Err(DataError::LabelOutOfRange {
                format: "mnist",
                path: labels_path,
                label: u64::from(label),
                offset: (idx.offset + i) as u64,
                classes: CLASSES,
            });
        }
        labels.push(usize::from(label));
    }
    Ok(Part {
        features,
        labels,
        shape,
        images_path,
    })
}

/// Builds a data set of `shape` images.
fn dataset(
    name: &str,
    features: Vec<f32>,
    labels: Vec<usize>,
    shape: ImageShape,
) -> Result<Dataset, DataError> {
    let features = Array2::from_shape_vec((labels.len(), shape.len()), features)
        .map_err(|e| DataError::Invalid(format!("data set {name}: {e}")))?;
    Dataset::new(name, features, labels, CLASSES, Some(shape))
}

/// Reads MNIST or Fashion-MNIST from `dir` with the last [`MNIST_DEFAULT_VAL`] training
/// examples as the validation set. See [`mnist_with_val`].
pub fn mnist(dir: impl AsRef<Path>) -> Result<Splits, DataError> {
    mnist_with_val(dir, MNIST_DEFAULT_VAL)
}

/// Reads MNIST or Fashion-MNIST (same format) from the IDX files [`MNIST_FILES`] in `dir`,
/// each plain or with `.gz` appended (gzipped files are recognised by name or content).
///
/// An IDX file is a big-endian header, then the data as unsigned bytes: the magic number
/// ([`IDX_IMAGES_MAGIC`] `0x00000803` for images, [`IDX_LABELS_MAGIC`] `0x00000801` for
/// labels), one 32-bit size per dimension (images: count, rows, columns; labels: count), then
/// the pixels row by row, image after image (or one byte per label, 0..9). Pixels are scaled
/// to `[0, 1]` by dividing by 255.
///
/// The last `val` training examples form the validation set (`mnist/val`), the others the
/// training set (`mnist/train`); the `t10k` files are the test set (`mnist/test`).
pub fn mnist_with_val(dir: impl AsRef<Path>, val: usize) -> Result<Splits, DataError> {
    let dir = dir.as_ref();
    file::check_dir("mnist", dir, EXPECTED)?;
    let paths = MNIST_FILES
        .iter()
        .map(|name| file::find("mnist", dir, name, EXPECTED))
        .collect::<Result<Vec<_>, _>>()?;
    let [train_images, train_labels, test_images, test_labels] = <[PathBuf; 4]>::try_from(paths)
        .map_err(|_| DataError::Invalid("mnist: expected four file paths".to_owned()))?;

    let train = read_pair(train_images, train_labels)?;
    let n = train.labels.len();
    if val >= n {
        return Err(DataError::Invalid(format!(
            "mnist in {}: a validation set of {val} examples leaves no training examples \
             (the training files hold {n})",
            dir.display()
        )));
    }
    let test = read_pair(test_images, test_labels)?;
    if test.shape != train.shape {
        return Err(DataError::Malformed {
            format: "mnist",
            path: test.images_path,
            detail: format!(
                "images are {}x{} but the training images in {} are {}x{}",
                test.shape.height,
                test.shape.width,
                train.images_path.display(),
                train.shape.height,
                train.shape.width
            ),
        });
    }
    let Part {
        features: mut train_x,
        labels: mut train_y,
        shape,
        ..
    } = train;
    let keep = n - val;
    let val_y = train_y.split_off(keep);
    let val_x = train_x.split_off(keep * shape.len());
    Ok(Splits {
        train: dataset("mnist/train", train_x, train_y, shape)?,
        val: dataset("mnist/val", val_x, val_y, shape)?,
        test: Some(dataset("mnist/test", test.features, test.labels, shape)?),
    })
}
