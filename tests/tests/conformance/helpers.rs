//! Small helpers shared by the conformance modules: creating objects and asserting
//! success, reading out-parameters back from the scratch area, reading `zx_info_*`
//! records back (through the syscall crate's record definitions), and probing
//! memory access.

#![allow(dead_code)]

pub use zircon_syscall::*;
pub use zircon_tests::{new_process, TestProcess};

/// The page size of every target.
pub const PAGE: usize = 4096;

/// Offsets inside the scratch area: four out-parameter slots, then a buffer area.
pub const OUT0: usize = 0;
/// Second out-parameter slot.
pub const OUT1: usize = 8;
/// Third out-parameter slot.
pub const OUT2: usize = 16;
/// Fourth out-parameter slot.
pub const OUT3: usize = 24;
/// Start of the buffer area (the rest of the scratch area, 60 KiB).
pub const BUF: usize = PAGE;
/// Size of the buffer area.
pub const BUF_LEN: usize = 15 * PAGE;

/// An address no mapping ever covers on our targets (low, below every root VMAR).
pub const UNMAPPED: usize = 0x1000;

/// Address of out-parameter slot `off` of `p`.
pub fn out(p: &TestProcess, off: usize) -> usize {
    p.scratch() + off
}

/// Reads `N` bytes at `addr` (panics if the kernel refuses).
pub fn read_bytes<const N: usize>(p: &TestProcess, addr: usize) -> [u8; N] {
    let mut b = [0u8; N];
    p.read_memory(addr, &mut b)
        .expect("read_memory of a readable address");
    b
}

/// Reads `len` bytes at `addr` (panics if the kernel refuses).
pub fn read_vec(p: &TestProcess, addr: usize, len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    p.read_memory(addr, &mut b)
        .expect("read_memory of a readable range");
    b
}

/// Reads a `u32` at `addr`.
pub fn read_u32(p: &TestProcess, addr: usize) -> u32 {
    u32::from_ne_bytes(read_bytes(p, addr))
}

/// Reads a `u64` at `addr`.
pub fn read_u64(p: &TestProcess, addr: usize) -> u64 {
    u64::from_ne_bytes(read_bytes(p, addr))
}

/// Reads a `usize` at `addr`.
pub fn read_usize(p: &TestProcess, addr: usize) -> usize {
    usize::from_ne_bytes(read_bytes(p, addr))
}

/// Writes a `u64` at `addr`.
pub fn write_u64(p: &TestProcess, addr: usize, v: u64) {
    p.write_memory(addr, &v.to_ne_bytes())
        .expect("write_memory of a writable address");
}

/// Fills the four out-parameter slots with a marker so a test can see which were written.
pub fn poison_outs(p: &TestProcess) {
    p.write_memory(p.scratch(), &[0xa5u8; 32]).unwrap();
}

/// The marker `poison_outs` leaves in a `u32` slot.
pub const POISON32: u32 = 0xa5a5_a5a5;
/// The marker `poison_outs` leaves in a `usize` slot.
pub const POISON: usize = usize::from_ne_bytes([0xa5; 8]);

/// Creates a VMO of `size` bytes with `options`, asserting success; returns its handle.
pub fn vmo_with(p: &TestProcess, size: u64, options: u32) -> u32 {
    let o = out(p, OUT0);
    assert_eq!(p.zx_vmo_create(size, options, o), ZX_OK);
    read_u32(p, o)
}

/// Creates a plain VMO of `size` bytes, asserting success; returns its handle.
pub fn vmo(p: &TestProcess, size: usize) -> u32 {
    vmo_with(p, size as u64, 0)
}

/// Duplicates `h` with `rights`, asserting success.
pub fn dup(p: &TestProcess, h: u32, rights: u32) -> u32 {
    let o = out(p, OUT3);
    assert_eq!(p.zx_handle_duplicate(h, rights, o), ZX_OK);
    read_u32(p, o)
}

/// Writes `data` to `h` at `offset`, through the buffer area, asserting success.
pub fn vmo_write(p: &TestProcess, h: u32, offset: u64, data: &[u8]) {
    let b = p.scratch() + BUF;
    p.write_memory(b, data).unwrap();
    assert_eq!(p.zx_vmo_write(h, b, offset, data.len()), ZX_OK);
}

/// Reads `len` bytes of `h` at `offset`, through the buffer area, asserting success.
pub fn vmo_read(p: &TestProcess, h: u32, offset: u64, len: usize) -> Vec<u8> {
    let b = p.scratch() + BUF;
    assert_eq!(p.zx_vmo_read(h, b, offset, len), ZX_OK);
    read_vec(p, b, len)
}

/// Calls `zx_vmo_get_size` and returns the size, asserting success.
pub fn vmo_size(p: &TestProcess, h: u32) -> u64 {
    let o = out(p, OUT0);
    assert_eq!(p.zx_vmo_get_size(h, o), ZX_OK);
    read_u64(p, o)
}

/// Allocates a sub-VMAR, asserting success; returns (handle, base).
pub fn allocate(
    p: &TestProcess,
    parent: u32,
    options: u32,
    offset: usize,
    size: usize,
) -> (u32, usize) {
    let (h, a) = (out(p, OUT0), out(p, OUT1));
    assert_eq!(
        p.zx_vmar_allocate(parent, options, offset, size, h, a),
        ZX_OK
    );
    (read_u32(p, h), read_usize(p, a))
}

/// Read-write sub-VMAR rights flags.
pub const RW_CAN: u32 = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE;
/// Read-write sub-VMAR flags that also allow specific placement.
pub const RWS_CAN: u32 = RW_CAN | ZX_VM_CAN_MAP_SPECIFIC;
/// Read-write mapping permissions.
pub const RW: u32 = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
/// Read-only mapping permissions.
pub const R: u32 = ZX_VM_PERM_READ;

/// A sub-VMAR of the root of `pages` pages that allows read, write and specific mappings.
pub fn region(p: &TestProcess, pages: usize) -> (u32, usize) {
    allocate(p, p.zx_vmar_root_self(), RWS_CAN, 0, pages * PAGE)
}

/// Maps `len` bytes of `vmo` at `vmo_offset` into `vmar`, asserting success; returns the base.
pub fn map(
    p: &TestProcess,
    vmar: u32,
    options: u32,
    vmar_offset: usize,
    vmo: u32,
    vmo_offset: u64,
    len: usize,
) -> usize {
    let o = out(p, OUT2);
    assert_eq!(
        p.zx_vmar_map(vmar, options, vmar_offset, vmo, vmo_offset, len, o),
        ZX_OK
    );
    read_usize(p, o)
}

/// Maps `pages` pages of `vmo` (from offset 0) read-write at page `at` of `vmar`.
pub fn map_at(p: &TestProcess, vmar: u32, at: usize, vmo: u32, pages: usize) -> usize {
    map(
        p,
        vmar,
        RW | ZX_VM_SPECIFIC,
        at * PAGE,
        vmo,
        0,
        pages * PAGE,
    )
}

/// Whether one byte at `addr` can be read through the kernel's user copy.
pub fn readable(p: &TestProcess, addr: usize) -> bool {
    p.read_memory(addr, &mut [0u8]).is_ok()
}

/// Whether one byte at `addr` can be written (it is written back unchanged).
pub fn writable(p: &TestProcess, addr: usize) -> bool {
    let mut b = [0u8];
    if p.read_memory(addr, &mut b).is_err() {
        return p.write_memory(addr, &[0]).is_ok();
    }
    p.write_memory(addr, &b).is_ok()
}

/// Decodes a `u32` at `off`, for the checks of padding bytes no record field covers.
pub fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes(b[off..off + 4].try_into().unwrap())
}

/// Calls `zx_object_get_info` with the buffer area; returns (status, bytes, actual, avail).
pub fn info_raw(p: &TestProcess, h: u32, topic: u32, size: usize) -> (i32, Vec<u8>, usize, usize) {
    assert!(size <= BUF_LEN);
    let b = p.scratch() + BUF;
    poison_outs(p);
    let st = p.zx_object_get_info(h, topic, b, size, out(p, OUT0), out(p, OUT1));
    (
        st,
        read_vec(p, b, size),
        read_usize(p, out(p, OUT0)),
        read_usize(p, out(p, OUT1)),
    )
}

/// Queries `ZX_INFO_HANDLE_BASIC` for `h`, asserting success.
pub fn basic(p: &TestProcess, h: u32) -> HandleBasic {
    let (st, b, actual, avail) = info_raw(p, h, ZX_INFO_HANDLE_BASIC, HandleBasic::SIZE);
    assert_eq!((st, actual, avail), (ZX_OK, 1, 1));
    HandleBasic::read_from(&b)
}

/// Rights of handle `h`.
pub fn rights(p: &TestProcess, h: u32) -> u32 {
    basic(p, h).rights
}

/// Queries `ZX_INFO_VMAR` for `h`, asserting success; returns (base, len).
pub fn vmar_info(p: &TestProcess, h: u32) -> (usize, usize) {
    let (st, b, actual, avail) = info_raw(p, h, ZX_INFO_VMAR, VmarInfo::SIZE);
    assert_eq!((st, actual, avail), (ZX_OK, 1, 1));
    let info = VmarInfo::read_from(&b);
    (info.base, info.len)
}

/// Queries `ZX_INFO_VMO` (v3, 128 bytes) for `h`, asserting success.
pub fn vmo_info(p: &TestProcess, h: u32) -> VmoInfo {
    let (st, b, actual, avail) = info_raw(p, h, ZX_INFO_VMO, VmoInfo::SIZE);
    assert_eq!((st, actual, avail), (ZX_OK, 1, 1));
    VmoInfo::read_from(&b)
}

/// Committed bytes of VMO `h`.
pub fn committed(p: &TestProcess, h: u32) -> u64 {
    vmo_info(p, h).committed_bytes
}

/// All `ZX_INFO_PROCESS_MAPS` (v2) records of the process.
pub fn maps(p: &TestProcess) -> Vec<MapsEntry> {
    let me = p.zx_process_self();
    let (st, _, _, avail) = info_raw(p, me, ZX_INFO_PROCESS_MAPS, 0);
    assert_eq!(st, ZX_OK);
    let size = avail * MapsEntry::SIZE;
    let (st, b, actual, avail2) = info_raw(p, me, ZX_INFO_PROCESS_MAPS, size);
    assert_eq!((st, actual, avail2), (ZX_OK, avail, avail));
    b.chunks(MapsEntry::SIZE)
        .map(MapsEntry::read_from)
        .collect()
}

/// The mapping entries of the process that start inside `[lo, hi)`.
pub fn mappings_in(p: &TestProcess, lo: usize, hi: usize) -> Vec<MapsEntry> {
    maps(p)
        .into_iter()
        .filter(|m| m.kind == ZX_INFO_MAPS_TYPE_MAPPING && m.base >= lo && m.base < hi)
        .collect()
}

/// All `ZX_INFO_PROCESS_VMOS` (v3) records of the process.
pub fn process_vmos(p: &TestProcess) -> Vec<VmoInfo> {
    let me = p.zx_process_self();
    let (st, _, _, avail) = info_raw(p, me, ZX_INFO_PROCESS_VMOS, 0);
    assert_eq!(st, ZX_OK);
    let size = avail * VmoInfo::SIZE;
    let (st, b, actual, avail2) = info_raw(p, me, ZX_INFO_PROCESS_VMOS, size);
    assert_eq!((st, actual, avail2), (ZX_OK, avail, avail));
    b.chunks(VmoInfo::SIZE).map(VmoInfo::read_from).collect()
}

/// Number of VMO handles in the process's table (entries reported via a handle).
pub fn vmo_handle_count(p: &TestProcess) -> usize {
    process_vmos(p)
        .iter()
        .filter(|v| v.flags & ZX_INFO_VMO_VIA_HANDLE != 0)
        .count()
}

/// Number of VMAR entries (depth >= 2: below the root) in the process's maps.
pub fn sub_vmar_count(p: &TestProcess) -> usize {
    maps(p)
        .iter()
        .filter(|m| m.kind == ZX_INFO_MAPS_TYPE_VMAR && m.depth >= 2)
        .count()
}

/// Asserts `status` is one of `allowed`.
#[track_caller]
pub fn assert_one_of(status: i32, allowed: &[i32]) {
    assert!(
        allowed.contains(&status),
        "status {status} not in {allowed:?}"
    );
}

/// A handle value that was live once and is closed now: never valid again soon, since
/// freed values are not reused at once (docs/ABI.md §9.3).
pub fn closed_handle(p: &TestProcess) -> u32 {
    let h = vmo(p, 0);
    assert_eq!(p.zx_handle_close(h), ZX_OK);
    h
}

/// Calls `zx_vmo_create_child`; returns the status and, on success, the new handle.
pub fn child(p: &TestProcess, h: u32, options: u32, offset: u64, size: u64) -> (i32, Option<u32>) {
    poison_outs(p);
    let st = p.zx_vmo_create_child(h, options, offset, size, out(p, OUT0));
    let v = read_u32(p, out(p, OUT0));
    if st == ZX_OK {
        (st, Some(v))
    } else {
        assert_eq!(v, POISON32, "a failed call wrote a handle");
        (st, None)
    }
}

/// Creates a child, asserting success.
#[track_caller]
pub fn make(p: &TestProcess, h: u32, options: u32, offset: u64, size: u64) -> u32 {
    let (st, c) = child(p, h, options, offset, size);
    assert_eq!(st, ZX_OK);
    c.unwrap()
}

/// Reads the byte at user address `a` through a host pointer (on the unix backend
/// user addresses are host addresses).
pub fn raw_read(a: usize) -> u8 {
    // SAFETY: callers pass an address inside a live mapping whose current protection
    // allows reading; the unix backend serves the first touch by demand paging.
    unsafe { (a as *const u8).read_volatile() }
}

/// Writes `v` at user address `a` through a host pointer.
pub fn raw_write(a: usize, v: u8) {
    // SAFETY: callers pass an address inside a live mapping whose current protection
    // allows writing; the unix backend serves the first touch (and a store to a page
    // shared copy-on-write) by a fault.
    unsafe { (a as *mut u8).write_volatile(v) }
}

/// Maps all `pages` pages of `h` read-write anywhere in the root VMAR.
pub fn map_rw(p: &TestProcess, h: u32, pages: usize) -> usize {
    map(p, p.zx_vmar_root_self(), RW, 0, h, 0, pages * PAGE)
}
