//! Zircon's virtual-memory kernel objects.
//!
//! `#![no_std]` + `alloc`. Depends only on `kernel-hal` for page tables and physical
//! memory, which it reaches through an `Arc<dyn Hal>` value; it never knows which
//! backend runs it and never holds `unsafe` code.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

pub mod abi;
