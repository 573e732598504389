//! Fuzz target: see [`tapegrad_fuzz::replay::csv`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tapegrad_fuzz::replay::csv::run(data);
});
