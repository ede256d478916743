//! A first end-to-end pass through the syscall layer on the unix backend: create,
//! map, touch through a pointer, read back through the syscalls, unmap.

use zircon_syscall::*;
use zircon_tests::new_process;

fn read_u32(p: &Process, addr: usize) -> u32 {
    let mut b = [0u8; 4];
    p.read_memory(addr, &mut b).unwrap();
    u32::from_le_bytes(b)
}

fn read_usize(p: &Process, addr: usize) -> usize {
    let mut b = [0u8; 8];
    p.read_memory(addr, &mut b).unwrap();
    usize::from_le_bytes(b)
}

#[test]
fn map_touch_read_back_and_unmap() {
    let p = new_process();
    let s = p.scratch();
    assert_eq!(p.zx_vmo_create(8192, 0, s), ZX_OK);
    let vmo = read_u32(&p, s);
    assert_eq!(vmo & 3, 3);
    let root = p.zx_vmar_root_self();
    let opts = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
    assert_eq!(p.zx_vmar_map(root, opts, 0, vmo, 0, 8192, s + 8), ZX_OK);
    let addr = read_usize(&p, s + 8);
    // The mapping is host memory, demand-paged.
    let ptr = addr as *mut u8;
    // SAFETY: `addr` is the base of a fresh 8 KiB read-write mapping in this
    // process's window; the unix backend faults its pages in on first touch.
    unsafe {
        ptr.write(42);
        ptr.add(4096).write(43);
    }
    assert_eq!(p.zx_vmo_read(vmo, s + 64, 0, 1), ZX_OK);
    assert_eq!(p.zx_vmo_read(vmo, s + 65, 4096, 1), ZX_OK);
    let mut two = [0u8; 2];
    p.read_memory(s + 64, &mut two).unwrap();
    assert_eq!(two, [42, 43]);
    // And the other way: a VMO write shows through the pointer.
    p.write_memory(s + 100, &[7]).unwrap();
    assert_eq!(p.zx_vmo_write(vmo, s + 100, 5, 1), ZX_OK);
    // SAFETY: as above; the page is mapped and readable.
    assert_eq!(unsafe { ptr.add(5).read() }, 7);
    assert_eq!(p.zx_vmar_unmap(root, addr, 8192), ZX_OK);
    assert_eq!(p.read_memory(addr, &mut two), Err(ZX_ERR_INVALID_ARGS));
    assert_eq!(p.zx_handle_close(vmo), ZX_OK);
}

#[test]
fn unknown_syscall_numbers_are_bad_syscalls() {
    let p = new_process();
    assert_eq!(p.dispatch(0, [0; 8]), ZX_ERR_BAD_SYSCALL);
    assert_eq!(p.dispatch(999, [0; 8]), ZX_ERR_BAD_SYSCALL);
    assert_eq!(
        p.dispatch(SYS_VMAR_ROOT_SELF, [0; 8]) as u32,
        p.zx_vmar_root_self()
    );
}
