//! The raw lock types of the object layer (`zircon-object`), in a crate of their
//! own so that an embedder can supply different ones without forking anything.
//!
//! `zircon-object` wraps each in [`lock_api::Mutex`]. The defaults are spin locks
//! (`spin`'s, which implement [`lock_api::RawMutex`]). An embedder that wants, say,
//! an interrupt-saving spin lock for the short locks and a sleeping mutex for the
//! address-space tree writes a crate named `zircon-locks` exporting the same two
//! names, each a type implementing `lock_api::RawMutex` (and `Send + Sync`), and
//! points Cargo at it with a `[patch]` entry in its own workspace:
//!
//! ```toml
//! [patch."https://example.org/zircon-vm.git"]
//! zircon-locks = { path = "my-locks" }
//! ```
//!
//! What runs under the locks, and so what a replacement must allow, is described in
//! the repository's `docs/EMBEDDING.md`: the HAL's page-table and frame-allocator
//! calls run under them, and so do heap allocations.

#![no_std]

/// The lock of an address space's region tree: held for a whole region
/// operation (map, unmap, protect, a page fault's lookup and commit), which may
/// allocate and call the HAL. A sleeping mutex is a good replacement when faults
/// and syscalls run in thread context.
pub type TreeLock = MarkedSpin;

/// Every other lock of the object layer (a VMO's pages, a mapping's geometry, a
/// copy-on-write family's share counts, an address space's owed shootdown, a
/// handle table, an object's name): held briefly, sometimes inside the tree lock.
/// An interrupt-saving spin lock is a good replacement.
pub type LeafLock = MarkedSpin;

/// A spin lock (`spin`'s) that marks the thread holding it through
/// [`kernel_hal::held`], so that a backend which resolves page faults on the
/// faulting thread itself (the Linux emulation does, in a signal handler) can tell
/// a fault that would wait for its own thread from one it can resolve. A
/// replacement lock for a kernel, where faults never interrupt a lock holder on its
/// own stack, need not mark anything.
pub struct MarkedSpin(spin::Mutex<()>);

// SAFETY: every method forwards to `spin::Mutex<()>`'s own `RawMutex` implementation,
// which upholds the trait's contract; the marks touch only the current thread's
// count and never the lock state.
unsafe impl lock_api::RawMutex for MarkedSpin {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: MarkedSpin = MarkedSpin(<spin::Mutex<()> as lock_api::RawMutex>::INIT);
    type GuardMarker = lock_api::GuardSend;

    fn lock(&self) {
        kernel_hal::held::lock_taken();
        lock_api::RawMutex::lock(&self.0);
    }

    fn try_lock(&self) -> bool {
        kernel_hal::held::lock_taken();
        let taken = lock_api::RawMutex::try_lock(&self.0);
        if !taken {
            kernel_hal::held::lock_released();
        }
        taken
    }

    unsafe fn unlock(&self) {
        // SAFETY: the caller holds the lock (the trait's contract).
        unsafe { lock_api::RawMutex::unlock(&self.0) };
        kernel_hal::held::lock_released();
    }

    fn is_locked(&self) -> bool {
        lock_api::RawMutex::is_locked(&self.0)
    }
}
