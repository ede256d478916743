//! Random syscalls for fuzzing [`Process::dispatch`]: a syscall number and eight
//! argument words per call, drawn from any [`Entropy`] source (a seeded generator for
//! the `dispatch_fuzz` test, the fuzzer's input bytes for the cargo-fuzz target).
//!
//! Arguments lean toward values that reach deep into the calls: live handle values,
//! pointers into, around and outside the scratch area, addresses earlier calls
//! returned, page-aligned and unaligned sizes, zero, `usize::MAX`, valid option bits.
//! Every VMO is kept small, so committing stays cheap. Which calls exist and what
//! each argument means come from the syscall table ([`SYSCALLS`]), so a call added
//! there is fuzzed with fitting values at once.

use zircon_syscall::signature::{Arg, OptionWord, ValueKind, Word};
use zircon_syscall::*;

use crate::{new_process, TestProcess};

const PAGE: usize = 4096;
const SCRATCH_LEN: usize = crate::SCRATCH_SIZE;
/// The largest VMO the generator lets a call create or grow to, so committing stays cheap.
pub const MAX_VMO: usize = 64 * PAGE;

/// A source of random words for the generator.
pub trait Entropy {
    /// The next random word.
    fn next(&mut self) -> u64;

    /// A value in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with `percent` percent chance.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (not empty).
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// SplitMix64: tiny, fast and good enough to pick fuzz inputs reproducibly.
pub struct SplitMix64(pub u64);

impl Entropy for SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Entropy read from a byte string (a fuzzer's input): small choices take one byte,
/// words take eight; once the bytes run out every draw is 0.
pub struct ByteEntropy<'a> {
    bytes: &'a [u8],
}

impl<'a> ByteEntropy<'a> {
    /// Draws from `bytes`, front to back.
    pub fn new(bytes: &'a [u8]) -> Self {
        ByteEntropy { bytes }
    }

    /// Whether every byte has been used.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn take(&mut self, n: usize) -> u64 {
        let n = n.min(self.bytes.len());
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        let mut word = [0u8; 8];
        word[..n].copy_from_slice(head);
        u64::from_le_bytes(word)
    }
}

impl Entropy for ByteEntropy<'_> {
    fn next(&mut self) -> u64 {
        self.take(8)
    }

    fn below(&mut self, n: usize) -> usize {
        let word = if n <= 256 { self.take(1) } else { self.take(8) };
        (word % n as u64) as usize
    }
}

/// What an argument position means, so its value can be drawn from a fitting pool.
#[derive(Clone, Copy)]
enum Kind {
    Handle,
    Vmar,
    Vmo,
    Proc,
    VmOptions,
    VmoOptions,
    ChildOptions,
    Offset,
    Size,
    Addr,
    Ptr,
    Op,
    Rights,
    Topic,
    Property,
    Small,
    Phys,
    Rsrc,
    Device(u32),
    PinOptions,
}

use Kind::*;

/// The kind of value to draw for each parameter of syscall `number`, from the
/// syscall table (none for a number the table lacks).
fn signature(number: u32) -> Vec<Kind> {
    Syscall::by_number(number).map_or_else(Vec::new, |call| {
        call.params.iter().map(|p| kind_of(p.arg)).collect()
    })
}

/// The pool an argument of the table's kind `arg` is drawn from.
fn kind_of(arg: Arg) -> Kind {
    match arg {
        Arg::Handle(ZX_OBJ_TYPE_VMAR) => Vmar,
        Arg::Handle(ZX_OBJ_TYPE_VMO) => Vmo,
        Arg::Handle(ZX_OBJ_TYPE_PROCESS) => Proc,
        Arg::Handle(ZX_OBJ_TYPE_RESOURCE) => Rsrc,
        Arg::Handle(
            t @ (ZX_OBJ_TYPE_IOMMU | ZX_OBJ_TYPE_BTI | ZX_OBJ_TYPE_PMT | ZX_OBJ_TYPE_PAGER
            | ZX_OBJ_TYPE_PORT),
        ) => Device(t),
        Arg::Handle(_) => Handle,
        Arg::Options(OptionWord::VmoCreate) => VmoOptions,
        Arg::Options(OptionWord::VmoChild) => ChildOptions,
        Arg::Options(OptionWord::BtiPin) => PinOptions,
        Arg::Options(_) => VmOptions,
        Arg::Value(ValueKind::Rights) => Rights,
        Arg::Value(ValueKind::Topic) => Topic,
        Arg::Value(ValueKind::Property) => Property,
        Arg::Value(ValueKind::VmarOp | ValueKind::VmoOp) => Op,
        Arg::Value(_) => Small,
        Arg::Offset | Arg::Plain => Offset,
        Arg::PhysAddr => Phys,
        Arg::Len => Size,
        Arg::Addr => Addr,
        Arg::In(_) | Arg::Out(_) | Arg::InOut(_) | Arg::OutWord(_) => Ptr,
    }
}

/// One process under fuzz, with the handles and addresses its calls have produced.
pub struct Fuzzer {
    /// The process the calls go to.
    pub p: TestProcess,
    /// Live (or once live) handle values with their object types.
    pub handles: Vec<(u32, u32)>,
    addrs: Vec<usize>,
    root_base: usize,
    root_len: usize,
    device: (usize, usize),
    /// The option words of the `zx_vmo_create_child` calls that succeeded.
    pub child_options: Vec<u32>,
}

impl Fuzzer {
    /// A fresh process with a few objects to start from: three VMOs (one resizable,
    /// one mapped) and a sub-region.
    ///
    /// # Panics
    ///
    /// If the host refuses memory for the process, or the setup calls fail.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let p = new_process();
        let s = p.scratch();
        let root = p.zx_vmar_root_self();
        assert_eq!(
            p.zx_object_get_info(root, ZX_INFO_VMAR, s, VmarInfo::SIZE, 0, 0),
            ZX_OK
        );
        let mut info = [0u8; VmarInfo::SIZE];
        p.read_memory(s, &mut info).unwrap();
        let VmarInfo {
            base: root_base,
            len: root_len,
        } = VmarInfo::read_from(&info);
        let mut f = Fuzzer {
            handles: vec![
                (root, ZX_OBJ_TYPE_VMAR),
                (p.zx_process_self(), ZX_OBJ_TYPE_PROCESS),
            ],
            device: p.device_memory(),
            child_options: Vec::new(),
            addrs: vec![s],
            p,
            root_base,
            root_len,
        };
        // A few objects to start from: VMOs (one resizable, one mapped) and a sub-region.
        for (size, options) in [(PAGE, 0), (4 * PAGE, 0), (2 * PAGE, ZX_VMO_RESIZABLE)] {
            assert_eq!(f.p.zx_vmo_create(size as u64, options, s), ZX_OK);
            f.learn_handle(s);
        }
        let options = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_SPECIFIC;
        assert_eq!(
            f.p.zx_vmar_allocate(root, options, 0, 32 * PAGE, s, s + 8),
            ZX_OK
        );
        f.learn_handle(s);
        f.learn_addr(s + 8);
        let rsrc = f.p.root_resource();
        f.handles.push((rsrc, ZX_OBJ_TYPE_RESOURCE));
        // A dummy IOMMU and a BTI behind it, for the pinning calls.
        assert_eq!(
            f.p.zx_iommu_create(rsrc, ZX_IOMMU_TYPE_DUMMY, s, 1, s + 8),
            ZX_OK
        );
        f.learn_handle(s + 8);
        let iommu = f.handles[f.handles.len() - 1].0;
        assert_eq!(f.p.zx_bti_create(iommu, 0, 0, s), ZX_OK);
        f.learn_handle(s);
        let vmo = f.handles[3].0;
        let perms = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
        assert_eq!(f.p.zx_vmar_map(root, perms, 0, vmo, 0, 4 * PAGE, s), ZX_OK);
        f.learn_addr(s);
        f.add_pager();
        f
    }

    /// A pager, a port, and a pager-backed VMO of theirs with every page supplied.
    /// Nobody serves the port, so an absent page would block whoever touches it for
    /// good: the only pager VMO the calls see never has one (it cannot be resized,
    /// decommitted or zeroed), and the pager VMOs that random calls create are never
    /// learned.
    fn add_pager(&mut self) {
        let s = self.p.scratch();
        assert_eq!(self.p.zx_pager_create(0, s), ZX_OK);
        self.learn_handle(s);
        let pager = self.handles[self.handles.len() - 1].0;
        assert_eq!(self.p.zx_port_create(0, s), ZX_OK);
        self.learn_handle(s);
        let port = self.handles[self.handles.len() - 1].0;
        let size = 4 * PAGE as u64;
        assert_eq!(
            self.p.zx_pager_create_vmo(pager, 0, port, 0, size, s),
            ZX_OK
        );
        self.learn_handle(s);
        let paged = self.handles[self.handles.len() - 1].0;
        assert_eq!(self.p.zx_vmo_create(size, 0, s + 8), ZX_OK);
        let mut b = [0u8; 4];
        self.p
            .read_memory(s + 8, &mut b)
            .expect("the scratch area is readable");
        let aux = u32::from_ne_bytes(b);
        assert_eq!(
            self.p.zx_pager_supply_pages(pager, paged, 0, size, aux, 0),
            ZX_OK
        );
        assert_eq!(self.p.zx_handle_close(aux), ZX_OK);
    }

    /// Records the handle value a call wrote at `at`, with its type.
    fn learn_handle(&mut self, at: usize) {
        let mut b = [0u8; 4];
        if self.p.read_memory(at, &mut b).is_err() || self.handles.len() >= 64 {
            return;
        }
        let h = u32::from_ne_bytes(b);
        // The type, asked outside `dispatch`, so later calls can pick fitting handles.
        let s = self.p.scratch() + SCRATCH_LEN - 32;
        if self
            .p
            .zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, s, HandleBasic::SIZE, 0, 0)
            == ZX_OK
        {
            let mut info = [0u8; HandleBasic::SIZE];
            self.p.read_memory(s, &mut info).unwrap();
            let kind = HandleBasic::read_from(&info).obj_type;
            self.handles.push((h, kind));
        }
    }

    /// A handle value of object type `kind` (sometimes any value).
    fn handle_of(&self, rng: &mut impl Entropy, kind: u32) -> usize {
        let fitting: Vec<u32> = self
            .handles
            .iter()
            .filter(|h| h.1 == kind)
            .map(|h| h.0)
            .collect();
        if fitting.is_empty() || rng.chance(15) {
            self.value(rng, Handle)
        } else {
            rng.pick(&fitting) as usize
        }
    }

    /// Records the address a call wrote at `at`.
    fn learn_addr(&mut self, at: usize) {
        let mut b = [0u8; 8];
        if self.p.read_memory(at, &mut b).is_ok() && self.addrs.len() < 64 {
            self.addrs.push(usize::from_ne_bytes(b));
        }
    }

    /// An argument value of `kind`.
    fn value(&self, rng: &mut impl Entropy, kind: Kind) -> usize {
        let s = self.p.scratch();
        let r = rng.next();
        let known = rng.pick(&self.addrs);
        match kind {
            Handle if self.handles.is_empty() => r as u32 as usize,
            Handle => match rng.below(10) {
                0 => rng.pick(&[0usize, 1, 2, 3, u32::MAX as usize, 0x8000_0003]),
                1 => (rng.pick(&self.handles).0 ^ 4) as usize,
                2 => r as u32 as usize | 3,
                _ => rng.pick(&self.handles).0 as usize,
            },
            Vmar => self.handle_of(rng, ZX_OBJ_TYPE_VMAR),
            Vmo => self.handle_of(rng, ZX_OBJ_TYPE_VMO),
            Proc => self.handle_of(rng, ZX_OBJ_TYPE_PROCESS),
            Rsrc => self.handle_of(rng, ZX_OBJ_TYPE_RESOURCE),
            Device(kind) => self.handle_of(rng, kind),
            PinOptions => rng.pick(&[
                0,
                ZX_BTI_PERM_READ,
                ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE,
                ZX_BTI_PERM_WRITE | ZX_BTI_COMPRESS,
                ZX_BTI_PERM_READ | ZX_BTI_CONTIGUOUS,
                ZX_BTI_COMPRESS | ZX_BTI_CONTIGUOUS,
                1 << 5,
                r as u32,
            ]) as usize,
            VmOptions => {
                let mut o = 0u32;
                for bit in 0..16 {
                    if rng.chance(12) {
                        o |= 1 << bit;
                    }
                }
                if rng.chance(15) {
                    o |= (rng.pick(&[10u32, 12, 16, 20, 32, 1, 9, 33, 255])) << ZX_VM_ALIGN_BASE;
                }
                if rng.chance(5) {
                    o = r as u32;
                }
                o as usize
            }
            VmoOptions => rng.pick(&[
                0,
                0,
                0,
                ZX_VMO_RESIZABLE,
                ZX_VMO_DISCARDABLE,
                1,
                1 << 3,
                r as u32,
            ]) as usize,
            ChildOptions => {
                let bits = [
                    ZX_VMO_CHILD_SNAPSHOT,
                    ZX_VMO_CHILD_SLICE,
                    ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
                    ZX_VMO_CHILD_RESIZABLE,
                    ZX_VMO_CHILD_NO_WRITE,
                    ZX_VMO_CHILD_REFERENCE,
                    ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
                ];
                bits.iter().filter(|_| rng.chance(30)).fold(0, |a, b| a | b) as usize
            }
            Phys => match rng.below(4) {
                0 => rng.below(8 * PAGE),
                1 => self.value(rng, Offset),
                _ => self.device.0 + rng.below(self.device.1 / PAGE + 2) * PAGE,
            },
            Offset => match rng.below(8) {
                0 | 1 => 0,
                2 | 3 => rng.below(32) * PAGE,
                4 => rng.below(32 * PAGE),
                5 => rng.pick(&[usize::MAX, !(PAGE - 1), 1 << 63, usize::MAX - PAGE]),
                _ => known.wrapping_sub(self.root_base),
            },
            Size => match rng.below(10) {
                0 => 0,
                1..=4 => rng.pick(&[
                    1,
                    PAGE - 1,
                    PAGE,
                    PAGE + 1,
                    2 * PAGE,
                    4 * PAGE,
                    16 * PAGE,
                    32 * PAGE,
                ]),
                5..=7 => rng.below(SCRATCH_LEN + 1),
                8 => rng.pick(&[8, 16, 31, 32, 96, 104, 120, 128]),
                _ => rng.pick(&[
                    usize::MAX,
                    usize::MAX - PAGE + 1,
                    usize::MAX - PAGE + 2,
                    1 << 63,
                ]),
            },
            Addr => match rng.below(10) {
                0..=3 => known + rng.below(8) * PAGE,
                4 => s + rng.below(SCRATCH_LEN),
                5 => rng.pick(&[
                    s.wrapping_sub(PAGE),
                    s + SCRATCH_LEN,
                    s + SCRATCH_LEN - 4,
                    self.root_base,
                    self.root_base + self.root_len - PAGE,
                ]),
                6 => rng.pick(&[
                    0,
                    0x1000,
                    usize::MAX,
                    usize::MAX - PAGE + 1,
                    1 << 47,
                    1 << 63,
                ]),
                7 => self.root_base + rng.below(self.root_len / PAGE) * PAGE,
                8 => known + rng.below(PAGE),
                _ => r as usize,
            },
            Ptr => match rng.below(10) {
                0..=5 => s + rng.below(4) * 8,
                6 | 7 => s + rng.below(SCRATCH_LEN),
                8 => rng.pick(&[
                    s + SCRATCH_LEN - 4,
                    s + SCRATCH_LEN,
                    s.wrapping_sub(8),
                    known,
                ]),
                _ => rng.pick(&[0, 0x1000, usize::MAX, usize::MAX - 3, 1 << 63, r as usize]),
            },
            Op => {
                if rng.chance(90) {
                    rng.below(16)
                } else {
                    r as u32 as usize
                }
            }
            Rights => rng.pick(&[
                ZX_RIGHT_SAME_RIGHTS,
                0,
                ZX_RIGHT_READ,
                ZX_DEFAULT_VMO_RIGHTS,
                ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ,
                r as u32,
            ]) as usize,
            Topic => rng.pick(&[
                ZX_INFO_HANDLE_VALID,
                ZX_INFO_HANDLE_BASIC,
                ZX_INFO_VMAR,
                ZX_INFO_VMO,
                ZX_INFO_VMO_V1,
                ZX_INFO_VMO_V2,
                ZX_INFO_PROCESS_MAPS,
                ZX_INFO_PROCESS_MAPS_V1,
                ZX_INFO_PROCESS_VMOS,
                ZX_INFO_PROCESS_VMOS_V1,
                r as u32,
            ]) as usize,
            Property => rng.pick(&[
                ZX_PROP_NAME,
                ZX_PROP_NAME,
                ZX_PROP_VMO_CONTENT_SIZE,
                0,
                r as u32,
            ]) as usize,
            Small => rng.below(6),
        }
    }

    /// One random call through `dispatch`. Returns its number and status.
    ///
    /// # Panics
    ///
    /// If a call answers a positive status (other than the two handle-returning
    /// calls), or those two answer a wrong handle: both are findings.
    pub fn step(&mut self, rng: &mut impl Entropy) -> (u32, i32) {
        let calls = SYSCALLS.len() as u32;
        let number = if rng.chance(90) {
            rng.pick(SYSCALLS).number
        } else {
            let r = rng.next() as u32;
            rng.pick(&[0, calls + 1, calls + 2, 100, u32::MAX, r])
        };
        let r = rng.next();
        let mut args = [0usize; 8];
        let sig = signature(number);
        for (i, arg) in args.iter_mut().enumerate() {
            // Mostly the kind the call expects; sometimes any kind, to cross the wires.
            let kind = match sig.get(i) {
                Some(&k) if rng.chance(92) => k,
                _ => rng.pick(&[
                    Handle, Vmar, Vmo, VmOptions, Offset, Size, Addr, Ptr, Op, Small,
                ]),
            };
            *arg = self.value(rng, kind);
        }
        // Most of the time, option words a call accepts, so calls get past their checks.
        if rng.chance(70) {
            let fitting = match number {
                SYS_VMAR_ALLOCATE => Some(options(
                    rng,
                    &[
                        (ZX_VM_COMPACT, 20),
                        (ZX_VM_SPECIFIC, 25),
                        (ZX_VM_CAN_MAP_SPECIFIC, 40),
                        (ZX_VM_CAN_MAP_READ, 80),
                        (ZX_VM_CAN_MAP_WRITE, 60),
                        (ZX_VM_CAN_MAP_EXECUTE, 5),
                        (ZX_VM_OFFSET_IS_UPPER_LIMIT, 10),
                    ],
                )),
                SYS_VMAR_MAP => Some(options(
                    rng,
                    &[
                        (ZX_VM_PERM_READ, 85),
                        (ZX_VM_PERM_WRITE, 50),
                        (ZX_VM_PERM_EXECUTE, 3),
                        (ZX_VM_SPECIFIC, 25),
                        (ZX_VM_SPECIFIC_OVERWRITE, 10),
                        (ZX_VM_MAP_RANGE, 15),
                        (ZX_VM_OFFSET_IS_UPPER_LIMIT, 8),
                        (ZX_VM_REQUIRE_NON_RESIZABLE, 5),
                        (ZX_VM_ALLOW_FAULTS, 10),
                    ],
                )),
                SYS_VMAR_PROTECT => Some(options(
                    rng,
                    &[
                        (ZX_VM_PERM_READ, 85),
                        (ZX_VM_PERM_WRITE, 50),
                        (ZX_VM_PERM_EXECUTE, 3),
                    ],
                )),
                _ => None,
            };
            if let Some(o) = fitting {
                args[1] = o as usize;
            }
        }
        // Pager calls: mostly option words and op codes they accept, and a status
        // that FAIL takes.
        if rng.chance(70) {
            match number {
                SYS_PAGER_CREATE => args[0] = 0,
                SYS_PAGER_CREATE_VMO => {
                    args[1] = rng.pick(&[0, ZX_VMO_RESIZABLE, ZX_VMO_TRAP_DIRTY]) as usize
                }
                SYS_PAGER_OP_RANGE => {
                    args[1] = rng.pick(&[
                        ZX_PAGER_OP_FAIL,
                        ZX_PAGER_OP_DIRTY,
                        ZX_PAGER_OP_WRITEBACK_BEGIN,
                        ZX_PAGER_OP_WRITEBACK_END,
                    ]) as usize;
                    args[3] = rng.below(4) * PAGE;
                    args[4] = PAGE;
                    args[5] = match args[1] as u32 {
                        ZX_PAGER_OP_FAIL => ZX_ERR_IO as i64 as usize,
                        _ => 0,
                    };
                }
                SYS_PAGER_QUERY_VMO_STATS => args[2] = rng.below(2),
                SYS_PAGER_SUPPLY_PAGES => {
                    args[2] = rng.below(4) * PAGE;
                    args[3] = PAGE;
                    args[5] = 0;
                }
                _ => {}
            }
        }
        // The dummy IOMMU's descriptor is one byte.
        if number == SYS_IOMMU_CREATE && rng.chance(50) {
            args[1] = ZX_IOMMU_TYPE_DUMMY as usize;
            args[3] = 1;
        }
        // A pin hands out one address per page (one for CONTIGUOUS): mostly ask for
        // that many, so pins get past the count check.
        if number == SYS_BTI_PIN && rng.chance(70) {
            args[4] &= !(PAGE - 1);
            args[6] = if args[1] as u32 & ZX_BTI_CONTIGUOUS != 0 {
                1
            } else {
                args[4] / PAGE
            };
        }
        // A reference spans its whole parent: mostly give it offset and size 0.
        if number == SYS_VMO_CREATE_CHILD
            && args[1] as u32 & ZX_VMO_CHILD_REFERENCE != 0
            && rng.chance(70)
        {
            args[2] = 0;
            args[3] = 0;
        }
        // Range ops take a buffer only for VMO locks: mostly pass none, and an op code
        // that exists.
        if matches!(number, SYS_VMAR_OP_RANGE | SYS_VMO_OP_RANGE) && rng.chance(80) {
            args[4] = 0;
            args[5] = 0;
            if number == SYS_VMAR_OP_RANGE {
                args[1] = rng.pick(&[1usize, 2, 3, 12, 13]);
            }
        }
        // Rarely let a call take the scratch area away: the rest of the round would
        // reach little past the first out-parameter.
        let (scratch, end) = (self.p.scratch(), self.p.scratch() + SCRATCH_LEN);
        let hits =
            |addr: usize, len: usize| addr < end && addr.saturating_add(len.max(1)) > scratch;
        let root = self.p.zx_vmar_root_self() as usize;
        let threat = match number {
            SYS_VMAR_UNMAP => hits(args[1], args[2]),
            SYS_VMAR_PROTECT => hits(args[2], args[3]),
            SYS_VMAR_MAP => {
                args[0] == root
                    && args[1] & ZX_VM_SPECIFIC_OVERWRITE as usize != 0
                    && hits(self.root_base.wrapping_add(args[2]), args[5])
            }
            _ => false,
        };
        if threat && rng.chance(97) {
            // Aim just past the scratch area instead.
            match number {
                SYS_VMAR_UNMAP => args[1] = end,
                SYS_VMAR_PROTECT => args[2] = end,
                _ => args[2] = end - self.root_base,
            }
        }
        // Rarely let a call consume the root region or process handle: without them
        // the rest of the round could reach little.
        let precious = [
            self.p.zx_vmar_root_self() as usize,
            self.p.zx_process_self() as usize,
        ];
        if matches!(
            number,
            SYS_HANDLE_CLOSE | SYS_HANDLE_REPLACE | SYS_PMT_UNPIN | SYS_VMO_REPLACE_AS_EXECUTABLE
        ) && precious.contains(&args[0])
            && rng.chance(97)
        {
            args[0] = r as u32 as usize;
        }
        // Keep every VMO small, so that committing one stays cheap.
        match number {
            SYS_VMO_CREATE => args[0] = bounded(args[0]),
            SYS_VMO_SET_SIZE => args[1] = bounded(args[1]),
            SYS_VMO_CREATE_CHILD => args[3] = bounded(args[3]),
            // A port wait sleeps until its deadline: only ever look, or wait 10 us.
            SYS_PORT_WAIT => {
                let soon = self.p.zx_clock_get_monotonic() + 10_000;
                let deadlines = [0, ZX_TIME_INFINITE_PAST, -1, soon];
                args[1] = deadlines[args[1] % deadlines.len()] as usize;
            }
            _ => {}
        }
        // Device memory and the device objects are never RAM: these calls give no
        // frame back and take none but for the user page their out-word lands in
        // (at most two, if it straddles a page boundary), however large the range.
        let frame_neutral = matches!(
            number,
            SYS_VMO_CREATE_PHYSICAL | SYS_RESOURCE_CREATE | SYS_IOMMU_CREATE | SYS_BTI_CREATE
        );
        let frames = frame_neutral.then(|| self.p.frames_in_use());
        let status = self.p.dispatch(number, args);
        if let Some(before) = frames {
            let after = self.p.frames_in_use();
            assert!(
                (before..=before + 2).contains(&after),
                "call {number}: {before} frames in use before, {after} after"
            );
        }
        match number {
            // These two answer a handle value instead of a status.
            SYS_VMAR_ROOT_SELF => assert_eq!(status as u32, self.p.zx_vmar_root_self()),
            SYS_PROCESS_SELF => assert_eq!(status as u32, self.p.zx_process_self()),
            // This one answers the time.
            SYS_CLOCK_GET_MONOTONIC => assert!(status > 0),
            _ => assert!(
                status <= 0,
                "call {number} returned positive status {status}"
            ),
        }
        // A pager VMO made here has no server: its handle goes at once, before any
        // call could touch one of its absent pages (and block for good).
        if number == SYS_PAGER_CREATE_VMO && status == ZX_OK {
            let mut b = [0u8; 4];
            if self.p.read_memory(args[5], &mut b).is_ok() {
                assert_eq!(self.p.zx_handle_close(u32::from_ne_bytes(b)), ZX_OK);
            }
        }
        // Forget handles the call consumed, learn the ones it made.
        let consumed = match number {
            SYS_HANDLE_CLOSE => status == ZX_OK,
            SYS_HANDLE_REPLACE | SYS_PMT_UNPIN | SYS_VMO_REPLACE_AS_EXECUTABLE => {
                status != ZX_ERR_BAD_HANDLE
            }
            _ => false,
        };
        if consumed {
            self.handles.retain(|h| h.0 as usize != args[0]);
        }
        if status == ZX_OK {
            match number {
                SYS_VMO_CREATE | SYS_HANDLE_DUPLICATE | SYS_HANDLE_REPLACE => {
                    self.learn_handle(args[2])
                }
                SYS_VMO_CREATE_CHILD => {
                    self.child_options.push(args[1] as u32);
                    self.learn_handle(args[4])
                }
                SYS_VMAR_ALLOCATE => {
                    self.learn_handle(args[4]);
                    self.learn_addr(args[5]);
                }
                SYS_VMAR_MAP => self.learn_addr(args[6]),
                // Any other call: the handles its table entry says it writes.
                _ => {
                    let call = Syscall::by_number(number);
                    for (i, p) in call.map_or(&[][..], |c| c.params).iter().enumerate() {
                        if let Arg::OutWord(Word::NewHandle(_)) = p.arg {
                            self.learn_handle(args[i]);
                        }
                    }
                }
            }
        }
        (number, status)
    }
}

impl Fuzzer {
    /// Checks that the address space the calls left behind is a well-formed tree, as
    /// `ZX_INFO_PROCESS_MAPS` reports it: every entry lies inside its parent, siblings
    /// are in ascending order and disjoint, and no mapping claims more committed pages
    /// than it spans. Returns false (nothing checked) if the calls took the scratch
    /// area away.
    ///
    /// # Panics
    ///
    /// If the tree is not well formed: a finding.
    pub fn check_address_space(&self) -> bool {
        const RECORD: usize = MapsEntry::SIZE;
        let p = &self.p;
        let s = p.scratch();
        let me = p.zx_process_self();
        let buf = s + PAGE;
        let room = SCRATCH_LEN - PAGE;
        if p.zx_object_get_info(me, ZX_INFO_PROCESS_MAPS, buf, room, s, s + 8) != ZX_OK {
            return false;
        }
        let mut counts = [0u8; 16];
        if p.read_memory(s, &mut counts).is_err() {
            return false;
        }
        let actual = usize::from_ne_bytes(counts[..8].try_into().unwrap());
        let avail = usize::from_ne_bytes(counts[8..].try_into().unwrap());
        assert!(actual <= avail);
        if actual < avail {
            return false;
        }
        let mut bytes = vec![0u8; actual * RECORD];
        if p.read_memory(buf, &mut bytes).is_err() {
            return false;
        }
        // Stack of (end of the enclosing entry, end of its last child so far), by depth.
        let mut open: Vec<(usize, usize)> = Vec::new();
        for (i, r) in bytes.chunks(RECORD).enumerate() {
            let MapsEntry {
                base,
                size,
                depth,
                kind,
                mapping,
                ..
            } = MapsEntry::read_from(r);
            if i == 0 {
                assert_eq!((depth, kind), (0, ZX_INFO_MAPS_TYPE_ASPACE));
                open.push((base + size, base));
                continue;
            }
            assert!(
                depth >= 1 && depth <= open.len(),
                "entry {i} at depth {depth}"
            );
            open.truncate(depth);
            let (parent_end, last_end) = open[depth - 1];
            assert!(base >= last_end, "entry {i} overlaps its previous sibling");
            assert!(base + size <= parent_end, "entry {i} leaves its parent");
            open[depth - 1].1 = base + size;
            match kind {
                ZX_INFO_MAPS_TYPE_VMAR => open.push((base + size, base)),
                ZX_INFO_MAPS_TYPE_MAPPING => assert!(mapping.committed_pages <= size / PAGE),
                other => panic!("entry {i} has type {other}"),
            }
        }
        true
    }

    /// Closes every handle the calls made or got (the two the process started with
    /// stay), so that dropping the fuzzer can check that every frame is free again.
    pub fn close_all(&mut self) {
        let keep = [self.p.zx_vmar_root_self(), self.p.zx_process_self()];
        for (h, _) in self.handles.clone() {
            if !keep.contains(&h) {
                self.p.zx_handle_close(h);
            }
        }
    }
}

/// An option word made of `bits`, each present with its percent chance, sometimes with
/// an alignment field.
fn options(rng: &mut impl Entropy, bits: &[(u32, usize)]) -> u32 {
    let mut o = bits
        .iter()
        .filter(|&&(_, pct)| rng.chance(pct))
        .fold(0, |a, &(b, _)| a | b);
    if rng.chance(10) {
        o |= rng.pick(&[12u32, 13, 16, 20]) << ZX_VM_ALIGN_BASE;
    }
    o
}

/// A size no larger than `MAX_VMO`, unless rounding it up to a page overflows (so the
/// call must refuse it whatever its maximum VMO size is).
fn bounded(size: usize) -> usize {
    if size > MAX_VMO && size <= usize::MAX - PAGE + 1 {
        size % MAX_VMO
    } else {
        size
    }
}
