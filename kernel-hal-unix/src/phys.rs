//! Emulated physical memory: a memfd, mapped once into the host, and the shared
//! buddy [`FrameAllocator`] over its frames.
//!
//! Physical address `p` is byte `p` of the memfd. The file is sparse: the host gives
//! it memory only for pages that are written. Address spaces map ranges of the same
//! file, so a write through a user mapping is seen at once through [`PhysMem::read`]
//! and the other way round.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Mutex, MutexGuard};

use kernel_hal::frame::FrameAllocator;
use kernel_hal::{PagingError, PagingResult, PhysAddr, PAGE_SIZE};

/// The memfd that plays physical memory, its host view and its frame allocator.
///
/// Invariant: `host` is a `MAP_SHARED` read-write mapping of all `size` bytes of
/// `fd`, alive until this value is dropped.
pub(crate) struct PhysicalMemory {
    fd: OwnedFd,
    host: *mut u8,
    size: usize,
    frames: Mutex<FrameAllocator>,
}

// SAFETY: `host` points at a shared mapping owned by this value; every access
// through it is a bounds-checked raw byte copy that never creates a Rust reference
// to the bytes, so sharing it between threads is like sharing memory with a device.
unsafe impl Send for PhysicalMemory {}
// SAFETY: as for `Send`; the only mutable state besides the bytes is behind a Mutex.
unsafe impl Sync for PhysicalMemory {}

impl PhysicalMemory {
    /// Creates a sparse memfd of `size` bytes (a non-zero multiple of the page size)
    /// and maps it into the host.
    pub(crate) fn new(size: usize) -> io::Result<PhysicalMemory> {
        if size == 0 || size % PAGE_SIZE != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "physical memory size must be a non-zero multiple of the page size",
            ));
        }
        let file_size = libc::off_t::try_from(size)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "size too large"))?;
        // SAFETY: the name is a NUL-terminated string; the call has no other inputs.
        let raw =
            unsafe { libc::memfd_create(c"kernel-hal-unix-physical".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a file descriptor we just created and own alone.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: plain syscall on our own descriptor.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), file_size) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new shared mapping chosen by the kernel; it overlaps nothing.
        let host = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_NORESERVE,
                fd.as_raw_fd(),
                0,
            )
        };
        if host == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(PhysicalMemory {
            fd,
            host: host.cast(),
            size,
            frames: Mutex::new(FrameAllocator::new(&[(0, size)])),
        })
    }

    /// The memfd, for mapping its ranges into address spaces.
    pub(crate) fn raw_fd(&self) -> libc::c_int {
        self.fd.as_raw_fd()
    }

    /// Size of physical memory in bytes.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The frame allocator. Never held while touching window memory, so it may be
    /// taken from a fault handler.
    pub(crate) fn frames(&self) -> MutexGuard<'_, FrameAllocator> {
        // The allocator's methods do not panic part-way through an update, so a
        // poisoned lock still guards consistent state.
        self.frames.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Host pointer to `[paddr, paddr + len)`, if the range lies inside physical memory.
    fn host_range(&self, paddr: PhysAddr, len: usize) -> PagingResult<*mut u8> {
        match paddr.checked_add(len) {
            Some(end) if end <= self.size => Ok(self.host.wrapping_add(paddr)),
            _ => Err(PagingError::OutOfRange),
        }
    }

    /// Host address of physical address `paddr`, if it lies inside physical memory.
    pub(crate) fn host_address(&self, paddr: PhysAddr) -> Option<usize> {
        (paddr < self.size).then(|| self.host as usize + paddr)
    }

    pub(crate) fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> PagingResult<()> {
        let src = self.host_range(paddr, buf.len())?;
        // SAFETY: `src..src + len` lies inside the host view (checked above), which is
        // a separate mapping from `buf`, so the ranges cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    pub(crate) fn write(&self, paddr: PhysAddr, buf: &[u8]) -> PagingResult<()> {
        let dst = self.host_range(paddr, buf.len())?;
        // SAFETY: as in `read`, with the roles of the two ranges swapped.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), dst, buf.len()) };
        Ok(())
    }

    pub(crate) fn zero(&self, paddr: PhysAddr, len: usize) -> PagingResult<()> {
        let dst = self.host_range(paddr, len)?;
        // SAFETY: `dst..dst + len` lies inside the writable host view.
        unsafe { std::ptr::write_bytes(dst, 0, len) };
        Ok(())
    }

    pub(crate) fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> PagingResult<()> {
        let to = self.host_range(dst, len)?;
        let from = self.host_range(src, len)?;
        // SAFETY: both ranges lie inside the host view; `copy` allows overlap, so a
        // caller breaking the no-overlap rule gets memmove, not undefined behaviour.
        unsafe { std::ptr::copy(from, to, len) };
        Ok(())
    }
}

impl Drop for PhysicalMemory {
    fn drop(&mut self) {
        // SAFETY: `host` is our own mapping of `size` bytes; nothing uses it after
        // this (address spaces hold an `Arc` to this value, so they are gone).
        unsafe { libc::munmap(self.host.cast(), self.size) };
    }
}
