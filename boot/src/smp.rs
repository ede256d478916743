//! The second CPU and TLB shootdown by IPI.
//!
//! The boot CPU starts CPU 1 with INIT-SIPI-SIPI: CPU 1 wakes in real mode at a
//! trampoline copied to physical 0x8000, climbs to long mode on the boot tables
//! (which still identity-map low memory), then loads the kernel space's root and
//! its own GDT, TSS and IDT, and waits for jobs.
//!
//! [`IpiTlb`] is the machine's `TlbShootdown` hook: it invalidates on this CPU if
//! the address space is loaded here, and for every other CPU in the address
//! space's CPU set it posts the addresses, sends an IPI and waits for the
//! acknowledgement, so that when a page-table operation returns no CPU can still
//! use the old translation. A CPU waiting for an acknowledgement serves requests
//! posted to itself meanwhile, so two CPUs shooting at each other never deadlock.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use kernel_hal::{PhysAddr, VirtAddr};
use kernel_hal_bare::{BareHal, CpuSet, TlbShootdown, FLUSH_PAGE_LIMIT, KERNEL_BASE};

use crate::arch::{self, SHOOTDOWN_VECTOR, SPURIOUS_VECTOR};

const APIC_BASE: usize = 0xfee0_0000;
const TRAMPOLINE: usize = 0x8000;

fn apic_reg(offset: usize) -> *mut u32 {
    (KERNEL_BASE + APIC_BASE + offset) as *mut u32
}

fn apic_write(offset: usize, value: u32) {
    // SAFETY: the local APIC's registers, mapped uncached in the direct map.
    unsafe { core::ptr::write_volatile(apic_reg(offset), value) };
}

fn apic_read(offset: usize) -> u32 {
    // SAFETY: as in `apic_write`.
    unsafe { core::ptr::read_volatile(apic_reg(offset)) }
}

/// Enables this CPU's local APIC (spurious vector, software enable).
pub fn enable_apic() {
    apic_write(0xf0, 0x100 | SPURIOUS_VECTOR as u32);
}

fn send_ipi(apic_id: u32, command: u32) {
    apic_write(0x310, apic_id << 24);
    apic_write(0x300, command);
    while apic_read(0x300) & (1 << 12) != 0 {
        core::hint::spin_loop();
    }
}

/// Which CPUs are running (bit per CPU).
static ONLINE: AtomicU64 = AtomicU64::new(1);

/// One CPU's shootdown mailbox: `count` addresses in `addrs`, or `ALL`.
struct Mailbox {
    pending: AtomicBool,
    count: AtomicUsize,
    addrs: [AtomicUsize; FLUSH_PAGE_LIMIT],
}

const ALL: usize = usize::MAX;

impl Mailbox {
    const fn new() -> Mailbox {
        Mailbox {
            pending: AtomicBool::new(false),
            count: AtomicUsize::new(0),
            addrs: [const { AtomicUsize::new(0) }; FLUSH_PAGE_LIMIT],
        }
    }
}

static MAILBOXES: [Mailbox; 2] = [Mailbox::new(), Mailbox::new()];
/// Serialises senders: one shootdown in flight at a time.
static SENDING: spin::Mutex<()> = spin::Mutex::new(());
/// Shootdown IPIs sent, and requests served, in all.
pub static IPIS_SENT: AtomicU64 = AtomicU64::new(0);

/// Serves a request posted to this CPU, if any.
fn serve_mailbox() {
    let cpu = arch::cpu_id();
    let mailbox = &MAILBOXES[cpu];
    if !mailbox.pending.load(Ordering::Acquire) {
        return;
    }
    let count = mailbox.count.load(Ordering::Relaxed);
    if count == ALL {
        x86_64::instructions::tlb::flush_all();
    } else {
        for slot in &mailbox.addrs[..count] {
            let addr = slot.load(Ordering::Relaxed) as u64;
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new_truncate(addr));
        }
    }
    mailbox.pending.store(false, Ordering::Release);
}

/// Runs on a CPU that received the shootdown IPI.
pub fn on_shootdown_ipi() {
    serve_mailbox();
    apic_write(0xb0, 0);
}

/// The machine's shootdown hook (see the module doc).
#[derive(Debug, Default)]
pub struct IpiTlb;

impl IpiTlb {
    fn shoot(&self, cpus: CpuSet, addrs: Option<&[VirtAddr]>) {
        let me = arch::cpu_id();
        if cpus.contains(me) {
            match addrs {
                None => x86_64::instructions::tlb::flush_all(),
                Some(addrs) => {
                    for &addr in addrs {
                        x86_64::instructions::tlb::flush(x86_64::VirtAddr::new_truncate(
                            addr as u64,
                        ));
                    }
                }
            }
        }
        let online = CpuSet(ONLINE.load(Ordering::SeqCst));
        let targets = CpuSet(cpus.0 & online.0).without(me);
        if targets.is_empty() {
            return;
        }
        let guard = loop {
            if let Some(guard) = SENDING.try_lock() {
                break guard;
            }
            serve_mailbox();
            core::hint::spin_loop();
        };
        for (cpu, mailbox) in MAILBOXES.iter().enumerate() {
            if !targets.contains(cpu) {
                continue;
            }
            match addrs {
                None => mailbox.count.store(ALL, Ordering::Relaxed),
                Some(addrs) => {
                    for (slot, &addr) in mailbox.addrs.iter().zip(addrs) {
                        slot.store(addr, Ordering::Relaxed);
                    }
                    mailbox.count.store(addrs.len(), Ordering::Relaxed);
                }
            }
            mailbox.pending.store(true, Ordering::Release);
            IPIS_SENT.fetch_add(1, Ordering::Relaxed);
            send_ipi(cpu as u32, 0x4000 | SHOOTDOWN_VECTOR as u32);
            while mailbox.pending.load(Ordering::Acquire) {
                serve_mailbox();
                core::hint::spin_loop();
            }
        }
        drop(guard);
    }
}

impl TlbShootdown for IpiTlb {
    fn flush_pages(&self, root: PhysAddr, addrs: &[VirtAddr]) {
        self.flush_pages_on(root, CpuSet::ALL, addrs);
    }

    fn flush_all(&self, root: PhysAddr) {
        self.flush_all_on(root, CpuSet::ALL);
    }

    fn flush_pages_on(&self, _root: PhysAddr, cpus: CpuSet, addrs: &[VirtAddr]) {
        self.shoot(cpus, Some(addrs));
    }

    fn flush_all_on(&self, _root: PhysAddr, cpus: CpuSet) {
        self.shoot(cpus, None);
    }
}

// The AP trampoline, copied to TRAMPOLINE: real mode -> protected mode -> long
// mode on the boot page tables -> `ap_entry64` on the stack the boot CPU left
// in `ap_stack`.
core::arch::global_asm!(
    r#"
    .section .rodata.ap_trampoline, "a"
    .code16
    .global ap_trampoline
ap_trampoline:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl (ap_gdt_ptr - ap_trampoline + 0x8000)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $(ap_protected - ap_trampoline + 0x8000)
    .code32
ap_protected:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    rdmsr
    orl $0x101, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax
    movl %eax, %cr0
    ljmpl $0x18, $(ap_long - ap_trampoline + 0x8000)
    .code64
ap_long:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq (ap_stack - ap_trampoline + 0x8000), %rsp
    movabsq ${entry}, %rax
    callq *%rax
    ud2
    .align 8
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff
    .quad 0x00cf92000000ffff
    .quad 0x00af9a000000ffff
ap_gdt_ptr:
    .word 31
    .long ap_gdt - ap_trampoline + 0x8000
    .align 8
    .global ap_stack
ap_stack:
    .quad 0
    .global ap_trampoline_end
ap_trampoline_end:
    .text
"#,
    entry = sym ap_entry,
    options(att_syntax)
);

unsafe extern "C" {
    static ap_trampoline: u8;
    static ap_stack: u8;
    static ap_trampoline_end: u8;
}

static MACHINE: spin::Once<Arc<BareHal>> = spin::Once::new();

#[repr(C, align(16))]
struct ApStack([u8; 64 * 1024]);
static mut AP_STACK: ApStack = ApStack([0; 64 * 1024]);

type Job = Box<dyn FnOnce() + Send>;
static JOB: spin::Mutex<Option<Job>> = spin::Mutex::new(None);

extern "sysv64" fn ap_entry() -> ! {
    let hal = MACHINE.get().expect("set before CPU 1 starts");
    kernel_hal_bare::cpu::enable_nx();
    kernel_hal_bare::cpu::program_pat();
    // SAFETY: the kernel space maps the kernel where the boot tables do, in the
    // upper half; this CPU runs there.
    unsafe { hal.kernel_space().activate(1) };
    arch::init_cpu(1);
    enable_apic();
    crate::user::init_cpu();
    ONLINE.fetch_or(1 << 1, Ordering::SeqCst);
    loop {
        x86_64::instructions::interrupts::enable();
        let job = JOB.lock().take();
        match job {
            Some(job) => job(),
            None => core::hint::spin_loop(),
        }
    }
}

/// Starts CPU 1; returns whether it came online.
pub fn start_cpu1(hal: &Arc<BareHal>) -> bool {
    MACHINE.call_once(|| hal.clone());
    enable_apic();
    // SAFETY: the trampoline's bytes are in the kernel's read-only data; physical
    // 0x8000 is low RAM that no allocator hands out (everything below the kernel
    // image is left out) and that the direct map reaches. The stack pointer goes
    // into the copy's `ap_stack` slot.
    unsafe {
        let start = &ap_trampoline as *const u8;
        let len = &ap_trampoline_end as *const u8 as usize - start as usize;
        let dst = (KERNEL_BASE + TRAMPOLINE) as *mut u8;
        core::ptr::copy_nonoverlapping(start, dst, len);
        let slot = &ap_stack as *const u8 as usize - start as usize;
        let top = core::ptr::addr_of_mut!(AP_STACK) as usize + 64 * 1024;
        core::ptr::write_volatile(dst.add(slot) as *mut u64, top as u64);
    }
    send_ipi(1, 0x4500);
    delay(100_000);
    for _ in 0..2 {
        send_ipi(1, 0x4600 | (TRAMPOLINE >> 12) as u32);
        delay(10_000);
    }
    let start = rdtsc();
    while ONLINE.load(Ordering::SeqCst) & 2 == 0 {
        if rdtsc() - start > 20_000_000_000 {
            return false;
        }
        core::hint::spin_loop();
    }
    true
}

fn rdtsc() -> u64 {
    // SAFETY: reads the time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

fn delay(cycles: u64) {
    let start = rdtsc();
    while rdtsc() - start < cycles {
        core::hint::spin_loop();
    }
}

/// Runs `job` on CPU 1 (which must be online and idle) without waiting.
pub fn post(job: Job) {
    *JOB.lock() = Some(job);
}
