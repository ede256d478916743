//! A buddy allocator of physical frames, shared by both backends.
//!
//! [`FrameAllocator`] is pure bookkeeping: it is built from the usable physical
//! ranges of a memory map and hands out frame numbers, never touching the memory it
//! manages, so the bare-metal backend can use it before any memory is mapped and the
//! unix backend over a memfd.
//!
//! # Shape
//!
//! Frames are numbered from a base aligned to the largest block, so a block of order
//! `k` (`2^k` frames) starts at a physical address aligned to `2^(k + 12)`. For every
//! order there is a bitmap (with a 64-ary summary tree above it) with one bit per block of that order, set when the
//! block is free *as a whole block of that order*; one more bitmap has a bit per frame,
//! set when the frame is allocated (frames in the holes between usable ranges count
//! as allocated and can never be freed). That is about three bits per frame in all:
//! 1M frames (4 GiB) cost ~400 KiB of bitmaps, allocated as a handful of vectors.
//!
//! Invariant: free memory is always held as *maximal* buddy blocks. No two buddies of
//! the same order are both marked free (freeing merges them into their parent), so a
//! fully free aligned block of order `k` is always found at order `k` or inside a
//! larger free block. Every free frame lies in exactly one free block; a frame is free
//! exactly when its allocated bit is clear.
//!
//! # Cost
//!
//! Allocating or freeing one block is O(`MAX_ORDER` x log64 n): each step is a few
//! word operations in a 64-ary summary tree. Allocating or freeing a run of `count`
//! frames also touches `count / 64` words of the allocated bitmap.
//!
//! A run that was allocated may be freed in any pieces, and pieces of several runs
//! may be freed together if they are adjacent and all allocated. A request for a
//! run that is not a power of two takes the smallest block that holds it and gives
//! the tail back at once, so it never wastes frames, but it needs a free aligned
//! block of the rounded-up size.

use alloc::vec;
use alloc::vec::Vec;

use crate::{PagingError, PhysAddr, PAGE_SHIFT, PAGE_SIZE};

/// The largest block order: `2^MAX_ORDER` frames (4 GiB) is the longest run and
/// the largest alignment (`2^(MAX_ORDER + PAGE_SHIFT)` bytes) one request may ask for.
pub const MAX_ORDER: usize = 20;

/// A set of indices with fast "find the lowest member": a bitmap plus a 64-ary
/// summary tree in which a bit is set iff the word below it is non-zero.
#[derive(Debug, Clone)]
struct BitTree {
    /// `levels[0]` holds one bit per index; `levels[i + 1]` one bit per word of
    /// `levels[i]`. The last level is a single word.
    levels: Vec<Vec<u64>>,
    /// How many indices the set can hold.
    len: usize,
}

impl BitTree {
    fn new(len: usize) -> BitTree {
        let mut levels = Vec::new();
        let mut words = len.div_ceil(64).max(1);
        loop {
            levels.push(vec![0u64; words]);
            if words == 1 {
                break;
            }
            words = words.div_ceil(64);
        }
        BitTree { levels, len }
    }

    fn contains(&self, index: usize) -> bool {
        index < self.len && self.levels[0][index / 64] & (1 << (index % 64)) != 0
    }

    fn insert(&mut self, index: usize) {
        debug_assert!(index < self.len);
        let mut index = index;
        for level in &mut self.levels {
            let word = &mut level[index / 64];
            let was_empty = *word == 0;
            *word |= 1 << (index % 64);
            if !was_empty {
                return;
            }
            index /= 64;
        }
    }

    fn remove(&mut self, index: usize) {
        debug_assert!(self.contains(index));
        let mut index = index;
        for level in &mut self.levels {
            let word = &mut level[index / 64];
            *word &= !(1 << (index % 64));
            if *word != 0 {
                return;
            }
            index /= 64;
        }
    }

    fn is_empty(&self) -> bool {
        self.levels.last().is_none_or(|top| top[0] == 0)
    }

    fn first(&self) -> Option<usize> {
        let top = self.levels.last()?[0];
        if top == 0 {
            return None;
        }
        let mut index = top.trailing_zeros() as usize;
        for level in self.levels.iter().rev().skip(1) {
            index = index * 64 + level[index].trailing_zeros() as usize;
        }
        Some(index)
    }
}

/// A plain bitmap with word-at-a-time range operations.
#[derive(Debug, Clone)]
struct Bitmap {
    words: Vec<u64>,
}

/// The mask of bits `[from, to)` within one word (`0 <= from < to <= 64`).
fn word_mask(from: usize, to: usize) -> u64 {
    let high = if to == 64 { u64::MAX } else { (1u64 << to) - 1 };
    high & !((1u64 << from) - 1)
}

impl Bitmap {
    fn new_ones(len: usize) -> Bitmap {
        Bitmap {
            words: vec![u64::MAX; len.div_ceil(64)],
        }
    }

    /// Calls `f(word_index, mask)` for each word that `[start, end)` touches.
    fn for_each_word(start: usize, end: usize, mut f: impl FnMut(usize, u64) -> bool) -> bool {
        let mut i = start;
        while i < end {
            let word = i / 64;
            let to = end.min((word + 1) * 64);
            if !f(word, word_mask(i % 64, to - word * 64)) {
                return false;
            }
            i = to;
        }
        true
    }

    fn all_set(&self, start: usize, end: usize) -> bool {
        Self::for_each_word(start, end, |w, mask| self.words[w] & mask == mask)
    }

    fn set(&mut self, start: usize, end: usize) {
        Self::for_each_word(start, end, |w, mask| {
            self.words[w] |= mask;
            true
        });
    }

    fn clear(&mut self, start: usize, end: usize) {
        Self::for_each_word(start, end, |w, mask| {
            self.words[w] &= !mask;
            true
        });
    }
}

/// A buddy allocator of physical frames over the usable ranges of a memory map.
///
/// See the [module documentation](self) for its shape, invariants and cost. It is not
/// synchronised: a backend wraps it in its own lock.
#[derive(Debug, Clone)]
pub struct FrameAllocator {
    /// Physical address of frame number 0, aligned to `2^(MAX_ORDER + PAGE_SHIFT)`.
    base: PhysAddr,
    /// The usable ranges as frame-number ranges `[start, end)`: sorted, disjoint,
    /// non-adjacent (adjacent ranges were merged).
    ranges: Vec<(usize, usize)>,
    /// `free_blocks[k]` holds block number `i` (frames `[i << k, (i + 1) << k)`) when
    /// that block is free and not part of a larger free block.
    free_blocks: Vec<BitTree>,
    /// Bit `n` is set when frame `n` is allocated or not usable.
    allocated: Bitmap,
    /// Bit `k` is set when `free_blocks[k]` is non-empty.
    nonempty_orders: u32,
    free: usize,
    total: usize,
}

impl FrameAllocator {
    /// Builds an allocator over the physical byte ranges `[start, end)` in `ranges`, in
    /// any order. Each range is shrunk to whole pages (start rounded up, end rounded
    /// down); empty ranges are ignored, and overlapping or adjacent ranges are merged.
    /// Every frame of the ranges starts free.
    pub fn new(ranges: &[(PhysAddr, PhysAddr)]) -> FrameAllocator {
        let mut frames: Vec<(usize, usize)> = ranges
            .iter()
            .filter_map(|&(start, end)| {
                let first = start.div_ceil(PAGE_SIZE);
                let last = end / PAGE_SIZE;
                (first < last).then_some((first, last))
            })
            .collect();
        frames.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(frames.len());
        for (start, end) in frames {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }

        let base_frame = merged.first().map_or(0, |r| r.0 & !((1 << MAX_ORDER) - 1));
        let span = merged.last().map_or(0, |r| r.1 - base_frame);
        for range in &mut merged {
            range.0 -= base_frame;
            range.1 -= base_frame;
        }
        let free_blocks = (0..=MAX_ORDER)
            .map(|order| BitTree::new(span.div_ceil(1 << order)))
            .collect();
        let mut allocator = FrameAllocator {
            base: base_frame * PAGE_SIZE,
            ranges: merged,
            free_blocks,
            allocated: Bitmap::new_ones(span),
            nonempty_orders: 0,
            free: 0,
            total: 0,
        };
        for i in 0..allocator.ranges.len() {
            let (start, end) = allocator.ranges[i];
            allocator.release(start, end);
            allocator.total += end - start;
        }
        allocator
    }

    /// Allocates `count` contiguous frames whose first address is a multiple of
    /// `2^align_log2` bytes (values up to [`PAGE_SHIFT`] mean page alignment), and
    /// returns that address. Returns `None` if `count` is zero, larger than
    /// `2^MAX_ORDER`, the alignment exceeds `2^(MAX_ORDER + PAGE_SHIFT)`, or no free
    /// block fits.
    pub fn alloc(&mut self, count: usize, align_log2: usize) -> Option<PhysAddr> {
        if count == 0 || count > 1 << MAX_ORDER {
            return None;
        }
        let size_order = count.next_power_of_two().trailing_zeros() as usize;
        let order = size_order.max(align_log2.saturating_sub(PAGE_SHIFT));
        if order > MAX_ORDER {
            return None;
        }
        // The smallest non-empty order at or above `order`.
        let candidates = self.nonempty_orders & !((1u32 << order) - 1);
        if candidates == 0 {
            return None;
        }
        let mut have = candidates.trailing_zeros() as usize;
        let block = self.free_blocks[have].first()?;
        self.take_block(block, have);
        let start = block << have;
        // Split down to `order`, leaving each upper half free.
        while have > order {
            have -= 1;
            self.put_block(start + (1 << have), have);
        }
        self.allocated.set(start, start + (1 << order));
        self.free -= 1 << order;
        // Give back the tail beyond `count` (its frames were just marked allocated).
        self.release(start + count, start + (1 << order));
        Some(self.base + start * PAGE_SIZE)
    }

    /// Returns the `count` frames starting at `paddr`. They need not be a run that
    /// [`alloc`](Self::alloc) returned: any allocated frames may be freed, in any
    /// pieces.
    ///
    /// # Errors
    ///
    /// Nothing changes on error.
    /// - [`PagingError::NotAligned`]: `paddr` is not page-aligned or `count` is zero.
    /// - [`PagingError::OutOfRange`]: the run overflows or does not lie inside one
    ///   usable range.
    /// - [`PagingError::NotMapped`]: some frame of the run is free (a double free).
    pub fn free(&mut self, paddr: PhysAddr, count: usize) -> Result<(), PagingError> {
        if paddr % PAGE_SIZE != 0 || count == 0 {
            return Err(PagingError::NotAligned);
        }
        let start = paddr
            .checked_sub(self.base)
            .ok_or(PagingError::OutOfRange)?
            / PAGE_SIZE;
        let end = start.checked_add(count).ok_or(PagingError::OutOfRange)?;
        if !self.is_usable(start, end) {
            return Err(PagingError::OutOfRange);
        }
        if !self.allocated.all_set(start, end) {
            return Err(PagingError::NotMapped);
        }
        self.release(start, end);
        Ok(())
    }

    /// Whether every frame of `[paddr, paddr + count * PAGE_SIZE)` is usable and
    /// currently allocated. False for an unaligned address, a zero count or a run
    /// that leaves the usable ranges.
    pub fn is_allocated(&self, paddr: PhysAddr, count: usize) -> bool {
        if paddr % PAGE_SIZE != 0 || count == 0 || paddr < self.base {
            return false;
        }
        let start = (paddr - self.base) / PAGE_SIZE;
        match start.checked_add(count) {
            Some(end) => self.is_usable(start, end) && self.allocated.all_set(start, end),
            None => false,
        }
    }

    /// How many frames are free now.
    pub fn free_count(&self) -> usize {
        self.free
    }

    /// How many usable frames the allocator manages in all.
    pub fn total_count(&self) -> usize {
        self.total
    }

    /// Whether frames `[start, end)` lie inside one usable range.
    fn is_usable(&self, start: usize, end: usize) -> bool {
        // The last range starting at or before `start`.
        let i = self.ranges.partition_point(|r| r.0 <= start);
        i > 0 && end <= self.ranges[i - 1].1
    }

    /// Marks the allocated frames `[start, end)` free, as maximal aligned blocks.
    fn release(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        self.allocated.clear(start, end);
        self.free += end - start;
        let mut at = start;
        while at < end {
            let align = at.trailing_zeros() as usize;
            let fits = (usize::BITS - 1 - (end - at).leading_zeros()) as usize;
            let order = align.min(fits).min(MAX_ORDER);
            self.insert_merging(at, order);
            at += 1 << order;
        }
    }

    /// Adds the free block of `2^order` frames at frame `start`, merging it with its
    /// buddy for as long as the buddy is free.
    fn insert_merging(&mut self, start: usize, order: usize) {
        let (mut start, mut order) = (start, order);
        while order < MAX_ORDER {
            let buddy = start ^ (1 << order);
            if !self.free_blocks[order].contains(buddy >> order) {
                break;
            }
            self.take_block(buddy >> order, order);
            start &= !(1 << order);
            order += 1;
        }
        self.put_block(start, order);
    }

    fn put_block(&mut self, start: usize, order: usize) {
        self.free_blocks[order].insert(start >> order);
        self.nonempty_orders |= 1 << order;
    }

    fn take_block(&mut self, block: usize, order: usize) {
        self.free_blocks[order].remove(block);
        if self.free_blocks[order].is_empty() {
            self.nonempty_orders &= !(1 << order);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use alloc::collections::BTreeSet;
    use proptest::prelude::*;

    const MIB: usize = 1 << 20;
    const GIB: usize = 1 << 30;

    #[test]
    fn single_frames_come_out_distinct_and_go_back() {
        let mut a = FrameAllocator::new(&[(0, MIB)]);
        assert_eq!(a.total_count(), 256);
        let mut seen = BTreeSet::new();
        for _ in 0..256 {
            let f = a.alloc(1, 0).unwrap();
            assert!(f < MIB && f % PAGE_SIZE == 0);
            assert!(seen.insert(f), "frame {f:#x} handed out twice");
        }
        assert_eq!(a.free_count(), 0);
        assert_eq!(a.alloc(1, 0), None);
        for &f in &seen {
            a.free(f, 1).unwrap();
        }
        assert_eq!(a.free_count(), 256);
        // Fully merged again: the whole megabyte is one run.
        assert_eq!(a.alloc(256, 0), Some(0));
    }

    #[test]
    fn contiguous_runs_honour_alignment_and_return_their_tail() {
        let mut a = FrameAllocator::new(&[(PAGE_SIZE, 64 * MIB)]);
        let one = a.alloc(1, 0).unwrap();
        let run = a.alloc(3, 0).unwrap();
        assert_eq!(a.free_count(), a.total_count() - 4, "tail was given back");
        let big = a.alloc(512, 21).unwrap();
        assert_eq!(big % (2 * MIB), 0);
        let huge_aligned = a.alloc(1, 24).unwrap();
        assert_eq!(huge_aligned % (16 * MIB), 0);
        for (p, n) in [(one, 1), (run, 3), (big, 512), (huge_aligned, 1)] {
            assert!(a.is_allocated(p, n));
            a.free(p, n).unwrap();
        }
        assert_eq!(a.free_count(), a.total_count());
    }

    #[test]
    fn sub_runs_of_an_allocation_can_be_freed_separately() {
        let mut a = FrameAllocator::new(&[(0, 4 * MIB)]);
        let run = a.alloc(100, 0).unwrap();
        a.free(run + 10 * PAGE_SIZE, 5).unwrap();
        assert!(!a.is_allocated(run + 10 * PAGE_SIZE, 1));
        assert!(a.is_allocated(run + 15 * PAGE_SIZE, 85));
        a.free(run, 10).unwrap();
        a.free(run + 15 * PAGE_SIZE, 85).unwrap();
        assert_eq!(a.free_count(), a.total_count());
        assert_eq!(a.alloc(1024, 0), Some(0));
    }

    #[test]
    fn adjacent_allocations_can_be_freed_as_one_run() {
        let mut a = FrameAllocator::new(&[(0, MIB)]);
        let x = a.alloc(1, 0).unwrap();
        let y = a.alloc(1, 0).unwrap();
        assert_eq!(y, x + PAGE_SIZE);
        a.free(x, 2).unwrap();
        assert_eq!(a.free_count(), 256);
    }

    #[test]
    fn bad_frees_are_refused_and_change_nothing() {
        let mut a = FrameAllocator::new(&[(MIB, 2 * MIB), (3 * MIB, 4 * MIB)]);
        let f = a.alloc(4, 0).unwrap();
        let before = a.clone().free_count();
        assert_eq!(a.free(f + 1, 1), Err(PagingError::NotAligned));
        assert_eq!(a.free(f, 0), Err(PagingError::NotAligned));
        assert_eq!(
            a.free(0, 1),
            Err(PagingError::OutOfRange),
            "below every range"
        );
        assert_eq!(
            a.free(2 * MIB, 1),
            Err(PagingError::OutOfRange),
            "in the hole"
        );
        assert_eq!(a.free(2 * MIB - PAGE_SIZE, 2), Err(PagingError::OutOfRange));
        assert_eq!(a.free(f, usize::MAX), Err(PagingError::OutOfRange));
        assert_eq!(
            a.free(usize::MAX & !(PAGE_SIZE - 1), 1),
            Err(PagingError::OutOfRange)
        );
        // Partly free: nothing is freed, not even the allocated part.
        assert_eq!(a.free(f, 5), Err(PagingError::NotMapped));
        assert!(a.is_allocated(f, 4));
        assert_eq!(a.free_count(), before);
        a.free(f, 4).unwrap();
        assert_eq!(a.free(f, 1), Err(PagingError::NotMapped), "double free");
        assert_eq!(a.free_count(), a.total_count());
    }

    #[test]
    fn impossible_requests_return_none() {
        let mut a = FrameAllocator::new(&[(0, MIB)]);
        assert_eq!(a.alloc(0, 0), None);
        assert_eq!(a.alloc(257, 0), None);
        assert_eq!(a.alloc(usize::MAX, 0), None);
        assert_eq!(a.alloc(1, 64), None);
        assert_eq!(a.alloc(1, MAX_ORDER + PAGE_SHIFT + 1), None);
        assert_eq!(a.free_count(), 256);
        let mut empty = FrameAllocator::new(&[]);
        assert_eq!(empty.total_count(), 0);
        assert_eq!(empty.alloc(1, 0), None);
        assert_eq!(empty.free(0, 1), Err(PagingError::OutOfRange));
    }

    #[test]
    fn ranges_are_trimmed_to_pages_and_merged() {
        let a = FrameAllocator::new(&[
            (MIB + 1, 2 * MIB),
            (2 * MIB, 3 * MIB - 1),
            (5 * MIB, 5 * MIB + 100),
        ]);
        assert_eq!(a.total_count(), 256 - 1 + 256 - 1);
        assert!(!a.is_allocated(MIB + PAGE_SIZE, 1));
    }

    #[test]
    fn four_gibibytes_cost_a_few_bits_per_frame() {
        let mut a = FrameAllocator::new(&[(0, 4 * GIB)]);
        assert_eq!(a.total_count(), 1 << 20);
        assert_eq!(a.base, 0);
        let bits: usize = a
            .free_blocks
            .iter()
            .flat_map(|t| t.levels.iter())
            .map(|l| l.len() * 64)
            .sum::<usize>()
            + a.allocated.words.len() * 64;
        assert!(bits < 4 * (1 << 20), "{bits} bits of bookkeeping");
        assert_eq!(a.alloc(1 << 20, 0), Some(0));
        assert_eq!(a.alloc(1, 0), None);
        a.free(0, 1 << 20).unwrap();
    }

    #[test]
    fn high_ranges_get_an_aligned_base() {
        let mut a = FrameAllocator::new(&[(5 * GIB, 5 * GIB + 8 * MIB)]);
        assert_eq!(a.base, 4 * GIB);
        let p = a.alloc(1, 22).unwrap();
        assert_eq!(p, 5 * GIB);
        a.free(p, 1).unwrap();
    }

    /// One step of the model test.
    #[derive(Debug, Clone)]
    enum Op {
        Alloc {
            count: usize,
            align_log2: usize,
        },
        /// Frees a sub-run of the `pick`-th live run (modulo their number): frames
        /// `[skip, skip + len)` of it, both taken modulo the run's length.
        Free {
            pick: usize,
            skip: usize,
            len: usize,
        },
        /// Frees one frame that the model says is free: must be refused.
        DoubleFree {
            pick: usize,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (1usize..40, 0usize..18).prop_map(|(count, align_log2)| Op::Alloc { count, align_log2 }),
            3 => (any::<usize>(), any::<usize>(), any::<usize>())
                .prop_map(|(pick, skip, len)| Op::Free { pick, skip, len }),
            1 => any::<usize>().prop_map(|pick| Op::DoubleFree { pick }),
        ]
    }

    proptest! {
        /// The model: the set of allocated frame addresses, and the live runs (so the
        /// test can free pieces of them). The allocator must never hand out a frame
        /// in the set, must keep its counts equal to the model's, and must be whole
        /// again once everything is freed.
        #[test]
        fn random_alloc_free_matches_a_set_model(ops in proptest::collection::vec(op(), 1..200)) {
            let ranges = [(PAGE_SIZE * 3, MIB), (2 * MIB, 3 * MIB + 5 * PAGE_SIZE)];
            let mut a = FrameAllocator::new(&ranges);
            let total = a.total_count();
            let usable = |p: usize| ranges.iter().any(|&(s, e)| p >= s && p + PAGE_SIZE <= e);
            let mut model: BTreeSet<usize> = BTreeSet::new();
            let mut runs: Vec<(usize, usize)> = Vec::new();
            for op in ops {
                match op {
                    Op::Alloc { count, align_log2 } => {
                        if let Some(p) = a.alloc(count, align_log2) {
                            prop_assert_eq!(p % (1 << align_log2.max(PAGE_SHIFT)), 0);
                            for i in 0..count {
                                let f = p + i * PAGE_SIZE;
                                prop_assert!(usable(f), "frame {:#x} not usable", f);
                                prop_assert!(model.insert(f), "frame {:#x} handed out twice", f);
                            }
                            runs.push((p, count));
                        }
                    }
                    Op::Free { pick, skip, len } => {
                        if runs.is_empty() {
                            continue;
                        }
                        let i = pick % runs.len();
                        let (p, n) = runs.swap_remove(i);
                        let skip = skip % n;
                        let len = 1 + len % (n - skip);
                        prop_assert_eq!(a.free(p + skip * PAGE_SIZE, len), Ok(()));
                        for k in skip..skip + len {
                            model.remove(&(p + k * PAGE_SIZE));
                        }
                        if skip > 0 {
                            runs.push((p, skip));
                        }
                        if skip + len < n {
                            runs.push((p + (skip + len) * PAGE_SIZE, n - skip - len));
                        }
                    }
                    Op::DoubleFree { pick } => {
                        let frames: Vec<usize> = ranges
                            .iter()
                            .flat_map(|&(s, e)| (s / PAGE_SIZE..e / PAGE_SIZE).map(|f| f * PAGE_SIZE))
                            .filter(|f| !model.contains(f))
                            .collect();
                        if let Some(&f) = frames.get(pick % frames.len().max(1)) {
                            prop_assert_eq!(a.free(f, 1), Err(PagingError::NotMapped));
                        }
                    }
                }
                prop_assert_eq!(a.free_count(), total - model.len());
            }
            for (p, n) in runs {
                prop_assert_eq!(a.free(p, n), Ok(()));
            }
            prop_assert_eq!(a.free_count(), total);
            // Everything merged back: the largest aligned block of the second range
            // (1 MiB at 2 MiB) is available as one run again.
            prop_assert_eq!(a.alloc(256, 20), Some(2 * MIB));
        }
    }
}
