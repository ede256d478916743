//! Memory at boot: the kernel heap, the firmware's memory map, and the machine
//! `kernel-hal-bare` builds from it (frame allocator, kernel address space with
//! the direct map and the kernel image, loaded into CR3).

use alloc::sync::Arc;
use kernel_hal::{CachePolicy, MMUFlags, PageTable, PhysAddr};
use kernel_hal_bare::{BareHal, BareMem, PhysWindow, TlbShootdown, KERNEL_BASE};
use linked_list_allocator::LockedHeap;

/// Where the kernel image is linked: virtual = `KERNEL_VMA` + physical.
pub const KERNEL_VMA: usize = 0xffff_ffff_8000_0000;
/// How much physical address space the direct map covers (RAM and the device
/// memory below 4 GiB, where the local APIC lives).
pub const WINDOW_END: PhysAddr = 4 << 30;

const HEAP_SIZE: usize = 24 << 20;

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

#[repr(C, align(4096))]
struct HeapSpace([u8; HEAP_SIZE]);

static mut HEAP: HeapSpace = HeapSpace([0; HEAP_SIZE]);

/// Gives the heap its memory (once, before anything allocates).
pub fn init_heap() {
    // SAFETY: called once, first thing; the static is used by nothing else.
    unsafe {
        ALLOCATOR
            .lock()
            .init(core::ptr::addr_of_mut!(HEAP) as *mut u8, HEAP_SIZE)
    };
}

unsafe extern "C" {
    static _text_start: u8;
    static _text_end: u8;
    static _data_start: u8;
    static _kernel_end: u8;
}

fn symbol(s: &'static u8) -> usize {
    s as *const u8 as usize
}

/// The usable RAM ranges of the multiboot memory map.
pub struct MemoryMap {
    /// `(start, end)` physical byte ranges of usable RAM.
    pub usable: [(PhysAddr, PhysAddr); 32],
    /// How many entries of `usable` are filled.
    pub count: usize,
}

impl MemoryMap {
    /// Reads the memory map of the multiboot information at physical `mbi`
    /// (through the boot direct map) before anything can overwrite it.
    pub fn from_multiboot(mbi: usize) -> MemoryMap {
        let at = |pa: usize| KERNEL_BASE + pa;
        let mut map = MemoryMap {
            usable: [(0, 0); 32],
            count: 0,
        };
        // SAFETY: the loader left the information structure and its memory map in
        // RAM, which the boot tables map at KERNEL_BASE; nothing has run that could
        // overwrite it.
        unsafe {
            let flags = core::ptr::read_volatile(at(mbi) as *const u32);
            if flags & (1 << 6) == 0 {
                return map;
            }
            let length = core::ptr::read_volatile(at(mbi + 44) as *const u32) as usize;
            let addr = core::ptr::read_volatile(at(mbi + 48) as *const u32) as usize;
            let mut entry = addr;
            while entry < addr + length && map.count < map.usable.len() {
                let size = core::ptr::read_unaligned(at(entry) as *const u32) as usize;
                let base = core::ptr::read_unaligned(at(entry + 4) as *const u64) as usize;
                let len = core::ptr::read_unaligned(at(entry + 12) as *const u64) as usize;
                let kind = core::ptr::read_unaligned(at(entry + 20) as *const u32);
                if kind == 1 && len > 0 {
                    map.usable[map.count] = (base, base + len);
                    map.count += 1;
                }
                entry += size + 4;
            }
        }
        map
    }

    /// One past the highest usable byte.
    pub fn ram_end(&self) -> PhysAddr {
        self.usable[..self.count]
            .iter()
            .map(|r| r.1)
            .max()
            .unwrap_or(0)
    }
}

/// The physical end of the kernel image (its bss included).
pub fn kernel_phys_end() -> PhysAddr {
    // SAFETY: a linker-script symbol; only its address is used.
    symbol(unsafe { &_kernel_end }) - KERNEL_VMA
}

/// Builds the machine: the frames of `map` above the kernel image go to the frame
/// allocator; the kernel address space gets the direct map (RAM cached, the rest
/// of the window uncached) and the kernel image (text read-execute, read-only
/// data read-only, data read-write, no-execute); then CR3 is loaded with its root.
pub fn build_machine(map: &MemoryMap, tlb: Arc<dyn TlbShootdown>) -> Arc<BareHal> {
    let floor = kernel_hal::page_round_up(kernel_phys_end()).expect("small image");
    let mut usable = alloc::vec::Vec::new();
    for &(start, end) in &map.usable[..map.count] {
        let start = start.max(floor);
        let end = end.min(WINDOW_END);
        if start < end {
            usable.push((start, end));
        }
    }
    // SAFETY: the boot tables map all of [0, WINDOW_END) at KERNEL_BASE, and so do
    // the kernel's own tables built below before they are loaded; the usable
    // frames lie above the kernel image and the loader's data, and nothing else
    // uses them.
    let mem = unsafe {
        let window = PhysWindow::new(KERNEL_BASE, WINDOW_END);
        Arc::new(BareMem::new(window, &usable))
    };
    let hal = Arc::new(BareHal::new(mem, tlb).expect("frames for the kernel space"));
    if !kernel_hal_bare::cpu::has_1g_pages() {
        hal.set_huge_1g(false);
    }
    let kernel = hal.kernel_space();
    let rw = MMUFlags::READ | MMUFlags::WRITE;
    let ram_end = (map.ram_end().min(WINDOW_END) + (2 << 20) - 1) & !((2 << 20) - 1);
    kernel
        .map(KERNEL_BASE, 0, ram_end, rw, CachePolicy::Cached)
        .expect("direct map of RAM");
    if ram_end < WINDOW_END {
        kernel
            .map(
                KERNEL_BASE + ram_end,
                ram_end,
                WINDOW_END - ram_end,
                rw,
                CachePolicy::UncachedDevice,
            )
            .expect("direct map of device memory");
    }
    // SAFETY: linker-script symbols; only their addresses are used.
    let (text, text_end, data, end) = unsafe {
        (
            symbol(&_text_start),
            symbol(&_text_end),
            symbol(&_data_start),
            symbol(&_kernel_end),
        )
    };
    let sections = [
        (text, text_end, MMUFlags::READ | MMUFlags::EXECUTE),
        (text_end, data, MMUFlags::READ),
        (data, end, rw),
    ];
    for (start, end, flags) in sections {
        if end > start {
            kernel
                .map(
                    start,
                    start - KERNEL_VMA,
                    end - start,
                    flags,
                    CachePolicy::Cached,
                )
                .expect("kernel image");
        }
    }
    kernel_hal_bare::cpu::program_pat();
    // SAFETY: the kernel space maps the running code, its stacks and statics at the
    // addresses they run at, and the whole window; nothing refers to the boot
    // tables' identity map any more.
    unsafe { kernel.activate(0) };
    hal
}
