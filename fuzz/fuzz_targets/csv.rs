//! CSV bytes through the data loader, as each kind of data block reads them, and through
//! `predict`'s encoding of new rows.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    nnc_fuzz::load_csv(data);
});
