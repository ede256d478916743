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

    bad_pointers(hal, &b, kernel_text);
    more_faults(hal, &a, &b, kernel_text);

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

/// The bad-pointer program's checks, one per bit of its exit code.
fn bad_pointers(hal: &Arc<BareHal>, process: &Arc<Process>, kernel_text: u64) {
    let outcome = user::run(hal, process, userprog::bad_pointers, kernel_text);
    let Outcome::Exited(failed) = outcome else {
        check_with(
            "ring 3: bad pointers in syscalls",
            false,
            format_args!("{outcome:?}"),
        );
        return;
    };
    let names = [
        "zx_vmo_create with a wild out-pointer: INVALID_ARGS",
        "zx_vmo_create with a kernel out-pointer: INVALID_ARGS",
        "zx_vmo_create with a non-canonical out-pointer: INVALID_ARGS",
        "zx_vmo_create with an out-pointer that wraps: INVALID_ARGS",
        "zx_vmo_read into a wild buffer: NOT_FOUND or INVALID_ARGS",
        "zx_vmo_write from a wild buffer: NOT_FOUND or INVALID_ARGS",
        "zx_vmo_read into kernel text: NOT_FOUND or INVALID_ARGS",
        "zx_vmo_write from kernel text: NOT_FOUND or INVALID_ARGS",
        "zx_vmo_read into a non-canonical buffer: NOT_FOUND or INVALID_ARGS",
        "zx_vmo_write from a non-canonical buffer: NOT_FOUND or INVALID_ARGS",
        "zx_vmo_read of usize::MAX bytes: an error",
        "zx_vmo_read of usize::MAX / 2 bytes: an error",
        "zx_vmo_read of 1 TiB: an error",
        "zx_vmar_map with a kernel out-pointer: INVALID_ARGS",
    ];
    for (i, name) in names.iter().enumerate() {
        check(
            &alloc::format!("ring 3 syscall: {name}"),
            failed & (1 << (8 + i)) == 0,
        );
    }
    check(
        "ring 3 syscall: after every bad call the VMO is unchanged",
        failed & 1 == 0,
    );
}

/// Faults on execution and forbidden instructions, and address-space changes
/// seen through the real MMU.
fn more_faults(hal: &Arc<BareHal>, a: &Arc<Process>, b: &Arc<Process>, kernel_text: u64) {
    if let Outcome::Exited(page) = user::run(hal, a, userprog::publish_code_page, 0) {
        let outcome = user::run(hal, a, userprog::execute_at, page);
        check_with(
            "ring 3: executing a read-write page is the process's fault (NX, ACCESS_DENIED)",
            page_fault_as_expected(outcome, MMUFlags::EXECUTE, ZX_ERR_ACCESS_DENIED),
            format_args!("{outcome:?}"),
        );
    } else {
        check(
            "ring 3: executing a read-write page is the process's fault (NX, ACCESS_DENIED)",
            false,
        );
    }
    let outcome = user::run(hal, a, userprog::execute_at, kernel_text);
    check(
        "ring 3: executing kernel text is the process's fault",
        faulted(outcome).is_some_and(|f| f.vector == 14 && f.addr == kernel_text),
    );
    for (which, name, vector) in [
        (0, "hlt", 13),
        (1, "cli", 13),
        (2, "ud2", 6),
        (3, "a read of CR3", 13),
    ] {
        let outcome = user::run(hal, b, userprog::forbidden_instruction, which);
        check(
            &alloc::format!("ring 3: {name} is the process's fault (vector {vector})"),
            faulted(outcome).is_some_and(|f| f.vector == vector),
        );
    }
    let handle = user::run(hal, a, userprog::publish_a_handle, 0);
    let Outcome::Exited(handle) = handle else {
        check("ring 3: handle tables", false);
        return;
    };
    let outcome = user::run(hal, b, userprog::handle_isolation, handle);
    let failed = match outcome {
        Outcome::Exited(bits) => bits,
        Outcome::Faulted(_) => 7,
    };
    check(
        "ring 3: an unknown syscall number answers BAD_SYSCALL",
        failed & 1 == 0,
    );
    check(
        "ring 3: a never-issued handle answers BAD_HANDLE",
        failed & 2 == 0,
    );
    check(
        "ring 3: the other process's handle value means nothing here (BAD_HANDLE)",
        failed & 4 == 0,
    );
    let outcome = user::run(hal, a, userprog::load_past_shrink, 0);
    check_with(
        "ring 3: a load from a page cut off by zx_vmo_set_size is the process's fault",
        faulted(outcome).is_some_and(|f| f.vector == 14 && f.addr == f.expected && f.status != 0),
        format_args!("{outcome:?}"),
    );
    let outcome = user::run(hal, a, userprog::decommit_then_load, 0);
    check(
        "ring 3: after ZX_VMO_OP_DECOMMIT a load through the mapping reads zeros",
        outcome == Outcome::Exited(0),
    );
    let outcome = user::run(hal, b, userprog::protect_round_trip, 0);
    check(
        "ring 3: protect read-only and back to read-write, and the next store lands",
        outcome == Outcome::Exited(0),
    );
    let outcome = user::run(hal, b, userprog::load_after_destroy, 0);
    check_with(
        "ring 3: a load in a destroyed sub-region is the process's fault (NOT_FOUND)",
        page_fault_as_expected(outcome, MMUFlags::READ, ZX_ERR_NOT_FOUND),
        format_args!("{outcome:?}"),
    );
}
