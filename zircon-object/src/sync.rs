//! The object layer's locks: [`lock_api`] mutexes over the raw locks of the
//! `zircon-locks` crate, which an embedder may replace (see that crate).

/// The region tree's lock (see `zircon_locks::TreeLock`).
pub type TreeMutex<T> = lock_api::Mutex<zircon_locks::TreeLock, T>;

/// A held [`TreeMutex`].
pub type TreeMutexGuard<'a, T> = lock_api::MutexGuard<'a, zircon_locks::TreeLock, T>;

/// Every other lock (see `zircon_locks::LeafLock`).
pub type Mutex<T> = lock_api::Mutex<zircon_locks::LeafLock, T>;

/// A held [`Mutex`].
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, zircon_locks::LeafLock, T>;

use crate::abi::ZX_ERR_TIMED_OUT;
use crate::error::ZxResult;
use core::sync::atomic::{AtomicU32, Ordering};
use kernel_hal::{Hal, WaitOutcome};

/// Where threads wait for a condition that other threads make true: a port's
/// queue gaining a packet, a page request being answered.
///
/// The condition lives elsewhere, under its own lock; a `Signal` only carries the
/// sleep and the wake, through the HAL's [`wait_word`](Hal::wait_word). A waiter
/// reads the signal's sequence number, then checks the condition, then sleeps only
/// if the number is unchanged; a waker changes the condition, then bumps the number
/// and wakes. So a wake that comes between the check and the sleep is never lost.
#[derive(Debug, Default)]
pub struct Signal {
    sequence: AtomicU32,
}

impl Signal {
    /// A signal nobody waits on yet.
    pub const fn new() -> Self {
        Signal {
            sequence: AtomicU32::new(0),
        }
    }

    /// Waits until `ready` returns `Some`, and returns its value. `ready` runs
    /// first at once, then after each wake; it may take locks, but the caller must
    /// hold none (the thread may sleep).
    ///
    /// # Errors
    ///
    /// `ZX_ERR_TIMED_OUT`: `deadline_ns` (on [`Hal::monotonic_ns`]'s clock;
    /// `kernel_hal::DEADLINE_INFINITE` for none) passed before `ready` answered.
    pub fn wait_until<T>(
        &self,
        hal: &dyn Hal,
        deadline_ns: i64,
        mut ready: impl FnMut() -> Option<T>,
    ) -> ZxResult<T> {
        loop {
            let seen = self.sequence.load(Ordering::Acquire);
            if let Some(value) = ready() {
                return Ok(value);
            }
            if hal.wait_word(&self.sequence, seen, deadline_ns) == WaitOutcome::TimedOut {
                // One last look: the condition may have come true with the deadline.
                return ready().ok_or(ZX_ERR_TIMED_OUT);
            }
        }
    }

    /// Wakes every waiter, after the caller made its condition true (or changed
    /// it in any way a waiter should look at again).
    pub fn notify_all(&self, hal: &dyn Hal) {
        self.sequence.fetch_add(1, Ordering::Release);
        hal.wake_word(&self.sequence);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ModelHal;
    use alloc::sync::Arc;
    use core::sync::atomic::AtomicBool;

    #[test]
    fn a_ready_condition_returns_without_waiting() {
        let hal = ModelHal::new(4);
        let signal = Signal::new();
        assert_eq!(signal.wait_until(&*hal, 0, || Some(7)), Ok(7));
    }

    #[test]
    fn a_condition_that_never_comes_times_out() {
        let hal = ModelHal::new(4);
        let signal = Signal::new();
        let deadline = hal.monotonic_ns() + 100_000;
        let result: ZxResult<()> = signal.wait_until(&*hal, deadline, || None);
        assert_eq!(result, Err(ZX_ERR_TIMED_OUT));
        assert!(hal.monotonic_ns() >= deadline);
    }

    #[test]
    fn a_notify_after_the_condition_wakes_the_waiter() {
        extern crate std;
        let hal = ModelHal::new(4);
        let signal = Arc::new(Signal::new());
        let flag = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (hal, signal, flag) = (hal.clone(), signal.clone(), flag.clone());
            std::thread::spawn(move || {
                signal.wait_until(&*hal, kernel_hal::DEADLINE_INFINITE, || {
                    flag.load(Ordering::Acquire).then_some(())
                })
            })
        };
        flag.store(true, Ordering::Release);
        signal.notify_all(&*hal);
        assert_eq!(waiter.join().expect("the waiter returns"), Ok(()));
    }
}
