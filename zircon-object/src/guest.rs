//! The object layer's HAL-generic unit tests, for an embedder to run on its own
//! machine (built with the `guest-tests` feature).
//!
//! The same tests run on the host over three HALs (`cargo test`); here they run
//! over the HAL the embedder passes, with its own way of touching user memory, so
//! that a kernel can prove the objects on its real MMU. A failing test panics, as
//! under `cargo test`.

use alloc::sync::Arc;
use kernel_hal::{Hal, MMUFlags, PageTable, VirtAddr};
use spin::Mutex;

/// How the embedder performs a user access of kind `access` at `vaddr` in the
/// address space `pt`, the way its CPU would: try it, and on a fault deliver the
/// fault to `pt`'s fault handler and try once more. Returns whether the access
/// succeeded.
pub type TouchFn = fn(pt: &dyn PageTable, vaddr: VirtAddr, access: MMUFlags) -> bool;

/// The machine of the run in progress. A global because the tests' bodies take no
/// machine argument; only [`run`] sets it, and it runs the tests one at a time.
static MACHINE: Mutex<Option<Machine>> = Mutex::new(None);

/// The HAL of a run and its way of touching memory.
type Machine = (Arc<dyn Hal>, Option<TouchFn>);

pub(crate) fn hal() -> Arc<dyn Hal> {
    MACHINE
        .lock()
        .as_ref()
        .map(|(hal, _)| hal.clone())
        .expect("guest::run sets the machine")
}

pub(crate) fn touch_hook() -> Option<TouchFn> {
    MACHINE.lock().as_ref().and_then(|(_, touch)| *touch)
}

/// The names of the tests [`run`] runs, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    tests().map(|(name, _)| name)
}

fn tests() -> impl Iterator<Item = (&'static str, fn())> {
    crate::vm::tests::HAL_GENERIC_TESTS
        .iter()
        .chain(crate::vm::child_tests::HAL_GENERIC_TESTS)
        .copied()
}

/// Runs every HAL-generic test over `hal`, accessing user memory through `touch`
/// (or, with `None`, through the page table's translations and fault handler, as
/// the host tests do). Calls `before(name)` before each test and `after(name)`
/// after it passed; a failing test panics. Each test checks that every frame it
/// took is free again. Returns how many tests passed.
pub fn run(
    hal: Arc<dyn Hal>,
    touch: Option<TouchFn>,
    mut before: impl FnMut(&str),
    mut after: impl FnMut(&str),
) -> usize {
    *MACHINE.lock() = Some((hal, touch));
    let mut passed = 0;
    for (name, test) in tests() {
        before(name);
        test();
        after(name);
        passed += 1;
    }
    *MACHINE.lock() = None;
    passed
}
