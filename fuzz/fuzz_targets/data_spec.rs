//! Fuzz target: see [`tapegrad_fuzz::replay::data_spec`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tapegrad_fuzz::replay::data_spec::run(data);
});
