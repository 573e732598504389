//! Fuzz target: see [`tapegrad_fuzz::replay::run_state`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tapegrad_fuzz::replay::run_state::run(data);
});
