//! Names of `zx_status_t` values. The object layer's `ZxError` owns the one table of
//! error names (its `Debug` prints them); this module adds `ZX_OK` and the way back
//! from a name to its value.

use zircon_object::ZxError;
use zircon_syscall::ZX_OK;

/// The name of a status value (`"ZX_ERR_ACCESS_DENIED"`), or `None` for a value
/// Zircon does not define.
pub fn status_name(status: i32) -> Option<&'static str> {
    match ZxError::from_raw(status) {
        None => Some("ZX_OK"),
        Some(error) => error.name(),
    }
}

/// Every status with its name. Zircon's statuses are small negative numbers
/// (`errors.h` ends at -76), so the values of an `i8` cover them all.
fn all() -> impl Iterator<Item = (&'static str, i32)> {
    (i32::from(i8::MIN)..=ZX_OK)
        .rev()
        .filter_map(|v| Some((status_name(v)?, v)))
}

/// The status a name stands for. Takes the full name (`ZX_ERR_NOT_FOUND`, `ZX_OK`),
/// or the name without its `ZX_` or `ZX_ERR_` prefix (`ERR_NOT_FOUND`, `NOT_FOUND`,
/// `OK`).
pub fn status_by_name(name: &str) -> Option<i32> {
    let table: Vec<_> = all().collect();
    crate::consts::by_name(&table, name, &["ZX_", "ZX_ERR_"])
}

/// A status for people: its name, or the number for a value Zircon does not define.
pub fn describe(status: i32) -> String {
    match status_name(status) {
        Some(name) => name.to_string(),
        None => format!("unknown status {status}"),
    }
}

/// All status names, for suggestions in error messages.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    all().map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_round_trip() {
        assert_eq!(all().count(), 46, "ZX_OK and Zircon's 45 errors");
        for (name, value) in all() {
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
        let mut names: Vec<&str> = all_names().collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all().count());
        assert_eq!(status_name(-30), Some("ZX_ERR_ACCESS_DENIED"));
        assert_eq!(status_name(-10), Some("ZX_ERR_INVALID_ARGS"));
        assert_eq!(status_name(-70), Some("ZX_ERR_PROTOCOL_NOT_SUPPORTED"));
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
