//! Maps memory through the unix HAL, writes it through a raw pointer, reads it back
//! through physical memory, and shows a demand fault being resolved.
//!
//! Run with `cargo run --release -p kernel-hal-unix --example map_and_touch`; it
//! exits non-zero if any check fails.

use std::process::ExitCode;
use std::sync::{Arc, Mutex, Weak};

use kernel_hal::{
    CachePolicy, MMUFlags, PageFaultHandler, PageTable, PhysAddr, PhysMem, VirtAddr, PAGE_SIZE,
};
use kernel_hal_unix::{UnixHal, UnixPageTable};

/// An address space whose faults are resolved by mapping a fresh zeroed frame.
struct DemandPaged {
    hal: UnixHal,
    pt: UnixPageTable,
    /// (fault address, access, frame mapped) for every fault resolved.
    resolved: Mutex<Vec<(VirtAddr, MMUFlags, PhysAddr)>>,
}

impl PageFaultHandler for DemandPaged {
    fn handle_page_fault(&self, vaddr: VirtAddr, access: MMUFlags) -> bool {
        let page = vaddr & !(PAGE_SIZE - 1);
        let Ok(frame) = self.hal.alloc_frame() else {
            return false;
        };
        let flags = MMUFlags::READ | MMUFlags::WRITE | MMUFlags::USER;
        let mapped = self.hal.zero(frame, PAGE_SIZE).is_ok()
            && self
                .pt
                .map(page, frame, PAGE_SIZE, flags, CachePolicy::Cached)
                .is_ok();
        if !mapped {
            let _ = self.hal.free_frames(frame, 1);
            return false;
        }
        self.resolved.lock().unwrap().push((vaddr, access, frame));
        true
    }
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("check failed: {what}"))
    }
}

fn run() -> Result<(), String> {
    let hal = UnixHal::new().map_err(|e| format!("creating the machine: {e}"))?;
    let config = hal.config();
    let free_at_start = hal.free_count();
    println!(
        "machine: {} MiB of memfd physical memory ({} frames free), {} GiB windows",
        config.phys_size >> 20,
        free_at_start,
        config.window_size >> 30
    );

    let space = Arc::new(DemandPaged {
        hal: hal.clone(),
        pt: hal
            .new_page_table()
            .map_err(|e| format!("address space: {e}"))?,
        resolved: Mutex::new(Vec::new()),
    });
    let handler: Weak<dyn PageFaultHandler> = Arc::downgrade(&space) as Weak<dyn PageFaultHandler>;
    space.pt.set_fault_handler(Some(handler));
    let (base, size) = space.pt.user_range();
    println!("address space: window {base:#x}..{:#x}", base + size);

    // Map a run of 8 contiguous frames with one call, then write through a pointer.
    const FRAMES: usize = 8;
    let len = FRAMES * PAGE_SIZE;
    let frames = hal
        .alloc_contiguous(FRAMES, 0)
        .map_err(|e| format!("frames: {e}"))?;
    let vaddr = base + 0x10_0000;
    let rw = MMUFlags::READ | MMUFlags::WRITE | MMUFlags::USER;
    space
        .pt
        .map(vaddr, frames, len, rw, CachePolicy::Cached)
        .map_err(|e| format!("map: {e}"))?;
    println!(
        "mapped {FRAMES} frames at physical {frames:#x}..{:#x} to {vaddr:#x}..{:#x} ({} host mapping)",
        frames + len,
        vaddr + len,
        space.pt.run_count()
    );
    let message = b"hello from a user pointer";
    for page in 0..FRAMES {
        let at = (vaddr + page * PAGE_SIZE) as *mut u8;
        // SAFETY: the page is mapped read-write (just above) and the message fits.
        unsafe {
            std::ptr::copy_nonoverlapping(message.as_ptr(), at, message.len());
            at.add(message.len()).write_volatile(page as u8);
        }
    }
    let mut back = vec![0u8; message.len() + 1];
    for page in 0..FRAMES {
        hal.read(frames + page * PAGE_SIZE, &mut back)
            .map_err(|e| format!("read: {e}"))?;
        check(
            &back[..message.len()] == message,
            "physical bytes equal the pointer writes",
        )?;
        check(
            back[message.len()] == page as u8,
            "each page holds its own index",
        )?;
    }
    println!(
        "wrote {:?} through a raw pointer into each page; read it back through PhysMem::read: equal",
        String::from_utf8_lossy(message)
    );
    let t = space
        .pt
        .query(vaddr + 3 * PAGE_SIZE + 5)
        .map_err(|e| format!("query: {e}"))?;
    check(
        t.paddr == frames + 3 * PAGE_SIZE + 5,
        "query answers the mapped frame",
    )?;
    println!(
        "query({:#x}) = physical {:#x}, {:?}",
        vaddr + 3 * PAGE_SIZE + 5,
        t.paddr,
        t.flags
    );

    // Touch a page nothing maps: the fault handler maps a fresh frame and the
    // access retries.
    let lazy = base + 0x40_0000 + 0x18;
    // SAFETY: the address lies in our window; the registered handler resolves its
    // fault by mapping a zeroed frame, after which the write succeeds.
    unsafe { (lazy as *mut u64).write_volatile(0x1234_5678) };
    let resolved = space.resolved.lock().unwrap().clone();
    check(resolved.len() == 1, "exactly one demand fault")?;
    let (fault_addr, access, frame) = resolved[0];
    check(
        fault_addr == lazy && access == MMUFlags::WRITE,
        "fault address and kind",
    )?;
    let mut word = [0u8; 8];
    hal.read(frame + 0x18, &mut word)
        .map_err(|e| format!("read: {e}"))?;
    check(
        u64::from_ne_bytes(word) == 0x1234_5678,
        "the faulting write landed in the new frame",
    )?;
    println!(
        "touched unmapped {lazy:#x}: demand fault ({access:?}) resolved with frame {frame:#x}; the write is in it"
    );

    // Put everything back.
    let cleared = space
        .pt
        .clear(base, size)
        .map_err(|e| format!("clear: {e}"))?;
    hal.free_frames(frames, FRAMES)
        .map_err(|e| format!("free: {e}"))?;
    hal.free_frames(frame, 1)
        .map_err(|e| format!("free: {e}"))?;
    check(
        hal.free_count() == free_at_start,
        "every frame is free again",
    )?;
    println!(
        "cleared {cleared} pages, freed {} frames: {} frames free, as at the start",
        FRAMES + 1,
        hal.free_count()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("map_and_touch: {why}");
            ExitCode::FAILURE
        }
    }
}
