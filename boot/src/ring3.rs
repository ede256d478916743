//! Checks of user processes in ring 3: two processes, each with its own address
//! space, calling the zx_* surface through `syscall`.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use kernel_hal::{MMUFlags, PhysMem};
use kernel_hal_bare::{BareHal, KERNEL_BASE};
use zircon_syscall::*;

use crate::checks::{check, check_with};
use crate::user::{self, Fault, Outcome};
use crate::userprog;

fn faulted(outcome: Outcome) -> Option<Fault> {
    match outcome {
        Outcome::Faulted(fault) => Some(fault),
        Outcome::Exited(_) => None,
    }
}

/// A #PF at the address the thread announced, of kind `access`, that the fault
/// path refused with `status`.
fn page_fault_as_expected(outcome: Outcome, access: MMUFlags, status: i32) -> bool {
    faulted(outcome).is_some_and(|f| {
        f.vector == 14 && f.addr == f.expected && f.access == access && f.status == status
    })
}

/// Runs the ring-3 checks; returns the cycles-per-demand-fault figure's inputs
/// (total cycles, faults).
pub fn run(hal: &Arc<BareHal>) {
    user::init_cpu();
    let free_at_start = hal.free_count();
    let text = user::user_text(hal);
    let a = user::new_process(hal, &text);
    let b = user::new_process(hal, &text);
    check(
        "two processes, each with its own page-table root",
        a.object().aspace().page_table().root() != b.object().aspace().page_table().root(),
    );

    let outcome = user::run(hal, &a, userprog::demand_paging, 16);
    check_with(
        "ring 3: stores demand-fault 16 pages in; loads, zx_vmo_read and zx_vmo_write agree",
        outcome == Outcome::Exited(0),
        format_args!("{outcome:?}"),
    );
    let resolved = user::RESOLVED_FAULTS[0].load(Ordering::Relaxed);
    check_with(
        "ring 3: #PF reached the address space's fault path and the access was retried",
        resolved >= 16,
        format_args!("{resolved} faults resolved"),
    );

    let outcome = user::run(hal, &b, userprog::copy_on_write, 0);
    check_with(
        "ring 3: copy-on-write faults on a snapshot copy the page for the writing side only",
        outcome == Outcome::Exited(0),
        format_args!("{outcome:?}"),
    );

    let outcome = user::run(hal, &a, userprog::store_to_read_only, 0);
    check_with(
        "ring 3: a store to a read-only page is the process's fault (ACCESS_DENIED)",
        page_fault_as_expected(outcome, MMUFlags::WRITE, ZX_ERR_ACCESS_DENIED),
        format_args!("{outcome:?}"),
    );
    let outcome = user::run(hal, &a, userprog::load_after_unmap, 0);
    check_with(
        "ring 3: a load after zx_vmar_unmap is the process's fault (NOT_FOUND)",
        page_fault_as_expected(outcome, MMUFlags::READ, ZX_ERR_NOT_FOUND),
        format_args!("{outcome:?}"),
    );

    let published = user::run(hal, &a, userprog::publish_a_page, 0);
    let Outcome::Exited(addr) = published else {
        check("ring 3: process A maps a page and stores into it", false);
        return;
    };
    check("ring 3: process A maps a page and stores into it", true);
    let outcome = user::run(hal, &b, userprog::load_from, addr);
    check_with(
        "ring 3: process B reading A's address is B's fault (NOT_FOUND)",
        page_fault_as_expected(outcome, MMUFlags::READ, ZX_ERR_NOT_FOUND),
        format_args!("{outcome:?}"),
    );
    let mut byte = [0u8];
    check(
        "ring 3: A's page is untouched by B's fault",
        a.read_memory(addr as usize, &mut byte).is_ok() && byte == [0x5a],
    );
    let outcome = user::run(hal, &b, userprog::store_to, addr);
    check(
        "ring 3: process B storing to A's address is B's fault",
        page_fault_as_expected(outcome, MMUFlags::WRITE, ZX_ERR_NOT_FOUND),
    );

    let kernel_data = KERNEL_BASE as u64 + 0x10_0000;
    let outcome = user::run(hal, &a, userprog::load_from, kernel_data);
    check_with(
        "ring 3: a load from the kernel half is the process's fault",
        faulted(outcome).is_some_and(|f| f.vector == 14 && f.addr == kernel_data && f.status != 0),
        format_args!("{outcome:?}"),
    );
    let kernel_text = crate::kernel_main as *const () as u64;
    let outcome = user::run(hal, &a, userprog::store_to, kernel_text);
    check(
        "ring 3: a store to kernel text is the process's fault",
        faulted(outcome).is_some_and(|f| f.vector == 14 && f.addr == kernel_text),
    );
    let outcome = user::run(hal, &a, userprog::load_from, 0x8000_0000_0000_0000);
    check_with(
        "ring 3: a non-canonical load is the process's fault (#GP)",
        faulted(outcome).is_some_and(|f| f.vector == 13),
        format_args!("{outcome:?}"),
    );
    let outcome = user::run(hal, &a, userprog::load_from, 0);
    check(
        "ring 3: a null load is the process's fault",
        page_fault_as_expected(outcome, MMUFlags::READ, ZX_ERR_NOT_FOUND),
    );

    let outcome = user::run(hal, &b, userprog::bad_pointers, kernel_text);
    check_with(
        "ring 3: wild, kernel and non-canonical pointers and huge lengths get a status and change nothing",
        outcome == Outcome::Exited(0),
        format_args!("{outcome:?}"),
    );

    let outcome = user::run(hal, &b, userprog::demand_paging, 4);
    check(
        "ring 3: after all those faults both processes still run",
        outcome == Outcome::Exited(0)
            && user::run(hal, &a, userprog::copy_on_write, 0) == Outcome::Exited(0),
    );

    crate::figures::demand_fault_ratio(hal, &a);

    drop(a);
    drop(b);
    drop(text);
    let free = hal.free_count();
    check_with(
        "frame accounting is back to the start after both processes exit",
        free == free_at_start,
        format_args!("{free} free, {free_at_start} at the start"),
    );
}
