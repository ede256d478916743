//! The syscalls a script can name: their parameters in Zircon's order, which
//! trailing parameters zxvm fills in when a line leaves them off, and how to call
//! each one on a process.

use zircon_syscall::*;

/// How an argument is passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A 32-bit value: a handle, options, rights, an op code, a topic.
    U32,
    /// A 64-bit value (`u64` or `usize`; the same width on our targets).
    U64,
    /// A user address (`usize`); a string literal may stand here and is staged in
    /// scratch memory.
    Ptr,
}

/// What zxvm passes for a parameter that a line leaves off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Omit {
    /// The line must give it.
    Required,
    /// Zero (`buffer` and `buffer_size` of the range ops, which take none).
    Zero,
    /// The address of a fresh out-slot; its value is printed and may be bound.
    Out(OutKind),
    /// The address of zxvm's info buffer.
    InfoBuffer,
    /// The size of zxvm's info buffer.
    InfoSize,
}

/// What an out-parameter holds, for reading and printing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutKind {
    /// A handle value (4 bytes).
    Handle,
    /// An address (8 bytes).
    Addr,
    /// A size in bytes (8 bytes).
    Size,
    /// A count (8 bytes).
    Count,
}

impl OutKind {
    /// Bytes the kernel writes for this kind.
    pub fn width(self) -> usize {
        match self {
            OutKind::Handle => 4,
            _ => 8,
        }
    }
}

/// One parameter of a syscall.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name in Zircon's signature.
    pub name: &'static str,
    /// How it is passed.
    pub ty: Ty,
    /// What zxvm passes when the line leaves it off.
    pub omit: Omit,
}

/// Which syscall a spec stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallId {
    /// `zx_vmar_root_self`.
    VmarRootSelf,
    /// `zx_process_self`.
    ProcessSelf,
    /// `zx_vmar_allocate`.
    VmarAllocate,
    /// `zx_vmar_map`.
    VmarMap,
    /// `zx_vmar_unmap`.
    VmarUnmap,
    /// `zx_vmar_protect`.
    VmarProtect,
    /// `zx_vmar_destroy`.
    VmarDestroy,
    /// `zx_vmar_op_range`.
    VmarOpRange,
    /// `zx_vmo_create`.
    VmoCreate,
    /// `zx_vmo_read`.
    VmoRead,
    /// `zx_vmo_write`.
    VmoWrite,
    /// `zx_vmo_get_size`.
    VmoGetSize,
    /// `zx_vmo_set_size`.
    VmoSetSize,
    /// `zx_vmo_op_range`.
    VmoOpRange,
    /// `zx_vmo_create_child`.
    VmoCreateChild,
    /// `zx_vmo_set_cache_policy`.
    VmoSetCachePolicy,
    /// `zx_handle_close`.
    HandleClose,
    /// `zx_handle_duplicate`.
    HandleDuplicate,
    /// `zx_handle_replace`.
    HandleReplace,
    /// `zx_object_get_info`.
    ObjectGetInfo,
    /// `zx_object_get_property`.
    ObjectGetProperty,
    /// `zx_object_set_property`.
    ObjectSetProperty,
    /// `zx_process_read_memory`.
    ProcessReadMemory,
    /// `zx_process_write_memory`.
    ProcessWriteMemory,
}

/// A syscall as a script sees it.
#[derive(Debug)]
pub struct CallSpec {
    /// Which call.
    pub id: CallId,
    /// Its Zircon name.
    pub name: &'static str,
    /// Its parameters, in Zircon's order.
    pub params: &'static [Param],
}

impl CallSpec {
    /// The fewest arguments a line may give: every parameter up to the last
    /// required one.
    pub fn min_args(&self) -> usize {
        self.params
            .iter()
            .rposition(|p| p.omit == Omit::Required)
            .map_or(0, |i| i + 1)
    }

    /// Whether `n` arguments is a valid form of the call: between the minimum and
    /// the full count, and not splitting the info buffer from its size.
    pub fn accepts(&self, n: usize) -> bool {
        n >= self.min_args()
            && n <= self.params.len()
            && !(n > 0
                && n < self.params.len()
                && self.params[n - 1].omit == Omit::InfoBuffer
                && self.params[n].omit == Omit::InfoSize)
    }

    /// The out-parameters zxvm supplies when the line gives `n` arguments.
    pub fn outs(&self, n: usize) -> Vec<OutKind> {
        self.params[n.min(self.params.len())..]
            .iter()
            .filter_map(|p| match p.omit {
                Omit::Out(kind) => Some(kind),
                _ => None,
            })
            .collect()
    }

    /// The signature for error messages: `zx_vmo_create(size, options, [out])`.
    pub fn signature(&self) -> String {
        let min = self.min_args();
        let mut text = format!("{}(", self.name);
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            if i == min {
                text.push('[');
            }
            text.push_str(p.name);
        }
        if min < self.params.len() {
            text.push(']');
        }
        text.push(')');
        text
    }
}

const fn req(name: &'static str, ty: Ty) -> Param {
    Param {
        name,
        ty,
        omit: Omit::Required,
    }
}

const fn out(name: &'static str, kind: OutKind) -> Param {
    Param {
        name,
        ty: Ty::Ptr,
        omit: Omit::Out(kind),
    }
}

const fn zero(name: &'static str, ty: Ty) -> Param {
    Param {
        name,
        ty,
        omit: Omit::Zero,
    }
}

const INFO_BUFFER: Param = Param {
    name: "buffer",
    ty: Ty::Ptr,
    omit: Omit::InfoBuffer,
};
const INFO_SIZE: Param = Param {
    name: "buffer_size",
    ty: Ty::U64,
    omit: Omit::InfoSize,
};

use Ty::{Ptr, U32, U64};

/// Every syscall of the surface, in the order of the syscall numbers.
pub const CALLS: &[CallSpec] = &[
    CallSpec {
        id: CallId::VmarRootSelf,
        name: "zx_vmar_root_self",
        params: &[],
    },
    CallSpec {
        id: CallId::ProcessSelf,
        name: "zx_process_self",
        params: &[],
    },
    CallSpec {
        id: CallId::VmarAllocate,
        name: "zx_vmar_allocate",
        params: &[
            req("parent_vmar", U32),
            req("options", U32),
            req("offset", U64),
            req("size", U64),
            out("child_vmar", OutKind::Handle),
            out("child_addr", OutKind::Addr),
        ],
    },
    CallSpec {
        id: CallId::VmarMap,
        name: "zx_vmar_map",
        params: &[
            req("vmar", U32),
            req("options", U32),
            req("vmar_offset", U64),
            req("vmo", U32),
            req("vmo_offset", U64),
            req("len", U64),
            out("mapped_addr", OutKind::Addr),
        ],
    },
    CallSpec {
        id: CallId::VmarUnmap,
        name: "zx_vmar_unmap",
        params: &[req("vmar", U32), req("addr", Ptr), req("len", U64)],
    },
    CallSpec {
        id: CallId::VmarProtect,
        name: "zx_vmar_protect",
        params: &[
            req("vmar", U32),
            req("options", U32),
            req("addr", Ptr),
            req("len", U64),
        ],
    },
    CallSpec {
        id: CallId::VmarDestroy,
        name: "zx_vmar_destroy",
        params: &[req("vmar", U32)],
    },
    CallSpec {
        id: CallId::VmarOpRange,
        name: "zx_vmar_op_range",
        params: &[
            req("vmar", U32),
            req("op", U32),
            req("address", Ptr),
            req("size", U64),
            zero("buffer", Ptr),
            zero("buffer_size", U64),
        ],
    },
    CallSpec {
        id: CallId::VmoCreate,
        name: "zx_vmo_create",
        params: &[
            req("size", U64),
            req("options", U32),
            out("out", OutKind::Handle),
        ],
    },
    CallSpec {
        id: CallId::VmoRead,
        name: "zx_vmo_read",
        params: &[
            req("handle", U32),
            req("buffer", Ptr),
            req("offset", U64),
            req("buffer_size", U64),
        ],
    },
    CallSpec {
        id: CallId::VmoWrite,
        name: "zx_vmo_write",
        params: &[
            req("handle", U32),
            req("buffer", Ptr),
            req("offset", U64),
            req("buffer_size", U64),
        ],
    },
    CallSpec {
        id: CallId::VmoGetSize,
        name: "zx_vmo_get_size",
        params: &[req("handle", U32), out("size", OutKind::Size)],
    },
    CallSpec {
        id: CallId::VmoSetSize,
        name: "zx_vmo_set_size",
        params: &[req("handle", U32), req("size", U64)],
    },
    CallSpec {
        id: CallId::VmoOpRange,
        name: "zx_vmo_op_range",
        params: &[
            req("handle", U32),
            req("op", U32),
            req("offset", U64),
            req("size", U64),
            zero("buffer", Ptr),
            zero("buffer_size", U64),
        ],
    },
    CallSpec {
        id: CallId::VmoCreateChild,
        name: "zx_vmo_create_child",
        params: &[
            req("handle", U32),
            req("options", U32),
            req("offset", U64),
            req("size", U64),
            out("out", OutKind::Handle),
        ],
    },
    CallSpec {
        id: CallId::VmoSetCachePolicy,
        name: "zx_vmo_set_cache_policy",
        params: &[req("handle", U32), req("cache_policy", U32)],
    },
    CallSpec {
        id: CallId::HandleClose,
        name: "zx_handle_close",
        params: &[req("handle", U32)],
    },
    CallSpec {
        id: CallId::HandleDuplicate,
        name: "zx_handle_duplicate",
        params: &[
            req("handle", U32),
            req("rights", U32),
            out("out", OutKind::Handle),
        ],
    },
    CallSpec {
        id: CallId::HandleReplace,
        name: "zx_handle_replace",
        params: &[
            req("handle", U32),
            req("rights", U32),
            out("out", OutKind::Handle),
        ],
    },
    CallSpec {
        id: CallId::ObjectGetInfo,
        name: "zx_object_get_info",
        params: &[
            req("handle", U32),
            req("topic", U32),
            INFO_BUFFER,
            INFO_SIZE,
            out("actual", OutKind::Count),
            out("avail", OutKind::Count),
        ],
    },
    CallSpec {
        id: CallId::ObjectGetProperty,
        name: "zx_object_get_property",
        params: &[
            req("handle", U32),
            req("property", U32),
            Param {
                name: "value",
                ..INFO_BUFFER
            },
            Param {
                name: "value_size",
                ..INFO_SIZE
            },
        ],
    },
    CallSpec {
        id: CallId::ObjectSetProperty,
        name: "zx_object_set_property",
        params: &[
            req("handle", U32),
            req("property", U32),
            req("value", Ptr),
            req("value_size", U64),
        ],
    },
    CallSpec {
        id: CallId::ProcessReadMemory,
        name: "zx_process_read_memory",
        params: &[
            req("process", U32),
            req("vaddr", Ptr),
            req("buffer", Ptr),
            req("buffer_size", U64),
            out("actual", OutKind::Count),
        ],
    },
    CallSpec {
        id: CallId::ProcessWriteMemory,
        name: "zx_process_write_memory",
        params: &[
            req("process", U32),
            req("vaddr", Ptr),
            req("buffer", Ptr),
            req("buffer_size", U64),
            out("actual", OutKind::Count),
        ],
    },
];

/// Looks a syscall up by its Zircon name.
pub fn find(name: &str) -> Option<&'static CallSpec> {
    CALLS.iter().find(|c| c.name == name)
}

/// Calls `id` on `p` with full arguments (`args.len()` equals the parameter count;
/// 32-bit parameters have been range-checked by the caller). Returns the status,
/// or, for the two calls that return a handle, that handle.
pub fn invoke(p: &Process, id: CallId, a: &[u64]) -> i64 {
    let h = |i: usize| a[i] as u32;
    let u = |i: usize| a[i] as usize;
    let status = match id {
        CallId::VmarRootSelf => return i64::from(p.zx_vmar_root_self()),
        CallId::ProcessSelf => return i64::from(p.zx_process_self()),
        CallId::VmarAllocate => p.zx_vmar_allocate(h(0), h(1), u(2), u(3), u(4), u(5)),
        CallId::VmarMap => p.zx_vmar_map(h(0), h(1), u(2), h(3), a[4], u(5), u(6)),
        CallId::VmarUnmap => p.zx_vmar_unmap(h(0), u(1), u(2)),
        CallId::VmarProtect => p.zx_vmar_protect(h(0), h(1), u(2), u(3)),
        CallId::VmarDestroy => p.zx_vmar_destroy(h(0)),
        CallId::VmarOpRange => p.zx_vmar_op_range(h(0), h(1), u(2), u(3), u(4), u(5)),
        CallId::VmoCreate => p.zx_vmo_create(a[0], h(1), u(2)),
        CallId::VmoRead => p.zx_vmo_read(h(0), u(1), a[2], u(3)),
        CallId::VmoWrite => p.zx_vmo_write(h(0), u(1), a[2], u(3)),
        CallId::VmoGetSize => p.zx_vmo_get_size(h(0), u(1)),
        CallId::VmoSetSize => p.zx_vmo_set_size(h(0), a[1]),
        CallId::VmoOpRange => p.zx_vmo_op_range(h(0), h(1), a[2], a[3], u(4), u(5)),
        CallId::VmoCreateChild => p.zx_vmo_create_child(h(0), h(1), a[2], a[3], u(4)),
        CallId::VmoSetCachePolicy => p.zx_vmo_set_cache_policy(h(0), h(1)),
        CallId::HandleClose => p.zx_handle_close(h(0)),
        CallId::HandleDuplicate => p.zx_handle_duplicate(h(0), h(1), u(2)),
        CallId::HandleReplace => p.zx_handle_replace(h(0), h(1), u(2)),
        CallId::ObjectGetInfo => p.zx_object_get_info(h(0), h(1), u(2), u(3), u(4), u(5)),
        CallId::ObjectGetProperty => p.zx_object_get_property(h(0), h(1), u(2), u(3)),
        CallId::ObjectSetProperty => p.zx_object_set_property(h(0), h(1), u(2), u(3)),
        CallId::ProcessReadMemory => p.zx_process_read_memory(h(0), u(1), u(2), u(3), u(4)),
        CallId::ProcessWriteMemory => p.zx_process_write_memory(h(0), u(1), u(2), u(3), u(4)),
    };
    i64::from(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_is_listed_once_with_its_syscall_number_order() {
        let numbers = [
            SYS_VMAR_ROOT_SELF,
            SYS_PROCESS_SELF,
            SYS_VMAR_ALLOCATE,
            SYS_VMAR_MAP,
            SYS_VMAR_UNMAP,
            SYS_VMAR_PROTECT,
            SYS_VMAR_DESTROY,
            SYS_VMAR_OP_RANGE,
            SYS_VMO_CREATE,
            SYS_VMO_READ,
            SYS_VMO_WRITE,
            SYS_VMO_GET_SIZE,
            SYS_VMO_SET_SIZE,
            SYS_VMO_OP_RANGE,
            SYS_VMO_CREATE_CHILD,
            SYS_VMO_SET_CACHE_POLICY,
            SYS_HANDLE_CLOSE,
            SYS_HANDLE_DUPLICATE,
            SYS_HANDLE_REPLACE,
            SYS_OBJECT_GET_INFO,
            SYS_OBJECT_GET_PROPERTY,
            SYS_OBJECT_SET_PROPERTY,
            SYS_PROCESS_READ_MEMORY,
            SYS_PROCESS_WRITE_MEMORY,
        ];
        assert_eq!(CALLS.len(), numbers.len());
        let mut names: Vec<&str> = CALLS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CALLS.len());
    }

    #[test]
    fn short_and_full_forms() {
        let map = find("zx_vmar_map").unwrap();
        assert_eq!(map.min_args(), 6);
        assert!(map.accepts(6) && map.accepts(7));
        assert!(!map.accepts(5) && !map.accepts(8));
        assert_eq!(map.outs(6), vec![OutKind::Addr]);
        assert!(map.outs(7).is_empty());

        let info = find("zx_object_get_info").unwrap();
        assert_eq!(info.min_args(), 2);
        assert!(info.accepts(2) && info.accepts(4) && info.accepts(5) && info.accepts(6));
        assert!(!info.accepts(3), "a buffer without its size is refused");
        assert_eq!(info.outs(2), vec![OutKind::Count, OutKind::Count]);
        assert_eq!(
            info.signature(),
            "zx_object_get_info(handle, topic, [buffer, buffer_size, actual, avail])"
        );

        let op = find("zx_vmar_op_range").unwrap();
        assert!(op.accepts(4) && op.accepts(6) && !op.accepts(3));
        assert!(op.outs(4).is_empty());

        assert_eq!(
            find("zx_vmar_root_self").unwrap().signature(),
            "zx_vmar_root_self()"
        );
        assert!(find("zx_vmo_creat").is_none());
    }
}
