//! Model-based property test: random map / unmap / clear / protect sequences over
//! a 1 GiB virtual range, compared after every step with a plain model.
//!
//! The model is one slot per 4 KiB page of the range: `None`, or the physical page
//! and the permissions it is mapped with. After each step the whole page-table tree
//! under the range is read leaf by leaf and must describe exactly the model; sample
//! pages are also checked with the `x86_64` crate's walker and through the
//! simulated TLB (so a missing flush fails the test).

mod common;

use kernel_hal::{CachePolicy, MMUFlags, PageSize, PageTable, PagingError, PhysMem, PAGE_SIZE};
use kernel_hal_bare::sim::SimMachine;
use kernel_hal_bare::BarePageTable;
use proptest::prelude::*;
use x86_64::structures::paging::{PageTable as HwTable, PageTableFlags as F};

/// Pages in the range: 1 GiB.
const PAGES: usize = 1 << 18;
/// Pages per 2 MiB.
const HUGE: usize = 512;
/// The range's base: 1 GiB-aligned, in the user half.
const V0: usize = 0x40_0000_0000;
/// Physical page `p` of a mapping lies at `P0 + p * PAGE_SIZE` (1 GiB-aligned).
const P0: usize = 1 << 30;
/// Simulated RAM: the 1 GiB at P0 plus room for shifted runs; the allocator only
/// manages the first 16 MiB, for page tables.
const RAM: usize = (2 << 30) + (4 << 20);

type Model = Vec<Option<(usize, MMUFlags)>>;

#[derive(Clone, Debug)]
enum Op {
    /// Map `pages` pages at page `page` to physical pages `page + shift ..`.
    Map {
        page: usize,
        pages: usize,
        shift: usize,
        flags: MMUFlags,
    },
    Unmap {
        page: usize,
        pages: usize,
    },
    Clear {
        page: usize,
        pages: usize,
    },
    Protect {
        page: usize,
        pages: usize,
        flags: MMUFlags,
    },
}

fn flags() -> impl Strategy<Value = MMUFlags> {
    prop_oneof![
        Just(MMUFlags::READ | MMUFlags::USER),
        Just(MMUFlags::READ | MMUFlags::WRITE | MMUFlags::USER),
        Just(MMUFlags::READ | MMUFlags::EXECUTE | MMUFlags::USER),
        Just(MMUFlags::READ | MMUFlags::WRITE),
        Just(MMUFlags::USER),
    ]
}

/// A range of pages, often 2 MiB-aligned and whole-2 MiB long, sometimes all of it.
fn range() -> impl Strategy<Value = (usize, usize)> {
    let start = prop_oneof![3 => (0..PAGES / HUGE).prop_map(|s| s * HUGE), 2 => 0..PAGES];
    let len =
        prop_oneof![3 => 1..=8usize, 3 => (1..=3usize).prop_map(|k| k * HUGE), 2 => 1..=1500usize];
    prop_oneof![
        12 => (start, len).prop_map(|(s, l)| (s, l.min(PAGES - s))),
        1 => Just((0, PAGES)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let shift = prop_oneof![3 => Just(0usize), 1 => 1..HUGE];
    prop_oneof![
        4 => (range(), shift, flags()).prop_map(|((page, pages), shift, flags)| Op::Map { page, pages, shift, flags }),
        2 => range().prop_map(|(page, pages)| Op::Unmap { page, pages }),
        2 => range().prop_map(|(page, pages)| Op::Clear { page, pages }),
        2 => (range(), flags()).prop_map(|((page, pages), flags)| Op::Protect { page, pages, flags }),
    ]
}

/// The permissions a mapping made with `flags` reports (x86 implies READ).
fn effective(flags: MMUFlags) -> MMUFlags {
    if flags.intersects(MMUFlags::READ | MMUFlags::WRITE | MMUFlags::EXECUTE) {
        flags | MMUFlags::READ
    } else {
        flags
    }
}

/// Applies `op` to the model, returning what the page table must return.
fn apply(model: &mut Model, op: &Op) -> Result<usize, PagingError> {
    match *op {
        Op::Map {
            page,
            pages,
            shift,
            flags,
        } => {
            if model[page..page + pages].iter().any(Option::is_some) {
                return Err(PagingError::AlreadyMapped);
            }
            for (i, slot) in model[page..page + pages].iter_mut().enumerate() {
                *slot = Some((page + shift + i, effective(flags)));
            }
            Ok(0)
        }
        Op::Unmap { page, pages } => {
            if model[page..page + pages].iter().any(Option::is_none) {
                return Err(PagingError::NotMapped);
            }
            model[page..page + pages].fill(None);
            Ok(0)
        }
        Op::Clear { page, pages } => {
            let n = model[page..page + pages]
                .iter()
                .filter(|s| s.is_some())
                .count();
            model[page..page + pages].fill(None);
            Ok(n)
        }
        Op::Protect { page, pages, flags } => {
            let mut n = 0;
            for (_, f) in model[page..page + pages].iter_mut().flatten() {
                *f = effective(flags);
                n += 1;
            }
            Ok(n)
        }
    }
}

fn run(space: &BarePageTable, op: &Op) -> Result<usize, PagingError> {
    let at = |page: usize| V0 + page * PAGE_SIZE;
    match *op {
        Op::Map {
            page,
            pages,
            shift,
            flags,
        } => space
            .map(
                at(page),
                P0 + (page + shift) * PAGE_SIZE,
                pages * PAGE_SIZE,
                flags,
                CachePolicy::Cached,
            )
            .map(|()| 0),
        Op::Unmap { page, pages } => space.unmap(at(page), pages * PAGE_SIZE).map(|()| 0),
        Op::Clear { page, pages } => space.clear(at(page), pages * PAGE_SIZE),
        Op::Protect { page, pages, flags } => space.protect(at(page), pages * PAGE_SIZE, flags),
    }
}

/// The permissions a leaf's bits grant, decoded here independently of the crate.
fn decode(bits: F) -> MMUFlags {
    let mut flags = MMUFlags::empty();
    if bits.contains(F::USER_ACCESSIBLE) {
        flags |= MMUFlags::USER;
    }
    if bits.contains(F::PRESENT) {
        flags |= MMUFlags::READ;
        if bits.contains(F::WRITABLE) {
            flags |= MMUFlags::WRITE;
        }
        if !bits.contains(F::NO_EXECUTE) {
            flags |= MMUFlags::EXECUTE;
        }
    }
    flags
}

/// Reads the tree under the range leaf by leaf and checks it describes exactly the
/// model, that large leaves are aligned, and that no lower table is empty.
fn check_tree(
    machine: &SimMachine,
    space: &BarePageTable,
    model: &Model,
) -> Result<(), TestCaseError> {
    // SAFETY: used only while `machine` (which owns the RAM) is borrowed.
    let window = unsafe { machine.ram().window() };
    let table = |pa: u64| -> &HwTable {
        // SAFETY: `pa` comes from a present non-leaf entry of the tree, so it is a
        // page-table frame inside the page-aligned simulated RAM; the test thread is
        // the only user of the machine while the reference lives.
        unsafe { &*((window.offset() + pa as usize) as *const HwTable) }
    };
    let mut seen = 0usize;
    let mut check_leaf =
        |first_page: usize, count: usize, pa: u64, bits: F| -> Result<(), TestCaseError> {
            prop_assert_eq!(
                pa % (count * PAGE_SIZE) as u64,
                0,
                "misaligned leaf at page {}",
                first_page
            );
            for i in 0..count {
                let expected = Some(((pa as usize - P0) / PAGE_SIZE + i, decode(bits)));
                prop_assert_eq!(model[first_page + i], expected, "page {}", first_page + i);
            }
            seen += count;
            Ok(())
        };
    let root = table(space.root() as u64);
    for (i, entry) in root.iter().enumerate().take(256) {
        prop_assert!(i == V0 >> 39 || entry.is_unused(), "stray PML4 entry {}", i);
    }
    let l4 = &root[V0 >> 39];
    if !l4.is_unused() {
        let pdpt = table(l4.addr().as_u64());
        prop_assert!(pdpt
            .iter()
            .enumerate()
            .all(|(i, e)| i == (V0 >> 30) & 511 || e.is_unused()));
        let l3 = &pdpt[(V0 >> 30) & 511];
        prop_assert!(!l3.is_unused(), "empty level-3 table left behind");
        if l3.flags().contains(F::HUGE_PAGE) {
            check_leaf(0, PAGES, l3.addr().as_u64(), l3.flags())?;
        } else {
            let pd = table(l3.addr().as_u64());
            prop_assert!(
                pd.iter().any(|e| !e.is_unused()),
                "empty level-2 table left behind"
            );
            for (i2, l2) in pd.iter().enumerate().filter(|(_, e)| !e.is_unused()) {
                if l2.flags().contains(F::HUGE_PAGE) {
                    check_leaf(i2 * HUGE, HUGE, l2.addr().as_u64(), l2.flags())?;
                } else {
                    let pt = table(l2.addr().as_u64());
                    prop_assert!(
                        pt.iter().any(|e| !e.is_unused()),
                        "empty level-1 table left behind"
                    );
                    for (i1, l1) in pt.iter().enumerate().filter(|(_, e)| !e.is_unused()) {
                        check_leaf(i2 * HUGE + i1, 1, l1.addr().as_u64(), l1.flags())?;
                    }
                }
            }
        }
    }
    let mapped = model.iter().filter(|s| s.is_some()).count();
    prop_assert_eq!(seen, mapped);
    Ok(())
}

/// Checks `page` with the `x86_64` walker, `query` and a read through the TLB.
fn check_page(
    machine: &SimMachine,
    space: &BarePageTable,
    model: &Model,
    page: usize,
) -> Result<(), TestCaseError> {
    let va = V0 + page * PAGE_SIZE;
    let present = model[page].filter(|(_, f)| f.contains(MMUFlags::READ));
    let walked =
        common::walk(machine, space.root(), va).map(|w| ((w.paddr - P0) / PAGE_SIZE, w.flags));
    prop_assert_eq!(walked, present, "walker at page {}", page);
    let queried = space
        .query(va)
        .ok()
        .map(|t| ((t.paddr - P0) / PAGE_SIZE, t.flags));
    prop_assert_eq!(queried, model[page], "query at page {}", page);
    let tlb = machine
        .translate(space.root(), va, MMUFlags::READ)
        .ok()
        .map(|pa| (pa - P0) / PAGE_SIZE);
    prop_assert_eq!(tlb, present.map(|(p, _)| p), "TLB at page {}", page);
    Ok(())
}

/// After a successful map, every whole 2 MiB (or 1 GiB) slot whose physical run is
/// equally aligned uses a large entry, and no other page does.
fn check_sizes(
    space: &BarePageTable,
    page: usize,
    pages: usize,
    shift: usize,
) -> Result<(), TestCaseError> {
    let mut slot = page;
    while slot < page + pages {
        let size = space.query(V0 + slot * PAGE_SIZE).unwrap().page_size;
        let whole = slot % HUGE == 0 && slot + HUGE <= page + pages;
        let expected = if pages == PAGES && shift == 0 {
            PageSize::Size1G
        } else if whole && shift % HUGE == 0 {
            PageSize::Size2M
        } else {
            PageSize::Size4K
        };
        prop_assert_eq!(
            size,
            expected,
            "page {} of map {}+{} shift {}",
            slot,
            page,
            pages,
            shift
        );
        slot = if whole { slot + HUGE } else { slot + 1 };
        if !whole && slot % HUGE != 0 && slot + 64 < page + pages {
            // Sample the small pages of a partial slot rather than query each.
            slot = (slot + 63).min((slot / HUGE + 1) * HUGE);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn page_table_matches_the_model(ops in prop::collection::vec(op(), 1..24), seed in any::<u64>()) {
        let machine = SimMachine::with_memory_map(RAM, &[(PAGE_SIZE, 16 << 20)]);
        let before_space = machine.hal().free_count();
        let space = machine.hal().new_bare_address_space().unwrap();
        let start = machine.hal().free_count();
        let mut model: Model = vec![None; PAGES];
        let mut rng = seed;
        for op in &ops {
            let expected = apply(&mut model, op);
            prop_assert_eq!(run(&space, op), expected, "{:?}", op);
            if let (Op::Map { page, pages, shift, .. }, Ok(_)) = (op, expected) {
                check_sizes(&space, *page, *pages, *shift)?;
            }
            check_tree(&machine, &space, &model)?;
            let (Op::Map { page, pages, .. } | Op::Unmap { page, pages }
                | Op::Clear { page, pages } | Op::Protect { page, pages, .. }) = *op;
            let mut samples = vec![page, page + pages - 1, page.saturating_sub(1), (page + pages).min(PAGES - 1)];
            for _ in 0..4 {
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                samples.push((rng >> 33) as usize % PAGES);
            }
            for sample in samples {
                check_page(&machine, &space, &model, sample)?;
            }
        }
        space.clear(kernel_hal_bare::USER_BASE, kernel_hal_bare::USER_END - kernel_hal_bare::USER_BASE).unwrap();
        prop_assert_eq!(machine.hal().free_count(), start, "page-table frames leaked");
        drop(space);
        prop_assert_eq!(machine.hal().free_count(), before_space);
    }
}
