//! A page fault taken inside an asynchronous signal handler, on a thread that was
//! interrupted in the middle of a syscall (holding an address space's lock) or of
//! `malloc`, cannot be resolved: resolving it would wait for the thread itself. The
//! unix backend detects it and aborts with a message naming the cause; it never
//! hangs. The case runs in a child process (the test binary re-executed with
//! `SIGNAL_REENTRY_CHILD` set), watched by a timeout that turns a hang into a failure.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use zircon_syscall::*;

const CHILD_ENV: &str = "SIGNAL_REENTRY_CHILD";
/// How long the child may run before the parent calls it a hang.
const TIMEOUT: Duration = Duration::from_secs(60);
/// How long the child keeps trying before it gives up on a signal landing in a syscall.
const CHILD_BUDGET: Duration = Duration::from_secs(30);
const PAGES: usize = 16 * 1024;
const PAGE: usize = 4096;

fn main() -> ExitCode {
    if std::env::var_os(CHILD_ENV).is_some() {
        child();
        return ExitCode::SUCCESS;
    }
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            child.kill().ok();
            child.wait().ok();
            println!(
                "test fault_from_a_signal_handler_inside_a_syscall ... FAILED: the child hung \
                 for {TIMEOUT:?} (a deadlock in the fault path)"
            );
            return ExitCode::FAILURE;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .ok();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)
        .ok();
    let wanted = "holds a kernel lock or is inside the allocator";
    if status.signal() == Some(libc::SIGABRT) && stderr.contains(wanted) {
        println!(
            "test fault_from_a_signal_handler_inside_a_syscall ... ok ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        ExitCode::SUCCESS
    } else {
        println!(
            "test fault_from_a_signal_handler_inside_a_syscall ... FAILED: wanted SIGABRT and \
             {wanted:?} on stderr, got {status:?}\n--- child stdout\n{stdout}--- child stderr\n{stderr}"
        );
        ExitCode::FAILURE
    }
}

/// The mapped VMO the signal handler touches, and the next page to touch.
static TARGET: AtomicUsize = AtomicUsize::new(0);
static NEXT: AtomicUsize = AtomicUsize::new(0);
/// Signals handled (each touched a fresh page and so took a fault).
static HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn touch_a_fresh_page(_sig: libc::c_int) {
    let page = NEXT.fetch_add(1, Ordering::Relaxed) % PAGES;
    let addr = TARGET.load(Ordering::Relaxed) + page * PAGE;
    // SAFETY: `addr` lies in a read-write mapping of the process that stays in
    // place while signals are sent; the store demand-faults it in.
    unsafe { std::ptr::write_volatile(addr as *mut u8, 1) };
    HANDLED.fetch_add(1, Ordering::Relaxed);
}

fn read_u32(p: &zircon_tests::TestProcess, at: usize) -> u32 {
    let mut b = [0u8; 4];
    p.read_memory(at, &mut b).unwrap();
    u32::from_le_bytes(b)
}

fn read_usize(p: &zircon_tests::TestProcess, at: usize) -> usize {
    let mut b = [0u8; 8];
    p.read_memory(at, &mut b).unwrap();
    usize::from_le_bytes(b)
}

/// Maps a large VMO for the signal handler to touch, then makes syscalls in a loop
/// while another thread sends this one `SIGUSR1` again and again. Sooner or later a
/// signal lands while a lock is held (or inside `malloc`), and the fault its handler
/// takes must end the process with the message.
fn child() {
    let p = zircon_tests::new_process();
    let out = p.scratch();
    let rw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
    assert_eq!(p.zx_vmo_create((PAGES * PAGE) as u64, 0, out), ZX_OK);
    let big = read_u32(&p, out);
    assert_eq!(
        p.zx_vmar_map(p.zx_vmar_root_self(), rw, 0, big, 0, PAGES * PAGE, out + 8),
        ZX_OK
    );
    TARGET.store(read_usize(&p, out + 8), Ordering::SeqCst);
    assert_eq!(p.zx_vmo_create(16 * PAGE as u64, 0, out), ZX_OK);
    let small = read_u32(&p, out);

    // SAFETY: installs a plain one-argument handler for SIGUSR1.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = touch_a_fresh_page as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
    // SAFETY: the calling thread's own id.
    let me = unsafe { libc::pthread_self() } as usize;
    std::thread::spawn(move || loop {
        // SAFETY: `me` is the main thread, alive until the process ends.
        unsafe { libc::pthread_kill(me as libc::pthread_t, libc::SIGUSR1) };
        std::thread::sleep(Duration::from_micros(200));
    });

    let started = Instant::now();
    let mut rounds = 0u64;
    while started.elapsed() < CHILD_BUDGET {
        let buffer = vec![rounds as u8; 3 * PAGE];
        p.write_memory(out + 64, &buffer[..256]).unwrap();
        assert_eq!(p.zx_vmo_write(small, out + 64, 0, 256), ZX_OK);
        assert_eq!(
            p.zx_vmar_map(p.zx_vmar_root_self(), rw, 0, small, 0, 16 * PAGE, out + 16),
            ZX_OK
        );
        let addr = read_usize(&p, out + 16);
        assert_eq!(
            p.zx_vmar_op_range(
                p.zx_vmar_root_self(),
                ZX_VMAR_OP_COMMIT,
                addr,
                16 * PAGE,
                0,
                0
            ),
            ZX_OK
        );
        assert_eq!(
            p.zx_vmar_unmap(p.zx_vmar_root_self(), addr, 16 * PAGE),
            ZX_OK
        );
        rounds += 1;
    }
    println!(
        "{rounds} rounds, {} signals handled, none inside a syscall or malloc",
        HANDLED.load(Ordering::Relaxed)
    );
}
