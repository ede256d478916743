//! Two-CPU checks: CPU 1 runs a thread of a process in ring 3 that uses a page in
//! a loop while CPU 0 unmaps it (then hands its frame to someone else) or makes it
//! read-only; once the call returns, CPU 1 must fault and must never see the
//! frame's new contents or land a store.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use kernel_hal::{MMUFlags, PhysMem, PAGE_SIZE};
use kernel_hal_bare::BareHal;
use zircon_object::vm::{VmObject, VmPerms, VmoOptions};
use zircon_syscall::*;

use crate::checks::{check, check_with};
use crate::smp;
use crate::user::{self, Fault, Outcome};
use crate::userprog::{self, HEARTBEAT, OLD, TARGET};

const ITERATIONS: usize = 2000;
const NEW: u64 = 0x0000_beef_beef_0000;
/// How long (TSC cycles, several seconds: the host may be busy) CPU 0 waits for
/// CPU 1 to fault before calling it a missed shootdown.
const PATIENCE: u64 = 20_000_000_000;

fn rdtsc() -> u64 {
    // SAFETY: reads the time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

fn read_u64(vmo: &VmObject) -> u64 {
    let mut bytes = [0u8; 8];
    vmo.read(0, &mut bytes).expect("reading a VMO");
    u64::from_le_bytes(bytes)
}

struct Rig {
    hal: Arc<BareHal>,
    process: Arc<Process>,
    heartbeat: Arc<VmObject>,
    outcome: Arc<spin::Mutex<Option<Outcome>>>,
}

impl Rig {
    fn new_vmo(&self, value: u64) -> Arc<VmObject> {
        let hal: Arc<dyn kernel_hal::Hal> = self.hal.clone();
        let vmo = VmObject::new(hal, PAGE_SIZE as u64, VmoOptions::empty()).expect("a VMO");
        vmo.write(0, &value.to_le_bytes()).expect("its first word");
        vmo
    }

    /// Starts `program(TARGET)` on CPU 1 and waits until it has used the page.
    fn start(&self, program: extern "sysv64" fn(u64) -> !) {
        self.heartbeat
            .write(0, &[0; 8])
            .expect("reset the heartbeat");
        *self.outcome.lock() = None;
        let (hal, process, outcome) =
            (self.hal.clone(), self.process.clone(), self.outcome.clone());
        smp::post(Box::new(move || {
            let result = user::run(&hal, &process, program, TARGET as u64);
            *outcome.lock() = Some(result);
        }));
        while read_u64(&self.heartbeat) == 0 && self.outcome.lock().is_none() {
            core::hint::spin_loop();
        }
    }

    /// CPU 1's outcome, or `None` if it has not come back within [`PATIENCE`]
    /// (it keeps running on a stale translation).
    fn wait(&self) -> Option<Outcome> {
        let start = rdtsc();
        while rdtsc() - start < PATIENCE {
            if let Some(outcome) = self.outcome.lock().take() {
                return Some(outcome);
            }
            core::hint::spin_loop();
        }
        None
    }
}

fn faulted_at_target(outcome: Outcome, access: MMUFlags, status: i32) -> bool {
    matches!(outcome, Outcome::Faulted(Fault { vector: 14, addr, access: a, status: s, .. })
        if addr == TARGET as u64 && a == access && s == status)
}

/// Two processes at once, one on each CPU: both demand-page and copy-on-write
/// through their own address spaces, and one's fault leaves the other running.
fn side_by_side(hal: &Arc<BareHal>, text: &Arc<VmObject>) {
    let free = hal.free_count();
    let a = user::new_process(hal, text);
    let b = user::new_process(hal, text);
    let done = Arc::new(spin::Mutex::new(None));
    {
        let (hal, a, done) = (hal.clone(), a.clone(), done.clone());
        smp::post(Box::new(move || {
            let mut outcomes = [None; 3];
            for (i, slot) in outcomes.iter_mut().enumerate() {
                let program = if i == 1 {
                    userprog::store_to_read_only
                } else {
                    userprog::demand_paging
                };
                *slot = Some(user::run(&hal, &a, program, 64));
            }
            *done.lock() = Some(outcomes);
        }));
    }
    let mut mine = [None; 3];
    for slot in mine.iter_mut() {
        *slot = Some(user::run(hal, &b, userprog::copy_on_write, 0));
    }
    let start = rdtsc();
    let theirs = loop {
        if let Some(outcomes) = done.lock().take() {
            break Some(outcomes);
        }
        if rdtsc() - start > 3 * PATIENCE {
            break None;
        }
        core::hint::spin_loop();
    };
    check_with(
        "two CPUs: two processes run at once, one per CPU, each in its own address space",
        mine.iter().all(|o| *o == Some(Outcome::Exited(0)))
            && theirs.is_some_and(|t| {
                t[0] == Some(Outcome::Exited(0)) && t[2] == Some(Outcome::Exited(0))
            }),
        format_args!("CPU 0 {mine:?}, CPU 1 {theirs:?}"),
    );
    check(
        "two CPUs: a fault in the process on CPU 1 leaves it and the process on CPU 0 running",
        theirs.is_some_and(|t| matches!(t[1], Some(Outcome::Faulted(_)))),
    );
    drop((a, b));
    check(
        "two CPUs: frames back to the start after both processes exit",
        hal.free_count() == free,
    );
}

/// Runs the two-CPU checks (CPU 1 must be online).
pub fn run(hal: &Arc<BareHal>) {
    let text = user::user_text(hal);
    side_by_side(hal, &text);
    let process = user::new_process(hal, &text);
    let hal_dyn: Arc<dyn kernel_hal::Hal> = hal.clone();
    let heartbeat = VmObject::new(hal_dyn, PAGE_SIZE as u64, VmoOptions::empty()).expect("a VMO");
    user::map_at(
        &process,
        &heartbeat,
        HEARTBEAT,
        PAGE_SIZE,
        VmPerms::READ_WRITE,
    );
    let rig = Rig {
        hal: hal.clone(),
        process,
        heartbeat,
        outcome: Arc::new(spin::Mutex::new(None)),
    };
    let root = rig.process.zx_vmar_root_self();
    let ipis_before = smp::IPIS_SENT.load(Ordering::SeqCst);

    // Unmap, then give the frame to someone else.
    let (mut good, mut reused, mut first_bad) = (0, 0, None);
    for _ in 0..ITERATIONS {
        let vmo = rig.new_vmo(OLD);
        user::map_at(&rig.process, &vmo, TARGET, PAGE_SIZE, VmPerms::READ_WRITE);
        rig.start(userprog::read_loop);
        let frame = rig.process.object().aspace().page_table().query(TARGET);
        let status = rig.process.zx_vmar_unmap(root, TARGET, PAGE_SIZE);
        drop(vmo);
        let new_frame = hal.alloc_frame().expect("a frame");
        hal.write(new_frame, &NEW.to_le_bytes())
            .expect("new contents");
        if frame.is_ok_and(|t| t.paddr == new_frame) {
            reused += 1;
        }
        let outcome = rig.wait();
        hal.free_frames(new_frame, 1).expect("free it again");
        let Some(outcome) = outcome else {
            check("two CPUs: after zx_vmar_unmap returns, CPU 1 faults (it went on with a stale translation)", false);
            return;
        };
        if status == ZX_OK && faulted_at_target(outcome, MMUFlags::READ, ZX_ERR_NOT_FOUND) {
            good += 1;
        } else if first_bad.is_none() {
            first_bad = Some((status, outcome));
        }
    }
    check_with(
        "two CPUs: after zx_vmar_unmap returns, CPU 1 faults and never sees the frame's next contents",
        good == ITERATIONS,
        format_args!("{good} of {ITERATIONS} iterations; first bad {first_bad:?}"),
    );
    check_with(
        "two CPUs: the unmapped frame really went to its next owner",
        reused * 2 > ITERATIONS,
        format_args!("in {reused} of {ITERATIONS} iterations"),
    );

    // Protect to read-only while CPU 1 stores in a loop.
    let (mut good, mut first_bad) = (0, None);
    for _ in 0..ITERATIONS {
        let vmo = rig.new_vmo(0);
        user::map_at(&rig.process, &vmo, TARGET, PAGE_SIZE, VmPerms::READ_WRITE);
        rig.start(userprog::write_loop);
        let status = rig
            .process
            .zx_vmar_protect(root, ZX_VM_PERM_READ, TARGET, PAGE_SIZE);
        let after_protect = read_u64(&vmo);
        let Some(outcome) = rig.wait() else {
            check("two CPUs: after zx_vmar_protect returns, CPU 1's next store faults (it went on with a stale translation)", false);
            return;
        };
        let at_end = read_u64(&vmo);
        let _ = rig.process.zx_vmar_unmap(root, TARGET, PAGE_SIZE);
        if status == ZX_OK
            && faulted_at_target(outcome, MMUFlags::WRITE, ZX_ERR_ACCESS_DENIED)
            && after_protect == at_end
            && at_end > 0
        {
            good += 1;
        } else if first_bad.is_none() {
            first_bad = Some((status, outcome, after_protect, at_end));
        }
    }
    check_with(
        "two CPUs: after zx_vmar_protect(read-only) returns, CPU 1's next store faults and none lands",
        good == ITERATIONS,
        format_args!("{good} of {ITERATIONS} iterations; first bad {first_bad:?}"),
    );
    let ipis = smp::IPIS_SENT.load(Ordering::SeqCst) - ipis_before;
    check_with(
        "two CPUs: the shootdowns went by IPI",
        ipis >= 2 * ITERATIONS as u64,
        format_args!("{ipis} IPIs"),
    );

    // A space no other CPU has loaded needs no IPI.
    let vmo = rig.new_vmo(OLD);
    user::map_at(&rig.process, &vmo, TARGET, PAGE_SIZE, VmPerms::READ_WRITE);
    let mut byte = [0u8];
    let _ = rig.process.read_memory(TARGET, &mut byte);
    let before = smp::IPIS_SENT.load(Ordering::SeqCst);
    let status = rig.process.zx_vmar_unmap(root, TARGET, PAGE_SIZE);
    check(
        "two CPUs: once its thread left CPU 1, unmapping in the space sends no IPI",
        status == ZX_OK && smp::IPIS_SENT.load(Ordering::SeqCst) == before,
    );
}
