//! Ring 3.

use crate::arch::TrapFrame;

/// A trap from ring 3.
pub fn on_user_trap(frame: &mut TrapFrame) {
    crate::println!("FATAL: user trap {} at {:#x}", frame.vector, frame.rip);
    crate::serial::exit(false);
}
