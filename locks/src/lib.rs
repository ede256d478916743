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
pub type TreeLock = spin::Mutex<()>;

/// Every other lock of the object layer (a VMO's pages, a mapping's geometry, a
/// copy-on-write family's share counts, an address space's owed shootdown, a
/// handle table, an object's name): held briefly, sometimes inside the tree lock.
/// An interrupt-saving spin lock is a good replacement.
pub type LeafLock = spin::Mutex<()>;
