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
//! The machine these run on is shared, so every measurement is *paired*: the
//! operation and its baseline run alternately in small chunks, and each bench
//! reports the time of its own side. The ratios printed at the end divide the
//! totals of both sides over all the chunks run, so load that comes and goes hits
//! both sides alike.

use std::cell::RefCell;
use std::collections::BTreeMap;
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
/// Operations per side before switching to the other side.
const CHUNK: u64 = 32;
/// Pages of the demand-fault regions; they are reset (untimed) when used up.
const REGION_PAGES: usize = 4096;

thread_local! {
    /// Per pair name: total time of the operation, of its baseline, and rounds.
    static TOTALS: RefCell<BTreeMap<&'static str, (Duration, Duration)>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// Runs `iters` rounds of `op` and of `baseline`, alternating in chunks, adds both
/// times to the totals of `pair`, and returns them. Each closure times itself (so it
/// can leave set-up and clean-up out) and returns the time of the rounds it ran.
fn paired(
    pair: &'static str,
    iters: u64,
    mut op: impl FnMut(u64) -> Duration,
    mut baseline: impl FnMut(u64) -> Duration,
) -> (Duration, Duration) {
    let (mut a, mut b) = (Duration::ZERO, Duration::ZERO);
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        a += op(n);
        b += baseline(n);
        left -= n;
    }
    TOTALS.with(|t| {
        let mut t = t.borrow_mut();
        let entry = t.entry(pair).or_default();
        entry.0 += a;
        entry.1 += b;
    });
    (a, b)
}

/// Times `n` calls of `f`.
fn timed(n: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed()
}

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

/// A fresh `PROT_NONE` reservation of `len` bytes.
fn reserve(len: usize) -> usize {
    // SAFETY: a fresh mapping placed by the kernel.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED);
    p as usize
}

/// Puts `[at, at + len)`, inside a reservation of the bench's own, back to reserved.
fn reserve_fixed(at: usize, len: usize) {
    // SAFETY: the range lies in one of the bench's own reservations.
    let p = unsafe {
        libc::mmap(
            at as *mut libc::c_void,
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED);
}

/// One `mmap` of `len` bytes of `fd`, placed by the kernel.
fn raw_map(fd: i32, len: usize) -> *mut libc::c_void {
    // SAFETY: a fresh shared mapping placed by the kernel.
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
    assert_ne!(p, libc::MAP_FAILED);
    p
}

fn raw_unmap(p: *mut libc::c_void, len: usize) {
    // SAFETY: a mapping `raw_map` made.
    unsafe { libc::munmap(p, len) };
}

/// Maps `len` bytes of `fd` with `MAP_FIXED` over part of a reservation.
fn raw_fixed_map(fd: i32, at: usize, len: usize) {
    // SAFETY: `at..at + len` lies in the bench's own reservation.
    let p = unsafe {
        libc::mmap(
            at as *mut libc::c_void,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_FIXED,
            fd,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED);
}

fn map_unmap(c: &mut Criterion) {
    let hal = hal();
    let pt = hal.new_page_table().unwrap();
    // Map in the middle of the window, as a real address space does.
    let vaddr = pt.user_range().0 + (256 << 20);
    let fd = raw_memfd(1 << 30);
    let reserved = reserve(1 << 30);
    let fixed_at = reserved + (256 << 20);

    let mut group = c.benchmark_group("map_unmap");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for (name, len, pair, fixed_pair) in [
        (
            "4KiB",
            PAGE_SIZE,
            "map_unmap/4KiB",
            "map_unmap/4KiB vs raw_fixed",
        ),
        (
            "16MiB",
            16 << 20,
            "map_unmap/16MiB",
            "map_unmap/16MiB vs raw_fixed",
        ),
    ] {
        let frames = hal.alloc_contiguous(len / PAGE_SIZE, 0).unwrap();
        let hal_op = |n| {
            timed(n, || {
                pt.map(vaddr, frames, len, RW, CachePolicy::Cached).unwrap();
                pt.unmap(vaddr, len).unwrap();
            })
        };
        let raw_op = |n| timed(n, || raw_unmap(raw_map(fd, len), len));
        let fixed_op = |n| {
            timed(n, || {
                raw_fixed_map(fd, fixed_at, len);
                reserve_fixed(fixed_at, len);
            })
        };
        group.bench_function(format!("{name}/hal"), |b| {
            b.iter_custom(|iters| paired(pair, iters, hal_op, raw_op).0)
        });
        group.bench_function(format!("{name}/raw"), |b| {
            b.iter_custom(|iters| paired(pair, iters, hal_op, raw_op).1)
        });
        group.bench_function(format!("{name}/raw_fixed"), |b| {
            b.iter_custom(|iters| paired(fixed_pair, iters, hal_op, fixed_op).1)
        });
        hal.free_frames(frames, len / PAGE_SIZE).unwrap();
    }
    group.finish();

    // The map alone, each call timed, the unmap outside the timing.
    let len = 16 << 20;
    let frames = hal.alloc_contiguous(len / PAGE_SIZE, 0).unwrap();
    let hal_op = |n| {
        let mut total = Duration::ZERO;
        for _ in 0..n {
            let start = Instant::now();
            pt.map(vaddr, frames, len, RW, CachePolicy::Cached).unwrap();
            total += start.elapsed();
            pt.unmap(vaddr, len).unwrap();
        }
        total
    };
    let raw_op = |n| {
        let mut total = Duration::ZERO;
        for _ in 0..n {
            let start = Instant::now();
            let p = raw_map(fd, len);
            total += start.elapsed();
            raw_unmap(p, len);
        }
        total
    };
    let mut group = c.benchmark_group("map_only");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    group.bench_function("16MiB/hal", |b| {
        b.iter_custom(|iters| paired("map_only/16MiB", iters, hal_op, raw_op).0)
    });
    group.bench_function("16MiB/raw", |b| {
        b.iter_custom(|iters| paired("map_only/16MiB", iters, hal_op, raw_op).1)
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

/// A region demand-faulted page by page: the next page to touch and how to reset.
struct FaultRegion<R: FnMut()> {
    base: usize,
    next: usize,
    reset: R,
}

impl<R: FnMut()> FaultRegion<R> {
    /// Times `n` faults, resetting the region (untimed) whenever it is used up.
    fn fault(&mut self, n: u64) -> Duration {
        let mut total = Duration::ZERO;
        let mut left = n as usize;
        while left > 0 {
            if self.next == REGION_PAGES {
                (self.reset)();
                self.next = 0;
            }
            let k = left.min(REGION_PAGES - self.next);
            let start = Instant::now();
            for page in self.next..self.next + k {
                touch(self.base + page * PAGE_SIZE);
            }
            total += start.elapsed();
            self.next += k;
            left -= k;
        }
        total
    }
}

/// Installs `action` for `SIGSEGV` and returns the one it replaced.
fn swap_sigsegv(action: &libc::sigaction) -> libc::sigaction {
    // SAFETY: a zeroed `sigaction` is valid to receive the old action; the bench is
    // single-threaded and touches only the region whose handler is installed.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGSEGV, action, &mut old);
        old
    }
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
    let region = REGION_PAGES * PAGE_SIZE;
    let hal_base = pager.pt.user_range().0 + (256 << 20);
    let hal_region = RefCell::new(FaultRegion {
        base: hal_base,
        next: 0,
        reset: || {
            pager.pt.clear(hal_base, region).unwrap();
            for frame in pager.frames.lock().unwrap().drain(..) {
                hal.free_frames(frame, 1).unwrap();
            }
        },
    });

    let fd = raw_memfd(region);
    let raw_base = reserve(region);
    RAW_BASE.store(raw_base, Ordering::Relaxed);
    RAW_FD.store(fd, Ordering::Relaxed);
    let raw_region = RefCell::new(FaultRegion {
        base: raw_base,
        next: 0,
        reset: || reserve_fixed(raw_base, region),
    });
    // SAFETY: zeroed is a valid `sigaction`; the fields used are set below.
    let mut raw_action: libc::sigaction = unsafe { std::mem::zeroed() };
    raw_action.sa_sigaction = raw_handler as *const () as usize;
    raw_action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
    // Learn our own handler's action by swapping it out and back.
    let ours = swap_sigsegv(&raw_action);
    swap_sigsegv(&ours);

    let hal_op = |n| hal_region.borrow_mut().fault(n);
    let raw_op = |n| {
        let previous = swap_sigsegv(&raw_action);
        let time = raw_region.borrow_mut().fault(n);
        swap_sigsegv(&previous);
        time
    };
    let mut group = c.benchmark_group("demand_fault");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    group.bench_function("page/hal", |b| {
        b.iter_custom(|iters| paired("demand_fault/page", iters, hal_op, raw_op).0)
    });
    group.bench_function("page/raw", |b| {
        b.iter_custom(|iters| paired("demand_fault/page", iters, hal_op, raw_op).1)
    });
    group.finish();
}

/// Prints each paired `hal / baseline` ratio of this run.
fn print_ratios() {
    println!("\npaired ratios (hal / baseline, totals over every interleaved chunk):");
    TOTALS.with(|t| {
        for (pair, (op, baseline)) in t.borrow().iter() {
            println!(
                "  {pair:32} {:.2}  (hal {:.2} s, baseline {:.2} s)",
                op.as_secs_f64() / baseline.as_secs_f64(),
                op.as_secs_f64(),
                baseline.as_secs_f64()
            );
        }
    });
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
