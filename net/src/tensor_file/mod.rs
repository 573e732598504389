//! The tensor file: named `f32`/`f64` tensors plus string metadata, in the
//! [safetensors](https://huggingface.co/docs/safetensors) format (the container that the
//! model and run-state files of [`checkpoint`](crate::checkpoint) are made of).
//!
//! A [`TensorFile`] knows nothing about the net: it is a set of named tensors, ordered by
//! name, and a string-to-string metadata map. [`checkpoint`](crate::checkpoint) stores the two-layer net as
//! `W1` (`d x h`), `b1` (`h`), `W2` (`h x c`), `b2` (`c`) and the preprocessing mean image
//! `mean` (`d`), and puts hyperparameters, data set, classes, image shape and the tapegrad
//! version in the metadata.
//!
//! **Layout.** A safetensors file is an 8-byte little-endian header length `n`, then `n`
//! bytes of JSON header (padded with spaces to a multiple of 8), then the raw tensor data.
//! The header maps each tensor name to `{"dtype": "F32", "shape": [784, 100],
//! "data_offsets": [begin, end]}` (offsets into the data section), and the reserved key
//! `__metadata__` to the string metadata (keys sorted, so equal tensor files give identical
//! files; left out when there is none). Data is
//! little-endian, row-major (C order), packed without gaps, ordered by dtype (`F64` before
//! `F32`) then name. Because this is the standard format, PyTorch and NumPy read the files:
//!
//! ```python
//! from safetensors.numpy import load_file        # or safetensors.torch
//! load_file("model.safetensors")["W1"].shape      # (784, 100)
//! from safetensors import safe_open
//! safe_open("model.safetensors", "np").metadata() # {'classes': '10', ...}
//! ```
//!
//! **Atomic save.** [`TensorFile::save`] writes the file with the crate's one atomic write,
//! [`crate::atomic_write::write_atomic`]: the whole file goes to a temporary file in the
//! target's directory (`.model.safetensors.tmp-PID-N`), is flushed to disk (`fsync`), then
//! renamed over the target, which replaces the old file in one step. A failure at any
//! point removes the temporary file and leaves an existing model as it was; a crash leaves
//! either the old or the new model (and at worst a stale `.*.tmp-*` file, safe to delete),
//! never a half-written one. The replacement is a new file: it gets default permissions, and
//! a symlink at the target is replaced rather than followed.
//!
//! **Loading** ([`TensorFile::load`]) reads the file only as far as its header announces
//! (at most [`MAX_MODEL_DATA_BYTES`](crate::limits::MAX_MODEL_DATA_BYTES) of tensor data, so
//! `/dev/zero` or a huge file stops after a few bytes) and checks it; errors name the
//! file and what is wrong: missing, unreadable, not safetensors (with the safetensors
//! crate's message), truncated, a dtype other than `F32`/`F64`. Reading a tensor
//! ([`TensorFile::get`]) checks its name and rank; an `F64` tensor read as `f32` is rounded
//! to nearest, an `F32` tensor read as `f64` is widened exactly.
//!
//! ```
//! use ndarray::{array, Array1, Array2};
//! use tapegrad_net::tensor_file::TensorFile;
//!
//! let dir = std::env::temp_dir().join(format!("tapegrad-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("model.safetensors");
//!
//! let mut model = TensorFile::new();
//! model.insert("W1", &array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
//! model.insert("b1", &array![0.5f32, -0.5, 0.0]);
//! model.set_metadata("classes", "3");
//! model.save(&path)?;
//!
//! let loaded = TensorFile::load(&path)?;
//! let w1: Array2<f32> = loaded.get("W1")?;
//! assert_eq!(w1.dim(), (2, 3));
//! assert_eq!(loaded.require_metadata("classes")?, "3");
//! let err = loaded.get::<f32, ndarray::Ix1>("W2").unwrap_err();
//! assert!(err.to_string().ends_with("no tensor 'W2' (it has: W1, b1)"));
//! let err = loaded.get::<f32, ndarray::Ix1>("W1").unwrap_err();
//! assert!(err.to_string().ends_with("tensor 'W1' has shape [2, 3] (F32), expected [_]"));
//! let b1: Array1<f64> = loaded.get("b1")?; // F32 widened exactly
//! assert_eq!(b1[0], 0.5);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod file;
mod tensor;

use std::collections::{BTreeMap, HashMap};

use ndarray::{Array, ArrayD, AsArray, Dimension, IntoDimension, IxDyn};
use tapegrad_autograd::Element;

pub use error::{Origin, TensorFileError};
pub use tensor::{Dtype, Tensor};

/// Named tensors plus string metadata: the contents of one model file.
///
/// Tensors are kept ordered by name (byte order, so `W1` sorts before `b1`). Equality
/// compares tensors and metadata, not where the tensor file came from.
#[derive(Debug, Clone, Default)]
pub struct TensorFile {
    tensors: BTreeMap<String, Tensor>,
    metadata: HashMap<String, String>,
    origin: Origin,
}

impl PartialEq for TensorFile {
    fn eq(&self, other: &Self) -> bool {
        self.tensors == other.tensors && self.metadata == other.metadata
    }
}

impl TensorFile {
    /// An empty tensor file.
    pub fn new() -> TensorFile {
        TensorFile::default()
    }

    /// Where the tensor file was loaded from, as error messages name it.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Stores a copy of `array` (an `&Array` or an `ArrayView` of any layout) as tensor
    /// `name`, with dtype `F32` for `f32` elements and `F64` for `f64`. Replaces and returns
    /// a tensor already stored under that name.
    ///
    /// The name `__metadata__` is reserved by safetensors, and empty names are refused:
    /// [`save`](Self::save) reports them as [`TensorFileError::InvalidName`].
    pub fn insert<'a, T, D>(
        &mut self,
        name: impl Into<String>,
        array: impl AsArray<'a, T, D>,
    ) -> Option<Tensor>
    where
        T: Element,
        D: Dimension,
    {
        self.insert_tensor(name, Tensor::from_array(array.into()))
    }

    /// Stores `tensor` as `name`, replacing and returning a tensor of that name.
    pub fn insert_tensor(&mut self, name: impl Into<String>, tensor: Tensor) -> Option<Tensor> {
        self.tensors.insert(name.into(), tensor)
    }

    /// Removes and returns tensor `name`.
    pub fn remove(&mut self, name: &str) -> Option<Tensor> {
        self.tensors.remove(name)
    }

    /// Tensor `name`, or [`TensorFileError::MissingTensor`] listing the tensors there are.
    pub fn tensor(&self, name: &str) -> Result<&Tensor, TensorFileError> {
        self.tensors
            .get(name)
            .ok_or_else(|| TensorFileError::MissingTensor {
                origin: self.origin.clone(),
                name: name.to_string(),
                available: self.names().map(str::to_string).collect(),
            })
    }

    /// Whether there is a tensor `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The tensor names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// The tensors with their names, in order.
    pub fn tensors(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.tensors.iter().map(|(name, t)| (name.as_str(), t))
    }

    /// The number of tensors.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether there are no tensors.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// Tensor `name` as an array of element type `T` and dimension `D` (`Ix1`, `Ix2`, ...,
    /// or `IxDyn` for any rank).
    ///
    /// Errors: [`MissingTensor`](TensorFileError::MissingTensor) (listing the tensors there
    /// are), [`ShapeMismatch`](TensorFileError::ShapeMismatch) if the stored rank is not
    /// `D`'s. Dtypes convert: `F32` → `f64` exactly, `F64` → `f32` rounded to nearest.
    pub fn get<T: Element, D: Dimension>(
        &self,
        name: &str,
    ) -> Result<Array<T, D>, TensorFileError> {
        let expected = D::NDIM.map(|n| vec![None; n]);
        self.get_checked(name, expected)
    }

    /// Like [`get`](Self::get), but the stored shape must be exactly `shape`, e.g.
    /// `get_with_shape::<f32, _>("W1", (d, h))`.
    pub fn get_with_shape<T: Element, Sh: IntoDimension>(
        &self,
        name: &str,
        shape: Sh,
    ) -> Result<Array<T, Sh::Dim>, TensorFileError> {
        let shape = shape.into_dimension();
        let expected = shape.slice().iter().map(|&d| Some(d)).collect();
        self.get_checked(name, Some(expected))
    }

    fn get_checked<T: Element, D: Dimension>(
        &self,
        name: &str,
        expected: Option<Vec<Option<usize>>>,
    ) -> Result<Array<T, D>, TensorFileError> {
        let tensor = self.tensor(name)?;
        let found = tensor.shape();
        if let Some(expected) = expected {
            let fits = expected.len() == found.len()
                && expected.iter().zip(found).all(|(e, &f)| match e {
                    Some(e) => *e == f,
                    None => true,
                });
            if !fits {
                return Err(TensorFileError::ShapeMismatch {
                    origin: self.origin.clone(),
                    name: name.to_string(),
                    expected,
                    found: found.to_vec(),
                    found_dtype: tensor.dtype(),
                });
            }
        }
        let array: ArrayD<T> = Array::from_shape_vec(IxDyn(found), tensor.to_vec())
            .expect("a tensor's length is the product of its shape");
        Ok(array
            .into_dimensionality::<D>()
            .expect("the rank was checked above"))
    }

    /// The string metadata (stored in the safetensors header's `__metadata__`).
    pub fn metadata(&self) -> &HashMap<String, String> {
        &self.metadata
    }

    /// The metadata, to change.
    pub fn metadata_mut(&mut self) -> &mut HashMap<String, String> {
        &mut self.metadata
    }

    /// Sets metadata `key` to `value`, returning the previous value.
    pub fn set_metadata(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Option<String> {
        self.metadata.insert(key.into(), value.into())
    }

    /// Metadata `key`, or [`TensorFileError::MissingMetadata`] listing the keys there are.
    pub fn require_metadata(&self, key: &str) -> Result<&str, TensorFileError> {
        self.metadata.get(key).map(String::as_str).ok_or_else(|| {
            let mut available: Vec<String> = self.metadata.keys().cloned().collect();
            available.sort();
            TensorFileError::MissingMetadata {
                origin: self.origin.clone(),
                key: key.to_string(),
                available,
            }
        })
    }
}
