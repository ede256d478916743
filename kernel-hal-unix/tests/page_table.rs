//! The unix backend against the `PageTable` and `PhysMem` contracts, with real host
//! mappings and real faults.

mod common;

use std::sync::{Arc, Barrier};

use common::{peek, poke, small_hal, Policy, Space};
use kernel_hal::{CachePolicy, MMUFlags, PageSize, PageTable, PagingError, PhysMem, PAGE_SIZE};
use kernel_hal_unix::{UnixHal, UnixHalConfig};

const RW: MMUFlags = MMUFlags::READ.union(MMUFlags::WRITE);

#[test]
fn mapped_frames_agree_through_host_pointers_and_physical_memory() {
    let hal = small_hal();
    let start_free = hal.free_count();
    let space = Space::new(&hal, Policy::Refuse);
    let frames = hal.alloc_contiguous(4, 0).unwrap();
    let vaddr = space.base() + 16 * PAGE_SIZE;
    space
        .pt
        .map(vaddr, frames, 4 * PAGE_SIZE, RW, CachePolicy::Cached)
        .unwrap();

    for i in 0..4 * PAGE_SIZE {
        poke(vaddr + i, (i % 251) as u8);
    }
    let mut bytes = vec![0u8; 4 * PAGE_SIZE];
    hal.read(frames, &mut bytes).unwrap();
    assert!(bytes.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));

    hal.write(frames + PAGE_SIZE + 7, b"through physical memory")
        .unwrap();
    let seen: Vec<u8> = (0..23).map(|i| peek(vaddr + PAGE_SIZE + 7 + i)).collect();
    assert_eq!(&seen, b"through physical memory");

    for page in 0..4 {
        let t = space.pt.query(vaddr + page * PAGE_SIZE + 5).unwrap();
        assert_eq!(t.paddr, frames + page * PAGE_SIZE + 5);
        assert_eq!(t.flags, RW);
        assert_eq!(t.cache, CachePolicy::Cached);
        assert_eq!(t.page_size, PageSize::Size4K);
    }
    assert!(space.faults().is_empty(), "no access above needed a fault");
    assert_eq!(space.pt.run_count(), 1, "one contiguous run is one mapping");

    space.pt.unmap(vaddr, 4 * PAGE_SIZE).unwrap();
    hal.free_frames(frames, 4).unwrap();
    assert_eq!(hal.free_count(), start_free);
}

/// Physical-memory copies treat frames as memory other threads store to: an
/// aligned 8-byte value stored through a window mapping is read whole (old or
/// new), and the copies race with those stores only through atomics.
#[test]
fn physical_reads_racing_stores_through_a_mapping_see_whole_words() {
    let hal = small_hal();
    let space = Space::new(&hal, Policy::Refuse);
    let frame = hal.alloc_frame().unwrap();
    let vaddr = space.base();
    space
        .pt
        .map(vaddr, frame, PAGE_SIZE, RW, CachePolicy::Cached)
        .unwrap();
    const PATTERNS: [u64; 2] = [0x1111_1111_1111_1111, 0xEEEE_EEEE_EEEE_EEEE];
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let word = vaddr + 64;
            let mut i = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: `word` is 8-byte aligned inside a read-write mapping that
                // stays in place until this thread is joined.
                unsafe { std::sync::atomic::AtomicU64::from_ptr(word as *mut u64) }
                    .store(PATTERNS[i % 2], std::sync::atomic::Ordering::Relaxed);
                i += 1;
            }
        })
    };
    for _ in 0..200_000 {
        let mut bytes = [0u8; 8];
        hal.read(frame + 64, &mut bytes).unwrap();
        let seen = u64::from_ne_bytes(bytes);
        assert!(seen == 0 || PATTERNS.contains(&seen), "torn read {seen:#x}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    space.pt.unmap(vaddr, PAGE_SIZE).unwrap();
    hal.free_frames(frame, 1).unwrap();
}

#[test]
fn physical_zero_and_copy_work_on_frames() {
    let hal = small_hal();
    let a = hal.alloc_frame().unwrap();
    let b = hal.alloc_frame().unwrap();
    hal.write(a, &[0xAB; PAGE_SIZE]).unwrap();
    hal.copy(b, a, PAGE_SIZE).unwrap();
    hal.zero(a + 100, 100).unwrap();
    let mut buf = [0u8; PAGE_SIZE];
    hal.read(b, &mut buf).unwrap();
    assert!(buf.iter().all(|&x| x == 0xAB));
    hal.read(a, &mut buf).unwrap();
    assert!(buf[100..200].iter().all(|&x| x == 0));
    assert_eq!(buf[99], 0xAB);
    assert_eq!(buf[200], 0xAB);
    hal.free_frames(a, 1).unwrap();
    hal.free_frames(b, 1).unwrap();
    assert_eq!(hal.free_count(), hal.total_count());
}

#[test]
fn write_to_a_read_only_range_faults_with_its_address_and_access_kind() {
    let hal = small_hal();
    let space = Space::new(&hal, Policy::Resolve);
    let frame = hal.alloc_contiguous(2, 0).unwrap();
    let vaddr = space.base() + 0x10_0000;
    space
        .pt
        .map(vaddr, frame, 2 * PAGE_SIZE, RW, CachePolicy::Cached)
        .unwrap();
    poke(vaddr + 10, 1);
    assert_eq!(
        space.pt.protect(vaddr, 2 * PAGE_SIZE, MMUFlags::READ),
        Ok(2)
    );
    assert_eq!(space.pt.query(vaddr).unwrap().flags, MMUFlags::READ);

    assert_eq!(peek(vaddr + 10), 1, "reads still work");
    assert!(space.faults().is_empty());
    poke(vaddr + PAGE_SIZE + 0x123, 42);
    assert_eq!(
        space.faults(),
        vec![(vaddr + PAGE_SIZE + 0x123, MMUFlags::WRITE)]
    );
    // The handler granted write to that page only; the write went through.
    let mut byte = [0u8];
    hal.read(frame + PAGE_SIZE + 0x123, &mut byte).unwrap();
    assert_eq!(byte[0], 42);
    assert_eq!(space.pt.query(vaddr + PAGE_SIZE).unwrap().flags, RW);
    assert_eq!(space.pt.query(vaddr).unwrap().flags, MMUFlags::READ);

    // A page mapped with no permissions faults on read.
    space
        .pt
        .protect(vaddr, PAGE_SIZE, MMUFlags::empty())
        .unwrap();
    assert_eq!(peek(vaddr + 8), 0);
    assert_eq!(space.faults()[1], (vaddr + 8, MMUFlags::READ));

    space.pt.unmap(vaddr, 2 * PAGE_SIZE).unwrap();
    hal.free_frames(frame, 2).unwrap();
    space.release();
    assert_eq!(hal.free_count(), hal.total_count());
}

#[test]
fn executing_a_page_without_execute_faults_as_an_instruction_fetch() {
    let hal = small_hal();
    let space = Space::new(&hal, Policy::Resolve);
    let frame = hal.alloc_frame().unwrap();
    // `mov eax, 0x2a; ret`
    hal.write(frame, &[0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3])
        .unwrap();
    let vaddr = space.base() + 0x4000;
    space
        .pt
        .map(vaddr, frame, PAGE_SIZE, MMUFlags::READ, CachePolicy::Cached)
        .unwrap();
    // SAFETY: the page holds a complete function of that type; its first
    // execution faults and the handler grants EXECUTE.
    let f: extern "C" fn() -> u32 = unsafe { std::mem::transmute(vaddr) };
    assert_eq!(f(), 42);
    assert_eq!(space.faults(), vec![(vaddr, MMUFlags::EXECUTE)]);
    assert_eq!(
        space.pt.query(vaddr).unwrap().flags,
        MMUFlags::READ | MMUFlags::EXECUTE
    );
    space.pt.unmap(vaddr, PAGE_SIZE).unwrap();
    hal.free_frames(frame, 1).unwrap();
}

#[test]
fn an_unmapped_range_faults_again() {
    let hal = small_hal();
    let space = Space::new(&hal, Policy::Resolve);
    let frame = hal.alloc_contiguous(3, 0).unwrap();
    let vaddr = space.base() + 0x20_0000;
    space
        .pt
        .map(vaddr, frame, 3 * PAGE_SIZE, RW, CachePolicy::Cached)
        .unwrap();
    poke(vaddr + PAGE_SIZE, 9);
    assert!(space.faults().is_empty());

    space.pt.unmap(vaddr + PAGE_SIZE, PAGE_SIZE).unwrap();
    assert_eq!(
        space.pt.query(vaddr + PAGE_SIZE),
        Err(PagingError::NotMapped)
    );
    assert_eq!(space.pt.query(vaddr).unwrap().paddr, frame);
    assert_eq!(
        space.pt.query(vaddr + 2 * PAGE_SIZE).unwrap().paddr,
        frame + 2 * PAGE_SIZE
    );
    // The handler maps a fresh zeroed frame: the old byte is gone from this view.
    assert_eq!(peek(vaddr + PAGE_SIZE), 0);
    assert_eq!(space.faults(), vec![(vaddr + PAGE_SIZE, MMUFlags::READ)]);
    assert_ne!(
        space.pt.query(vaddr + PAGE_SIZE).unwrap().paddr,
        frame + PAGE_SIZE
    );
    // The neighbours never faulted.
    poke(vaddr, 1);
    poke(vaddr + 2 * PAGE_SIZE, 1);
    assert_eq!(space.faults().len(), 1);

    space.pt.unmap(vaddr, PAGE_SIZE).unwrap();
    space.pt.unmap(vaddr + 2 * PAGE_SIZE, PAGE_SIZE).unwrap();
    hal.free_frames(frame, 3).unwrap();
    space.release();
    assert_eq!(hal.free_count(), hal.total_count());
}

#[test]
fn demand_faults_a_16_mib_range_page_by_page() {
    let hal = small_hal();
    let space = Space::new(&hal, Policy::Resolve);
    let len = 16 << 20;
    let vaddr = space.base() + (64 << 20);
    for page in (0..len).step_by(PAGE_SIZE) {
        poke(vaddr + page + 3, (page / PAGE_SIZE) as u8);
    }
    let faults = space.faults();
    assert_eq!(faults.len(), len / PAGE_SIZE);
    assert!(faults
        .iter()
        .enumerate()
        .all(|(i, &f)| f == (vaddr + i * PAGE_SIZE + 3, MMUFlags::WRITE)));
    assert_eq!(space.pt.mapped_pages(), len / PAGE_SIZE);
    for page in (0..len).step_by(PAGE_SIZE) {
        let t = space.pt.query(vaddr + page).unwrap();
        let mut byte = [0u8];
        hal.read(t.paddr + 3, &mut byte).unwrap();
        assert_eq!(byte[0], (page / PAGE_SIZE) as u8);
    }
    assert_eq!(hal.free_count(), hal.total_count() - len / PAGE_SIZE);
    assert_eq!(space.pt.clear(vaddr, len), Ok(len / PAGE_SIZE));
    space.release();
    assert_eq!(hal.free_count(), hal.total_count());
}

#[test]
fn two_hundred_address_spaces_on_eight_threads() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 25;
    const PAGES: usize = 4;
    let hal = UnixHal::with_config(UnixHalConfig {
        phys_size: 64 << 20,
        window_size: 64 << 30,
    })
    .unwrap();
    let all_alive = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let hal = hal.clone();
            let all_alive = all_alive.clone();
            std::thread::spawn(move || {
                let spaces: Vec<_> = (0..PER_THREAD)
                    .map(|_| Space::new(&hal, Policy::Resolve))
                    .collect();
                for (i, space) in spaces.iter().enumerate() {
                    for page in 0..PAGES {
                        poke(space.base() + page * PAGE_SIZE, (t * PER_THREAD + i) as u8);
                    }
                }
                all_alive.wait();
                // Drop spaces one by one while the other threads still fault in theirs.
                for (i, space) in spaces.into_iter().enumerate() {
                    for page in 0..PAGES {
                        assert_eq!(
                            peek(space.base() + page * PAGE_SIZE),
                            (t * PER_THREAD + i) as u8
                        );
                        poke(space.base() + (PAGES + page) * PAGE_SIZE, 1);
                    }
                    assert_eq!(space.faults().len(), 2 * PAGES);
                    space.release();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert_eq!(hal.free_count(), hal.total_count());
}

/// Whether `[base, base + size)` is free host address space: a fixed-noreplace
/// mapping there succeeds only if nothing is mapped in the range.
fn host_range_is_free(base: usize, size: usize) -> bool {
    // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
    let probe = unsafe {
        libc::mmap(
            base as *mut libc::c_void,
            size,
            libc::PROT_NONE,
            libc::MAP_PRIVATE
                | libc::MAP_ANONYMOUS
                | libc::MAP_NORESERVE
                | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    if probe == libc::MAP_FAILED {
        return false;
    }
    // SAFETY: the probe mapping we just made.
    unsafe { libc::munmap(probe, size) };
    probe as usize == base
}

#[test]
fn a_dropped_address_space_leaves_its_window_empty_for_the_next_or_unmapped() {
    let hal = small_hal();
    let first = Space::new(&hal, Policy::Refuse);
    let (base, size) = first.pt.user_range();
    let frame = hal.alloc_frame().unwrap();
    hal.write(frame, &[7; 8]).unwrap();
    first
        .pt
        .map(base, frame, PAGE_SIZE, RW, CachePolicy::Cached)
        .unwrap();
    assert_eq!(peek(base), 7);
    // Dropped with a translation still in place: the machine keeps the window,
    // reserved from end to end, and hands it to its next address space.
    drop(first);
    assert!(!host_range_is_free(base, size));
    let second = Space::new(&hal, Policy::Resolve);
    assert_eq!(second.pt.user_range(), (base, size));
    assert_eq!(second.pt.query(base), Err(PagingError::NotMapped));
    assert_eq!(second.pt.run_count(), 0);
    // The old translation is gone from the host too: a touch faults to the new
    // table's handler, which maps a fresh zeroed frame.
    assert_eq!(peek(base), 0);
    assert_eq!(second.faults(), vec![(base, MMUFlags::READ)]);
    second.release();
    // Once the machine and its address spaces are gone, so are the windows.
    drop(second);
    hal.free_frames(frame, 1).unwrap();
    drop(hal);
    assert!(host_range_is_free(base, size));
}

#[test]
fn clear_and_protect_skip_holes_and_count_pages() {
    let hal = small_hal();
    let space = Space::new(&hal, Policy::Refuse);
    let base = space.base();
    let frames = hal.alloc_contiguous(8, 0).unwrap();
    // Pages 0-1 and 4-6 mapped (two runs), 2-3 and 7 holes.
    space
        .pt
        .map(base, frames, 2 * PAGE_SIZE, RW, CachePolicy::Cached)
        .unwrap();
    space
        .pt
        .map(
            base + 4 * PAGE_SIZE,
            frames + 4 * PAGE_SIZE,
            3 * PAGE_SIZE,
            RW,
            CachePolicy::Cached,
        )
        .unwrap();
    assert_eq!(
        space
            .pt
            .protect(base + PAGE_SIZE, 5 * PAGE_SIZE, MMUFlags::READ),
        Ok(3)
    );
    assert_eq!(space.pt.query(base).unwrap().flags, RW);
    assert_eq!(
        space.pt.query(base + PAGE_SIZE).unwrap().flags,
        MMUFlags::READ
    );
    assert_eq!(
        space.pt.query(base + 5 * PAGE_SIZE).unwrap().flags,
        MMUFlags::READ
    );
    assert_eq!(space.pt.query(base + 6 * PAGE_SIZE).unwrap().flags, RW);
    assert_eq!(
        space.pt.query(base + 2 * PAGE_SIZE),
        Err(PagingError::NotMapped)
    );
    // Protecting them back lets the record merge the run again.
    assert_eq!(space.pt.protect(base, 8 * PAGE_SIZE, RW), Ok(5));
    assert_eq!(space.pt.run_count(), 2);
    poke(base + 5 * PAGE_SIZE, 5);

    assert_eq!(
        space.pt.unmap(base, 8 * PAGE_SIZE),
        Err(PagingError::NotMapped)
    );
    assert_eq!(space.pt.clear(base + PAGE_SIZE, 5 * PAGE_SIZE), Ok(3));
    assert_eq!(space.pt.query(base).unwrap().paddr, frames);
    assert_eq!(
        space.pt.query(base + 6 * PAGE_SIZE).unwrap().paddr,
        frames + 6 * PAGE_SIZE
    );
    assert_eq!(space.pt.mapped_pages(), 2);
    assert_eq!(space.pt.clear(base + PAGE_SIZE, 5 * PAGE_SIZE), Ok(0));
    assert_eq!(space.pt.clear(base, 8 * PAGE_SIZE), Ok(2));
    assert_eq!(space.pt.protect(base, 8 * PAGE_SIZE, RW), Ok(0));
    hal.free_frames(frames, 8).unwrap();
    assert_eq!(hal.free_count(), hal.total_count());
}

#[test]
fn bad_input_returns_its_error_and_changes_nothing() {
    let hal = small_hal();
    let space = Space::new(&hal, Policy::Refuse);
    let pt = &space.pt;
    let (base, size) = pt.user_range();
    let frame = hal.alloc_contiguous(2, 0).unwrap();
    pt.map(base + PAGE_SIZE, frame, PAGE_SIZE, RW, CachePolicy::Cached)
        .unwrap();
    let free = hal.free_count();
    let snapshot = |pt: &kernel_hal_unix::UnixPageTable| {
        (
            pt.run_count(),
            pt.mapped_pages(),
            pt.query(base + PAGE_SIZE),
        )
    };
    let before = snapshot(pt);
    let c = CachePolicy::Cached;
    let phys_size = hal.config().phys_size;

    use PagingError::*;
    // Unaligned addresses and lengths, zero lengths.
    assert_eq!(pt.map(base + 1, frame, PAGE_SIZE, RW, c), Err(NotAligned));
    assert_eq!(pt.map(base, frame + 1, PAGE_SIZE, RW, c), Err(NotAligned));
    assert_eq!(pt.map(base, frame, PAGE_SIZE + 1, RW, c), Err(NotAligned));
    assert_eq!(pt.map(base, frame, 0, RW, c), Err(NotAligned));
    assert_eq!(pt.unmap(base + 1, PAGE_SIZE), Err(NotAligned));
    assert_eq!(pt.clear(base, 0), Err(NotAligned));
    assert_eq!(pt.protect(base, 7, RW), Err(NotAligned));
    // Ranges that overflow or leave the window, physical runs outside memory.
    let top = usize::MAX & !(PAGE_SIZE - 1);
    assert_eq!(pt.map(top, frame, PAGE_SIZE, RW, c), Err(OutOfRange));
    assert_eq!(pt.map(base, frame, top, RW, c), Err(OutOfRange));
    assert_eq!(
        pt.map(base - PAGE_SIZE, frame, PAGE_SIZE, RW, c),
        Err(OutOfRange)
    );
    assert_eq!(
        pt.map(base + size - PAGE_SIZE, frame, 2 * PAGE_SIZE, RW, c),
        Err(OutOfRange)
    );
    // Physical memory ends after the device memory that follows RAM.
    let phys_end = phys_size + kernel_hal_unix::DEVICE_MEMORY_SIZE;
    assert_eq!(pt.map(base, phys_end, PAGE_SIZE, RW, c), Err(OutOfRange));
    assert_eq!(
        pt.map(base, phys_end - PAGE_SIZE, 2 * PAGE_SIZE, RW, c),
        Err(OutOfRange)
    );
    assert_eq!(pt.map(base, top, PAGE_SIZE, RW, c), Err(OutOfRange));
    assert_eq!(pt.unmap(base, size + PAGE_SIZE), Err(OutOfRange));
    assert_eq!(pt.clear(top, PAGE_SIZE), Err(OutOfRange));
    assert_eq!(pt.protect(base + size, PAGE_SIZE, RW), Err(OutOfRange));
    assert_eq!(pt.query(base - 1), Err(OutOfRange));
    assert_eq!(pt.query(base + size), Err(OutOfRange));
    // Mapping over an existing mapping, in whole or in part.
    assert_eq!(
        pt.map(base + PAGE_SIZE, frame + PAGE_SIZE, PAGE_SIZE, RW, c),
        Err(AlreadyMapped)
    );
    assert_eq!(
        pt.map(base, frame + PAGE_SIZE, 2 * PAGE_SIZE, RW, c),
        Err(AlreadyMapped)
    );
    assert_eq!(
        pt.map(base, frame, 4 * PAGE_SIZE, RW, c),
        Err(AlreadyMapped)
    );
    // Unmapping what is not (fully) mapped.
    assert_eq!(pt.unmap(base, PAGE_SIZE), Err(NotMapped));
    assert_eq!(pt.unmap(base, 2 * PAGE_SIZE), Err(NotMapped));
    assert_eq!(pt.unmap(base + PAGE_SIZE, 2 * PAGE_SIZE), Err(NotMapped));
    assert_eq!(pt.query(base), Err(NotMapped));
    assert_eq!(snapshot(pt), before);
    assert_eq!(peek(base + PAGE_SIZE), 0, "the mapping still works");
    assert!(space.faults().is_empty());

    // Physical memory.
    assert_eq!(hal.alloc_contiguous(0, 0), Err(NotAligned));
    assert_eq!(
        hal.alloc_contiguous(hal.total_count() + 1, 0),
        Err(NoMemory)
    );
    assert_eq!(hal.alloc_contiguous(1, 40), Err(NoMemory));
    assert_eq!(hal.free_frames(frame + 1, 1), Err(NotAligned));
    assert_eq!(hal.free_frames(frame, 0), Err(NotAligned));
    assert_eq!(hal.free_frames(phys_size, 1), Err(OutOfRange));
    assert_eq!(hal.free_frames(frame, usize::MAX), Err(OutOfRange));
    assert_eq!(
        hal.free_frames(frame, 3),
        Err(NotMapped),
        "third frame is free"
    );
    let mut buf = [0u8; 8];
    assert_eq!(hal.read(phys_end - 4, &mut buf), Err(OutOfRange));
    assert_eq!(hal.read(usize::MAX - 2, &mut buf), Err(OutOfRange));
    assert_eq!(hal.write(phys_end, &buf), Err(OutOfRange));
    assert_eq!(
        hal.zero(phys_end - PAGE_SIZE, 2 * PAGE_SIZE),
        Err(OutOfRange)
    );
    assert_eq!(hal.copy(frame, phys_end, 1), Err(OutOfRange));
    assert_eq!(hal.copy(phys_end, frame, 1), Err(OutOfRange));
    assert_eq!(hal.free_count(), free);
    // Allocating more frames than exist, one at a time, ends in NoMemory.
    let mut all = Vec::new();
    while let Ok(f) = hal.alloc_frame() {
        all.push(f);
    }
    assert_eq!(all.len(), free);
    assert_eq!(hal.alloc_frame(), Err(NoMemory));
    for f in all {
        hal.free_frames(f, 1).unwrap();
    }
    assert_eq!(hal.free_count(), free);

    pt.unmap(base + PAGE_SIZE, PAGE_SIZE).unwrap();
    hal.free_frames(frame, 2).unwrap();
    assert_eq!(hal.free_count(), hal.total_count());
}

#[test]
fn bad_configurations_are_refused() {
    for config in [
        UnixHalConfig {
            phys_size: 0,
            window_size: 1 << 30,
        },
        UnixHalConfig {
            phys_size: 4097,
            window_size: 1 << 30,
        },
        UnixHalConfig {
            phys_size: 1 << 20,
            window_size: 0,
        },
        UnixHalConfig {
            phys_size: 1 << 20,
            window_size: 12345,
        },
    ] {
        assert_eq!(
            UnixHal::with_config(config).unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput
        );
    }
}

/// Forwards faults to a `Space` after counting them, using a lot of stack on the
/// way: more than any alternate signal stack has, so this works only because the
/// signal handler runs fault handlers on the faulting thread's own stack.
struct DeepForwarder {
    target: Arc<Space>,
    seen: std::sync::atomic::AtomicUsize,
}

impl kernel_hal::PageFaultHandler for DeepForwarder {
    fn handle_page_fault(&self, vaddr: usize, access: MMUFlags) -> bool {
        let scratch = std::hint::black_box([0x5Au8; 256 * 1024]);
        assert_eq!(scratch[vaddr % scratch.len()], 0x5A);
        self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.target.handle_page_fault(vaddr, access)
    }
}

fn forwarder(space: &Arc<Space>) -> Arc<DeepForwarder> {
    let forwarder = Arc::new(DeepForwarder {
        target: space.clone(),
        seen: Default::default(),
    });
    let weak = Arc::downgrade(&forwarder) as std::sync::Weak<dyn kernel_hal::PageFaultHandler>;
    space.pt.set_fault_handler(Some(weak));
    forwarder
}

#[test]
fn the_fault_handler_is_held_weakly_and_can_be_replaced() {
    use kernel_hal::PageFaultHandler;
    let hal = small_hal();
    let space = Space::new(&hal, Policy::Resolve);
    assert!(space.pt.fault_handler().is_some());
    let deep = forwarder(&space);
    poke(space.base() + 5 * PAGE_SIZE, 1);
    assert_eq!(deep.seen.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(space.faults().len(), 1);
    assert!(space.pt.fault_handler().is_some());
    drop(deep);
    assert!(space.pt.fault_handler().is_none(), "held weakly");
    space.pt.set_fault_handler(None);
    assert!(space.pt.fault_handler().is_none());
    // Resolve directly, to show the table itself is still usable.
    assert!(space.handle_page_fault(space.base(), MMUFlags::READ));
    assert_eq!(peek(space.base()), 0);
    space.release();
    assert_eq!(hal.free_count(), hal.total_count());
}

#[test]
fn faults_are_handled_on_threads_without_an_alternate_stack() {
    let hal = small_hal();
    let space = Space::new(&hal, Policy::Resolve);
    let deep = forwarder(&space);
    let base = space.base();
    std::thread::spawn(move || {
        let disable = libc::stack_t {
            ss_sp: std::ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: turns this thread's alternate stack off; the kernel then delivers
        // signals on the thread's own stack.
        let result = unsafe { libc::sigaltstack(&disable, std::ptr::null_mut()) };
        assert_eq!(result, 0);
        for page in 0..4 {
            poke(base + page * PAGE_SIZE, 7);
        }
    })
    .join()
    .unwrap();
    assert_eq!(deep.seen.load(std::sync::atomic::Ordering::SeqCst), 4);
    assert_eq!(peek(base + 3 * PAGE_SIZE), 7);
    space.release();
}

/// The address the `SIGUSR1` handler below touches.
static NESTED_TARGET: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

extern "C" fn touch_from_signal_handler(_sig: libc::c_int) {
    poke(
        NESTED_TARGET.load(std::sync::atomic::Ordering::SeqCst),
        0x77,
    );
}

#[test]
fn faults_inside_a_handler_already_on_the_alternate_stack_are_resolved() {
    let hal = small_hal();
    let space = Space::new(&hal, Policy::Resolve);
    let target = space.base() + 9 * PAGE_SIZE + 1;
    NESTED_TARGET.store(target, std::sync::atomic::Ordering::SeqCst);
    std::thread::spawn(|| {
        // A roomy alternate stack of the test's own, so the nested fault handler
        // (which stays on it) has space; then a SIGUSR1 handler that runs on it and
        // touches window memory.
        let mut stack = vec![0u8; 256 * 1024];
        let alt = libc::stack_t {
            ss_sp: stack.as_mut_ptr().cast(),
            ss_flags: 0,
            ss_size: stack.len(),
        };
        // SAFETY: `stack` outlives every signal this thread handles (the alternate
        // stack is disabled before it is freed).
        let result = unsafe { libc::sigaltstack(&alt, std::ptr::null_mut()) };
        assert_eq!(result, 0);
        // SAFETY: installs a handler of the one-argument form and raises the signal
        // on this thread; zeroed `sigaction` is valid.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = touch_from_signal_handler as *const () as usize;
            action.sa_flags = libc::SA_ONSTACK;
            assert_eq!(
                libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
                0
            );
            assert_eq!(libc::pthread_kill(libc::pthread_self(), libc::SIGUSR1), 0);
        }
        let disable = libc::stack_t {
            ss_sp: std::ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: turns the alternate stack off before `stack` is freed.
        let result = unsafe { libc::sigaltstack(&disable, std::ptr::null_mut()) };
        assert_eq!(result, 0);
        drop(stack);
    })
    .join()
    .unwrap();
    assert_eq!(space.faults(), vec![(target, MMUFlags::WRITE)]);
    assert_eq!(peek(target), 0x77);
    space.release();
}

#[test]
fn handlers_replaced_and_spaces_dropped_while_other_threads_fault() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let hal = small_hal();
    let stop = Arc::new(AtomicBool::new(false));
    // Two spaces faulting continuously, each on its own thread.
    let faulting: Vec<Arc<Space>> = (0..2).map(|_| Space::new(&hal, Policy::Resolve)).collect();
    // Churn: spaces created and dropped, and one faulting space's handler swapped
    // between itself and a forwarder to it, all while the faults go on.
    let churn = {
        let hal = hal.clone();
        let stop = stop.clone();
        let target = faulting[0].clone();
        std::thread::spawn(move || {
            let mut rounds = 0;
            while !stop.load(Ordering::SeqCst) {
                let spaces: Vec<_> = (0..8).map(|_| Space::new(&hal, Policy::Resolve)).collect();
                poke(spaces[rounds % 8].base(), 1);
                for space in &spaces {
                    space.release();
                }
                drop(spaces);
                let deep = forwarder(&target);
                let own =
                    Arc::downgrade(&target) as std::sync::Weak<dyn kernel_hal::PageFaultHandler>;
                target.pt.set_fault_handler(Some(own));
                drop(deep);
                rounds += 1;
            }
            rounds
        })
    };
    let workers: Vec<_> = faulting
        .iter()
        .cloned()
        .map(|space| {
            std::thread::spawn(move || {
                for round in 0..200 {
                    for page in 0..16 {
                        poke(space.base() + page * PAGE_SIZE, round as u8);
                    }
                    assert_eq!(peek(space.base() + 15 * PAGE_SIZE), round as u8);
                    space.release();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let rounds = churn.join().unwrap();
    assert!(rounds > 0);
    for space in &faulting {
        assert_eq!(space.faults().len(), 200 * 16);
    }
    assert_eq!(hal.free_count(), hal.total_count());
}
