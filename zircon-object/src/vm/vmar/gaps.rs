//! The free gaps of one region, indexed for O(log n) free-space search.
//!
//! A treap keyed by gap start, each node augmented with the largest gap length in its
//! subtree. Lookups by address and first-fit searches descend one path (first fit
//! skips every subtree whose largest gap is too small), so both cost O(log n)
//! expected in the number of gaps. Priorities are a hash of the key, so the shape is
//! deterministic and needs no random source.

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
}

fn priority(key: usize) -> u64 {
    // splitmix64 finaliser: a good spread from sequential keys.
    let mut z = (key as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl GapTree {
    /// A tree holding the single gap `[start, start + len)` (or nothing if `len == 0`).
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

    /// Splits `t` into keys `< key` and keys `>= key`.
    fn split(&mut self, t: u32, key: usize) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.nodes[t as usize].start < key {
            let (l, r) = self.split(self.nodes[t as usize].right, key);
            self.nodes[t as usize].right = l;
            self.update(t);
            (t, r)
        } else {
            let (l, r) = self.split(self.nodes[t as usize].left, key);
            self.nodes[t as usize].left = r;
            self.update(t);
            (l, t)
        }
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

    /// Adds the gap `[start, start + len)`, which must not overlap another.
    pub(crate) fn insert(&mut self, start: usize, len: usize) {
        debug_assert!(len > 0);
        let node = Node {
            start,
            len,
            max: len,
            prio: priority(start),
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
        let (l, r) = self.split(self.root, start);
        let l = self.merge(l, i);
        self.root = self.merge(l, r);
        self.count += 1;
    }

    /// Removes the gap starting at `start`; returns its length if there was one.
    pub(crate) fn remove(&mut self, start: usize) -> Option<usize> {
        let (l, r) = self.split(self.root, start);
        let (m, r) = self.split(r, start.saturating_add(1));
        let removed = if m == NIL {
            None
        } else {
            self.free.push(m);
            self.count -= 1;
            Some(self.nodes[m as usize].len)
        };
        self.root = self.merge(l, r);
        removed
    }

    /// The gap with the greatest start `<= addr`, as `(start, len)`.
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
    use proptest::prelude::*;

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
        assert_eq!(t.remove(200), Some(50));
        assert_eq!(t.remove(200), None);
        assert_eq!(t.first_fit(10, |s, _| Some(s)), Some(300));
        assert_eq!(t.len(), 3);
    }

    proptest! {
        #[test]
        fn agrees_with_a_sorted_map(ops in proptest::collection::vec((0usize..64, 1usize..8, any::<bool>()), 1..200)) {
            let mut tree = GapTree::new(0, 0);
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
