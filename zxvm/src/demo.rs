//! `zxvm demo`: the classic scenarios of a virtual-memory manager, each step made of
//! real `zx_*` calls on a fresh process, each result checked, the address-space map
//! printed after every step.

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
        heap_in_placeholder,
    ),
    ("a large demand-paged mapping", demand_paging),
    ("a mirrored ring buffer", ring_buffer),
    ("a thread stack with a guard page", stack_with_guard),
    (
        "rights: a read-only handle cannot map writable",
        read_only_rights,
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

const RW: u32 = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
const REGION: u32 = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC;
const REGION_TEXT: &str = "CAN_MAP_READ|CAN_MAP_WRITE|CAN_MAP_SPECIFIC";

fn heap_in_placeholder(d: &mut Demo) -> Step<()> {
    let root = d.p().zx_vmar_root_self();

    d.step("1.1 reserve 1 GiB of address space, held by a placeholder mapping with no access");
    let (reserve, base) = d.vmar_allocate(root, "root", REGION, REGION_TEXT, 0, GIB, "reserve")?;
    let placeholder = d.vmo_create(GIB, 0, "placeholder")?;
    let at = d.vmar_map(
        reserve,
        "reserve",
        ZX_VM_SPECIFIC,
        "SPECIFIC",
        0,
        placeholder,
        "placeholder",
        0,
        GIB,
    )?;
    let info = d
        .session
        .vmar_info(reserve)
        .map_err(|st| d.broken("ZX_INFO_VMAR", st))?;
    d.check(
        "ZX_INFO_VMAR reports the reservation's base and 1 GiB",
        info.base == base && info.len == GIB,
        || format!("{info:?}"),
    );
    let ph_koid = d.koid(placeholder)?;
    let map = d.show_map()?;
    let ph = mappings_of(&map, ph_koid);
    d.check(
        "the placeholder covers the whole reservation, no access, nothing committed",
        at == base
            && ph.len() == 1
            && ph[0].base == base
            && ph[0].size == GIB
            && ph[0]
                .mapping
                .as_ref()
                .is_some_and(|m| m.mmu_flags == 0 && m.committed_pages == 0),
        || describe(ph.first()),
    );
    let read = d.p().read_memory(base as usize, &mut [0u8; 1]);
    d.check("reading the reserved range faults", read.is_err(), || {
        format!("{read:?}")
    });

    d.step("1.2 map a 1 MiB heap over the start of the placeholder (SPECIFIC_OVERWRITE)");
    let heap = d.vmo_create(MIB, ZX_VMO_RESIZABLE, "heap")?;
    let at = d.vmar_map(
        reserve,
        "reserve",
        RW | ZX_VM_SPECIFIC_OVERWRITE,
        "PERM_READ|PERM_WRITE|SPECIFIC_OVERWRITE",
        0,
        heap,
        "heap",
        0,
        MIB,
    )?;
    d.poke(base, b"first allocation")?;
    let heap_koid = d.koid(heap)?;
    let map = d.show_map()?;
    let hp = mappings_of(&map, heap_koid);
    let ph = mappings_of(&map, ph_koid);
    d.check(
        "the heap is mapped read-write at the reservation's base",
        at == base
            && hp.len() == 1
            && hp[0].base == base
            && hp[0].size == MIB
            && hp[0].mapping.as_ref().is_some_and(|m| m.mmu_flags == RW),
        || describe(hp.first()),
    );
    d.check(
        "the placeholder now starts 1 MiB in, at VMO offset 1 MiB",
        ph.len() == 1
            && ph[0].base == base + MIB
            && ph[0].size == GIB - MIB
            && ph[0].mapping.as_ref().is_some_and(|m| m.vmo_offset == MIB),
        || describe(ph.first()),
    );
    let committed = d.committed(heap)?;
    d.check(
        "the heap has committed exactly the page written",
        committed == 1,
        || format!("{committed} pages"),
    );
    let read = d.p().read_memory((base + MIB) as usize, &mut [0u8; 1]);
    d.check(
        "the byte after the heap still faults",
        read.is_err(),
        || format!("{read:?}"),
    );

    d.step("1.3 grow the heap by 2 MiB in place");
    let status = d.p().zx_vmo_set_size(heap, 3 * MIB);
    d.call("zx_vmo_set_size(heap, 3 MiB)", status, "")?;
    let at = d.vmar_map(
        reserve,
        "reserve",
        RW | ZX_VM_SPECIFIC_OVERWRITE,
        "PERM_READ|PERM_WRITE|SPECIFIC_OVERWRITE",
        0,
        heap,
        "heap",
        0,
        3 * MIB,
    )?;
    d.poke(base + 5 * MIB / 2, b"late allocation")?;
    let map = d.show_map()?;
    let hp = mappings_of(&map, heap_koid);
    let ph = mappings_of(&map, ph_koid);
    d.check(
        "the heap grew in place: one 3 MiB mapping at the same base",
        at == base && hp.len() == 1 && hp[0].base == base && hp[0].size == 3 * MIB,
        || describe(hp.first()),
    );
    d.check(
        "the placeholder gave up the 2 MiB",
        ph.len() == 1 && ph[0].base == base + 3 * MIB && ph[0].size == GIB - 3 * MIB,
        || describe(ph.first()),
    );
    let kept = d.peek(base, 16)?;
    d.check(
        "the heap's old contents are still there",
        kept == b"first allocation",
        || fmt::quoted_bytes(&kept),
    );
    let committed = d.committed(heap)?;
    d.check("the heap has committed 2 pages", committed == 2, || {
        format!("{committed} pages")
    });

    d.step("1.4 shrink the heap by 1 MiB, handing the range back to the placeholder");
    let at = d.vmar_map(
        reserve,
        "reserve",
        ZX_VM_SPECIFIC_OVERWRITE,
        "SPECIFIC_OVERWRITE",
        2 * MIB,
        placeholder,
        "placeholder",
        2 * MIB,
        MIB,
    )?;
    let status = d.p().zx_vmo_set_size(heap, 2 * MIB);
    d.call("zx_vmo_set_size(heap, 2 MiB)", status, "")?;
    let map = d.show_map()?;
    let hp = mappings_of(&map, heap_koid);
    let ph = mappings_of(&map, ph_koid);
    d.check(
        "the heap mapping is 2 MiB",
        hp.len() == 1 && hp[0].base == base && hp[0].size == 2 * MIB,
        || describe(hp.first()),
    );
    let ph_bytes: u64 = ph.iter().map(|e| e.size).sum();
    let contiguous = ph.windows(2).all(|w| w[0].end() == w[1].base);
    d.check(
        "placeholder mappings cover the rest of the reservation without a gap",
        at == base + 2 * MIB
            && ph.first().is_some_and(|e| e.base == base + 2 * MIB)
            && contiguous
            && ph_bytes == GIB - 2 * MIB,
        || {
            format!(
                "{} placeholder mappings, {} in all",
                ph.len(),
                fmt::size(ph_bytes)
            )
        },
    );
    let read = d.p().read_memory((base + 2 * MIB) as usize, &mut [0u8; 1]);
    d.check("the returned range faults again", read.is_err(), || {
        format!("{read:?}")
    });
    let kept = d.peek(base, 16)?;
    d.check(
        "the heap's contents survive the shrink",
        kept == b"first allocation",
        || fmt::quoted_bytes(&kept),
    );
    let committed = d.committed(heap)?;
    d.check(
        "the page past the new end was freed with the tail",
        committed == 1,
        || format!("{committed} pages"),
    );
    let out = d.session.out_addr(0);
    let status = d.p().zx_vmar_map(
        reserve,
        ZX_VM_PERM_READ,
        0,
        heap,
        0,
        PAGE_SIZE as usize,
        out,
    );
    d.check_status(
        "zx_vmar_map(reserve, PERM_READ, 0, heap, 0, 4 KiB) (anywhere)",
        status,
        ZX_ERR_NO_RESOURCES,
    );
    Ok(())
}

fn demand_paging(d: &mut Demo) -> Step<()> {
    let root = d.p().zx_vmar_root_self();
    const SIZE: u64 = 256 * MIB;
    const STRIDE: u64 = 4 * MIB;
    const TOUCHED: u64 = SIZE / STRIDE;

    d.step("2.1 map 256 MiB; nothing is committed until it is touched");
    let big = d.vmo_create(SIZE, 0, "big")?;
    let addr = d.vmar_map(
        root,
        "root",
        RW,
        "PERM_READ|PERM_WRITE",
        0,
        big,
        "big",
        0,
        SIZE,
    )?;
    let koid = d.koid(big)?;
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    d.check(
        "the mapping is 256 MiB with no page committed",
        m.len() == 1
            && m[0].size == SIZE
            && m[0]
                .mapping
                .as_ref()
                .is_some_and(|m| m.committed_pages == 0),
        || describe(m.first()),
    );

    d.step("2.2 touch one byte in every 4 MiB through a pointer");
    d.permitted(addr, SIZE as usize, ZX_VM_PERM_WRITE)?;
    for i in 0..TOUCHED {
        let at = (addr + i * STRIDE) as usize as *mut u8;
        // SAFETY: `permitted` found the whole 256 MiB range inside a writable
        // mapping of this process, backed by the 256 MiB VMO; on the unix backend
        // the user address is the host address and the first touch is demand-paged.
        unsafe { at.write_volatile(i as u8 + 1) };
    }
    d.say(&format!(
        "   wrote bytes 1..={TOUCHED} at {addr:#x} + i * 4 MiB"
    ));
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    let committed = d.committed(big)?;
    d.check(
        "64 pages are committed, as the map and ZX_INFO_VMO both say",
        committed == TOUCHED
            && m.first()
                .and_then(|e| e.mapping.as_ref())
                .is_some_and(|m| m.committed_pages == TOUCHED),
        || format!("VMO {committed} pages; map: {}", describe(m.first())),
    );

    d.step("2.3 hint DONT_NEED on the first half");
    let status = d.p().zx_vmar_op_range(
        root,
        ZX_VMAR_OP_DONT_NEED,
        addr as usize,
        (SIZE / 2) as usize,
        0,
        0,
    );
    d.call(
        "zx_vmar_op_range(root, DONT_NEED, addr, 128 MiB)",
        status,
        "",
    )?;
    let committed = d.committed(big)?;
    d.say(&format!("   committed after the hint: {committed} pages"));
    let mut kept = true;
    for i in 0..TOUCHED {
        kept &= d.vmo_bytes(big, i * STRIDE, 1)? == [i as u8 + 1];
    }
    d.check(
        "a hint loses no data: every touched byte reads back",
        kept,
        || "a byte changed".into(),
    );

    d.step("2.4 decommit the first half");
    let status = d.p().zx_vmar_op_range(
        root,
        ZX_VMAR_OP_DECOMMIT,
        addr as usize,
        (SIZE / 2) as usize,
        0,
        0,
    );
    d.call(
        "zx_vmar_op_range(root, DECOMMIT, addr, 128 MiB)",
        status,
        "",
    )?;
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    let committed = d.committed(big)?;
    d.check(
        "half the pages are released; the mapping stays whole",
        committed == TOUCHED / 2
            && m.len() == 1
            && m[0].size == SIZE
            && m[0]
                .mapping
                .as_ref()
                .is_some_and(|m| m.committed_pages == TOUCHED / 2),
        || format!("VMO {committed} pages; map: {}", describe(m.first())),
    );
    let mut zeros = true;
    let mut kept = true;
    for i in 0..TOUCHED {
        let byte = d.vmo_bytes(big, i * STRIDE, 1)?[0];
        if i < TOUCHED / 2 {
            zeros &= byte == 0;
        } else {
            kept &= byte == i as u8 + 1;
        }
    }
    d.check("decommitted pages read as zero", zeros, || {
        "a released page kept data".into()
    });
    d.check("the second half kept its data", kept, || {
        "a kept page changed".into()
    });

    d.step("2.5 the released range is still usable: touch it again");
    d.poke(addr, b"\xaa")?;
    let committed = d.committed(big)?;
    let back = d.peek(addr, 1)?;
    d.check(
        "the write commits one fresh page and reads back",
        committed == TOUCHED / 2 + 1 && back == [0xaa],
        || format!("{committed} pages, read {back:?}"),
    );

    d.step("2.6 decommit a quarter through the VMO handle; the mapping sees it");
    let status = d
        .p()
        .zx_vmo_op_range(big, ZX_VMO_OP_DECOMMIT, SIZE / 2, SIZE / 4, 0, 0);
    d.call(
        "zx_vmo_op_range(big, DECOMMIT, 128 MiB, 64 MiB)",
        status,
        "",
    )?;
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    let want = TOUCHED / 4 + 1;
    d.check(
        &format!("{want} pages remain, in the VMO and in the map"),
        m.first()
            .and_then(|e| e.mapping.as_ref())
            .is_some_and(|m| m.committed_pages == want),
        || describe(m.first()),
    );
    Ok(())
}

fn ring_buffer(d: &mut Demo) -> Step<()> {
    let root = d.p().zx_vmar_root_self();
    const SIZE: u64 = 64 * KIB;

    d.step("3.1 map one 64 KiB VMO twice, back to back, in a 128 KiB region");
    let ring = d.vmo_create(SIZE, 0, "ring")?;
    let (region, base) =
        d.vmar_allocate(root, "root", REGION, REGION_TEXT, 0, 2 * SIZE, "region")?;
    let first = d.vmar_map(
        region,
        "region",
        RW | ZX_VM_SPECIFIC,
        "PERM_READ|PERM_WRITE|SPECIFIC",
        0,
        ring,
        "ring",
        0,
        SIZE,
    )?;
    let second = d.vmar_map(
        region,
        "region",
        RW | ZX_VM_SPECIFIC,
        "PERM_READ|PERM_WRITE|SPECIFIC",
        SIZE,
        ring,
        "ring",
        0,
        SIZE,
    )?;
    let koid = d.koid(ring)?;
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    d.check(
        "two adjacent mappings of the same VMO, both at VMO offset 0",
        first == base
            && second == base + SIZE
            && m.len() == 2
            && m.iter()
                .all(|e| e.mapping.as_ref().is_some_and(|m| m.vmo_offset == 0)),
        || format!("{} mappings at {first:#x} and {second:#x}", m.len()),
    );
    let mappings = d
        .session
        .vmo_info(ring)
        .map_err(|st| d.broken("ZX_INFO_VMO", st))?
        .num_mappings;
    d.check("ZX_INFO_VMO counts 2 mappings", mappings == 2, || {
        format!("{mappings}")
    });

    d.step("3.2 write 16 bytes starting 8 bytes before the end of the first copy");
    d.poke(first + SIZE - 8, b"0123456789abcdef")?;
    let start = d.vmo_bytes(ring, 0, 8)?;
    d.check(
        "the 8 bytes that ran off the end landed at the start of the buffer",
        start == b"89abcdef",
        || fmt::quoted_bytes(&start),
    );
    let via_first = d.peek(first, 8)?;
    d.check(
        "the first copy shows them at its start",
        via_first == b"89abcdef",
        || fmt::quoted_bytes(&via_first),
    );
    let via_second = d.peek(second + SIZE - 8, 8)?;
    d.check(
        "the second copy shows the head at its end",
        via_second == b"01234567",
        || fmt::quoted_bytes(&via_second),
    );
    let map = d.show_map()?;
    let m = mappings_of(&map, koid);
    d.check(
        "both mappings see the same 2 committed pages",
        m.len() == 2
            && m.iter()
                .all(|e| e.mapping.as_ref().is_some_and(|m| m.committed_pages == 2)),
        || describe(m.first()),
    );
    Ok(())
}

fn stack_with_guard(d: &mut Demo) -> Step<()> {
    let root = d.p().zx_vmar_root_self();
    const STACK: u64 = 64 * KIB;

    d.step("4.1 a 68 KiB region: a 4 KiB guard below a 64 KiB stack mapping");
    let (region, base) = d.vmar_allocate(
        root,
        "root",
        REGION,
        REGION_TEXT,
        0,
        STACK + PAGE_SIZE,
        "stack_region",
    )?;
    let stack = d.vmo_create(STACK, 0, "stack")?;
    let bottom = d.vmar_map(
        region,
        "stack_region",
        RW | ZX_VM_SPECIFIC,
        "PERM_READ|PERM_WRITE|SPECIFIC",
        PAGE_SIZE,
        stack,
        "stack",
        0,
        STACK,
    )?;
    let map = d.show_map()?;
    let guard_free = !map
        .iter()
        .any(|e| e.mapping.is_some() && e.base < base + PAGE_SIZE && e.end() > base);
    d.check(
        "the stack starts one page above the region's base",
        bottom == base + PAGE_SIZE,
        || format!("{bottom:#x}"),
    );
    d.check("nothing is mapped in the guard page", guard_free, || {
        "a mapping covers it".into()
    });

    d.step("4.2 push a frame: the stack grows down from its top");
    let top = bottom + STACK;
    d.poke(top - 32, b"return address, saved registers")?;
    let committed = d.committed(stack)?;
    d.check("only the top page is committed", committed == 1, || {
        format!("{committed} pages")
    });

    d.step("4.3 overflow: a 16-byte write that crosses from the stack into the guard page");
    let write = d.p().write_memory((bottom - 8) as usize, &[0x55; 16]);
    d.say(&format!(
        "   write_memory({:#x}, 16 bytes) = {}",
        bottom - 8,
        write.err().map_or("ZX_OK".into(), status::describe)
    ));
    d.check(
        "the write faults with ZX_ERR_INVALID_ARGS",
        write == Err(ZX_ERR_INVALID_ARGS),
        || format!("{write:?}"),
    );
    let first = d.vmo_bytes(stack, 0, 8)?;
    d.check(
        "and changes nothing: the stack's lowest bytes are still zero",
        first == [0u8; 8],
        || fmt::quoted_bytes(&first),
    );
    let committed = d.committed(stack)?;
    d.check("and commits nothing", committed == 1, || {
        format!("{committed} pages")
    });
    let read = d.p().read_memory(base as usize, &mut [0u8; 1]);
    d.check("reading the guard page faults too", read.is_err(), || {
        format!("{read:?}")
    });
    d.show_map()?;
    Ok(())
}

fn read_only_rights(d: &mut Demo) -> Step<()> {
    let root = d.p().zx_vmar_root_self();
    const SIZE: u64 = 64 * KIB;
    const RO: u32 = ZX_RIGHT_READ | ZX_RIGHT_MAP | ZX_RIGHT_DUPLICATE | ZX_RIGHT_TRANSFER;

    d.step("5.1 duplicate a VMO handle with read and map rights only");
    let vmo = d.vmo_create(SIZE, 0, "shared")?;
    let out = d.session.out_addr(0);
    let status = d.p().zx_handle_duplicate(vmo, RO, out);
    let ro = if status == ZX_OK {
        d.out(0, 4)? as u32
    } else {
        0
    };
    d.call(
        "zx_handle_duplicate(shared, READ|MAP|DUPLICATE|TRANSFER)",
        status,
        &format!(" -> ro = handle {ro:#x}"),
    )?;
    let full = d
        .session
        .handle_basic(vmo)
        .map_err(|st| d.broken("ZX_INFO_HANDLE_BASIC", st))?;
    let basic = d
        .session
        .handle_basic(ro)
        .map_err(|st| d.broken("ZX_INFO_HANDLE_BASIC", st))?;
    d.check(
        "the duplicate names the same VMO with exactly the rights asked for",
        basic.koid == full.koid && basic.rights == RO,
        || format!("koid {} rights {:#x}", basic.koid, basic.rights),
    );
    let before = d.show_map()?;

    d.step("5.2 try to map the read-only handle writable");
    let status = d.p().zx_vmar_map(root, RW, 0, ro, 0, SIZE as usize, out);
    d.check_status(
        "zx_vmar_map(root, PERM_READ|PERM_WRITE, 0, ro, 0, 64 KiB)",
        status,
        ZX_ERR_ACCESS_DENIED,
    );
    let after = d.show_map()?;
    d.check("the map is unchanged", after == before, || {
        format!("{} entries before, {} after", before.len(), after.len())
    });

    d.step("5.3 map it read-only; its protection can never be raised");
    let addr = d.vmar_map(
        root,
        "root",
        ZX_VM_PERM_READ,
        "PERM_READ",
        0,
        ro,
        "ro",
        0,
        SIZE,
    )?;
    let status = d
        .p()
        .zx_vmar_protect(root, RW, addr as usize, SIZE as usize);
    d.check_status(
        "zx_vmar_protect(root, PERM_READ|PERM_WRITE, addr, 64 KiB)",
        status,
        ZX_ERR_ACCESS_DENIED,
    );
    let stage = d.session.stage_addr();
    let status = d.p().zx_vmo_write(ro, stage, 0, 4);
    d.check_status("zx_vmo_write(ro, buf, 0, 4)", status, ZX_ERR_ACCESS_DENIED);
    let status = d
        .p()
        .zx_handle_duplicate(ro, ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_MAP, out);
    d.check_status(
        "zx_handle_duplicate(ro, READ|WRITE|MAP) (asking for more rights)",
        status,
        ZX_ERR_INVALID_ARGS,
    );
    let write = d.p().write_memory(addr as usize, b"x");
    d.check(
        "a write through the read-only mapping faults",
        write.is_err(),
        || format!("{write:?}"),
    );

    d.step("5.4 the full handle still writes, and the read-only mapping sees it");
    d.p()
        .write_memory(stage, b"hello")
        .map_err(|st| d.broken("staging bytes", st))?;
    let status = d.p().zx_vmo_write(vmo, stage, 0, 5);
    d.call("zx_vmo_write(shared, \"hello\", 0, 5)", status, "")?;
    let seen = d.peek(addr, 5)?;
    d.check(
        "reading through the read-only mapping gives \"hello\"",
        seen == b"hello",
        || fmt::quoted_bytes(&seen),
    );
    d.show_map()?;
    Ok(())
}

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
