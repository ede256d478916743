//! What a syscall's arguments mean: the vocabulary of the syscall table
//! ([`SYSCALLS`](crate::SYSCALLS)), read by the fuzz generator (to draw fitting
//! values), by `zxvm` (to parse, fill in and print a call) and by anyone who needs
//! the surface as data.
//!
//! The kinds are open: a new call with a new handle type names its
//! `ZX_OBJ_TYPE_*`, a new option word or selector adds a variant, a new buffer says
//! which argument sizes it.

use fuchsia_zircon_types::zx_obj_type_t;

/// One entry of the syscall table.
#[derive(Clone, Copy, Debug)]
pub struct Syscall {
    /// Its number for [`Process::dispatch`](crate::Process::dispatch).
    pub number: u32,
    /// Its Zircon name, which is also the name of its method on
    /// [`Process`](crate::Process).
    pub name: &'static str,
    /// Its parameters, in Zircon's order.
    pub params: &'static [Param],
    /// Whether it answers a handle value (positive) instead of a status.
    pub returns_handle: bool,
    /// Whether it answers a time in nanoseconds (positive, 64 bits) instead of a
    /// status.
    pub returns_time: bool,
}

/// One parameter of a syscall.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name in Zircon's signature.
    pub name: &'static str,
    /// What it means.
    pub arg: Arg,
    /// Its width in bits (32 or 64): `dispatch` keeps only that many low bits of
    /// the machine word.
    pub bits: u32,
}

/// What an argument is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A handle the call looks up, wanted of this `ZX_OBJ_TYPE_*`
    /// (`ZX_OBJ_TYPE_NONE`: any type).
    Handle(zx_obj_type_t),
    /// An option word of this family.
    Options(OptionWord),
    /// A value that selects something (rights, a topic, an op code).
    Value(ValueKind),
    /// A byte offset into the object (a VMO, or a region from its base).
    Offset,
    /// A length in bytes of a range the call acts on (not of a buffer it copies).
    Len,
    /// A user address the call acts on (it does not copy through it).
    Addr,
    /// A value the call takes as it is: an id, a key, a deadline.
    Plain,
    /// A physical address (of device memory).
    PhysAddr,
    /// A user buffer the call reads.
    In(Extent),
    /// A user buffer the call writes.
    Out(Extent),
    /// A user buffer the call may read and write.
    InOut(Extent),
    /// A user address where the call writes one value.
    OutWord(Word),
}

/// Which option bits an option word takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionWord {
    /// `ZX_VM_*` for a new region: `CAN_MAP_*`, placement, alignment.
    VmarAllocate,
    /// `ZX_VM_*` for a mapping: `PERM_*`, placement, `MAP_RANGE`, alignment.
    VmarMap,
    /// `ZX_VM_PERM_*`.
    VmarProtect,
    /// `ZX_VMO_*` for a new VMO.
    VmoCreate,
    /// `ZX_VMO_CHILD_*`.
    VmoChild,
    /// `ZX_RSRC_KIND_*` in the low 16 bits, `ZX_RSRC_FLAG_*` above.
    Resource,
    /// `zx_bti_create`'s options (none defined).
    BtiCreate,
    /// `ZX_BTI_PERM_*`, `ZX_BTI_COMPRESS`, `ZX_BTI_CONTIGUOUS`.
    BtiPin,
    /// `ZX_PORT_BIND_TO_INTERRUPT`.
    PortCreate,
    /// `zx_pager_create`'s options (none defined).
    PagerCreate,
    /// `ZX_VMO_RESIZABLE`, `ZX_VMO_TRAP_DIRTY` for a pager's VMO.
    PagerCreateVmo,
    /// `ZX_PAGER_RESET_VMO_STATS`.
    PagerStats,
}

/// What a selecting value chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// `ZX_RIGHT_*` bits, or `ZX_RIGHT_SAME_RIGHTS`.
    Rights,
    /// A `ZX_INFO_*` topic.
    Topic,
    /// A `ZX_PROP_*` property.
    Property,
    /// A `ZX_VMAR_OP_*` code.
    VmarOp,
    /// A `ZX_VMO_OP_*` code.
    VmoOp,
    /// A `ZX_CACHE_POLICY_*` value.
    CachePolicy,
    /// A `ZX_IOMMU_TYPE_*` value.
    IommuType,
    /// An absolute deadline in nanoseconds on the monotonic clock
    /// (`ZX_TIME_INFINITE` for none).
    Deadline,
    /// A power-of-two alignment as its log2 (0 for the default).
    AlignLog2,
    /// A `ZX_PAGER_OP_*` code.
    PagerOp,
}

/// How many bytes a user buffer spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extent {
    /// A fixed number of bytes.
    Fixed(usize),
    /// The byte count in the argument at this index.
    SizedBy(usize),
    /// `element` bytes times the count in the argument at index `arg`.
    CountIn {
        /// Index of the argument holding the count.
        arg: usize,
        /// Bytes per element.
        element: usize,
    },
}

/// What an out-word holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Word {
    /// A new handle, to an object of this `ZX_OBJ_TYPE_*` (`ZX_OBJ_TYPE_NONE`: the
    /// type of the handle passed in).
    NewHandle(zx_obj_type_t),
    /// A user address.
    Address,
    /// A size in bytes.
    Size,
    /// A count of bytes or records.
    Count,
}

impl Word {
    /// Bytes the call writes.
    pub const fn width(self) -> usize {
        match self {
            Word::NewHandle(_) => 4,
            Word::Address | Word::Size | Word::Count => 8,
        }
    }
}

impl Syscall {
    /// The table entry for syscall `number`, if there is one.
    pub fn by_number(number: u32) -> Option<&'static Syscall> {
        crate::SYSCALLS.iter().find(|s| s.number == number)
    }

    /// The table entry named `name` (`"zx_vmo_create"`), if there is one.
    pub fn by_name(name: &str) -> Option<&'static Syscall> {
        crate::SYSCALLS.iter().find(|s| s.name == name)
    }
}

/// What a syscall method returns, as the 64-bit register `dispatch_wide` answers.
pub(crate) trait IntoRegister {
    fn into_register(self) -> i64;
}

/// A status, sign-extended.
impl IntoRegister for i32 {
    fn into_register(self) -> i64 {
        i64::from(self)
    }
}

/// A handle value, which is positive.
impl IntoRegister for u32 {
    fn into_register(self) -> i64 {
        i64::from(self)
    }
}

/// A time in nanoseconds.
impl IntoRegister for i64 {
    fn into_register(self) -> i64 {
        self
    }
}
