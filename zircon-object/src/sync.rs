//! The object layer's locks: [`lock_api`] mutexes over the raw locks of the
//! `zircon-locks` crate, which an embedder may replace (see that crate).

/// The region tree's lock (see `zircon_locks::TreeLock`).
pub type TreeMutex<T> = lock_api::Mutex<zircon_locks::TreeLock, T>;

/// Every other lock (see `zircon_locks::LeafLock`).
pub type Mutex<T> = lock_api::Mutex<zircon_locks::LeafLock, T>;

/// A held [`Mutex`].
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, zircon_locks::LeafLock, T>;
