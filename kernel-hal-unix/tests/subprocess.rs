//! Behaviour that ends (or may end) a process, each case run in a child process: the
//! test binary re-executes itself with `KERNEL_HAL_UNIX_CHILD` naming the case.
//!
//! - A fault outside every window still kills the process with `SIGSEGV`.
//! - A fault the registered handler refuses kills it with `SIGSEGV` too.
//! - Rust's own stack-overflow report still works with our handler installed.
//! - Hitting the host's `vm.max_map_count` yields `NoMemory`, and the record stays
//!   consistent with the host (this one must run alone: at the cap, any other
//!   thread's `mmap` would fail too).
//! - A thread whose stack lies in window memory demand-faults it in (its faults are
//!   handled on its alternate stack); without a large enough alternate stack it
//!   gets a message naming the fix, not a silent death.
//! - A thread with `SIGSEGV` blocked dies of `SIGSEGV` on its first fault (a limit
//!   of the backend: the host kills it without running any handler).

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode, Output};

use common::{peek, small_hal, Policy, Space};
use kernel_hal::{CachePolicy, MMUFlags, PageTable, PagingError, PhysMem, PAGE_SIZE};

const CHILD_ENV: &str = "KERNEL_HAL_UNIX_CHILD";

fn main() -> ExitCode {
    if let Ok(case) = std::env::var(CHILD_ENV) {
        child(&case);
        return ExitCode::SUCCESS;
    }
    let mut failed = 0;
    for (name, expect) in [
        ("fault_outside_every_window", Expect::Signal(libc::SIGSEGV)),
        (
            "fault_refused_by_the_handler",
            Expect::Signal(libc::SIGSEGV),
        ),
        ("stack_overflow", Expect::StackOverflowReport),
        ("max_map_count", Expect::Success),
        ("stack_in_window", Expect::Success),
        (
            "stack_in_window_with_a_small_alternate_stack",
            Expect::Abort("install_alternate_stack()"),
        ),
        (
            "stack_in_window_without_an_alternate_stack",
            Expect::Signal(libc::SIGSEGV),
        ),
        ("sigsegv_blocked", Expect::Signal(libc::SIGSEGV)),
    ] {
        let output = Command::new(std::env::current_exe().expect("own path"))
            .env(CHILD_ENV, name)
            .output()
            .expect("spawn child");
        match check(expect, &output) {
            Ok(()) => println!("test {name} ... ok"),
            Err(why) => {
                failed += 1;
                println!(
                    "test {name} ... FAILED: {why}\n--- child stdout\n{}--- child stderr\n{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// How a child must end.
#[derive(Clone, Copy)]
enum Expect {
    /// Killed by this signal.
    Signal(i32),
    /// Aborted after Rust's "has overflowed its stack" report.
    StackOverflowReport,
    /// Exited with success.
    Success,
    /// Aborted after writing this to stderr.
    Abort(&'static str),
}

fn check(expect: Expect, output: &Output) -> Result<(), String> {
    let signal = output.status.signal();
    match expect {
        Expect::Signal(wanted) if signal != Some(wanted) => Err(format!(
            "wanted death by signal {wanted}, got {:?}",
            output.status
        )),
        Expect::StackOverflowReport if signal != Some(libc::SIGABRT) => {
            Err(format!("wanted SIGABRT, got {:?}", output.status))
        }
        Expect::StackOverflowReport
            if !String::from_utf8_lossy(&output.stderr).contains("has overflowed its stack") =>
        {
            Err("no stack-overflow report on stderr".into())
        }
        Expect::Abort(_) if signal != Some(libc::SIGABRT) => {
            Err(format!("wanted SIGABRT, got {:?}", output.status))
        }
        Expect::Abort(message) if !String::from_utf8_lossy(&output.stderr).contains(message) => {
            Err(format!("no {message:?} on stderr"))
        }
        Expect::Success if !output.status.success() => {
            Err(format!("child failed: {:?}", output.status))
        }
        _ => Ok(()),
    }
}

fn child(case: &str) {
    let hal = small_hal();
    // Creating an address space installs the signal handler.
    let space = Space::new(&hal, Policy::Refuse);
    match case {
        "fault_outside_every_window" => {
            let outside = reserve_elsewhere();
            peek(outside);
            unreachable!("the read outside every window did not fault");
        }
        "fault_refused_by_the_handler" => {
            peek(space.base() + 3 * PAGE_SIZE);
            unreachable!("a refused fault returned");
        }
        "stack_overflow" => {
            std::thread::spawn(|| recurse(0)).join().ok();
            unreachable!("the recursion ended");
        }
        "max_map_count" => fill_to_max_map_count(&hal, &space),
        "stack_in_window" => {
            let space = Space::new(&hal, Policy::Resolve);
            let top = space.base() + 64 * PAGE_SIZE;
            std::thread::spawn(move || {
                kernel_hal_unix::fault::install_alternate_stack().unwrap();
                run_on_stack(top, use_the_stack);
            })
            .join()
            .unwrap();
            let faults = space.faults().len();
            println!("{faults} stack pages faulted in");
            assert!(faults >= 12, "only {faults} faults for a 48 KiB frame");
            assert_eq!(
                STACK_SUM.load(std::sync::atomic::Ordering::SeqCst),
                48 * 1024 * 3
            );
            space.release();
        }
        "stack_in_window_with_a_small_alternate_stack" => {
            let space = Space::new(&hal, Policy::Resolve);
            let top = space.base() + 64 * PAGE_SIZE;
            std::thread::spawn(move || {
                let mut small = vec![0u8; 16 * 1024];
                let stack = libc::stack_t {
                    ss_sp: small.as_mut_ptr().cast(),
                    ss_flags: 0,
                    ss_size: small.len(),
                };
                // SAFETY: `small` outlives every signal this thread takes (the
                // process ends inside `run_on_stack`).
                let result = unsafe { libc::sigaltstack(&stack, std::ptr::null_mut()) };
                assert_eq!(result, 0);
                run_on_stack(top, use_the_stack);
            })
            .join()
            .ok();
            unreachable!("a fault on a window stack with a small alternate stack returned");
        }
        "stack_in_window_without_an_alternate_stack" => {
            // The host cannot even deliver the signal: its frame would go below the
            // stack pointer, in window memory not faulted in.
            let space = Space::new(&hal, Policy::Resolve);
            let top = space.base() + 64 * PAGE_SIZE;
            std::thread::spawn(move || {
                disable_alternate_stack();
                run_on_stack(top, use_the_stack);
            })
            .join()
            .ok();
            unreachable!("a fault on a window stack without an alternate stack returned");
        }
        "sigsegv_blocked" => {
            let space = Space::new(&hal, Policy::Resolve);
            // SAFETY: a signal set we own, filled and applied to this thread.
            unsafe {
                let mut set = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGSEGV);
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            }
            peek(space.base());
            unreachable!("a fault with SIGSEGV blocked returned");
        }
        other => panic!("unknown child case {other}"),
    }
}

/// What `use_the_stack` adds up (checked by the parent thread).
static STACK_SUM: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Uses 48 KiB of stack: every page of it faults in when the stack is window memory.
extern "C" fn use_the_stack() {
    let frame = std::hint::black_box([3u8; 48 * 1024]);
    let sum = frame.iter().map(|&b| b as usize).sum();
    STACK_SUM.store(sum, std::sync::atomic::Ordering::SeqCst);
}

/// Calls `f` with the stack pointer at `top` (16-byte aligned), and back.
fn run_on_stack(top: usize, f: extern "C" fn()) {
    // SAFETY: `top` is the top of a window range whose faults are resolved, unused
    // by anything else; `r12` is callee-saved, so `f` keeps our stack pointer in it;
    // `clobber_abi("C")` covers every register `f` may change.
    unsafe {
        std::arch::asm!(
            "mov r12, rsp",
            "mov rsp, {top}",
            "call {f}",
            "mov rsp, r12",
            top = in(reg) top,
            f = in(reg) f,
            out("r12") _,
            clobber_abi("C"),
        );
    }
}

/// Turns the calling thread's alternate signal stack off.
fn disable_alternate_stack() {
    let disable = libc::stack_t {
        ss_sp: std::ptr::null_mut(),
        ss_flags: libc::SS_DISABLE,
        ss_size: 0,
    };
    // SAFETY: only turns this thread's alternate stack off.
    let result = unsafe { libc::sigaltstack(&disable, std::ptr::null_mut()) };
    assert_eq!(result, 0);
}

/// A fresh `PROT_NONE` page outside every window.
fn reserve_elsewhere() -> usize {
    // SAFETY: a fresh mapping placed by the kernel.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            PAGE_SIZE,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(page, libc::MAP_FAILED);
    page as usize
}

/// Recurses until the stack overflows (the depth never reaches `u64::MAX`).
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    if frame[3] == u64::MAX {
        return 0;
    }
    recurse(depth + 1).wrapping_add(frame[7])
}

/// Whether anything is mapped at `addr` in the host.
fn host_has_mapping_at(addr: usize) -> bool {
    // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
    let probe = unsafe {
        libc::mmap(
            addr as *mut libc::c_void,
            PAGE_SIZE,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    if probe == libc::MAP_FAILED {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::EEXIST);
    }
    // SAFETY: the probe we just made.
    unsafe { libc::munmap(probe, PAGE_SIZE) };
    false
}

/// Maps one frame at every other page until the host refuses, then checks that the
/// table and the host agree and that clearing brings everything back.
fn fill_to_max_map_count(hal: &kernel_hal_unix::UnixHal, space: &Space) {
    let pt = &space.pt;
    let (base, size) = pt.user_range();
    let frame = hal.alloc_frame().unwrap();
    hal.write(frame, b"frame").unwrap();
    // A three-page run at the top of the window, to split once at the cap.
    let run = hal.alloc_contiguous(3, 0).unwrap();
    let run_at = base + size - 3 * PAGE_SIZE;
    let rw = MMUFlags::READ | MMUFlags::WRITE;
    pt.map(run_at, run, 3 * PAGE_SIZE, rw, CachePolicy::Cached)
        .unwrap();

    let mut mapped = 0;
    let error = loop {
        let vaddr = base + 2 * mapped * PAGE_SIZE;
        assert!(vaddr < run_at, "the window ran out before the host did");
        match pt.map(vaddr, frame, PAGE_SIZE, MMUFlags::READ, CachePolicy::Cached) {
            Ok(()) => mapped += 1,
            Err(error) => break error,
        }
    };
    let failed_at = base + 2 * mapped * PAGE_SIZE;
    println!(
        "the host refused single-page mapping {} with {error:?}",
        mapped + 1
    );
    assert_eq!(error, PagingError::NoMemory);
    assert!(mapped > 10_000, "only {mapped} mappings before the cap");
    assert_eq!(pt.query(failed_at), Err(PagingError::NotMapped));
    assert!(
        host_has_mapping_at(failed_at),
        "the failed page is still reserved"
    );
    assert_eq!(pt.mapped_pages(), mapped + 3);
    for i in [0, mapped / 2, mapped - 1] {
        assert_eq!(peek(base + 2 * i * PAGE_SIZE), b'f');
    }

    // Splitting the run needs mappings the host no longer gives: either the call
    // fails and changes nothing, or it works; the record must say which.
    let middle = run_at + PAGE_SIZE;
    let protected = pt.protect(middle, PAGE_SIZE, MMUFlags::READ);
    println!("protect splitting a run at the cap: {protected:?}");
    match protected {
        Err(PagingError::NoMemory) => assert_eq!(pt.query(middle).unwrap().flags, rw),
        Ok(1) => assert_eq!(pt.query(middle).unwrap().flags, MMUFlags::READ),
        other => panic!("protect at the cap: {other:?}"),
    }
    let unmapped = pt.unmap(middle, PAGE_SIZE);
    println!("unmap splitting a run at the cap: {unmapped:?}");
    match unmapped {
        Err(PagingError::NoMemory) => assert!(pt.query(middle).is_ok()),
        Ok(()) => assert_eq!(pt.query(middle), Err(PagingError::NotMapped)),
        other => panic!("unmap at the cap: {other:?}"),
    }
    assert_eq!(peek(run_at), 0);

    // Clearing merges everything back into one reservation.
    let pages = pt.mapped_pages();
    assert_eq!(pt.clear(base, size), Ok(pages));
    assert_eq!(pt.run_count(), 0);
    pt.map(
        failed_at,
        frame,
        PAGE_SIZE,
        MMUFlags::READ,
        CachePolicy::Cached,
    )
    .unwrap();
    assert_eq!(peek(failed_at), b'f');
    pt.unmap(failed_at, PAGE_SIZE).unwrap();
    hal.free_frames(frame, 1).unwrap();
    hal.free_frames(run, 3).unwrap();
    assert_eq!(hal.free_count(), hal.total_count());
    println!("max_map_count: {mapped} single-page mappings fitted; all cleared");
}
