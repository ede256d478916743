//! The unix backend beside raw host calls, in the same run:
//!
//! - `map_unmap/4KiB` and `map_unmap/16MiB`: `PageTable::map` + `unmap` of one page
//!   and of a 16 MiB contiguous run, against `mmap` + `munmap` of the same memfd range
//!   (`raw`), and against what a reserved window costs even done by hand: `mmap`
//!   with `MAP_FIXED` over a `PROT_NONE` reservation and back (`raw_fixed`).
//! - `map_only/16MiB`: the map alone (the unmap is done untimed), against one `mmap`.
//! - `demand_fault/page`: one write to an unmapped page resolved by a registered
//!   fault handler (allocate a frame, map it), against a bare `SIGSEGV` handler that
//!   `mmap`s the page and returns.
//!
//! The bench prints the `hal / baseline` ratios of the run at the end.

use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use criterion::Criterion;
use kernel_hal::{
    CachePolicy, MMUFlags, PageFaultHandler, PageTable, PhysAddr, PhysMem, VirtAddr, PAGE_SIZE,
};
use kernel_hal_unix::{UnixHal, UnixHalConfig, UnixPageTable};

const RW: MMUFlags = MMUFlags::READ.union(MMUFlags::WRITE);
/// Pages touched per timed batch in the fault benchmarks.
const BATCH: usize = 4096;

fn hal() -> UnixHal {
    UnixHal::with_config(UnixHalConfig {
        phys_size: 1 << 30,
        window_size: 1 << 30,
    })
    .unwrap()
}

/// A memfd of `size` bytes for the raw baselines.
fn raw_memfd(size: usize) -> i32 {
    // SAFETY: plain syscalls creating and sizing a new file.
    unsafe {
        let fd = libc::memfd_create(c"bench-raw".as_ptr(), libc::MFD_CLOEXEC);
        assert!(fd >= 0);
        assert_eq!(libc::ftruncate(fd, size as libc::off_t), 0);
        fd
    }
}

fn raw_map_unmap(fd: i32, len: usize) {
    // SAFETY: a fresh shared mapping placed by the kernel, unmapped at once.
    unsafe {
        let p = libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        );
        assert_ne!(p, libc::MAP_FAILED);
        libc::munmap(p, len);
    }
}

/// `raw_map_unmap` the way a reserved window forces it: map over part of a
/// `PROT_NONE` reservation and put the reservation back.
fn raw_fixed_map_unmap(fd: i32, at: usize, len: usize) {
    // SAFETY: `at..at + len` lies in the bench's own reservation.
    unsafe {
        let p = libc::mmap(
            at as *mut libc::c_void,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_FIXED,
            fd,
            0,
        );
        assert_ne!(p, libc::MAP_FAILED);
        let p = libc::mmap(
            at as *mut libc::c_void,
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
            -1,
            0,
        );
        assert_ne!(p, libc::MAP_FAILED);
    }
}

fn map_unmap(c: &mut Criterion) {
    let hal = hal();
    let pt = hal.new_page_table().unwrap();
    let (base, _) = pt.user_range();
    let fd = raw_memfd(1 << 30);
    // SAFETY: a fresh reservation for the `raw_fixed` baseline.
    let reserved = unsafe {
        libc::mmap(
            ptr::null_mut(),
            1 << 30,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    } as usize;
    let mut group = c.benchmark_group("map_unmap");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    for (name, len) in [("4KiB", PAGE_SIZE), ("16MiB", 16 << 20)] {
        let frames = hal.alloc_contiguous(len / PAGE_SIZE, 0).unwrap();
        // Map in the middle of the window, as a real address space does.
        let vaddr = base + (256 << 20);
        group.bench_function(format!("{name}/hal"), |b| {
            b.iter(|| {
                pt.map(vaddr, frames, len, RW, CachePolicy::Cached).unwrap();
                pt.unmap(vaddr, len).unwrap();
            })
        });
        group.bench_function(format!("{name}/raw"), |b| b.iter(|| raw_map_unmap(fd, len)));
        group.bench_function(format!("{name}/raw_fixed"), |b| {
            b.iter(|| raw_fixed_map_unmap(fd, reserved + (256 << 20), len))
        });
        hal.free_frames(frames, len / PAGE_SIZE).unwrap();
    }
    group.finish();

    // The map alone, timed per call, with the unmap outside the timing.
    let len = 16 << 20;
    let frames = hal.alloc_contiguous(len / PAGE_SIZE, 0).unwrap();
    let vaddr = base + (256 << 20);
    let mut group = c.benchmark_group("map_only");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("16MiB/hal", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                pt.map(vaddr, frames, len, RW, CachePolicy::Cached).unwrap();
                total += start.elapsed();
                pt.unmap(vaddr, len).unwrap();
            }
            total
        })
    });
    group.bench_function("16MiB/raw", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                // SAFETY: a fresh shared mapping placed by the kernel, unmapped below.
                let p = unsafe {
                    libc::mmap(
                        ptr::null_mut(),
                        len,
                        libc::PROT_READ | libc::PROT_WRITE,
                        libc::MAP_SHARED,
                        fd,
                        0,
                    )
                };
                total += start.elapsed();
                assert_ne!(p, libc::MAP_FAILED);
                // SAFETY: the mapping just made.
                unsafe { libc::munmap(p, len) };
            }
            total
        })
    });
    group.finish();
    hal.free_frames(frames, len / PAGE_SIZE).unwrap();
    // SAFETY: our own descriptor and reservation.
    unsafe {
        libc::close(fd);
        libc::munmap(reserved as *mut libc::c_void, 1 << 30);
    }
}

/// Demand paging as the object layer does it: allocate a frame, map it.
struct Pager {
    hal: UnixHal,
    pt: UnixPageTable,
    frames: Mutex<Vec<PhysAddr>>,
}

impl PageFaultHandler for Pager {
    fn handle_page_fault(&self, vaddr: VirtAddr, _access: MMUFlags) -> bool {
        let Ok(frame) = self.hal.alloc_frame() else {
            return false;
        };
        let page = vaddr & !(PAGE_SIZE - 1);
        let ok = self
            .pt
            .map(page, frame, PAGE_SIZE, RW, CachePolicy::Cached)
            .is_ok();
        self.frames.lock().unwrap().push(frame);
        ok
    }
}

static RAW_BASE: AtomicUsize = AtomicUsize::new(0);
static RAW_FD: AtomicI32 = AtomicI32::new(-1);

/// The baseline fault handler: map the faulting page from the memfd and return.
extern "C" fn raw_handler(_sig: i32, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel's siginfo; the page lies in the baseline's own reserved
    // region, and the memfd offset inside its file.
    unsafe {
        let page = (*info).si_addr() as usize & !(PAGE_SIZE - 1);
        let offset = page - RAW_BASE.load(Ordering::Relaxed);
        libc::mmap(
            page as *mut libc::c_void,
            PAGE_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_FIXED,
            RAW_FD.load(Ordering::Relaxed),
            offset as libc::off_t,
        );
    }
}

fn touch(addr: usize) {
    // SAFETY: the address lies in a region whose faults the installed handler
    // resolves by mapping the page.
    unsafe { ptr::write_volatile(addr as *mut u8, 1) };
}

/// Times `iters` page faults in batches of [`BATCH`] pages at `base`, calling
/// `reset` (untimed) between batches.
fn time_faults(iters: u64, base: usize, mut reset: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let n = left.min(BATCH);
        let start = Instant::now();
        for page in 0..n {
            touch(base + page * PAGE_SIZE);
        }
        total += start.elapsed();
        reset();
        left -= n;
    }
    total
}

fn demand_fault(c: &mut Criterion) {
    let hal = hal();
    let pager = Arc::new(Pager {
        hal: hal.clone(),
        pt: hal.new_page_table().unwrap(),
        frames: Mutex::new(Vec::new()),
    });
    let weak: Weak<dyn PageFaultHandler> = Arc::downgrade(&pager) as Weak<dyn PageFaultHandler>;
    pager.pt.set_fault_handler(Some(weak));
    let base = pager.pt.user_range().0 + (256 << 20);
    let region = BATCH * PAGE_SIZE;

    let fd = raw_memfd(region);
    // SAFETY: a fresh reservation for the baseline.
    let raw_base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            region,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    } as usize;
    RAW_BASE.store(raw_base, Ordering::Relaxed);
    RAW_FD.store(fd, Ordering::Relaxed);
    let reserve_raw = || {
        // SAFETY: the baseline's own region, put back to reserved.
        unsafe {
            libc::mmap(
                raw_base as *mut libc::c_void,
                region,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
                -1,
                0,
            )
        };
    };

    let mut group = c.benchmark_group("demand_fault");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("page/hal", |b| {
        b.iter_custom(|iters| {
            time_faults(iters, base, || {
                pager.pt.clear(base, region).unwrap();
                for frame in pager.frames.lock().unwrap().drain(..) {
                    hal.free_frames(frame, 1).unwrap();
                }
            })
        })
    });
    group.bench_function("page/raw", |b| {
        // SAFETY: swaps the process's SIGSEGV action for the baseline's and back;
        // the bench is single-threaded and touches only the baseline region while
        // the baseline handler is installed.
        let mut ours: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut raw: libc::sigaction = unsafe { std::mem::zeroed() };
        raw.sa_sigaction = raw_handler as *const () as usize;
        raw.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        // SAFETY: as above.
        unsafe { libc::sigaction(libc::SIGSEGV, &raw, &mut ours) };
        b.iter_custom(|iters| time_faults(iters, raw_base, reserve_raw));
        // SAFETY: as above.
        unsafe { libc::sigaction(libc::SIGSEGV, &ours, ptr::null_mut()) };
    });
    group.finish();
}

/// The mean time criterion just measured for `group/id`, in nanoseconds, read from
/// its `estimates.json` under the target directory.
fn mean_ns(group: &str, id: &str) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    // The bench runs as <target>/<profile>/deps/<name>.
    let target = exe.parent()?.parent()?.parent()?;
    let path = target
        .join("criterion")
        .join(group)
        .join(id.replace('/', "_"))
        .join("new/estimates.json");
    let json = std::fs::read_to_string(path).ok()?;
    let mean = &json[json.find("\"mean\"")?..];
    let value = &mean[mean.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

/// Prints each `hal / baseline` ratio of this run.
fn print_ratios() {
    println!("\nratios (hal / baseline, mean times of this run):");
    for (group, name, baseline) in [
        ("map_unmap", "4KiB", "raw"),
        ("map_unmap", "4KiB", "raw_fixed"),
        ("map_unmap", "16MiB", "raw"),
        ("map_unmap", "16MiB", "raw_fixed"),
        ("map_only", "16MiB", "raw"),
        ("demand_fault", "page", "raw"),
    ] {
        let hal = mean_ns(group, &format!("{name}/hal"));
        let base = mean_ns(group, &format!("{name}/{baseline}"));
        match (hal, base) {
            (Some(hal), Some(base)) => println!(
                "  {group}/{name}: hal {hal:.0} ns / {baseline} {base:.0} ns = {:.2}",
                hal / base
            ),
            _ => println!("  {group}/{name} against {baseline}: not measured in this run"),
        }
    }
}

/// The benchmark group (in a private module: its generated function is not API).
mod group {
    use super::{demand_fault, map_unmap};
    criterion::criterion_group!(benches, map_unmap, demand_fault);
}

fn main() {
    group::benches();
    Criterion::default().configure_from_args().final_summary();
    print_ratios();
}
