//! Zircon's virtual-memory kernel objects.
//!
//! `#![no_std]` + `alloc`. Holds handles with rights ([`object`]), VMOs and the VMAR
//! tree ([`vm`]), device resources ([`dev`]), ports ([`ipc`]) and the minimal process ([`task`]) the
//! syscall layer needs. Depends
//! only on `kernel-hal` for page tables and physical memory, which it reaches through
//! an `Arc<dyn Hal>` value: it never knows which backend runs it, has no `cfg(unix)`,
//! and holds no `unsafe` code.
//!
//! Lock order, everywhere: an address space's tree lock, then a VMO's lock (a
//! slice's root before the slice: page operations on a slice go to its root without
//! holding the slice's lock), then a mapping's lock (a snapshot of a pager-backed VMO takes its parent's
//! lock under its own, before any mapping's), then an address space's
//! owed-shootdown lock (`vm::shootdown`), then whatever the HAL takes inside its own
//! calls. Operations on the tree send their TLB shootdown once, after the tree and
//! VMO locks are released. A copy-on-write family's share counts are taken under a
//! VMO's lock and hold no other lock but the HAL's; so is the reclaim queue's lock
//! (`vm::reclaim`), whose reclaim itself runs with no VMO lock held. No VMO's drop takes a VMO lock. No lock is held
//! while user memory is touched through a host pointer (the object layer never does
//! that: it reads and writes user memory through physical memory). A thread that
//! waits for a pager (`vm::pager`) holds no lock at all while it waits.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

/// `[(name, fn), ...]` for test functions named once each.
#[cfg(all(feature = "guest-tests", not(test)))]
macro_rules! named_tests {
    ($($name:ident),* $(,)?) => {
        [$((stringify!($name), $name as fn())),*]
    };
}
#[cfg(all(feature = "guest-tests", not(test)))]
pub(crate) use named_tests;

pub mod abi;
pub mod dev;
pub mod error;
pub mod ipc;
pub mod object;
pub mod sync;
pub mod task;
pub mod vm;

#[cfg(all(feature = "guest-tests", not(test)))]
pub mod guest;
#[cfg(any(test, feature = "guest-tests"))]
mod testing;

pub use error::{ZxError, ZxResult};
