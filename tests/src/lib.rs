//! Helpers to run the syscall layer for real on Linux, and (in `tests/`) the
//! conformance suite.
//!
//! [`new_process`] builds a [`zircon_syscall::Process`] on its own
//! [`kernel_hal_unix::UnixHal`], so tests on parallel threads never share frames and
//! each can prove that it leaked none: dropping a [`TestProcess`] checks that every
//! frame of its machine is free again. [`syscall_gen`] draws random syscalls for the
//! dispatch fuzz test and the cargo-fuzz target. [`file_provider`] serves
//! pager-backed VMOs from a host file.

pub mod file_provider;
pub mod syscall_gen;

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;

use kernel_hal::{Hal, PhysAddr, PhysMem};
use kernel_hal_unix::{UnixHal, UnixHalConfig};
use zircon_object::dev::Resource;
use zircon_object::object::KernelObjectExt;
use zircon_object::vm::{MapRequest, VmObject, VmPerms, VmarOp, VmoOptions};
use zircon_syscall::Process;

/// Marks threads inside the allocator, so that a page fault taken by a signal
/// handler that interrupted `malloc` is reported instead of deadlocking (see
/// [`kernel_hal_unix::fault::TrackingAllocator`]).
#[global_allocator]
static ALLOCATOR: kernel_hal_unix::fault::TrackingAllocator =
    kernel_hal_unix::fault::TrackingAllocator;

/// Size of the scratch area every test process starts with.
pub const SCRATCH_SIZE: usize = 64 * 1024;

/// A process on its own emulated machine, with a scratch area.
pub struct TestProcess {
    process: Option<Process>,
    hal: UnixHal,
    scratch: usize,
    /// Whether the machine came from [`new_process`], which may give it to the
    /// next process once this one is gone.
    pooled: bool,
    root_resource: OnceLock<u32>,
    /// Each thread's own scratch area, by thread, made on its first
    /// [`TestProcess::thread_scratch`].
    thread_scratch: Mutex<HashMap<ThreadId, usize>>,
}

// Threads share a test process as they share the process it wraps.
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<TestProcess>();
};

/// A fresh process on its own unix HAL (1 GiB of physical memory, a 64 GiB address
/// space), with [`SCRATCH_SIZE`] bytes of read-write, committed user memory at
/// [`TestProcess::scratch`] for out-parameters and buffers. The machine may be one
/// an earlier process left idle, all its frames free.
///
/// # Panics
///
/// If the host refuses the memfd or the address-space window (out of host memory).
pub fn new_process() -> TestProcess {
    let idle = machines().pop();
    let mut process = new_process_on(idle.unwrap_or_else(default_hal));
    process.pooled = true;
    process
}

/// The machine [`new_process`] runs on: 1 GiB of physical memory, 64 GiB windows.
///
/// # Panics
///
/// If the host refuses the memfd (out of host memory).
pub fn default_hal() -> UnixHal {
    UnixHal::with_config(UnixHalConfig {
        phys_size: 1 << 30,
        window_size: 64 << 30,
    })
    .expect("host memory for an emulated machine")
}

/// A fresh process, as [`new_process`], on `hal` (which must be fresh: the drop
/// check counts every frame of it).
///
/// # Panics
///
/// As [`new_process`].
pub fn new_process_on(hal: UnixHal) -> TestProcess {
    new_process_over(Arc::new(hal.clone()), hal)
}

/// A fresh process, as [`new_process`], whose objects reach physical memory
/// through `hal`, a wrapper around the fresh `machine` (for instance one that
/// fails chosen allocations); the drop check counts `machine`'s frames.
///
/// # Panics
///
/// As [`new_process`], or if `hal` refuses the scratch area's frames.
pub fn new_process_over(hal: Arc<dyn Hal>, machine: UnixHal) -> TestProcess {
    let process = Process::new(hal).expect("a new process");
    let scratch = scratch_area(&process, b"scratch");
    TestProcess {
        process: Some(process),
        hal: machine,
        scratch,
        pooled: false,
        root_resource: OnceLock::new(),
        thread_scratch: Mutex::new(HashMap::new()),
    }
}

/// Maps [`SCRATCH_SIZE`] bytes of read-write memory, committed, into `process`
/// (through the object layer: no handle is made), and returns the base.
///
/// # Panics
///
/// If the machine refuses the frames or the address range.
fn scratch_area(process: &Process, name: &[u8]) -> usize {
    let vmo = VmObject::new(
        process.object().aspace().hal().clone(),
        SCRATCH_SIZE as u64,
        VmoOptions::empty(),
    )
    .expect("scratch VMO");
    vmo.set_name(name);
    let root = process.object().root_vmar();
    let base = root
        .map(&vmo, &MapRequest::new(0, SCRATCH_SIZE, VmPerms::READ_WRITE))
        .expect("scratch mapping");
    root.op_range(VmarOp::Commit, base, SCRATCH_SIZE, true)
        .expect("scratch committed");
    base
}

/// How many idle machines [`machines`] keeps.
const POOL_SIZE: usize = 4;

/// Machines whose process is gone and whose every frame is free, kept for the next
/// [`new_process`]: making and tearing down a machine (its memfd, the host pages
/// behind it, its host view) is most of what a process costs. A process learns
/// nothing from the one before it on the same machine: it finds every frame free,
/// and a frame is zeroed whenever a VMO commits it. A global only for speed: each
/// process still has a machine to itself while it lives.
fn machines() -> std::sync::MutexGuard<'static, Vec<UnixHal>> {
    static POOL: std::sync::Mutex<Vec<UnixHal>> = std::sync::Mutex::new(Vec::new());
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

impl TestProcess {
    /// Base of [`SCRATCH_SIZE`] bytes of read-write, committed user memory. It is
    /// one area for the whole process: threads that make calls at the same time
    /// each take [`thread_scratch`](Self::thread_scratch) instead.
    pub fn scratch(&self) -> usize {
        self.scratch
    }

    /// Base of [`SCRATCH_SIZE`] bytes of read-write, committed user memory that
    /// belong to the calling thread: made (and mapped) on the thread's first call,
    /// the same address on every later one, never another thread's. Its frames
    /// stay in use until the process is dropped.
    ///
    /// # Panics
    ///
    /// If the machine has no frames or address space left for it.
    pub fn thread_scratch(&self) -> usize {
        let id = std::thread::current().id();
        let mut areas = self
            .thread_scratch
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *areas
            .entry(id)
            .or_insert_with(|| scratch_area(self, b"thread scratch"))
    }

    /// A handle to the root resource (`ZX_DEFAULT_RESOURCE_RIGHTS`), installed on
    /// the first call and the same value after.
    ///
    /// # Panics
    ///
    /// If the handle table is full at the first call.
    pub fn root_resource(&self) -> u32 {
        *self.root_resource.get_or_init(|| {
            self.grant_resource(Resource::new_root())
                .expect("room for the root resource's handle")
        })
    }

    /// This machine's device memory `(paddr, len)`: physical addresses the frame
    /// allocator does not own, backed by host memory of their own, so two physical
    /// VMOs over the same addresses alias.
    pub fn device_memory(&self) -> (PhysAddr, usize) {
        self.hal
            .device_memory()
            .expect("the unix HAL always has device memory")
    }

    /// Frames allocated from this process's machine right now.
    pub fn frames_in_use(&self) -> usize {
        self.hal.total_count() - self.hal.free_count()
    }

    /// The machine this process runs on.
    pub fn hal(&self) -> &UnixHal {
        &self.hal
    }
}

impl Deref for TestProcess {
    type Target = Process;
    fn deref(&self) -> &Process {
        self.process.as_ref().expect("process present until drop")
    }
}

impl Drop for TestProcess {
    fn drop(&mut self) {
        drop(self.process.take());
        let all_free = self.frames_in_use() == 0;
        if all_free && self.pooled {
            let mut pool = machines();
            if pool.len() < POOL_SIZE {
                pool.push(self.hal.clone());
            }
        }
        if !std::thread::panicking() {
            assert!(all_free, "frames leaked by the test's objects");
        }
    }
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
