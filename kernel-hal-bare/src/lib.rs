//! The bare-metal x86_64 backend of `kernel-hal`: real 4-level page tables and a
//! physical frame allocator.
//!
//! Page tables are written in the hardware's format (through the `x86_64` crate's
//! types) into physical frames, reached through a [`PhysWindow`]: a linear mapping of
//! physical memory at an offset the embedder gives. [`X86PageTable`] is the
//! lock-free core (map, unmap, clear, protect, query over ranges, with 2 MiB and
//! 1 GiB entries chosen automatically); [`BarePageTable`] puts it behind a lock and
//! implements [`kernel_hal::PageTable`]; [`BareHal`] adds the [`BareMem`] frame
//! allocator (the shared buddy allocator `kernel_hal::frame`) and the kernel address
//! space that every user space shares. TLB invalidation is batched per operation
//! ([`Flush`]) and goes through a replaceable [`TlbShootdown`] hook.
//!
//! The crate is `#![no_std]` (with `alloc`) and depends on `kernel-hal`, `x86_64`
//! and `spin`. It switches address spaces only when the embedder activates one
//! ([`BarePageTable::activate`], which also records the CPUs that have it loaded,
//! so shootdowns go only there), and never takes a page fault itself: the
//! embedder's trap handler decodes the error code ([`PageFaultInfo`]) and calls
//! the object layer. [`cpu`] holds the few CPU settings the tables need. With the
//! `sim` feature (for tests; kernel builds leave it out), the `sim` module runs all
//! of it on a host over a buffer standing in for RAM, with a software TLB.

#![no_std]

extern crate alloc;

pub mod cpu;
mod entry;
mod fault;
mod flush;
mod hal;
mod mem;
#[cfg(feature = "sim")]
pub mod sim;
mod table;
mod window;

pub use entry::PAT_MSR_VALUE;
pub use fault::PageFaultInfo;
#[cfg(all(target_arch = "x86_64", any(target_os = "none", target_os = "uefi")))]
pub use flush::LocalTlb;
pub use flush::{CpuSet, Flush, TlbShootdown, FLUSH_PAGE_LIMIT};
pub use hal::{BareHal, BarePageTable};
pub use mem::BareMem;
pub use table::{X86PageTable, KERNEL_BASE, USER_BASE, USER_END};
pub use window::PhysWindow;
