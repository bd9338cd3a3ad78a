//! Weight files through `--load` and `predict`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    nnc_fuzz::use_weights(data);
});
