//! How one fuzz input becomes several files: a leading byte for the target to use, then
//! sections, each but the last prefixed by its length (`u16`, little-endian, cut short at
//! the end of the input); the last section is the rest.

/// The leading byte and `n` sections of `data` (missing ones empty).
pub fn split(data: &[u8], n: usize) -> (u8, Vec<&[u8]>) {
    let (first, mut rest) = match data.split_first() {
        Some((&first, rest)) => (first, rest),
        None => (0, data),
    };
    let mut sections = Vec::with_capacity(n);
    for _ in 1..n {
        let len = match rest {
            [a, b, tail @ ..] => {
                rest = tail;
                usize::from(u16::from_le_bytes([*a, *b]))
            }
            _ => {
                rest = &[];
                0
            }
        };
        let (section, tail) = rest.split_at(len.min(rest.len()));
        sections.push(section);
        rest = tail;
    }
    sections.push(rest);
    (first, sections)
}

/// The inverse of [`split`]: `first`, then the sections framed. Panics if a section but the
/// last is longer than `u16::MAX` (only the corpus generator frames inputs).
pub fn join(first: u8, sections: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![first];
    if let Some((last, init)) = sections.split_last() {
        for s in init {
            let len = u16::try_from(s.len()).expect("a framed section is at most 65535 bytes");
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(s);
        }
        out.extend_from_slice(last);
    }
    out
}
