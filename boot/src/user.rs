//! Ring 3: entering user mode, the `syscall` entry into `zircon_syscall`'s
//! dispatch, and user faults routed to the process's address space.
//!
//! A CPU runs a user thread inside [`run`]: `enter_user` saves the kernel's
//! callee-saved registers and stack pointer in the CPU's [`PerCpu`] and `iretq`s
//! to ring 3. The thread comes back to the kernel through `syscall` (served on the
//! CPU's syscall stack, returning with `sysretq`) or a trap (on the TSS stack). A
//! page fault goes to the address space's fault path and, if resolved, the access
//! is retried. The exit call, or a fault the fault path cannot resolve, abandons
//! the user context: `resume_kernel` reloads the saved stack pointer and returns
//! from `enter_user` with the outcome. The offsets 0, 8 and 16 into GS are the
//! first three fields of `arch::PerCpu`.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel_hal::{MMUFlags, VirtAddr, PAGE_SIZE};
use kernel_hal_bare::{BareHal, PageFaultInfo};
use x86_64::registers::model_specific::Msr;
use zircon_object::vm::{MapRequest, Placement, VmObject, VmPerms, VmoOptions};
use zircon_syscall::*;

use crate::arch::{self, TrapFrame, CPUS, KERNEL_CS, USER_CS, USER_SS};

/// The test kernel's own call that ends the calling thread with a code.
pub const SYS_EXIT: u64 = 0x1000;
/// The test kernel's own call that notes an address the thread is about to
/// fault on, so a check can compare it with the fault's.
pub const SYS_EXPECT: u64 = 0x1001;

/// Where the user programs (linker section `.user`) are mapped in every process.
pub const USER_TEXT: VirtAddr = 0x4000_0000;
/// Where each thread's stack is mapped, per CPU number.
const USER_STACK: VirtAddr = 0x5000_0000;
const USER_STACK_SIZE: usize = 16 * PAGE_SIZE;

/// How a user thread came back to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It called [`SYS_EXIT`] with this code.
    Exited(u64),
    /// It took a fault the kernel could not resolve: a #PF the address space's
    /// fault path refused (with that status), or another exception.
    Faulted(Fault),
}

/// An unresolved user fault, as reported to the process.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The exception vector (14 for #PF, 13 for #GP, ...).
    pub vector: u64,
    /// The faulting address (CR2) for a #PF, else the instruction pointer.
    pub addr: u64,
    /// The access kind for a #PF.
    pub access: MMUFlags,
    /// The fault path's status for a #PF, else 0.
    pub status: i32,
    /// What the thread said (through [`SYS_EXPECT`]) it would fault on.
    pub expected: u64,
}

impl core::fmt::Debug for Fault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "vector {} at {:#x} ({:?}, status {}, announced {:#x})",
            self.vector, self.addr, self.access, self.status, self.expected
        )
    }
}

/// The process running on each CPU.
static RUNNING: [spin::Mutex<Option<Arc<Process>>>; 2] =
    [spin::Mutex::new(None), spin::Mutex::new(None)];
/// The fault that ended the run on each CPU.
static FAULTS: [spin::Mutex<Option<Fault>>; 2] = [spin::Mutex::new(None), spin::Mutex::new(None)];
/// The address each CPU's thread announced through [`SYS_EXPECT`].
static EXPECTED: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
/// How many user page faults the fault path resolved, per CPU.
pub static RESOLVED_FAULTS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

const FAULTED: u64 = 1 << 63;

/// Sets this CPU up for `syscall`: the entry point, the selectors (kernel CS at
/// 0x08; user SS and CS from 0x18, as `sysret` computes them) and the flags
/// masked on entry (IF, TF, DF, AC).
pub fn init_cpu() {
    // SAFETY: the entry point is `syscall_entry` below, which switches to this
    // CPU's syscall stack before touching memory; the selectors match the GDT
    // `arch::init_cpu` loaded.
    unsafe {
        Msr::new(0xc000_0081).write((0x10u64 << 48) | ((KERNEL_CS as u64) << 32));
        Msr::new(0xc000_0082).write(syscall_entry as *const () as u64);
        Msr::new(0xc000_0084).write(0x4_0700);
    }
}

/// The registers a syscall arrives with, as `syscall_entry` saves them.
#[repr(C)]
struct SyscallFrame {
    rax: u64,
    rdi: u64,
    rsi: u64,
    rdx: u64,
    r10: u64,
    r8: u64,
    r9: u64,
    r12: u64,
    r13: u64,
}

#[unsafe(naked)]
extern "sysv64" fn syscall_entry() {
    core::arch::naked_asm!(
        "swapgs",
        "mov gs:[8], rsp",
        "mov rsp, gs:[0]",
        "push qword ptr gs:[8]",
        "push r11",
        "push rcx",
        "push r13",
        "push r12",
        "push r9",
        "push r8",
        "push r10",
        "push rdx",
        "push rsi",
        "push rdi",
        "push rax",
        "mov rdi, rsp",
        "call {handler}",
        "cli",
        "add rsp, 8",
        "pop rdi",
        "pop rsi",
        "pop rdx",
        "pop r10",
        "pop r8",
        "pop r9",
        "pop r12",
        "pop r13",
        "pop rcx",
        "pop r11",
        "pop rsp",
        "swapgs",
        "sysretq",
        handler = sym syscall_handler,
    )
}

/// Enters ring 3 at `entry` with stack `stack` and `arg` in RDI; returns when the
/// thread exits or faults (the value `resume_kernel` was given).
#[unsafe(naked)]
extern "sysv64" fn enter_user(entry: u64, stack: u64, arg: u64) -> u64 {
    core::arch::naked_asm!(
        "cli",
        "push rbx",
        "push rbp",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov gs:[16], rsp",
        "push {ss}",
        "push rsi",
        "push 0x202",
        "push {cs}",
        "push rdi",
        "mov rdi, rdx",
        "xor eax, eax",
        "xor ebx, ebx",
        "xor ecx, ecx",
        "xor edx, edx",
        "xor esi, esi",
        "xor ebp, ebp",
        "xor r8d, r8d",
        "xor r9d, r9d",
        "xor r10d, r10d",
        "xor r11d, r11d",
        "xor r12d, r12d",
        "xor r13d, r13d",
        "xor r14d, r14d",
        "xor r15d, r15d",
        "swapgs",
        "iretq",
        ss = const USER_SS as u64,
        cs = const USER_CS as u64,
    )
}

/// Abandons the user context of this CPU and returns `value` from its
/// `enter_user`. Runs with the kernel's GS.
#[unsafe(naked)]
extern "sysv64" fn resume_kernel(value: u64) -> ! {
    core::arch::naked_asm!(
        "mov rsp, gs:[16]",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbp",
        "pop rbx",
        "mov rax, rdi",
        "ret",
    )
}

fn current() -> Arc<Process> {
    RUNNING[arch::cpu_id()]
        .lock()
        .clone()
        .expect("a user thread runs on this CPU")
}

/// Serves a syscall, with interrupts on (so this CPU answers shootdowns while it
/// waits for a lock another CPU holds during one); the entry turns them off again
/// before it restores the user's stack.
extern "sysv64" fn syscall_handler(frame: &mut SyscallFrame) -> i64 {
    x86_64::instructions::interrupts::enable();
    let cpu = arch::cpu_id();
    match frame.rax {
        SYS_EXIT => resume_kernel(frame.rdi & !FAULTED),
        SYS_EXPECT => {
            EXPECTED[cpu].store(frame.rdi, Ordering::SeqCst);
            0
        }
        number => {
            let process = current();
            let args = [
                frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9, frame.r12,
                frame.r13,
            ]
            .map(|a| a as usize);
            let number = u32::try_from(number).unwrap_or(u32::MAX);
            process.dispatch(number, args) as i64
        }
    }
}

/// A trap from ring 3: a page fault goes to the address space's fault path and
/// is retried if resolved; anything unresolved ends the thread as a fault. The
/// fault path runs with interrupts on, for the reason `syscall_handler` gives.
pub fn on_user_trap(frame: &mut TrapFrame) {
    x86_64::instructions::interrupts::enable();
    let cpu = arch::cpu_id();
    let mut fault = Fault {
        vector: frame.vector,
        addr: frame.rip,
        access: MMUFlags::empty(),
        status: 0,
        expected: EXPECTED[cpu].load(Ordering::SeqCst),
    };
    if frame.vector == 14 {
        let addr = x86_64::registers::control::Cr2::read_raw();
        let info = PageFaultInfo::decode(frame.error);
        fault.addr = addr;
        fault.access = info.access;
        if info.is_resolvable() {
            let process = current();
            match process.object().aspace().fault(addr as usize, info.access) {
                Ok(()) => {
                    RESOLVED_FAULTS[cpu].fetch_add(1, Ordering::Relaxed);
                    x86_64::instructions::interrupts::disable();
                    return;
                }
                Err(status) => fault.status = status.into(),
            }
        }
    }
    *FAULTS[cpu].lock() = Some(fault);
    resume_kernel(FAULTED);
}

unsafe extern "C" {
    static _user_load: u8;
    static _user_start: u8;
    static _user_end: u8;
}

/// A VMO holding the user programs, to be mapped at [`USER_TEXT`] in each process.
pub fn user_text(hal: &Arc<BareHal>) -> Arc<VmObject> {
    // SAFETY: linker-script symbols; only their addresses are used, and the bytes
    // from `_user_load` on are the image's copy of the `.user` section.
    let (load, len) = unsafe {
        let start = &_user_start as *const u8 as usize;
        let end = &_user_end as *const u8 as usize;
        (&_user_load as *const u8, end - start)
    };
    // SAFETY: the `.user` section's load image lies in the kernel's read-only data
    // mapping, `len` bytes long.
    let bytes = unsafe { core::slice::from_raw_parts(load, len) };
    let hal: Arc<dyn kernel_hal::Hal> = hal.clone();
    let vmo = VmObject::new(hal, len as u64, VmoOptions::empty()).expect("a VMO for the user text");
    vmo.write(0, bytes).expect("user text copied");
    vmo
}

/// Maps `vmo` at `addr` in `process` with `options` (permissions), using the
/// object layer directly (the kernel sets processes up before they run).
pub fn map_at(process: &Process, vmo: &Arc<VmObject>, addr: VirtAddr, len: usize, perms: VmPerms) {
    let root = process.object().root_vmar();
    let request = MapRequest {
        placement: Placement::At(addr - root.addr()),
        ..MapRequest::new(0, len, perms)
    };
    root.map(vmo, &request)
        .expect("a fixed mapping in a fresh process");
}

/// A new process on `hal` with the user programs at [`USER_TEXT`] and a stack
/// for each CPU.
pub fn new_process(hal: &Arc<BareHal>, text: &Arc<VmObject>) -> Arc<Process> {
    let dyn_hal: Arc<dyn kernel_hal::Hal> = hal.clone();
    let process = Arc::new(Process::new(dyn_hal.clone()).expect("a process"));
    map_at(
        &process,
        text,
        USER_TEXT,
        text.size(),
        VmPerms::READ | VmPerms::EXECUTE,
    );
    for cpu in 0..CPUS.len() {
        let stack = VmObject::new(dyn_hal.clone(), USER_STACK_SIZE as u64, VmoOptions::empty())
            .expect("a stack");
        map_at(
            &process,
            &stack,
            stack_top(cpu) - USER_STACK_SIZE,
            USER_STACK_SIZE,
            VmPerms::READ_WRITE,
        );
    }
    process
}

fn stack_top(cpu: usize) -> VirtAddr {
    USER_STACK + (cpu + 1) * 2 * USER_STACK_SIZE
}

/// Runs `program(arg)` in ring 3 in `process` on this CPU until it exits or
/// faults. The process's address space is loaded for the run and the kernel
/// space again after it.
pub fn run(
    hal: &BareHal,
    process: &Arc<Process>,
    program: extern "sysv64" fn(u64) -> !,
    arg: u64,
) -> Outcome {
    let cpu = arch::cpu_id();
    let aspace = process.object().aspace().clone();
    *RUNNING[cpu].lock() = Some(process.clone());
    *FAULTS[cpu].lock() = None;
    EXPECTED[cpu].store(0, Ordering::SeqCst);
    aspace.page_table().activate(cpu);
    let entry = program as *const () as u64;
    // The stack pointer as a `call` would leave it: 8 below a 16-byte boundary.
    let result = enter_user(entry, stack_top(cpu) as u64 - 8, arg);
    x86_64::instructions::interrupts::disable();
    // SAFETY: the kernel space maps all the kernel uses, as every user space does.
    unsafe { hal.kernel_space().activate(cpu) };
    aspace.page_table().deactivate(cpu);
    *RUNNING[cpu].lock() = None;
    if result & FAULTED != 0 {
        Outcome::Faulted(FAULTS[cpu].lock().take().expect("a fault was recorded"))
    } else {
        Outcome::Exited(result)
    }
}
