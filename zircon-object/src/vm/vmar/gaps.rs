//! The free gaps of one region, indexed for O(log n) free-space search.
//!
//! A treap keyed by gap start, each node augmented with the largest gap length in its
//! subtree. Lookups by address and first-fit searches descend one path (first fit
//! skips every subtree whose largest gap is too small), so both cost O(log n)
//! expected in the number of gaps. Priorities are a hash of the key salted with a
//! secret of the address space, so the shape needs no random source at run time.
//!
//! Every operation is a loop over parent links: none recurses, and none keeps a
//! stack, so a user who knows the salt (the embedder's seed left at 0 makes it
//! guessable) and picks gap addresses that make the tree a chain makes operations
//! slower, never deeper on the kernel stack.

use alloc::vec::Vec;

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Node {
    start: usize,
    len: usize,
    /// Largest `len` in this node's subtree.
    max: usize,
    prio: u64,
    left: u32,
    right: u32,
    /// `NIL` for the root.
    parent: u32,
}

/// A set of disjoint gaps `[start, start + len)`, `len > 0`.
///
/// Always true: keys grow left to right, a parent's priority is at least its
/// children's, `parent` links mirror `left`/`right`, and each node's `max` is the
/// largest `len` below it.
pub(crate) struct GapTree {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    count: usize,
    /// Mixed into every priority, so that a user who picks the gaps' addresses
    /// cannot pick their priorities too (and so cannot make the tree deep).
    salt: u64,
}

fn priority(key: usize, salt: u64) -> u64 {
    // splitmix64 finaliser: a good spread from sequential keys.
    let mut z = (key as u64 ^ salt).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl GapTree {
    /// A tree holding the single gap `[start, start + len)` (or nothing if
    /// `len == 0`), whose priorities are salted with `salt` (a secret of the
    /// address space, from the embedder's seed).
    pub(crate) fn new(salt: u64, start: usize, len: usize) -> GapTree {
        let mut tree = GapTree {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            count: 0,
            salt,
        };
        if len > 0 {
            tree.insert(start, len);
        }
        tree
    }

    /// How many gaps there are.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    fn node(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }

    fn node_mut(&mut self, i: u32) -> &mut Node {
        &mut self.nodes[i as usize]
    }

    fn max_of(&self, i: u32) -> usize {
        if i == NIL {
            0
        } else {
            self.node(i).max
        }
    }

    /// Recomputes `i`'s `max` from its children; says whether it changed.
    fn update(&mut self, i: u32) -> bool {
        let n = *self.node(i);
        let max = n.len.max(self.max_of(n.left)).max(self.max_of(n.right));
        self.node_mut(i).max = max;
        max != n.max
    }

    /// Recomputes `max` from `i` up to the root, after a change below `i` (every
    /// other node's `max` is right). Stops at the first node whose `max` stays the
    /// same: the ones above it see no change.
    fn update_upwards(&mut self, mut i: u32) {
        while i != NIL && self.update(i) {
            i = self.node(i).parent;
        }
    }

    /// The node holding the gap that starts at `start`, found by one descent.
    fn find(&self, start: usize) -> Option<u32> {
        let mut t = self.root;
        while t != NIL {
            let n = self.node(t);
            if start < n.start {
                t = n.left;
            } else if start > n.start {
                t = n.right;
            } else {
                return Some(t);
            }
        }
        None
    }

    /// Points `parent`'s link to `old` (or the root, when `parent` is `NIL`) at `new`.
    fn replace_child(&mut self, parent: u32, old: u32, new: u32) {
        if parent == NIL {
            self.root = new;
        } else if self.node(parent).left == old {
            self.node_mut(parent).left = new;
        } else {
            self.node_mut(parent).right = new;
        }
        if new != NIL {
            self.node_mut(new).parent = parent;
        }
    }

    /// Lifts `x` above its parent (a right rotation if `x` is a left child, a left
    /// one otherwise), keeping key order; updates both nodes' `max`.
    fn rotate_up(&mut self, x: u32) {
        let p = self.node(x).parent;
        let g = self.node(p).parent;
        let inner = if self.node(p).left == x {
            let inner = self.node(x).right;
            self.node_mut(p).left = inner;
            self.node_mut(x).right = p;
            inner
        } else {
            let inner = self.node(x).left;
            self.node_mut(p).right = inner;
            self.node_mut(x).left = p;
            inner
        };
        if inner != NIL {
            self.node_mut(inner).parent = p;
        }
        self.node_mut(p).parent = x;
        self.replace_child(g, p, x);
        self.update(p);
        self.update(x);
    }

    /// Adds the gap `[start, start + len)`, which must not overlap another: one
    /// descent to a leaf, rotations up while the new node outranks its parent,
    /// then `max` fixed on the way to the root.
    pub(crate) fn insert(&mut self, start: usize, len: usize) {
        debug_assert!(len > 0);
        let node = Node {
            start,
            len,
            max: len,
            prio: priority(start, self.salt),
            left: NIL,
            right: NIL,
            parent: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let mut parent = NIL;
        let mut t = self.root;
        while t != NIL {
            parent = t;
            t = if start < self.node(t).start {
                self.node(t).left
            } else {
                self.node(t).right
            };
        }
        if parent == NIL {
            self.root = i;
        } else if start < self.node(parent).start {
            self.node_mut(parent).left = i;
        } else {
            self.node_mut(parent).right = i;
        }
        self.node_mut(i).parent = parent;
        loop {
            let p = self.node(i).parent;
            if p == NIL || self.node(i).prio <= self.node(p).prio {
                break;
            }
            self.rotate_up(i);
        }
        self.update_upwards(self.node(i).parent);
        self.count += 1;
    }

    /// Removes the gap starting at `start`; returns its length if there was one.
    /// The node is rotated down (its higher-priority child lifted above it) until
    /// it has at most one child, then spliced out.
    pub(crate) fn remove(&mut self, start: usize) -> Option<usize> {
        let t = self.find(start)?;
        loop {
            let Node { left, right, .. } = *self.node(t);
            if left == NIL || right == NIL {
                break;
            }
            let lift = if self.node(left).prio > self.node(right).prio {
                left
            } else {
                right
            };
            self.rotate_up(lift);
        }
        let Node {
            left,
            right,
            parent,
            len,
            ..
        } = *self.node(t);
        let only = if left == NIL { right } else { left };
        self.replace_child(parent, t, only);
        self.update_upwards(parent);
        self.free.push(t);
        self.count -= 1;
        Some(len)
    }

    /// Changes the length of the gap starting at `start` (which must exist) to
    /// `len > 0`, in one descent and one climb.
    pub(crate) fn set_len(&mut self, start: usize, len: usize) {
        debug_assert!(len > 0);
        let found = self.find(start);
        debug_assert!(found.is_some());
        if let Some(t) = found {
            self.node_mut(t).len = len;
            self.update_upwards(t);
        }
    }

    /// The gap with the greatest start `<= addr`, as `(start, len)`.
    #[cfg(test)]
    pub(crate) fn floor(&self, addr: usize) -> Option<(usize, usize)> {
        let mut t = self.root;
        let mut best = None;
        while t != NIL {
            let n = &self.nodes[t as usize];
            if n.start <= addr {
                best = Some((n.start, n.len));
                t = n.right;
            } else {
                t = n.left;
            }
        }
        best
    }

    /// The gap with the least start `>= addr`, as `(start, len)`.
    #[cfg(test)]
    pub(crate) fn ceil(&self, addr: usize) -> Option<(usize, usize)> {
        let mut t = self.root;
        let mut best = None;
        while t != NIL {
            let n = &self.nodes[t as usize];
            if n.start >= addr {
                best = Some((n.start, n.len));
                t = n.left;
            } else {
                t = n.right;
            }
        }
        best
    }

    /// The gap that contains all of `[start, start + len)`, if one does.
    #[cfg(test)]
    pub(crate) fn containing(&self, start: usize, len: usize) -> Option<(usize, usize)> {
        let (g, glen) = self.floor(start)?;
        (start + len <= g + glen).then_some((g, glen))
    }

    /// Calls `fit` on the gaps of length `>= min_len` in address order, skipping
    /// every subtree with no such gap, until it returns `Some`. An in-order walk
    /// along parent links: down to the leftmost node whose subtree has a big enough
    /// gap, then from each node to its right subtree or up to the first ancestor
    /// not yet passed.
    pub(crate) fn first_fit<T>(
        &self,
        min_len: usize,
        mut fit: impl FnMut(usize, usize) -> Option<T>,
    ) -> Option<T> {
        if self.max_of(self.root) < min_len {
            return None;
        }
        let mut t = self.leftmost_fit(self.root, min_len);
        loop {
            // Every big enough gap left of `t` has been offered.
            let n = self.node(t);
            if n.len >= min_len {
                if let Some(found) = fit(n.start, n.len) {
                    return Some(found);
                }
            }
            if self.max_of(n.right) >= min_len {
                t = self.leftmost_fit(n.right, min_len);
                continue;
            }
            loop {
                let p = self.node(t).parent;
                if p == NIL {
                    return None;
                }
                let from_left = self.node(p).left == t;
                t = p;
                if from_left {
                    break;
                }
            }
        }
    }

    /// The leftmost node under `t` (whose subtree has a gap of `>= min_len`) with
    /// no such gap in its left subtree.
    fn leftmost_fit(&self, mut t: u32, min_len: usize) -> u32 {
        loop {
            let left = self.node(t).left;
            if self.max_of(left) < min_len {
                return t;
            }
            t = left;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::vec;
    use proptest::prelude::*;

    /// The number of nodes on the longest path from the root.
    fn depth(tree: &GapTree) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(tree.root, 1)];
        while let Some((node, d)) = stack.pop() {
            if node == NIL {
                continue;
            }
            deepest = deepest.max(d);
            let n = &tree.nodes[node as usize];
            stack.push((n.left, d + 1));
            stack.push((n.right, d + 1));
        }
        deepest
    }

    /// Checks every invariant of the tree (key order, priority order, parent links,
    /// `max`, the count) with a loop.
    fn check(tree: &GapTree) {
        let mut seen = 0;
        let mut stack = vec![(tree.root, NIL, 0usize, usize::MAX)];
        while let Some((node, parent, lo, hi)) = stack.pop() {
            if node == NIL {
                continue;
            }
            seen += 1;
            let n = tree.node(node);
            assert_eq!(n.parent, parent, "parent link of {}", n.start);
            assert!(lo <= n.start && n.start <= hi, "key order at {}", n.start);
            if parent != NIL {
                assert!(
                    n.prio <= tree.node(parent).prio,
                    "heap order at {}",
                    n.start
                );
            }
            let max = n.len.max(tree.max_of(n.left)).max(tree.max_of(n.right));
            assert_eq!(n.max, max, "max at {}", n.start);
            stack.push((n.left, node, lo, n.start));
            stack.push((n.right, node, n.start, hi));
        }
        assert_eq!(seen, tree.count);
    }

    /// The longest run of gap starts (`base` plus an odd number of pages, so that gaps between
    /// one-page children can start there), ascending, whose priorities under
    /// `salt` fall (patience sorting over 2^18 candidates): a treap over them is a
    /// chain, whatever the order of insertion. What a user who knows the salt can
    /// build.
    fn chain_keys(salt: u64, base: usize) -> Vec<usize> {
        let candidates: Vec<(usize, u64)> = (0..1usize << 18)
            .map(|k| {
                let key = base + ((2 * k + 1) << 12);
                (key, priority(key, salt))
            })
            .collect();
        // tails[i]: index of the candidate ending the best run of length i + 1
        // (the one with the highest last priority); back: each one's predecessor.
        let mut tails: Vec<usize> = Vec::new();
        let mut back = vec![usize::MAX; candidates.len()];
        for (i, &(_, p)) in candidates.iter().enumerate() {
            let at = tails.partition_point(|&t| candidates[t].1 > p);
            if at > 0 {
                back[i] = tails[at - 1];
            }
            if at == tails.len() {
                tails.push(i);
            } else {
                tails[at] = i;
            }
        }
        let mut keys = Vec::new();
        let mut i = *tails.last().expect("candidates");
        while i != usize::MAX {
            keys.push(candidates[i].0);
            i = back[i];
        }
        keys.reverse();
        keys
    }

    #[test]
    fn gap_starts_chosen_against_the_unsalted_hash_do_not_make_a_salted_tree_deep() {
        let keys = chain_keys(0, 0);
        let build = |salt| {
            let mut tree = GapTree::new(salt, 0, 0);
            for &k in &keys {
                tree.insert(k, 1);
            }
            tree
        };
        let unsalted = depth(&build(0));
        assert!(unsalted >= 500, "{} keys, depth {unsalted}", keys.len());
        assert!(depth(&build(0x05EE_D0FA_5ACE)) < 64);
    }

    #[test]
    fn a_chain_built_by_a_user_who_knows_the_salt_is_walked_on_a_16_kib_stack() {
        extern crate std;
        let keys = chain_keys(0, 0);
        let body = move || {
            // Gaps of one page at each key, inserted in both orders: a chain
            // either way, every operation walking its whole length.
            for reversed in [false, true] {
                let mut tree = GapTree::new(0, 0, 0);
                let order: Vec<usize> = if reversed {
                    keys.iter().rev().copied().collect()
                } else {
                    keys.clone()
                };
                for &k in &order {
                    tree.insert(k, 1 << 12);
                }
                assert!(depth(&tree) >= 500);
                check(&tree);
                let last = *keys.last().expect("keys");
                // First fit walks to the far end and back, offering every gap.
                let mut offered = 0;
                assert_eq!(
                    tree.first_fit(1 << 12, |s, _| {
                        offered += 1;
                        (s == last).then_some(s)
                    }),
                    Some(last)
                );
                assert_eq!(offered, keys.len());
                tree.set_len(last, 3 << 12);
                assert_eq!(tree.first_fit(2 << 12, |s, _| Some(s)), Some(last));
                check(&tree);
                for &k in &order {
                    assert_eq!(
                        tree.remove(k),
                        Some(if k == last { 3 << 12 } else { 1 << 12 })
                    );
                }
                assert_eq!(tree.len(), 0);
                assert_eq!(tree.first_fit(1, |s, _| Some(s)), None::<usize>);
            }
        };
        std::thread::Builder::new()
            .stack_size(16 * 1024)
            .spawn(body)
            .expect("spawn a thread")
            .join()
            .expect("every operation on a chain fits a 16 KiB stack");
    }

    #[test]
    fn a_region_whose_gaps_a_user_placed_against_a_seed_of_0_works_on_a_16_kib_stack() {
        extern crate std;
        use crate::vm::{AddressSpace, AllocateRequest, MapRequest, Placement, VmObject};
        use crate::vm::{VmPerms, VmoOptions};
        use alloc::sync::Arc;
        use kernel_hal::{Hal, PAGE_SIZE};

        // The unix HAL's placement seed is 0, so every salt follows from the address
        // space's id and this code: a user can compute it and place mappings so that
        // the gaps between them make a compact region's index a chain.
        let hal: Arc<dyn Hal> = Arc::new(kernel_hal_unix::UnixHal::new().expect("a machine"));
        assert_eq!(hal.placement_seed(), 0);
        let free_before = hal.free_count();
        let aspace = AddressSpace::new(hal.clone()).expect("an address space");
        let region = aspace
            .root_vmar()
            .allocate(&AllocateRequest {
                compact: true,
                can_map_specific: true,
                ..AllocateRequest::new(4 << 30, VmPerms::READ_WRITE)
            })
            .expect("a compact region");
        let salt = aspace.state.lock().regions[&region.id].gap_salt;
        let keys = chain_keys(salt, region.addr());
        let vmo = VmObject::new(hal.clone(), PAGE_SIZE as u64, VmoOptions::empty()).expect("a VMO");
        let depth_now = {
            let aspace = aspace.clone();
            let region = region.clone();
            move || {
                let mut state = aspace.state.lock();
                let region = state.regions.get_mut(&region.id).expect("alive");
                depth(region.gaps())
            }
        };
        let body = move || {
            let page = |placement| MapRequest {
                placement,
                ..MapRequest::new(0, PAGE_SIZE, VmPerms::READ_WRITE)
            };
            // A page just below each chosen gap start.
            for &k in &keys {
                region
                    .map(&vmo, &page(Placement::At(k - PAGE_SIZE - region.addr())))
                    .expect("a specific mapping");
            }
            assert!(depth_now() >= 500, "the index is a chain");
            // First fit from the low end: the gap below the first mapping (when
            // there is one) or the first gap of the chain.
            let first = region
                .map(&vmo, &page(Placement::Anywhere))
                .expect("compact placement");
            assert!(first < keys[1]);
            region.unmap(first, PAGE_SIZE, false).expect("unmap it");
            // A region too big for every gap but the last: first fit walks down
            // the chain to it.
            let last = *keys.last().expect("keys");
            let far = region
                .allocate(&AllocateRequest::new(1 << 30, VmPerms::READ))
                .expect("room after the last mapping");
            assert!(far.addr() >= last);
            far.destroy().expect("destroy it");
            for &k in keys.iter().rev() {
                region
                    .unmap(k - PAGE_SIZE, PAGE_SIZE, false)
                    .expect("unmap");
            }
            assert_eq!(aspace.mapping_count(), 0);
            region.destroy().expect("destroy the region");
        };
        std::thread::Builder::new()
            .stack_size(16 * 1024)
            .spawn(body)
            .expect("spawn a thread")
            .join()
            .expect("every operation fits a 16 KiB stack");
        assert_eq!(hal.free_count(), free_before);
    }

    #[test]
    fn first_fit_finds_the_lowest_big_enough_gap() {
        let mut t = GapTree::new(0, 0, 0);
        t.insert(100, 5);
        t.insert(200, 50);
        t.insert(300, 20);
        t.insert(400, 80);
        assert_eq!(t.first_fit(10, |s, _| Some(s)), Some(200));
        assert_eq!(t.first_fit(60, |s, _| Some(s)), Some(400));
        assert_eq!(t.first_fit(81, |s, _| Some(s)), None);
        assert_eq!(t.floor(250), Some((200, 50)));
        assert_eq!(t.ceil(201), Some((300, 20)));
        assert_eq!(t.containing(210, 40), Some((200, 50)));
        assert_eq!(t.containing(210, 41), None);
        t.set_len(300, 90);
        assert_eq!(t.first_fit(81, |s, _| Some(s)), Some(300));
        t.set_len(300, 20);
        assert_eq!(t.remove(200), Some(50));
        assert_eq!(t.remove(200), None);
        assert_eq!(t.first_fit(10, |s, _| Some(s)), Some(300));
        assert_eq!(t.len(), 3);
    }

    proptest! {
        #[test]
        fn agrees_with_a_sorted_map(ops in proptest::collection::vec((0usize..64, 1usize..8, 0u8..3), 1..200)) {
            let mut tree = GapTree::new(0, 0, 0);
            let mut model: BTreeMap<usize, usize> = BTreeMap::new();
            for (slot, len, op) in ops {
                let start = slot * 8;
                match op {
                    0 if !model.contains_key(&start) => {
                        tree.insert(start, len);
                        model.insert(start, len);
                    }
                    1 if model.contains_key(&start) => {
                        tree.set_len(start, len);
                        model.insert(start, len);
                    }
                    _ => prop_assert_eq!(tree.remove(start), model.remove(&start)),
                }
                check(&tree);
                prop_assert_eq!(tree.len(), model.len());
                for min in [1usize, 3, 7] {
                    let want = model.iter().find(|(_, &l)| l >= min).map(|(&s, _)| s);
                    prop_assert_eq!(tree.first_fit(min, |s, _| Some(s)), want);
                    // Rejecting every gap visits all big enough ones, in order.
                    let mut offered = Vec::new();
                    prop_assert_eq!(tree.first_fit(min, |s, l| { offered.push((s, l)); None::<()> }), None);
                    let all: Vec<(usize, usize)> = model.iter().filter(|(_, &l)| l >= min).map(|(&s, &l)| (s, l)).collect();
                    prop_assert_eq!(offered, all);
                }
                let probe = slot * 8 + 3;
                prop_assert_eq!(tree.floor(probe), model.range(..=probe).next_back().map(|(&s, &l)| (s, l)));
                prop_assert_eq!(tree.ceil(probe), model.range(probe..).next().map(|(&s, &l)| (s, l)));
            }
        }
    }
}
