//! What an embedder on a real x86_64 CPU needs from the hardware before the page
//! tables of this crate can be loaded: no-execute enabled (every leaf without
//! `EXECUTE` has bit 63 set, which is a reserved bit and faults while `EFER.NXE`
//! is clear), the PAT programmed as [`crate::PAT_MSR_VALUE`] says, and CR3 loaded.
//!
//! Everything here but [`has_1g_pages`] exists only on bare-metal x86_64 targets
//! (`target_os = "none"` or `"uefi"`); elsewhere it does not compile, because it
//! could not work. The same holds for `LocalTlb`, the one-CPU shootdown hook: on
//! a host, where it could only do nothing, naming it is an error:
//!
//! ```compile_fail
//! let _hook = kernel_hal_bare::LocalTlb;
//! ```
//!
//! ```compile_fail
//! kernel_hal_bare::cpu::enable_nx();
//! ```

/// Whether the CPU supports 1 GiB pages (CPUID `pdpe1gb`); without them the
/// embedder calls [`crate::BareHal::set_huge_1g`] with `false`.
#[cfg(target_arch = "x86_64")]
pub fn has_1g_pages() -> bool {
    let extended = core::arch::x86_64::__cpuid(0x8000_0000).eax;
    extended >= 0x8000_0001 && core::arch::x86_64::__cpuid(0x8000_0001).edx & (1 << 26) != 0
}

#[cfg(all(target_arch = "x86_64", any(target_os = "none", target_os = "uefi")))]
mod bare {
    use x86_64::registers::model_specific::{Efer, EferFlags, Msr};

    /// Sets `EFER.NXE`, so that leaves without `EXECUTE` (bit 63 set) are valid and
    /// refuse instruction fetches. Call it on every CPU before loading a table of
    /// this crate.
    pub fn enable_nx() {
        // SAFETY: NXE only gives bit 63 of page-table entries its meaning; no
        // table loaded before sets that bit (it would have faulted as reserved).
        unsafe { Efer::update(|flags| flags.insert(EferFlags::NO_EXECUTE_ENABLE)) };
    }

    /// Whether `EFER.NXE` is set on this CPU.
    pub fn nx_enabled() -> bool {
        Efer::read().contains(EferFlags::NO_EXECUTE_ENABLE)
    }

    /// Programs this CPU's PAT with [`crate::PAT_MSR_VALUE`], so the cache bits this
    /// crate writes mean the policies it says. Call it on every CPU.
    pub fn program_pat() {
        // SAFETY: the value keeps index 0 write-back and 3 uncacheable (as at power
        // on), so translations made before keep their meaning.
        unsafe { Msr::new(0x277).write(crate::PAT_MSR_VALUE) };
    }

    /// Loads CR3 with the top-level table at `root` (no PCID), which also drops
    /// every cached non-global translation of this CPU.
    ///
    /// # Safety
    ///
    /// `root` must be a valid PML4 that maps the running code, its stack and every
    /// kernel datum in use at the same addresses as the table loaded now.
    pub unsafe fn load_root(root: kernel_hal::PhysAddr) {
        use x86_64::registers::control::{Cr3, Cr3Flags};
        use x86_64::structures::paging::PhysFrame;
        let frame = PhysFrame::containing_address(x86_64::PhysAddr::new(root as u64));
        // SAFETY: forwarded to the caller.
        unsafe { Cr3::write(frame, Cr3Flags::empty()) };
    }

    /// The top-level table this CPU translates through now.
    pub fn current_root() -> kernel_hal::PhysAddr {
        x86_64::registers::control::Cr3::read()
            .0
            .start_address()
            .as_u64() as usize
    }
}

#[cfg(all(target_arch = "x86_64", any(target_os = "none", target_os = "uefi")))]
pub use bare::*;
