//! Reclaim under memory pressure on the unix backend, through real page faults: a
//! machine of a few megabytes with a reclaimer (`zircon_object::vm::ReclaimingHal`),
//! where touching more memory than is free evicts clean pager-backed pages (which
//! come back from their provider on the next touch) and discards unlocked
//! discardable VMOs, never locked ones, and fails only when nothing is left to
//! reclaim.

use std::fs::OpenOptions;
use std::sync::Arc;

use kernel_hal::PhysMem;
use kernel_hal_unix::{UnixHal, UnixHalConfig};
use zircon_object::vm::reclaim::reclaimer_of;
use zircon_object::vm::{MapRequest, PageState, ReclaimingHal, VmPerms, VmarOp};
use zircon_syscall::*;
use zircon_tests::file_provider::FileProvider;
use zircon_tests::{new_process_over, TestProcess};

const PAGE: usize = 4096;

/// A process on a machine of `frames` frames whose objects reclaim.
fn small_process(frames: usize) -> TestProcess {
    let machine = UnixHal::with_config(UnixHalConfig {
        phys_size: frames * PAGE,
        window_size: 1 << 30,
    })
    .expect("an emulated machine");
    let hal = Arc::new(ReclaimingHal::new(Arc::new(machine.clone())));
    new_process_over(hal, machine)
}

fn handle_at(p: &TestProcess, out: usize) -> u32 {
    let mut h = [0u8; 4];
    p.read_memory(out, &mut h).unwrap();
    u32::from_le_bytes(h)
}

fn vmo(p: &TestProcess, pages: usize, options: u32) -> u32 {
    let out = p.scratch();
    assert_eq!(p.zx_vmo_create((pages * PAGE) as u64, options, out), ZX_OK);
    handle_at(p, out)
}

fn map(p: &TestProcess, vmo: u32, pages: usize) -> usize {
    let out = p.scratch();
    let options = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_ALLOW_FAULTS;
    let root = p.zx_vmar_root_self();
    assert_eq!(
        p.zx_vmar_map(root, options, 0, vmo, 0, pages * PAGE, out),
        ZX_OK
    );
    let mut a = [0u8; 8];
    p.read_memory(out, &mut a).unwrap();
    usize::from_le_bytes(a)
}

/// Writes `byte` to the first byte of each page through a pointer (real faults).
fn touch(base: usize, pages: usize, byte: u8) {
    for page in 0..pages {
        // SAFETY: `base` is a live read-write mapping of `pages` pages in this
        // process's window; a fault there is resolved by the unix backend.
        unsafe { ((base + page * PAGE) as *mut u8).write_volatile(byte) };
    }
}

fn first_bytes(base: usize, pages: usize) -> Vec<u8> {
    (0..pages)
        // SAFETY: as in `touch`.
        .map(|page| unsafe { ((base + page * PAGE) as *const u8).read_volatile() })
        .collect()
}

/// LOCK's report: (discarded_offset, discarded_size).
fn lock(p: &TestProcess, vmo: u32, pages: usize) -> (u64, u64) {
    let out = p.scratch() + 64;
    let size = (pages * PAGE) as u64;
    assert_eq!(
        p.zx_vmo_op_range(vmo, ZX_VMO_OP_LOCK, 0, size, out, 32),
        ZX_OK
    );
    let mut state = [0u8; 32];
    p.read_memory(out, &mut state).unwrap();
    let word = |i: usize| u64::from_le_bytes(state[i * 8..i * 8 + 8].try_into().unwrap());
    (word(2), word(3))
}

#[test]
fn faults_past_free_memory_discard_unlocked_vmos_and_spare_locked_ones() {
    let p = small_process(1024);
    const PART: usize = 200;
    let cache = vmo(&p, PART, ZX_VMO_DISCARDABLE);
    let cache_at = map(&p, cache, PART);
    touch(cache_at, PART, 0x11);
    let kept = vmo(&p, PART, ZX_VMO_DISCARDABLE);
    assert_eq!(lock(&p, kept, PART), (0, 0));
    let kept_at = map(&p, kept, PART);
    touch(kept_at, PART, 0x22);

    // More pages than are free: the faults take the unlocked VMO's frames.
    let free = p.hal().free_count();
    let work_pages = free + PART / 2;
    let work = vmo(&p, work_pages, 0);
    let work_at = map(&p, work, work_pages);
    touch(work_at, work_pages, 0x33);
    assert!(first_bytes(work_at, work_pages).iter().all(|&b| b == 0x33));
    assert!(first_bytes(kept_at, PART).iter().all(|&b| b == 0x22));
    assert!(
        first_bytes(cache_at, PART).iter().all(|&b| b == 0),
        "the discarded VMO reads as zeros"
    );

    // TRY_LOCK reports the discard; LOCK takes it and reports the whole VMO.
    let size = (PART * PAGE) as u64;
    assert_eq!(
        p.zx_vmo_op_range(cache, ZX_VMO_OP_TRY_LOCK, 0, size, 0, 0),
        ZX_ERR_UNAVAILABLE
    );
    assert_eq!(lock(&p, cache, PART), (0, size));

    // Both discardable VMOs are locked now: nothing is left to reclaim.
    let more = vmo(&p, PART, 0);
    assert_eq!(
        p.zx_vmo_op_range(more, ZX_VMO_OP_COMMIT, 0, size, 0, 0),
        ZX_ERR_NO_MEMORY
    );
    assert!(first_bytes(kept_at, PART).iter().all(|&b| b == 0x22));

    // With room again, the cache is refilled while locked; then both are
    // unlocked, the kept VMO first, and the older unlock is discarded first.
    let work_size = (work_pages * PAGE) as u64;
    assert_eq!(
        p.zx_vmo_op_range(work, ZX_VMO_OP_DECOMMIT, 0, work_size, 0, 0),
        ZX_OK
    );
    touch(cache_at, PART, 0x44);
    for h in [kept, cache] {
        assert_eq!(p.zx_vmo_op_range(h, ZX_VMO_OP_UNLOCK, 0, size, 0, 0), ZX_OK);
    }
    let need = (p.hal().free_count() + PART / 2) * PAGE;
    assert_eq!(
        p.zx_vmo_op_range(work, ZX_VMO_OP_COMMIT, 0, need as u64, 0, 0),
        ZX_OK
    );
    assert_eq!(
        p.zx_vmo_op_range(kept, ZX_VMO_OP_TRY_LOCK, 0, size, 0, 0),
        ZX_ERR_UNAVAILABLE
    );
    assert_eq!(
        p.zx_vmo_op_range(cache, ZX_VMO_OP_TRY_LOCK, 0, size, 0, 0),
        ZX_OK
    );
    assert!(first_bytes(cache_at, PART).iter().all(|&b| b == 0x44));
}

/// Byte `i` of the file behind the pager-backed VMO.
fn file_byte(i: usize) -> u8 {
    (i / PAGE * 29 + i % 253) as u8
}

#[test]
fn a_pager_backed_mapping_twice_the_machine_reads_right_twice() {
    const FRAMES: usize = 512;
    let p = small_process(FRAMES);
    let size = 2 * FRAMES * PAGE;
    let path = std::env::temp_dir().join(format!("zircon-reclaim-{}", std::process::id()));
    let contents: Vec<u8> = (0..size).map(file_byte).collect();
    std::fs::write(&path, &contents).unwrap();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    let provider = FileProvider::new(file);
    let process = p.object();
    let hal = process.aspace().hal().clone();
    let at_start = p.hal().free_count();
    {
        let vmo = provider.create_vmo(hal.clone(), size as u64).unwrap();
        let root = process.root_vmar();
        let at = root
            .map(&vmo, &MapRequest::new(0, size, VmPerms::READ))
            .unwrap();
        for round in 0..2 {
            let mut wrong = 0;
            for i in 0..size {
                // SAFETY: `at` is a live read-only mapping of `size` bytes in this
                // process's window; a fault there is resolved by the unix backend,
                // which waits for the provider.
                let byte = unsafe { ((at + i) as *const u8).read_volatile() };
                wrong += usize::from(byte != file_byte(i));
            }
            assert_eq!(wrong, 0, "round {round}: bytes read wrong");
        }
        let evictions = reclaimer_of(&*hal).unwrap().evictions();
        // The second round found none of the first pages present: everything it
        // read, twice what fits, came back after an eviction.
        assert!(evictions >= 2 * FRAMES, "only {evictions} pages evicted");
        assert_eq!(provider.evicted_pages(), evictions);
        root.unmap(at, size, false).unwrap();
    }
    assert_eq!(p.hal().free_count(), at_start, "frames are back");
}

#[test]
fn vmar_hints_steer_eviction_even_over_a_mapping_past_the_vmo_end() {
    const PAGES: usize = 24;
    let p = small_process(256);
    let path = std::env::temp_dir().join(format!("zircon-hints-{}", std::process::id()));
    let contents: Vec<u8> = (0..PAGES * PAGE).map(file_byte).collect();
    std::fs::write(&path, &contents).unwrap();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    let provider = FileProvider::new(file);
    let process = p.object();
    let hal = process.aspace().hal().clone();
    let vmo = provider
        .create_vmo(hal.clone(), (PAGES * PAGE) as u64)
        .unwrap();
    let root = process.root_vmar();
    // The mapping runs four pages past the VMO's end.
    let len = (PAGES + 4) * PAGE;
    let at = root
        .map(&vmo, &MapRequest::new(0, len, VmPerms::READ))
        .unwrap();
    for page in 0..PAGES {
        // SAFETY: `at` is a live read-only mapping covering these pages; the
        // fault waits for the provider.
        let byte = unsafe { ((at + page * PAGE) as *const u8).read_volatile() };
        assert_eq!(byte, file_byte(page * PAGE));
    }
    let from = at + 20 * PAGE;
    assert_eq!(
        root.op_range(VmarOp::DontNeed, from, 8 * PAGE, false),
        Ok(())
    );
    assert_eq!(
        root.op_range(VmarOp::AlwaysNeed, at, 2 * PAGE, false),
        Ok(())
    );

    // One batch: the four hinted pages first, then the oldest but the two kept.
    let freed = reclaimer_of(&*hal).unwrap().reclaim(1);
    assert_eq!(freed, 6);
    let state = |page: usize| vmo.page_state((page * PAGE) as u64).unwrap();
    for page in (20..24).chain(2..4) {
        assert_eq!(state(page), PageState::Absent, "page {page}");
    }
    for page in (0..2).chain(4..20) {
        assert_eq!(state(page), PageState::Clean, "page {page}");
    }
    root.unmap(at, len, false).unwrap();
}

#[test]
fn threads_faulting_three_pager_backed_mappings_evict_each_others_pages() {
    const FRAMES: usize = 256;
    const PAGES: usize = 200;
    const THREADS: usize = 3;
    let p = small_process(FRAMES);
    let process = p.object();
    let hal = process.aspace().hal().clone();
    let root = process.root_vmar();
    let at_start = p.hal().free_count();
    let mut mappings = Vec::new();
    for t in 0..THREADS {
        let path = std::env::temp_dir().join(format!("zircon-threads-{}-{t}", std::process::id()));
        let contents: Vec<u8> = (0..PAGES * PAGE).map(|i| file_byte(i) ^ t as u8).collect();
        std::fs::write(&path, &contents).unwrap();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        let provider = FileProvider::new(file);
        let vmo = provider
            .create_vmo(hal.clone(), (PAGES * PAGE) as u64)
            .unwrap();
        let at = root
            .map(&vmo, &MapRequest::new(0, PAGES * PAGE, VmPerms::READ))
            .unwrap();
        mappings.push((at, vmo, provider));
    }
    std::thread::scope(|scope| {
        for (t, (at, _, _)) in mappings.iter().enumerate() {
            let at = *at;
            scope.spawn(move || {
                for round in 0..3 {
                    for page in 0..PAGES {
                        let i = page * PAGE + (page * 7 + round) % PAGE;
                        // SAFETY: `at` is a live read-only mapping of PAGES pages;
                        // the fault waits for the provider, from this thread.
                        let byte = unsafe { ((at + i) as *const u8).read_volatile() };
                        assert_eq!(byte, file_byte(i) ^ t as u8, "thread {t} byte {i}");
                    }
                }
            });
        }
    });
    assert!(reclaimer_of(&*hal).unwrap().evictions() > 0);
    for (at, _, _) in &mappings {
        root.unmap(*at, PAGES * PAGE, false).unwrap();
    }
    drop(mappings);
    assert_eq!(p.hal().free_count(), at_start, "frames are back");
}
