//! A heap that grows and shrinks inside a 1 GiB placeholder mapping.

use super::*;

pub(super) fn heap_in_placeholder(d: &mut Demo) -> Step<()> {
    let root = d.p().zx_vmar_root_self();

    d.step("1.1 reserve 1 GiB of address space, held by a placeholder mapping with no access");
    let (reserve, base) = d.vmar_allocate(root, "root", REGION, REGION_TEXT, 0, GIB, "reserve")?;
    let placeholder = d.vmo_create(GIB, 0, "placeholder")?;
    let at = d.vmar_map(
        reserve,
        "reserve",
        ZX_VM_SPECIFIC,
        "SPECIFIC",
        0,
        placeholder,
        "placeholder",
        0,
        GIB,
    )?;
    let info = d
        .session
        .vmar_info(reserve)
        .map_err(|st| d.broken("ZX_INFO_VMAR", st))?;
    d.check(
        "ZX_INFO_VMAR reports the reservation's base and 1 GiB",
        info.base as u64 == base && info.len as u64 == GIB,
        || format!("{info:?}"),
    );
    let ph_koid = d.koid(placeholder)?;
    let map = d.show_map()?;
    let ph = mappings_of(&map, ph_koid);
    d.check(
        "the placeholder covers the whole reservation, no access, nothing committed",
        at == base
            && ph.len() == 1
            && ph[0].base == base
            && ph[0].size == GIB
            && ph[0]
                .mapping
                .as_ref()
                .is_some_and(|m| m.mmu_flags == 0 && m.committed_pages == 0),
        || describe(ph.first()),
    );
    let read = d.p().read_memory(base as usize, &mut [0u8; 1]);
    d.check("reading the reserved range faults", read.is_err(), || {
        format!("{read:?}")
    });

    d.step("1.2 map a 1 MiB heap over the start of the placeholder (SPECIFIC_OVERWRITE)");
    let heap = d.vmo_create(MIB, ZX_VMO_RESIZABLE, "heap")?;
    let at = d.vmar_map(
        reserve,
        "reserve",
        RW | ZX_VM_SPECIFIC_OVERWRITE,
        "PERM_READ|PERM_WRITE|SPECIFIC_OVERWRITE",
        0,
        heap,
        "heap",
        0,
        MIB,
    )?;
    d.poke(base, b"first allocation")?;
    let heap_koid = d.koid(heap)?;
    let map = d.show_map()?;
    let hp = mappings_of(&map, heap_koid);
    let ph = mappings_of(&map, ph_koid);
    d.check(
        "the heap is mapped read-write at the reservation's base",
        at == base
            && hp.len() == 1
            && hp[0].base == base
            && hp[0].size == MIB
            && hp[0].mapping.as_ref().is_some_and(|m| m.mmu_flags == RW),
        || describe(hp.first()),
    );
    d.check(
        "the placeholder now starts 1 MiB in, at VMO offset 1 MiB",
        ph.len() == 1
            && ph[0].base == base + MIB
            && ph[0].size == GIB - MIB
            && ph[0].mapping.as_ref().is_some_and(|m| m.vmo_offset == MIB),
        || describe(ph.first()),
    );
    let committed = d.committed(heap)?;
    d.check(
        "the heap has committed exactly the page written",
        committed == 1,
        || format!("{committed} pages"),
    );
    let read = d.p().read_memory((base + MIB) as usize, &mut [0u8; 1]);
    d.check(
        "the byte after the heap still faults",
        read.is_err(),
        || format!("{read:?}"),
    );

    d.step("1.3 grow the heap by 2 MiB in place");
    let status = d.p().zx_vmo_set_size(heap, 3 * MIB);
    d.call("zx_vmo_set_size(heap, 3 MiB)", status, "")?;
    let at = d.vmar_map(
        reserve,
        "reserve",
        RW | ZX_VM_SPECIFIC_OVERWRITE,
        "PERM_READ|PERM_WRITE|SPECIFIC_OVERWRITE",
        0,
        heap,
        "heap",
        0,
        3 * MIB,
    )?;
    d.poke(base + 5 * MIB / 2, b"late allocation")?;
    let map = d.show_map()?;
    let hp = mappings_of(&map, heap_koid);
    let ph = mappings_of(&map, ph_koid);
    d.check(
        "the heap grew in place: one 3 MiB mapping at the same base",
        at == base && hp.len() == 1 && hp[0].base == base && hp[0].size == 3 * MIB,
        || describe(hp.first()),
    );
    d.check(
        "the placeholder gave up the 2 MiB",
        ph.len() == 1 && ph[0].base == base + 3 * MIB && ph[0].size == GIB - 3 * MIB,
        || describe(ph.first()),
    );
    let kept = d.peek(base, 16)?;
    d.check(
        "the heap's old contents are still there",
        kept == b"first allocation",
        || fmt::quoted_bytes(&kept),
    );
    let committed = d.committed(heap)?;
    d.check("the heap has committed 2 pages", committed == 2, || {
        format!("{committed} pages")
    });

    d.step("1.4 shrink the heap by 1 MiB, handing the range back to the placeholder");
    let at = d.vmar_map(
        reserve,
        "reserve",
        ZX_VM_SPECIFIC_OVERWRITE,
        "SPECIFIC_OVERWRITE",
        2 * MIB,
        placeholder,
        "placeholder",
        2 * MIB,
        MIB,
    )?;
    let status = d.p().zx_vmo_set_size(heap, 2 * MIB);
    d.call("zx_vmo_set_size(heap, 2 MiB)", status, "")?;
    let map = d.show_map()?;
    let hp = mappings_of(&map, heap_koid);
    let ph = mappings_of(&map, ph_koid);
    d.check(
        "the heap mapping is 2 MiB",
        hp.len() == 1 && hp[0].base == base && hp[0].size == 2 * MIB,
        || describe(hp.first()),
    );
    let ph_bytes: u64 = ph.iter().map(|e| e.size).sum();
    let contiguous = ph.windows(2).all(|w| w[0].end() == w[1].base);
    d.check(
        "placeholder mappings cover the rest of the reservation without a gap",
        at == base + 2 * MIB
            && ph.first().is_some_and(|e| e.base == base + 2 * MIB)
            && contiguous
            && ph_bytes == GIB - 2 * MIB,
        || {
            format!(
                "{} placeholder mappings, {} in all",
                ph.len(),
                fmt::size(ph_bytes)
            )
        },
    );
    let read = d.p().read_memory((base + 2 * MIB) as usize, &mut [0u8; 1]);
    d.check("the returned range faults again", read.is_err(), || {
        format!("{read:?}")
    });
    let kept = d.peek(base, 16)?;
    d.check(
        "the heap's contents survive the shrink",
        kept == b"first allocation",
        || fmt::quoted_bytes(&kept),
    );
    let committed = d.committed(heap)?;
    d.check(
        "the page past the new end was freed with the tail",
        committed == 1,
        || format!("{committed} pages"),
    );
    let out = d.session.out_addr(0);
    let status = d.p().zx_vmar_map(
        reserve,
        ZX_VM_PERM_READ,
        0,
        heap,
        0,
        PAGE_SIZE as usize,
        out,
    );
    d.check_status(
        "zx_vmar_map(reserve, PERM_READ, 0, heap, 0, 4 KiB) (anywhere)",
        status,
        ZX_ERR_NO_RESOURCES,
    );
    Ok(())
}
