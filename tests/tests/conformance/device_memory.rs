//! `zx_resource_create`, `ZX_INFO_RESOURCE` and `zx_vmo_create_physical`
//! (docs/ABI.md §8.8 and "Device memory").

use crate::helpers::*;

const P: u64 = PAGE as u64;
const MMIO: u32 = ZX_RSRC_KIND_MMIO;

/// Calls `zx_resource_create` with a name; returns the status and the new handle.
fn resource(
    p: &TestProcess,
    parent: u32,
    options: u32,
    base: u64,
    size: usize,
    name: &[u8],
) -> (i32, Option<u32>) {
    let at = p.scratch() + BUF;
    p.write_memory(at, name).unwrap();
    poison_outs(p);
    let st = p.zx_resource_create(parent, options, base, size, at, name.len(), out(p, OUT0));
    let h = read_u32(p, out(p, OUT0));
    if st == ZX_OK {
        (st, Some(h))
    } else {
        assert_eq!(h, POISON32, "a failed create wrote a handle");
        (st, None)
    }
}

/// An MMIO resource over `[base, base + size)`, asserting success.
fn mmio(p: &TestProcess, base: u64, size: usize) -> u32 {
    let (st, h) = resource(p, p.root_resource(), MMIO, base, size, b"mmio");
    assert_eq!(st, ZX_OK);
    h.unwrap()
}

/// Calls `zx_vmo_create_physical`; returns the status and the new handle.
fn physical(p: &TestProcess, rsrc: u32, paddr: u64, size: usize) -> (i32, Option<u32>) {
    poison_outs(p);
    let st = p.zx_vmo_create_physical(rsrc, paddr, size, out(p, OUT0));
    let h = read_u32(p, out(p, OUT0));
    if st == ZX_OK {
        (st, Some(h))
    } else {
        assert_eq!(h, POISON32, "a failed create wrote a handle");
        (st, None)
    }
}

/// A physical VMO over the first `pages` pages of device memory.
fn device_vmo(p: &TestProcess, pages: usize) -> u32 {
    let (dev, _) = p.device_memory();
    let (st, h) = physical(p, p.root_resource(), dev as u64, pages * PAGE);
    assert_eq!(st, ZX_OK);
    h.unwrap()
}

/// `ZX_INFO_RESOURCE` of `h`, asserting success.
fn resource_info(p: &TestProcess, h: u32) -> ResourceInfo {
    let (st, b, actual, avail) = info_raw(p, h, ZX_INFO_RESOURCE, ResourceInfo::SIZE);
    assert_eq!((st, actual, avail), (ZX_OK, 1, 1));
    ResourceInfo::read_from(&b)
}

// ---- resources ----

#[test]
fn the_root_resource_is_a_resource_with_default_rights() {
    let p = new_process();
    let root = p.root_resource();
    assert_eq!(root, p.root_resource(), "one handle, installed once");
    let b = basic(&p, root);
    assert_eq!(b.obj_type, ZX_OBJ_TYPE_RESOURCE);
    assert_eq!(b.rights, ZX_DEFAULT_RESOURCE_RIGHTS);
    let info = resource_info(&p, root);
    assert_eq!((info.kind, info.base, info.size), (ZX_RSRC_KIND_ROOT, 0, 0));
}

#[test]
fn device_memory_is_page_aligned_and_not_ram() {
    let p = new_process();
    let (dev, len) = p.device_memory();
    assert!(len >= 16 * PAGE);
    assert_eq!((dev % PAGE, len % PAGE), (0, 0));
    assert!(
        dev >= p.hal().config().phys_size,
        "device memory overlaps RAM"
    );
}

#[test]
fn a_child_resource_reports_its_kind_range_and_name() {
    let p = new_process();
    let (dev, _) = p.device_memory();
    let h = mmio(&p, dev as u64, 4 * PAGE);
    let info = resource_info(&p, h);
    assert_eq!(
        (info.kind, info.flags, info.base, info.size),
        (MMIO, 0, dev as u64, 4 * PAGE)
    );
    assert_eq!(&info.name[..5], b"mmio\0");
    assert_eq!(basic(&p, h).rights, ZX_DEFAULT_RESOURCE_RIGHTS);
}

#[test]
fn a_long_name_is_cut_to_31_bytes() {
    let p = new_process();
    let (st, h) = resource(&p, p.root_resource(), MMIO, 0x1000, PAGE, &[b'n'; 40]);
    assert_eq!(st, ZX_OK);
    let info = resource_info(&p, h.unwrap());
    assert_eq!(info.name[..31], [b'n'; 31]);
    assert_eq!(info.name[31], 0);
}

#[test]
fn every_kind_can_be_made_from_the_root() {
    let p = new_process();
    for kind in [
        ZX_RSRC_KIND_MMIO,
        ZX_RSRC_KIND_IRQ,
        ZX_RSRC_KIND_IOPORT,
        ZX_RSRC_KIND_SMC,
        ZX_RSRC_KIND_SYSTEM,
    ] {
        let (st, h) = resource(&p, p.root_resource(), kind, 1, 1, b"");
        assert_eq!(st, ZX_OK, "kind {kind}");
        assert_eq!(resource_info(&p, h.unwrap()).kind, kind);
    }
    let (st, _) = resource(&p, p.root_resource(), ZX_RSRC_KIND_ROOT, 0, 0, b"");
    assert_eq!(st, ZX_OK);
}

#[test]
fn resource_create_checks_the_parent_handle_first() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let no_write = dup(
        &p,
        p.root_resource(),
        ZX_DEFAULT_RESOURCE_RIGHTS & !ZX_RIGHT_WRITE,
    );
    let closed = closed_handle(&p);
    // Bad options too: the handle is checked before them.
    for (parent, want) in [
        (ZX_HANDLE_INVALID, ZX_ERR_BAD_HANDLE),
        (closed, ZX_ERR_BAD_HANDLE),
        (v, ZX_ERR_WRONG_TYPE),
        (p.zx_vmar_root_self(), ZX_ERR_WRONG_TYPE),
        (no_write, ZX_ERR_ACCESS_DENIED),
    ] {
        assert_eq!(resource(&p, parent, 99, 0, 0, b"").0, want);
    }
}

#[test]
fn unknown_kinds_and_flags_are_invalid_args() {
    let p = new_process();
    let root = p.root_resource();
    for options in [6, 7, 0xffff, MMIO | (1 << 17), MMIO | (1 << 31)] {
        assert_eq!(
            resource(&p, root, options, 0x1000, PAGE, b"").0,
            ZX_ERR_INVALID_ARGS,
            "{options:#x}"
        );
    }
}

#[test]
fn exclusive_resources_are_not_supported() {
    let p = new_process();
    let st = resource(
        &p,
        p.root_resource(),
        MMIO | ZX_RSRC_FLAG_EXCLUSIVE,
        0x1000,
        PAGE,
        b"",
    )
    .0;
    assert_eq!(st, ZX_ERR_NOT_SUPPORTED);
}

#[test]
fn ranged_kinds_need_a_size_and_no_overflow() {
    let p = new_process();
    let root = p.root_resource();
    assert_eq!(
        resource(&p, root, MMIO, 0x1000, 0, b"").0,
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        resource(&p, root, MMIO, u64::MAX - 10, PAGE, b"").0,
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        resource(&p, root, ZX_RSRC_KIND_ROOT, 0x1000, 0, b"").0,
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        resource(&p, root, ZX_RSRC_KIND_ROOT, 0, 1, b"").0,
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn a_child_resource_outside_its_parent_is_access_denied() {
    let p = new_process();
    let parent = mmio(&p, 0x10_0000, 4 * PAGE);
    for (base, size) in [
        (0x10_0000 - P, PAGE),
        (0x10_0000, 5 * PAGE),
        (0x10_0000 + 3 * P, 2 * PAGE),
        (0x20_0000, PAGE),
    ] {
        assert_eq!(
            resource(&p, parent, MMIO, base, size, b"").0,
            ZX_ERR_ACCESS_DENIED,
            "{base:#x}+{size:#x}"
        );
    }
    let (st, h) = resource(&p, parent, MMIO, 0x10_0000 + P, 2 * PAGE, b"inner");
    assert_eq!(st, ZX_OK);
    // A grandchild is bound by its own parent's range.
    assert_eq!(
        resource(&p, h.unwrap(), MMIO, 0x10_0000, PAGE, b"").0,
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn a_child_resource_of_another_kind_is_access_denied() {
    let p = new_process();
    let parent = mmio(&p, 0x10_0000, 4 * PAGE);
    for kind in [ZX_RSRC_KIND_IRQ, ZX_RSRC_KIND_IOPORT, ZX_RSRC_KIND_SYSTEM] {
        assert_eq!(
            resource(&p, parent, kind, 0x10_0000, PAGE, b"").0,
            ZX_ERR_ACCESS_DENIED
        );
    }
    assert_eq!(
        resource(&p, parent, ZX_RSRC_KIND_ROOT, 0, 0, b"").0,
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn a_bad_name_or_out_pointer_is_invalid_args_and_installs_nothing() {
    let p = new_process();
    let root = p.root_resource();
    let before = p.object().handles().len();
    assert_eq!(
        p.zx_resource_create(root, MMIO, 0x1000, PAGE, UNMAPPED, 4, out(&p, OUT0)),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(
        p.zx_resource_create(root, MMIO, 0x1000, PAGE, 0, 0, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(p.object().handles().len(), before);
}

#[test]
fn resource_info_needs_inspect_and_a_resource() {
    let p = new_process();
    let no_inspect = dup(&p, p.root_resource(), ZX_RIGHT_WRITE);
    let v = vmo(&p, PAGE);
    let size = ResourceInfo::SIZE;
    assert_eq!(
        info_raw(&p, no_inspect, ZX_INFO_RESOURCE, size).0,
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(info_raw(&p, v, ZX_INFO_RESOURCE, size).0, ZX_ERR_WRONG_TYPE);
    let (st, _, actual, avail) = info_raw(&p, p.root_resource(), ZX_INFO_RESOURCE, size - 1);
    assert_eq!((st, actual, avail), (ZX_ERR_BUFFER_TOO_SMALL, 0, 1));
}

// ---- physical VMOs ----

#[test]
fn a_physical_vmo_reports_physical_uncached_and_nothing_committed() {
    let p = new_process();
    let before = p.frames_in_use();
    let v = device_vmo(&p, 4);
    let info = vmo_info(&p, v);
    assert_eq!(info.flags & ZX_INFO_VMO_TYPE_PAGED, 0);
    assert_eq!(info.flags & ZX_INFO_VMO_RESIZABLE, 0);
    assert_eq!(info.cache_policy, ZX_CACHE_POLICY_UNCACHED);
    assert_eq!((info.size_bytes, info.committed_bytes), (4 * P, 0));
    assert_eq!(rights(&p, v), ZX_DEFAULT_VMO_RIGHTS);
    assert_eq!(p.frames_in_use(), before, "a physical VMO took frames");
}

#[test]
fn two_physical_vmos_over_the_same_range_alias_through_mappings() {
    let p = new_process();
    let before = p.frames_in_use();
    let a = device_vmo(&p, 2);
    let b = device_vmo(&p, 2);
    let root = p.zx_vmar_root_self();
    let x = map(&p, root, RW, 0, a, 0, 2 * PAGE);
    let y = map(&p, root, RW, 0, b, 0, 2 * PAGE);
    p.write_memory(x + PAGE + 5, b"device").unwrap();
    assert_eq!(read_vec(&p, y + PAGE + 5, 6), b"device");
    // A host store through one mapping is seen through the other.
    // SAFETY: `x` starts a live 2-page read-write mapping of device memory.
    unsafe { (x as *mut u8).write_volatile(7) };
    assert_eq!(read_vec(&p, y, 1), [7]);
    assert_eq!(
        p.frames_in_use(),
        before,
        "mapping device memory took frames"
    );
    for h in [a, b] {
        assert_eq!(p.zx_handle_close(h), ZX_OK);
    }
    assert_eq!(p.zx_vmar_unmap(root, x, 2 * PAGE), ZX_OK);
    assert_eq!(p.zx_vmar_unmap(root, y, 2 * PAGE), ZX_OK);
    // The device memory keeps what was written: nothing freed or zeroed it.
    let c = device_vmo(&p, 2);
    let z = map(&p, root, R, 0, c, 0, 2 * PAGE);
    assert_eq!(read_vec(&p, z + PAGE + 5, 6), b"device");
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn physical_create_checks_the_resource_handle() {
    let p = new_process();
    let (dev, _) = p.device_memory();
    let v = vmo(&p, PAGE);
    for (h, want) in [
        (ZX_HANDLE_INVALID, ZX_ERR_BAD_HANDLE),
        (closed_handle(&p), ZX_ERR_BAD_HANDLE),
        (v, ZX_ERR_WRONG_TYPE),
        (p.zx_process_self(), ZX_ERR_WRONG_TYPE),
    ] {
        assert_eq!(physical(&p, h, dev as u64, PAGE).0, want);
    }
}

#[test]
fn physical_create_needs_an_mmio_resource_covering_the_range() {
    let p = new_process();
    let (dev, _) = p.device_memory();
    let dev = dev as u64;
    let r = mmio(&p, dev + P, 2 * PAGE);
    let (st, h) = physical(&p, r, dev + P, 2 * PAGE);
    assert_eq!(st, ZX_OK);
    assert_eq!(vmo_info(&p, h.unwrap()).size_bytes, 2 * P);
    for (paddr, size) in [(dev, PAGE), (dev + P, 3 * PAGE), (dev + 3 * P, PAGE)] {
        assert_eq!(physical(&p, r, paddr, size).0, ZX_ERR_ACCESS_DENIED);
    }
    let (_, irq) = resource(&p, p.root_resource(), ZX_RSRC_KIND_IRQ, dev + P, PAGE, b"");
    assert_eq!(
        physical(&p, irq.unwrap(), dev + P, PAGE).0,
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn physical_create_refuses_unaligned_empty_and_overflowing_ranges() {
    let p = new_process();
    let (dev, _) = p.device_memory();
    let dev = dev as u64;
    let root = p.root_resource();
    for (paddr, size) in [
        (dev + 1, PAGE),
        (dev, PAGE + 1),
        (dev, 0),
        (u64::MAX - P + 1, 2 * PAGE),
    ] {
        assert_eq!(
            physical(&p, root, paddr, size).0,
            ZX_ERR_INVALID_ARGS,
            "{paddr:#x}+{size:#x}"
        );
    }
}

#[test]
fn a_physical_range_over_ram_or_past_device_memory_is_invalid_args() {
    let p = new_process();
    let (dev, len) = p.device_memory();
    let root = p.root_resource();
    let before = p.frames_in_use();
    for (paddr, size) in [
        (0, PAGE),
        (dev - PAGE, 2 * PAGE),
        (dev + len - PAGE, 2 * PAGE),
        (dev + len, PAGE),
    ] {
        assert_eq!(
            physical(&p, root, paddr as u64, size).0,
            ZX_ERR_INVALID_ARGS,
            "{paddr:#x}+{size:#x}"
        );
    }
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn physical_vmos_refuse_byte_io_snapshots_decommit_and_zero() {
    let p = new_process();
    let v = device_vmo(&p, 2);
    let b = p.scratch() + BUF;
    assert_eq!(p.zx_vmo_read(v, b, 0, 1), ZX_ERR_NOT_SUPPORTED);
    assert_eq!(p.zx_vmo_write(v, b, 0, 1), ZX_ERR_NOT_SUPPORTED);
    for options in [
        ZX_VMO_CHILD_SNAPSHOT,
        ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
    ] {
        assert_eq!(
            p.zx_vmo_create_child(v, options, 0, P, out(&p, OUT0)),
            ZX_ERR_NOT_SUPPORTED
        );
    }
    for op in [ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_ZERO] {
        assert_eq!(p.zx_vmo_op_range(v, op, 0, P, 0, 0), ZX_ERR_NOT_SUPPORTED);
    }
    assert_eq!(p.zx_vmo_set_size(v, 4 * P), ZX_ERR_UNAVAILABLE);
    assert_eq!(vmo_info(&p, v).num_children, 0);
}

#[test]
fn a_slice_of_a_physical_vmo_shows_the_same_device_memory() {
    let p = new_process();
    let v = device_vmo(&p, 4);
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, P, 2 * P, out(&p, OUT0)),
        ZX_OK
    );
    let s = read_u32(&p, out(&p, OUT0));
    let root = p.zx_vmar_root_self();
    let whole = map(&p, root, RW, 0, v, 0, 4 * PAGE);
    let part = map(&p, root, RW, 0, s, 0, 2 * PAGE);
    p.write_memory(part, b"slice").unwrap();
    assert_eq!(read_vec(&p, whole + PAGE, 5), b"slice");
    assert_eq!(vmo_info(&p, s).cache_policy, ZX_CACHE_POLICY_UNCACHED);
    let b = p.scratch() + BUF;
    assert_eq!(p.zx_vmo_read(s, b, 0, 1), ZX_ERR_NOT_SUPPORTED);
    // Past the end of the physical VMO: as for any slice.
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, 3 * P, 2 * P, out(&p, OUT0)),
        ZX_ERR_INVALID_ARGS
    );
}

#[test]
fn a_physical_vmo_takes_any_cache_policy_until_mapped() {
    let p = new_process();
    let v = device_vmo(&p, 1);
    for policy in [
        ZX_CACHE_POLICY_CACHED,
        ZX_CACHE_POLICY_WRITE_COMBINING,
        ZX_CACHE_POLICY_UNCACHED_DEVICE,
    ] {
        assert_eq!(p.zx_vmo_set_cache_policy(v, policy), ZX_OK);
        assert_eq!(vmo_info(&p, v).cache_policy, policy);
    }
    let a = map(&p, p.zx_vmar_root_self(), RW, 0, v, 0, PAGE);
    assert_eq!(
        p.zx_vmo_set_cache_policy(v, ZX_CACHE_POLICY_CACHED),
        ZX_ERR_BAD_STATE
    );
    assert_eq!(p.zx_vmar_unmap(p.zx_vmar_root_self(), a, PAGE), ZX_OK);
}

#[test]
fn a_mapping_past_a_physical_vmo_is_out_of_range() {
    let p = new_process();
    let v = device_vmo(&p, 2);
    let root = p.zx_vmar_root_self();
    assert_eq!(
        p.zx_vmar_map(root, RW, 0, v, P, 2 * PAGE, out(&p, OUT0)),
        ZX_ERR_OUT_OF_RANGE
    );
}

#[test]
fn commit_through_a_mapping_of_device_memory_is_not_supported_and_takes_no_frames() {
    let p = new_process();
    let before = p.frames_in_use();
    let v = device_vmo(&p, 4);
    let root = p.zx_vmar_root_self();
    let a = map(&p, root, RW, 0, v, 0, 4 * PAGE);
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_COMMIT, a, 4 * PAGE, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_MAP_RANGE, a, 4 * PAGE, 0, 0),
        ZX_OK
    );
    assert_eq!(
        p.zx_vmar_op_range(root, ZX_VMAR_OP_DECOMMIT, a, 4 * PAGE, 0, 0),
        ZX_ERR_NOT_SUPPORTED
    );
    assert!(writable(&p, a + 3 * PAGE));
    assert_eq!(p.frames_in_use(), before, "device pages came from RAM");
}

// ---- zx_vmo_replace_as_executable ----

/// A SYSTEM resource at `base` (size 1).
fn system(p: &TestProcess, base: u64) -> u32 {
    let (st, h) = resource(p, p.root_resource(), ZX_RSRC_KIND_SYSTEM, base, 1, b"sys");
    assert_eq!(st, ZX_OK);
    h.unwrap()
}

#[test]
fn replace_as_executable_adds_execute_and_consumes_the_handle() {
    let p = new_process();
    let vmex = system(&p, ZX_RSRC_SYSTEM_VMEX_BASE);
    for granter in [vmex, p.root_resource(), ZX_HANDLE_INVALID] {
        let v = vmo(&p, PAGE);
        let st = p.zx_vmo_replace_as_executable(v, granter, out(&p, OUT0));
        assert_eq!(st, ZX_OK);
        let x = read_u32(&p, out(&p, OUT0));
        assert_eq!(rights(&p, x), ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_EXECUTE);
        assert_eq!(
            p.zx_handle_close(v),
            ZX_ERR_BAD_HANDLE,
            "the old handle stayed"
        );
        // The new handle maps executable.
        let a = map(
            &p,
            p.zx_vmar_root_self(),
            R | ZX_VM_PERM_EXECUTE,
            0,
            x,
            0,
            PAGE,
        );
        assert_eq!(p.zx_vmar_unmap(p.zx_vmar_root_self(), a, PAGE), ZX_OK);
        assert_eq!(p.zx_handle_close(x), ZX_OK);
    }
}

#[test]
fn replace_as_executable_with_a_wrong_vmex_fails_after_consuming_the_handle() {
    let p = new_process();
    let other = system(&p, ZX_RSRC_SYSTEM_IOMMU_BASE);
    let v0 = vmo(&p, PAGE);
    for (vmex, want) in [
        (other, ZX_ERR_ACCESS_DENIED),
        (v0, ZX_ERR_WRONG_TYPE),
        (closed_handle(&p), ZX_ERR_BAD_HANDLE),
    ] {
        let v = vmo(&p, PAGE);
        poison_outs(&p);
        assert_eq!(p.zx_vmo_replace_as_executable(v, vmex, out(&p, OUT0)), want);
        assert_eq!(read_u32(&p, out(&p, OUT0)), POISON32);
        assert_eq!(
            p.zx_handle_close(v),
            ZX_ERR_BAD_HANDLE,
            "the handle was kept"
        );
    }
}

#[test]
fn replace_as_executable_of_a_non_vmo_is_bad_handle_and_consumes_it() {
    let p = new_process();
    let r = dup(&p, p.root_resource(), ZX_RIGHT_SAME_RIGHTS);
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_vmo_replace_as_executable(r, ZX_HANDLE_INVALID, o),
        ZX_ERR_BAD_HANDLE
    );
    assert_eq!(p.zx_handle_close(r), ZX_ERR_BAD_HANDLE);
    assert_eq!(
        p.zx_vmo_replace_as_executable(ZX_HANDLE_INVALID, ZX_HANDLE_INVALID, o),
        ZX_ERR_BAD_HANDLE
    );
}

#[test]
fn replace_as_executable_keeps_a_reduced_rights_set() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let ro = dup(&p, v, ZX_RIGHT_READ | ZX_RIGHT_MAP);
    assert_eq!(
        p.zx_vmo_replace_as_executable(ro, p.root_resource(), out(&p, OUT0)),
        ZX_OK
    );
    let x = read_u32(&p, out(&p, OUT0));
    assert_eq!(
        rights(&p, x),
        ZX_RIGHT_READ | ZX_RIGHT_MAP | ZX_RIGHT_EXECUTE
    );
}

// ---- resources: more edges ----

#[test]
fn device_objects_have_their_types_and_distinct_koids() {
    let p = new_process();
    let r = mmio(&p, 0x1000, PAGE);
    let desc = p.scratch() + BUF;
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_iommu_create(p.root_resource(), ZX_IOMMU_TYPE_DUMMY, desc, 1, o),
        ZX_OK
    );
    let i = read_u32(&p, o);
    assert_eq!(p.zx_bti_create(i, 0, 9, o), ZX_OK);
    let b = read_u32(&p, o);
    let infos: Vec<_> = [p.root_resource(), r, i, b]
        .iter()
        .map(|&h| basic(&p, h))
        .collect();
    let types: Vec<_> = infos.iter().map(|b| b.obj_type).collect();
    assert_eq!(
        types,
        [
            ZX_OBJ_TYPE_RESOURCE,
            ZX_OBJ_TYPE_RESOURCE,
            ZX_OBJ_TYPE_IOMMU,
            ZX_OBJ_TYPE_BTI
        ]
    );
    let mut koids: Vec<_> = infos.iter().map(|b| b.koid).collect();
    assert!(koids.iter().all(|&k| k != 0));
    koids.sort_unstable();
    koids.dedup();
    assert_eq!(koids.len(), 4);
    assert!(infos.iter().all(|b| b.related_koid == 0));
}

#[test]
fn resource_info_needs_room_and_a_resource() {
    let p = new_process();
    let r = mmio(&p, 0x2000, PAGE);
    let (st, _, actual, avail) = info_raw(&p, r, ZX_INFO_RESOURCE, ResourceInfo::SIZE - 1);
    assert_eq!((st, actual, avail), (ZX_ERR_BUFFER_TOO_SMALL, 0, 1));
    let v = vmo(&p, PAGE);
    assert_eq!(
        info_raw(&p, v, ZX_INFO_RESOURCE, ResourceInfo::SIZE).0,
        ZX_ERR_WRONG_TYPE
    );
}

#[test]
fn a_child_resource_outlives_its_parents_handle() {
    let p = new_process();
    let (dev, _) = p.device_memory();
    let parent = mmio(&p, dev as u64, 4 * PAGE);
    let (st, child) = resource(&p, parent, MMIO, dev as u64 + P, PAGE, b"child");
    assert_eq!(st, ZX_OK);
    assert_eq!(p.zx_handle_close(parent), ZX_OK);
    let (st, v) = physical(&p, child.unwrap(), dev as u64 + P, PAGE);
    assert_eq!(st, ZX_OK);
    assert_eq!(vmo_info(&p, v.unwrap()).size_bytes, P);
}

#[test]
fn a_resource_over_ram_is_made_but_a_physical_vmo_over_it_is_refused() {
    let p = new_process();
    let before = p.frames_in_use();
    let r = mmio(&p, 0, 4 * PAGE);
    assert_eq!(resource_info(&p, r).base, 0);
    assert_eq!(physical(&p, r, 0, PAGE).0, ZX_ERR_INVALID_ARGS);
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn a_duplicated_resource_handle_keeps_only_the_rights_asked_for() {
    let p = new_process();
    let r = mmio(&p, 0x3000, 2 * PAGE);
    let ro = dup(&p, r, ZX_RIGHT_INSPECT);
    assert_eq!(rights(&p, ro), ZX_RIGHT_INSPECT);
    assert_eq!(resource_info(&p, ro).size, 2 * P as usize);
    assert_eq!(
        resource(&p, ro, MMIO, 0x3000, PAGE, b"").0,
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_handle_duplicate(ro, ZX_RIGHT_SAME_RIGHTS, out(&p, OUT1)),
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn an_ioport_resource_covers_its_own_range_only() {
    let p = new_process();
    let (st, io) = resource(&p, p.root_resource(), ZX_RSRC_KIND_IOPORT, 0x60, 16, b"kbd");
    assert_eq!(st, ZX_OK);
    let io = io.unwrap();
    assert_eq!(resource(&p, io, ZX_RSRC_KIND_IOPORT, 0x64, 1, b"").0, ZX_OK);
    assert_eq!(
        resource(&p, io, ZX_RSRC_KIND_IOPORT, 0x6f, 2, b"").0,
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(resource(&p, io, MMIO, 0x60, 1, b"").0, ZX_ERR_ACCESS_DENIED);
}

// ---- physical VMOs: more edges ----

#[test]
fn physical_create_needs_no_right_on_the_resource() {
    let p = new_process();
    let (dev, _) = p.device_memory();
    let bare = dup(&p, p.root_resource(), 0);
    let (st, v) = physical(&p, bare, dev as u64, PAGE);
    assert_eq!(st, ZX_OK);
    assert_eq!(rights(&p, v.unwrap()), ZX_DEFAULT_VMO_RIGHTS);
}

#[test]
fn a_system_resource_cannot_make_a_physical_vmo() {
    let p = new_process();
    let (dev, _) = p.device_memory();
    let (st, sys) = resource(
        &p,
        p.root_resource(),
        ZX_RSRC_KIND_SYSTEM,
        dev as u64,
        PAGE,
        b"",
    );
    assert_eq!(st, ZX_OK);
    assert_eq!(
        physical(&p, sys.unwrap(), dev as u64, PAGE).0,
        ZX_ERR_ACCESS_DENIED
    );
}

#[test]
fn a_bad_out_pointer_for_a_physical_vmo_installs_nothing() {
    let p = new_process();
    let (dev, _) = p.device_memory();
    let root = p.root_resource();
    let handles = p.object().handles().len();
    let frames = p.frames_in_use();
    assert_eq!(
        p.zx_vmo_create_physical(root, dev as u64, PAGE, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(p.object().handles().len(), handles);
    assert_eq!(p.frames_in_use(), frames);
}

#[test]
fn physical_vmo_hints_and_cache_ops_succeed_and_commit_nothing() {
    let p = new_process();
    let before = p.frames_in_use();
    let v = device_vmo(&p, 2);
    for op in [
        ZX_VMO_OP_DONT_NEED,
        ZX_VMO_OP_ALWAYS_NEED,
        ZX_VMO_OP_CACHE_CLEAN,
        ZX_VMO_OP_CACHE_SYNC,
        ZX_VMO_OP_CACHE_CLEAN_INVALIDATE,
    ] {
        assert_eq!(p.zx_vmo_op_range(v, op, 0, 2 * P, 0, 0), ZX_OK, "op {op}");
    }
    assert_eq!(
        p.zx_vmo_op_range(v, ZX_VMO_OP_CACHE_CLEAN, P, 2 * P, 0, 0),
        ZX_ERR_OUT_OF_RANGE
    );
    assert_eq!(committed(&p, v), 0);
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn physical_vmo_commit_and_lock_ops_are_not_supported() {
    let p = new_process();
    let before = p.frames_in_use();
    let v = device_vmo(&p, 2);
    for op in [ZX_VMO_OP_COMMIT, ZX_VMO_OP_TRY_LOCK, ZX_VMO_OP_UNLOCK] {
        assert_eq!(
            p.zx_vmo_op_range(v, op, 0, 2 * P, 0, 0),
            ZX_ERR_NOT_SUPPORTED,
            "op {op}"
        );
    }
    // The right is checked first.
    let ro = dup(&p, v, ZX_RIGHT_READ);
    assert_eq!(
        p.zx_vmo_op_range(ro, ZX_VMO_OP_COMMIT, 0, P, 0, 0),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn references_and_snapshot_modified_children_of_device_memory_are_not_supported() {
    let p = new_process();
    let v = device_vmo(&p, 2);
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_REFERENCE, 0, 0, o),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT_MODIFIED, 0, P, o),
        ZX_ERR_NOT_SUPPORTED
    );
    // A slice's children follow the same rules.
    assert_eq!(p.zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, 0, P, o), ZX_OK);
    let s = read_u32(&p, o);
    assert_eq!(
        p.zx_vmo_create_child(s, ZX_VMO_CHILD_REFERENCE, 0, 0, o),
        ZX_ERR_NOT_SUPPORTED
    );
    assert_eq!(vmo_info(&p, v).num_children, 1);
}

#[test]
fn a_mapping_of_device_memory_outlives_its_vmo_handle() {
    let p = new_process();
    let before = p.frames_in_use();
    let v = device_vmo(&p, 1);
    let w = device_vmo(&p, 1);
    let root = p.zx_vmar_root_self();
    let a = map(&p, root, RW, 0, v, 0, PAGE);
    assert_eq!(p.zx_handle_close(v), ZX_OK);
    p.write_memory(a + 8, b"alive").unwrap();
    let b = map(&p, root, R, 0, w, 0, PAGE);
    assert_eq!(read_vec(&p, b + 8, 5), b"alive");
    assert_eq!(p.zx_vmar_unmap(root, a, PAGE), ZX_OK);
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn device_memory_maps_executable_only_through_an_executable_handle() {
    let p = new_process();
    let v = device_vmo(&p, 1);
    let root = p.zx_vmar_root_self();
    let rx = R | ZX_VM_PERM_EXECUTE;
    assert_eq!(
        p.zx_vmar_map(root, rx, 0, v, 0, PAGE, out(&p, OUT1)),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(
        p.zx_vmo_replace_as_executable(v, p.root_resource(), out(&p, OUT0)),
        ZX_OK
    );
    let x = read_u32(&p, out(&p, OUT0));
    let a = map(&p, root, rx, 0, x, 0, PAGE);
    assert!(readable(&p, a));
    assert_eq!(vmo_info(&p, x).flags & ZX_INFO_VMO_TYPE_PAGED, 0);
}

#[test]
fn a_physical_mapping_at_an_offset_shows_that_device_page() {
    let p = new_process();
    let (dev, _) = p.device_memory();
    let whole = device_vmo(&p, 3);
    let (_, second) = physical(&p, p.root_resource(), dev as u64 + P, PAGE);
    let root = p.zx_vmar_root_self();
    let a = map(&p, root, RW, 0, whole, P, PAGE);
    let b = map(&p, root, R, 0, second.unwrap(), 0, PAGE);
    p.write_memory(a + 3, b"page1").unwrap();
    assert_eq!(read_vec(&p, b + 3, 5), b"page1");
}

#[test]
fn overlapping_physical_vmos_alias_at_their_offsets() {
    let p = new_process();
    let (dev, _) = p.device_memory();
    let root_rsrc = p.root_resource();
    let (_, low) = physical(&p, root_rsrc, dev as u64, 2 * PAGE);
    let (_, high) = physical(&p, root_rsrc, dev as u64 + P, 2 * PAGE);
    let root = p.zx_vmar_root_self();
    let a = map(&p, root, RW, 0, low.unwrap(), 0, 2 * PAGE);
    let b = map(&p, root, RW, 0, high.unwrap(), 0, 2 * PAGE);
    p.write_memory(b + 5, b"shared").unwrap();
    assert_eq!(read_vec(&p, a + PAGE + 5, 6), b"shared");
    // The high VMO's last page lies past the low one's end.
    p.write_memory(b + PAGE, b"own").unwrap();
    assert_ne!(read_vec(&p, a, 3), b"own");
    assert_eq!(read_vec(&p, a + PAGE + 5, 6), b"shared");
}

#[test]
fn a_slice_of_device_memory_refuses_decommit_zero_and_commit() {
    let p = new_process();
    let before = p.frames_in_use();
    let v = device_vmo(&p, 2);
    let o = out(&p, OUT0);
    assert_eq!(p.zx_vmo_create_child(v, ZX_VMO_CHILD_SLICE, P, P, o), ZX_OK);
    let s = read_u32(&p, o);
    for op in [ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_ZERO, ZX_VMO_OP_COMMIT] {
        assert_eq!(
            p.zx_vmo_op_range(s, op, 0, P, 0, 0),
            ZX_ERR_NOT_SUPPORTED,
            "op {op}"
        );
    }
    assert_eq!(vmo_info(&p, s).flags & ZX_INFO_VMO_TYPE_PAGED, 0);
    assert_eq!(p.frames_in_use(), before);
}

#[test]
fn an_unknown_cache_policy_is_invalid_args_for_device_memory_too() {
    let p = new_process();
    let v = device_vmo(&p, 1);
    for policy in [4, 1 << 8, u32::MAX] {
        assert_eq!(p.zx_vmo_set_cache_policy(v, policy), ZX_ERR_INVALID_ARGS);
    }
    let no_map = dup(&p, v, ZX_DEFAULT_VMO_RIGHTS & !ZX_RIGHT_MAP);
    assert_eq!(
        p.zx_vmo_set_cache_policy(no_map, ZX_CACHE_POLICY_CACHED),
        ZX_ERR_ACCESS_DENIED
    );
    assert_eq!(vmo_info(&p, v).cache_policy, ZX_CACHE_POLICY_UNCACHED);
}

#[test]
fn process_vmos_report_device_memory_as_physical_with_nothing_committed() {
    let p = new_process();
    let v = device_vmo(&p, 3);
    let koid = vmo_info(&p, v).koid;
    let a = map(&p, p.zx_vmar_root_self(), R, 0, v, 0, 3 * PAGE);
    assert!(readable(&p, a + 2 * PAGE));
    let entries: Vec<_> = process_vmos(&p)
        .into_iter()
        .filter(|e| e.koid == koid)
        .collect();
    assert_eq!(
        entries.len(),
        2,
        "one through the handle, one through the mapping"
    );
    for e in entries {
        assert_eq!(e.flags & ZX_INFO_VMO_TYPE_PAGED, 0);
        assert_eq!((e.size_bytes, e.committed_bytes), (3 * P, 0));
    }
}

#[test]
fn physical_vmo_set_size_is_unavailable_even_to_its_own_size() {
    let p = new_process();
    let v = device_vmo(&p, 2);
    for size in [0, P, 2 * P, 3 * P] {
        assert_eq!(p.zx_vmo_set_size(v, size), ZX_ERR_UNAVAILABLE);
    }
    assert_eq!(vmo_size(&p, v), 2 * P);
}

// ---- replace_as_executable: more edges ----

#[test]
fn replace_as_executable_needs_no_right_on_the_vmex_resource() {
    let p = new_process();
    let vmex = system(&p, ZX_RSRC_SYSTEM_VMEX_BASE);
    let bare = dup(&p, vmex, 0);
    let v = vmo(&p, PAGE);
    assert_eq!(
        p.zx_vmo_replace_as_executable(v, bare, out(&p, OUT0)),
        ZX_OK
    );
    assert_ne!(
        rights(&p, read_u32(&p, out(&p, OUT0))) & ZX_RIGHT_EXECUTE,
        0
    );
}

#[test]
fn replace_as_executable_with_a_bad_out_pointer_consumes_the_handle() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let handles = p.object().handles().len();
    assert_eq!(
        p.zx_vmo_replace_as_executable(v, ZX_HANDLE_INVALID, UNMAPPED),
        ZX_ERR_INVALID_ARGS
    );
    assert_eq!(p.zx_handle_close(v), ZX_ERR_BAD_HANDLE);
    assert_eq!(p.object().handles().len(), handles - 1);
}

#[test]
fn replace_as_executable_of_a_child_keeps_it_a_child() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    let o = out(&p, OUT0);
    assert_eq!(
        p.zx_vmo_create_child(v, ZX_VMO_CHILD_SNAPSHOT, 0, P, o),
        ZX_OK
    );
    let c = read_u32(&p, o);
    let koid = vmo_info(&p, c).koid;
    assert_eq!(p.zx_vmo_replace_as_executable(c, 0, o), ZX_OK);
    let x = read_u32(&p, o);
    assert_eq!(vmo_info(&p, x).koid, koid);
    assert_eq!(vmo_info(&p, v).num_children, 1);
    assert_ne!(vmo_info(&p, x).flags & ZX_INFO_VMO_IS_COW_CLONE, 0);
}

#[test]
fn replace_as_executable_with_its_own_vmo_as_vmex_is_wrong_type_and_consumes_it() {
    let p = new_process();
    let v = vmo(&p, PAGE);
    poison_outs(&p);
    assert_eq!(
        p.zx_vmo_replace_as_executable(v, v, out(&p, OUT0)),
        ZX_ERR_WRONG_TYPE
    );
    assert_eq!(read_u32(&p, out(&p, OUT0)), POISON32);
    assert_eq!(p.zx_handle_close(v), ZX_ERR_BAD_HANDLE);
}
