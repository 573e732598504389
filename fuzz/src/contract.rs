//! The readers' contract as the fuzz targets check it: memory bounded by a small multiple of
//! what the input legitimately holds ([`bounded`]), and what "legitimately" means for gzipped
//! files ([`file_budget`]).
//!
//! **The bound.** Peak heap bytes held while a reader runs (its result included) must stay
//! within `BYTES_PER_BUDGET_BYTE * budget + FIXED_BYTES`. `BYTES_PER_BUDGET_BYTE` = 32: a
//! reader holds the file's bytes (1x), the features as `f32` (4x per pixel byte), labels as
//! `usize` (8x per label byte), a vector's doubling growth (2x) and a split's copy; 32 leaves
//! room for all of these at once and still catches anything that grows with a number read
//! from the file rather than with the file. `FIXED_BYTES` = 256 KiB: the inflater's window
//! and state, paths and messages.
//!
//! **Known bugs.** What an `Ok` promises (usable data, finite weights) is checked too, unless
//! the environment variable `TAPEGRAD_FUZZ_CORE_ONLY` is set ([`checking_results`]): then only
//! panics and the memory bound count, so that a campaign can hunt past an already-recorded
//! result bug that would otherwise end most fuzzing jobs within seconds.
//!
//! **The budget** of a file is its length, plus for a gzipped file (by name or by magic
//! number, as the readers decide) the bytes it inflates to, but for formats whose header
//! announces the data size (IDX) at most the header plus what it announces: a stream that
//! inflates past that must be cut off, not inflated whole.

use std::io::Read;
use std::sync::OnceLock;

use flate2::read::MultiGzDecoder;

use crate::alloc_meter;

/// Heap bytes a reader may hold per budget byte (K).
pub const BYTES_PER_BUDGET_BYTE: usize = 32;

/// Heap bytes a reader may hold whatever its input (C).
pub const FIXED_BYTES: usize = 256 * 1024;

/// The most heap bytes a reader may hold for a budget of `budget` bytes.
pub fn bound(budget: usize) -> usize {
    budget
        .saturating_mul(BYTES_PER_BUDGET_BYTE)
        .saturating_add(FIXED_BYTES)
}

/// Runs `read`, and panics (a fuzzer crash) if the heap it held at its peak, result included,
/// exceeds [`bound`]`(budget)`.
pub fn bounded<R>(what: &str, budget: usize, read: impl FnOnce() -> R) -> R {
    let baseline = alloc_meter::start();
    let result = read();
    let peak = alloc_meter::peak_since(baseline);
    let limit = bound(budget);
    assert!(
        peak <= limit,
        "{what}: held {peak} heap bytes at its peak, more than the bound {limit} \
         ({BYTES_PER_BUDGET_BYTE} x {budget} budget bytes + {FIXED_BYTES})"
    );
    result
}

/// Whether to check what an `Ok` result promises: unless `TAPEGRAD_FUZZ_CORE_ONLY` is set.
pub fn checking_results() -> bool {
    static CHECKING: OnceLock<bool> = OnceLock::new();
    *CHECKING.get_or_init(|| std::env::var_os("TAPEGRAD_FUZZ_CORE_ONLY").is_none())
}

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Bytes the harness inflates at most when sizing a budget (fuzz inputs are far smaller).
const INFLATE_CAP: u64 = 1 << 30;

/// How many bytes a gzip stream inflates to before it ends or fails (as the readers'
/// `read_to_end` sees it), and its first `keep` inflated bytes.
fn inflate(bytes: &[u8], keep: usize) -> (usize, Vec<u8>) {
    let mut decoder = MultiGzDecoder::new(bytes).take(INFLATE_CAP);
    let mut buf = [0u8; 8192];
    let (mut total, mut head) = (0usize, Vec::new());
    loop {
        match decoder.read(&mut buf) {
            Ok(0) | Err(_) => return (total, head),
            Ok(n) => {
                let want = keep.saturating_sub(head.len()).min(n);
                head.extend_from_slice(&buf[..want]);
                total += n;
            }
        }
    }
}

/// The budget of one file (see the module docs): `bytes.len()`, plus for a gzipped file the
/// inflated size, capped by `allowed(first inflated bytes)` for formats with a size header
/// (`usize::MAX` for those without). `named_gz`: the file's name ends with `.gz`.
pub fn file_budget(bytes: &[u8], named_gz: bool, allowed: impl Fn(&[u8]) -> usize) -> usize {
    if !(named_gz || bytes.starts_with(&GZIP_MAGIC)) {
        return bytes.len();
    }
    let (inflated, head) = inflate(bytes, 64);
    bytes.len().saturating_add(inflated.min(allowed(&head)))
}

/// No size header: a gzipped file may inflate to any size.
pub fn no_header(_head: &[u8]) -> usize {
    usize::MAX
}

/// The size an IDX file of unsigned bytes with magic number `magic` announces: its header
/// plus the product of its dimensions (just the header if the magic number is wrong or the
/// header is cut short).
pub fn idx_announced(magic: u32, head: &[u8]) -> usize {
    let ndims = (magic & 0xff) as usize;
    let header = 4 + 4 * ndims;
    let be32 = |at: usize| {
        head.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    if be32(0) != Some(magic as usize) {
        return header;
    }
    let dims: Option<Vec<usize>> = (0..ndims).map(|d| be32(4 + 4 * d)).collect();
    match dims {
        Some(dims) => dims
            .iter()
            .fold(1usize, |acc, &d| acc.saturating_mul(d))
            .saturating_add(header),
        None => header,
    }
}
