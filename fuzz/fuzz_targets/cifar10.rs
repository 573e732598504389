//! Fuzz target: see [`tapegrad_fuzz::replay::cifar10`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tapegrad_fuzz::replay::cifar10::run(data);
});
