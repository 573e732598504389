//! Ctrl-C during training: the first asks the run to stop after its current step (it then
//! saves and says how to resume); a second one ends the process at once, with exit code 130.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::failure::INTERRUPTED;

/// Whether Ctrl-C was pressed, set from the signal handler's thread.
#[derive(Debug, Clone)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Catches Ctrl-C (SIGINT) for the rest of the process. If the handler cannot be set,
    /// Ctrl-C keeps its default effect (the process ends) and this never reports one.
    pub fn catch() -> Interrupt {
        let flag = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&flag);
        let _ = ctrlc::set_handler(move || {
            if seen.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(INTERRUPTED));
            }
        });
        Interrupt(flag)
    }

    /// Whether Ctrl-C was pressed.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
