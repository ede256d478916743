//! A mirrored ring buffer: one VMO mapped twice, back to back.

use super::*;

pub(super) fn ring_buffer(d: &mut Demo) -> Step<()> {
    let root = d.p().zx_vmar_root_self();
    const SIZE: u64 = 64 * KIB;

    d.step("3.1 map one 64 KiB VMO twice, back to back, in a 128 KiB region");
    let ring = d.vmo_create(SIZE, 0, "ring")?;
    let (region, base) =
        d.vmar_allocate(root, "root", REGION, REGION_TEXT, 0, 2 * SIZE, "region")?;
    let first = d.vmar_map(
        region,
        "region",
        RW | ZX_VM_SPECIFIC,
        "PERM_READ|PERM_WRITE|SPECIFIC",
        0,
        ring,
        "ring",
        0,
        SIZE,
    )?;
    let second = d.vmar_map(
        region,
        "region",
        RW | ZX_VM_SPECIFIC,
        "PERM_READ|PERM_WRITE|SPECIFIC",
        SIZE,
        ring,
        "ring",
        0,
        SIZE,
    )?;
    let koid = d.koid(ring)?;
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    d.check(
        "two adjacent mappings of the same VMO, both at VMO offset 0",
        first == base
            && second == base + SIZE
            && m.len() == 2
            && m.iter()
                .all(|e| e.mapping.as_ref().is_some_and(|m| m.vmo_offset == 0)),
        || format!("{} mappings at {first:#x} and {second:#x}", m.len()),
    );
    let mappings = d
        .session
        .vmo_info(ring)
        .map_err(|st| d.broken("ZX_INFO_VMO", st))?
        .num_mappings;
    d.check("ZX_INFO_VMO counts 2 mappings", mappings == 2, || {
        format!("{mappings}")
    });

    d.step("3.2 write 16 bytes starting 8 bytes before the end of the first copy");
    d.poke(first + SIZE - 8, b"0123456789abcdef")?;
    let start = d.vmo_bytes(ring, 0, 8)?;
    d.check(
        "the 8 bytes that ran off the end landed at the start of the buffer",
        start == b"89abcdef",
        || fmt::quoted_bytes(&start),
    );
    let via_first = d.peek(first, 8)?;
    d.check(
        "the first copy shows them at its start",
        via_first == b"89abcdef",
        || fmt::quoted_bytes(&via_first),
    );
    let via_second = d.peek(second + SIZE - 8, 8)?;
    d.check(
        "the second copy shows the head at its end",
        via_second == b"01234567",
        || fmt::quoted_bytes(&via_second),
    );
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    d.check(
        "both mappings see the same 2 committed pages",
        m.len() == 2
            && m.iter()
                .all(|e| e.mapping.as_ref().is_some_and(|m| m.committed_pages == 2)),
        || describe(m.first()),
    );
    Ok(())
}
