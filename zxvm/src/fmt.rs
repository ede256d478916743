//! Small text helpers shared by the listings, the demo and the SVG.

use zircon_syscall::{ZX_VM_PERM_EXECUTE, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE};

/// A byte count for people: `4 KiB`, `3 MiB`, `1.5 GiB`, `127.9 TiB`, `12 B`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut unit = 0;
    while unit + 1 < UNITS.len() && bytes >= 1u64 << (10 * (unit + 1)) {
        unit += 1;
    }
    let scale = 1u64 << (10 * unit);
    if bytes % scale == 0 {
        format!("{} {}", bytes / scale, UNITS[unit])
    } else {
        let value = bytes as f64 / scale as f64;
        let text = format!("{value:.1}");
        format!("{} {}", text.trim_end_matches(".0"), UNITS[unit])
    }
}

/// `ZX_VM_PERM_*` bits as `rwx` with dashes for missing permissions.
pub fn perms(mmu_flags: u32) -> String {
    let bit = |flag: u32, c: char| if mmu_flags & flag != 0 { c } else { '-' };
    [
        bit(ZX_VM_PERM_READ, 'r'),
        bit(ZX_VM_PERM_WRITE, 'w'),
        bit(ZX_VM_PERM_EXECUTE, 'x'),
    ]
    .iter()
    .collect()
}

/// Bytes as a quoted string with escapes for anything that is not printable ASCII.
pub fn quoted_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(12), "12 B");
        assert_eq!(size(4096), "4 KiB");
        assert_eq!(size(3 << 20), "3 MiB");
        assert_eq!(size(1 << 30), "1 GiB");
        assert_eq!(size(3 << 29), "1.5 GiB");
        assert_eq!(size(0x7fff_feff_f000), "128 TiB");
        assert_eq!(size(u64::MAX), "16 EiB");
        assert_eq!(size(69 << 10), "69 KiB");
    }

    #[test]
    fn perms_and_bytes() {
        assert_eq!(perms(0), "---");
        assert_eq!(perms(ZX_VM_PERM_READ | ZX_VM_PERM_WRITE), "rw-");
        assert_eq!(perms(7), "rwx");
        assert_eq!(quoted_bytes(b"a\"b\0\n"), "\"a\\\"b\\x00\\n\"");
    }
}
