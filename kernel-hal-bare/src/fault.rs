//! Decoding the error code of an x86_64 page fault (#PF) into what the object
//! layer's fault path takes.

use kernel_hal::MMUFlags;

/// A page fault's error code, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageFaultInfo {
    /// The kind of access that faulted: exactly one of READ, WRITE or EXECUTE,
    /// the argument `AddressSpace::fault` takes.
    pub access: MMUFlags,
    /// The page was present (so a protection check failed); `false` means there was
    /// no translation.
    pub present: bool,
    /// The access came from user mode (CPL 3).
    pub user: bool,
    /// A reserved bit was set in some entry of the walk: the page table is
    /// corrupt (or `EFER.NXE` is clear while a leaf has bit 63 set). Never a
    /// fault to resolve.
    pub reserved_bit: bool,
    /// A protection-key violation (never resolvable by this crate's tables).
    pub protection_key: bool,
}

impl PageFaultInfo {
    /// Decodes the error code the CPU pushed for a #PF.
    pub const fn decode(error_code: u64) -> PageFaultInfo {
        let access = if error_code & (1 << 4) != 0 {
            MMUFlags::EXECUTE
        } else if error_code & (1 << 1) != 0 {
            MMUFlags::WRITE
        } else {
            MMUFlags::READ
        };
        PageFaultInfo {
            access,
            present: error_code & 1 != 0,
            user: error_code & (1 << 2) != 0,
            reserved_bit: error_code & (1 << 3) != 0,
            protection_key: error_code & (1 << 5) != 0,
        }
    }

    /// Whether the object layer's fault path may resolve the fault (demand paging,
    /// copy-on-write, a protection the mapping allows); a reserved-bit or
    /// protection-key fault never is.
    pub const fn is_resolvable(&self) -> bool {
        !self.reserved_bit && !self.protection_key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_decode_to_the_access_and_its_circumstances() {
        let read_missing = PageFaultInfo::decode(0b00100);
        assert_eq!(read_missing.access, MMUFlags::READ);
        assert!(read_missing.user && !read_missing.present);
        let write_protected = PageFaultInfo::decode(0b00111);
        assert_eq!(write_protected.access, MMUFlags::WRITE);
        assert!(write_protected.present && write_protected.is_resolvable());
        let fetch_nx = PageFaultInfo::decode(0b10101);
        assert_eq!(fetch_nx.access, MMUFlags::EXECUTE);
        let kernel_read = PageFaultInfo::decode(0);
        assert!(!kernel_read.user);
        assert!(!PageFaultInfo::decode(0b01101).is_resolvable());
        assert!(!PageFaultInfo::decode(1 << 5).is_resolvable());
    }
}
