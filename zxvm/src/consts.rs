//! The ABI constants a script may name, looked up by name. The values come from
//! `zircon_syscall` (which re-exports the ABI module); this file only lists the names.

use zircon_syscall::*;

/// Builds a name table from constant identifiers (as values of type `$ty`), so a name
/// can never drift from its value.
macro_rules! named {
    ($ty:ty; $($name:ident),* $(,)?) => {
        &[$((stringify!($name), $name as $ty)),*]
    };
}

/// The constants scripts may use, by their Zircon names.
const CONSTANTS: &[(&str, u64)] = named![u64;
    ZX_HANDLE_INVALID,
    // Rights.
    ZX_RIGHT_NONE, ZX_RIGHT_DUPLICATE, ZX_RIGHT_TRANSFER, ZX_RIGHT_READ, ZX_RIGHT_WRITE,
    ZX_RIGHT_EXECUTE, ZX_RIGHT_MAP, ZX_RIGHT_GET_PROPERTY, ZX_RIGHT_SET_PROPERTY,
    ZX_RIGHT_ENUMERATE, ZX_RIGHT_DESTROY, ZX_RIGHT_SET_POLICY, ZX_RIGHT_GET_POLICY, ZX_RIGHT_SIGNAL,
    ZX_RIGHT_SIGNAL_PEER, ZX_RIGHT_WAIT, ZX_RIGHT_INSPECT, ZX_RIGHT_MANAGE_JOB,
    ZX_RIGHT_MANAGE_PROCESS, ZX_RIGHT_MANAGE_THREAD, ZX_RIGHT_APPLY_PROFILE, ZX_RIGHT_MANAGE_SOCKET,
    ZX_RIGHT_OP_CHILDREN, ZX_RIGHT_RESIZE, ZX_RIGHT_ATTACH_VMO, ZX_RIGHT_MANAGE_VMO,
    ZX_RIGHT_SAME_RIGHTS, ZX_RIGHTS_BASIC, ZX_RIGHTS_IO, ZX_RIGHTS_PROPERTY, ZX_DEFAULT_VMO_RIGHTS,
    ZX_DEFAULT_VMAR_RIGHTS,
    // VM options.
    ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, ZX_VM_PERM_EXECUTE, ZX_VM_COMPACT, ZX_VM_SPECIFIC,
    ZX_VM_SPECIFIC_OVERWRITE, ZX_VM_CAN_MAP_SPECIFIC, ZX_VM_CAN_MAP_READ, ZX_VM_CAN_MAP_WRITE,
    ZX_VM_CAN_MAP_EXECUTE, ZX_VM_MAP_RANGE, ZX_VM_REQUIRE_NON_RESIZABLE, ZX_VM_ALLOW_FAULTS,
    ZX_VM_OFFSET_IS_UPPER_LIMIT, ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED, ZX_VM_ALIGN_BASE,
    ZX_VM_ALIGN_MASK, ZX_VM_ALIGN_1KB, ZX_VM_ALIGN_2KB, ZX_VM_ALIGN_4KB, ZX_VM_ALIGN_8KB,
    ZX_VM_ALIGN_16KB, ZX_VM_ALIGN_32KB, ZX_VM_ALIGN_64KB, ZX_VM_ALIGN_128KB, ZX_VM_ALIGN_256KB,
    ZX_VM_ALIGN_512KB, ZX_VM_ALIGN_1MB, ZX_VM_ALIGN_2MB, ZX_VM_ALIGN_4MB, ZX_VM_ALIGN_8MB,
    ZX_VM_ALIGN_16MB, ZX_VM_ALIGN_32MB, ZX_VM_ALIGN_64MB, ZX_VM_ALIGN_128MB, ZX_VM_ALIGN_256MB,
    ZX_VM_ALIGN_512MB, ZX_VM_ALIGN_1GB, ZX_VM_ALIGN_2GB, ZX_VM_ALIGN_4GB,
    // VMAR range ops.
    ZX_VMAR_OP_COMMIT, ZX_VMAR_OP_DECOMMIT, ZX_VMAR_OP_MAP_RANGE, ZX_VMAR_OP_ZERO,
    ZX_VMAR_OP_DONT_NEED, ZX_VMAR_OP_ALWAYS_NEED, ZX_VMAR_OP_PREFETCH,
    // VMO creation options and range ops.
    ZX_VMO_RESIZABLE, ZX_VMO_DISCARDABLE, ZX_VMO_TRAP_DIRTY, ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT,
    ZX_VMO_OP_LOCK, ZX_VMO_OP_UNLOCK, ZX_VMO_OP_CACHE_SYNC, ZX_VMO_OP_CACHE_INVALIDATE,
    ZX_VMO_OP_CACHE_CLEAN, ZX_VMO_OP_CACHE_CLEAN_INVALIDATE, ZX_VMO_OP_ZERO, ZX_VMO_OP_TRY_LOCK,
    ZX_VMO_OP_DONT_NEED, ZX_VMO_OP_ALWAYS_NEED,
    // VMO children.
    ZX_VMO_CHILD_SNAPSHOT, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, ZX_VMO_CHILD_RESIZABLE,
    ZX_VMO_CHILD_SLICE, ZX_VMO_CHILD_NO_WRITE, ZX_VMO_CHILD_REFERENCE,
    ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
    // Cache policies.
    ZX_CACHE_POLICY_CACHED, ZX_CACHE_POLICY_UNCACHED, ZX_CACHE_POLICY_UNCACHED_DEVICE,
    ZX_CACHE_POLICY_WRITE_COMBINING,
    // Info topics.
    ZX_INFO_NONE, ZX_INFO_HANDLE_VALID, ZX_INFO_HANDLE_BASIC, ZX_INFO_VMAR, ZX_INFO_PROCESS_MAPS,
    ZX_INFO_PROCESS_MAPS_V1, ZX_INFO_PROCESS_MAPS_V2, ZX_INFO_PROCESS_VMOS, ZX_INFO_PROCESS_VMOS_V1,
    ZX_INFO_PROCESS_VMOS_V2, ZX_INFO_PROCESS_VMOS_V3, ZX_INFO_VMO, ZX_INFO_VMO_V1, ZX_INFO_VMO_V2,
    ZX_INFO_VMO_V3,
    // Properties.
    ZX_PROP_NAME, ZX_PROP_VMO_CONTENT_SIZE, ZX_MAX_NAME_LEN,
];

/// The value of a constant, by its full name (`ZX_VM_PERM_READ`) or by the name
/// without its `ZX_` prefix (`VM_PERM_READ`).
pub fn lookup(name: &str) -> Option<u64> {
    by_name(CONSTANTS, name, &["ZX_"])
}

/// The value named `name` in a [`named!`] table, by its full name or by the name
/// without one of `prefixes`.
pub(crate) fn by_name<T: Copy>(
    table: &[(&'static str, T)],
    name: &str,
    prefixes: &[&str],
) -> Option<T> {
    table
        .iter()
        .find(|&&(full, _)| {
            full == name || prefixes.iter().any(|p| full.strip_prefix(p) == Some(name))
        })
        .map(|&(_, value)| value)
}

/// All constant names, for suggestions in error messages.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    CONSTANTS.iter().map(|&(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_with_and_without_prefix() {
        assert_eq!(lookup("ZX_VM_PERM_WRITE"), Some(2));
        assert_eq!(lookup("VM_PERM_WRITE"), Some(2));
        assert_eq!(lookup("ZX_RIGHT_OP_CHILDREN"), Some(1 << 21));
        assert_eq!(lookup("ZX_VMAR_OP_DECOMMIT"), Some(2));
        assert_eq!(lookup("ZX_INFO_PROCESS_MAPS"), Some(0x1000_000D));
        assert_eq!(lookup("ZX_VM_ALIGN_1MB"), Some(20 << 24));
        assert_eq!(lookup("ZX_NOT_A_CONSTANT"), None);
        assert_eq!(lookup("PERM_READ"), None);
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = all_names().collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
    }
}
