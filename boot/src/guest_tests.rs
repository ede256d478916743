//! The object layer's HAL-generic unit tests (`zircon_object::guest`), run over
//! this machine: every user access they make is a real load or store by this CPU
//! through the address space's page table, and a fault goes to the address
//! space's fault path exactly as a user fault would.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel_hal::{MMUFlags, PageTable, VirtAddr};
use kernel_hal_bare::BareHal;

use crate::arch;
use crate::checks::check;

static MACHINE: spin::Once<Arc<BareHal>> = spin::Once::new();

/// How many of the tests' accesses faulted on the CPU and went to the fault path.
static REAL_FAULTS: AtomicUsize = AtomicUsize::new(0);

/// One access of kind `access` at `vaddr`, by this CPU, in `pt`; true if it
/// worked.
fn access_once(vaddr: VirtAddr, access: MMUFlags) -> bool {
    // SAFETY: the probes turn a fault at `vaddr` into a result; the read-write
    // probe stores back the byte it read, so memory is unchanged.
    unsafe {
        if access == MMUFlags::WRITE {
            arch::probe_rw(vaddr) == 0
        } else {
            arch::probe_read(vaddr) == 0
        }
    }
}

/// The tests' `touch`: with `pt` loaded on this CPU, try the access; on a fault,
/// deliver it to the fault handler and try once more; then go back to the kernel
/// space. Instruction fetches are checked through the translation instead (the
/// tests never put code in their pages).
fn touch(pt: &dyn PageTable, vaddr: VirtAddr, access: MMUFlags) -> bool {
    if access == MMUFlags::EXECUTE {
        let permitted =
            |pt: &dyn PageTable| pt.query(vaddr).is_ok_and(|t| t.flags.contains(access));
        return permitted(pt)
            || pt
                .fault_handler()
                .is_some_and(|h| h.handle_page_fault(vaddr, access) && permitted(pt));
    }
    let cpu = arch::cpu_id();
    pt.activate(cpu);
    let mut ok = access_once(vaddr, access);
    if !ok {
        REAL_FAULTS.fetch_add(1, Ordering::Relaxed);
        ok = pt
            .fault_handler()
            .is_some_and(|h| h.handle_page_fault(vaddr, access))
            && access_once(vaddr, access);
    }
    let kernel = MACHINE.get().expect("set before the run").kernel_space();
    // SAFETY: the kernel space maps everything the kernel uses, at the same
    // addresses as every user space's kernel half.
    unsafe { kernel.activate(cpu) };
    pt.deactivate(cpu);
    ok
}

/// Runs every HAL-generic unit test over `hal`, printing each one's name and
/// result.
pub fn run(hal: &Arc<BareHal>) {
    MACHINE.call_once(|| hal.clone());
    let count = zircon_object::guest::names().count();
    crate::println!("running the {count} HAL-generic object unit tests over the real MMU");
    // A failing test panics; the panic handler then names the test's file and line.
    let passed = zircon_object::guest::run(
        hal.clone(),
        Some(touch),
        |_| {},
        |name| check(&alloc::format!("unit test {name}"), true),
    );
    check("every HAL-generic object unit test ran", passed == count);
    let faults = REAL_FAULTS.load(Ordering::Relaxed);
    crate::checks::check_with(
        "the unit tests' accesses faulted on the CPU and were resolved by the fault path",
        faults > 20,
        format_args!("{faults} hardware page faults"),
    );
}
