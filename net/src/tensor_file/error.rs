//! [`TensorFileError`], and the [`Origin`] its messages name.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

use super::Dtype;
use crate::limits::quote;

/// Where a tensor file came from, as error messages name it: `model file PATH` for one
/// [loaded](super::TensorFile::load) from a file, `tensor file` for one built in memory or
/// parsed [from bytes](super::TensorFile::from_bytes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Origin {
    /// Loaded from this file.
    File(PathBuf),
    /// Built in memory or parsed from a byte buffer.
    #[default]
    Memory,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "model file {}", path.display()),
            Origin::Memory => f.write_str("checkpoint"),
        }
    }
}

/// Writes `[784, 100]`, with `_` for a dimension that may be anything.
fn shape_pattern(dims: &[Option<usize>]) -> String {
    let dims: Vec<String> = dims
        .iter()
        .map(|d| d.map_or_else(|| "_".to_string(), |d| d.to_string()))
        .collect();
    format!("[{}]", dims.join(", "))
}

fn comma_list(names: &[String]) -> String {
    if names.is_empty() {
        "nothing".to_string()
    } else {
        let names: Vec<String> = names.iter().map(|n| quote(n)).collect();
        names.join(", ")
    }
}

/// Everything that can go wrong while saving, loading or reading a tensor file.
///
/// Every message starts with the file (`model file runs/x/model.safetensors: ...`, or
/// `checkpoint: ...` for one never loaded from a file) and says what is wrong, e.g.
/// `model file runs/x/model.safetensors: no tensor 'W1' (it has: W2, b1, b2, mean)`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TensorFileError {
    /// The file to load does not exist.
    #[error("model file {}: no such file", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },

    /// The file to load exists but could not be read.
    #[error("model file {}: cannot read it: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// Saving failed; the file at `path`, if there was one, is unchanged and no temporary
    /// file is left behind.
    #[error("model file {}: cannot save it ({action}): {source}", path.display())]
    Write {
        /// The file that was to be written.
        path: PathBuf,
        /// The step that failed, naming the temporary file where relevant.
        action: String,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// The bytes are not a safetensors file (bad header length, header not JSON, offsets
    /// that do not fit, trailing bytes, ...); `source` is the safetensors crate's error.
    #[error("{origin}: not a safetensors file: {source}")]
    NotSafetensors {
        /// The file.
        origin: Origin,
        /// What the safetensors parser found wrong.
        source: safetensors::SafeTensorError,
    },

    /// The file ends before the data its header announces (an interrupted copy or
    /// download, a full disk).
    #[error("{origin}: truncated: it has {len} bytes but its header needs at least {needed}")]
    Truncated {
        /// The file.
        origin: Origin,
        /// The file's length in bytes.
        len: u64,
        /// The length its header implies.
        needed: u64,
    },

    /// A tensor has a dtype other than `F32` or `F64`.
    #[error(
        "{origin}: tensor '{}' has dtype {dtype}; only F32 and F64 are supported",
        quote(name)
    )]
    UnsupportedDtype {
        /// The file.
        origin: Origin,
        /// The tensor.
        name: String,
        /// The dtype as safetensors spells it (`BF16`, `I64`, ...).
        dtype: String,
    },

    /// A tensor name that safetensors reserves (`__metadata__`) or that is empty.
    #[error("{origin}: invalid tensor name '{}': {reason}", quote(name))]
    InvalidName {
        /// The tensor file.
        origin: Origin,
        /// The name.
        name: String,
        /// Why it cannot be used.
        reason: &'static str,
    },

    /// A tensor asked for is not there.
    #[error(
        "{origin}: no tensor '{}' (it has: {})",
        quote(name),
        comma_list(available)
    )]
    MissingTensor {
        /// The tensor file.
        origin: Origin,
        /// The tensor asked for.
        name: String,
        /// The tensors it has, in the tensor file's order.
        available: Vec<String>,
    },

    /// A metadata key asked for is not there.
    #[error(
        "{origin}: no metadata key '{}' (it has: {})",
        quote(key),
        comma_list(available)
    )]
    MissingMetadata {
        /// The tensor file.
        origin: Origin,
        /// The key asked for.
        key: String,
        /// The keys it has, sorted.
        available: Vec<String>,
    },

    /// A header that announces more tensor data than any model file may hold
    /// ([`MAX_MODEL_DATA_BYTES`](crate::limits::MAX_MODEL_DATA_BYTES)); nothing past the
    /// header was read.
    #[error("{origin}: its header announces {announced} bytes of tensor data, more than the limit of {limit}")]
    TooLarge {
        /// The file.
        origin: Origin,
        /// The bytes of data the header announces.
        announced: u64,
        /// The limit.
        limit: u64,
    },

    /// A tensor has another rank or shape than asked for.
    #[error(
        "{origin}: tensor '{}' has shape {found:?} ({found_dtype}), expected {}",
        quote(name),
        shape_pattern(expected)
    )]
    ShapeMismatch {
        /// The tensor file.
        origin: Origin,
        /// The tensor.
        name: String,
        /// The shape asked for; `None` where any length is accepted.
        expected: Vec<Option<usize>>,
        /// The stored shape.
        found: Vec<usize>,
        /// The stored dtype.
        found_dtype: Dtype,
    },
}
