//! Model-based test of one address space: random sequences of VMAR, VMO and handle
//! calls run against the real syscalls and against a small reference model of
//! `docs/ABI.md` sections 5 and 6 (section and step numbers in this file refer to
//! it). After every step both must
//! agree on the call's status, on the `ZX_INFO_PROCESS_MAPS` listing of the test
//! region, and on the bytes `read_memory` sees (or its refusal) on every page of the
//! test region, and, where readable, the same bytes through a host pointer (the real
//! fault path).
//!
//! The model:
//! - a **region** is `(base, len, flags, parent, alive)`; its children are the live
//!   regions and mappings whose parent it is;
//! - a **mapping** is `(region, base, vmo, vmo offset, per-page protection, maximum)`;
//! - a **VMO** is a vector of pages, each `None` (never committed: reads as zeros) or
//!   `Some(bytes)`; its size is the number of pages;
//! - a **handle** names a region or a VMO with its rights, and may be closed. Besides
//!   one handle per region, the test holds a second handle to the test region without
//!   `OP_CHILDREN`, a read-only VMO handle and a VMO handle without `MAP`.
//!
//! All operations happen inside one test region of [`AREA_PAGES`] pages of the root
//! region, and use only valid handles, valid option bits and page-aligned addresses,
//! so that the model can predict every status exactly. What it deliberately does not
//! predict:
//! - where random placement puts a new region or mapping: it checks that the
//!   implementation's choice is a free, aligned spot inside the region, then adopts it;
//! - `ZX_ERR_NO_MEMORY`: the machine has far more frames than a case can use;
//! - a zero-length VMO range op at an offset past the VMO's end (8.5 does not order
//!   the range check against the zero-length success): not generated.
//!
//! `MODEL_CASES=<n>` changes the number of cases (default 256, about two seconds in a
//! debug build).

use proptest::prelude::*;
use zircon_syscall::*;
use zircon_tests::{default_hal, new_process, new_process_on, TestProcess};

const PAGE: usize = 4096;
/// Pages of the test region every case works in.
const AREA_PAGES: usize = 32;
/// Scratch offsets: out-parameters, then a data buffer.
const OUT_H: usize = 0;
const OUT_A: usize = 8;
const BUF: usize = PAGE;
const NONE: usize = usize::MAX;

// ---------------------------------------------------------------- the model

#[derive(Clone, Debug)]
struct MVmar {
    base: usize,
    len: usize,
    /// `CAN_MAP_READ/WRITE/SPECIFIC` and `COMPACT`.
    flags: u32,
    parent: usize,
    alive: bool,
}

#[derive(Clone, Debug)]
struct MMap {
    vmar: usize,
    base: usize,
    vmo: usize,
    off: usize,
    /// Current protection of each page.
    prot: Vec<u32>,
    /// Maximum protection (5.2).
    max: u32,
}

impl MMap {
    fn end(&self) -> usize {
        self.base + self.prot.len() * PAGE
    }
}

#[derive(Clone, Debug)]
struct MVmo {
    pages: Vec<Option<Vec<u8>>>,
    resizable: bool,
    koid: u64,
}

#[derive(Clone, Debug, Default)]
struct Model {
    vmars: Vec<MVmar>,
    maps: Vec<MMap>,
    vmos: Vec<MVmo>,
}

fn overlaps(a: usize, b: usize, lo: usize, hi: usize) -> bool {
    a < hi && lo < b
}

impl Model {
    /// The model state in a few lines, for failure messages.
    fn summary(&self) -> String {
        let mut s = String::new();
        for (i, r) in self.vmars.iter().enumerate() {
            s += &format!(
                "\n  region {i}: {:#x}+{} pages, flags {:#x}, parent {}, alive {}",
                r.base,
                r.len / PAGE,
                r.flags,
                r.parent as isize,
                r.alive
            );
        }
        for m in &self.maps {
            s += &format!(
                "\n  mapping in {}: {:#x}+{} pages, vmo {} at page {}, prot {:?}, max {}",
                m.vmar,
                m.base,
                m.prot.len(),
                m.vmo,
                m.off / PAGE,
                m.prot,
                m.max
            );
        }
        for (i, v) in self.vmos.iter().enumerate() {
            s += &format!("\n  vmo {i}: {} pages", v.pages.len());
        }
        s
    }

    fn end(&self, v: usize) -> usize {
        self.vmars[v].base + self.vmars[v].len
    }

    /// Whether `[lo, hi)` lies inside region `v`.
    fn inside(&self, v: usize, lo: usize, hi: usize) -> bool {
        lo >= self.vmars[v].base && hi <= self.end(v) && lo < hi
    }

    /// Live direct sub-regions of `v` that intersect `[lo, hi)`.
    fn subs_in(&self, v: usize, lo: usize, hi: usize) -> Vec<usize> {
        (0..self.vmars.len())
            .filter(|&c| {
                let r = &self.vmars[c];
                r.alive && r.parent == v && overlaps(r.base, r.base + r.len, lo, hi)
            })
            .collect()
    }

    /// Whether `[lo, hi)` touches no child of `v`.
    fn free(&self, v: usize, lo: usize, hi: usize) -> bool {
        self.subs_in(v, lo, hi).is_empty()
            && !self
                .maps
                .iter()
                .any(|m| m.vmar == v && overlaps(m.base, m.end(), lo, hi))
    }

    /// The lowest `align`-aligned free spot of `size` bytes in `v` (compact placement).
    fn first_fit(&self, v: usize, size: usize, align: usize) -> Option<usize> {
        let mut a = self.vmars[v].base.next_multiple_of(align);
        while a + size <= self.end(v) {
            if self.free(v, a, a + size) {
                return Some(a);
            }
            a += align;
        }
        None
    }

    /// Whether region `v` is `anc` or lies below it.
    fn below(&self, mut v: usize, anc: usize) -> bool {
        loop {
            if v == anc {
                return true;
            }
            if v == NONE {
                return false;
            }
            v = self.vmars[v].parent;
        }
    }

    /// Mappings anywhere under `v` that intersect `[lo, hi)`, in address order.
    fn maps_under(&self, v: usize, lo: usize, hi: usize) -> Vec<usize> {
        let mut ids: Vec<usize> = (0..self.maps.len())
            .filter(|&i| {
                let m = &self.maps[i];
                self.below(m.vmar, v) && overlaps(m.base, m.end(), lo, hi)
            })
            .collect();
        ids.sort_by_key(|&i| self.maps[i].base);
        ids
    }

    /// Destroys `v` and everything under it.
    fn kill(&mut self, v: usize) {
        for c in 0..self.vmars.len() {
            if self.below(c, v) {
                self.vmars[c].alive = false;
            }
        }
        let dead: Vec<bool> = self.vmars.iter().map(|r| !r.alive).collect();
        self.maps.retain(|m| !dead[m.vmar]);
    }

    /// Removes `[lo, hi)` from `v`'s own mappings, trimming or splitting them.
    fn cut(&mut self, v: usize, lo: usize, hi: usize) {
        let mut kept = Vec::new();
        for m in self.maps.drain(..) {
            if m.vmar != v || !overlaps(m.base, m.end(), lo, hi) {
                kept.push(m);
                continue;
            }
            for (a, b) in [(m.base, lo.max(m.base)), (hi.min(m.end()), m.end())] {
                if a < b {
                    let (i, j) = ((a - m.base) / PAGE, (b - m.base) / PAGE);
                    kept.push(MMap {
                        base: a,
                        off: m.off + (a - m.base),
                        prot: m.prot[i..j].to_vec(),
                        ..m.clone()
                    });
                }
            }
        }
        self.maps = kept;
    }

    /// The mapping and page index covering `addr`.
    fn page_at(&self, addr: usize) -> Option<(&MMap, usize)> {
        let m = self
            .maps
            .iter()
            .find(|m| m.base <= addr && addr < m.end())?;
        Some((m, (addr - m.base) / PAGE))
    }

    /// The VMO page and byte behind `addr` if an access needing `perm` may touch it
    /// (5.5: mapped, permitted, inside the VMO).
    fn resolve(&self, addr: usize, perm: u32) -> Option<(usize, usize)> {
        let (m, i) = self.page_at(addr)?;
        let off = m.off + (addr - m.base);
        let ok = m.prot[i] & perm == perm && off < self.vmos[m.vmo].pages.len() * PAGE;
        ok.then_some((m.vmo, off))
    }

    fn vmo_byte(&self, vmo: usize, off: usize) -> u8 {
        self.vmos[vmo].pages[off / PAGE]
            .as_ref()
            .map_or(0, |p| p[off % PAGE])
    }

    fn set_vmo_byte(&mut self, vmo: usize, off: usize, b: u8) {
        let page = self.vmos[vmo].pages[off / PAGE].get_or_insert_with(|| vec![0; PAGE]);
        page[off % PAGE] = b;
    }

    /// `read_memory`: every byte readable, else a refusal; never commits.
    fn read(&self, addr: usize, len: usize) -> Result<Vec<u8>, i32> {
        (addr..addr + len)
            .map(|a| {
                let (vmo, off) = self
                    .resolve(a, ZX_VM_PERM_READ)
                    .ok_or(ZX_ERR_INVALID_ARGS)?;
                Ok(self.vmo_byte(vmo, off))
            })
            .collect()
    }

    /// `write_memory`: every byte writable, else a refusal and nothing written.
    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), i32> {
        let spots: Option<Vec<_>> = (addr..addr + data.len())
            .map(|a| self.resolve(a, ZX_VM_PERM_WRITE))
            .collect();
        for ((vmo, off), &b) in spots.ok_or(ZX_ERR_INVALID_ARGS)?.into_iter().zip(data) {
            self.set_vmo_byte(vmo, off, b);
        }
        Ok(())
    }

    fn vmo_size(&self, vmo: usize) -> usize {
        self.vmos[vmo].pages.len() * PAGE
    }

    /// Commits (`Some(zero page)` where absent) or decommits whole pages.
    fn commit(&mut self, vmo: usize, first: usize, end: usize, commit: bool) {
        for p in &mut self.vmos[vmo].pages[first..end] {
            if !commit {
                *p = None;
            } else if p.is_none() {
                *p = Some(vec![0; PAGE]);
            }
        }
    }

    /// The `ZX_INFO_PROCESS_MAPS` entries of region `v` and everything below it
    /// (10.5): pre-order, children by address, one entry per protection run.
    fn listing(&self, v: usize, depth: usize, out: &mut Vec<Entry>) {
        let r = &self.vmars[v];
        out.push(Entry {
            kind: ZX_INFO_MAPS_TYPE_VMAR,
            base: r.base,
            size: r.len,
            depth,
            ..Entry::default()
        });
        let mut kids: Vec<(usize, Option<usize>, Option<usize>)> = Vec::new();
        for c in self.subs_in(v, r.base, r.base + r.len) {
            kids.push((self.vmars[c].base, Some(c), None));
        }
        for (i, m) in self.maps.iter().enumerate().filter(|(_, m)| m.vmar == v) {
            kids.push((m.base, None, Some(i)));
        }
        kids.sort();
        for (_, sub, map) in kids {
            if let Some(c) = sub {
                self.listing(c, depth + 1, out);
            }
            let Some(m) = map.map(|i| &self.maps[i]) else {
                continue;
            };
            let mut i = 0;
            while i < m.prot.len() {
                let j = (i..m.prot.len())
                    .find(|&j| m.prot[j] != m.prot[i])
                    .unwrap_or(m.prot.len());
                let (off, pages) = (m.off + i * PAGE, &self.vmos[m.vmo].pages);
                let committed = (off / PAGE..off / PAGE + (j - i))
                    .filter(|&p| pages.get(p).is_some_and(|p| p.is_some()))
                    .count();
                out.push(Entry {
                    kind: ZX_INFO_MAPS_TYPE_MAPPING,
                    base: m.base + i * PAGE,
                    size: (j - i) * PAGE,
                    depth: depth + 1,
                    mmu_flags: m.prot[i],
                    vmo_koid: self.vmos[m.vmo].koid,
                    vmo_offset: off as u64,
                    committed,
                });
                i = j;
            }
        }
    }
}

/// One `zx_info_maps_t` record, the fields compared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Entry {
    kind: u32,
    base: usize,
    size: usize,
    depth: usize,
    mmu_flags: u32,
    vmo_koid: u64,
    vmo_offset: u64,
    committed: usize,
}

// ---------------------------------------------------------------- operations

/// Where a new region or mapping goes.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// `ZX_VM_SPECIFIC` at this page of the target region.
    Specific(usize),
    /// `ZX_VM_SPECIFIC_OVERWRITE` at this page (mappings only; `Specific` for regions).
    Overwrite(usize),
    /// Placement by the kernel: first fit in a compact region, random otherwise.
    Anywhere,
}

/// One step. Region and handle indices are taken modulo the live lists. With
/// `snap: Some(k)`, an address is taken relative to the `k`-th mapping (modulo their
/// number) instead of the region, so that more calls land on mapped pages.
#[derive(Clone, Debug)]
enum Op {
    Allocate {
        parent: usize,
        place: Place,
        pages: usize,
        /// 0, `CAN_MAP_READ` or `CAN_MAP_READ | CAN_MAP_WRITE`, plus maybe `CAN_MAP_SPECIFIC` / `COMPACT`.
        flags: u32,
        align_log2: u32,
    },
    Map {
        vmar: usize,
        vmo: usize,
        place: Place,
        vmo_page: usize,
        len: usize,
        perms: u32,
    },
    Unmap {
        vmar: usize,
        snap: Option<usize>,
        page: usize,
        len: usize,
    },
    Protect {
        vmar: usize,
        snap: Option<usize>,
        page: usize,
        len: usize,
        perms: u32,
    },
    Destroy {
        vmar: usize,
    },
    VmarRange {
        vmar: usize,
        commit: bool,
        snap: Option<usize>,
        page: usize,
        len: usize,
    },
    /// A write through `write_memory`, or with `raw` (when the model says every byte
    /// is writable) through a plain host pointer, which faults pages in for real.
    WriteMem {
        raw: bool,
        snap: Option<usize>,
        page: usize,
        at: usize,
        len: usize,
        byte: u8,
    },
    VmoWrite {
        vmo: usize,
        off: usize,
        len: usize,
        byte: u8,
    },
    VmoRead {
        vmo: usize,
        off: usize,
        len: usize,
    },
    SetSize {
        vmo: usize,
        size: usize,
    },
    /// Closes a VMO handle (`vmo`) or a region handle; later calls with it must
    /// answer `BAD_HANDLE`.
    Close {
        vmo: bool,
        index: usize,
    },
    VmoRange {
        vmo: usize,
        commit: bool,
        page: usize,
        pages: usize,
        unaligned: usize,
    },
}

/// Mostly read-write, so that writes land; write-only is invalid (5.2).
fn perms() -> impl Strategy<Value = u32> {
    prop::sample::select(vec![
        0,
        ZX_VM_PERM_READ,
        ZX_VM_PERM_READ,
        ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
        ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
        ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
        ZX_VM_PERM_READ | ZX_VM_PERM_WRITE,
        ZX_VM_PERM_WRITE,
    ])
}

fn place() -> impl Strategy<Value = Place> {
    prop_oneof![
        (0..AREA_PAGES + 2).prop_map(Place::Specific),
        (0..AREA_PAGES + 2).prop_map(Place::Overwrite),
        Just(Place::Anywhere),
    ]
}

/// A length in bytes: a few whole pages, sometimes more, sometimes a little short
/// (rounded up), sometimes 0.
fn len() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => (1..4usize).prop_map(|p| p * PAGE),
        2 => (4..12usize).prop_map(|p| p * PAGE),
        2 => (1..12usize, 1..PAGE).prop_map(|(p, short)| p * PAGE - short),
        1 => Just(0usize),
    ]
}

/// Mostly one of the three full handles, sometimes a reduced one.
fn vmo_handle() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0..3usize, 1 => 3..5usize]
}

fn snap() -> impl Strategy<Value = Option<usize>> {
    prop::option::weighted(0.6, any::<usize>())
}

fn op() -> impl Strategy<Value = Op> {
    let flags = (0..6usize, any::<bool>(), any::<bool>()).prop_map(|(rw, spec, compact)| {
        [
            0,
            ZX_VM_CAN_MAP_READ,
            ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE,
        ][rw.saturating_sub(3)]
            | if spec { ZX_VM_CAN_MAP_SPECIFIC } else { 0 }
            | if compact { ZX_VM_COMPACT } else { 0 }
    });
    prop_oneof![
        3 => (any::<usize>(), place(), 1..12usize, flags, prop::sample::select(vec![0u32, 0, 13, 14]))
            .prop_map(|(parent, place, pages, flags, align_log2)| Op::Allocate { parent, place, pages, flags, align_log2 }),
        8 => (any::<usize>(), vmo_handle(), place(), 0..4usize, len(), perms())
            .prop_map(|(vmar, vmo, place, vmo_page, len, perms)| Op::Map { vmar, vmo, place, vmo_page, len, perms }),
        3 => (any::<usize>(), snap(), 0..AREA_PAGES + 2, len())
            .prop_map(|(vmar, snap, page, len)| Op::Unmap { vmar, snap, page, len }),
        3 => (any::<usize>(), snap(), 0..AREA_PAGES + 2, len(), perms())
            .prop_map(|(vmar, snap, page, len, perms)| Op::Protect { vmar, snap, page, len, perms }),
        1 => any::<usize>().prop_map(|vmar| Op::Destroy { vmar }),
        2 => (any::<usize>(), any::<bool>(), snap(), 0..AREA_PAGES + 2, len())
            .prop_map(|(vmar, commit, snap, page, len)| Op::VmarRange { vmar, commit, snap, page, len }),
        4 => (any::<bool>(), snap(), 0..AREA_PAGES - 2, 0..PAGE, prop_oneof![3 => 1..256usize, 1 => 1..2 * PAGE], any::<u8>())
            .prop_map(|(raw, snap, page, at, len, byte)| Op::WriteMem { raw, snap, page, at, len, byte }),
        3 => (vmo_handle(), 0..8 * PAGE, 0..2 * PAGE, any::<u8>())
            .prop_map(|(vmo, off, len, byte)| Op::VmoWrite { vmo, off, len, byte }),
        2 => (vmo_handle(), 0..8 * PAGE, 0..2 * PAGE)
            .prop_map(|(vmo, off, len)| Op::VmoRead { vmo, off, len }),
        2 => (any::<usize>(), 0..12 * PAGE).prop_map(|(vmo, size)| Op::SetSize { vmo, size }),
        1 => (any::<bool>(), any::<usize>()).prop_map(|(vmo, index)| Op::Close { vmo, index }),
        2 => (any::<usize>(), any::<bool>(), 0..12usize, 0..6usize, prop::sample::select(vec![0usize, 0, 1, 100]))
            .prop_map(|(vmo, commit, page, pages, unaligned)| Op::VmoRange { vmo, commit, page, pages, unaligned }),
    ]
}

// ---------------------------------------------------------------- the harness

/// A region handle the test holds: its value, its region (model index), its rights.
#[derive(Clone, Copy, Debug)]
struct VmarHandle {
    value: u32,
    vmar: usize,
    rights: u32,
    closed: bool,
}

/// A VMO handle the test holds: its value, its VMO (model index), its rights.
#[derive(Clone, Copy, Debug)]
struct VmoHandle {
    value: u32,
    vmo: usize,
    rights: u32,
    closed: bool,
}

struct World {
    p: TestProcess,
    m: Model,
    /// Region handles: the test region's, a second one to it without OP_CHILDREN,
    /// then one for each new region.
    vmar_h: Vec<VmarHandle>,
    vmo_h: Vec<VmoHandle>,
    step: usize,
}

fn read_u32(p: &TestProcess, at: usize) -> u32 {
    let mut b = [0u8; 4];
    p.read_memory(at, &mut b).unwrap();
    u32::from_ne_bytes(b)
}

fn read_usize(p: &TestProcess, at: usize) -> usize {
    let mut b = [0u8; 8];
    p.read_memory(at, &mut b).unwrap();
    usize::from_ne_bytes(b)
}

impl World {
    fn new() -> World {
        World::on(new_process())
    }

    fn on(p: TestProcess) -> World {
        let s = p.scratch();
        let flags = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC;
        let st = p.zx_vmar_allocate(p.zx_vmar_root_self(), flags, 0, AREA_PAGES * PAGE, s, s + 8);
        assert_eq!(st, ZX_OK);
        let r0 = MVmar {
            base: read_usize(&p, s + 8),
            len: AREA_PAGES * PAGE,
            flags,
            parent: NONE,
            alive: true,
        };
        let mut w = World {
            vmar_h: vec![VmarHandle {
                value: read_u32(&p, s),
                vmar: 0,
                rights: ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ | ZX_RIGHT_WRITE,
                closed: false,
            }],
            p,
            m: Model {
                vmars: vec![r0],
                ..Model::default()
            },
            vmo_h: Vec::new(),
            step: 0,
        };
        let r0 = w.vmar_h[0];
        let rights = r0.rights & !ZX_RIGHT_OP_CHILDREN;
        assert_eq!(w.p.zx_handle_duplicate(r0.value, rights, s), ZX_OK);
        let value = read_u32(&w.p, s);
        w.vmar_h.push(VmarHandle {
            value,
            rights,
            ..r0
        });
        // Three VMOs (the last resizable), then two reduced handles: read-only, and
        // read-write without MAP.
        for (pages, options) in [(8, 0), (3, 0), (4, ZX_VMO_RESIZABLE)] {
            assert_eq!(w.p.zx_vmo_create((pages * PAGE) as u64, options, s), ZX_OK);
            let value = read_u32(&w.p, s);
            let info = HandleBasic::read_from(&w.info(value, ZX_INFO_HANDLE_BASIC, 32));
            w.m.vmos.push(MVmo {
                pages: vec![None; pages],
                resizable: options != 0,
                koid: info.koid,
            });
            let rights = info.rights;
            w.vmo_h.push(VmoHandle {
                value,
                vmo: w.m.vmos.len() - 1,
                rights,
                closed: false,
            });
        }
        for (of, rights) in [
            (0, ZX_RIGHT_READ | ZX_RIGHT_MAP),
            (1, ZX_RIGHT_READ | ZX_RIGHT_WRITE),
        ] {
            let h = w.vmo_h[of];
            assert_eq!(w.p.zx_handle_duplicate(h.value, rights, s), ZX_OK);
            w.vmo_h.push(VmoHandle {
                value: read_u32(&w.p, s),
                vmo: h.vmo,
                rights,
                closed: false,
            });
        }
        w
    }

    /// `zx_object_get_info` into the buffer area; the record bytes.
    fn info(&self, h: u32, topic: u32, size: usize) -> Vec<u8> {
        let s = self.p.scratch();
        assert_eq!(
            self.p
                .zx_object_get_info(h, topic, s + BUF, size, s + OUT_H, s + OUT_A),
            ZX_OK
        );
        let mut b = vec![0u8; size];
        self.p.read_memory(s + BUF, &mut b).unwrap();
        b
    }

    /// The implementation's listing of the test region and everything below it.
    fn listing(&self) -> Vec<Entry> {
        let s = self.p.scratch();
        let me = self.p.zx_process_self();
        assert_eq!(
            self.p
                .zx_object_get_info(me, ZX_INFO_PROCESS_MAPS, s + BUF, 0, s, s + 8),
            ZX_OK
        );
        let avail = read_usize(&self.p, s + 8);
        let all = self.info(me, ZX_INFO_PROCESS_MAPS, avail * MapsEntry::SIZE);
        let entries: Vec<Entry> = all
            .chunks(MapsEntry::SIZE)
            .map(|b| {
                let e = MapsEntry::read_from(b);
                Entry {
                    base: e.base,
                    size: e.size,
                    depth: e.depth,
                    kind: e.kind,
                    mmu_flags: e.mapping.mmu_flags,
                    vmo_koid: e.mapping.vmo_koid,
                    vmo_offset: e.mapping.vmo_offset,
                    committed: e.mapping.committed_pages,
                }
            })
            .collect();
        let r0 = self.m.vmars[0].base;
        let at = entries
            .iter()
            .position(|e| e.kind == ZX_INFO_MAPS_TYPE_VMAR && e.base == r0)
            .expect("the test region is listed");
        let depth = entries[at].depth;
        let mut out = vec![entries[at].clone()];
        out.extend(
            entries[at + 1..]
                .iter()
                .take_while(|e| e.depth > depth)
                .cloned(),
        );
        out
    }

    /// Page `page` of region `v`, or with `snap: Some(k)` page `page` (modulo its
    /// size) of the `k`-th mapping under `v`, if there is one.
    fn addr(&self, v: usize, snap: Option<usize>, page: usize) -> usize {
        let r = &self.m.vmars[v];
        let ids = self.m.maps_under(v, r.base, r.base + r.len);
        match snap {
            Some(k) if !ids.is_empty() => {
                let m = &self.m.maps[ids[k % ids.len()]];
                m.base + page % m.prot.len() * PAGE
            }
            _ => r.base + page * PAGE,
        }
    }

    /// Whether `op` names a handle that was closed (every call answers `BAD_HANDLE`
    /// first then, 1.3).
    fn closed(&self, op: &Op) -> bool {
        let region = |i: usize| self.vmar(i).closed;
        match *op {
            Op::Allocate { parent, .. } => region(parent),
            Op::Map { vmar, vmo, .. } => region(vmar) || self.vmo(vmo).closed,
            Op::Unmap { vmar, .. } | Op::Protect { vmar, .. } | Op::VmarRange { vmar, .. } => {
                region(vmar)
            }
            Op::Destroy { vmar } => self.vmar_h[self.not_main(vmar)].closed,
            Op::VmoWrite { vmo, .. }
            | Op::VmoRead { vmo, .. }
            | Op::SetSize { vmo, .. }
            | Op::VmoRange { vmo, .. } => self.vmo(vmo).closed,
            Op::WriteMem { .. } | Op::Close { .. } => false,
        }
    }

    fn vmar(&self, i: usize) -> VmarHandle {
        self.vmar_h[i % self.vmar_h.len()]
    }

    /// Index of a region handle other than the test region's own (closing or
    /// destroying through that one would end most of the case).
    fn not_main(&self, i: usize) -> usize {
        1 + i % (self.vmar_h.len() - 1)
    }

    fn vmo(&self, i: usize) -> VmoHandle {
        self.vmo_h[i % self.vmo_h.len()]
    }

    /// Runs `op` on both sides and checks that they agree.
    fn run(&mut self, op: &Op) {
        self.step += 1;
        let (got, want) = self.apply(op);
        assert_eq!(
            got,
            want,
            "status of step {} {op:?} in {}",
            self.step,
            self.m.summary()
        );
        self.check(&format!("step {} {op:?}", self.step));
    }

    /// The listing and the bytes `read_memory` sees on every page of the test region.
    fn check(&self, after: &str) {
        let mut want = Vec::new();
        self.m.listing(0, self.listing()[0].depth, &mut want);
        assert_eq!(self.listing(), want, "maps after {after}");
        let base = self.m.vmars[0].base;
        for page in 0..AREA_PAGES {
            let addr = base + page * PAGE + (self.step * 131 + page * 17) % (PAGE - 16);
            let mut b = [0u8; 16];
            let got = self.p.read_memory(addr, &mut b).map(|()| b.to_vec());
            let want = self.m.read(addr, 16);
            assert_eq!(got, want, "read_memory({addr:#x}) after {after}");
            if let Ok(want) = want {
                // SAFETY: the model and the kernel agree these 16 bytes are mapped
                // readable inside their VMO, in this process's window of host memory;
                // the unix backend's fault handler maps the page on a fault.
                let raw: Vec<u8> = (0..16)
                    .map(|i| unsafe { std::ptr::read_volatile((addr + i) as *const u8) })
                    .collect();
                assert_eq!(raw, want, "a host read at {addr:#x} after {after}");
            }
        }
    }

    /// The implementation's status and the model's for `op`; the model is updated.
    fn apply(&mut self, op: &Op) -> (i32, i32) {
        let s = self.p.scratch();
        match *op {
            Op::Close { vmo, index } => {
                let (value, closed) = if vmo {
                    let h = &mut self.vmo_h[index % 5];
                    (h.value, std::mem::replace(&mut h.closed, true))
                } else {
                    let i = self.not_main(index);
                    let h = &mut self.vmar_h[i];
                    (h.value, std::mem::replace(&mut h.closed, true))
                };
                // 5.1: closing a handle changes nothing in the address space.
                let want = if closed { ZX_ERR_BAD_HANDLE } else { ZX_OK };
                (self.p.zx_handle_close(value), want)
            }
            Op::Allocate {
                parent,
                place,
                pages,
                flags,
                align_log2,
            } => {
                let vh = self.vmar(parent);
                let v = vh.vmar;
                let (size, align) = (
                    pages * PAGE,
                    if align_log2 == 0 {
                        PAGE
                    } else {
                        1 << align_log2
                    },
                );
                let offset = match place {
                    Place::Specific(p) | Place::Overwrite(p) => p * PAGE,
                    Place::Anywhere => 0,
                };
                let specific = !matches!(place, Place::Anywhere);
                let options = flags
                    | (align_log2 << ZX_VM_ALIGN_BASE)
                    | if specific { ZX_VM_SPECIFIC } else { 0 };
                let got =
                    self.p
                        .zx_vmar_allocate(vh.value, options, offset, size, s + OUT_H, s + OUT_A);
                if self.closed(op) {
                    return (got, ZX_ERR_BAD_HANDLE);
                }
                let want = self.model_allocate(vh, specific, offset, size, flags, align);
                if let (ZX_OK, Ok(predicted)) = (got, want) {
                    let base = read_usize(&self.p, s + OUT_A);
                    if let Some(b) = predicted {
                        assert_eq!(base, b, "compact or specific placement");
                    } else {
                        assert!(
                            base % align == 0
                                && self.m.inside(v, base, base + size)
                                && self.m.free(v, base, base + size),
                            "random placement at {base:#x}"
                        );
                    }
                    self.m.vmars.push(MVmar {
                        base,
                        len: size,
                        flags,
                        parent: v,
                        alive: true,
                    });
                    self.vmar_h.push(VmarHandle {
                        value: read_u32(&self.p, s + OUT_H),
                        vmar: self.m.vmars.len() - 1,
                        rights: ZX_DEFAULT_VMAR_RIGHTS | can_map_rights(flags),
                        closed: false,
                    });
                }
                (got, want.err().unwrap_or(ZX_OK))
            }
            Op::Map {
                vmar,
                vmo,
                place,
                vmo_page,
                len,
                perms,
            } => {
                let (vh, h) = (self.vmar(vmar), self.vmo(vmo));
                let v = vh.vmar;
                let offset = match place {
                    Place::Specific(p) | Place::Overwrite(p) => p * PAGE,
                    Place::Anywhere => 0,
                };
                let mode = match place {
                    Place::Specific(_) => ZX_VM_SPECIFIC,
                    Place::Overwrite(_) => ZX_VM_SPECIFIC_OVERWRITE,
                    Place::Anywhere => 0,
                };
                let got = self.p.zx_vmar_map(
                    vh.value,
                    perms | mode,
                    offset,
                    h.value,
                    (vmo_page * PAGE) as u64,
                    len,
                    s + OUT_A,
                );
                if self.closed(op) {
                    return (got, ZX_ERR_BAD_HANDLE);
                }
                let want = self.model_map(vh, h, place, offset, len, perms);
                if let (ZX_OK, Ok(predicted)) = (got, &want) {
                    let base = read_usize(&self.p, s + OUT_A);
                    let size = len.next_multiple_of(PAGE);
                    match predicted {
                        Some(b) => assert_eq!(base, *b, "compact or specific placement"),
                        None => assert!(
                            self.m.inside(v, base, base + size)
                                && self.m.free(v, base, base + size),
                            "random placement at {base:#x}"
                        ),
                    }
                    if mode == ZX_VM_SPECIFIC_OVERWRITE {
                        self.m.cut(v, base, base + size);
                    }
                    let max = self.allowed(vh, h);
                    self.m.maps.push(MMap {
                        vmar: v,
                        base,
                        vmo: h.vmo,
                        off: vmo_page * PAGE,
                        prot: vec![perms; size / PAGE],
                        max,
                    });
                }
                (got, want.err().unwrap_or(ZX_OK))
            }
            Op::Unmap {
                vmar,
                snap,
                page,
                len,
            } => {
                let vh = self.vmar(vmar);
                let v = vh.vmar;
                let addr = self.addr(v, snap, page);
                let got = self.p.zx_vmar_unmap(vh.value, addr, len);
                if self.closed(op) {
                    return (got, ZX_ERR_BAD_HANDLE);
                }
                (got, self.model_unmap(vh, addr, len))
            }
            Op::Protect {
                vmar,
                snap,
                page,
                len,
                perms,
            } => {
                let vh = self.vmar(vmar);
                let v = vh.vmar;
                let addr = self.addr(v, snap, page);
                let got = self.p.zx_vmar_protect(vh.value, perms, addr, len);
                if self.closed(op) {
                    return (got, ZX_ERR_BAD_HANDLE);
                }
                (got, self.model_protect(vh, addr, len, perms))
            }
            Op::Destroy { vmar } => {
                let vh = self.vmar_h[self.not_main(vmar)];
                let v = vh.vmar;
                let got = self.p.zx_vmar_destroy(vh.value);
                if self.closed(op) {
                    return (got, ZX_ERR_BAD_HANDLE);
                }
                // 6.5: the handle needs OP_CHILDREN; the test region is not the root.
                let want = if vh.rights & ZX_RIGHT_OP_CHILDREN == 0 {
                    ZX_ERR_ACCESS_DENIED
                } else if self.m.vmars[v].alive {
                    self.m.kill(v);
                    ZX_OK
                } else {
                    ZX_ERR_BAD_STATE
                };
                (got, want)
            }
            Op::VmarRange {
                vmar,
                commit,
                snap,
                page,
                len,
            } => {
                let vh = self.vmar(vmar);
                let v = vh.vmar;
                let addr = self.addr(v, snap, page);
                let code = if commit {
                    ZX_VMAR_OP_COMMIT
                } else {
                    ZX_VMAR_OP_DECOMMIT
                };
                if self.closed(op) {
                    let got = self.p.zx_vmar_op_range(vh.value, code, addr, len, 0, 0);
                    return (got, ZX_ERR_BAD_HANDLE);
                }
                let Some(want) = self.model_vmar_op(vh, commit, addr, len) else {
                    return (ZX_OK, ZX_OK); // not predicted: not run (see `model_vmar_op`)
                };
                (
                    self.p.zx_vmar_op_range(vh.value, code, addr, len, 0, 0),
                    want,
                )
            }
            Op::WriteMem {
                raw,
                snap,
                page,
                at,
                len,
                byte,
            } => {
                // Never past the test region: what lies beyond is not modelled.
                let addr = (self.addr(0, snap, page) + at).min(self.m.end(0) - 1);
                let len = len.min(self.m.end(0) - addr);
                let data: Vec<u8> = (0..len).map(|i| byte.wrapping_add(i as u8)).collect();
                let want = self.m.write(addr, &data).err().unwrap_or(ZX_OK);
                if raw && want == ZX_OK {
                    // SAFETY: the model says every byte of `[addr, addr + len)` is mapped
                    // writable inside its VMO, in this process's window of host memory;
                    // the unix backend's fault handler brings the pages in. If the
                    // implementation disagreed, the fault would kill the test (a finding).
                    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, len) };
                    return (ZX_OK, want);
                }
                (
                    self.p.write_memory(addr, &data).err().unwrap_or(ZX_OK),
                    want,
                )
            }
            Op::VmoWrite {
                vmo,
                off,
                len,
                byte,
            } => {
                let h = self.vmo(vmo);
                let data: Vec<u8> = (0..len).map(|i| byte.wrapping_add(i as u8)).collect();
                self.p.write_memory(s + BUF, &data).unwrap();
                let got = self.p.zx_vmo_write(h.value, s + BUF, off as u64, len);
                if self.closed(op) {
                    return (got, ZX_ERR_BAD_HANDLE);
                }
                let want = if h.rights & ZX_RIGHT_WRITE == 0 {
                    ZX_ERR_ACCESS_DENIED
                } else if off + len > self.m.vmo_size(h.vmo) {
                    ZX_ERR_OUT_OF_RANGE
                } else {
                    for (i, &b) in data.iter().enumerate() {
                        self.m.set_vmo_byte(h.vmo, off + i, b);
                    }
                    ZX_OK
                };
                (got, want)
            }
            Op::VmoRead { vmo, off, len } => {
                let h = self.vmo(vmo);
                let got = self.p.zx_vmo_read(h.value, s + BUF, off as u64, len);
                if self.closed(op) {
                    return (got, ZX_ERR_BAD_HANDLE);
                }
                let want = if h.rights & ZX_RIGHT_READ == 0 {
                    ZX_ERR_ACCESS_DENIED
                } else if off + len > self.m.vmo_size(h.vmo) {
                    ZX_ERR_OUT_OF_RANGE
                } else {
                    ZX_OK
                };
                if got == ZX_OK && want == ZX_OK {
                    let mut b = vec![0u8; len];
                    self.p.read_memory(s + BUF, &mut b).unwrap();
                    let expect: Vec<u8> = (off..off + len)
                        .map(|o| self.m.vmo_byte(h.vmo, o))
                        .collect();
                    assert_eq!(b, expect, "zx_vmo_read bytes at step {}", self.step);
                }
                (got, want)
            }
            Op::SetSize { vmo, size } => {
                let h = self.vmo(vmo);
                let got = self.p.zx_vmo_set_size(h.value, size as u64);
                if self.closed(op) {
                    return (got, ZX_ERR_BAD_HANDLE);
                }
                let vmo = &mut self.m.vmos[h.vmo];
                let want = if h.rights & ZX_RIGHT_WRITE == 0 {
                    ZX_ERR_ACCESS_DENIED
                } else if !vmo.resizable {
                    ZX_ERR_UNAVAILABLE
                } else {
                    // 8.4: the size is rounded up; the bytes from `size` to the page end read as zeros.
                    vmo.pages.resize(size.div_ceil(PAGE), None);
                    if let Some(Some(last)) = vmo.pages.get_mut(size / PAGE) {
                        last[size % PAGE..].fill(0);
                    }
                    ZX_OK
                };
                (got, want)
            }
            Op::VmoRange {
                vmo,
                commit,
                page,
                pages,
                unaligned,
            } => {
                let h = self.vmo(vmo);
                // DECOMMIT needs a page-aligned range (8.5): only COMMIT gets unaligned ones.
                let unaligned = if commit { unaligned } else { 0 };
                let (off, len) = (page * PAGE + unaligned, pages * PAGE);
                let code = if commit {
                    ZX_VMO_OP_COMMIT
                } else {
                    ZX_VMO_OP_DECOMMIT
                };
                let size = self.m.vmo_size(h.vmo);
                // A zero-length range is only generated inside the VMO: the ABI does not
                // order the range check against the zero-length success.
                let off = if len == 0 { off.min(size) } else { off };
                let got = self
                    .p
                    .zx_vmo_op_range(h.value, code, off as u64, len as u64, 0, 0);
                if self.closed(op) {
                    return (got, ZX_ERR_BAD_HANDLE);
                }
                let want = if h.rights & ZX_RIGHT_WRITE == 0 {
                    ZX_ERR_ACCESS_DENIED
                } else if off + len > size {
                    ZX_ERR_OUT_OF_RANGE
                } else {
                    if len > 0 {
                        self.m
                            .commit(h.vmo, off / PAGE, (off + len).div_ceil(PAGE), commit);
                    }
                    ZX_OK
                };
                (got, want)
            }
        }
    }

    /// 5.2: what a mapping through region `v`'s handle and VMO handle `h` may ever do.
    fn allowed(&self, vh: VmarHandle, h: VmoHandle) -> u32 {
        let both = h.rights & vh.rights;
        map_bit(both, ZX_RIGHT_READ, ZX_VM_PERM_READ)
            | map_bit(both, ZX_RIGHT_WRITE, ZX_VM_PERM_WRITE)
    }
}

// ---------------------------------------------------------------- status predictions

impl World {
    /// 6.1, for valid handles and option bits. `Ok(Some(base))` when the base is
    /// determined (specific, or a compact parent), `Ok(None)` for random placement.
    fn model_allocate(
        &self,
        vh: VmarHandle,
        specific: bool,
        offset: usize,
        size: usize,
        flags: u32,
        align: usize,
    ) -> Result<Option<usize>, i32> {
        let (v, r) = (vh.vmar, &self.m.vmars[vh.vmar]);
        let can = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE;
        let need_rights = can_map_rights(flags);
        if vh.rights & need_rights != need_rights {
            return Err(ZX_ERR_ACCESS_DENIED); // step 1
        }
        if !r.alive {
            return Err(ZX_ERR_BAD_STATE); // step 6
        }
        if flags & can & !r.flags != 0 {
            return Err(ZX_ERR_ACCESS_DENIED); // step 8
        }
        self.place(v, specific, false, offset, size, align)
    }

    /// The placement checks shared by allocate (6.1 steps 12-15) and map (6.2 steps
    /// 23-26); with `overwrite`, an overlap is left to the caller (6.2 step 27).
    fn place(
        &self,
        v: usize,
        specific: bool,
        overwrite: bool,
        offset: usize,
        size: usize,
        align: usize,
    ) -> Result<Option<usize>, i32> {
        let r = &self.m.vmars[v];
        if specific && r.flags & ZX_VM_CAN_MAP_SPECIFIC == 0 {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        if offset >= r.len || size > r.len - offset {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if specific {
            let base = r.base + offset;
            if base % align != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            if !overwrite && !self.m.free(v, base, base + size) {
                return Err(ZX_ERR_ALREADY_EXISTS);
            }
            return Ok(Some(base));
        }
        match self.m.first_fit(v, size, align) {
            None => Err(ZX_ERR_NO_RESOURCES),
            Some(b) if r.flags & ZX_VM_COMPACT != 0 => Ok(Some(b)),
            Some(_) => Ok(None),
        }
    }

    /// 6.2, for valid handles and option bits.
    fn model_map(
        &self,
        vh: VmarHandle,
        h: VmoHandle,
        place: Place,
        offset: usize,
        len: usize,
        perms: u32,
    ) -> Result<Option<usize>, i32> {
        if h.rights & ZX_RIGHT_MAP == 0 {
            return Err(ZX_ERR_ACCESS_DENIED); // step 3
        }
        if perms & ZX_VM_PERM_WRITE != 0 && perms & ZX_VM_PERM_READ == 0 {
            return Err(ZX_ERR_INVALID_ARGS); // step 5
        }
        let v = vh.vmar;
        if perms & !self.allowed(vh, h) != 0 {
            return Err(ZX_ERR_ACCESS_DENIED); // step 8
        }
        if !self.m.vmars[v].alive {
            return Err(ZX_ERR_BAD_STATE); // step 17
        }
        if len == 0 {
            return Err(ZX_ERR_INVALID_ARGS); // step 18
        }
        let size = len.next_multiple_of(PAGE);
        let specific = !matches!(place, Place::Anywhere);
        let overwrite = matches!(place, Place::Overwrite(_));
        let base = self.place(v, specific, overwrite, offset, size, PAGE)?;
        if let (Place::Overwrite(_), Some(b)) = (place, base) {
            if !self.m.subs_in(v, b, b + size).is_empty() {
                return Err(ZX_ERR_INVALID_ARGS); // step 27
            }
        }
        Ok(base)
    }

    /// 6.3, for valid handles and aligned addresses.
    fn model_unmap(&mut self, vh: VmarHandle, addr: usize, len: usize) -> i32 {
        let v = vh.vmar;
        let hi = addr.saturating_add(len.next_multiple_of(PAGE));
        if len == 0 {
            return ZX_ERR_INVALID_ARGS;
        }
        if !self.m.vmars[v].alive {
            return ZX_ERR_BAD_STATE;
        }
        if !self.m.inside(v, addr, hi) {
            return ZX_ERR_INVALID_ARGS;
        }
        let subs = self.m.subs_in(v, addr, hi);
        let partly = |c: &usize| {
            let r = &self.m.vmars[*c];
            r.base < addr || r.base + r.len > hi
        };
        let op_children = vh.rights & ZX_RIGHT_OP_CHILDREN != 0;
        if subs.iter().any(partly) || (!subs.is_empty() && !op_children) {
            return ZX_ERR_INVALID_ARGS; // step 8
        }
        for c in subs {
            self.m.kill(c);
        }
        self.m.cut(v, addr, hi);
        ZX_OK
    }

    /// 6.4, for valid handles and aligned addresses.
    fn model_protect(&mut self, vh: VmarHandle, addr: usize, len: usize, perms: u32) -> i32 {
        let (v, r) = (vh.vmar, &self.m.vmars[vh.vmar]);
        let need = perm_rights(perms);
        if vh.rights & need != need {
            return ZX_ERR_ACCESS_DENIED; // step 2
        }
        if perms & ZX_VM_PERM_WRITE != 0 && perms & ZX_VM_PERM_READ == 0 {
            return ZX_ERR_INVALID_ARGS; // step 3
        }
        let hi = addr.saturating_add(len.next_multiple_of(PAGE));
        if len == 0 {
            return ZX_ERR_INVALID_ARGS; // step 6
        }
        if !r.alive {
            return ZX_ERR_BAD_STATE;
        }
        if !self.m.inside(v, addr, hi) {
            return ZX_ERR_INVALID_ARGS;
        }
        // Step 9: walk the mappings at any depth in address order.
        let ids = self.m.maps_under(v, addr, hi);
        let mut cursor = addr;
        for &i in &ids {
            let m = &self.m.maps[i];
            if m.base > cursor {
                return ZX_ERR_NOT_FOUND;
            }
            if perms & !m.max != 0 {
                return ZX_ERR_ACCESS_DENIED;
            }
            let pages = (m.base.max(addr) - m.base) / PAGE..(m.end().min(hi) - m.base) / PAGE;
            if m.vmar != v && vh.rights & ZX_RIGHT_OP_CHILDREN == 0 {
                return ZX_ERR_INVALID_ARGS;
            }
            if m.vmar != v && m.prot[pages].iter().any(|&cur| perms & !cur != 0) {
                return ZX_ERR_ACCESS_DENIED;
            }
            cursor = m.end();
        }
        if cursor < hi {
            return ZX_ERR_NOT_FOUND;
        }
        for i in ids {
            let m = &mut self.m.maps[i];
            let pages = (m.base.max(addr) - m.base) / PAGE..(m.end().min(hi) - m.base) / PAGE;
            m.prot[pages].fill(perms);
        }
        ZX_OK
    }

    /// 6.6 COMMIT / DECOMMIT, for valid handles and aligned addresses: the walk in
    /// address order stops at the first gap or failing piece, earlier pieces done.
    fn model_vmar_op(
        &mut self,
        vh: VmarHandle,
        commit: bool,
        addr: usize,
        len: usize,
    ) -> Option<i32> {
        let (v, r) = (vh.vmar, &self.m.vmars[vh.vmar]);
        if vh.rights & ZX_RIGHT_WRITE == 0 {
            return Some(ZX_ERR_ACCESS_DENIED); // step 3
        }
        let hi = addr.saturating_add(len.next_multiple_of(PAGE));
        if len == 0 {
            return Some(ZX_ERR_INVALID_ARGS); // step 5
        }
        if !self.m.inside(v, addr, hi) {
            return Some(ZX_ERR_OUT_OF_RANGE); // step 6
        }
        if !r.alive {
            return Some(ZX_ERR_BAD_STATE); // step 7
        }
        // Step 8: in address order, a gap or a failing piece stops the walk; earlier
        // pieces stay done.
        let mut cursor = addr;
        for i in self.m.maps_under(v, addr, hi) {
            let m = self.m.maps[i].clone();
            if m.base > cursor {
                return Some(ZX_ERR_BAD_STATE);
            }
            if m.vmar != v {
                return Some(ZX_ERR_INVALID_ARGS);
            }
            if m.max & ZX_VM_PERM_WRITE == 0 {
                return Some(ZX_ERR_ACCESS_DENIED);
            }
            let (lo, end) = (
                m.off + (m.base.max(addr) - m.base),
                m.off + (m.end().min(hi) - m.base),
            );
            if end > self.m.vmo_size(m.vmo) {
                return Some(ZX_ERR_OUT_OF_RANGE);
            }
            self.m.commit(m.vmo, lo / PAGE, end / PAGE, commit);
            cursor = m.end();
        }
        if cursor < hi {
            return Some(ZX_ERR_BAD_STATE); // step 9
        }
        Some(ZX_OK)
    }
}

/// `to` if `from` is set in `bits`, else 0.
fn map_bit(bits: u32, from: u32, to: u32) -> u32 {
    if bits & from != 0 {
        to
    } else {
        0
    }
}

/// The rights that `CAN_MAP_READ` / `CAN_MAP_WRITE` in `flags` need and give (6.1).
fn can_map_rights(flags: u32) -> u32 {
    map_bit(flags, ZX_VM_CAN_MAP_READ, ZX_RIGHT_READ)
        | map_bit(flags, ZX_VM_CAN_MAP_WRITE, ZX_RIGHT_WRITE)
}

/// The rights that `PERM_READ` / `PERM_WRITE` in `perms` need (6.4 step 2).
fn perm_rights(perms: u32) -> u32 {
    map_bit(perms, ZX_VM_PERM_READ, ZX_RIGHT_READ)
        | map_bit(perms, ZX_VM_PERM_WRITE, ZX_RIGHT_WRITE)
}

fn cases() -> u32 {
    std::env::var("MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_address_space_behaves_as_the_model_says(ops in prop::collection::vec(op(), 1..40)) {
        run_case(World::new(), &ops)?;
    }

    /// The same, with the host's mapping cap simulated at a handful of mappings per
    /// address space: host mappings come and go behind the model's back, and it
    /// must not notice (no stale translation, no `NO_MEMORY` it does not predict).
    #[test]
    fn the_address_space_behaves_as_the_model_says_at_the_host_mapping_cap(
        ops in prop::collection::vec(op(), 1..40)
    ) {
        run_case(World::on(new_process_on(default_hal().with_mapping_cap(MAPPING_CAP))), &ops)?;
    }
}

/// The simulated host mapping cap of the second property: fewer host mappings than
/// a case makes, so that the cap is hit in most cases.
const MAPPING_CAP: usize = 3;

fn run_case(mut w: World, ops: &[Op]) -> Result<(), TestCaseError> {
    w.check("setup");
    for op in ops {
        w.run(op);
    }
    // Close everything; the process's drop checks that every frame is free.
    let vmos = w.vmo_h.iter().map(|h| (h.value, h.closed));
    for (h, closed) in vmos.chain(w.vmar_h.iter().map(|h| (h.value, h.closed))) {
        prop_assert_eq!(
            w.p.zx_handle_close(h),
            if closed { ZX_ERR_BAD_HANDLE } else { ZX_OK }
        );
    }
    Ok(())
}

/// 6.6 step 8 walks the range in address order and returns the first failure it
/// meets: here the read-only mapping at the start (`ACCESS_DENIED`, its maximum
/// protection lacks WRITE) comes before the gap after it (`BAD_STATE`).
#[test]
fn vmar_op_range_reports_the_first_failure_in_address_order() {
    let p = new_process();
    let s = p.scratch();
    let flags = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC;
    assert_eq!(
        p.zx_vmar_allocate(p.zx_vmar_root_self(), flags, 0, 2 * PAGE, s, s + 8),
        ZX_OK
    );
    let (region, base) = (read_u32(&p, s), read_usize(&p, s + 8));
    assert_eq!(p.zx_vmo_create(PAGE as u64, 0, s), ZX_OK);
    let vmo = read_u32(&p, s);
    assert_eq!(
        p.zx_handle_duplicate(vmo, ZX_RIGHT_READ | ZX_RIGHT_MAP, s),
        ZX_OK
    );
    let read_only = read_u32(&p, s);
    // Page 0: a mapping whose maximum protection is READ. Page 1: nothing.
    let options = ZX_VM_PERM_READ | ZX_VM_SPECIFIC;
    assert_eq!(
        p.zx_vmar_map(region, options, 0, read_only, 0, PAGE, s),
        ZX_OK
    );
    assert_eq!(read_usize(&p, s), base);
    assert_eq!(
        p.zx_vmar_op_range(region, ZX_VMAR_OP_COMMIT, base, 2 * PAGE, 0, 0),
        ZX_ERR_ACCESS_DENIED
    );
}
