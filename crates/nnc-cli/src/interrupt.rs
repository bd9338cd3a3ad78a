//! Ctrl-C while training: the first press stops the block being run after its current
//! step (a `train` block's report and `--save` cover the epochs done, so nothing trained
//! is lost) and skips the blocks after it; a second press ends nnc at once, after removing
//! any file half-written (`nnc_driver::write_atomically`).

use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_CODE: u8 = 130;

/// Polled by compiled training loops and descents; the driver clears it when a run ends.
static FLAG: AtomicU32 = AtomicU32::new(0);
/// Presses since nnc started: the flag is per run, the second press is per process.
static PRESSES: AtomicU32 = AtomicU32::new(0);

/// The flag compiled training loops poll, with the Ctrl-C handler that sets it installed.
pub fn flag() -> &'static AtomicU32 {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Without a handler (another one is installed) Ctrl-C keeps its default meaning.
        let _ = ctrlc::set_handler(|| {
            FLAG.store(1, Ordering::SeqCst);
            if PRESSES.fetch_add(1, Ordering::SeqCst) > 0 {
                nnc_driver::remove_partial_files();
                std::process::exit(i32::from(EXIT_CODE));
            }
        });
    });
    &FLAG
}
