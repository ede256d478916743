//! The Linux backend of `kernel-hal`: physical memory is a memfd, an address space is
//! a reserved window of host virtual memory, and mapping a page is `mmap` of the
//! memfd into that window, so code on the host can read and write "user memory"
//! through plain pointers.
//!
//! - [`UnixHal`] implements [`Hal`] and [`PhysMem`]: a sparse memfd (4 GiB of RAM by
//!   default, then [`DEVICE_MEMORY_SIZE`] bytes of device memory) mapped once into the host for [`PhysMem::read`] and friends, with the
//!   shared buddy allocator ([`kernel_hal::frame::FrameAllocator`]) handing out its
//!   frames.
//! - [`UnixPageTable`] implements [`PageTable`] over one window (64 GiB by default):
//!   a run of contiguous frames is one `mmap(MAP_SHARED | MAP_FIXED)`, unmapping puts
//!   the range back to reserved `PROT_NONE`, protection changes are `mprotect`, and
//!   queries are answered from the table's own record (see [`page_table`]).
//! - A process-wide `SIGSEGV` handler dispatches faults in a window to the handler
//!   registered with [`PageTable::set_fault_handler`] (demand paging); everything
//!   else goes on to the previously installed handler. See [`fault`] for what a
//!   fault handler may do.
//!
//! It depends on `kernel-hal` and `libc`, runs only on x86_64 Linux, and never
//! touches memory outside its memfd view and its windows.

use std::io;
use std::sync::Arc;

use kernel_hal::{
    Hal, PageTable, PagingError, PagingResult, PhysAddr, PhysMem, WaitOutcome, PAGE_SIZE,
};
use std::sync::atomic::AtomicU32;

pub mod fault;
pub mod page_table;
mod phys;
mod wait;

pub use page_table::UnixPageTable;
pub use phys::DEVICE_MEMORY_SIZE;

use phys::PhysicalMemory;

/// The sizes of an emulated machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnixHalConfig {
    /// Bytes of physical memory (a non-zero multiple of the page size). The memfd is
    /// sparse, so only pages written cost host memory.
    pub phys_size: usize,
    /// Bytes of host address space reserved for each address space (a non-zero
    /// multiple of the page size); also the size of [`PageTable::user_range`].
    pub window_size: usize,
}

impl Default for UnixHalConfig {
    /// 4 GiB of physical memory and 64 GiB windows: room for hundreds of address
    /// spaces in a 47-bit host address space.
    fn default() -> UnixHalConfig {
        UnixHalConfig {
            phys_size: 4 << 30,
            window_size: 64 << 30,
        }
    }
}

/// An emulated machine on Linux: physical memory and address spaces.
///
/// Cloning is cheap and gives another handle to the same machine. Address spaces
/// keep the physical memory alive, so they may outlive the `UnixHal` they came from.
#[derive(Clone)]
pub struct UnixHal {
    phys: Arc<PhysicalMemory>,
    /// Windows of gone address spaces, kept for the next ones.
    idle_windows: Arc<page_table::IdleWindows>,
    window_size: usize,
    mapping_cap: Option<usize>,
}

impl std::fmt::Debug for UnixHal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixHal")
            .field("phys_size", &self.phys.size())
            .field("window_size", &self.window_size)
            .field("free_frames", &self.free_count())
            .finish()
    }
}

impl UnixHal {
    /// Creates a machine with the default sizes (see [`UnixHalConfig::default`]).
    ///
    /// # Errors
    ///
    /// The host error if the memfd cannot be created, sized or mapped.
    pub fn new() -> io::Result<UnixHal> {
        UnixHal::with_config(UnixHalConfig::default())
    }

    /// Creates a machine with the given sizes.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if a size is zero or not page-aligned; the host
    /// error if the memfd cannot be created, sized or mapped.
    pub fn with_config(config: UnixHalConfig) -> io::Result<UnixHal> {
        if config.window_size == 0 || config.window_size % PAGE_SIZE != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "window size must be a non-zero multiple of the page size",
            ));
        }
        Ok(UnixHal {
            phys: Arc::new(PhysicalMemory::new(config.phys_size)?),
            idle_windows: Arc::default(),
            window_size: config.window_size,
            mapping_cap: None,
        })
    }

    /// The same machine, but its address spaces made from now on behave as if the
    /// host's mapping cap (`vm.max_map_count`) allowed each of them only `cap`
    /// separately mapped runs: the host calls beyond it are refused, as Linux
    /// refuses them at its cap. For tests of what happens there (nothing visible:
    /// see [`page_table`]), without lowering the host's cap for every process.
    pub fn with_mapping_cap(mut self, cap: usize) -> UnixHal {
        self.mapping_cap = Some(cap);
        self
    }

    /// The sizes this machine was created with.
    pub fn config(&self) -> UnixHalConfig {
        UnixHalConfig {
            phys_size: self.phys.size(),
            window_size: self.window_size,
        }
    }

    /// Creates a new, empty address space, with its concrete type.
    ///
    /// # Errors
    ///
    /// [`PagingError::NoMemory`]: the host has no room for another window, or the
    /// fault registry is full ([`fault::SLOTS`] windows).
    pub fn new_page_table(&self) -> PagingResult<UnixPageTable> {
        UnixPageTable::new(
            self.phys.clone(),
            self.idle_windows.clone(),
            self.window_size,
            self.mapping_cap,
        )
    }

    /// The host address at which physical address `paddr` can be read and written,
    /// or `None` if it lies outside physical memory. For diagnostics and tests; the
    /// [`PhysMem`] methods are the checked way to reach physical memory.
    pub fn phys_to_host(&self, paddr: PhysAddr) -> Option<usize> {
        self.phys.host_address(paddr)
    }
}

// Every HAL hands frames out of the shared buddy allocator the same few lines (bare:
// `BareMem`, the test model: `ModelHal`); each reaches the allocator through its own
// field and lock.
impl PhysMem for UnixHal {
    fn alloc_frame(&self) -> PagingResult<PhysAddr> {
        self.phys.frames().alloc(1, 0).ok_or(PagingError::NoMemory)
    }

    fn alloc_contiguous(&self, count: usize, align_log2: usize) -> PagingResult<PhysAddr> {
        if count == 0 {
            return Err(PagingError::NotAligned);
        }
        self.phys
            .frames()
            .alloc(count, align_log2)
            .ok_or(PagingError::NoMemory)
    }

    fn free_frames(&self, paddr: PhysAddr, count: usize) -> PagingResult<()> {
        self.phys.frames().free(paddr, count)
    }

    fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> PagingResult<()> {
        self.phys.read(paddr, buf)
    }

    fn write(&self, paddr: PhysAddr, buf: &[u8]) -> PagingResult<()> {
        self.phys.write(paddr, buf)
    }

    fn zero(&self, paddr: PhysAddr, len: usize) -> PagingResult<()> {
        self.phys.zero(paddr, len)
    }

    fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> PagingResult<()> {
        self.phys.copy(dst, src, len)
    }

    fn free_count(&self) -> usize {
        self.phys.frames().free_count()
    }

    fn total_count(&self) -> usize {
        self.phys.frames().total_count()
    }

    fn device_memory(&self) -> Option<(PhysAddr, usize)> {
        Some((self.phys.size(), phys::DEVICE_MEMORY_SIZE))
    }
}

impl Hal for UnixHal {
    fn new_address_space(&self) -> PagingResult<Box<dyn PageTable>> {
        Ok(Box::new(self.new_page_table()?))
    }

    /// The host's `CLOCK_MONOTONIC`.
    fn monotonic_ns(&self) -> i64 {
        wait::monotonic_ns()
    }

    /// Sleeps on the host futex at `word` (`FUTEX_WAIT`). Safe inside the fault
    /// handler: it is one system call, and the thread holds no kernel lock.
    fn wait_word(&self, word: &AtomicU32, expected: u32, deadline_ns: i64) -> WaitOutcome {
        wait::wait_word(word, expected, deadline_ns)
    }

    /// Wakes every sleeper on the host futex at `word` (`FUTEX_WAKE`).
    fn wake_word(&self, word: &AtomicU32) {
        wait::wake_word(word)
    }
}
