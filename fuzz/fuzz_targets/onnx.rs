//! ONNX export round trips: any weights an example can hold, exported, run by tract, and
//! compared with nnc's own predictions.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    nnc_fuzz::onnx_round_trip(data);
});
