//! Fuzz target: see [`tapegrad_fuzz::replay::idx`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tapegrad_fuzz::replay::idx::run_plain(data);
});
