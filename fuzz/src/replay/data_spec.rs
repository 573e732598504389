//! The `--data` spec parser: `DataSpec::from_str` on the input as text.
//!
//! Checks that parsing never panics, stays within the memory bound, and that an accepted
//! spec prints (`Display`) as text that parses back to the same spec. It does not load what
//! the spec names (no files are opened, no spiral is generated).

use tapegrad_net::data::DataSpec;

use crate::contract::bounded;

/// Replays one input; returns whether the reader accepted it (see the module docs).
pub fn run(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let parsed = bounded("data spec", data.len(), || text.parse::<DataSpec>());
    let Ok(spec) = parsed else {
        return false;
    };
    let shown = spec.to_string();
    let again = shown.parse::<DataSpec>();
    assert!(
        again.as_ref().is_ok_and(|again| *again == spec),
        "data spec {text:?} parses to {spec:?}, shown as {shown:?}, which parses to {again:?}"
    );
    true
}
