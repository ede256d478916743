//! The guest-side figure: cycles (rdtsc) per demand fault beside the cycles to
//! zero a page, in the same run. TCG's cycles are not a real CPU's, so only the
//! ratio means anything.

use alloc::sync::Arc;
use kernel_hal::{PhysMem, PAGE_SIZE};
use kernel_hal_bare::BareHal;
use zircon_syscall::Process;

use crate::checks::check_with;
use crate::user::{self, Outcome};
use crate::userprog;

const PAGES: u64 = 256;

/// Measures and prints the ratio.
pub fn demand_fault_ratio(hal: &Arc<BareHal>, process: &Arc<Process>) {
    let outcome = user::run(hal, process, userprog::time_demand_faults, PAGES);
    let Outcome::Exited(fault_cycles) = outcome else {
        check_with(
            "figure: cycles per demand fault",
            false,
            format_args!("{outcome:?}"),
        );
        return;
    };
    let frame = hal.alloc_frame().expect("a frame to zero");
    let start = rdtsc();
    for _ in 0..PAGES {
        hal.zero(frame, PAGE_SIZE).expect("zeroing a frame");
    }
    let zero_cycles = rdtsc() - start;
    hal.free_frames(frame, 1).expect("freeing it");
    let per_fault = fault_cycles / PAGES;
    let per_zero = (zero_cycles / PAGES).max(1);
    check_with(
        "figure: cycles per demand fault vs cycles to zero a page",
        per_fault > 0,
        format_args!(
            "{per_fault} vs {per_zero} cycles over {PAGES} pages: a fault costs {}.{:01}x a page zeroing (TCG)",
            per_fault / per_zero,
            (per_fault * 10 / per_zero) % 10
        ),
    );
}

fn rdtsc() -> u64 {
    // SAFETY: reads the time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}
