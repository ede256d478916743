//! How `MMUFlags` and `CachePolicy` become page-table entry bits, and back.
//!
//! A leaf entry is *in use* exactly when it is not zero. x86_64 cannot express a
//! present page that cannot be read, so:
//!
//! - flags with any of READ, WRITE or EXECUTE give a present entry (readable;
//!   writable iff WRITE; executable iff EXECUTE, otherwise NX);
//! - flags with none of them give a *no-access* entry: `PRESENT` clear, so the
//!   hardware faults on every access, and the software bit [`NO_ACCESS`] set so the
//!   entry still holds its frame and counts as a translation (with empty
//!   permissions) for `query`, `unmap` and `protect`.
//!
//! Cache policy uses the PAT index bits PWT (index 1) and PCD (index 2) of every
//! leaf, never the PAT bit itself (which sits at different places in 4 KiB and large
//! entries), so it is the same at every level. [`PAT_MSR_VALUE`] is the PAT the
//! embedder programs so the indices mean what this module says.

use kernel_hal::{CachePolicy, MMUFlags};
use x86_64::structures::paging::PageTableFlags as F;

/// Software bit in a non-present leaf: a translation with no access rights.
pub const NO_ACCESS: F = F::BIT_9;

/// The bits `protect` replaces; everything else (frame, size, cache) stays.
pub const PERMISSION_BITS: F = F::PRESENT
    .union(F::WRITABLE)
    .union(F::USER_ACCESSIBLE)
    .union(F::NO_EXECUTE)
    .union(NO_ACCESS);

/// The value for the `IA32_PAT` MSR that this crate's cache bits assume:
/// index 0 write-back, 1 write-combining, 2 and 3 uncacheable, 4 to 7 the same
/// again. Indices 0 and 3 equal the power-on defaults, so cached and
/// `UncachedDevice` memory behave correctly even before the PAT is programmed.
pub const PAT_MSR_VALUE: u64 = 0x0000_0106_0000_0106;

// The host tests' walker (tests/model.rs) decodes these bits again on purpose: it
// checks this encoding independently.
/// The permission bits of a leaf with `flags`.
pub fn permission_bits(flags: MMUFlags) -> F {
    let mut bits = F::empty();
    if flags.intersects(MMUFlags::READ | MMUFlags::WRITE | MMUFlags::EXECUTE) {
        bits |= F::PRESENT;
    } else {
        bits |= NO_ACCESS;
    }
    if flags.contains(MMUFlags::WRITE) {
        bits |= F::WRITABLE;
    }
    if flags.contains(MMUFlags::USER) {
        bits |= F::USER_ACCESSIBLE;
    }
    if !flags.contains(MMUFlags::EXECUTE) {
        bits |= F::NO_EXECUTE;
    }
    bits
}

/// The cache bits of a leaf with `cache`.
pub fn cache_bits(cache: CachePolicy) -> F {
    match cache {
        CachePolicy::Cached => F::empty(),
        CachePolicy::WriteCombining => F::WRITE_THROUGH,
        CachePolicy::Uncached => F::NO_CACHE,
        CachePolicy::UncachedDevice => F::NO_CACHE | F::WRITE_THROUGH,
    }
}

/// The permissions a leaf's bits grant (the inverse of [`permission_bits`], with
/// READ added wherever the hardware implies it).
pub fn mmu_flags(bits: F) -> MMUFlags {
    // The inverse of the encoding above, bit by bit; the two read alike by nature.
    let mut flags = MMUFlags::empty();
    if bits.contains(F::USER_ACCESSIBLE) {
        flags |= MMUFlags::USER;
    }
    if !bits.contains(F::PRESENT) {
        return flags;
    }
    flags |= MMUFlags::READ;
    if bits.contains(F::WRITABLE) {
        flags |= MMUFlags::WRITE;
    }
    if !bits.contains(F::NO_EXECUTE) {
        flags |= MMUFlags::EXECUTE;
    }
    flags
}

/// The cache policy a leaf's bits select.
pub fn cache_policy(bits: F) -> CachePolicy {
    match (bits.contains(F::NO_CACHE), bits.contains(F::WRITE_THROUGH)) {
        (false, false) => CachePolicy::Cached,
        (false, true) => CachePolicy::WriteCombining,
        (true, false) => CachePolicy::Uncached,
        (true, true) => CachePolicy::UncachedDevice,
    }
}

/// The flags of an intermediate entry pointing at a lower table. They grant
/// everything, so the leaf alone decides; USER only in the lower (user) half, so a
/// kernel table is never reachable from user mode whatever its leaves say.
pub fn table_bits(user_half: bool) -> F {
    if user_half {
        F::PRESENT | F::WRITABLE | F::USER_ACCESSIBLE
    } else {
        F::PRESENT | F::WRITABLE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_with_implied_read() {
        for raw in 0..16 {
            let flags = MMUFlags::from_bits_truncate(raw);
            let back = mmu_flags(permission_bits(flags));
            let access = MMUFlags::READ | MMUFlags::WRITE | MMUFlags::EXECUTE;
            let expected = if flags.intersects(access) {
                flags | MMUFlags::READ
            } else {
                flags
            };
            assert_eq!(back, expected, "flags {flags:?}");
        }
    }

    #[test]
    fn no_access_entries_are_not_present_but_in_use() {
        let bits = permission_bits(MMUFlags::USER);
        assert!(!bits.contains(F::PRESENT));
        assert!(bits.contains(NO_ACCESS));
        assert!(!bits.is_empty());
    }

    #[test]
    fn cache_policies_round_trip_and_match_the_pat() {
        for raw in 0..4 {
            let policy = CachePolicy::from_raw(raw).unwrap();
            assert_eq!(cache_policy(cache_bits(policy)), policy);
            let index = (cache_bits(policy).contains(F::WRITE_THROUGH) as u64)
                | ((cache_bits(policy).contains(F::NO_CACHE) as u64) << 1);
            let memory_type = (PAT_MSR_VALUE >> (index * 8)) & 0xff;
            let expected = match policy {
                CachePolicy::Cached => 6,
                CachePolicy::WriteCombining => 1,
                CachePolicy::Uncached | CachePolicy::UncachedDevice => 0,
            };
            assert_eq!(memory_type, expected, "{policy:?}");
        }
    }
}
