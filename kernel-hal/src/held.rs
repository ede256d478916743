//! Marks around every kernel lock a thread holds, for backends that resolve page
//! faults on the faulting thread itself.
//!
//! The unix backend handles a fault inside the `SIGSEGV` handler of the thread that
//! took it. If that thread was interrupted (by an asynchronous signal whose handler
//! then touched user memory) while it held a lock of the object layer, resolving the
//! fault would wait for that lock forever. The object layer's default locks (the
//! `zircon-locks` crate) call [`lock_taken`] and [`lock_released`] around every
//! hold; a backend that needs to know installs a [`LockWatcher`] that counts them
//! per thread, and refuses (loudly) to resolve a fault on a thread that holds one.
//! With no watcher installed a mark costs one atomic load.
//!
//! The watcher is process-wide because the signal that needs it is.

/// What a backend runs when a thread takes and releases a kernel lock.
#[derive(Debug)]
pub struct LockWatcher {
    /// Called right before the thread starts waiting for a lock.
    pub enter: fn(),
    /// Called right after the thread released it.
    pub leave: fn(),
}

static WATCHER: spin::Once<&'static LockWatcher> = spin::Once::new();

/// Installs `watcher` for every lock taken from now on. Only the first call has an
/// effect: the watcher of a process never changes (a backend installs it once).
pub fn set_lock_watcher(watcher: &'static LockWatcher) {
    WATCHER.call_once(|| watcher);
}

/// Marks the current thread as holding (or about to wait for) one more kernel lock.
/// A lock calls it before it starts waiting, and [`lock_released`] after unlocking.
pub fn lock_taken() {
    if let Some(watcher) = WATCHER.get() {
        (watcher.enter)();
    }
}

/// Marks the current thread as holding one kernel lock fewer. A watcher installed
/// while a lock was held sees a release without a take: it must not count below
/// zero.
pub fn lock_released() {
    if let Some(watcher) = WATCHER.get() {
        (watcher.leave)();
    }
}
