//! The specification the net implements, `docs/two-layer-net-gradients.md`, as written (its
//! first-layer formulas have index slips: see [`crate::per_example`] and the README's "Notes on
//! the derivation").
#![doc = include_str!("../../docs/two-layer-net-gradients.md")]
// The document writes `[y_i]` (an indicator), which rustdoc would take for a link.
#![allow(rustdoc::broken_intra_doc_links)]
