//! Conformance suite for the VM syscall layer: one module per call family, each case
//! checking the exact statuses and resulting state that `docs/ABI.md` pins
//! (each module names the sections it follows).
//!
//! Every case runs in a fresh process on its own unix HAL; dropping the process checks
//! that every frame was given back.

mod helpers;

mod bti_pin;
mod check_order;
mod concurrency;
mod device_memory;
mod handles;
mod lifecycle;
mod object_info;
mod optional_features;
mod overflow;
mod pager;
mod placement;
mod ports;
mod process_memory;
mod properties;
mod raw_access;
mod threads;
mod user_pointers;
mod vmar_allocate;
mod vmar_destroy;
mod vmar_map;
mod vmar_op_range;
mod vmar_protect;
mod vmar_unmap;
mod vmo_cache_policy;
mod vmo_create_child;
mod vmo_create_rw;
mod vmo_op_range;
mod vmo_reference;
mod vmo_size;
