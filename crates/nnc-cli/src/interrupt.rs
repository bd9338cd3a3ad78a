//! Ctrl-C while training: the first press stops training after the current step, so the
//! report and `--save` cover the epochs done (nothing trained so far is lost); a second
//! press ends nnc at once.

use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_CODE: u8 = 130;

static FLAG: AtomicU32 = AtomicU32::new(0);

/// The flag compiled training loops poll, with the Ctrl-C handler that sets it installed.
pub fn flag() -> &'static AtomicU32 {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Without a handler (another one is installed) Ctrl-C keeps its default meaning.
        let _ = ctrlc::set_handler(|| {
            if FLAG.swap(1, Ordering::SeqCst) != 0 {
                std::process::exit(i32::from(EXIT_CODE));
            }
        });
    });
    &FLAG
}
