//! Random sequences of page-table operations against a one-line model (page index
//! -> physical address and flags). After every step the table's answers, and the
//! host's own view of the window in `/proc/self/maps`, must match the model.

mod common;

use std::collections::BTreeMap;

use common::small_hal;
use kernel_hal::{CachePolicy, MMUFlags, PageTable, PagingError, PhysMem, PAGE_SIZE};
use proptest::prelude::*;

/// Pages of the window the test works in (ranges may run a little past it).
const PAGES: usize = 64;
/// Frames in the pool that mappings take their physical runs from.
const FRAMES: usize = 32;

#[derive(Clone, Debug)]
enum Op {
    Map {
        page: usize,
        count: usize,
        frame: usize,
        flags: u32,
    },
    Unmap {
        page: usize,
        count: usize,
    },
    Clear {
        page: usize,
        count: usize,
    },
    Protect {
        page: usize,
        count: usize,
        flags: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let range = (0..PAGES, 1usize..12);
    prop_oneof![
        4 => (range.clone(), 0..FRAMES, 0u32..8)
            .prop_map(|((page, count), frame, flags)| Op::Map { page, count, frame, flags }),
        1 => range.clone().prop_map(|(page, count)| Op::Unmap { page, count }),
        2 => range.clone().prop_map(|(page, count)| Op::Clear { page, count }),
        2 => (range, 0u32..8).prop_map(|((page, count), flags)| Op::Protect { page, count, flags }),
    ]
}

/// What the host has at one page: its permissions (`rwx` letters or `-`), whether
/// it is a shared mapping, and its file offset if it maps the memfd.
#[derive(Clone, Debug, PartialEq, Eq)]
struct HostPage {
    perms: String,
    memfd_offset: Option<usize>,
}

/// The host's view of pages `[base, base + pages * PAGE_SIZE)`.
fn host_view(base: usize, pages: usize) -> Vec<Option<HostPage>> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mut view = vec![None; pages];
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (start, end) = fields[0].split_once('-').unwrap();
        let start = usize::from_str_radix(start, 16).unwrap();
        let end = usize::from_str_radix(end, 16).unwrap();
        let offset = usize::from_str_radix(fields[2], 16).unwrap();
        let memfd = fields
            .get(5)
            .is_some_and(|p| p.contains("kernel-hal-unix-physical"));
        for (i, slot) in view.iter_mut().enumerate() {
            let addr = base + i * PAGE_SIZE;
            if addr >= start && addr < end {
                *slot = Some(HostPage {
                    perms: fields[1].to_string(),
                    memfd_offset: memfd.then_some(offset + (addr - start)),
                });
            }
        }
    }
    view
}

fn flags_of(bits: u32) -> MMUFlags {
    MMUFlags::from_bits_truncate(bits)
}

fn expected_host(entry: Option<&(usize, MMUFlags)>) -> HostPage {
    match entry {
        None => HostPage {
            perms: "---p".into(),
            memfd_offset: None,
        },
        Some(&(paddr, flags)) => {
            let bit = |f: MMUFlags, c: char| if flags.contains(f) { c } else { '-' };
            HostPage {
                perms: format!(
                    "{}{}{}s",
                    bit(MMUFlags::READ, 'r'),
                    bit(MMUFlags::WRITE, 'w'),
                    bit(MMUFlags::EXECUTE, 'x')
                ),
                memfd_offset: Some(paddr),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn page_table_matches_a_page_model_and_the_host(ops in proptest::collection::vec(op(), 1..40)) {
        let hal = small_hal();
        let pt = hal.new_page_table().unwrap();
        let (base, _) = pt.user_range();
        let pool = hal.alloc_contiguous(FRAMES, 0).unwrap();
        let span = PAGES + 12;
        let mut model: BTreeMap<usize, (usize, MMUFlags)> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Map { page, count, frame, flags } => {
                    let count = count.min(FRAMES - frame);
                    let paddr = pool + frame * PAGE_SIZE;
                    let busy = (page..page + count).any(|p| model.contains_key(&p));
                    let result = pt.map(base + page * PAGE_SIZE, paddr, count * PAGE_SIZE, flags_of(flags), CachePolicy::Cached);
                    if busy {
                        prop_assert_eq!(result, Err(PagingError::AlreadyMapped));
                    } else {
                        prop_assert_eq!(result, Ok(()));
                        for i in 0..count {
                            model.insert(page + i, (paddr + i * PAGE_SIZE, flags_of(flags)));
                        }
                    }
                }
                Op::Unmap { page, count } => {
                    let all = (page..page + count).all(|p| model.contains_key(&p));
                    let result = pt.unmap(base + page * PAGE_SIZE, count * PAGE_SIZE);
                    if all {
                        prop_assert_eq!(result, Ok(()));
                        for p in page..page + count {
                            model.remove(&p);
                        }
                    } else {
                        prop_assert_eq!(result, Err(PagingError::NotMapped));
                    }
                }
                Op::Clear { page, count } => {
                    let removed = (page..page + count).filter(|p| model.remove(p).is_some()).count();
                    prop_assert_eq!(pt.clear(base + page * PAGE_SIZE, count * PAGE_SIZE), Ok(removed));
                }
                Op::Protect { page, count, flags } => {
                    let mut changed = 0;
                    for p in page..page + count {
                        if let Some(entry) = model.get_mut(&p) {
                            entry.1 = flags_of(flags);
                            changed += 1;
                        }
                    }
                    prop_assert_eq!(pt.protect(base + page * PAGE_SIZE, count * PAGE_SIZE, flags_of(flags)), Ok(changed));
                }
            }
            let host = host_view(base, span);
            for (p, host_page) in host.iter().enumerate() {
                let vaddr = base + p * PAGE_SIZE;
                match model.get(&p) {
                    Some(&(paddr, flags)) => {
                        let t = pt.query(vaddr + 9).unwrap();
                        prop_assert_eq!((t.paddr, t.flags), (paddr + 9, flags));
                    }
                    None => prop_assert_eq!(pt.query(vaddr), Err(PagingError::NotMapped)),
                }
                prop_assert_eq!(host_page.as_ref(), Some(&expected_host(model.get(&p))), "page {}", p);
            }
            prop_assert_eq!(pt.mapped_pages(), model.len());
        }
        drop(pt);
        hal.free_frames(pool, FRAMES).unwrap();
        prop_assert_eq!(hal.free_count(), hal.total_count());
    }
}
