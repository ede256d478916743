//! What VMO children cost, on the unix backend.
//!
//! - Creating (and dropping) a snapshot of a VMO with `n` committed pages, against
//!   the baseline of an eager copy of the same pages into a fresh VMO: a snapshot
//!   shares frames and copies no data, so the ratio should fall as `n` grows.
//! - A copy-on-write write fault (a private copy of a shared page, then the mapping
//!   fixed), against the baseline of a first-touch write fault (a fresh zeroed
//!   page). Each iteration also creates and drops a one-page snapshot (for the
//!   first) or decommits (for the second), so the summary also prints the snapshot
//!   round trip alone.
//!
//! The summary at the end prints ratios measured in interleaved rounds (medians).

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{criterion_group, BenchmarkId, Criterion};
use kernel_hal::{Hal, MMUFlags, PAGE_SIZE};
use kernel_hal_unix::{UnixHal, UnixHalConfig};
use zircon_object::vm::{AddressSpace, MapRequest, VmAddressRegion, VmObject, VmPerms, VmoOptions};

const PAGES: [usize; 3] = [1, 64, 1024];

fn machine() -> Arc<dyn Hal> {
    Arc::new(
        UnixHal::with_config(UnixHalConfig {
            phys_size: 256 << 20,
            window_size: 1 << 30,
        })
        .expect("machine"),
    )
}

/// A VMO of `n` pages, all committed and written.
fn committed(hal: &Arc<dyn Hal>, n: usize) -> Arc<VmObject> {
    let v = VmObject::new(hal.clone(), (n * PAGE_SIZE) as u64, VmoOptions::empty()).unwrap();
    v.write(0, &vec![7u8; n * PAGE_SIZE]).unwrap();
    v
}

fn snapshot_round_trip(v: &Arc<VmObject>) {
    let child = v.create_snapshot(0, v.size() as u64, false, false).unwrap();
    black_box(&child);
}

fn eager_copy(v: &Arc<VmObject>, buf: &mut [u8]) {
    let copy = VmObject::new(v.hal().clone(), v.size() as u64, VmoOptions::empty()).unwrap();
    v.read(0, buf).unwrap();
    copy.write(0, buf).unwrap();
    black_box(&copy);
}

/// One mapped, committed page and the address space it is mapped in.
struct Faulting {
    aspace: Arc<AddressSpace>,
    _root: Arc<VmAddressRegion>,
    vmo: Arc<VmObject>,
    addr: usize,
}

fn faulting(hal: &Arc<dyn Hal>) -> Faulting {
    let aspace = AddressSpace::new(hal.clone()).unwrap();
    let root = aspace.root_vmar();
    let vmo = committed(hal, 1);
    let addr = root
        .map(&vmo, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE))
        .unwrap();
    Faulting {
        aspace,
        _root: root,
        vmo,
        addr,
    }
}

/// Snapshot, write fault on the parent's now-shared page (a copy), drop.
fn cow_fault(f: &Faulting) {
    let child = f
        .vmo
        .create_snapshot(0, PAGE_SIZE as u64, false, false)
        .unwrap();
    f.aspace.fault(black_box(f.addr), MMUFlags::WRITE).unwrap();
    drop(child);
}

/// Snapshot and drop, no fault.
fn snapshot_only(f: &Faulting) {
    let child = f
        .vmo
        .create_snapshot(0, PAGE_SIZE as u64, false, false)
        .unwrap();
    black_box(&child);
}

/// A first-touch write fault (a fresh zeroed page), then a decommit.
fn zero_fault(f: &Faulting, plain: &Arc<VmObject>, addr: usize) {
    f.aspace.fault(black_box(addr), MMUFlags::WRITE).unwrap();
    plain.decommit(0, PAGE_SIZE as u64).unwrap();
}

fn plain_page(f: &Faulting) -> (Arc<VmObject>, usize) {
    let root = f.aspace.root_vmar();
    let plain = VmObject::new(f.vmo.hal().clone(), PAGE_SIZE as u64, VmoOptions::empty()).unwrap();
    let addr = root
        .map(&plain, &MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE))
        .unwrap();
    (plain, addr)
}

fn bench(c: &mut Criterion) {
    let hal = machine();
    let mut group = c.benchmark_group("children");
    group
        .sample_size(20)
        .measurement_time(std::time::Duration::from_secs(1));
    for n in PAGES {
        let v = committed(&hal, n);
        let mut buf = vec![0u8; n * PAGE_SIZE];
        group.bench_with_input(BenchmarkId::new("snapshot", n), &v, |b, v| {
            b.iter(|| snapshot_round_trip(v))
        });
        group.bench_with_input(BenchmarkId::new("eager_copy", n), &v, |b, v| {
            b.iter(|| eager_copy(v, &mut buf))
        });
    }
    let f = faulting(&hal);
    let (plain, addr) = plain_page(&f);
    group.bench_function("cow_fault", |b| b.iter(|| cow_fault(&f)));
    group.bench_function("zero_fault", |b| b.iter(|| zero_fault(&f, &plain, addr)));
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

fn summary() {
    const ROUNDS: usize = 11;
    let hal = machine();
    let vmos: Vec<Arc<VmObject>> = PAGES.iter().map(|&n| committed(&hal, n)).collect();
    let mut snaps = vec![Vec::new(); PAGES.len()];
    let mut copies = vec![Vec::new(); PAGES.len()];
    let f = faulting(&hal);
    let (plain, addr) = plain_page(&f);
    let (mut cow, mut only, mut zero) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for (i, v) in vmos.iter().enumerate() {
            let ops = (20_000 / PAGES[i]).max(20);
            let mut buf = vec![0u8; v.size()];
            snaps[i].push(ns_per_op(ops, || snapshot_round_trip(v)));
            copies[i].push(ns_per_op(ops, || eager_copy(v, &mut buf)));
        }
        cow.push(ns_per_op(5_000, || cow_fault(&f)));
        only.push(ns_per_op(5_000, || snapshot_only(&f)));
        zero.push(ns_per_op(5_000, || zero_fault(&f, &plain, addr)));
    }
    println!("\nsnapshot create+drop against an eager copy (same run, interleaved, medians):");
    for (i, n) in PAGES.iter().enumerate() {
        let (s, c) = (median(snaps[i].clone()), median(copies[i].clone()));
        println!(
            "  {n:>5} committed pages: snapshot {s:10.0} ns   copy {c:10.0} ns   ratio {:.3}x",
            s / c
        );
    }
    let (cow, only, zero) = (median(cow), median(only), median(zero));
    println!("copy-on-write fault against a first-touch fault:");
    println!(
        "  snapshot+fault+drop {cow:8.0} ns, snapshot+drop {only:8.0} ns: the copy-on-write fault costs {:8.0} ns",
        cow - only
    );
    println!(
        "  first-touch fault+decommit {zero:8.0} ns; copy-on-write fault / first-touch fault+decommit = {:.2}x",
        (cow - only) / zero
    );
}

criterion_group!(benches, bench);

/// Runs the criterion group, then the ratio summary.
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
