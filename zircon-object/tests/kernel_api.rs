//! A kernel using the object layer directly, with typed requests and no syscall
//! words: an address space of its own, an ELF image laid out segment by segment, a
//! vDSO that can never be made writable, and a kernel stack under a guard page.

use std::sync::Arc;

use kernel_hal::{Hal, MMUFlags, PAGE_SIZE};
use kernel_hal_bare::BareHal;
use zircon_object::abi::{ZX_ERR_ACCESS_DENIED, ZX_ERR_NOT_FOUND};
use zircon_object::vm::{
    AddressSpace, AllocateRequest, MapRequest, Placement, VmObject, VmPerms, VmarOp, VmoOptions,
};

const RX: VmPerms = VmPerms::READ.union(VmPerms::EXECUTE);

#[test]
fn a_kernel_lays_out_an_image_a_vdso_and_a_guarded_stack() {
    let hal: Arc<dyn Hal> = Arc::new(BareHal::new_simulated(32 << 20));
    let total = hal.total_count();
    {
        let aspace = AddressSpace::new(hal.clone()).expect("a kernel-owned address space");
        let root = aspace.root_vmar();

        // An ELF image: text (R+X), rodata (R) and data (R+W) from one VMO, placed
        // next to each other in a compact region of their own.
        let image = VmObject::new(hal.clone(), 3 * PAGE_SIZE as u64, VmoOptions::empty())
            .expect("image VMO");
        image.write(0, b"\x90\x90\xc3").expect("code");
        image.write(PAGE_SIZE as u64, b"rodata").expect("rodata");
        let region = root
            .allocate(&AllocateRequest {
                compact: true,
                ..AllocateRequest::new(3 * PAGE_SIZE, VmPerms::all())
            })
            .expect("image region");
        let segments = [(0, RX), (1, VmPerms::READ), (2, VmPerms::READ_WRITE)];
        for (page, perms) in segments {
            let request = MapRequest {
                placement: Placement::At(page * PAGE_SIZE),
                ..MapRequest::new((page * PAGE_SIZE) as u64, PAGE_SIZE, perms)
            };
            region.map(&image, &request).expect("segment");
        }
        let base = region.addr();
        let mut code = [0u8; 3];
        aspace.read_user(base, &mut code).expect("text is readable");
        assert_eq!(&code, b"\x90\x90\xc3");
        assert_eq!(aspace.fault(base, MMUFlags::EXECUTE), Ok(()));
        assert_eq!(
            aspace.fault(base, MMUFlags::WRITE),
            Err(ZX_ERR_ACCESS_DENIED)
        );
        assert_eq!(
            aspace.write_user(base + PAGE_SIZE, b"x"),
            Err(ZX_ERR_ACCESS_DENIED),
            "rodata is read-only"
        );
        aspace
            .write_user(base + 2 * PAGE_SIZE, b"data")
            .expect("data is writable");

        // A vDSO: mapped R+X with R+X as its maximum, so nobody can make it writable.
        let vdso =
            VmObject::new(hal.clone(), PAGE_SIZE as u64, VmoOptions::empty()).expect("vDSO VMO");
        let vdso_addr = root
            .map(&vdso, &MapRequest::new(0, PAGE_SIZE, RX))
            .expect("vDSO");
        assert_eq!(
            root.protect(VmPerms::READ_WRITE, vdso_addr, PAGE_SIZE, false),
            Err(ZX_ERR_ACCESS_DENIED)
        );

        // A kernel stack: 4 pages above a 1-page guard that stays unmapped, committed
        // and mapped up front so that it never faults.
        let stack_pages = 4;
        let stack_vmo = VmObject::new(
            hal.clone(),
            (stack_pages * PAGE_SIZE) as u64,
            VmoOptions::empty(),
        )
        .expect("stack VMO");
        let stack_region = root
            .allocate(&AllocateRequest::new(
                (stack_pages + 1) * PAGE_SIZE,
                VmPerms::READ_WRITE,
            ))
            .expect("stack region");
        let stack = stack_region
            .map(
                &stack_vmo,
                &MapRequest {
                    placement: Placement::At(PAGE_SIZE),
                    ..MapRequest::new(0, stack_pages * PAGE_SIZE, VmPerms::READ_WRITE)
                },
            )
            .expect("stack");
        stack_region
            .op_range(VmarOp::Commit, stack, stack_pages * PAGE_SIZE, false)
            .expect("stack committed and mapped");
        assert_eq!(stack, stack_region.addr() + PAGE_SIZE);
        let top = stack + stack_pages * PAGE_SIZE - 8;
        assert!(aspace.page_table().query(top).is_ok(), "mapped up front");
        aspace.write_user(top, &[7; 8]).expect("the stack's top");
        assert_eq!(
            aspace.fault(stack_region.addr(), MMUFlags::WRITE),
            Err(ZX_ERR_NOT_FOUND),
            "an overflow into the guard page faults"
        );
    }
    assert_eq!(hal.free_count(), total, "every frame came back");
}
