//! The cost of one `unmap` and one `protect` over 1,000 one-page mappings, each
//! with a translation, on the bare-metal backend (real x86_64 page tables over
//! simulated RAM, the software TLB as the shootdown hook), where the number of
//! shootdowns per call shows. Run it on two commits and compare the figures as
//! before/after ratios.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use kernel_hal::{Hal, MMUFlags, PAGE_SIZE};
use kernel_hal_bare::BareHal;
use zircon_object::vm::{
    AddressSpace, AllocateRequest, MapRequest, Placement, VmAddressRegion, VmObject, VmPerms,
    VmoOptions,
};

const MAPPINGS: usize = 1_000;

/// A region holding `MAPPINGS` adjacent one-page mappings of one VMO, each page
/// written (so each has a translation); returns the region and its address space.
fn setup(hal: &Arc<dyn Hal>) -> (Arc<AddressSpace>, Arc<VmAddressRegion>, Arc<VmObject>) {
    let aspace = AddressSpace::new(hal.clone()).expect("address space");
    let root = aspace.root_vmar();
    let size = MAPPINGS * PAGE_SIZE;
    let region = root
        .allocate(&AllocateRequest::new(size, VmPerms::READ_WRITE))
        .expect("region");
    let vmo = VmObject::new(hal.clone(), size as u64, VmoOptions::empty()).expect("vmo");
    for i in 0..MAPPINGS {
        let offset = i * PAGE_SIZE;
        let request = MapRequest {
            placement: Placement::At(offset),
            ..MapRequest::new(offset as u64, PAGE_SIZE, VmPerms::READ_WRITE)
        };
        region.map(&vmo, &request).expect("map");
        aspace
            .fault(region.addr() + offset, MMUFlags::WRITE)
            .expect("fault");
    }
    (aspace, region, vmo)
}

fn bench(c: &mut Criterion) {
    let hal: Arc<dyn Hal> = Arc::new(BareHal::new_simulated(64 << 20));
    let size = MAPPINGS * PAGE_SIZE;
    c.bench_function("unmap 1,000 mappings", |b| {
        b.iter_batched(
            || setup(&hal),
            |(aspace, region, vmo)| {
                region.unmap(region.addr(), size, false).expect("unmap");
                (aspace, region, vmo) // dropped outside the measurement
            },
            BatchSize::PerIteration,
        )
    });
    let (_aspace, region, _vmo) = setup(&hal);
    c.bench_function("protect 1,000 mappings (read-only and back)", |b| {
        b.iter(|| {
            region
                .protect(VmPerms::READ, region.addr(), size, false)
                .expect("protect");
            region
                .protect(VmPerms::READ_WRITE, region.addr(), size, false)
                .expect("protect");
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
