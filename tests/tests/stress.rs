//! Many threads sharing one process: random maps, unmaps, protects, snapshots,
//! decommits, VMO reads and writes, and raw loads and stores through host pointers
//! (demand faults), all at once. Nothing may deadlock, no thread may see wrong data
//! in memory only it writes, and every frame must be free at the end.
//!
//! `STRESS_SECS=<n>` sets how long the threads run (default 3; CI runs 60). A
//! watchdog ends the process with a message naming the stuck thread if one makes no
//! progress for `STALL_SECS`, so a deadlock fails instead of hanging.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use zircon_syscall::*;
use zircon_tests::new_process;

const PAGE: usize = 4096;
const THREADS: usize = 6;
/// Pages of each VMO.
const VMO_PAGES: usize = 8;
/// A thread with no finished operation for this long is stuck.
const STALL_SECS: u64 = 20;

/// One thread's progress, read by the watchdog.
struct Progress {
    ops: AtomicU64,
    last: AtomicUsize,
}

const OP_NAMES: [&str; 8] = [
    "map", "unmap", "protect", "pointer", "vmo io", "snapshot", "decommit", "commit",
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

fn secs() -> u64 {
    std::env::var("STRESS_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

fn read_u32(p: &zircon_tests::TestProcess, at: usize) -> u32 {
    let mut b = [0u8; 4];
    p.read_memory(at, &mut b).unwrap();
    u32::from_le_bytes(b)
}

fn read_usize(p: &zircon_tests::TestProcess, at: usize) -> usize {
    let mut b = [0u8; 8];
    p.read_memory(at, &mut b).unwrap();
    usize::from_le_bytes(b)
}

#[test]
fn threads_sharing_a_process_never_hang_corrupt_or_leak() {
    let duration = Duration::from_secs(secs());
    let p = Arc::new(new_process());
    let scratch = p.scratch();
    let len = VMO_PAGES * PAGE;
    // Shared VMOs every thread maps, writes, snapshots and decommits.
    let shared: Vec<u32> = (0..3)
        .map(|i| {
            assert_eq!(p.zx_vmo_create(len as u64, 0, scratch + 8 * i), ZX_OK);
            read_u32(&p, scratch + 8 * i)
        })
        .collect();
    let progress: Arc<Vec<Progress>> = Arc::new(
        (0..THREADS)
            .map(|_| Progress {
                ops: AtomicU64::new(0),
                last: AtomicUsize::new(0),
            })
            .collect(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (progress, done) = (progress.clone(), done.clone());
        std::thread::spawn(move || {
            let mut seen = [(0u64, Instant::now()); THREADS];
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(200));
                for (t, (count, since)) in seen.iter_mut().enumerate() {
                    let now = progress[t].ops.load(Ordering::SeqCst);
                    if now != *count {
                        (*count, *since) = (now, Instant::now());
                    } else if since.elapsed() > Duration::from_secs(STALL_SECS) {
                        let op = OP_NAMES[progress[t].last.load(Ordering::SeqCst)];
                        eprintln!(
                            "stress watchdog: thread {t} made no progress for {STALL_SECS} s \
                             (last operation: {op}) after {now} operations; a deadlock. Aborting."
                        );
                        std::process::abort();
                    }
                }
            }
        })
    };
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (p, shared, progress, start) =
                (p.clone(), shared.clone(), progress.clone(), start.clone());
            std::thread::spawn(move || {
                worker(&p, t, &shared, &progress[t], &start, duration);
            })
        })
        .collect();
    let mut total = 0;
    for w in workers {
        w.join().expect("a stress thread panicked");
    }
    done.store(true, Ordering::SeqCst);
    watchdog.join().unwrap();
    for pr in progress.iter() {
        total += pr.ops.load(Ordering::SeqCst);
    }
    println!("{THREADS} threads, {total} operations in {duration:?}");
    assert!(total > 1000, "only {total} operations");
    for h in shared {
        assert_eq!(p.zx_handle_close(h), ZX_OK);
    }
    // Dropping the process checks that every frame is free again.
    Arc::try_unwrap(p).ok().expect("workers are done");
}

/// One thread: its own out-parameter area, a private VMO whose bytes only it writes
/// (and checks), its own mappings, and the shared VMOs.
fn worker(
    p: &zircon_tests::TestProcess,
    t: usize,
    shared: &[u32],
    progress: &Progress,
    start: &Barrier,
    duration: Duration,
) {
    let out = p.scratch() + 1024 + t * 4096;
    let root = p.zx_vmar_root_self();
    let rw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
    let len = VMO_PAGES * PAGE;
    assert_eq!(p.zx_vmo_create(len as u64, 0, out), ZX_OK);
    let private = read_u32(p, out);
    assert_eq!(p.zx_vmar_map(root, rw, 0, private, 0, len, out), ZX_OK);
    let private_addr = read_usize(p, out);
    let mut expected = vec![0u8; len];
    // Mappings of shared VMOs: (address, writable).
    let mut maps: Vec<(usize, bool)> = Vec::new();
    let mut rng = Rng(0x57_2e55 + t as u64);
    start.wait();
    let began = Instant::now();
    while began.elapsed() < duration {
        let op = rng.below(OP_NAMES.len());
        progress.last.store(op, Ordering::SeqCst);
        let vmo = shared[rng.below(shared.len())];
        match op {
            0 if maps.len() < 16 => {
                assert_eq!(p.zx_vmar_map(root, rw, 0, vmo, 0, len, out), ZX_OK);
                maps.push((read_usize(p, out), true));
            }
            1 if !maps.is_empty() => {
                let (addr, _) = maps.swap_remove(rng.below(maps.len()));
                assert_eq!(p.zx_vmar_unmap(root, addr, len), ZX_OK);
            }
            2 if !maps.is_empty() => {
                let i = rng.below(maps.len());
                let writable = !maps[i].1;
                let perms = if writable { rw } else { ZX_VM_PERM_READ };
                assert_eq!(p.zx_vmar_protect(root, perms, maps[i].0, len), ZX_OK);
                maps[i].1 = writable;
            }
            3 => {
                // Raw stores and loads: checked in the private mapping, racing other
                // threads (and their decommits) in a shared one.
                let at = rng.below(len);
                let value = rng.below(255) as u8 + 1;
                // SAFETY: `private_addr..+len` is this thread's read-write mapping,
                // which nothing unmaps while the thread runs.
                unsafe { ((private_addr + at) as *mut u8).write_volatile(value) };
                expected[at] = value;
                let other = rng.below(len);
                // SAFETY: as above.
                let seen = unsafe { ((private_addr + other) as *const u8).read_volatile() };
                assert_eq!(seen, expected[other], "thread {t}: wrong byte at {other}");
                if let Some(&(addr, writable)) = maps.get(rng.below(maps.len().max(1))) {
                    // SAFETY: a mapping of this thread's, alive until it unmaps it;
                    // written only when its protection allows it.
                    unsafe {
                        let ptr = (addr + rng.below(len)) as *mut u8;
                        if writable {
                            ptr.write_volatile(value);
                        }
                        std::hint::black_box(ptr.read_volatile());
                    }
                }
            }
            4 => {
                let at = rng.below(len - 64);
                assert_eq!(p.zx_vmo_read(private, out + 16, at as u64, 64), ZX_OK);
                let mut bytes = [0u8; 64];
                p.read_memory(out + 16, &mut bytes).unwrap();
                assert_eq!(&bytes[..], &expected[at..at + 64], "thread {t}: VMO read");
                p.write_memory(out + 16, &[t as u8; 64]).unwrap();
                assert_eq!(p.zx_vmo_write(vmo, out + 16, at as u64, 64), ZX_OK);
            }
            5 => {
                let st = p.zx_vmo_create_child(vmo, ZX_VMO_CHILD_SNAPSHOT, 0, len as u64, out);
                assert_eq!(st, ZX_OK);
                let child = read_u32(p, out);
                assert_eq!(p.zx_vmo_read(child, out + 16, 0, 64), ZX_OK);
                assert_eq!(p.zx_handle_close(child), ZX_OK);
            }
            6 => {
                let page = (rng.below(VMO_PAGES) * PAGE) as u64;
                let st = p.zx_vmo_op_range(vmo, ZX_VMO_OP_DECOMMIT, page, PAGE as u64, 0, 0);
                // Refused while another thread holds a snapshot of it.
                assert!(st == ZX_OK || st == ZX_ERR_NOT_SUPPORTED, "decommit: {st}");
            }
            _ => {
                let st = p.zx_vmo_op_range(vmo, ZX_VMO_OP_COMMIT, 0, len as u64, 0, 0);
                assert_eq!(st, ZX_OK);
            }
        }
        progress.ops.fetch_add(1, Ordering::SeqCst);
    }
    for (addr, _) in maps {
        assert_eq!(p.zx_vmar_unmap(root, addr, len), ZX_OK);
    }
    assert_eq!(p.zx_vmar_unmap(root, private_addr, len), ZX_OK);
    assert_eq!(p.zx_handle_close(private), ZX_OK);
}
