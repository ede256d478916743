//! Named checks and the closing line.

use core::sync::atomic::{AtomicUsize, Ordering};

static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);

// `check` and the counters' reporting read alike: one branch per outcome.
/// Records and prints one named check.
pub fn check(name: &str, ok: bool) {
    if ok {
        PASSED.fetch_add(1, Ordering::SeqCst);
        crate::println!("ok   {name}");
    } else {
        FAILED.fetch_add(1, Ordering::SeqCst);
        crate::println!("FAIL {name}");
    }
}

/// Records and prints one named check with a detail.
pub fn check_with(name: &str, ok: bool, detail: core::fmt::Arguments<'_>) {
    if ok {
        PASSED.fetch_add(1, Ordering::SeqCst);
        crate::println!("ok   {name} ({detail})");
    } else {
        FAILED.fetch_add(1, Ordering::SeqCst);
        crate::println!("FAIL {name} ({detail})");
    }
}

/// Prints `N passed, N failed` and ends the run with the matching status.
pub fn finish() -> ! {
    let passed = PASSED.load(Ordering::SeqCst);
    let failed = FAILED.load(Ordering::SeqCst);
    crate::println!("{passed} passed, {failed} failed");
    crate::serial::exit(failed == 0 && passed > 0);
}
