//! Emulated physical memory: a memfd, mapped once into the host, and the shared
//! buddy [`FrameAllocator`] over its frames.
//!
//! Physical address `p` is byte `p` of the memfd. RAM is the first `size` bytes;
//! the [`DEVICE_MEMORY_SIZE`] bytes after it play device memory, which the frame
//! allocator never owns (physical VMOs cover it). The file is sparse: the host gives
//! it memory only for pages that are written. Address spaces map ranges of the same
//! file, so a write through a user mapping is seen at once through [`PhysMem::read`]
//! and the other way round.
//!
//! # Memory other threads may store to
//!
//! The bytes of the memfd are external memory, like a device's: any thread may load
//! and store them through a window mapping at any time, outside Rust's knowledge.
//! So every access through the host view is a relaxed atomic access (8 bytes at a
//! time where the alignment allows, single bytes at the edges), never a plain
//! `memcpy` that would race with those stores. An aligned 8-byte value stored by
//! one access is read by [`PhysMem::read`] whole, old or new, never torn.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

use crate::fault::Marked;

use kernel_hal::frame::FrameAllocator;
use kernel_hal::{PagingError, PagingResult, PhysAddr, PAGE_SIZE};

/// Bytes of device memory every emulated machine has, right after its RAM.
pub const DEVICE_MEMORY_SIZE: usize = 16 << 20;

/// The memfd that plays physical memory, its host view and its frame allocator.
///
/// Invariant: `host` is a `MAP_SHARED` read-write mapping of all `size +
/// DEVICE_MEMORY_SIZE` bytes of `fd`, alive until this value is dropped.
pub(crate) struct PhysicalMemory {
    fd: OwnedFd,
    host: *mut u8,
    size: usize,
    frames: Mutex<FrameAllocator>,
}

// SAFETY: `host` points at a shared mapping owned by this value; every access
// through it is a bounds-checked atomic access that never creates a Rust reference
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
        let file_size = size
            .checked_add(DEVICE_MEMORY_SIZE)
            .and_then(|total| libc::off_t::try_from(total).ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "size too large"))?;
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
                size + DEVICE_MEMORY_SIZE,
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

    /// Size of RAM in bytes.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The end of every physical address backed by the memfd: RAM, then device
    /// memory.
    pub(crate) fn end(&self) -> usize {
        self.size + DEVICE_MEMORY_SIZE
    }

    /// The frame allocator. Never held while touching window memory, so it may be
    /// taken from a fault handler.
    pub(crate) fn frames(&self) -> Marked<'_, FrameAllocator> {
        // The allocator's methods do not panic part-way through an update, so a
        // poisoned lock still guards consistent state.
        Marked::lock(&self.frames)
    }

    /// Host pointer to `[paddr, paddr + len)`, if the range lies inside physical memory.
    fn host_range(&self, paddr: PhysAddr, len: usize) -> PagingResult<*mut u8> {
        match paddr.checked_add(len) {
            Some(end) if end <= self.end() => Ok(self.host.wrapping_add(paddr)),
            _ => Err(PagingError::OutOfRange),
        }
    }

    /// Host address of physical address `paddr`, if it lies inside physical memory.
    pub(crate) fn host_address(&self, paddr: PhysAddr) -> Option<usize> {
        (paddr < self.end()).then(|| self.host as usize + paddr)
    }

    pub(crate) fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> PagingResult<()> {
        let src = self.host_range(paddr, buf.len())?;
        let head = head_len(src, buf.len());
        let words = (buf.len() - head) / 8;
        for (i, byte) in buf.iter_mut().enumerate().take(head) {
            // SAFETY: inside the host view (checked above), which lives as long as
            // `self`; atomics of one byte need no alignment.
            *byte = unsafe { AtomicU8::from_ptr(src.add(i)) }.load(Ordering::Relaxed);
        }
        for w in 0..words {
            let at = head + 8 * w;
            // SAFETY: inside the host view; `src + at` is 8-byte aligned (`head_len`).
            let word = unsafe { AtomicU64::from_ptr(src.add(at).cast()) }.load(Ordering::Relaxed);
            buf[at..at + 8].copy_from_slice(&word.to_ne_bytes());
        }
        let tail = head + 8 * words;
        for (i, byte) in buf.iter_mut().enumerate().skip(tail) {
            // SAFETY: as for the head.
            *byte = unsafe { AtomicU8::from_ptr(src.add(i)) }.load(Ordering::Relaxed);
        }
        Ok(())
    }

    pub(crate) fn write(&self, paddr: PhysAddr, buf: &[u8]) -> PagingResult<()> {
        let dst = self.host_range(paddr, buf.len())?;
        // An aligned 4-byte value (a handle or status out-parameter, mostly) is one
        // store, so it is never torn either.
        if let (Ok(value), 0) = (<[u8; 4]>::try_from(buf), dst as usize % 4) {
            // SAFETY: inside the host view (checked above) and 4-byte aligned.
            unsafe { AtomicU32::from_ptr(dst.cast()) }
                .store(u32::from_ne_bytes(value), Ordering::Relaxed);
            return Ok(());
        }
        // SAFETY: `dst..dst + len` lies inside the host view (checked above).
        unsafe { store_bytes(dst, buf.len(), Some(buf)) };
        Ok(())
    }

    pub(crate) fn zero(&self, paddr: PhysAddr, len: usize) -> PagingResult<()> {
        let dst = self.host_range(paddr, len)?;
        // SAFETY: `dst..dst + len` lies inside the host view (checked above).
        unsafe { store_bytes(dst, len, None) };
        Ok(())
    }

    pub(crate) fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> PagingResult<()> {
        let to = self.host_range(dst, len)?;
        let from = self.host_range(src, len)?;
        if to.cast_const() < from.wrapping_add(len).cast_const() && from < to.wrapping_add(len) {
            // Overlapping ranges (the trait forbids them): a byte-wise memmove, still
            // well defined.
            let order: Box<dyn Iterator<Item = usize>> = if to < from {
                Box::new(0..len)
            } else {
                Box::new((0..len).rev())
            };
            for i in order {
                // SAFETY: both bytes lie inside the host view.
                let byte = unsafe { AtomicU8::from_ptr(from.add(i)) }.load(Ordering::Relaxed);
                // SAFETY: as above.
                unsafe { AtomicU8::from_ptr(to.add(i)) }.store(byte, Ordering::Relaxed);
            }
            return Ok(());
        }
        if (to as usize) % 8 == (from as usize) % 8 {
            // Same alignment on both sides: word by word, each side atomically.
            let head = head_len(to, len);
            let words = (len - head) / 8;
            for i in (0..head).chain(head + 8 * words..len) {
                // SAFETY: both bytes lie inside the host view.
                let byte = unsafe { AtomicU8::from_ptr(from.add(i)) }.load(Ordering::Relaxed);
                // SAFETY: as above.
                unsafe { AtomicU8::from_ptr(to.add(i)) }.store(byte, Ordering::Relaxed);
            }
            // SAFETY: both runs of `words` words lie inside the host view, 8-byte
            // aligned (same offset from an 8-byte boundary on both sides,
            // `head_len`), and do not overlap (checked above).
            unsafe { copy_words(to.add(head), from.add(head), words) };
            return Ok(());
        }
        // Page-sized chunks through a buffer, each side atomically.
        let mut chunk = [0u8; PAGE_SIZE];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(PAGE_SIZE);
            self.read(src + done, &mut chunk[..n])?;
            self.write(dst + done, &chunk[..n])?;
            done += n;
        }
        Ok(())
    }
}

/// How many bytes from `ptr` (at most `len`) come before the first 8-byte boundary.
fn head_len(ptr: *const u8, len: usize) -> usize {
    ptr.align_offset(8).min(len)
}

/// Copies `words` 8-byte words from `from` to `to`, each word moved whole (never
/// torn), in no particular order.
///
/// Long runs go through one `rep movsq`: the CPU's string copy moves every
/// quadword element as one access (its fast-string mode only reorders and
/// combines whole elements), which is the guarantee the atomic loop gives, at the
/// speed of the host's `memcpy`. The asm is opaque to the compiler, like a store
/// by another thread through a window mapping.
///
/// # Safety
///
/// `[from, from + 8 * words)` and `[to, to + 8 * words)` must lie inside the host
/// view, be 8-byte aligned and not overlap.
unsafe fn copy_words(to: *mut u8, from: *const u8, words: usize) {
    #[cfg(target_arch = "x86_64")]
    if words >= 64 {
        // SAFETY: the caller vouches for both ranges; the Rust ABI keeps the
        // direction flag clear, so the copy runs upwards from `from` and `to`.
        unsafe {
            core::arch::asm!(
                "rep movsq",
                inout("rcx") words => _,
                inout("rdi") to => _,
                inout("rsi") from => _,
                options(nostack, preserves_flags),
            );
        }
        return;
    }
    for w in 0..words {
        // SAFETY: both words lie inside the ranges the caller vouches for, aligned.
        let word = unsafe { AtomicU64::from_ptr(from.add(8 * w).cast_mut().cast()) }
            .load(Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { AtomicU64::from_ptr(to.add(8 * w).cast()) }.store(word, Ordering::Relaxed);
    }
}

/// Stores `src[i]` (or zero, for `None`) at `dst + i` for `i < len`, as relaxed
/// atomic stores (8 bytes at a time between the edges).
///
/// # Safety
///
/// `[dst, dst + len)` must lie inside live, writable memory that is only ever
/// accessed atomically or by other threads' plain host stores through mappings;
/// `src`, if given, holds at least `len` bytes.
unsafe fn store_bytes(dst: *mut u8, len: usize, src: Option<&[u8]>) {
    let head = head_len(dst, len);
    let words = (len - head) / 8;
    let byte = |i: usize| src.map_or(0, |s| s[i]);
    for i in (0..head).chain(head + 8 * words..len) {
        // SAFETY: inside the range the caller vouches for.
        unsafe { AtomicU8::from_ptr(dst.add(i)) }.store(byte(i), Ordering::Relaxed);
    }
    let word_at = |w: usize| {
        // SAFETY: inside the range; `dst + head` is 8-byte aligned (`head_len`).
        unsafe { AtomicU64::from_ptr(dst.add(head + 8 * w).cast()) }
    };
    match src {
        Some(src) => {
            let body = src[head..head + 8 * words].chunks_exact(8);
            for (w, chunk) in body.enumerate() {
                // `chunks_exact(8)` yields 8-byte slices only.
                let word = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
                word_at(w).store(word, Ordering::Relaxed);
            }
        }
        // SAFETY: `dst + head` is 8-byte aligned (`head_len`) and the words lie
        // inside the range the caller vouches for.
        None => unsafe { zero_words(dst.add(head), words) },
    }
}

/// Stores zero in `words` 8-byte words from `to`, each word stored whole (never
/// torn). Long runs go through one `rep stosq`, whose elements are single
/// quadword stores as `copy_words`'s are, at the speed of the host's `memset`.
///
/// # Safety
///
/// `[to, to + 8 * words)` must lie inside the host view and be 8-byte aligned.
unsafe fn zero_words(to: *mut u8, words: usize) {
    #[cfg(target_arch = "x86_64")]
    if words >= 64 {
        // SAFETY: the caller vouches for the range; the Rust ABI keeps the direction
        // flag clear, so the stores run upwards from `to`.
        unsafe {
            core::arch::asm!(
                "rep stosq",
                inout("rcx") words => _,
                inout("rdi") to => _,
                in("rax") 0u64,
                options(nostack, preserves_flags),
            );
        }
        return;
    }
    for w in 0..words {
        // SAFETY: inside the range the caller vouches for, aligned.
        unsafe { AtomicU64::from_ptr(to.add(8 * w).cast()) }.store(0, Ordering::Relaxed);
    }
}

impl Drop for PhysicalMemory {
    fn drop(&mut self) {
        // SAFETY: `host` is our own mapping of `end()` bytes; nothing uses it after
        // this (address spaces hold an `Arc` to this value, so they are gone).
        unsafe { libc::munmap(self.host.cast(), self.end()) };
    }
}
