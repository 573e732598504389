//! [`Tensor`] and [`Dtype`]: one named entry of a tensor file, and its little-endian bytes.

use std::borrow::Cow;
use std::fmt;

use ndarray::{ArrayView, Dimension};
use safetensors::tensor::View;
use tapegrad_autograd::Element;

/// The element type of a stored tensor. Only `F32` and `F64` are supported (what the tape
/// computes in); other safetensors dtypes are refused when a file is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// IEEE 754 single precision, 4 little-endian bytes per element.
    F32,
    /// IEEE 754 double precision, 8 little-endian bytes per element.
    F64,
}

impl Dtype {
    /// The dtype that stores elements of type `T`: [`Dtype::F32`] for `f32`, [`Dtype::F64`]
    /// for `f64` (and for any other [`Element`], which is then widened to `f64`).
    pub fn of<T: Element>() -> Dtype {
        if T::NAME == "f32" {
            Dtype::F32
        } else {
            Dtype::F64
        }
    }

    /// Bytes per element: 4 or 8.
    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }

    pub(crate) fn to_safetensors(self) -> safetensors::Dtype {
        match self {
            Dtype::F32 => safetensors::Dtype::F32,
            Dtype::F64 => safetensors::Dtype::F64,
        }
    }

    pub(crate) fn from_safetensors(dtype: safetensors::Dtype) -> Option<Dtype> {
        match dtype {
            safetensors::Dtype::F32 => Some(Dtype::F32),
            safetensors::Dtype::F64 => Some(Dtype::F64),
            _ => None,
        }
    }
}

/// Spelled as in safetensors headers and error messages: `F32`, `F64`.
impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dtype::F32 => "F32",
            Dtype::F64 => "F64",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Data {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// One stored tensor: a [`Dtype`], a shape and its elements in row-major (C) order.
///
/// `PartialEq` compares dtype, shape and values with float semantics (`NaN != NaN`).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Data,
}

impl Tensor {
    /// Copies an array of any layout, in logical row-major order, keeping its element type.
    pub fn from_array<T: Element, D: Dimension>(array: ArrayView<'_, T, D>) -> Tensor {
        let shape = array.shape().to_vec();
        // `as_f64` is exact, and so is narrowing an `f32`'s own `f64` image back to `f32`.
        let data = match Dtype::of::<T>() {
            Dtype::F32 => Data::F32(array.iter().map(|x| x.as_f64() as f32).collect()),
            Dtype::F64 => Data::F64(array.iter().map(|x| x.as_f64()).collect()),
        };
        Tensor { shape, data }
    }

    /// Parses little-endian bytes. `None` if `bytes` is not `shape`'s element count times
    /// the dtype's size.
    pub(crate) fn from_le_bytes(dtype: Dtype, shape: Vec<usize>, bytes: &[u8]) -> Option<Tensor> {
        let n = shape.iter().try_fold(1usize, |a, &b| a.checked_mul(b))?;
        if n.checked_mul(dtype.size())? != bytes.len() {
            return None;
        }
        let data = match dtype {
            Dtype::F32 => Data::F32(
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4-byte chunk")))
                    .collect(),
            ),
            Dtype::F64 => Data::F64(
                bytes
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8-byte chunk")))
                    .collect(),
            ),
        };
        Some(Tensor { shape, data })
    }

    /// The elements as little-endian bytes, as safetensors stores them.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        match &self.data {
            Data::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Data::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    /// The stored element type.
    pub fn dtype(&self) -> Dtype {
        match self.data {
            Data::F32(_) => Dtype::F32,
            Data::F64(_) => Dtype::F64,
        }
    }

    /// The shape (empty for a scalar).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.len(),
            Data::F64(v) => v.len(),
        }
    }

    /// Whether the tensor has no elements (some dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements in row-major order, converted to `T`: exact when the stored dtype is
    /// `T`'s or narrower (`F32` → `f64`), rounded to nearest when narrowing (`F64` → `f32`).
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        match &self.data {
            Data::F32(v) => v.iter().map(|&x| T::cast(f64::from(x))).collect(),
            Data::F64(v) => v.iter().map(|&x| T::cast(x)).collect(),
        }
    }
}

/// Lets `safetensors::serialize` write a tensor without an intermediate copy type.
impl View for &Tensor {
    fn dtype(&self) -> safetensors::Dtype {
        Tensor::dtype(self).to_safetensors()
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.to_le_bytes())
    }

    fn data_len(&self) -> usize {
        self.len() * Tensor::dtype(self).size()
    }
}
