//! Choosing where a non-specific allocation or mapping goes.
//!
//! Random placement is uniform over every candidate base (every aligned address
//! whose range fits a free gap and the upper limit): first by rejection sampling,
//! which costs O(log n) a try and almost always succeeds in a sparse region, then,
//! for a crowded region, by counting the candidates gap by gap and picking one.
//! Compact placement is first fit from the low end, through the gap index.

use super::gaps::GapTree;
use super::{AspaceState, RegionId};
use rand_xoshiro::rand_core::RngCore;

/// How many random tries before counting candidates exactly.
const RANDOM_TRIES: usize = 32;

/// The lowest multiple of `align` (a power of two) at or above `value`.
fn align_up(value: usize, align: usize) -> Option<usize> {
    Some(value.checked_add(align - 1)? & !(align - 1))
}

/// How many aligned bases `a` have `[a, a + size)` inside `[start, end)`, and the
/// first of them.
fn candidates(start: usize, end: usize, size: usize, align: usize) -> (u64, usize) {
    let Some(first) = align_up(start, align) else {
        return (0, 0);
    };
    match first.checked_add(size) {
        Some(last_end) if last_end <= end => (((end - last_end) / align) as u64 + 1, first),
        _ => (0, first),
    }
}

impl AspaceState {
    /// A base for `size` bytes inside region `id`, aligned to `align` (a power of two,
    /// at least a page), ending at or below `limit`, or `None` if there is no room.
    pub(crate) fn place(
        &mut self,
        id: RegionId,
        size: usize,
        align: usize,
        limit: usize,
    ) -> Option<usize> {
        let region = self.regions.get_mut(&id)?;
        let limit = limit.min(region.end());
        if region.flags & fuchsia_zircon_types::ZX_VM_COMPACT != 0 {
            return place_compact(region.gaps(), size, align, limit);
        }
        let (count, first) = candidates(region.base, limit, size, align);
        if count == 0 {
            return None;
        }
        for _ in 0..RANDOM_TRIES {
            let base = first + (self.rng.next_u64() % count) as usize * align;
            if region.is_free(base, size) {
                return Some(base);
            }
        }
        // Crowded: count the candidates gap by gap (building the gap index the first
        // time this region gets here) and pick one of them uniformly.
        let gaps = self.regions.get_mut(&id)?.gaps();
        let mut total: u64 = 0;
        gaps.first_fit(size, |g, glen| {
            total += candidates(g, (g + glen).min(limit), size, align).0;
            None::<()>
        });
        if total == 0 {
            return None;
        }
        let mut pick = self.rng.next_u64() % total;
        let gaps = self.regions.get_mut(&id)?.gaps();
        gaps.first_fit(size, |g, glen| {
            let (n, first) = candidates(g, (g + glen).min(limit), size, align);
            if pick < n {
                Some(first + pick as usize * align)
            } else {
                pick -= n;
                None
            }
        })
    }
}

fn place_compact(gaps: &GapTree, size: usize, align: usize, limit: usize) -> Option<usize> {
    gaps.first_fit(size, |g, glen| {
        let (n, first) = candidates(g, (g + glen).min(limit), size, align);
        (n > 0).then_some(first)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_counts_aligned_bases_that_fit() {
        assert_eq!(candidates(0x1000, 0x5000, 0x1000, 0x1000), (4, 0x1000));
        assert_eq!(candidates(0x1000, 0x5000, 0x2000, 0x2000), (1, 0x2000));
        assert_eq!(candidates(0x1000, 0x6000, 0x2000, 0x2000), (2, 0x2000));
        assert_eq!(candidates(0x1000, 0x2000, 0x2000, 0x1000).0, 0);
        assert_eq!(
            candidates(usize::MAX - 0xfff, usize::MAX, 0x1000, 0x1000).0,
            0
        );
    }
}
