//! Behaviour that ends (or may end) a process, each case run in a child process: the
//! test binary re-executes itself with `KERNEL_HAL_UNIX_CHILD` naming the case.
//!
//! - A fault outside every window still kills the process with `SIGSEGV`.
//! - A fault the registered handler refuses kills it with `SIGSEGV` too.
//! - Rust's own stack-overflow report still works with our handler installed.
//! - Going past the host's `vm.max_map_count` costs nothing visible: every call
//!   succeeds, every page reads its frame, and nothing stale is left (this one must
//!   run alone: at the cap, any other thread's `mmap` would fail too).
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
        "max_map_count" => fill_past_max_map_count(&hal, &space),
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

/// Maps more separate single pages than the host's `vm.max_map_count` allows, then
/// splits a run at the cap. Every call succeeds (the host's refusals drop whole host
/// mappings, which come back when touched), every page reads its frame, and a page
/// taken away is really gone: touching it faults in a fresh zero page.
fn fill_past_max_map_count(hal: &kernel_hal_unix::UnixHal, space: &Space) {
    let pt = &space.pt;
    let (base, size) = pt.user_range();
    let host_cap: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65_530);
    let count = host_cap / 2 + 5_000;
    let frame = hal.alloc_frame().unwrap();
    hal.write(frame, b"frame").unwrap();
    // A three-page run at the top of the window, to split at the cap.
    let run = hal.alloc_contiguous(3, 0).unwrap();
    hal.write(run + PAGE_SIZE, b"middle").unwrap();
    let run_at = base + size - 3 * PAGE_SIZE;
    let rw = MMUFlags::READ | MMUFlags::WRITE;
    pt.map(run_at, run, 3 * PAGE_SIZE, rw, CachePolicy::Cached)
        .unwrap();
    for i in 0..count {
        let vaddr = base + 2 * i * PAGE_SIZE;
        assert!(vaddr < run_at, "the window ran out");
        assert_eq!(
            pt.map(vaddr, frame, PAGE_SIZE, MMUFlags::READ, CachePolicy::Cached),
            Ok(()),
            "map {i} of {count}"
        );
    }
    let (present, runs) = (pt.present_run_count(), pt.run_count());
    println!(
        "{count} single-page maps (host cap {host_cap}): {present} of {runs} runs in the host"
    );
    assert!(present < runs, "the host never refused a mapping");
    assert_eq!(pt.mapped_pages(), count + 3);
    for i in (0..count).step_by(101).chain([count - 1]) {
        assert_eq!(peek(base + 2 * i * PAGE_SIZE), b'f', "page {i}");
    }

    // Splitting the run at the cap works, and the record and the host agree.
    let middle = run_at + PAGE_SIZE;
    assert_eq!(peek(middle), b'm');
    assert_eq!(pt.protect(middle, PAGE_SIZE, MMUFlags::READ), Ok(1));
    assert_eq!(pt.query(middle).unwrap().flags, MMUFlags::READ);
    assert_eq!(pt.query(run_at).unwrap().flags, rw);
    assert_eq!(pt.unmap(middle, PAGE_SIZE), Ok(()));
    assert_eq!(pt.query(middle), Err(PagingError::NotMapped));
    assert_eq!(peek(run_at), 0);
    assert_eq!(peek(run_at + 2 * PAGE_SIZE), 0);
    // Nothing stale: the next touch of the unmapped page faults, and the handler
    // gives it a fresh zero frame.
    *space.policy.lock().unwrap() = Policy::Resolve;
    assert_eq!(peek(middle), 0, "a stale translation to the old frame");

    let pages = pt.mapped_pages();
    assert_eq!(pt.clear(base, size), Ok(pages));
    assert_eq!(pt.run_count(), 0);
    space.release();
    hal.free_frames(frame, 1).unwrap();
    hal.free_frames(run, 3).unwrap();
    assert_eq!(hal.free_count(), hal.total_count());
}
