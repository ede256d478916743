//! The CPU's tables and trap entry: one GDT and TSS per CPU, one IDT, and the
//! naked entry stubs that save every register into a [`TrapFrame`] and call
//! [`trap`]. Kernel-mode faults are fatal unless they hit one of the probes below,
//! which let a check ask "does this access fault?" and get an answer.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};

/// Selectors of the GDT every CPU loads. The order of the user entries is the
/// one `sysret` needs (data below code).
pub const KERNEL_CS: u16 = 0x08;
/// The kernel's data and stack selector.
pub const KERNEL_SS: u16 = 0x10;
/// The user data and stack selector (RPL 3).
#[allow(dead_code)] // used from ring-3 entry
pub const USER_SS: u16 = 0x18 | 3;
/// The user code selector (RPL 3).
#[allow(dead_code)] // used from ring-3 entry
pub const USER_CS: u16 = 0x20 | 3;
const TSS_SEL: u16 = 0x28;

/// The vector of the TLB-shootdown IPI.
pub const SHOOTDOWN_VECTOR: u8 = 0xf0;
/// The local APIC's spurious-interrupt vector.
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// Every register at the moment of a trap, as the entry stub leaves it on the
/// stack: the general registers it pushes, then the vector and error code, then
/// what the CPU pushed.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
#[allow(missing_docs)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// The 64-bit TSS: the stack for traps from ring 3 and the double-fault stack.
#[repr(C, packed(4))]
struct Tss {
    _reserved0: u32,
    rsp: [u64; 3],
    _reserved1: u64,
    ist: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    iomap_base: u16,
}

const STACK_SIZE: usize = 64 * 1024;

/// What one CPU owns. The first four words are read by the assembly in `user.rs`
/// at fixed offsets (through GS once `swapgs` has run), so their order is fixed.
#[repr(C, align(16))]
pub struct PerCpu {
    /// Top of the stack that `syscall` switches to (offset 0).
    pub syscall_stack: UnsafeCell<u64>,
    /// The user's stack pointer while a syscall runs (offset 8).
    pub user_rsp: UnsafeCell<u64>,
    /// The kernel stack pointer saved by `enter_user`, to which a user exit or a
    /// fatal user fault returns (offset 16).
    pub resume_rsp: UnsafeCell<u64>,
    /// This CPU's number (offset 24).
    pub id: u64,
    gdt: UnsafeCell<[u64; 7]>,
    tss: UnsafeCell<Tss>,
    trap_stack: UnsafeCell<[u8; STACK_SIZE]>,
    double_fault_stack: UnsafeCell<[u8; 16 * 1024]>,
    /// The last vector and error code a probe or a user fault met, for checks.
    pub last_fault: AtomicU64,
}

// SAFETY: each CPU touches only its own entry's cells (CPU n uses CPUS[n]), and
// only with interrupts disabled or from its own trap handlers.
unsafe impl Sync for PerCpu {}

impl PerCpu {
    const fn new(id: u64) -> PerCpu {
        PerCpu {
            syscall_stack: UnsafeCell::new(0),
            user_rsp: UnsafeCell::new(0),
            resume_rsp: UnsafeCell::new(0),
            id,
            gdt: UnsafeCell::new([0; 7]),
            tss: UnsafeCell::new(Tss {
                _reserved0: 0,
                rsp: [0; 3],
                _reserved1: 0,
                ist: [0; 7],
                _reserved2: 0,
                _reserved3: 0,
                iomap_base: 104,
            }),
            trap_stack: UnsafeCell::new([0; STACK_SIZE]),
            double_fault_stack: UnsafeCell::new([0; 16 * 1024]),
            last_fault: AtomicU64::new(0),
        }
    }
}

/// The CPUs this kernel runs (the boot CPU is 0).
pub static CPUS: [PerCpu; 2] = [PerCpu::new(0), PerCpu::new(1)];

/// One interrupt gate.
#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    attributes: u8,
    offset_mid: u16,
    offset_high: u32,
    _reserved: u32,
}

#[repr(C, align(16))]
struct Idt(UnsafeCell<[Gate; 256]>);

// SAFETY: written once by the boot CPU before any CPU loads it, then only read
// (by the hardware).
unsafe impl Sync for Idt {}

static IDT: Idt = Idt(UnsafeCell::new(
    [Gate {
        offset_low: 0,
        selector: 0,
        ist: 0,
        attributes: 0,
        offset_mid: 0,
        offset_high: 0,
        _reserved: 0,
    }; 256],
));

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

macro_rules! stub {
    ($name:ident, $vector:literal) => {
        #[unsafe(naked)]
        extern "sysv64" fn $name() {
            core::arch::naked_asm!(
                "push 0",
                "push {vector}",
                "jmp {common}",
                vector = const $vector,
                common = sym trap_common,
            )
        }
    };
    ($name:ident, $vector:literal, error) => {
        #[unsafe(naked)]
        extern "sysv64" fn $name() {
            core::arch::naked_asm!(
                "push {vector}",
                "jmp {common}",
                vector = const $vector,
                common = sym trap_common,
            )
        }
    };
}

stub!(vector_de, 0);
stub!(vector_bp, 3);
stub!(vector_ud, 6);
stub!(vector_nm, 7);
stub!(vector_df, 8, error);
stub!(vector_ts, 10, error);
stub!(vector_np, 11, error);
stub!(vector_ss, 12, error);
stub!(vector_gp, 13, error);
stub!(vector_pf, 14, error);
stub!(vector_mf, 16);
stub!(vector_ac, 17, error);
stub!(vector_xm, 19);
stub!(vector_shootdown, 0xf0);
stub!(vector_spurious, 0xff);

/// Saves the general registers, switches GS to the kernel's if the trap came from
/// ring 3, calls [`trap`], and undoes both.
#[unsafe(naked)]
extern "sysv64" fn trap_common() {
    core::arch::naked_asm!(
        "test qword ptr [rsp + 24], 3",
        "jz 2f",
        "swapgs",
        "2:",
        "push rax",
        "push rbx",
        "push rcx",
        "push rdx",
        "push rsi",
        "push rdi",
        "push rbp",
        "push r8",
        "push r9",
        "push r10",
        "push r11",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov rdi, rsp",
        "call {trap}",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop r11",
        "pop r10",
        "pop r9",
        "pop r8",
        "pop rbp",
        "pop rdi",
        "pop rsi",
        "pop rdx",
        "pop rcx",
        "pop rbx",
        "pop rax",
        "test qword ptr [rsp + 24], 3",
        "jz 3f",
        "swapgs",
        "3:",
        "add rsp, 16",
        "iretq",
        trap = sym trap,
    )
}

// Probes: instructions at known addresses whose faults `trap` turns into a
// return value of 1 instead of a crash.
core::arch::global_asm!(
    r#"
    .text
    .global probe_read
probe_read:
probe_read_insn:
    mov al, byte ptr [rdi]
    xor eax, eax
    ret
    .global probe_write
probe_write:
probe_write_insn:
    mov byte ptr [rdi], sil
    xor eax, eax
    ret
    .global probe_rw
probe_rw:
probe_rw_read:
    mov al, byte ptr [rdi]
probe_rw_write:
    mov byte ptr [rdi], al
    xor eax, eax
    ret
    .global probe_exec
probe_exec:
    call rdi
probe_exec_after:
    xor eax, eax
    ret
    .global probe_ud
probe_ud:
probe_ud_insn:
    ud2
    xor eax, eax
    ret
probe_fixup:
    mov eax, 1
    ret
"#
);

unsafe extern "sysv64" {
    /// Reads the byte at `addr`; 0 if that worked, 1 if it faulted.
    pub fn probe_read(addr: usize) -> u64;
    /// Writes `value` at `addr`; 0 if that worked, 1 if it faulted.
    pub fn probe_write(addr: usize, value: u8) -> u64;
    /// Reads the byte at `addr` and writes it back; 0 if that worked, 1 if either
    /// access faulted.
    pub fn probe_rw(addr: usize) -> u64;
    /// Calls `addr`, which must hold a `ret`; 0 if that worked, 1 if it faulted.
    pub fn probe_exec(addr: usize) -> u64;
    /// Executes `ud2`; 1 if the #UD handler ran.
    pub fn probe_ud() -> u64;
    static probe_read_insn: u8;
    static probe_write_insn: u8;
    static probe_rw_read: u8;
    static probe_rw_write: u8;
    static probe_exec_after: u8;
    static probe_ud_insn: u8;
    static probe_fixup: u8;
}

fn addr_of_symbol(symbol: &'static u8) -> u64 {
    symbol as *const u8 as u64
}

/// The vector of a fault as `last_fault` stores it: `vector << 32 | error code`.
pub fn fault_word(vector: u64, error: u64) -> u64 {
    vector << 32 | (error & 0xffff_ffff)
}

/// Turns a fault at one of the probes into a return of 1; whether it did.
fn fix_up_probe(frame: &mut TrapFrame) -> bool {
    // SAFETY: these are labels in the probe code above; only their addresses are used.
    let (read, write, exec_after, ud, fixup, rw_read, rw_write) = unsafe {
        (
            addr_of_symbol(&probe_read_insn),
            addr_of_symbol(&probe_write_insn),
            addr_of_symbol(&probe_exec_after),
            addr_of_symbol(&probe_ud_insn),
            addr_of_symbol(&probe_fixup),
            addr_of_symbol(&probe_rw_read),
            addr_of_symbol(&probe_rw_write),
        )
    };
    if [read, write, ud, rw_read, rw_write].contains(&frame.rip) {
        frame.rip = fixup;
        return true;
    }
    if frame.vector == 14 && frame.error & 0x10 != 0 {
        // An instruction fetch: the probe's `call` left its return address on top.
        // SAFETY: `frame.rsp` is the kernel stack of the interrupted code, mapped.
        let ret = unsafe { *(frame.rsp as *const u64) };
        if ret == exec_after {
            frame.rip = fixup;
            frame.rsp += 8;
            return true;
        }
    }
    false
}

/// The number of the CPU running this code.
pub fn cpu_id() -> usize {
    let apic_id = core::arch::x86_64::__cpuid(1).ebx >> 24;
    apic_id as usize
}

/// This CPU's entry of [`CPUS`].
pub fn this_cpu() -> &'static PerCpu {
    &CPUS[cpu_id()]
}

/// The Rust side of every trap.
extern "sysv64" fn trap(frame: &mut TrapFrame) {
    let cpu = this_cpu();
    let vector = frame.vector;
    match vector {
        v if v == SHOOTDOWN_VECTOR as u64 => crate::smp::on_shootdown_ipi(),
        v if v == SPURIOUS_VECTOR as u64 => {}
        _ if frame.cs & 3 == 3 => crate::user::on_user_trap(frame),
        6 | 13 | 14 if fix_up_probe(frame) => {
            cpu.last_fault
                .store(fault_word(vector, frame.error), Ordering::SeqCst);
        }
        _ => {
            let cr2 = x86_64::registers::control::Cr2::read_raw();
            crate::println!(
                "FATAL: CPU {} vector {} error {:#x} at rip {:#x} (cr2 {:#x})",
                cpu.id,
                frame.vector,
                frame.error,
                frame.rip,
                cr2
            );
            crate::serial::exit(false);
        }
    }
}

fn set_gate(vector: usize, handler: extern "sysv64" fn(), ist: u8) {
    let addr = handler as usize as u64;
    // SAFETY: only the boot CPU writes the IDT, before any CPU loads it.
    let idt = unsafe { &mut *IDT.0.get() };
    idt[vector] = Gate {
        offset_low: addr as u16,
        selector: KERNEL_CS,
        ist,
        attributes: 0x8e,
        offset_mid: (addr >> 16) as u16,
        offset_high: (addr >> 32) as u32,
        _reserved: 0,
    };
}

/// Moves the legacy 8259 PICs' vectors away from the exceptions (to 0x20-0x2f)
/// and masks every line: this kernel takes no device interrupts, and the PIT's
/// IRQ 0 would otherwise arrive as vector 8, a "double fault".
pub fn disable_pic() {
    let writes: [(u16, u8); 10] = [
        (0x20, 0x11),
        (0xa0, 0x11),
        (0x21, 0x20),
        (0xa1, 0x28),
        (0x21, 4),
        (0xa1, 2),
        (0x21, 1),
        (0xa1, 1),
        (0x21, 0xff),
        (0xa1, 0xff),
    ];
    for (port, value) in writes {
        // SAFETY: the PICs' command and data ports; this only reprograms and masks them.
        unsafe { x86_64::instructions::port::Port::<u8>::new(port).write(value) };
    }
}

/// Fills the IDT (boot CPU, once).
// One `set_gate` line per vector: a table written as calls, alike by nature.
pub fn init_idt() {
    set_gate(0, vector_de, 0);
    set_gate(3, vector_bp, 0);
    set_gate(6, vector_ud, 0);
    set_gate(7, vector_nm, 0);
    set_gate(8, vector_df, 1);
    set_gate(10, vector_ts, 0);
    set_gate(11, vector_np, 0);
    set_gate(12, vector_ss, 0);
    set_gate(13, vector_gp, 0);
    set_gate(14, vector_pf, 0);
    set_gate(16, vector_mf, 0);
    set_gate(17, vector_ac, 0);
    set_gate(19, vector_xm, 0);
    set_gate(SHOOTDOWN_VECTOR as usize, vector_shootdown, 0);
    set_gate(SPURIOUS_VECTOR as usize, vector_spurious, 0);
}

/// Loads this CPU's GDT, TSS and the IDT, and points GS at its [`PerCpu`].
pub fn init_cpu(id: usize) {
    let cpu = &CPUS[id];
    // SAFETY: only CPU `id` touches its own entry, and it does so here before it
    // loads the tables.
    let (gdt, tss) = unsafe { (&mut *cpu.gdt.get(), &mut *cpu.tss.get()) };
    let trap_top = cpu.trap_stack.get() as u64 + STACK_SIZE as u64;
    let df_top = cpu.double_fault_stack.get() as u64 + 16 * 1024;
    tss.rsp[0] = trap_top;
    tss.ist[0] = df_top;
    // SAFETY: as above.
    unsafe { *cpu.syscall_stack.get() = trap_top };
    let base = tss as *mut Tss as u64;
    let limit = (core::mem::size_of::<Tss>() - 1) as u64;
    *gdt = [
        0,
        0x00af_9a00_0000_ffff,
        0x00cf_9200_0000_ffff,
        0x00cf_f200_0000_ffff,
        0x00af_fa00_0000_ffff,
        (limit & 0xffff)
            | (base & 0xff_ffff) << 16
            | 0x89 << 40
            | ((limit >> 16) & 0xf) << 48
            | ((base >> 24) & 0xff) << 56,
        base >> 32,
    ];
    let gdt_ptr = DescriptorPointer {
        limit: (7 * 8 - 1) as u16,
        base: gdt.as_ptr() as u64,
    };
    let idt_ptr = DescriptorPointer {
        limit: (256 * 16 - 1) as u16,
        base: IDT.0.get() as u64,
    };
    // SAFETY: the GDT and IDT are statics that live forever; the GDT's kernel code
    // and data entries are at the selectors reloaded here, so execution continues
    // in the same flat 64-bit segments; the TSS descriptor is available (type 9).
    unsafe {
        core::arch::asm!(
            "lgdt [{gdt}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov {tmp:e}, {ss}",
            "mov ss, {tmp:e}",
            "mov ds, {tmp:e}",
            "mov es, {tmp:e}",
            "ltr {tss:x}",
            "lidt [{idt}]",
            gdt = in(reg) &gdt_ptr,
            idt = in(reg) &idt_ptr,
            cs = const KERNEL_CS as u64,
            ss = const KERNEL_SS as u32,
            tss = in(reg) TSS_SEL,
            tmp = out(reg) _,
        );
    }
    // GS points at this CPU's entry while in the kernel; `swapgs` trades it for
    // the user's (zero) on every crossing.
    // SAFETY: writing the GS base MSRs changes only what GS-relative accesses reach;
    // nothing in Rust code uses GS.
    unsafe {
        x86_64::registers::model_specific::Msr::new(0xc000_0101).write(cpu as *const PerCpu as u64);
        x86_64::registers::model_specific::Msr::new(0xc000_0102).write(0);
    }
}
