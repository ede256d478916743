//! Rights: a read-only handle cannot be mapped writable, nor its mapping raised.

use super::*;

pub(super) fn read_only_rights(d: &mut Demo) -> Step<()> {
    let root = d.p().zx_vmar_root_self();
    const SIZE: u64 = 64 * KIB;
    const RO: u32 = ZX_RIGHT_READ | ZX_RIGHT_MAP | ZX_RIGHT_DUPLICATE | ZX_RIGHT_TRANSFER;

    d.step("5.1 duplicate a VMO handle with read and map rights only");
    let vmo = d.vmo_create(SIZE, 0, "shared")?;
    let out = d.session.out_addr(0);
    let status = d.p().zx_handle_duplicate(vmo, RO, out);
    let ro = if status == ZX_OK {
        d.out(0, 4)? as u32
    } else {
        0
    };
    d.call(
        "zx_handle_duplicate(shared, READ|MAP|DUPLICATE|TRANSFER)",
        status,
        &format!(" -> ro = handle {ro:#x}"),
    )?;
    let full = d
        .session
        .handle_basic(vmo)
        .map_err(|st| d.broken("ZX_INFO_HANDLE_BASIC", st))?;
    let basic = d
        .session
        .handle_basic(ro)
        .map_err(|st| d.broken("ZX_INFO_HANDLE_BASIC", st))?;
    d.check(
        "the duplicate names the same VMO with exactly the rights asked for",
        basic.koid == full.koid && basic.rights == RO,
        || format!("koid {} rights {:#x}", basic.koid, basic.rights),
    );
    let before = d.show_map()?;

    d.step("5.2 try to map the read-only handle writable");
    let status = d.p().zx_vmar_map(root, RW, 0, ro, 0, SIZE as usize, out);
    d.check_status(
        "zx_vmar_map(root, PERM_READ|PERM_WRITE, 0, ro, 0, 64 KiB)",
        status,
        ZX_ERR_ACCESS_DENIED,
    );
    let after = d.show_map()?;
    d.check("the map is unchanged", after == before, || {
        format!("{} entries before, {} after", before.len(), after.len())
    });

    d.step("5.3 map it read-only; its protection can never be raised");
    let addr = d.vmar_map(
        root,
        "root",
        ZX_VM_PERM_READ,
        "PERM_READ",
        0,
        ro,
        "ro",
        0,
        SIZE,
    )?;
    let status = d
        .p()
        .zx_vmar_protect(root, RW, addr as usize, SIZE as usize);
    d.check_status(
        "zx_vmar_protect(root, PERM_READ|PERM_WRITE, addr, 64 KiB)",
        status,
        ZX_ERR_ACCESS_DENIED,
    );
    let stage = d.session.stage_addr();
    let status = d.p().zx_vmo_write(ro, stage, 0, 4);
    d.check_status("zx_vmo_write(ro, buf, 0, 4)", status, ZX_ERR_ACCESS_DENIED);
    let status = d
        .p()
        .zx_handle_duplicate(ro, ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_MAP, out);
    d.check_status(
        "zx_handle_duplicate(ro, READ|WRITE|MAP) (asking for more rights)",
        status,
        ZX_ERR_INVALID_ARGS,
    );
    let write = d.p().write_memory(addr as usize, b"x");
    d.check(
        "a write through the read-only mapping faults",
        write.is_err(),
        || format!("{write:?}"),
    );

    d.show_map()?;

    d.step("5.4 the full handle still writes, and the read-only mapping sees it");
    d.p()
        .write_memory(stage, b"hello")
        .map_err(|st| d.broken("staging bytes", st))?;
    let status = d.p().zx_vmo_write(vmo, stage, 0, 5);
    d.call("zx_vmo_write(shared, \"hello\", 0, 5)", status, "")?;
    let seen = d.peek(addr, 5)?;
    d.check(
        "reading through the read-only mapping gives \"hello\"",
        seen == b"hello",
        || fmt::quoted_bytes(&seen),
    );
    d.show_map()?;
    Ok(())
}
