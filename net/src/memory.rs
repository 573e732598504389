//! How much memory training a net needs ([`NetShape::training_bytes`]) and how much the
//! process may use ([`MemoryLimit::of_this_process`]), so that a net too large to train is
//! refused before anything is allocated.

use std::fmt;

/// The sizes that fix a net's memory: inputs `d`, each hidden layer's units, classes `c`, and
/// the examples of one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetShape {
    /// Inputs `d`.
    pub inputs: usize,
    /// Hidden units of each hidden layer (`[h]` for the document's net).
    pub hidden: Vec<usize>,
    /// Classes `c`.
    pub classes: usize,
    /// Examples per batch (at most the training set's size).
    pub batch: usize,
}

/// Parameter-sized arrays that training holds besides the optimizer's buffers: the net, the
/// best net so far, the gradients, and the tape's copies of them.
const PARAMETER_COPIES: u64 = 4;

/// Batch-sized arrays per hidden unit and per class (forward values and their gradients).
const ACTIVATION_COPIES: u64 = 4;

impl NetShape {
    /// The number of parameters, `Σ_l (in_l · out_l + out_l)` (`d·h + h + h·c + c` for the
    /// document's net); `None` if it overflows `u64`.
    pub fn parameters(&self) -> Option<u64> {
        let sizes: Vec<u64> = std::iter::once(self.inputs)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(self.classes))
            .map(|s| s as u64)
            .collect();
        sizes.windows(2).try_fold(0u64, |sum, io| {
            sum.checked_add(io[0].checked_mul(io[1])?.checked_add(io[1])?)
        })
    }

    /// An estimate (from above, for `f32`) of the bytes training needs: the parameters times
    /// 4 plus the optimizer's `buffers` per parameter (0 for SGD, 1 for momentum, 2 for
    /// Adam), plus a batch's inputs and 4 copies of its hidden and class activations.
    /// `None` if it overflows `u64`.
    pub fn training_bytes(&self, buffers: u64) -> Option<u64> {
        let params = self.parameters()?;
        let h = self
            .hidden
            .iter()
            .try_fold(0u64, |sum, &h| sum.checked_add(h as u64))?;
        let (d, c, n) = (self.inputs as u64, self.classes as u64, self.batch as u64);
        let per_example = d
            .checked_add(ACTIVATION_COPIES.checked_mul(h)?)?
            .checked_add(ACTIVATION_COPIES.checked_mul(c)?)?;
        let floats = params
            .checked_mul(PARAMETER_COPIES + buffers)?
            .checked_add(n.checked_mul(per_example)?)?;
        floats.checked_mul(4)
    }
}

impl fmt::Display for NetShape {
    /// `64 inputs, 100 hidden units, 10 classes, batches of 32` (`512,256 hidden units` for
    /// two hidden layers).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden: Vec<String> = self.hidden.iter().map(usize::to_string).collect();
        write!(
            f,
            "{} inputs, {} hidden units, {} classes, batches of {}",
            self.inputs,
            hidden.join(","),
            self.classes,
            self.batch
        )
    }
}

/// The memory a net may use, and where that figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimit {
    /// Bytes.
    pub bytes: u64,
    /// Where the figure comes from, for messages (`"this machine's memory"`, ...).
    pub source: &'static str,
}

/// The limit when the machine's memory cannot be read (not Linux): 16 GiB.
pub const FALLBACK_MEMORY_BYTES: u64 = 16 << 30;

impl MemoryLimit {
    /// The process's limit: the machine's physical memory (`MemTotal` of `/proc/meminfo`),
    /// or the process's address-space limit (`ulimit -v`, from `/proc/self/limits`) if that
    /// is lower; [`FALLBACK_MEMORY_BYTES`] where neither can be read.
    pub fn of_this_process() -> MemoryLimit {
        let total = read_proc("/proc/meminfo", "MemTotal:").map(|kb| MemoryLimit {
            bytes: kb.saturating_mul(1024),
            source: "this machine's memory",
        });
        let address_space =
            read_proc("/proc/self/limits", "Max address space").map(|bytes| MemoryLimit {
                bytes,
                source: "the process's address-space limit (ulimit -v)",
            });
        match (total, address_space) {
            (Some(t), Some(a)) if a.bytes < t.bytes => a,
            (Some(t), _) => t,
            (None, Some(a)) => a,
            (None, None) => MemoryLimit {
                bytes: FALLBACK_MEMORY_BYTES,
                source: "the fixed limit for machines whose memory is unknown",
            },
        }
    }

    /// Whether `bytes` (`None`: more than `u64` holds) fit.
    pub fn fits(&self, bytes: Option<u64>) -> bool {
        bytes.is_some_and(|b| b <= self.bytes)
    }
}

impl fmt::Display for MemoryLimit {
    /// `23.5 GiB (this machine's memory)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", human_bytes(Some(self.bytes)), self.source)
    }
}

/// `1.5 GiB`, `12.0 MiB`, `512 bytes`; `None` (overflowed) is "more than 16 EiB".
pub fn human_bytes(bytes: Option<u64>) -> String {
    let Some(b) = bytes else {
        return "more than 16 EiB".to_owned();
    };
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = b as f64;
    if value < 1024.0 {
        return format!("{b} bytes");
    }
    let mut unit = "bytes";
    for u in units {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

/// An estimate for messages: `about 1.5 GiB`, or `more than 16 EiB` when it overflowed.
pub fn about(bytes: Option<u64>) -> String {
    match bytes {
        Some(_) => format!("about {}", human_bytes(bytes)),
        None => human_bytes(None),
    }
}

/// The first number after `key` on the line of `file` that starts with `key` (`unlimited`
/// and unreadable files give `None`).
fn read_proc(file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_count_weights_and_biases_and_overflow_is_none() {
        let s = NetShape {
            inputs: 64,
            hidden: vec![100],
            classes: 10,
            batch: 32,
        };
        assert_eq!(s.parameters(), Some(64 * 100 + 100 + 100 * 10 + 10));
        let deep = NetShape {
            hidden: vec![100, 50],
            ..s.clone()
        };
        assert_eq!(
            deep.parameters(),
            Some(64 * 100 + 100 + 100 * 50 + 50 + 50 * 10 + 10)
        );
        let huge = NetShape {
            hidden: vec![usize::MAX],
            ..s
        };
        assert_eq!(huge.parameters(), None);
        assert_eq!(huge.training_bytes(2), None);
        assert!(!MemoryLimit::of_this_process().fits(huge.training_bytes(2)));
    }

    #[test]
    fn human_bytes_picks_a_readable_unit() {
        assert_eq!(human_bytes(Some(512)), "512 bytes");
        assert_eq!(human_bytes(Some(3 << 30)), "3.0 GiB");
        assert_eq!(human_bytes(None), "more than 16 EiB");
    }
}
