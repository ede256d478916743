//! Names of `zx_status_t` values. `fuchsia-zircon-types` defines the values as plain
//! constants with no way back from a value to its name, so the table is here.

use zircon_syscall::*;

/// Every status value Zircon defines, with its name, in the order of Zircon's
/// `errors.h`.
const STATUSES: &[(&str, i32)] = crate::consts::named![i32;
    ZX_OK,
    ZX_ERR_INTERNAL,
    ZX_ERR_NOT_SUPPORTED,
    ZX_ERR_NO_RESOURCES,
    ZX_ERR_NO_MEMORY,
    ZX_ERR_INTERRUPTED_RETRY,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_BAD_HANDLE,
    ZX_ERR_WRONG_TYPE,
    ZX_ERR_BAD_SYSCALL,
    ZX_ERR_OUT_OF_RANGE,
    ZX_ERR_BUFFER_TOO_SMALL,
    ZX_ERR_BAD_STATE,
    ZX_ERR_TIMED_OUT,
    ZX_ERR_SHOULD_WAIT,
    ZX_ERR_CANCELED,
    ZX_ERR_PEER_CLOSED,
    ZX_ERR_NOT_FOUND,
    ZX_ERR_ALREADY_EXISTS,
    ZX_ERR_ALREADY_BOUND,
    ZX_ERR_UNAVAILABLE,
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_IO,
    ZX_ERR_IO_REFUSED,
    ZX_ERR_IO_DATA_INTEGRITY,
    ZX_ERR_IO_DATA_LOSS,
    ZX_ERR_IO_NOT_PRESENT,
    ZX_ERR_IO_OVERRUN,
    ZX_ERR_IO_MISSED_DEADLINE,
    ZX_ERR_IO_INVALID,
    ZX_ERR_BAD_PATH,
    ZX_ERR_NOT_DIR,
    ZX_ERR_NOT_FILE,
    ZX_ERR_FILE_BIG,
    ZX_ERR_NO_SPACE,
    ZX_ERR_NOT_EMPTY,
    ZX_ERR_STOP,
    ZX_ERR_NEXT,
    ZX_ERR_ASYNC,
    ZX_ERR_ADDRESS_UNREACHABLE,
    ZX_ERR_ADDRESS_IN_USE,
    ZX_ERR_NOT_CONNECTED,
    ZX_ERR_CONNECTION_REFUSED,
    ZX_ERR_CONNECTION_RESET,
    ZX_ERR_CONNECTION_ABORTED,
];

/// The name of a status value (`"ZX_ERR_ACCESS_DENIED"`), or `None` for a value
/// Zircon does not define.
pub fn status_name(status: i32) -> Option<&'static str> {
    STATUSES
        .iter()
        .find(|&&(_, value)| value == status)
        .map(|&(name, _)| name)
}

/// The status a name stands for. Takes the full name (`ZX_ERR_NOT_FOUND`, `ZX_OK`),
/// or the name without its `ZX_` or `ZX_ERR_` prefix (`ERR_NOT_FOUND`, `NOT_FOUND`,
/// `OK`).
pub fn status_by_name(name: &str) -> Option<i32> {
    crate::consts::by_name(STATUSES, name, &["ZX_", "ZX_ERR_"])
}

/// A status for people: its name, or the number for a value Zircon does not define.
pub fn describe(status: i32) -> String {
    match status_name(status) {
        Some(name) => name.to_string(),
        None => format!("unknown status {status}"),
    }
}

// `all_names` and `describe` read like their counterparts in consts.rs: the two
// tables differ in value type, and the lookup itself is shared (`consts::by_name`).
/// All status names, for suggestions in error messages.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    STATUSES.iter().map(|&(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_round_trip() {
        for &(name, value) in STATUSES {
            assert_eq!(status_name(value), Some(name));
            assert_eq!(status_by_name(name), Some(value));
            assert_eq!(status_by_name(&name[3..]), Some(value));
            if let Some(short) = name.strip_prefix("ZX_ERR_") {
                assert_eq!(status_by_name(short), Some(value));
            }
        }
    }

    #[test]
    fn values_are_distinct_and_known_ones_match_zircon() {
        let mut values: Vec<i32> = STATUSES.iter().map(|&(_, v)| v).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), STATUSES.len());
        assert_eq!(status_name(-30), Some("ZX_ERR_ACCESS_DENIED"));
        assert_eq!(status_name(-10), Some("ZX_ERR_INVALID_ARGS"));
        assert_eq!(status_name(0), Some("ZX_OK"));
    }

    #[test]
    fn unknown_values_and_names_are_reported_as_such() {
        assert_eq!(status_name(-5), None);
        assert_eq!(status_name(1), None);
        assert_eq!(describe(-5), "unknown status -5");
        assert_eq!(status_by_name("ZX_ERR_NOPE"), None);
        assert_eq!(status_by_name("ZX_"), None);
    }
}
