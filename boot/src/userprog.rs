//! The user programs: Rust functions in the linker section `.user`, linked at
//! `user::USER_TEXT` and run in ring 3 of each process. Each ends with the exit
//! call; its code is 0 for success or names the step that went wrong.
//!
//! They live apart from the kernel (below 2 GiB, while the kernel is in the top
//! 2 GiB), so they must not call into kernel code or read its data: no panics
//! (wrapping arithmetic, no indexing), no statics, only inlined helpers. The
//! linker enforces it: a call from here to the kernel is out of range.

use zircon_syscall::*;

use crate::user::{SYS_EXIT, SYS_EXPECT};

const PAGE: usize = 4096;
const RW: u32 = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;

#[inline(always)]
fn syscall(number: u64, a: [usize; 8]) -> i64 {
    let result: i64;
    // SAFETY: the syscall instruction enters the kernel, which reads only the
    // argument registers and writes only RAX, RCX and R11 (declared here), and
    // user memory through the pointers the arguments name.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") number as i64 => result,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            in("r12") a[6],
            in("r13") a[7],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    result
}

#[inline(always)]
fn zx(number: u32, a: [usize; 8]) -> i32 {
    syscall(number as u64, a) as i32
}

#[inline(always)]
fn exit(code: u64) -> ! {
    syscall(SYS_EXIT, [code as usize, 0, 0, 0, 0, 0, 0, 0]);
    // The exit call does not return.
    loop {
        core::hint::spin_loop();
    }
}

#[inline(always)]
fn expect_fault_at(addr: usize) {
    syscall(SYS_EXPECT, [addr, 0, 0, 0, 0, 0, 0, 0]);
}

#[inline(always)]
fn ptr<T>(value: &mut T) -> usize {
    value as *mut T as usize
}

#[inline(always)]
fn root_vmar() -> u32 {
    zx(SYS_VMAR_ROOT_SELF, [0; 8]) as u32
}

/// Creates a VMO of `len` bytes and maps it with `perms`; exits with `fail` if
/// either call fails. Returns (handle, address).
#[inline(always)]
fn vmo_mapped(len: usize, perms: u32, fail: u64) -> (u32, usize) {
    let mut vmo: u32 = 0;
    if zx(SYS_VMO_CREATE, [len, 0, ptr(&mut vmo), 0, 0, 0, 0, 0]) != ZX_OK {
        exit(fail);
    }
    let mut addr: usize = 0;
    let a = [
        root_vmar() as usize,
        perms as usize,
        0,
        vmo as usize,
        0,
        len,
        ptr(&mut addr),
        0,
    ];
    if zx(SYS_VMAR_MAP, a) != ZX_OK {
        exit(fail.wrapping_add(1));
    }
    (vmo, addr)
}

// Loads and stores are written as instructions, not `read_volatile`, whose debug
// checks would call into the kernel.

#[inline(always)]
fn load(addr: usize) -> u64 {
    let value: u64;
    // SAFETY: a user load; whatever it hits, a fault goes to the kernel.
    unsafe {
        core::arch::asm!("mov {v}, [{a}]", a = in(reg) addr, v = out(reg) value, options(nostack))
    };
    value
}

#[inline(always)]
fn store(addr: usize, value: u64) {
    // SAFETY: a user store; whatever it hits, a fault goes to the kernel.
    unsafe {
        core::arch::asm!("mov [{a}], {v}", a = in(reg) addr, v = in(reg) value, options(nostack))
    };
}

#[inline(always)]
fn rdtsc() -> u64 {
    // SAFETY: reads the time-stamp counter (CR4.TSD is clear, so ring 3 may).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Demand paging and user copies: stores fault `pages` fresh pages in, loads read
/// them back, the VMO sees the stores (a kernel copy out to the user stack), and a
/// kernel copy in from the user stack shows through the mapping.
#[link_section = ".user.text"]
pub extern "sysv64" fn demand_paging(pages: u64) -> ! {
    let pages = pages as usize;
    let len = pages.wrapping_mul(PAGE);
    let (vmo, addr) = vmo_mapped(len, RW, 1);
    let mut i = 0;
    while i < pages {
        store(
            addr.wrapping_add(i.wrapping_mul(PAGE)).wrapping_add(8),
            0x1000u64.wrapping_add(i as u64),
        );
        i = i.wrapping_add(1);
    }
    i = 0;
    while i < pages {
        if load(addr.wrapping_add(i.wrapping_mul(PAGE)).wrapping_add(8))
            != 0x1000u64.wrapping_add(i as u64)
        {
            exit(3);
        }
        i = i.wrapping_add(1);
    }
    let mut word: u64 = 0;
    let read = [vmo as usize, ptr(&mut word), 3 * PAGE + 8, 8, 0, 0, 0, 0];
    if zx(SYS_VMO_READ, read) != ZX_OK || word != 0x1003 {
        exit(4);
    }
    let mut value: u64 = 0xfeed_f00d;
    let write = [vmo as usize, ptr(&mut value), 2 * PAGE + 16, 8, 0, 0, 0, 0];
    if zx(SYS_VMO_WRITE, write) != ZX_OK || load(addr.wrapping_add(2 * PAGE + 16)) != 0xfeed_f00d {
        exit(5);
    }
    exit(0)
}

/// Cycles per demand fault: touches `pages` fresh pages of a new mapping, timing
/// each first store (a fault, a zeroed frame, a mapping, the retry); exits with
/// the total cycles.
#[link_section = ".user.text"]
pub extern "sysv64" fn time_demand_faults(pages: u64) -> ! {
    let pages = pages as usize;
    let (_, addr) = vmo_mapped(pages.wrapping_mul(PAGE), RW, 1);
    let mut total: u64 = 0;
    let mut i = 0;
    while i < pages {
        let at = addr.wrapping_add(i.wrapping_mul(PAGE));
        let start = rdtsc();
        store(at, 1);
        total = total.wrapping_add(rdtsc().wrapping_sub(start));
        i = i.wrapping_add(1);
    }
    exit(total)
}

/// Copy-on-write through mappings of a snapshot: the child reads the parent's
/// data; a store on either side copies the page for that side only.
#[link_section = ".user.text"]
pub extern "sysv64" fn copy_on_write(_: u64) -> ! {
    let len = 4 * PAGE;
    let (parent, paddr) = vmo_mapped(len, RW, 1);
    let mut i: usize = 0;
    while i < 4 {
        store(
            paddr.wrapping_add(i.wrapping_mul(PAGE)),
            0xa0u64.wrapping_add(i as u64),
        );
        i = i.wrapping_add(1);
    }
    let mut child: u32 = 0;
    let a = [
        parent as usize,
        ZX_VMO_CHILD_SNAPSHOT as usize,
        0,
        len,
        ptr(&mut child),
        0,
        0,
        0,
    ];
    if zx(SYS_VMO_CREATE_CHILD, a) != ZX_OK {
        exit(3);
    }
    let mut caddr: usize = 0;
    let a = [
        root_vmar() as usize,
        RW as usize,
        0,
        child as usize,
        0,
        len,
        ptr(&mut caddr),
        0,
    ];
    if zx(SYS_VMAR_MAP, a) != ZX_OK {
        exit(4);
    }
    i = 0;
    while i < 4 {
        if load(caddr.wrapping_add(i.wrapping_mul(PAGE))) != 0xa0u64.wrapping_add(i as u64) {
            exit(5);
        }
        i = i.wrapping_add(1);
    }
    store(caddr.wrapping_add(PAGE), 0xb1);
    if load(caddr.wrapping_add(PAGE)) != 0xb1 || load(paddr.wrapping_add(PAGE)) != 0xa1 {
        exit(6);
    }
    store(paddr.wrapping_add(2 * PAGE), 0xc2);
    if load(caddr.wrapping_add(2 * PAGE)) != 0xa2 || load(paddr.wrapping_add(2 * PAGE)) != 0xc2 {
        exit(7);
    }
    // Pages nobody wrote after the snapshot still read the same on both sides.
    if load(caddr.wrapping_add(3 * PAGE)) != 0xa3 || load(paddr.wrapping_add(3 * PAGE)) != 0xa3 {
        exit(8);
    }
    exit(0)
}

/// Maps a page read-only, reads it, then stores to it: the store must fault.
#[link_section = ".user.text"]
pub extern "sysv64" fn store_to_read_only(_: u64) -> ! {
    let (_, addr) = vmo_mapped(PAGE, ZX_VM_PERM_READ, 1);
    if load(addr) != 0 {
        exit(3);
    }
    expect_fault_at(addr);
    store(addr, 1);
    exit(4)
}

/// Stores to a page, unmaps it, then loads from it: the load must fault.
#[link_section = ".user.text"]
pub extern "sysv64" fn load_after_unmap(_: u64) -> ! {
    let (_, addr) = vmo_mapped(2 * PAGE, RW, 1);
    store(addr.wrapping_add(PAGE), 7);
    if zx(
        SYS_VMAR_UNMAP,
        [
            root_vmar() as usize,
            addr.wrapping_add(PAGE),
            PAGE,
            0,
            0,
            0,
            0,
            0,
        ],
    ) != ZX_OK
    {
        exit(3);
    }
    if load(addr) != 0 {
        exit(4);
    }
    expect_fault_at(addr.wrapping_add(PAGE));
    load(addr.wrapping_add(PAGE));
    exit(5)
}

/// Maps a page, stores `0x5a` in it and exits with its address (for another
/// process to try).
#[link_section = ".user.text"]
pub extern "sysv64" fn publish_a_page(_: u64) -> ! {
    let (_, addr) = vmo_mapped(PAGE, RW, 1);
    store(addr, 0x5a);
    exit(addr as u64)
}

/// Loads from `addr`, which must fault (another process's page, a kernel address,
/// a non-canonical one).
#[link_section = ".user.text"]
pub extern "sysv64" fn load_from(addr: u64) -> ! {
    expect_fault_at(addr as usize);
    load(addr as usize);
    exit(1)
}

/// Stores to `addr`, which must fault.
#[link_section = ".user.text"]
pub extern "sysv64" fn store_to(addr: u64) -> ! {
    expect_fault_at(addr as usize);
    store(addr as usize, 0xbad);
    exit(1)
}

/// Bad pointers and lengths in syscalls: each call must return the expected
/// status and change nothing. Exits with a bit set for every call that did not.
#[link_section = ".user.text"]
pub extern "sysv64" fn bad_pointers(kernel_addr: u64) -> ! {
    let (vmo, addr) = vmo_mapped(PAGE, RW, 1);
    store(addr, 0x77);
    let kernel = kernel_addr as usize;
    let wild = 0x20_0000; // the lowest user page, never mapped here
    let non_canonical = 0x8000_0000_0000_0000usize;
    let mut failed: u64 = 0;
    let mut bit = 1u64 << 8;
    let mut expect = |status: i32, want: i32| {
        if status != want {
            failed |= bit;
        }
        bit = bit.wrapping_shl(1);
    };
    for out in [wild, kernel, non_canonical, usize::MAX - 2] {
        expect(
            zx(SYS_VMO_CREATE, [PAGE, 0, out, 0, 0, 0, 0, 0]),
            ZX_ERR_INVALID_ARGS,
        );
    }
    // A data buffer no mapping covers: Zircon answers NOT_FOUND (the failed user
    // access) where its documentation says INVALID_ARGS; either is right.
    let no_mapping = |status: i32| status == ZX_ERR_NOT_FOUND || status == ZX_ERR_INVALID_ARGS;
    for buffer in [wild, kernel, non_canonical] {
        let read = zx(SYS_VMO_READ, [vmo as usize, buffer, 0, 8, 0, 0, 0, 0]);
        expect(no_mapping(read) as i32, 1);
        let write = zx(SYS_VMO_WRITE, [vmo as usize, buffer, 0, 8, 0, 0, 0, 0]);
        expect(no_mapping(write) as i32, 1);
    }
    let mut word: u64 = 0;
    for len in [usize::MAX, usize::MAX / 2, 1 << 40] {
        let status = zx(
            SYS_VMO_READ,
            [vmo as usize, ptr(&mut word), 0, len, 0, 0, 0, 0],
        );
        expect((status == ZX_OK) as i32, 0);
    }
    let map = [
        root_vmar() as usize,
        RW as usize,
        0,
        vmo as usize,
        0,
        PAGE,
        kernel,
        0,
    ];
    expect(zx(SYS_VMAR_MAP, map), ZX_ERR_INVALID_ARGS);
    // Nothing above changed the VMO.
    if load(addr) != 0x77 {
        failed |= 1;
    }
    exit(failed)
}

/// Where the shootdown tests map their target page and the page through which a
/// looping thread shows it is running.
pub const TARGET: usize = 0x6000_0000;
/// See [`TARGET`].
pub const HEARTBEAT: usize = 0x6100_0000;
/// What the target page holds while it is mapped.
pub const OLD: u64 = 0x01d0_01d0;

/// Loads from `addr` in a loop, counting in [`HEARTBEAT`], until it faults; exits
/// with the value if it ever reads anything but [`OLD`].
#[link_section = ".user.text"]
pub extern "sysv64" fn read_loop(addr: u64) -> ! {
    expect_fault_at(addr as usize);
    let mut beats: u64 = 0;
    loop {
        let value = load(addr as usize);
        if value != OLD {
            exit(value);
        }
        beats = beats.wrapping_add(1);
        store(HEARTBEAT, beats);
    }
}

/// Stores 1, 2, 3, ... to `addr` in a loop, mirroring each in [`HEARTBEAT`],
/// until it faults.
#[link_section = ".user.text"]
pub extern "sysv64" fn write_loop(addr: u64) -> ! {
    expect_fault_at(addr as usize);
    let mut value: u64 = 1;
    loop {
        store(addr as usize, value);
        store(HEARTBEAT, value);
        value = value.wrapping_add(1);
    }
}

/// Calls `addr` (as code), which must fault: a page without EXECUTE, or kernel
/// text.
#[link_section = ".user.text"]
pub extern "sysv64" fn execute_at(addr: u64) -> ! {
    expect_fault_at(addr as usize);
    // SAFETY: a user call; whatever it hits, a fault goes to the kernel.
    unsafe { core::arch::asm!("call {a}", a = in(reg) addr, clobber_abi("sysv64")) };
    exit(1)
}

/// Maps a fresh read-write page, stores a `ret` in it, and exits with its
/// address (for [`execute_at`]).
#[link_section = ".user.text"]
pub extern "sysv64" fn publish_code_page(_: u64) -> ! {
    let (_, addr) = vmo_mapped(PAGE, RW, 1);
    store(addr, 0xc3);
    exit(addr as u64)
}

/// Runs an instruction ring 3 may not: 0 `hlt`, 1 `cli`, 2 `ud2`, else a load of
/// CR3.
#[link_section = ".user.text"]
pub extern "sysv64" fn forbidden_instruction(which: u64) -> ! {
    // SAFETY: each traps in ring 3; the kernel ends the thread.
    unsafe {
        if which == 0 {
            core::arch::asm!("hlt");
        } else if which == 1 {
            core::arch::asm!("cli");
        } else if which == 2 {
            core::arch::asm!("ud2");
        } else {
            core::arch::asm!("mov {r}, cr3", r = out(reg) _);
        }
    }
    exit(1)
}

/// Handle and number checks: bit 0 an unknown syscall number is not
/// BAD_SYSCALL, bit 1 a never-issued handle is not BAD_HANDLE, bit 2 the handle
/// value `foreign` (another process's) is not BAD_HANDLE here.
#[link_section = ".user.text"]
pub extern "sysv64" fn handle_isolation(foreign: u64) -> ! {
    let mut failed = 0;
    if zx(999, [0; 8]) != ZX_ERR_BAD_SYSCALL {
        failed |= 1;
    }
    let mut size: u64 = 0;
    if zx(
        SYS_VMO_GET_SIZE,
        [0x7fff_fff0, ptr(&mut size), 0, 0, 0, 0, 0, 0],
    ) != ZX_ERR_BAD_HANDLE
    {
        failed |= 2;
    }
    let status = zx(
        SYS_VMO_GET_SIZE,
        [foreign as usize, ptr(&mut size), 0, 0, 0, 0, 0, 0],
    );
    if status != ZX_ERR_BAD_HANDLE {
        failed |= 4;
    }
    exit(failed)
}

/// Creates a VMO and exits with its handle value (for [`handle_isolation`]).
#[link_section = ".user.text"]
pub extern "sysv64" fn publish_a_handle(_: u64) -> ! {
    let (vmo, _) = vmo_mapped(PAGE, RW, 1);
    exit(vmo as u64)
}

/// Stores to page 1 of a resizable two-page VMO, shrinks it to one page, then
/// loads from page 1: the load must fault.
#[link_section = ".user.text"]
pub extern "sysv64" fn load_past_shrink(_: u64) -> ! {
    let mut vmo: u32 = 0;
    let len = 2 * PAGE;
    if zx(
        SYS_VMO_CREATE,
        [len, ZX_VMO_RESIZABLE as usize, ptr(&mut vmo), 0, 0, 0, 0, 0],
    ) != ZX_OK
    {
        exit(1);
    }
    let mut addr: usize = 0;
    let a = [
        root_vmar() as usize,
        RW as usize,
        0,
        vmo as usize,
        0,
        len,
        ptr(&mut addr),
        0,
    ];
    if zx(SYS_VMAR_MAP, a) != ZX_OK {
        exit(2);
    }
    store(addr.wrapping_add(PAGE), 9);
    if zx(SYS_VMO_SET_SIZE, [vmo as usize, PAGE, 0, 0, 0, 0, 0, 0]) != ZX_OK {
        exit(3);
    }
    if load(addr) != 0 {
        exit(4);
    }
    expect_fault_at(addr.wrapping_add(PAGE));
    load(addr.wrapping_add(PAGE));
    exit(5)
}

/// Stores to a page, decommits it, and loads it again: it must read zero.
#[link_section = ".user.text"]
pub extern "sysv64" fn decommit_then_load(_: u64) -> ! {
    let (vmo, addr) = vmo_mapped(PAGE, RW, 1);
    store(addr, 0x1234);
    let op = [
        vmo as usize,
        ZX_VMO_OP_DECOMMIT as usize,
        0,
        PAGE,
        0,
        0,
        0,
        0,
    ];
    if zx(SYS_VMO_OP_RANGE, op) != ZX_OK {
        exit(3);
    }
    if load(addr) != 0 {
        exit(4);
    }
    exit(0)
}

/// Protects a page read-only and back to read-write; the store after must land.
#[link_section = ".user.text"]
pub extern "sysv64" fn protect_round_trip(_: u64) -> ! {
    let (_, addr) = vmo_mapped(PAGE, RW, 1);
    store(addr, 1);
    let root = root_vmar() as usize;
    if zx(
        SYS_VMAR_PROTECT,
        [root, ZX_VM_PERM_READ as usize, addr, PAGE, 0, 0, 0, 0],
    ) != ZX_OK
    {
        exit(3);
    }
    if zx(
        SYS_VMAR_PROTECT,
        [root, RW as usize, addr, PAGE, 0, 0, 0, 0],
    ) != ZX_OK
    {
        exit(4);
    }
    store(addr, 2);
    if load(addr) != 2 {
        exit(5);
    }
    exit(0)
}

/// Allocates a sub-region, maps a page in it, stores, destroys the sub-region,
/// then loads: the load must fault.
#[link_section = ".user.text"]
pub extern "sysv64" fn load_after_destroy(_: u64) -> ! {
    let mut region: u32 = 0;
    let mut base: usize = 0;
    let options = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE;
    let a = [
        root_vmar() as usize,
        options as usize,
        0,
        16 * PAGE,
        ptr(&mut region),
        ptr(&mut base),
        0,
        0,
    ];
    if zx(SYS_VMAR_ALLOCATE, a) != ZX_OK {
        exit(1);
    }
    let mut vmo: u32 = 0;
    if zx(SYS_VMO_CREATE, [PAGE, 0, ptr(&mut vmo), 0, 0, 0, 0, 0]) != ZX_OK {
        exit(2);
    }
    let mut addr: usize = 0;
    let a = [
        region as usize,
        RW as usize,
        0,
        vmo as usize,
        0,
        PAGE,
        ptr(&mut addr),
        0,
    ];
    if zx(SYS_VMAR_MAP, a) != ZX_OK {
        exit(3);
    }
    store(addr, 5);
    if zx(SYS_VMAR_DESTROY, [region as usize, 0, 0, 0, 0, 0, 0, 0]) != ZX_OK {
        exit(4);
    }
    expect_fault_at(addr);
    load(addr);
    exit(5)
}
