//! A thread stack with an unmapped guard page below it.

use super::*;

pub(super) fn stack_with_guard(d: &mut Demo) -> Step<()> {
    let root = d.p().zx_vmar_root_self();
    const STACK: u64 = 64 * KIB;

    d.step("4.1 a 68 KiB region: a 4 KiB guard below a 64 KiB stack mapping");
    let (region, base) = d.vmar_allocate(
        root,
        "root",
        REGION,
        REGION_TEXT,
        0,
        STACK + PAGE_SIZE,
        "stack_region",
    )?;
    let stack = d.vmo_create(STACK, 0, "stack")?;
    let bottom = d.vmar_map(
        region,
        "stack_region",
        RW | ZX_VM_SPECIFIC,
        "PERM_READ|PERM_WRITE|SPECIFIC",
        PAGE_SIZE,
        stack,
        "stack",
        0,
        STACK,
    )?;
    let map = d.show_map()?;
    let guard_free = !map
        .iter()
        .any(|e| e.mapping.is_some() && e.base < base + PAGE_SIZE && e.end() > base);
    d.check(
        "the stack starts one page above the region's base",
        bottom == base + PAGE_SIZE,
        || format!("{bottom:#x}"),
    );
    d.check("nothing is mapped in the guard page", guard_free, || {
        "a mapping covers it".into()
    });

    d.step("4.2 push a frame: the stack grows down from its top");
    let top = bottom + STACK;
    d.poke(top - 32, b"return address, saved registers")?;
    let committed = d.committed(stack)?;
    d.check("only the top page is committed", committed == 1, || {
        format!("{committed} pages")
    });

    d.show_map()?;

    d.step("4.3 overflow: a 16-byte write that crosses from the stack into the guard page");
    let write = d.p().write_memory((bottom - 8) as usize, &[0x55; 16]);
    d.say(&format!(
        "   write_memory({:#x}, 16 bytes) = {}",
        bottom - 8,
        write.err().map_or("ZX_OK".into(), status::describe)
    ));
    d.check(
        "the write faults with ZX_ERR_INVALID_ARGS",
        write == Err(ZX_ERR_INVALID_ARGS),
        || format!("{write:?}"),
    );
    let first = d.vmo_bytes(stack, 0, 8)?;
    d.check(
        "and changes nothing: the stack's lowest bytes are still zero",
        first == [0u8; 8],
        || fmt::quoted_bytes(&first),
    );
    let committed = d.committed(stack)?;
    d.check("and commits nothing", committed == 1, || {
        format!("{committed} pages")
    });
    let read = d.p().read_memory(base as usize, &mut [0u8; 1]);
    d.check("reading the guard page faults too", read.is_err(), || {
        format!("{read:?}")
    });
    d.show_map()?;
    Ok(())
}
