//! Demand paging: the process-wide `SIGSEGV`/`SIGBUS` handler and the registry of
//! address-space windows it dispatches to.
//!
//! This is the only process-wide state of the backend, and it exists because the
//! platform forces it: a process has one handler per signal.
//!
//! # How a fault is handled
//!
//! 1. The kernel delivers `SIGSEGV` to the faulting thread, on its alternate signal
//!    stack if it has one (the handler is installed with `SA_ONSTACK | SA_SIGINFO`, and
//!    with every signal blocked while it runs).
//! 2. The handler looks the fault address up in the [registry](#the-registry). A fault
//!    in no window goes to the [previous handler](#chaining).
//! 3. It reads the access kind from the saved context: WRITE if the page-fault error
//!    code has its write bit, EXECUTE if it has its instruction-fetch bit or the fault
//!    address is the instruction pointer, READ otherwise.
//! 4. It calls the address space's [`PageFaultHandler`]. If that is running on the
//!    alternate signal stack, it first switches to the faulting thread's own stack
//!    (below the interrupted stack pointer and its red zone): the fault was in a
//!    window, never in a thread stack, so that stack is healthy and as large as the
//!    thread's code expects, while alternate stacks are small (Rust's own are a few
//!    pages). So any thread may touch window memory: it needs no alternate stack of
//!    ours, and the fault handler may use as much stack as it would on that thread.
//!    The price: code that touches window memory needs stack headroom for the fault
//!    handler below its own frames (a thread running on a tiny custom stack would
//!    overflow it). If the interrupted code was itself on the alternate stack
//!    (inside another signal handler), the handler stays there. If the interrupted
//!    stack pointer lies in a window (a thread running on a stack that is a VMO
//!    mapping, as Zircon threads do), that stack may not be faulted in below it, so
//!    the handler stays on the alternate stack, which must then be at least
//!    [`MIN_FAULT_STACK`] bytes: such a thread calls [`install_alternate_stack`]
//!    before it runs there.
//! 5. If the handler returns `true`, the signal handler returns and the access is
//!    retried. Otherwise the fault goes to the previous handler.
//!
//! A `SIGBUS` in a window always goes to the previous handler: every mapping is
//! bounds-checked against the memfd, so a `SIGBUS` there means the host failed to
//! back a page (out of memory), which no fault handler can fix.
//!
//! # What a fault handler may do
//!
//! It runs on the faulting thread, in signal context, with every signal blocked. It
//! may take locks that the faulting thread cannot be holding (the backend never
//! holds its own locks while touching window memory, so its [`PageTable`] and
//! [`PhysMem`] methods qualify), allocate and free memory (the faulting access was to
//! a window, which the allocator never uses, so the thread was not inside the
//! allocator), and make system calls. It must not:
//! - touch window memory itself (a fault there, with `SIGSEGV` blocked, kills the
//!   process);
//! - unwind (a panic reaches an `extern "C"` boundary and aborts the process);
//! - block on a thread that may be waiting for the faulting one, or wait for a signal.
//!
//! The code that touches window memory must, in turn, not hold a lock that its fault
//! handler takes: the object layer never touches user memory through a raw pointer
//! while holding its own locks.
//!
//! # Faults that cannot be resolved, and what the user sees
//!
//! - **A thread that holds a kernel lock** (an object-layer lock, marked through
//!   [`kernel_hal::held`], or one of this backend's own), **or is inside the
//!   allocator** (when the program installs [`TrackingAllocator`]), cannot have a
//!   window fault resolved: the fault handler would wait for the thread itself. That
//!   happens when an asynchronous signal's handler touches window memory after
//!   interrupting a syscall or `malloc`. The handler detects it and aborts the
//!   process (`SIGABRT`) after writing to standard error: `kernel-hal-unix: page
//!   fault at 0x... on a thread that holds a kernel lock or is inside the allocator:
//!   ...`. It never hangs. Without [`TrackingAllocator`], a signal that interrupts
//!   `malloc` can still deadlock in the allocator: install it in programs that touch
//!   window memory from asynchronous signal handlers (the crate's test helpers do).
//! - **A thread whose stack lies in window memory** and whose alternate stack is
//!   smaller than [`MIN_FAULT_STACK`] gets the same abort with a message naming
//!   [`install_alternate_stack`]. With no alternate stack at all the host cannot even
//!   deliver the signal (its frame would go on the stack that is not faulted in) and
//!   kills the process with `SIGSEGV` ("Segmentation fault"), without a message.
//! - **A thread with `SIGSEGV` blocked** (for example one spawned from inside a
//!   signal handler, which inherits the handler's mask) dies of `SIGSEGV` on its
//!   first window fault: the host kills it without running any handler, so the user
//!   sees only "Segmentation fault". Unblock `SIGSEGV` in threads that touch window
//!   memory.
//!
//! # Chaining
//!
//! The handler that was installed before ours (Rust's standard library installs one
//! to report stack overflows) receives every fault that is not ours to resolve,
//! with the same arguments, on the stack the kernel chose. If there was none (or it
//! ignored the signal), the default action is restored and the signal handler
//! returns: the access faults again and the process dies of the usual signal.
//!
//! # The registry
//!
//! A fixed array of [`SLOTS`] slots; each registered window claims one. A slot holds
//! the window's bounds (plain atomics, a pre-filter for the scan) and a pointer to an
//! immutable `SlotData` (bounds plus the weak handler). The signal handler scans
//! the slots up to a high-water mark without locks or allocation; for a candidate
//! it increments the slot's `readers`, loads the data pointer, re-checks the bounds,
//! upgrades the weak handler to an `Arc`, and decrements `readers` before calling it.
//! A writer (setting a handler, or unregistering) swaps the pointer and then waits
//! until `readers` is zero before freeing the old data. Both sides use sequentially
//! consistent operations, so either the reader's increment comes first (and the
//! writer waits) or the reader loads the new pointer. The reader's critical section
//! is a few atomic operations, never the handler call, so a handler may itself
//! replace handlers or drop address spaces.
//!
//! [`PageTable`]: kernel_hal::PageTable
//! [`PhysMem`]: kernel_hal::PhysMem

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Once, Weak};

use kernel_hal::held::{set_lock_watcher, LockWatcher};
use kernel_hal::{MMUFlags, PageFaultHandler, PagingError, PagingResult, VirtAddr};

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!("kernel-hal-unix reads x86_64 Linux signal contexts and supports only that host");

/// How many windows (address spaces) can exist at once in one process. Far more than
/// the host's address space holds at the default window size of 64 GiB.
pub const SLOTS: usize = 4096;

/// The immutable contents of a registered slot; replaced whole, never changed.
struct SlotData {
    start: usize,
    end: usize,
    cache: Weak<dyn HostCache>,
    handler: Option<Weak<dyn PageFaultHandler>>,
}

/// What a fault's first stop, the window's own record, made of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refill {
    /// The page has a translation the host had dropped; it is back: retry.
    Refilled,
    /// The host already has what the record says (or there is no translation):
    /// the fault is the address space's to handle.
    NotDropped,
    /// The page has a translation but the host refuses to map it even with every
    /// other host mapping of the window dropped.
    HostRefused,
}

/// A window whose host mappings are a cache of its record (see `page_table`).
pub(crate) trait HostCache: Send + Sync {
    /// Puts back the host mapping of the translation at `addr`, if it was dropped.
    fn refill(&self, addr: VirtAddr) -> Refill;
}

/// One registry entry. See the module docs for the protocol.
struct Slot {
    /// Set while some window owns the slot.
    claimed: AtomicBool,
    /// Pre-filter bounds `[start, end)`, zero when free.
    start: AtomicUsize,
    end: AtomicUsize,
    /// Signal handlers currently reading `data`.
    readers: AtomicUsize,
    /// `Box<SlotData>` turned into a raw pointer; null when free.
    data: AtomicPtr<SlotData>,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            claimed: AtomicBool::new(false),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            readers: AtomicUsize::new(0),
            data: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Publishes `data` (which may be null) and frees the data it replaces once no
    /// signal handler reads it.
    fn replace(&self, data: *mut SlotData) {
        let old = self.data.swap(data, Ordering::SeqCst);
        while self.readers.load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
        if !old.is_null() {
            // SAFETY: `old` came from `Box::into_raw` in `register`/`set_handler`; it
            // is no longer published, and no reader holds it (the count was zero
            // after the swap, and later readers load the new pointer).
            drop(unsafe { Box::from_raw(old) });
        }
    }
}

static REGISTRY: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
/// One past the highest slot ever claimed: the signal handler scans below it.
static HIGH_WATER: AtomicUsize = AtomicUsize::new(0);

/// A window's claim on a registry slot; dropping it unregisters the window.
pub(crate) struct Registration {
    index: usize,
    start: usize,
    end: usize,
    cache: Weak<dyn HostCache>,
}

impl Registration {
    /// Registers the window `[start, start + len)` with no fault handler, installing
    /// the signal handler on first use.
    ///
    /// # Errors
    ///
    /// [`PagingError::NoMemory`]: every slot is taken.
    pub(crate) fn register(
        start: usize,
        len: usize,
        cache: Weak<dyn HostCache>,
    ) -> PagingResult<Registration> {
        install_signal_handlers();
        let end = start + len;
        let index = REGISTRY
            .iter()
            .position(|slot| {
                slot.claimed
                    .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            })
            .ok_or(PagingError::NoMemory)?;
        let slot = &REGISTRY[index];
        slot.start.store(start, Ordering::SeqCst);
        slot.end.store(end, Ordering::SeqCst);
        HIGH_WATER.fetch_max(index + 1, Ordering::SeqCst);
        let registration = Registration {
            index,
            start,
            end,
            cache,
        };
        registration.set_handler(None);
        Ok(registration)
    }

    /// Makes `handler` receive the faults of this window from now on.
    pub(crate) fn set_handler(&self, handler: Option<Weak<dyn PageFaultHandler>>) {
        let data = Box::into_raw(Box::new(SlotData {
            start: self.start,
            end: self.end,
            cache: self.cache.clone(),
            handler,
        }));
        REGISTRY[self.index].replace(data);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let slot = &REGISTRY[self.index];
        slot.replace(ptr::null_mut());
        slot.start.store(0, Ordering::SeqCst);
        slot.end.store(0, Ordering::SeqCst);
        slot.claimed.store(false, Ordering::Release);
    }
}

/// The window's record and handlers, if alive, for a fault in a window.
type Found = (
    Option<Arc<dyn HostCache>>,
    Option<Arc<dyn PageFaultHandler>>,
);

/// The record and fault handler of the window holding `addr`, if there is such a
/// window. Called in signal context: no locks, no allocation.
fn lookup(addr: usize) -> Option<Found> {
    let high = HIGH_WATER.load(Ordering::Acquire).min(SLOTS);
    for slot in &REGISTRY[..high] {
        if addr < slot.start.load(Ordering::Relaxed) || addr >= slot.end.load(Ordering::Relaxed) {
            continue;
        }
        slot.readers.fetch_add(1, Ordering::SeqCst);
        let data = slot.data.load(Ordering::SeqCst);
        // SAFETY: a non-null pointer loaded while `readers` counts us stays valid
        // until we decrement it (see `Slot::replace`).
        let found = unsafe { data.as_ref() }
            .filter(|d| d.start <= addr && addr < d.end)
            .map(|d| {
                (
                    d.cache.upgrade(),
                    d.handler.as_ref().and_then(Weak::upgrade),
                )
            });
        slot.readers.fetch_sub(1, Ordering::SeqCst);
        if let Some(handler) = found {
            // Windows never overlap, so this is the only candidate.
            return Some(handler);
        }
    }
    None
}

thread_local! {
    /// How many kernel locks this thread holds (or waits for), plus the backend's
    /// own locked sections and allocator calls it is inside. A window fault on a
    /// thread where it is not zero would wait for the thread itself.
    static BUSY: Cell<usize> = const { Cell::new(0) };
}

fn busy_enter() {
    // A `const` thread-local without a destructor is always accessible, from a
    // signal handler or the allocator too; `try_with` only makes that explicit.
    let _ = BUSY.try_with(|busy| busy.set(busy.get() + 1));
}

fn busy_leave() {
    // Saturating: a lock taken before the watcher was installed is released
    // without having been counted.
    let _ = BUSY.try_with(|busy| busy.set(busy.get().saturating_sub(1)));
}

fn thread_is_busy() -> bool {
    BUSY.try_with(|busy| busy.get() != 0).unwrap_or(false)
}

/// Counts the object layer's lock marks (see [`kernel_hal::held`]) per thread.
static WATCHER: LockWatcher = LockWatcher {
    enter: busy_enter,
    leave: busy_leave,
};

/// A section of the backend (holding one of its own locks) during which a fault on
/// this thread must not be resolved.
pub(crate) struct Busy(());

impl Busy {
    pub(crate) fn enter() -> Busy {
        busy_enter();
        Busy(())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        busy_leave();
    }
}

/// A guard of one of the backend's own locks, with the thread marked busy while it
/// waits for and holds it.
pub(crate) struct Marked<'a, T> {
    // Declared first, so it unlocks before the mark goes.
    guard: std::sync::MutexGuard<'a, T>,
    _busy: Busy,
}

impl<'a, T> Marked<'a, T> {
    /// Locks `mutex` (a poisoned lock is taken as it is: the backend's updates never
    /// panic half-way).
    pub(crate) fn lock(mutex: &'a std::sync::Mutex<T>) -> Marked<'a, T> {
        let busy = Busy::enter();
        Marked {
            guard: mutex.lock().unwrap_or_else(|e| e.into_inner()),
            _busy: busy,
        }
    }
}

impl<T> std::ops::Deref for Marked<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> std::ops::DerefMut for Marked<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

/// The host's allocator ([`System`]), marking each thread that is inside it, so that
/// a fault taken from a signal handler that interrupted `malloc` is reported instead
/// of deadlocking in the allocator. A program that uses this backend and touches
/// window memory from asynchronous signal handlers should install it:
///
/// ```
/// #[global_allocator]
/// static ALLOCATOR: kernel_hal_unix::fault::TrackingAllocator =
///     kernel_hal_unix::fault::TrackingAllocator;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TrackingAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged;
// the marks around the calls touch only a thread-local counter (no allocation).
unsafe impl GlobalAlloc for TrackingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _busy = Busy::enter();
        // SAFETY: forwarded; the caller keeps `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _busy = Busy::enter();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _busy = Busy::enter();
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _busy = Busy::enter();
        // SAFETY: as for `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The size of the alternate signal stack [`install_alternate_stack`] gives a thread.
pub const ALTERNATE_STACK_SIZE: usize = 256 * 1024;

/// The least alternate-stack size on which a fault is handled for a thread whose
/// own stack lies in window memory.
pub const MIN_FAULT_STACK: usize = 64 * 1024;

/// Gives the calling thread an alternate signal stack of [`ALTERNATE_STACK_SIZE`]
/// bytes (plus a guard page), unless it has one at least that large. A thread whose
/// stack lies in window memory must call it before it runs there: its faults are
/// handled on the alternate stack (its own stack may not be faulted in), and Rust's
/// default alternate stacks are a few pages. The stack is freed when the thread
/// exits.
///
/// # Errors
///
/// The host error of `mmap` or `sigaltstack`.
pub fn install_alternate_stack() -> io::Result<()> {
    if let Some((low, high)) = alternate_stack() {
        if high - low >= ALTERNATE_STACK_SIZE {
            return Ok(());
        }
    }
    let page = kernel_hal::PAGE_SIZE;
    let len = ALTERNATE_STACK_SIZE + page;
    // SAFETY: a fresh private mapping placed by the kernel.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // The lowest page is the guard: an overflow faults instead of running into
    // whatever lies below.
    // SAFETY: the first page of our own fresh mapping.
    unsafe { libc::mprotect(base, page, libc::PROT_NONE) };
    let stack = libc::stack_t {
        ss_sp: base.cast::<u8>().wrapping_add(page).cast(),
        ss_flags: 0,
        ss_size: ALTERNATE_STACK_SIZE,
    };
    // SAFETY: `stack` describes our own fresh mapping, which lives until the
    // thread exits (`OwnAlternateStack` frees it after disabling it).
    if unsafe { libc::sigaltstack(&stack, ptr::null_mut()) } != 0 {
        let error = io::Error::last_os_error();
        // SAFETY: our own mapping, not installed.
        unsafe { libc::munmap(base, len) };
        return Err(error);
    }
    OWN_ALTERNATE_STACK.with(|own| own.replace(base as usize, len));
    Ok(())
}

/// The alternate stack this module gave the thread, freed when the thread exits.
struct OwnAlternateStack(Cell<(usize, usize)>);

impl OwnAlternateStack {
    fn replace(&self, base: usize, len: usize) {
        let (old, old_len) = self.0.replace((base, len));
        if old != 0 {
            // SAFETY: a stack this module mapped earlier for this thread, replaced by
            // the new one just installed, so nothing runs on it any more.
            unsafe { libc::munmap(old as *mut libc::c_void, old_len) };
        }
    }
}

impl Drop for OwnAlternateStack {
    fn drop(&mut self) {
        let (base, len) = self.0.get();
        if base == 0 {
            return;
        }
        let disable = libc::stack_t {
            ss_sp: ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: turns the thread's alternate stack off (the thread is exiting)
        // and frees ours, which no signal can run on any more.
        unsafe {
            libc::sigaltstack(&disable, ptr::null_mut());
            libc::munmap(base as *mut libc::c_void, len);
        }
    }
}

thread_local! {
    static OWN_ALTERNATE_STACK: OwnAlternateStack = const { OwnAlternateStack(Cell::new((0, 0))) };
}

/// Whether `addr` lies in some registered window. Signal-safe: atomics only.
fn in_any_window(addr: usize) -> bool {
    let high = HIGH_WATER.load(Ordering::Acquire).min(SLOTS);
    REGISTRY[..high].iter().any(|slot| {
        slot.start.load(Ordering::Relaxed) <= addr && addr < slot.end.load(Ordering::Relaxed)
    })
}

/// Writes `parts` and `addr` (in hex) to standard error and aborts the process.
/// Signal-safe: no allocation, no locks.
fn die(before: &str, addr: usize, after: &str) -> ! {
    let mut hex = [0u8; 18];
    hex[0] = b'0';
    hex[1] = b'x';
    for (i, digit) in hex[2..].iter_mut().enumerate() {
        let nibble = (addr >> (60 - 4 * i)) & 0xf;
        *digit = b"0123456789abcdef"[nibble];
    }
    for part in [before.as_bytes(), &hex, after.as_bytes(), b"\n"] {
        // SAFETY: writes a buffer we own to standard error.
        unsafe { libc::write(libc::STDERR_FILENO, part.as_ptr().cast(), part.len()) };
    }
    // SAFETY: async-signal-safe; ends the process with SIGABRT.
    unsafe { libc::abort() }
}

/// The actions installed before ours, read by the signal handler.
struct PreviousActions {
    segv: MaybeUninit<libc::sigaction>,
    bus: MaybeUninit<libc::sigaction>,
}

static mut PREVIOUS: PreviousActions = PreviousActions {
    segv: MaybeUninit::uninit(),
    bus: MaybeUninit::uninit(),
};
/// Set (release) once `PREVIOUS` is written, before our handler is installed.
static PREVIOUS_READY: AtomicBool = AtomicBool::new(false);

/// Installs the `SIGSEGV` and `SIGBUS` handlers once per process.
fn install_signal_handlers() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        set_lock_watcher(&WATCHER);
        // SAFETY: `PREVIOUS` is written only here, once, before our handler can run
        // (it is installed below) and so before any reader; the writes go through a
        // raw pointer, never a reference to the static.
        unsafe {
            let previous = &raw mut PREVIOUS;
            libc::sigaction(libc::SIGSEGV, ptr::null(), (*previous).segv.as_mut_ptr());
            libc::sigaction(libc::SIGBUS, ptr::null(), (*previous).bus.as_mut_ptr());
        }
        PREVIOUS_READY.store(true, Ordering::Release);
        // SAFETY: a zeroed `sigaction` is a valid value; we fill in the fields we use.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_fault as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        // SAFETY: `sa_mask` is a valid set to fill; the handler is an `extern "C"`
        // function of the three-argument form that `SA_SIGINFO` asks for.
        unsafe {
            libc::sigfillset(&mut action.sa_mask);
            libc::sigaction(libc::SIGSEGV, &action, ptr::null_mut());
            libc::sigaction(libc::SIGBUS, &action, ptr::null_mut());
        }
    });
}

/// The access kind of the fault described by `ctx` at `addr`.
///
/// # Safety
///
/// `ctx` must be the `ucontext_t` the kernel passed to an `SA_SIGINFO` handler.
unsafe fn access_kind(addr: usize, ctx: *mut libc::c_void) -> MMUFlags {
    const WRITE_BIT: i64 = 1 << 1;
    const FETCH_BIT: i64 = 1 << 4;
    // SAFETY: the caller passes the kernel's context, which is a valid `ucontext_t`.
    let gregs = unsafe { &(*ctx.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
    let error = gregs[libc::REG_ERR as usize];
    let ip = gregs[libc::REG_RIP as usize] as usize;
    if error & FETCH_BIT != 0 || ip == addr {
        MMUFlags::EXECUTE
    } else if error & WRITE_BIT != 0 {
        MMUFlags::WRITE
    } else {
        MMUFlags::READ
    }
}

/// The saved stack pointer of the interrupted code.
///
/// # Safety
///
/// As for [`access_kind`].
unsafe fn interrupted_stack_pointer(ctx: *mut libc::c_void) -> usize {
    // SAFETY: as in `access_kind`.
    unsafe { (*ctx.cast::<libc::ucontext_t>()).uc_mcontext.gregs[libc::REG_RSP as usize] as usize }
}

/// What the handler call needs, passed through the stack switch.
struct FaultCall {
    cache: Option<Arc<dyn HostCache>>,
    handler: Option<Arc<dyn PageFaultHandler>>,
    addr: VirtAddr,
    access: MMUFlags,
    resolved: bool,
}

/// Runs the fault handler (and drops our reference to it) on whatever stack it is
/// called on. `extern "C"`, so a panic aborts here instead of unwinding further.
extern "C" fn run_handler(call: *mut FaultCall) {
    // SAFETY: `call` points at the `FaultCall` on the signal handler's frame, which
    // outlives this call; nothing else touches it meanwhile.
    let call = unsafe { &mut *call };
    // The window's record first: a translation whose host mapping was dropped (at
    // the host's mapping cap) comes back without the address space's involvement.
    match call.cache.take().map(|cache| cache.refill(call.addr)) {
        Some(Refill::Refilled) => {
            call.resolved = true;
            return;
        }
        Some(Refill::HostRefused) => die(
            "kernel-hal-unix: page fault at ",
            call.addr,
            " on a translation the host refuses to map even with every other mapping of \
             its window dropped (host out of memory). Aborting.",
        ),
        Some(Refill::NotDropped) | None => {}
    }
    if let Some(handler) = call.handler.take() {
        call.resolved = handler.handle_page_fault(call.addr, call.access);
    }
}

/// Calls `f(arg)` with the stack pointer set to `stack_top`.
///
/// # Safety
///
/// `stack_top` must be 16-byte aligned, with enough writable, unused stack below it
/// for `f`, and nothing else may use that stack meanwhile.
unsafe fn call_on_stack(stack_top: usize, f: extern "C" fn(*mut FaultCall), arg: *mut FaultCall) {
    // SAFETY: the caller guarantees the stack; `r12` is callee-saved, so `f` keeps it
    // and we get our own stack pointer back; `clobber_abi("C")` tells the compiler
    // every caller-saved register may change. The `call` pushes the return address,
    // so `f` starts with the stack alignment the ABI requires.
    unsafe {
        std::arch::asm!(
            "mov r12, rsp",
            "mov rsp, {stack}",
            "call {f}",
            "mov rsp, r12",
            stack = in(reg) stack_top,
            f = in(reg) f,
            in("rdi") arg,
            out("r12") _,
            clobber_abi("C"),
        );
    }
}

/// The bounds `[low, high)` of this thread's alternate signal stack, if the thread
/// is running on it now.
fn current_alternate_stack() -> Option<(usize, usize)> {
    alternate_stack_state().and_then(|(low, high, on)| on.then_some((low, high)))
}

/// The bounds `[low, high)` of this thread's alternate signal stack, if it has one.
fn alternate_stack() -> Option<(usize, usize)> {
    alternate_stack_state().map(|(low, high, _)| (low, high))
}

/// This thread's alternate signal stack, if enabled: bounds and whether the thread
/// runs on it now.
fn alternate_stack_state() -> Option<(usize, usize, bool)> {
    let mut current = MaybeUninit::<libc::stack_t>::uninit();
    // SAFETY: a query only (no new stack), writing into `current`.
    if unsafe { libc::sigaltstack(ptr::null(), current.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: on success the kernel filled `current`.
    let current = unsafe { current.assume_init() };
    let low = current.ss_sp as usize;
    let on = current.ss_flags & libc::SS_ONSTACK != 0;
    (current.ss_flags & libc::SS_DISABLE == 0 || on).then_some((
        low,
        low.wrapping_add(current.ss_size),
        on,
    ))
}

/// Bytes below the interrupted stack pointer that the handler leaves alone: the
/// x86_64 red zone (128) with room to spare.
const STACK_GAP: usize = 256;

/// The signal handler for `SIGSEGV` and `SIGBUS`.
extern "C" fn on_fault(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the errno location of this thread is always valid.
    let saved_errno = unsafe { *libc::__errno_location() };
    // SAFETY: the kernel passes a valid `siginfo_t` to an `SA_SIGINFO` handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let handler = if sig == libc::SIGSEGV {
        lookup(addr)
    } else {
        None
    };
    let resolved = match handler {
        Some((cache, handler)) => {
            if thread_is_busy() {
                die(
                    "kernel-hal-unix: page fault at ",
                    addr,
                    " on a thread that holds a kernel lock or is inside the allocator: it \
                     came from a signal handler that interrupted a syscall or malloc (or from \
                     code touching user memory under a lock), and resolving it would wait \
                     for the thread itself. Aborting instead of deadlocking.",
                );
            }
            let mut call = FaultCall {
                cache,
                handler,
                addr,
                // SAFETY: `ctx` is the kernel's context for this signal.
                access: unsafe { access_kind(addr, ctx) },
                resolved: false,
            };
            // SAFETY: `ctx` is the kernel's context for this signal.
            let sp = unsafe { interrupted_stack_pointer(ctx) };
            let window_stack = in_any_window(sp);
            match current_alternate_stack() {
                // The thread runs on a stack in window memory, which may not be
                // faulted in below its stack pointer: stay on the alternate stack,
                // if it is large enough for the handler.
                Some((low, high)) if window_stack => {
                    if high - low < MIN_FAULT_STACK {
                        die(
                            "kernel-hal-unix: page fault at ",
                            addr,
                            " on a thread whose stack lies in window memory and whose \
                             alternate signal stack is too small for the fault handler; \
                             call kernel_hal_unix::fault::install_alternate_stack() on \
                             that thread first.",
                        );
                    }
                    run_handler(&mut call);
                }
                None if window_stack => die(
                    "kernel-hal-unix: page fault at ",
                    addr,
                    " on a thread whose stack lies in window memory and that has no \
                     alternate signal stack; call \
                     kernel_hal_unix::fault::install_alternate_stack() on that thread first.",
                ),
                // The kernel moved us to the alternate stack: go back to the
                // interrupted one. (If the interrupted code was itself on the
                // alternate stack, our frame lies below its stack pointer: stay.)
                Some((low, high)) if !(low..high).contains(&sp) => {
                    let top = sp.wrapping_sub(STACK_GAP) & !15;
                    // SAFETY: the signal frame and this function's frame are on the
                    // alternate stack, not on the interrupted one; everything below
                    // the interrupted stack pointer (past the red zone) is unused
                    // while the thread is stopped in this handler; and the fault was
                    // in a window, not in that stack, so the stack below is the
                    // thread's own, with its guard page beyond.
                    unsafe { call_on_stack(top, run_handler, &mut call) };
                }
                _ => run_handler(&mut call),
            }
            call.resolved
        }
        None => false,
    };
    if !resolved {
        // SAFETY: forwarding the kernel's own arguments for this signal.
        unsafe { chain(sig, info, ctx) };
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved_errno };
}

/// Hands a fault that is not ours to the previously installed action.
///
/// # Safety
///
/// The arguments must be those the kernel passed to [`on_fault`].
unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    if !PREVIOUS_READY.load(Ordering::Acquire) {
        restore_default(sig);
        return;
    }
    // SAFETY: `PREVIOUS` was written before `PREVIOUS_READY` was set and never again.
    let previous = unsafe {
        let all = &raw const PREVIOUS;
        if sig == libc::SIGBUS {
            (*all).bus.assume_init_ref()
        } else {
            (*all).segv.assume_init_ref()
        }
    };
    let target = previous.sa_sigaction;
    if target == libc::SIG_DFL || target == libc::SIG_IGN {
        // Ignoring a synchronous fault would spin forever; die of it instead.
        restore_default(sig);
    } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous owner installed this address as a three-argument
        // signal handler; we call it as the kernel would have.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(target) };
        f(sig, info, ctx);
    } else {
        // SAFETY: as above, for a one-argument handler.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(target) };
        f(sig);
    }
}

/// Makes `sig` take its default action; returning from the handler then re-runs the
/// faulting access, which kills the process with `sig`.
fn restore_default(sig: libc::c_int) {
    // SAFETY: a zeroed `sigaction` with `SIG_DFL` (0) is valid; `sigaction` is
    // async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(sig, &action, ptr::null_mut());
    }
}
