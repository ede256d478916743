//! The free gaps of one region, indexed for O(log n) free-space search.
//!
//! An AVL tree keyed by gap start, each node augmented with the largest gap length in
//! its subtree. Lookups by address and first-fit searches descend one path (first fit
//! skips every subtree whose largest gap is too small). The tree's height is at most
//! 1.44 log2(n + 2) whatever gaps a user makes, so every operation is O(log n) in the
//! number of gaps without any secret or random source.
//!
//! Every operation is a loop over child and parent links: none recurses and none
//! keeps a stack.

use alloc::vec::Vec;

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Node {
    start: usize,
    len: usize,
    /// Largest `len` in this node's subtree.
    max: usize,
    /// Nodes on the longest path down from here, this one included.
    height: u8,
    left: u32,
    right: u32,
    /// `NIL` for the root.
    parent: u32,
}

/// A set of disjoint gaps `[start, start + len)`, `len > 0`.
///
/// Always true between calls: keys grow left to right, the heights of a node's two
/// subtrees differ by at most one, `parent` links mirror `left`/`right`, and each
/// node's `height` and `max` are those of its subtree.
pub(crate) struct GapTree {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    count: usize,
}

impl GapTree {
    /// A tree holding the single gap `[start, start + len)` (or nothing if
    /// `len == 0`).
    pub(crate) fn new(start: usize, len: usize) -> GapTree {
        let mut tree = GapTree {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            count: 0,
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

    fn height_of(&self, i: u32) -> u8 {
        if i == NIL {
            0
        } else {
            self.node(i).height
        }
    }

    /// Recomputes `i`'s `height` and `max` from its children.
    fn update(&mut self, i: u32) {
        let n = *self.node(i);
        let max = n.len.max(self.max_of(n.left)).max(self.max_of(n.right));
        let height = 1 + self.height_of(n.left).max(self.height_of(n.right));
        let node = self.node_mut(i);
        node.max = max;
        node.height = height;
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
    /// one otherwise), keeping key order; updates both nodes.
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

    /// Restores every invariant from `i` up to the root, after a change at or below
    /// `i` (a node added or taken away, or a length changed): each node on the way
    /// is updated, and one whose subtrees' heights differ by two is rotated (twice
    /// when its taller child leans the other way). Stops where a subtree ends up
    /// with the height and `max` it had before: nothing above it changed.
    fn rebalance_upwards(&mut self, mut i: u32) {
        while i != NIL {
            let before = (self.node(i).height, self.node(i).max);
            self.update(i);
            let Node { left, right, .. } = *self.node(i);
            let (hl, hr) = (self.height_of(left), self.height_of(right));
            let top = if hl > hr + 1 {
                let Node {
                    left: ll,
                    right: lr,
                    ..
                } = *self.node(left);
                if self.height_of(lr) > self.height_of(ll) {
                    self.rotate_up(lr);
                    self.rotate_up(lr);
                    lr
                } else {
                    self.rotate_up(left);
                    left
                }
            } else if hr > hl + 1 {
                let Node {
                    left: rl,
                    right: rr,
                    ..
                } = *self.node(right);
                if self.height_of(rl) > self.height_of(rr) {
                    self.rotate_up(rl);
                    self.rotate_up(rl);
                    rl
                } else {
                    self.rotate_up(right);
                    right
                }
            } else {
                i
            };
            if (self.node(top).height, self.node(top).max) == before {
                break;
            }
            i = self.node(top).parent;
        }
    }

    /// Adds the gap `[start, start + len)`, which must not overlap another: one
    /// descent to a leaf, then one climb that rebalances.
    pub(crate) fn insert(&mut self, start: usize, len: usize) {
        debug_assert!(len > 0);
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
        let node = Node {
            start,
            len,
            max: len,
            height: 1,
            left: NIL,
            right: NIL,
            parent,
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
        if parent == NIL {
            self.root = i;
        } else if start < self.node(parent).start {
            self.node_mut(parent).left = i;
        } else {
            self.node_mut(parent).right = i;
        }
        self.rebalance_upwards(parent);
        self.count += 1;
    }

    /// Removes the gap starting at `start`; returns its length if there was one. A
    /// node with two children takes over its successor's gap, and the successor's
    /// node (which has at most one child) is spliced out instead; then a climb
    /// rebalances.
    pub(crate) fn remove(&mut self, start: usize) -> Option<usize> {
        let t = self.find(start)?;
        let len = self.node(t).len;
        let mut gone = t;
        if self.node(t).left != NIL && self.node(t).right != NIL {
            gone = self.node(t).right;
            while self.node(gone).left != NIL {
                gone = self.node(gone).left;
            }
            let Node { start, len, .. } = *self.node(gone);
            let node = self.node_mut(t);
            node.start = start;
            node.len = len;
        }
        let Node {
            left,
            right,
            parent,
            ..
        } = *self.node(gone);
        let only = if left == NIL { right } else { left };
        self.replace_child(parent, gone, only);
        self.free.push(gone);
        self.count -= 1;
        self.rebalance_upwards(parent);
        if gone != t {
            // `t` holds another gap now; the climb above may have stopped below it.
            self.rebalance_upwards(t);
        }
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
            self.rebalance_upwards(t);
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
            let n = tree.node(node);
            stack.push((n.left, d + 1));
            stack.push((n.right, d + 1));
        }
        deepest
    }

    /// The greatest height an AVL tree of `n` nodes can have: the last `h` whose
    /// sparsest AVL tree (`m(h) = m(h - 1) + m(h - 2) + 1` nodes) fits in `n`.
    fn avl_bound(n: usize) -> usize {
        let (mut h, mut m, mut m_below) = (1, 1, 0);
        loop {
            let next = m + m_below + 1;
            if next > n {
                return h;
            }
            (h, m, m_below) = (h + 1, next, m);
        }
    }

    /// Checks every invariant of the tree (key order, balance, parent links,
    /// `height`, `max`, the count) with a loop.
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
            let (hl, hr) = (tree.height_of(n.left), tree.height_of(n.right));
            assert!(hl.abs_diff(hr) <= 1, "balance at {}", n.start);
            assert_eq!(n.height, 1 + hl.max(hr), "height at {}", n.start);
            let max = n.len.max(tree.max_of(n.left)).max(tree.max_of(n.right));
            assert_eq!(n.max, max, "max at {}", n.start);
            stack.push((n.left, node, lo, n.start));
            stack.push((n.right, node, n.start, hi));
        }
        assert_eq!(seen, tree.count);
        assert_eq!(depth(tree), usize::from(tree.height_of(tree.root)));
    }

    /// Gap starts in the orders that make an unbalanced search tree a chain:
    /// ascending, descending, and closing in from both ends.
    fn hostile_orders(n: usize) -> [Vec<usize>; 3] {
        let up: Vec<usize> = (0..n).map(|k| (2 * k + 1) << 12).collect();
        let down: Vec<usize> = up.iter().rev().copied().collect();
        let zigzag: Vec<usize> = (0..n)
            .map(|k| {
                if k % 2 == 0 {
                    up[k / 2]
                } else {
                    up[n - 1 - k / 2]
                }
            })
            .collect();
        [up, down, zigzag]
    }

    #[test]
    fn every_operation_on_hostile_orders_runs_on_a_16_kib_stack_and_stays_shallow() {
        extern crate std;
        // Fewer under Miri, which runs each step thousands of times slower.
        const N: usize = if cfg!(miri) { 100 } else { 20_000 };
        let body = move || {
            for order in hostile_orders(N) {
                let mut tree = GapTree::new(0, 0);
                for &k in &order {
                    tree.insert(k, 1 << 12);
                }
                check(&tree);
                assert!(depth(&tree) <= avl_bound(N), "depth {}", depth(&tree));
                let last = (2 * N - 1) << 12;
                // First fit offers every gap, in address order, up to the last.
                let mut offered = 0;
                assert_eq!(
                    tree.first_fit(1 << 12, |s, _| {
                        assert_eq!(s, (2 * offered + 1) << 12);
                        offered += 1;
                        (s == last).then_some(s)
                    }),
                    Some(last)
                );
                assert_eq!(offered, N);
                tree.set_len(last, 3 << 12);
                assert_eq!(tree.first_fit(2 << 12, |s, _| Some(s)), Some(last));
                // Take half away in the same order: the rest stays balanced.
                for &k in order.iter().step_by(2) {
                    let want = if k == last { 3 << 12 } else { 1 << 12 };
                    assert_eq!(tree.remove(k), Some(want));
                }
                check(&tree);
                assert!(depth(&tree) <= avl_bound(N / 2));
                for &k in order.iter().skip(1).step_by(2) {
                    assert!(tree.remove(k).is_some());
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
            .expect("every operation fits a 16 KiB stack");
    }

    // The unix backend makes host system calls that Miri cannot run.
    #[cfg(not(miri))]
    #[test]
    fn a_region_whose_gaps_a_user_placed_in_order_works_on_a_16_kib_stack() {
        extern crate std;
        use crate::vm::{AddressSpace, AllocateRequest, MapRequest, Placement, VmObject};
        use crate::vm::{VmPerms, VmoOptions};
        use alloc::sync::Arc;
        use kernel_hal::{Hal, PAGE_SIZE};

        // One-page mappings two pages apart, placed in ascending address order in a
        // compact region (whose index is kept from the start), on a machine whose
        // placement seed is 0: nothing about the index is secret or random.
        const N: usize = 2_000;
        let hal: Arc<dyn Hal> = Arc::new(kernel_hal_unix::UnixHal::new().expect("a machine"));
        assert_eq!(hal.placement_seed(), 0);
        let free_before = hal.free_count();
        let aspace = AddressSpace::new(hal.clone()).expect("an address space");
        let region = aspace
            .root_vmar()
            .allocate(&AllocateRequest {
                compact: true,
                can_map_specific: true,
                ..AllocateRequest::new((2 * N + 4) * PAGE_SIZE, VmPerms::READ_WRITE)
            })
            .expect("a compact region");
        let vmo = VmObject::new(hal.clone(), PAGE_SIZE as u64, VmoOptions::empty()).expect("a VMO");
        let index_depth = {
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
            for k in 0..N {
                region
                    .map(&vmo, &page(Placement::At((2 * k + 1) * PAGE_SIZE)))
                    .expect("a specific mapping");
            }
            assert!(index_depth() <= avl_bound(N + 1), "depth {}", index_depth());
            // First fit from the low end.
            let first = region
                .map(&vmo, &page(Placement::Anywhere))
                .expect("compact placement");
            assert_eq!(first, region.addr());
            region.unmap(first, PAGE_SIZE, false).expect("unmap it");
            // A region too big for every gap but the last.
            let far = region
                .allocate(&AllocateRequest::new(3 * PAGE_SIZE, VmPerms::READ))
                .expect("room after the last mapping");
            assert_eq!(far.addr(), region.addr() + 2 * N * PAGE_SIZE);
            far.destroy().expect("destroy it");
            for k in (0..N).rev() {
                let at = region.addr() + (2 * k + 1) * PAGE_SIZE;
                region.unmap(at, PAGE_SIZE, false).expect("unmap");
            }
            assert_eq!(aspace.mapping_count(), 0);
            assert_eq!(index_depth(), 1, "one gap again");
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
        let mut t = GapTree::new(0, 0);
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
            let mut tree = GapTree::new(0, 0);
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
