//! Reading data files through a size limit, gunzipping them on the fly, and finding a
//! reader's files in a directory.
//!
//! Nothing is read whole on trust: [`DataFile`] reads only as many (decompressed) bytes as
//! its caller asks for, so that a reader asks for what a header announces (IDX), for one line
//! at a time (CSV), or for at most a documented limit, and a gzip bomb or an endless file
//! (`/dev/zero`) is refused after that much.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

use super::DataError;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An open data file, gunzipped as it is read when its name ends with `.gz` or its bytes
/// start with the gzip magic number (none of the formats read here can start with
/// `0x1f 0x8b`). Offsets count bytes of the decompressed stream.
pub(crate) struct DataFile {
    format: &'static str,
    path: PathBuf,
    gzip: bool,
    reader: Box<dyn BufRead>,
    offset: u64,
}

impl DataFile {
    /// Opens `path` (nothing is read beyond the first buffer).
    pub(crate) fn open(format: &'static str, path: &Path) -> Result<DataFile, DataError> {
        let io = |source| DataError::Io {
            format,
            path: path.to_path_buf(),
            source,
        };
        let mut file = BufReader::new(File::open(path).map_err(io)?);
        let named_gz = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        let gzip = named_gz || file.fill_buf().map_err(io)?.starts_with(&GZIP_MAGIC);
        Ok(DataFile::from_reader(format, path, file, gzip))
    }

    /// A data file read from `reader` (gunzipped if `gzip`), named `path` in messages.
    pub(crate) fn from_reader(
        format: &'static str,
        path: &Path,
        reader: impl BufRead + 'static,
        gzip: bool,
    ) -> DataFile {
        let reader: Box<dyn BufRead> = if gzip {
            Box::new(BufReader::new(MultiGzDecoder::new(reader)))
        } else {
            Box::new(reader)
        };
        DataFile {
            format,
            path: path.to_path_buf(),
            gzip,
            reader,
            offset: 0,
        }
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes read so far (of the decompressed stream).
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// A read error: [`DataError::Gzip`] for a gzipped file (its stream is broken),
    /// [`DataError::Io`] otherwise.
    fn error(&self, source: io::Error) -> DataError {
        let (format, path) = (self.format, self.path.clone());
        if self.gzip {
            DataError::Gzip {
                format,
                path,
                source,
            }
        } else {
            DataError::Io {
                format,
                path,
                source,
            }
        }
    }

    /// [`DataError::Malformed`] about this file.
    pub(crate) fn malformed(&self, detail: String) -> DataError {
        DataError::Malformed {
            format: self.format,
            path: self.path.clone(),
            detail,
        }
    }

    /// Appends up to `n` more bytes to `buf`; fewer only at the end of the file. Returns how
    /// many were read.
    pub(crate) fn read_up_to(&mut self, n: u64, buf: &mut Vec<u8>) -> Result<u64, DataError> {
        let read = (&mut self.reader)
            .take(n)
            .read_to_end(buf)
            .map_err(|e| self.error(e))? as u64;
        self.offset += read;
        Ok(read)
    }

    /// Replaces `buf` with the next line, newline included, reading at most `limit` bytes:
    /// `Ok(false)` at the end of the file, an error naming the line if it is longer.
    pub(crate) fn read_line(
        &mut self,
        line: usize,
        limit: u64,
        buf: &mut Vec<u8>,
    ) -> Result<bool, DataError> {
        buf.clear();
        let read = (&mut self.reader)
            .take(limit + 1)
            .read_until(b'\n', buf)
            .map_err(|e| self.error(e))? as u64;
        self.offset += read;
        if read > limit {
            return Err(self.malformed(format!(
                "line {line} is longer than {limit} bytes, the longest line read"
            )));
        }
        Ok(read > 0)
    }

    /// Counts the bytes left, reading at most `limit` of them: `Ok(Some(n))` for `n` bytes
    /// left, `Ok(None)` if there are more than `limit`. Reading to the end checks a gzip
    /// stream's checksum.
    pub(crate) fn count_rest(&mut self, limit: u64) -> Result<Option<u64>, DataError> {
        let n = io::copy(&mut (&mut self.reader).take(limit + 1), &mut io::sink())
            .map_err(|e| self.error(e))?;
        Ok((n <= limit).then_some(n))
    }
}

/// Reads a whole data file of at most `limit` bytes (after gunzipping); a larger one is
/// refused once `limit + 1` bytes have been read, saying why the limit is what it is.
pub(crate) fn read_bytes(
    format: &'static str,
    path: &Path,
    limit: u64,
    why: &str,
) -> Result<Vec<u8>, DataError> {
    let mut file = DataFile::open(format, path)?;
    let mut bytes = Vec::new();
    if file.read_up_to(limit + 1, &mut bytes)? > limit {
        return Err(file.malformed(format!(
            "it holds more than {limit} bytes{}, {why}",
            if file.gzip { " after gunzipping" } else { "" }
        )));
    }
    Ok(bytes)
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

/// The largest 8-bit pixel value: the image readers (CIFAR-10, IDX) divide by it to scale
/// pixels to `[0, 1]`.
pub(crate) const PIXEL_MAX: f32 = 255.0;

/// The byte-to-`[0, 1]` table for 8-bit pixels: `i / 255` rounded once, as `f32`.
pub(crate) fn unit_lut() -> [f32; 256] {
    std::array::from_fn(|i| i as f32 / PIXEL_MAX)
}

/// Scales 8-bit pixels to `[0, 1]` by dividing by 255, appending to `out`.
pub(crate) fn push_scaled(out: &mut Vec<f32>, pixels: &[u8], lut: &[f32; 256]) {
    out.extend(pixels.iter().map(|&b| lut[usize::from(b)]));
}
