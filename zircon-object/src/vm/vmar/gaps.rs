//! The free gaps of one region, indexed for O(log n) free-space search.
//!
//! A treap keyed by gap start, each node augmented with the largest gap length in its
//! subtree. Lookups by address and first-fit searches descend one path (first fit
//! skips every subtree whose largest gap is too small), so both cost O(log n)
//! expected in the number of gaps. Priorities are a hash of the key salted with a
//! secret of the address space, so the shape needs no random source at run time,
//! and a user who chooses where gaps start still cannot choose a deep shape: the
//! recursive operations below go O(log n) deep with high probability.

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
}

/// A set of disjoint gaps `[start, start + len)`, `len > 0`.
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

    fn max_of(&self, i: u32) -> usize {
        if i == NIL {
            0
        } else {
            self.nodes[i as usize].max
        }
    }

    fn update(&mut self, i: u32) {
        let n = self.nodes[i as usize];
        let max = n.len.max(self.max_of(n.left)).max(self.max_of(n.right));
        self.nodes[i as usize].max = max;
    }

    /// Joins `l` and `r`, every key of `l` below every key of `r`.
    fn merge(&mut self, l: u32, r: u32) -> u32 {
        if l == NIL {
            return r;
        }
        if r == NIL {
            return l;
        }
        if self.nodes[l as usize].prio > self.nodes[r as usize].prio {
            let m = self.merge(self.nodes[l as usize].right, r);
            self.nodes[l as usize].right = m;
            self.update(l);
            l
        } else {
            let m = self.merge(l, self.nodes[r as usize].left);
            self.nodes[r as usize].left = m;
            self.update(r);
            r
        }
    }

    /// Adds the gap `[start, start + len)`, which must not overlap another. One pass
    /// down the tree, rotating the new node up on the way back.
    pub(crate) fn insert(&mut self, start: usize, len: usize) {
        debug_assert!(len > 0);
        let node = Node {
            start,
            len,
            max: len,
            prio: priority(start, self.salt),
            left: NIL,
            right: NIL,
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
        let root = self.root;
        self.root = self.insert_at(root, i);
        self.count += 1;
    }

    fn insert_at(&mut self, t: u32, i: u32) -> u32 {
        if t == NIL {
            return i;
        }
        let t = if self.nodes[i as usize].start < self.nodes[t as usize].start {
            let l = self.insert_at(self.nodes[t as usize].left, i);
            self.nodes[t as usize].left = l;
            if self.nodes[l as usize].prio > self.nodes[t as usize].prio {
                self.rotate_right(t)
            } else {
                t
            }
        } else {
            let r = self.insert_at(self.nodes[t as usize].right, i);
            self.nodes[t as usize].right = r;
            if self.nodes[r as usize].prio > self.nodes[t as usize].prio {
                self.rotate_left(t)
            } else {
                t
            }
        };
        self.update(t);
        t
    }

    // The two rotations mirror each other (left and right swapped), as in every
    // balanced tree.
    /// Lifts `t`'s left child above it; returns the new subtree root.
    fn rotate_right(&mut self, t: u32) -> u32 {
        let l = self.nodes[t as usize].left;
        self.nodes[t as usize].left = self.nodes[l as usize].right;
        self.nodes[l as usize].right = t;
        self.update(t);
        self.update(l);
        l
    }

    /// Lifts `t`'s right child above it; returns the new subtree root.
    fn rotate_left(&mut self, t: u32) -> u32 {
        let r = self.nodes[t as usize].right;
        self.nodes[t as usize].right = self.nodes[r as usize].left;
        self.nodes[r as usize].left = t;
        self.update(t);
        self.update(r);
        r
    }

    /// Removes the gap starting at `start`; returns its length if there was one. One
    /// pass down to the node, which is replaced by the merge of its two subtrees.
    pub(crate) fn remove(&mut self, start: usize) -> Option<usize> {
        let root = self.root;
        let (root, removed) = self.remove_at(root, start);
        self.root = root;
        if removed.is_some() {
            self.count -= 1;
        }
        removed
    }

    fn remove_at(&mut self, t: u32, start: usize) -> (u32, Option<usize>) {
        if t == NIL {
            return (NIL, None);
        }
        let n = self.nodes[t as usize];
        if start < n.start {
            let (l, removed) = self.remove_at(n.left, start);
            self.nodes[t as usize].left = l;
            self.update(t);
            (t, removed)
        } else if start > n.start {
            let (r, removed) = self.remove_at(n.right, start);
            self.nodes[t as usize].right = r;
            self.update(t);
            (t, removed)
        } else {
            self.free.push(t);
            (self.merge(n.left, n.right), Some(n.len))
        }
    }

    /// Changes the length of the gap starting at `start` (which must exist) to
    /// `len > 0`, in one pass down the tree and back up.
    pub(crate) fn set_len(&mut self, start: usize, len: usize) {
        debug_assert!(len > 0);
        let root = self.root;
        let found = self.set_len_in(root, start, len);
        debug_assert!(found);
    }

    fn set_len_in(&mut self, t: u32, start: usize, len: usize) -> bool {
        if t == NIL {
            return false;
        }
        let n = self.nodes[t as usize];
        let found = if start < n.start {
            self.set_len_in(n.left, start, len)
        } else if start > n.start {
            self.set_len_in(n.right, start, len)
        } else {
            self.nodes[t as usize].len = len;
            true
        };
        if found {
            self.update(t);
        }
        found
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
    /// every subtree with no such gap, until it returns `Some`.
    pub(crate) fn first_fit<T>(
        &self,
        min_len: usize,
        mut fit: impl FnMut(usize, usize) -> Option<T>,
    ) -> Option<T> {
        self.first_fit_in(self.root, min_len, &mut fit)
    }

    fn first_fit_in<T>(
        &self,
        t: u32,
        min_len: usize,
        fit: &mut impl FnMut(usize, usize) -> Option<T>,
    ) -> Option<T> {
        if t == NIL || self.nodes[t as usize].max < min_len {
            return None;
        }
        let n = self.nodes[t as usize];
        if let Some(found) = self.first_fit_in(n.left, min_len, fit) {
            return Some(found);
        }
        if n.len >= min_len {
            if let Some(found) = fit(n.start, n.len) {
                return Some(found);
            }
        }
        self.first_fit_in(n.right, min_len, fit)
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

    #[test]
    fn gap_starts_chosen_against_the_unsalted_hash_do_not_make_a_salted_tree_deep() {
        // The longest run of page addresses, ascending, whose unsalted priorities
        // fall (patience sorting over 2^18 candidates): a treap over them is a
        // chain, whatever the order of insertion.
        let candidates: Vec<(usize, u64)> = (0..1usize << 18)
            .map(|k| (k << 12, priority(k << 12, 0)))
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
        fn agrees_with_a_sorted_map(ops in proptest::collection::vec((0usize..64, 1usize..8, any::<bool>()), 1..200)) {
            let mut tree = GapTree::new(0, 0, 0);
            let mut model: BTreeMap<usize, usize> = BTreeMap::new();
            for (slot, len, add) in ops {
                let start = slot * 8;
                if add && !model.contains_key(&start) {
                    tree.insert(start, len);
                    model.insert(start, len);
                } else if !add {
                    prop_assert_eq!(tree.remove(start), model.remove(&start));
                }
                for min in [1usize, 3, 7] {
                    let want = model.iter().find(|(_, &l)| l >= min).map(|(&s, _)| s);
                    prop_assert_eq!(tree.first_fit(min, |s, _| Some(s)), want);
                }
                let probe = slot * 8 + 3;
                prop_assert_eq!(tree.floor(probe), model.range(..=probe).next_back().map(|(&s, &l)| (s, l)));
            }
        }
    }
}
