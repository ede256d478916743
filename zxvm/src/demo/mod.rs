//! `zxvm demo`: the classic scenarios of a virtual-memory manager, each step made of
//! real `zx_*` calls on a fresh process, each result checked, the address-space map
//! printed after every step.

mod heap;
mod paging;
mod rights;
mod ring;
mod stack;

use crate::info::{MapEntry, PAGE_SIZE};
use crate::session::Session;
use crate::{fmt, maps, status, svg};
use std::io::{self, Write};
use std::path::PathBuf;
use zircon_syscall::*;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// What a demo run found.
#[derive(Debug, Default)]
pub struct Summary {
    /// Checks that held.
    pub passed: usize,
    /// Checks that failed or calls that returned an unexpected status, described.
    pub failed: Vec<String>,
}

/// Options of `zxvm demo`.
#[derive(Clone, Debug, Default)]
pub struct DemoOptions {
    /// Run only this scenario (1 to 5).
    pub only: Option<usize>,
    /// Write `scenario-N.svg` into this directory after each scenario.
    pub svg_dir: Option<PathBuf>,
}

/// A scenario stopped because a call it depends on failed (already recorded).
struct Abort;

type Step<T> = Result<T, Abort>;

/// A scenario's body.
type Scenario = fn(&mut Demo) -> Step<()>;

/// The scenarios, in order: title and body.
const SCENARIOS: [(&str, Scenario); 5] = [
    (
        "a heap that grows and shrinks inside a 1 GiB placeholder",
        heap::heap_in_placeholder,
    ),
    ("a large demand-paged mapping", paging::demand_paging),
    ("a mirrored ring buffer", ring::ring_buffer),
    ("a thread stack with a guard page", stack::stack_with_guard),
    (
        "rights: a read-only handle cannot map writable",
        rights::read_only_rights,
    ),
];

/// Number of scenarios.
pub const SCENARIO_COUNT: usize = SCENARIOS.len();

/// Runs the scenarios, printing to `out`.
///
/// # Errors
/// Only a failure to write the output or an SVG file.
pub fn run(options: &DemoOptions, out: &mut dyn Write) -> io::Result<Summary> {
    let mut summary = Summary::default();
    for (index, (title, body)) in SCENARIOS.iter().enumerate() {
        let number = index + 1;
        if options.only.is_some_and(|n| n != number) {
            continue;
        }
        writeln!(out, "\n=== Scenario {number}: {title} ===")?;
        let mut demo = Demo {
            session: Session::new(),
            out: &mut *out,
            summary: &mut summary,
            io_error: None,
        };
        // A failed call has been recorded already; the scenario just stops there.
        let _ = body(&mut demo);
        if let Some(e) = demo.io_error.take() {
            return Err(e);
        }
        if let Some(dir) = &options.svg_dir {
            if let Ok(report) = demo.session.maps() {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(format!("scenario-{number}.svg"));
                let title = format!("zxvm demo, scenario {number}: {title}");
                std::fs::write(&path, svg::render(&report.entries, &title))?;
                writeln!(out, "  (map written to {})", path.display())?;
            }
        }
    }
    writeln!(
        out,
        "\n{} checks passed, {} failed",
        summary.passed,
        summary.failed.len()
    )?;
    for failure in &summary.failed {
        writeln!(out, "  FAILED: {failure}")?;
    }
    Ok(summary)
}

/// One scenario's process and the running tally.
struct Demo<'a> {
    session: Session,
    out: &'a mut dyn Write,
    summary: &'a mut Summary,
    io_error: Option<io::Error>,
}

impl Demo<'_> {
    fn say(&mut self, text: &str) {
        if self.io_error.is_none() {
            if let Err(e) = writeln!(self.out, "{text}") {
                self.io_error = Some(e);
            }
        }
    }

    fn step(&mut self, title: &str) {
        self.say(&format!("\n-- {title}"));
    }

    fn p(&self) -> &Process {
        self.session.process()
    }

    /// Records a check.
    fn check(&mut self, what: &str, ok: bool, detail: impl FnOnce() -> String) {
        if ok {
            self.summary.passed += 1;
            self.say(&format!("   check ok    {what}"));
        } else {
            let detail = detail();
            self.say(&format!("   check FAIL  {what}: {detail}"));
            self.summary.failed.push(format!("{what}: {detail}"));
        }
    }

    /// Records a check that `status` is `want`.
    fn check_status(&mut self, call: &str, status: i32, want: i32) {
        self.say(&format!("   {call} = {}", status::describe(status)));
        self.check(
            &format!("{call} is refused with {}", status::describe(want)),
            status == want,
            || format!("returned {}", status::describe(status)),
        );
    }

    /// Prints a call; a status other than `ZX_OK` is recorded and stops the scenario.
    fn call(&mut self, call: &str, status: i32, result: &str) -> Step<()> {
        if status == ZX_OK {
            self.say(&format!("   {call} = ZX_OK{result}"));
            Ok(())
        } else {
            let msg = format!("{call} returned {}", status::describe(status));
            self.say(&format!("   {msg}  (scenario stopped)"));
            self.summary.failed.push(msg);
            Err(Abort)
        }
    }

    /// A helper that is not itself a step failed (reading info, reading memory).
    fn broken(&mut self, what: &str, status: i32) -> Abort {
        let msg = format!("{what} failed with {}", status::describe(status));
        self.say(&format!("   {msg}  (scenario stopped)"));
        self.summary.failed.push(msg);
        Abort
    }

    fn out(&mut self, slot: usize, width: usize) -> Step<u64> {
        self.session
            .read_out(slot, width)
            .map_err(|st| self.broken("reading an out-parameter", st))
    }

    fn vmo_create(&mut self, size: u64, options: u32, name: &str) -> Step<u32> {
        let out = self.session.out_addr(0);
        let status = self.p().zx_vmo_create(size, options, out);
        let resizable = if options & ZX_VMO_RESIZABLE != 0 {
            "ZX_VMO_RESIZABLE"
        } else {
            "0"
        };
        let text = format!("zx_vmo_create({}, {resizable})", fmt::size(size));
        let handle = if status == ZX_OK {
            self.out(0, 4)? as u32
        } else {
            0
        };
        self.call(&text, status, &format!(" -> {name} = handle {handle:#x}"))?;
        // Name it, so the map says what it is.
        let stage = self.session.stage_addr();
        self.p()
            .write_memory(stage, name.as_bytes())
            .map_err(|st| self.broken("staging a name", st))?;
        let status = self
            .p()
            .zx_object_set_property(handle, ZX_PROP_NAME, stage, name.len());
        self.call(
            &format!("zx_object_set_property({name}, ZX_PROP_NAME, \"{name}\")"),
            status,
            "",
        )?;
        Ok(handle)
    }

    #[allow(clippy::too_many_arguments)]
    fn vmar_allocate(
        &mut self,
        parent: u32,
        parent_name: &str,
        options: u32,
        options_text: &str,
        offset: u64,
        size: u64,
        name: &str,
    ) -> Step<(u32, u64)> {
        let (h, a) = (self.session.out_addr(0), self.session.out_addr(1));
        let status =
            self.p()
                .zx_vmar_allocate(parent, options, offset as usize, size as usize, h, a);
        let text = format!(
            "zx_vmar_allocate({parent_name}, {options_text}, {offset:#x}, {})",
            fmt::size(size)
        );
        let (handle, addr) = if status == ZX_OK {
            (self.out(0, 4)? as u32, self.out(1, 8)?)
        } else {
            (0, 0)
        };
        self.call(
            &text,
            status,
            &format!(" -> {name} = handle {handle:#x} at {addr:#x}"),
        )?;
        Ok((handle, addr))
    }

    #[allow(clippy::too_many_arguments)]
    fn vmar_map(
        &mut self,
        vmar: u32,
        vmar_name: &str,
        options: u32,
        options_text: &str,
        offset: u64,
        vmo: u32,
        vmo_name: &str,
        vmo_offset: u64,
        len: u64,
    ) -> Step<u64> {
        let out = self.session.out_addr(0);
        let status = self.p().zx_vmar_map(
            vmar,
            options,
            offset as usize,
            vmo,
            vmo_offset,
            len as usize,
            out,
        );
        let text = format!(
            "zx_vmar_map({vmar_name}, {options_text}, {offset:#x}, {vmo_name}, {vmo_offset:#x}, {})",
            fmt::size(len)
        );
        let addr = if status == ZX_OK { self.out(0, 8)? } else { 0 };
        self.call(&text, status, &format!(" -> mapped at {addr:#x}"))?;
        Ok(addr)
    }

    fn koid(&mut self, handle: u32) -> Step<u64> {
        match self.session.handle_basic(handle) {
            Ok(basic) => Ok(basic.koid),
            Err(st) => Err(self.broken("ZX_INFO_HANDLE_BASIC", st)),
        }
    }

    fn committed(&mut self, vmo: u32) -> Step<u64> {
        match self.session.vmo_info(vmo) {
            Ok(info) => Ok(info.committed_bytes / PAGE_SIZE),
            Err(st) => Err(self.broken("ZX_INFO_VMO", st)),
        }
    }

    /// Queries and prints the map.
    fn show_map(&mut self) -> Step<Vec<MapEntry>> {
        match self.session.maps() {
            Ok(report) => {
                self.say("   map:");
                for line in maps::render(&report).lines() {
                    self.say(&format!("     {line}"));
                }
                Ok(report.entries)
            }
            Err(st) => Err(self.broken("ZX_INFO_PROCESS_MAPS", st)),
        }
    }

    /// Bytes of a VMO through `zx_vmo_read`, which commits nothing.
    fn vmo_bytes(&mut self, vmo: u32, offset: u64, len: usize) -> Step<Vec<u8>> {
        let buf = self.session.stage_addr();
        let status = self.p().zx_vmo_read(vmo, buf, offset, len);
        if status != ZX_OK {
            return Err(self.broken("zx_vmo_read", status));
        }
        self.session
            .read_bytes(buf, len)
            .map_err(|st| self.broken("reading scratch", st))
    }

    /// Refuses a raw access unless the map shows `[addr, addr + len)` covered by
    /// mappings that all allow `perm`.
    fn permitted(&mut self, addr: u64, len: usize, perm: u32) -> Step<()> {
        let entries = match self.session.maps() {
            Ok(r) => r.entries,
            Err(st) => return Err(self.broken("ZX_INFO_PROCESS_MAPS", st)),
        };
        if covered(&entries, addr, len as u64, perm) {
            Ok(())
        } else {
            let msg = format!(
                "the map does not allow a {} of {len} bytes at {addr:#x}",
                if perm == ZX_VM_PERM_WRITE {
                    "write"
                } else {
                    "read"
                }
            );
            self.say(&format!("   {msg}  (scenario stopped before touching it)"));
            self.summary.failed.push(msg);
            Err(Abort)
        }
    }

    /// Writes through a raw pointer, as user code would.
    fn poke(&mut self, addr: u64, bytes: &[u8]) -> Step<()> {
        self.permitted(addr, bytes.len(), ZX_VM_PERM_WRITE)?;
        let base = addr as usize as *mut u8;
        for (i, &b) in bytes.iter().enumerate() {
            // SAFETY: `permitted` just found every byte of the range inside mappings
            // with write permission of this process's address space, whose VMOs
            // (created by the scenario) cover them. On the unix backend a user
            // address is the host address of that mapping, and a first touch is
            // demand-paged by the HAL's fault handler. The memory is not a Rust
            // object, so no reference aliases it; volatile keeps each store.
            unsafe { base.add(i).write_volatile(b) };
        }
        self.say(&format!(
            "   write {} through a pointer at {addr:#x}",
            fmt::quoted_bytes(bytes)
        ));
        Ok(())
    }

    /// Reads through a raw pointer, as user code would.
    fn peek(&mut self, addr: u64, len: usize) -> Step<Vec<u8>> {
        self.permitted(addr, len, ZX_VM_PERM_READ)?;
        let base = addr as usize as *const u8;
        // SAFETY: as in `poke`, with read permission: every byte is inside a
        // readable mapping of this process, reached at its host address.
        Ok((0..len)
            .map(|i| unsafe { base.add(i).read_volatile() })
            .collect())
    }
}

/// Whether mappings that allow `perm` cover every byte of `[addr, addr + len)`.
fn covered(entries: &[MapEntry], addr: u64, len: u64, perm: u32) -> bool {
    let Some(end) = addr.checked_add(len) else {
        return false;
    };
    let mut at = addr;
    while at < end {
        let next = entries.iter().find(|e| {
            e.mapping
                .as_ref()
                .is_some_and(|m| m.mmu_flags & perm == perm)
                && e.base <= at
                && at < e.end()
        });
        match next {
            Some(e) => at = e.end(),
            None => return false,
        }
    }
    true
}

/// The mappings of the VMO with this koid, in address order.
fn mappings_of(entries: &[MapEntry], koid: u64) -> Vec<&MapEntry> {
    entries
        .iter()
        .filter(|e| e.mapping.as_ref().is_some_and(|m| m.vmo_koid == koid))
        .collect()
}

/// A mapping for a failed check's detail.
fn describe(e: Option<&&MapEntry>) -> String {
    match e {
        Some(e) => format!(
            "{:#x} +{} {} vmo offset {:#x}, {} pages committed",
            e.base,
            fmt::size(e.size),
            fmt::perms(e.mapping.as_ref().map_or(0, |m| m.mmu_flags)),
            e.mapping.as_ref().map_or(0, |m| m.vmo_offset),
            e.mapping.as_ref().map_or(0, |m| m.committed_pages)
        ),
        None => "no such mapping".into(),
    }
}

/// Read-write permissions.
const RW: u32 = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
/// Flags of the sub-VMARs the scenarios allocate.
const REGION: u32 = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC;
/// [`REGION`] as printed.
const REGION_TEXT: &str = "CAN_MAP_READ|CAN_MAP_WRITE|CAN_MAP_SPECIFIC";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::{EntryKind, MappingInfo};

    fn mapping(base: u64, size: u64, flags: u32) -> MapEntry {
        MapEntry {
            name: "m".into(),
            base,
            size,
            depth: 2,
            kind: EntryKind::Mapping,
            mapping: Some(MappingInfo {
                mmu_flags: flags,
                vmo_koid: 1,
                vmo_offset: 0,
                committed_pages: 0,
            }),
        }
    }

    #[test]
    fn raw_access_needs_every_byte_covered_with_the_permission() {
        let map = vec![
            mapping(0x1000, 0x1000, RW),
            mapping(0x2000, 0x1000, RW),
            mapping(0x4000, 0x1000, ZX_VM_PERM_READ),
        ];
        assert!(
            covered(&map, 0x1ff8, 16, ZX_VM_PERM_WRITE),
            "across two adjacent mappings"
        );
        assert!(
            !covered(&map, 0x2ff8, 16, ZX_VM_PERM_READ),
            "runs into a gap"
        );
        assert!(covered(&map, 0x4000, 16, ZX_VM_PERM_READ));
        assert!(!covered(&map, 0x4000, 16, ZX_VM_PERM_WRITE), "read-only");
        assert!(
            !covered(&map, u64::MAX - 4, 16, ZX_VM_PERM_READ),
            "overflow"
        );
        assert!(!covered(&[], 0x1000, 1, ZX_VM_PERM_READ));
    }
}
