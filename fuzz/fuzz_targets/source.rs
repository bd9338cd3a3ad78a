//! Source text through the whole compiler and a two-epoch run.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(source) = std::str::from_utf8(data) {
        nnc_fuzz::compile_and_run(source);
    }
});
