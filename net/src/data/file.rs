//! Reading whole files into memory, gunzipping them, and finding a reader's files in a
//! directory.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::DataError;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether a file should be gunzipped: its name ends with `.gz` or its bytes start with the
/// gzip magic number (none of the formats read here can start with `0x1f 0x8b`).
fn is_gzip(path: &Path, bytes: &[u8]) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
        || bytes.starts_with(&GZIP_MAGIC)
}

/// Decompresses a whole gzip stream held in memory.
pub(crate) fn gunzip(
    format: &'static str,
    path: &Path,
    bytes: &[u8],
) -> Result<Vec<u8>, DataError> {
    // The gzip trailer's last four bytes hold the uncompressed size modulo 2^32: a good
    // capacity hint for the files read here (all far below 4 GiB). Capped so that a corrupt
    // trailer cannot make us reserve absurd amounts up front.
    let hint = match bytes
        .len()
        .checked_sub(4)
        .and_then(|start| bytes.get(start..))
    {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => 0,
    };
    let mut out = Vec::with_capacity(hint.min(bytes.len().saturating_mul(64)).min(1 << 30));
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|source| DataError::Gzip {
            format,
            path: path.to_path_buf(),
            source,
        })?;
    Ok(out)
}

/// Reads a whole file with one `read` loop and gunzips it if needed (see [`is_gzip`]).
pub(crate) fn read_bytes(format: &'static str, path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        format,
        path: path.to_path_buf(),
        source,
    })?;
    if is_gzip(path, &bytes) {
        gunzip(format, path, &bytes)
    } else {
        Ok(bytes)
    }
}

/// Checks that `dir` is a directory.
pub(crate) fn check_dir(format: &'static str, dir: &Path, expected: &str) -> Result<(), DataError> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(DataError::MissingDir {
            format,
            dir: dir.to_path_buf(),
            expected: expected.to_owned(),
        })
    }
}

/// Finds `name` in `dir`, plain or with `.gz` appended (the plain file wins if both exist).
pub(crate) fn find(
    format: &'static str,
    dir: &Path,
    name: &str,
    expected: &str,
) -> Result<PathBuf, DataError> {
    let plain = dir.join(name);
    if plain.is_file() {
        return Ok(plain);
    }
    let gz = dir.join(format!("{name}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    Err(DataError::MissingFile {
        format,
        dir: dir.to_path_buf(),
        name: name.to_owned(),
        expected: expected.to_owned(),
    })
}

/// The byte-to-`[0, 1]` table for 8-bit pixels: `i / 255` rounded once, as `f32`.
pub(crate) fn unit_lut() -> [f32; 256] {
    std::array::from_fn(|i| i as f32 / 255.0)
}

/// Scales 8-bit pixels to `[0, 1]` by dividing by 255, appending to `out`.
pub(crate) fn push_scaled(out: &mut Vec<f32>, pixels: &[u8], lut: &[f32; 256]) {
    out.extend(pixels.iter().map(|&b| lut[usize::from(b)]));
}
