//! How map + unmap of a one-page mapping, and a page fault, scale with the number
//! of mappings already in the region: 100, 1,000, 10,000 and 100,000 existing
//! one-page mappings, on the unix backend. The baseline is the same operation with
//! 100 existing mappings; the summary at the end prints each size's cost as a ratio
//! of it. The same map + unmap in a compact region (placed by first fit through the
//! region's gap index) between `n` one-page mappings two pages apart, so that the
//! index holds `n` gaps, runs as `map_unmap_compact`.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{criterion_group, BenchmarkId, Criterion};
use kernel_hal::{Hal, MMUFlags, PAGE_SIZE};
use kernel_hal_unix::{UnixHal, UnixHalConfig};
use zircon_object::vm::{
    AddressSpace, AllocateRequest, MapRequest, Placement, VmAddressRegion, VmObject, VmPerms,
    VmoOptions,
};

const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];

/// An address space whose root region holds `n` one-page mappings of one VMO, at
/// random places, plus the VMO and region for the measured operations.
struct Setup {
    _hal: Arc<dyn Hal>,
    aspace: Arc<AddressSpace>,
    root: Arc<VmAddressRegion>,
    vmo: Arc<VmObject>,
}

fn setup(n: usize) -> Setup {
    let hal: Arc<dyn Hal> = Arc::new(
        UnixHal::with_config(UnixHalConfig {
            phys_size: 64 << 20,
            window_size: 64 << 30,
        })
        .expect("machine"),
    );
    let aspace = AddressSpace::new(hal.clone()).expect("address space");
    aspace.seed_placement(7);
    let root = aspace.root_vmar();
    let vmo = VmObject::new(hal.clone(), PAGE_SIZE as u64, VmoOptions::empty()).expect("vmo");
    for _ in 0..n {
        root.map(&vmo, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE))
            .expect("map");
    }
    Setup {
        _hal: hal,
        aspace,
        root,
        vmo,
    }
}

/// A compact region in an address space of its own on `s`'s machine, holding `n`
/// one-page mappings of `s`'s VMO at odd page offsets: `n` gaps of one page each,
/// and the rest after them.
fn compact_region(s: &Setup, n: usize) -> (Arc<AddressSpace>, Arc<VmAddressRegion>) {
    let aspace = AddressSpace::new(s.aspace.hal().clone()).expect("address space");
    let region = aspace
        .root_vmar()
        .allocate(&AllocateRequest {
            compact: true,
            can_map_specific: true,
            ..AllocateRequest::new((2 * n + 16) * PAGE_SIZE, VmPerms::READ_WRITE)
        })
        .expect("compact region");
    for k in 0..n {
        let request = MapRequest {
            placement: Placement::At((2 * k + 1) * PAGE_SIZE),
            ..MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE)
        };
        region.map(&s.vmo, &request).expect("map");
    }
    (aspace, region)
}

fn map_unmap(s: &Setup) {
    let addr = s
        .root
        .map(&s.vmo, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE))
        .unwrap();
    s.root.unmap(black_box(addr), PAGE_SIZE, false).unwrap();
}

/// A fault on a mapping of an uncommitted page (commit + translate), then a
/// decommit so that the next iteration faults again.
fn fault(s: &Setup, addr: usize, page: &Arc<VmObject>) {
    s.aspace.fault(black_box(addr), MMUFlags::WRITE).unwrap();
    page.decommit(0, PAGE_SIZE as u64).unwrap();
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("vmar");
    group
        .sample_size(30)
        .measurement_time(std::time::Duration::from_secs(2));
    for n in SIZES {
        let s = setup(n);
        group.bench_with_input(BenchmarkId::new("map_unmap_one_page", n), &s, |b, s| {
            b.iter(|| map_unmap(s))
        });
        let (_space, compact) = compact_region(&s, n);
        group.bench_function(BenchmarkId::new("map_unmap_compact", n), |b| {
            b.iter(|| {
                let request = MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE);
                let addr = compact.map(&s.vmo, &request).unwrap();
                compact.unmap(black_box(addr), PAGE_SIZE, false).unwrap();
            })
        });
        let page = VmObject::new(
            s.aspace.hal().clone(),
            PAGE_SIZE as u64,
            VmoOptions::empty(),
        )
        .unwrap();
        let addr = s
            .root
            .map(&page, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE))
            .unwrap();
        group.bench_with_input(BenchmarkId::new("page_fault", n), &s, |b, s| {
            b.iter(|| fault(s, addr, &page))
        });
    }
    group.finish();
}

/// Nanoseconds per call of `f`, over `ops` calls.
fn ns_per_op(ops: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..ops {
        f();
    }
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Prints each size's cost as a ratio of the 100-mapping baseline. The sizes are
/// measured in interleaved rounds, so that load from elsewhere on the machine falls
/// on all of them alike; each figure is the median of its rounds.
fn summary() {
    const ROUNDS: usize = 15;
    const OPS: usize = 5_000;
    let setups: Vec<(Setup, Arc<VmObject>, usize)> = SIZES
        .iter()
        .map(|&n| {
            let s = setup(n);
            let page = VmObject::new(
                s.aspace.hal().clone(),
                PAGE_SIZE as u64,
                VmoOptions::empty(),
            )
            .unwrap();
            let addr = s
                .root
                .map(&page, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE))
                .unwrap();
            (s, page, addr)
        })
        .collect();
    let mut maps = vec![Vec::new(); SIZES.len()];
    let mut faults = vec![Vec::new(); SIZES.len()];
    for _ in 0..ROUNDS {
        for (i, (s, page, addr)) in setups.iter().enumerate() {
            maps[i].push(ns_per_op(OPS, || map_unmap(s)));
            faults[i].push(ns_per_op(OPS, || fault(s, *addr, page)));
        }
    }
    let map: Vec<f64> = maps.into_iter().map(median).collect();
    let flt: Vec<f64> = faults.into_iter().map(median).collect();
    println!("\nratios against 100 existing mappings (same run, interleaved rounds, medians):");
    for (i, n) in SIZES.iter().enumerate() {
        println!(
            "  {n:>7} mappings: map+unmap {:8.0} ns ({:.2}x)   fault+decommit {:8.0} ns ({:.2}x)",
            map[i],
            map[i] / map[0],
            flt[i],
            flt[i] / flt[0]
        );
    }
}

criterion_group!(benches, bench);

/// Runs the criterion group, then the ratio summary.
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
