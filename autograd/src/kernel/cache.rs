//! The size of this CPU's L2 cache, which bounds how many columns of B are packed at once.
//!
//! The micro-kernel streams the packed block of B from L2 for every panel of A, so the block
//! should fill at most half of it (the other half holds A's panels, C's tiles and what the
//! caller is using). L2 sizes differ a lot between the machines this runs on (2 MiB per core on
//! Sapphire Rapids, 1 MiB on Skylake-SP and Zen 4, 512 KiB on Zen 2 and 3), so the size is
//! read at run time, once, as BLIS and the gemm crate do.

use std::sync::OnceLock;

/// Assumed when the system does not say (the smallest L2 of the machines above).
const FALLBACK_BYTES: usize = 512 << 10;

/// Bytes of L2 cache per core, from Linux's description of CPU 0's caches; 512 KiB elsewhere.
pub(crate) fn l2_bytes() -> usize {
    static L2: OnceLock<usize> = OnceLock::new();
    *L2.get_or_init(|| from_sysfs().unwrap_or(FALLBACK_BYTES))
}

/// The size of the level-2 data or unified cache in `/sys/devices/system/cpu/cpu0/cache`.
fn from_sysfs() -> Option<usize> {
    let root = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    (0..8).find_map(|i| {
        let read = |file: &str| std::fs::read_to_string(root.join(format!("index{i}/{file}")));
        let (level, kind, size) = (read("level").ok()?, read("type").ok()?, read("size").ok()?);
        (level.trim() == "2" && kind.trim() != "Instruction")
            .then(|| parse_size(size.trim()))
            .flatten()
    })
}

/// `"2048K"`, `"1M"` or a plain number of bytes, as sysfs writes a cache's size.
fn parse_size(text: &str) -> Option<usize> {
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let scale = match unit {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        _ => return None,
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|&bytes| bytes > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_sysfs_notation_parse_to_bytes() {
        assert_eq!(parse_size("2048K"), Some(2 << 20));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("524288"), Some(512 << 10));
        assert_eq!(parse_size("0K"), None);
        assert_eq!(parse_size("12Q"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("K"), None);
    }

    #[test]
    fn the_l2_size_is_positive_and_stable() {
        assert!(l2_bytes() >= 64 << 10);
        assert_eq!(l2_bytes(), l2_bytes());
    }
}
