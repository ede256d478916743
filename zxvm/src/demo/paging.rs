//! A large demand-paged mapping: pages committed on touch, released by decommit.

use super::*;

pub(super) fn demand_paging(d: &mut Demo) -> Step<()> {
    let root = d.p().zx_vmar_root_self();
    const SIZE: u64 = 256 * MIB;
    const STRIDE: u64 = 4 * MIB;
    const TOUCHED: u64 = SIZE / STRIDE;

    d.step("2.1 map 256 MiB; nothing is committed until it is touched");
    let big = d.vmo_create(SIZE, 0, "big")?;
    let addr = d.vmar_map(
        root,
        "root",
        RW,
        "PERM_READ|PERM_WRITE",
        0,
        big,
        "big",
        0,
        SIZE,
    )?;
    let koid = d.koid(big)?;
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    d.check(
        "the mapping is 256 MiB with no page committed",
        m.len() == 1
            && m[0].size == SIZE
            && m[0]
                .mapping
                .as_ref()
                .is_some_and(|m| m.committed_pages == 0),
        || describe(m.first()),
    );

    d.step("2.2 touch one byte in every 4 MiB through a pointer");
    d.permitted(addr, SIZE as usize, ZX_VM_PERM_WRITE)?;
    for i in 0..TOUCHED {
        let at = (addr + i * STRIDE) as usize as *mut u8;
        // SAFETY: `permitted` found the whole 256 MiB range inside a writable
        // mapping of this process, backed by the 256 MiB VMO; on the unix backend
        // the user address is the host address and the first touch is demand-paged.
        unsafe { at.write_volatile(i as u8 + 1) };
    }
    d.say(&format!(
        "   wrote bytes 1..={TOUCHED} at {addr:#x} + i * 4 MiB"
    ));
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    let committed = d.committed(big)?;
    d.check(
        "64 pages are committed, as the map and ZX_INFO_VMO both say",
        committed == TOUCHED
            && m.first()
                .and_then(|e| e.mapping.as_ref())
                .is_some_and(|m| m.committed_pages == TOUCHED),
        || format!("VMO {committed} pages; map: {}", describe(m.first())),
    );

    d.step("2.3 hint DONT_NEED on the first half");
    let status = d.p().zx_vmar_op_range(
        root,
        ZX_VMAR_OP_DONT_NEED,
        addr as usize,
        (SIZE / 2) as usize,
        0,
        0,
    );
    d.call(
        "zx_vmar_op_range(root, DONT_NEED, addr, 128 MiB)",
        status,
        "",
    )?;
    let committed = d.committed(big)?;
    d.say(&format!("   committed after the hint: {committed} pages"));
    let mut kept = true;
    for i in 0..TOUCHED {
        kept &= d.vmo_bytes(big, i * STRIDE, 1)? == [i as u8 + 1];
    }
    d.check(
        "a hint loses no data: every touched byte reads back",
        kept,
        || "a byte changed".into(),
    );

    d.show_map()?;

    d.step("2.4 decommit the first half");
    let status = d.p().zx_vmar_op_range(
        root,
        ZX_VMAR_OP_DECOMMIT,
        addr as usize,
        (SIZE / 2) as usize,
        0,
        0,
    );
    d.call(
        "zx_vmar_op_range(root, DECOMMIT, addr, 128 MiB)",
        status,
        "",
    )?;
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    let committed = d.committed(big)?;
    d.check(
        "half the pages are released; the mapping stays whole",
        committed == TOUCHED / 2
            && m.len() == 1
            && m[0].size == SIZE
            && m[0]
                .mapping
                .as_ref()
                .is_some_and(|m| m.committed_pages == TOUCHED / 2),
        || format!("VMO {committed} pages; map: {}", describe(m.first())),
    );
    let mut zeros = true;
    let mut kept = true;
    for i in 0..TOUCHED {
        let byte = d.vmo_bytes(big, i * STRIDE, 1)?[0];
        if i < TOUCHED / 2 {
            zeros &= byte == 0;
        } else {
            kept &= byte == i as u8 + 1;
        }
    }
    d.check("decommitted pages read as zero", zeros, || {
        "a released page kept data".into()
    });
    d.check("the second half kept its data", kept, || {
        "a kept page changed".into()
    });

    d.step("2.5 the released range is still usable: touch it again");
    d.poke(addr, b"\xaa")?;
    let committed = d.committed(big)?;
    let back = d.peek(addr, 1)?;
    d.check(
        "the write commits one fresh page and reads back",
        committed == TOUCHED / 2 + 1 && back == [0xaa],
        || format!("{committed} pages, read {back:?}"),
    );

    d.show_map()?;

    d.step("2.6 decommit a quarter through the VMO handle; the mapping sees it");
    let status = d
        .p()
        .zx_vmo_op_range(big, ZX_VMO_OP_DECOMMIT, SIZE / 2, SIZE / 4, 0, 0);
    d.call(
        "zx_vmo_op_range(big, DECOMMIT, 128 MiB, 64 MiB)",
        status,
        "",
    )?;
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    let want = TOUCHED / 4 + 1;
    d.check(
        &format!("{want} pages remain, in the VMO and in the map"),
        m.first()
            .and_then(|e| e.mapping.as_ref())
            .is_some_and(|m| m.committed_pages == want),
        || describe(m.first()),
    );
    Ok(())
}
