//! Benchmarks of the bare-metal page tables (filled in below).
fn main() {}
