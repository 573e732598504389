//! [`DataError`], the one error type of the data readers.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong while loading or preparing a data set.
///
/// Every message names the file (or directory, or spec) it is about, says what is wrong, and
/// where: a byte offset for the binary formats (CIFAR-10, IDX), a line and field number for
/// CSV. Byte offsets in a gzipped file count bytes of the *decompressed* stream.
///
/// `format` fields hold the reader's name as a user would type it in a data spec
/// (`"cifar10"`, `"mnist"`, `"csv"`, `"digits"`).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file exists (or should) but could not be read.
    #[error("{format} file {path}: cannot read it: {source}")]
    Io {
        /// The reader that failed.
        format: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// A gzipped file whose compressed stream is broken.
    #[error("{format} file {path}: corrupt gzip data: {source}")]
    Gzip {
        /// The reader that failed.
        format: &'static str,
        /// The file.
        path: PathBuf,
        /// The decompressor's error.
        source: std::io::Error,
    },

    /// A directory given to a reader does not exist or is not a directory.
    #[error("{format}: directory {dir} does not exist or is not a directory (expected it to hold {expected})")]
    MissingDir {
        /// The reader that failed.
        format: &'static str,
        /// The directory.
        dir: PathBuf,
        /// The files the reader looks for there.
        expected: String,
    },

    /// A file the reader needs is not there.
    #[error("{format}: missing file {name} in directory {dir} (expected {expected})")]
    MissingFile {
        /// The reader that failed.
        format: &'static str,
        /// The directory looked in.
        dir: PathBuf,
        /// The file name looked for.
        name: String,
        /// All the files the reader needs, as a sentence fragment.
        expected: String,
    },

    /// A file ends in the middle of a header or a record.
    #[error("{format} file {path}: truncated {item} at byte offset {offset}: {need}, but only {remaining} bytes remain")]
    Truncated {
        /// The reader that failed.
        format: &'static str,
        /// The file.
        path: PathBuf,
        /// What was cut short (`"record"`, `"IDX header"`, ...).
        item: &'static str,
        /// Where the cut-short item starts.
        offset: u64,
        /// How many bytes the item needs, as a sentence fragment.
        need: String,
        /// How many bytes the file has from `offset` on.
        remaining: u64,
    },

    /// An IDX file whose magic number is not the one for its kind of content.
    #[error("{format} file {path}: bad IDX magic number {found:#010x} at byte offset 0 (expected {expected:#010x} for {kind})")]
    BadMagic {
        /// The reader that failed.
        format: &'static str,
        /// The file.
        path: PathBuf,
        /// The first four bytes, big-endian.
        found: u32,
        /// The magic number wanted.
        expected: u32,
        /// `"images"` or `"labels"`.
        kind: &'static str,
    },

    /// A class label outside `0..classes`.
    #[error("{format} file {path}: label {label} at byte offset {offset} is >= the number of classes {classes}")]
    LabelOutOfRange {
        /// The reader that failed.
        format: &'static str,
        /// The file.
        path: PathBuf,
        /// The label read.
        label: u64,
        /// The label's byte offset.
        offset: u64,
        /// The number of classes of the format.
        classes: usize,
    },

    /// An image file and its label file hold different numbers of examples.
    #[error("{format}: images and labels differ in count: {images} images in {images_path}, {labels} labels in {labels_path}")]
    CountMismatch {
        /// The reader that failed.
        format: &'static str,
        /// Number of images.
        images: usize,
        /// The image file.
        images_path: PathBuf,
        /// Number of labels.
        labels: usize,
        /// The label file.
        labels_path: PathBuf,
    },

    /// A CSV row with a different number of fields than the rows before it.
    #[error("csv file {path} line {line}: {fields} fields, but earlier rows have {expected}")]
    RaggedRow {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Fields on this line.
        fields: usize,
        /// Fields on the earlier data rows.
        expected: usize,
    },

    /// A CSV field that is not what its column needs.
    #[error("csv file {path} line {line} field {field}: '{text}' is not {expected}")]
    BadField {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based field number.
        field: usize,
        /// The field's text (trimmed).
        text: String,
        /// What the field should be (`"a number"`, `"a class label ..."`).
        expected: &'static str,
    },

    /// Any other inconsistency in a file; `detail` says what and where.
    #[error("{format} file {path}: {detail}")]
    Malformed {
        /// The reader that failed.
        format: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong, with its location.
        detail: String,
    },

    /// A data spec string that names no known source.
    #[error(
        "bad data spec '{spec}': {reason}; expected one of: {}",
        super::format::accepted_forms()
    )]
    Spec {
        /// The string as given.
        spec: String,
        /// Why it was rejected.
        reason: String,
    },

    /// An argument out of range or data that does not fit together (split sizes, feature
    /// dimensions of a stored mean image, ...).
    #[error("{0}")]
    Invalid(String),
}
