//! Saving (atomically) and loading tensor files, and their byte form.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use safetensors::{SafeTensorError, SafeTensors};

use crate::limits::MAX_MODEL_DATA_BYTES;

use super::{Dtype, Origin, Tensor, TensorFile, TensorFileError};
use crate::atomic_write;

/// The largest header the safetensors crate accepts.
const MAX_HEADER_LEN: u64 = 100_000_000;

impl TensorFile {
    /// The tensor file in safetensors form, as [`save`](Self::save) writes it.
    ///
    /// Fails only on an invalid tensor name ([`TensorFileError::InvalidName`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>, TensorFileError> {
        for name in self.tensors.keys() {
            let reason = match name.as_str() {
                "" => "tensor names must not be empty",
                "__metadata__" => "safetensors reserves it for the metadata",
                _ => continue,
            };
            return Err(TensorFileError::InvalidName {
                origin: self.origin.clone(),
                name: name.clone(),
                reason,
            });
        }
        let body = safetensors::serialize(self.tensors.iter(), None).map_err(|source| {
            TensorFileError::NotSafetensors {
                origin: self.origin.clone(),
                source,
            }
        })?;
        Ok(splice_metadata(body, &self.metadata))
    }

    /// Parses a tensor file from safetensors bytes; error messages call it `tensor file`.
    pub fn from_bytes(bytes: &[u8]) -> Result<TensorFile, TensorFileError> {
        parse(bytes, Origin::Memory)
    }

    /// Reads the model file at `path`.
    ///
    /// Errors name the file: [`NotFound`](TensorFileError::NotFound),
    /// [`Read`](TensorFileError::Read), [`NotSafetensors`](TensorFileError::NotSafetensors),
    /// [`Truncated`](TensorFileError::Truncated),
    /// [`UnsupportedDtype`](TensorFileError::UnsupportedDtype). The tensor file remembers
    /// `path`, and later errors (a missing tensor, a wrong shape) name it too.
    pub fn load(path: impl AsRef<Path>) -> Result<TensorFile, TensorFileError> {
        let path = path.as_ref();
        let io_error = |source: io::Error| match source.kind() {
            io::ErrorKind::NotFound => TensorFileError::NotFound {
                path: path.to_path_buf(),
            },
            _ => TensorFileError::Read {
                path: path.to_path_buf(),
                source,
            },
        };
        let origin = Origin::File(path.to_path_buf());
        let file = File::open(path).map_err(io_error)?;
        let bytes = read_announced(file, &origin, io_error)?;
        parse(&bytes, origin)
    }

    /// Writes the tensor file to `path` with [`atomic_write::write_atomic`]: to a temporary
    /// file in the same directory, `fsync`ed, then renamed over `path` (see the
    /// [module docs](super)).
    ///
    /// On error ([`TensorFileError::Write`], naming `path`, the failed step and the cause:
    /// a missing or read-only directory, a full disk, `path` being a directory, ...) the
    /// temporary file is removed and an existing file at `path` is untouched.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), TensorFileError> {
        self.save_inner(path.as_ref(), None)
    }

    /// Test hook, not part of the API: like [`save`](Self::save), but writing the temporary
    /// file fails with an I/O error after `after_bytes` bytes, as on a full disk.
    #[doc(hidden)]
    pub fn save_interrupted(
        &self,
        path: impl AsRef<Path>,
        after_bytes: usize,
    ) -> Result<(), TensorFileError> {
        self.save_inner(path.as_ref(), Some(after_bytes))
    }

    fn save_inner(&self, path: &Path, fail_after: Option<usize>) -> Result<(), TensorFileError> {
        let bytes = self.to_bytes()?;
        let written = match fail_after {
            None => atomic_write::write_atomic(path, &bytes),
            Some(n) => atomic_write::write_atomic_interrupted(path, &bytes, n),
        };
        written.map_err(|e| TensorFileError::Write {
            path: e.path,
            action: e.step,
            source: e.source,
        })
    }
}

/// Adds `"__metadata__": {...}` with *sorted* keys to the header of `body` (safetensors bytes
/// without metadata), where `safetensors::serialize` would put it. The crate takes the
/// metadata as a `HashMap` and writes it in its random iteration order; sorting makes equal
/// tensor files give identical files.
fn splice_metadata(body: Vec<u8>, metadata: &HashMap<String, String>) -> Vec<u8> {
    if metadata.is_empty() {
        return body;
    }
    let header_len = u64::from_le_bytes(body[..8].try_into().expect("8 bytes")) as usize;
    let tensors_header = std::str::from_utf8(&body[8..8 + header_len])
        .expect("serde_json writes UTF-8")
        .trim_end();
    // `{"W1":{...},...}` without its `{`, or `}` when there are no tensors.
    let rest = tensors_header
        .strip_prefix('{')
        .expect("the header is a JSON object");
    let sorted: BTreeMap<&str, &str> = metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut header = String::from("{\"__metadata__\":");
    header.push_str(&serde_json::to_string(&sorted).expect("a string map is JSON"));
    if rest != "}" {
        header.push(',');
    }
    header.push_str(rest);
    let padding = (8 - header.len() % 8) % 8;
    header.push_str(&" ".repeat(padding));
    let data = &body[8 + header_len..];
    let mut bytes = Vec::with_capacity(8 + header.len() + data.len());
    bytes.extend((header.len() as u64).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

/// Reads a safetensors file only as far as its own header announces: the 8-byte header
/// length, the header (at most [`MAX_HEADER_LEN`] bytes), the tensor data its offsets reach
/// (at most [`MAX_MODEL_DATA_BYTES`]), and one byte more so that [`parse`] sees trailing
/// bytes. An endless or huge file (`/dev/zero`, a disk image) therefore costs at most what
/// a valid header allows; a file that is not safetensors stops after its first bytes.
fn read_announced(
    file: impl Read,
    origin: &Origin,
    io_error: impl Fn(io::Error) -> TensorFileError,
) -> Result<Vec<u8>, TensorFileError> {
    let mut reader = io::BufReader::new(file);
    let mut bytes = Vec::new();
    let mut read =
        |bytes: &mut Vec<u8>, n: u64| (&mut reader).take(n).read_to_end(bytes).map_err(&io_error);
    read(&mut bytes, 8)?;
    let Some(header_len) = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    else {
        return Ok(bytes); // too short: `parse` says so
    };
    if header_len > MAX_HEADER_LEN {
        return Ok(bytes); // `parse` reports the header length
    }
    read(&mut bytes, header_len)?;
    let announced = bytes.get(8..).and_then(announced_data_len).unwrap_or(0);
    if announced > MAX_MODEL_DATA_BYTES {
        return Err(TensorFileError::TooLarge {
            origin: origin.clone(),
            announced,
            limit: MAX_MODEL_DATA_BYTES,
        });
    }
    read(&mut bytes, announced + 1)?;
    Ok(bytes)
}

/// The length of the data section a safetensors header (the JSON, without the length
/// prefix) announces: the largest end offset of its tensors. `None` if it is not JSON.
fn announced_data_len(header: &[u8]) -> Option<u64> {
    let header: serde_json::Value = serde_json::from_slice(header).ok()?;
    Some(
        header
            .as_object()?
            .iter()
            .filter(|(name, _)| name.as_str() != "__metadata__")
            .filter_map(|(_, info)| info.get("data_offsets")?.get(1)?.as_u64())
            .max()
            .unwrap_or(0),
    )
}

fn parse(bytes: &[u8], origin: Origin) -> Result<TensorFile, TensorFileError> {
    if let Some(needed) = truncated_length(bytes) {
        return Err(TensorFileError::Truncated {
            origin,
            len: bytes.len() as u64,
            needed,
        });
    }
    let (header_len, header) =
        SafeTensors::read_metadata(bytes).map_err(|source| TensorFileError::NotSafetensors {
            origin: origin.clone(),
            source,
        })?;
    let data = &bytes[8 + header_len..];
    let mut tensors = BTreeMap::new();
    for name in header.offset_keys() {
        let info = header
            .info(&name)
            .expect("offset_keys lists the header's tensors");
        let Some(dtype) = Dtype::from_safetensors(info.dtype) else {
            return Err(TensorFileError::UnsupportedDtype {
                origin,
                name,
                dtype: info.dtype.to_string(),
            });
        };
        let (begin, end) = info.data_offsets;
        // `read_metadata` validated offsets and sizes; check again rather than panic.
        let tensor = data
            .get(begin..end)
            .and_then(|raw| Tensor::from_le_bytes(dtype, info.shape.clone(), raw))
            .ok_or_else(|| TensorFileError::NotSafetensors {
                origin: origin.clone(),
                source: SafeTensorError::InvalidOffset(name.clone()),
            })?;
        tensors.insert(name, tensor);
    }
    let metadata: HashMap<String, String> = header.metadata().clone().unwrap_or_default();
    Ok(TensorFile {
        tensors,
        metadata,
        origin,
    })
}

/// `Some(length the file should have)` if `bytes` look like the start of a safetensors file
/// cut short: a plausible header length and `{`, but the header or the data its offsets
/// announce runs past the end. `None` if complete or not safetensors-like (the parser then
/// says what is wrong).
fn truncated_length(bytes: &[u8]) -> Option<u64> {
    let len = bytes.len() as u64;
    let header_len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    if header_len > MAX_HEADER_LEN || bytes.get(8) != Some(&b'{') {
        return None;
    }
    let data_start = 8 + header_len;
    if data_start > len {
        return Some(data_start);
    }
    let data_len = announced_data_len(&bytes[8..data_start as usize])?;
    let needed = data_start.checked_add(data_len)?;
    (needed > len).then_some(needed)
}
