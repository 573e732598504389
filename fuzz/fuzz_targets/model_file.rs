//! Fuzz target: see [`tapegrad_fuzz::replay::model_file`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tapegrad_fuzz::replay::model_file::run(data);
});
