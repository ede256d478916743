//! Benchmarks of the bare-metal page tables over simulated RAM: mapping 1 GiB with
//! 4 KiB and with 2 MiB entries, unmapping it, and querying random addresses.
//!
//! Baseline: writing one 8-byte word per 4 KiB page of 1 GiB (262,144 words) into a
//! buffer, the memory traffic a 4 KiB mapping cannot avoid. Each figure is per page
//! (per 4 KiB page for the 4 KiB runs, per 2 MiB entry for the 2 MiB run); divide by
//! the baseline's per-word time for the ratio.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_main, Criterion, Throughput};
use kernel_hal::{CachePolicy, MMUFlags, PageTable, PAGE_SIZE};
use kernel_hal_bare::sim::SimMachine;
use kernel_hal_bare::BarePageTable;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const GIB: usize = 1 << 30;
const PAGES_4K: usize = GIB / PAGE_SIZE;
const ENTRIES_2M: usize = GIB / (2 << 20);
const VBASE: usize = 0x40_0000_0000;
const FLAGS: MMUFlags = MMUFlags::READ.union(MMUFlags::WRITE).union(MMUFlags::USER);

fn machine() -> (SimMachine, BarePageTable) {
    // 2 GiB + 4 MiB of RAM; the allocator (page tables only) gets the first 16 MiB,
    // the mappings point at the second GiB.
    let machine = SimMachine::with_memory_map(2 * GIB + (4 << 20), &[(PAGE_SIZE, 16 << 20)]);
    let space = machine.hal().new_bare_address_space().unwrap();
    (machine, space)
}

/// Maps the 1 GiB at VBASE with 4 KiB entries (the physical run is shifted by one
/// page, so no large entry fits).
fn map_4k(space: &BarePageTable) {
    space
        .map(VBASE, GIB + PAGE_SIZE, GIB, FLAGS, CachePolicy::Cached)
        .unwrap();
}

/// Maps the 1 GiB at VBASE with 2 MiB entries (1 GiB entries forbidden by leaving
/// the last 2 MiB out and mapping it separately).
fn map_2m(space: &BarePageTable) {
    let tail = 2 << 20;
    space
        .map(VBASE, GIB, GIB - tail, FLAGS, CachePolicy::Cached)
        .unwrap();
    space
        .map(
            VBASE + GIB - tail,
            2 * GIB - tail,
            tail,
            FLAGS,
            CachePolicy::Cached,
        )
        .unwrap();
}

fn unmap(space: &BarePageTable) {
    space.unmap(VBASE, GIB).unwrap();
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("bare");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    group.throughput(Throughput::Elements(PAGES_4K as u64));
    group.bench_function("baseline: one word written per 4 KiB page", |b| {
        let mut words = vec![0u64; PAGES_4K];
        b.iter(|| {
            for (i, w) in words.iter_mut().enumerate() {
                *w = (i as u64) << 12 | 0x7;
            }
            black_box(&mut words);
        })
    });

    let (_machine, space) = machine();
    group.bench_function("map 1 GiB with 4 KiB pages", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                map_4k(&space);
                total += start.elapsed();
                unmap(&space);
            }
            total
        })
    });
    group.bench_function("unmap 1 GiB of 4 KiB pages", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                map_4k(&space);
                let start = Instant::now();
                unmap(&space);
                total += start.elapsed();
            }
            total
        })
    });

    map_4k(&space);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let addrs: Vec<usize> = (0..PAGES_4K)
        .map(|_| VBASE + (rng.next_u64() as usize % GIB))
        .collect();
    group.bench_function("query random addresses (4 KiB pages)", |b| {
        b.iter(|| {
            for &va in &addrs {
                black_box(space.query(va).unwrap());
            }
        })
    });
    unmap(&space);

    group.throughput(Throughput::Elements(ENTRIES_2M as u64));
    group.bench_function("map 1 GiB with 2 MiB pages", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                map_2m(&space);
                total += start.elapsed();
                unmap(&space);
            }
            total
        })
    });
    group.bench_function("unmap 1 GiB of 2 MiB pages", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                map_2m(&space);
                let start = Instant::now();
                unmap(&space);
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

// The macro defines an undocumented public function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench);
}
use group::benches;
criterion_main!(benches);
