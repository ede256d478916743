//! A test kernel: boots under QEMU (multiboot, `-kernel`), builds its world from
//! the project's crates exactly as an embedder would, and prints named checks
//! ending in `N passed, N failed`; QEMU's exit status says pass or fail
//! (`boot/run.sh`).

#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod checks;
mod figures;
mod guest_tests;
mod memory;
mod ring3;
mod serial;
mod shootdown;
mod smp;
mod start;
mod user;
mod userprog;

use alloc::sync::Arc;
use checks::{check, check_with};
use kernel_hal::{PageTable, PhysMem};
use kernel_hal_bare::{BareHal, KERNEL_BASE};

/// The 64-bit entry, called by `start.rs` with the physical address of the
/// multiboot information.
pub extern "sysv64" fn kernel_main(mbi: u32) -> ! {
    serial::init();
    println!("zircon-boot: the kernel objects on a real MMU");
    let map = memory::MemoryMap::from_multiboot(mbi as usize);
    memory::init_heap();
    arch::disable_pic();
    arch::init_idt();
    arch::init_cpu(0);
    kernel_hal_bare::cpu::enable_nx();
    let hal = memory::build_machine(&map, Arc::new(smp::IpiTlb));
    boot_checks(&map, &hal);
    guest_tests::run(&hal);
    ring3::run(&hal);
    let online = smp::start_cpu1(&hal);
    check(
        "CPU 1 started (INIT-SIPI-SIPI) and runs on the kernel's root",
        online,
    );
    if online {
        shootdown::run(&hal);
    }
    checks::finish();
}

fn boot_checks(map: &memory::MemoryMap, hal: &Arc<BareHal>) {
    let frames = hal.total_count();
    check_with(
        "memory map: usable RAM goes to kernel-hal-bare's frame allocator",
        map.count > 0 && frames * 4096 > 400 << 20,
        format_args!(
            "{} ranges, {} MiB of frames",
            map.count,
            (frames * 4096) >> 20
        ),
    );
    check(
        "CR3 holds the root kernel-hal-bare built",
        kernel_hal_bare::cpu::current_root() == hal.kernel_space().root(),
    );
    check("EFER.NXE is set", kernel_hal_bare::cpu::nx_enabled());
    // SAFETY: reading the PAT MSR has no side effect.
    let pat = unsafe { x86_64::registers::model_specific::Msr::new(0x277).read() };
    check(
        "the PAT holds the value kernel-hal-bare's cache bits assume",
        pat == kernel_hal_bare::PAT_MSR_VALUE,
    );
    let direct = hal.kernel_space().query(KERNEL_BASE + (1 << 30));
    check_with(
        "the direct map uses the largest pages the CPU allows",
        direct.is_ok_and(|t| {
            t.page_size
                == if kernel_hal_bare::cpu::has_1g_pages() {
                    kernel_hal::PageSize::Size1G
                } else {
                    kernel_hal::PageSize::Size2M
                }
        }),
        format_args!("{:?}", direct.map(|t| t.page_size)),
    );
    // SAFETY: the probes only read, write or run at the given address, and turn a
    // fault there into a result.
    unsafe {
        check(
            "the boot identity map is gone (a read of 1 MiB faults)",
            arch::probe_read(0x10_0000) == 1,
        );
        check(
            "the direct map reaches RAM",
            arch::probe_read(KERNEL_BASE + 0x10_0000) == 0,
        );
        let text = kernel_main as *const () as usize;
        check("kernel text is read-only", arch::probe_write(text, 0) == 1);
        let word = arch::this_cpu()
            .last_fault
            .load(core::sync::atomic::Ordering::SeqCst);
        let info = kernel_hal_bare::PageFaultInfo::decode(word & 0xffff_ffff);
        check(
            "the #PF error code decodes to a present, supervisor write",
            word >> 32 == 14
                && info.access == kernel_hal::MMUFlags::WRITE
                && info.present
                && !info.user,
        );
        static RET: [u8; 1] = [0xc3];
        static mut DATA_RET: [u8; 1] = [0xc3];
        check(
            "read-only data cannot be executed (NX)",
            arch::probe_exec(RET.as_ptr() as usize) == 1,
        );
        check(
            "writable data cannot be executed (NX)",
            arch::probe_exec(core::ptr::addr_of!(DATA_RET) as usize) == 1,
        );
        check(
            "a non-canonical read raises #GP through our IDT",
            arch::probe_read(0x8000_0000_0000_0000) == 1
                && arch::this_cpu()
                    .last_fault
                    .load(core::sync::atomic::Ordering::SeqCst)
                    >> 32
                    == 13,
        );
        check("ud2 raises #UD through our IDT", arch::probe_ud() == 1);
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    println!("PANIC: {info}");
    serial::exit(false);
}
