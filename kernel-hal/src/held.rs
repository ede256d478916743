//! Marks around every kernel lock a thread holds, for backends that resolve page
//! faults on the faulting thread itself.
//!
//! The unix backend handles a fault inside the `SIGSEGV` handler of the thread that
//! took it. If that thread was interrupted (by an asynchronous signal whose handler
//! then touched user memory) while it held a lock of the object layer, resolving the
//! fault would wait for that lock forever. The object layer brackets every lock it
//! holds with a [`LockHeld`] mark; a backend that needs to know installs a
//! [`LockWatcher`] that counts the marks per thread, and refuses (loudly) to resolve
//! a fault on a thread that holds one. With no watcher installed a mark costs one
//! atomic load.
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

/// A mark held for as long as a kernel lock is held (or waited for).
#[derive(Debug)]
#[must_use = "the mark covers the lock only while it is alive"]
pub struct LockHeld {
    watcher: Option<&'static LockWatcher>,
}

impl LockHeld {
    /// Marks the current thread as holding (or about to wait for) a kernel lock.
    pub fn new() -> LockHeld {
        let watcher = WATCHER.get().copied();
        if let Some(w) = watcher {
            (w.enter)();
        }
        LockHeld { watcher }
    }
}

impl Default for LockHeld {
    fn default() -> LockHeld {
        LockHeld::new()
    }
}

impl Drop for LockHeld {
    fn drop(&mut self) {
        if let Some(w) = self.watcher {
            (w.leave)();
        }
    }
}
