//! The second CPU and TLB shootdown by IPI.

/// Runs on a CPU that received the shootdown IPI.
pub fn on_shootdown_ipi() {}
