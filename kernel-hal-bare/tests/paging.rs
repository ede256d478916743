//! Page-table behaviour over simulated RAM, each mapping checked against the
//! `x86_64` crate's walker and read through the simulated TLB.

mod common;

use common::{walk, Walked};
use kernel_hal::{CachePolicy, MMUFlags, PageSize, PageTable, PagingError, PhysMem, PAGE_SIZE};
use kernel_hal_bare::sim::{SimFault, SimMachine, KERNEL_TABLE_FRAMES};
use kernel_hal_bare::{BarePageTable, FLUSH_PAGE_LIMIT, KERNEL_BASE, USER_BASE, USER_END};

const KB4: usize = 4 << 10;
const MB2: usize = 2 << 20;
const GB1: usize = 1 << 30;
const USER_RW: MMUFlags = MMUFlags::READ.union(MMUFlags::WRITE).union(MMUFlags::USER);
const USER_RO: MMUFlags = MMUFlags::READ.union(MMUFlags::USER);

/// A machine with `bytes` of RAM whose allocator manages only its first 16 MiB.
fn machine(bytes: usize) -> (SimMachine, BarePageTable) {
    let machine = SimMachine::with_memory_map(bytes, &[(KB4, bytes.min(16 << 20))]);
    let space = machine.hal().new_bare_address_space().unwrap();
    (machine, space)
}

/// Checks that every page of `[vaddr, vaddr + len)` translates to `paddr + offset`
/// with `flags` and `size`, both by `query` and by the independent walker.
fn assert_mapped(
    m: &SimMachine,
    space: &BarePageTable,
    vaddr: usize,
    paddr: usize,
    len: usize,
    flags: MMUFlags,
    size: PageSize,
) {
    for off in (0..len).step_by(KB4) {
        let q = space.query(vaddr + off).unwrap();
        assert_eq!(
            (q.paddr, q.flags, q.page_size),
            (paddr + off, flags, size),
            "query at {:#x}",
            vaddr + off
        );
        let w = walk(m, space.root(), vaddr + off + 8).unwrap();
        assert_eq!(
            w,
            Walked {
                paddr: paddr + off + 8,
                size,
                flags
            },
            "walker at {:#x}",
            vaddr + off
        );
    }
}

fn assert_unmapped(m: &SimMachine, space: &BarePageTable, vaddr: usize, len: usize) {
    for off in (0..len).step_by(KB4) {
        assert_eq!(
            space.query(vaddr + off),
            Err(PagingError::NotMapped),
            "query at {:#x}",
            vaddr + off
        );
        assert_eq!(
            walk(m, space.root(), vaddr + off),
            None,
            "walker at {:#x}",
            vaddr + off
        );
    }
}

#[test]
fn user_range_is_the_lower_half_without_its_first_2mib_and_last_page() {
    let (_m, space) = machine(4 << 20);
    assert_eq!(
        space.user_range(),
        (0x20_0000, (1 << 47) - 4096 - 0x20_0000)
    );
    assert_eq!((USER_BASE, USER_END), (0x20_0000, (1 << 47) - 4096));
}

#[test]
fn aligned_runs_get_1gib_and_2mib_entries_and_the_rest_4kib() {
    let (m, space) = machine(3 * GB1);
    let (vaddr, paddr) = (0x40_0000_0000 - 2 * KB4, GB1 - 2 * KB4);
    let len = 2 * KB4 + GB1 + 3 * MB2 + 5 * KB4;
    space
        .map(vaddr, paddr, len, USER_RW, CachePolicy::Cached)
        .unwrap();
    assert_mapped(&m, &space, vaddr, paddr, 2 * KB4, USER_RW, PageSize::Size4K);
    let (v1, p1) = (vaddr + 2 * KB4, paddr + 2 * KB4);
    for off in (0..GB1).step_by(MB2 * 37) {
        assert_mapped(
            &m,
            &space,
            v1 + off,
            p1 + off,
            KB4,
            USER_RW,
            PageSize::Size1G,
        );
    }
    assert_mapped(
        &m,
        &space,
        v1 + GB1,
        p1 + GB1,
        3 * MB2,
        USER_RW,
        PageSize::Size2M,
    );
    assert_mapped(
        &m,
        &space,
        v1 + GB1 + 3 * MB2,
        p1 + GB1 + 3 * MB2,
        5 * KB4,
        USER_RW,
        PageSize::Size4K,
    );
    assert_unmapped(&m, &space, vaddr - KB4, KB4);
    assert_unmapped(&m, &space, vaddr + len, KB4);
}

#[test]
fn misaligned_physical_runs_never_get_large_entries() {
    let (m, space) = machine(64 << 20);
    let (vaddr, paddr) = (0x4000_0000, 0x10_1000);
    space
        .map(vaddr, paddr, 4 * MB2, USER_RO, CachePolicy::Cached)
        .unwrap();
    assert_mapped(&m, &space, vaddr, paddr, 4 * MB2, USER_RO, PageSize::Size4K);
}

#[test]
fn bad_input_returns_its_error_and_changes_nothing() {
    let (m, space) = machine(64 << 20);
    space
        .map(0x4000_0000, 0x20_0000, MB2, USER_RW, CachePolicy::Cached)
        .unwrap();
    let free = m.hal().free_count();
    let flushes = (m.tlb().page_flushes(), m.tlb().full_flushes());
    let map = |v, p, l| space.map(v, p, l, USER_RW, CachePolicy::Cached);
    assert_eq!(map(0x4000_0001, 0, KB4), Err(PagingError::NotAligned));
    assert_eq!(map(0x5000_0000, 1, KB4), Err(PagingError::NotAligned));
    assert_eq!(map(0x5000_0000, 0, 100), Err(PagingError::NotAligned));
    assert_eq!(map(0x5000_0000, 0, 0), Err(PagingError::NotAligned));
    assert_eq!(
        map(0, 0, KB4),
        Err(PagingError::OutOfRange),
        "below the user range"
    );
    assert_eq!(
        map(USER_END, 0, KB4),
        Err(PagingError::OutOfRange),
        "last page below 2^47"
    );
    assert_eq!(
        map(1 << 47, 0, KB4),
        Err(PagingError::OutOfRange),
        "non-canonical"
    );
    assert_eq!(
        map(KERNEL_BASE, 0, KB4),
        Err(PagingError::OutOfRange),
        "kernel half"
    );
    assert_eq!(
        map(usize::MAX - KB4 + 1, 0, 2 * KB4),
        Err(PagingError::OutOfRange),
        "wraps"
    );
    let ram_end = m.hal().mem().window().end();
    assert_eq!(ram_end, (64 << 20) + KERNEL_TABLE_FRAMES * KB4);
    assert_eq!(
        map(0x5000_0000, ram_end, KB4),
        Err(PagingError::OutOfRange),
        "beyond RAM"
    );
    assert_eq!(
        map(0x5000_0000, ram_end - KB4, 2 * KB4),
        Err(PagingError::OutOfRange),
        "runs past RAM"
    );
    assert_eq!(
        map(0x5000_0000, usize::MAX - KB4 + 1, 2 * KB4),
        Err(PagingError::OutOfRange),
        "physical wrap"
    );
    assert_eq!(
        map(0x4000_0000 - KB4, 0, 2 * KB4),
        Err(PagingError::AlreadyMapped),
        "overlaps the start"
    );
    assert_eq!(
        map(0x4000_0000 + MB2 - KB4, 0, 2 * KB4),
        Err(PagingError::AlreadyMapped),
        "overlaps the end"
    );
    assert_eq!(
        space.unmap(0x4000_0000 - KB4, 2 * KB4),
        Err(PagingError::NotMapped)
    );
    assert_eq!(
        space.unmap(0x4000_0000, MB2 + KB4),
        Err(PagingError::NotMapped)
    );
    assert_eq!(space.unmap(0x4000_0001, KB4), Err(PagingError::NotAligned));
    assert_eq!(space.clear(0x4000_0000, 0), Err(PagingError::NotAligned));
    assert_eq!(
        space.protect(USER_END, KB4, USER_RO),
        Err(PagingError::OutOfRange)
    );
    assert_eq!(space.query(USER_END), Err(PagingError::OutOfRange));
    assert_eq!(space.query(0x1000), Err(PagingError::OutOfRange));
    assert_eq!(m.hal().free_count(), free);
    assert_eq!(
        (m.tlb().page_flushes(), m.tlb().full_flushes()),
        flushes,
        "a failed call flushed something"
    );
    assert_mapped(
        &m,
        &space,
        0x4000_0000,
        0x20_0000,
        MB2,
        USER_RW,
        PageSize::Size2M,
    );
    assert_unmapped(&m, &space, 0x5000_0000, KB4);
}

#[test]
fn unmapping_part_of_a_large_entry_splits_it_and_keeps_the_rest() {
    let (m, space) = machine(2 * GB1 + (16 << 20));
    let (vaddr, paddr) = (0x80_0000_0000, GB1);
    assert!(m.hal().total_count() < 4096);
    space
        .map(vaddr, paddr, GB1, USER_RW, CachePolicy::Cached)
        .unwrap();
    let hole = vaddr + 5 * MB2 + 3 * KB4;
    space.unmap(hole, 2 * KB4).unwrap();
    assert_unmapped(&m, &space, hole, 2 * KB4);
    assert_mapped(
        &m,
        &space,
        vaddr + 5 * MB2,
        paddr + 5 * MB2,
        3 * KB4,
        USER_RW,
        PageSize::Size4K,
    );
    assert_mapped(
        &m,
        &space,
        hole + 2 * KB4,
        paddr + 5 * MB2 + 5 * KB4,
        MB2 - 5 * KB4,
        USER_RW,
        PageSize::Size4K,
    );
    assert_mapped(&m, &space, vaddr, paddr, KB4, USER_RW, PageSize::Size2M);
    assert_mapped(
        &m,
        &space,
        vaddr + 6 * MB2,
        paddr + 6 * MB2,
        KB4,
        USER_RW,
        PageSize::Size2M,
    );
    assert_mapped(
        &m,
        &space,
        vaddr + GB1 - KB4,
        paddr + GB1 - KB4,
        KB4,
        USER_RW,
        PageSize::Size2M,
    );
    assert_eq!(space.clear(vaddr, GB1), Ok(GB1 / KB4 - 2));
    assert_unmapped(&m, &space, vaddr + 5 * MB2, KB4);
}

#[test]
fn protecting_part_of_a_large_entry_splits_only_what_changes() {
    let (m, space) = machine(2 * GB1 + (16 << 20));
    let (vaddr, paddr) = (0x80_0000_0000, GB1);
    assert!(m.hal().total_count() < 4096);
    space
        .map(vaddr, paddr, GB1, USER_RW, CachePolicy::Cached)
        .unwrap();
    let before = m.hal().free_count();
    // Same permissions: nothing to split.
    assert_eq!(space.protect(vaddr + KB4, KB4, USER_RW), Ok(1));
    assert_eq!(m.hal().free_count(), before);
    assert_eq!(space.query(vaddr).unwrap().page_size, PageSize::Size1G);
    // New permissions on 2 MiB + 4 KiB starting at a 2 MiB boundary.
    assert_eq!(
        space.protect(vaddr + 4 * MB2, MB2 + KB4, USER_RO),
        Ok(MB2 / KB4 + 1)
    );
    assert_eq!(
        m.hal().free_count(),
        before - 2,
        "one directory and one page table"
    );
    assert_mapped(
        &m,
        &space,
        vaddr + 4 * MB2,
        paddr + 4 * MB2,
        KB4,
        USER_RO,
        PageSize::Size2M,
    );
    assert_mapped(
        &m,
        &space,
        vaddr + 5 * MB2,
        paddr + 5 * MB2,
        KB4,
        USER_RO,
        PageSize::Size4K,
    );
    assert_mapped(
        &m,
        &space,
        vaddr + 5 * MB2 + KB4,
        paddr + 5 * MB2 + KB4,
        MB2 - KB4,
        USER_RW,
        PageSize::Size4K,
    );
    assert_mapped(
        &m,
        &space,
        vaddr + 3 * MB2,
        paddr + 3 * MB2,
        KB4,
        USER_RW,
        PageSize::Size2M,
    );
    assert_eq!(space.unmap(vaddr, GB1), Ok(()));
    assert_eq!(
        m.hal().free_count(),
        before + 1,
        "the level-3 table went too"
    );
}

#[test]
fn clear_and_protect_skip_holes_and_count_pages() {
    let (m, space) = machine(64 << 20);
    space
        .map(
            0x4000_0000,
            0x30_0000,
            3 * KB4,
            USER_RW,
            CachePolicy::Cached,
        )
        .unwrap();
    space
        .map(0x4000_8000, 0x40_0000, KB4, USER_RW, CachePolicy::Cached)
        .unwrap();
    assert_eq!(space.protect(0x3fff_f000, 0x10_0000, USER_RO), Ok(4));
    assert_mapped(
        &m,
        &space,
        0x4000_8000,
        0x40_0000,
        KB4,
        USER_RO,
        PageSize::Size4K,
    );
    assert_eq!(space.clear(0x4000_1000, 0x10_0000), Ok(3));
    assert_mapped(
        &m,
        &space,
        0x4000_0000,
        0x30_0000,
        KB4,
        USER_RO,
        PageSize::Size4K,
    );
    assert_eq!(space.clear(0x4000_1000, 0x10_0000), Ok(0));
    assert_eq!(space.clear(0x4000_0000, KB4), Ok(1));
}

#[test]
fn emptied_tables_are_freed_and_a_dropped_space_frees_everything() {
    let m = SimMachine::new(64 << 20);
    let start = m.hal().free_count();
    let space = m.hal().new_bare_address_space().unwrap();
    let empty = m.hal().free_count();
    assert_eq!(empty, start - 1, "only the top-level table");
    space
        .map(
            0x7f00_0000_0000,
            0x10_0000,
            8 * KB4,
            USER_RW,
            CachePolicy::Cached,
        )
        .unwrap();
    assert_eq!(m.hal().free_count(), empty - 3);
    space.unmap(0x7f00_0000_0000, 8 * KB4).unwrap();
    assert_eq!(m.hal().free_count(), empty);
    space
        .map(
            0x1000_0000,
            0x10_0000,
            8 * KB4,
            USER_RW,
            CachePolicy::Cached,
        )
        .unwrap();
    space
        .map(
            0x2000_0000_0000,
            0x10_0000,
            2 * MB2,
            USER_RW,
            CachePolicy::Cached,
        )
        .unwrap();
    drop(space);
    assert_eq!(m.hal().free_count(), start);
}

#[test]
fn running_out_of_table_frames_rolls_the_map_back() {
    let m = SimMachine::new(4 << 20);
    let space = m.hal().new_bare_address_space().unwrap();
    space
        .map(0x4000_0000, 0x10_0000, KB4, USER_RW, CachePolicy::Cached)
        .unwrap();
    let mut hoard = Vec::new();
    while m.hal().free_count() > 2 {
        hoard.push(m.hal().alloc_frame().unwrap());
    }
    let free = m.hal().free_count();
    // Needs a level-3, a level-2 and a level-1 table: one short.
    assert_eq!(
        space.map(
            0x7000_0000_0000,
            0x10_0000,
            KB4,
            USER_RW,
            CachePolicy::Cached
        ),
        Err(PagingError::NoMemory)
    );
    assert_eq!(m.hal().free_count(), free);
    assert_unmapped(&m, &space, 0x7000_0000_0000, KB4);
    // Splitting a 2 MiB entry needs a frame too.
    for &frame in &hoard[..1] {
        m.hal().free_frames(frame, 1).unwrap();
    }
    space
        .map(0x4020_0000, 0x20_0000, MB2, USER_RW, CachePolicy::Cached)
        .unwrap();
    while m.hal().free_count() > 0 {
        hoard.push(m.hal().alloc_frame().unwrap());
    }
    assert_eq!(space.unmap(0x4020_0000, KB4), Err(PagingError::NoMemory));
    assert_eq!(
        space.protect(0x4020_0000, KB4, USER_RO),
        Err(PagingError::NoMemory)
    );
    assert_mapped(
        &m,
        &space,
        0x4020_0000,
        0x20_0000,
        MB2,
        USER_RW,
        PageSize::Size2M,
    );
    assert_eq!(
        space.clear(0x4020_0000, MB2),
        Ok(MB2 / KB4),
        "whole entries need no frame"
    );
}

#[test]
fn no_access_mappings_are_translations_the_hardware_refuses() {
    let (m, space) = machine(64 << 20);
    space
        .map(
            0x4000_0000,
            0x20_0000,
            MB2 + KB4,
            MMUFlags::USER,
            CachePolicy::Cached,
        )
        .unwrap();
    let q = space.query(0x4000_0000).unwrap();
    assert_eq!(
        (q.paddr, q.flags, q.page_size),
        (0x20_0000, MMUFlags::USER, PageSize::Size2M)
    );
    assert_eq!(walk(&m, space.root(), 0x4000_0000), None);
    assert_eq!(walk(&m, space.root(), 0x4020_0000), None);
    let mut buf = [0u8; 4];
    assert_eq!(
        m.read(space.root(), 0x4000_0000, &mut buf, true),
        Err(SimFault::NotPresent(0x4000_0000))
    );
    assert_eq!(
        space.map(0x4000_0000, 0, KB4, USER_RW, CachePolicy::Cached),
        Err(PagingError::AlreadyMapped)
    );
    assert_eq!(
        space.protect(0x4000_0000, MB2 + KB4, USER_RW),
        Ok(MB2 / KB4 + 1)
    );
    assert_mapped(
        &m,
        &space,
        0x4000_0000,
        0x20_0000,
        MB2,
        USER_RW,
        PageSize::Size2M,
    );
    assert_mapped(
        &m,
        &space,
        0x4020_0000,
        0x40_0000,
        KB4,
        USER_RW,
        PageSize::Size4K,
    );
    space.unmap(0x4000_0000, MB2 + KB4).unwrap();
}

#[test]
fn cache_policies_and_execute_permission_reach_the_entries() {
    let (m, space) = machine(64 << 20);
    let policies = [
        CachePolicy::Cached,
        CachePolicy::Uncached,
        CachePolicy::UncachedDevice,
        CachePolicy::WriteCombining,
    ];
    for (i, &cache) in policies.iter().enumerate() {
        let vaddr = 0x4000_0000 + i * MB2;
        let flags = if i % 2 == 0 {
            USER_RO | MMUFlags::EXECUTE
        } else {
            USER_RW
        };
        space.map(vaddr, 0x20_0000, MB2, flags, cache).unwrap();
        let q = space.query(vaddr + 0x1234).unwrap();
        assert_eq!(
            (q.paddr, q.flags, q.cache, q.page_size),
            (0x20_1234, flags, cache, PageSize::Size2M)
        );
        assert_eq!(walk(&m, space.root(), vaddr).unwrap().flags, flags);
    }
}

#[test]
fn kernel_mappings_appear_in_every_user_space_but_not_to_user_mode() {
    let m = SimMachine::new(64 << 20);
    let a = m.hal().new_bare_address_space().unwrap();
    let kernel = m.hal().kernel_space();
    assert_eq!(kernel.user_range(), (KERNEL_BASE, 1 << 47));
    let frame = m.hal().alloc_frame().unwrap();
    m.hal().write(frame, b"kernel").unwrap();
    let kva = KERNEL_BASE + 0x1234_5000;
    kernel
        .map(
            kva,
            frame,
            KB4,
            MMUFlags::READ | MMUFlags::WRITE,
            CachePolicy::Cached,
        )
        .unwrap();
    let b = m.hal().new_bare_address_space().unwrap();
    for space in [&a, &b] {
        let mut buf = [0u8; 6];
        m.read(space.root(), kva, &mut buf, false).unwrap();
        assert_eq!(&buf, b"kernel");
        assert_eq!(
            m.read(space.root(), kva, &mut buf, true),
            Err(SimFault::Protection(kva))
        );
        assert_eq!(walk(&m, space.root(), kva).unwrap().paddr, frame);
        assert_eq!(
            space.query(kva),
            Err(PagingError::OutOfRange),
            "user spaces see only their half"
        );
        assert_eq!(space.clear(kva, KB4), Err(PagingError::OutOfRange));
    }
    kernel.unmap(kva, KB4).unwrap();
    let mut buf = [0u8; 6];
    assert_eq!(
        m.read(b.root(), kva, &mut buf, false),
        Err(SimFault::NotPresent(kva))
    );
    drop((a, b));
    assert_eq!(walk(&m, kernel.root(), kva), None);
}

#[test]
fn reads_and_writes_through_the_tlb_follow_every_change() {
    let (m, space) = machine(64 << 20);
    let (f1, f2) = (
        m.hal().alloc_frame().unwrap(),
        m.hal().alloc_frame().unwrap(),
    );
    let root = space.root();
    let va = 0x4000_0000;
    space
        .map(va, f1, KB4, USER_RW, CachePolicy::Cached)
        .unwrap();
    m.write(root, va + 16, b"one", true).unwrap();
    let mut buf = [0u8; 3];
    m.hal().read(f1 + 16, &mut buf).unwrap();
    assert_eq!(&buf, b"one");
    assert_eq!(m.tlb().cached(), 1);

    space.protect(va, KB4, USER_RO).unwrap();
    assert_eq!(m.write(root, va, b"x", true), Err(SimFault::Protection(va)));
    m.read(root, va + 16, &mut buf, true).unwrap();
    assert_eq!(&buf, b"one");

    space.unmap(va, KB4).unwrap();
    assert_eq!(
        m.read(root, va, &mut buf, true),
        Err(SimFault::NotPresent(va))
    );

    m.hal().write(f2 + 16, b"two").unwrap();
    space
        .map(va, f2, KB4, USER_RW, CachePolicy::Cached)
        .unwrap();
    m.read(root, va + 16, &mut buf, true).unwrap();
    assert_eq!(&buf, b"two");
}

#[test]
fn a_withheld_flush_leaves_a_stale_translation() {
    let (m, space) = machine(64 << 20);
    let frame = m.hal().alloc_frame().unwrap();
    m.hal().write(frame, b"stale").unwrap();
    let (root, va) = (space.root(), 0x4000_0000);
    // Keeps the page table alive, so freeing it does not flush `va` by the way.
    space
        .map(va + 100 * KB4, frame, KB4, USER_RW, CachePolicy::Cached)
        .unwrap();
    space
        .map(va, frame, KB4, USER_RW, CachePolicy::Cached)
        .unwrap();
    let mut buf = [0u8; 5];
    m.read(root, va, &mut buf, true).unwrap();

    m.tlb().withhold_flushes(true);
    space.unmap(va, KB4).unwrap();
    assert_eq!(walk(&m, root, va), None, "the tables no longer map it");
    buf.fill(0);
    m.read(root, va, &mut buf, true).unwrap();
    assert_eq!(&buf, b"stale", "the TLB still does");

    m.tlb().withhold_flushes(false);
    space
        .map(va + KB4, frame, KB4, USER_RW, CachePolicy::Cached)
        .unwrap();
    space.unmap(va + KB4, KB4).unwrap();
    assert_eq!(
        m.read(root, va, &mut buf, true),
        Ok(()),
        "a flush of another page keeps it"
    );
    space
        .map(va, frame, KB4, USER_RW, CachePolicy::Cached)
        .unwrap();
    space.unmap(va, KB4).unwrap();
    assert_eq!(
        m.read(root, va, &mut buf, true),
        Err(SimFault::NotPresent(va))
    );
}

#[test]
fn flushes_are_per_page_up_to_the_limit_then_full() {
    let (m, space) = machine(64 << 20);
    let va = 0x4000_0000;
    let (pages, full) = (m.tlb().page_flushes(), m.tlb().full_flushes());
    space
        .map(
            va,
            0x10_0000,
            FLUSH_PAGE_LIMIT * KB4,
            USER_RW,
            CachePolicy::Cached,
        )
        .unwrap();
    assert_eq!(m.tlb().page_flushes(), pages + FLUSH_PAGE_LIMIT);
    space.unmap(va, FLUSH_PAGE_LIMIT * KB4).unwrap();
    // Every page, plus the page table freed with them.
    assert_eq!(m.tlb().full_flushes(), full + 1);
    let pages = m.tlb().page_flushes();
    space
        .map(va, 0x10_0000, 3 * KB4, USER_RW, CachePolicy::Cached)
        .unwrap();
    space.protect(va, 3 * KB4, USER_RO).unwrap();
    assert_eq!(m.tlb().page_flushes(), pages + 6);
    assert_eq!(m.tlb().full_flushes(), full + 1);
}

#[test]
fn hal_trait_objects_work_over_simulated_ram() {
    use std::sync::Arc;
    let hal: Arc<dyn kernel_hal::Hal> = Arc::new(kernel_hal_bare::BareHal::new_simulated(16 << 20));
    let total = hal.total_count();
    assert_eq!(total, (16 << 20) / PAGE_SIZE - 1);
    let run = hal.alloc_contiguous(16, 16).unwrap();
    assert_eq!(run % (1 << 16), 0);
    hal.write(run + 10, b"abc").unwrap();
    hal.copy(run + PAGE_SIZE, run, PAGE_SIZE).unwrap();
    let mut buf = [0u8; 3];
    hal.read(run + PAGE_SIZE + 10, &mut buf).unwrap();
    assert_eq!(&buf, b"abc");
    let ram_end = (16 << 20) + KERNEL_TABLE_FRAMES * PAGE_SIZE;
    assert_eq!(hal.read(ram_end, &mut buf), Err(PagingError::OutOfRange));
    assert_eq!(hal.zero(ram_end - 1, 2), Err(PagingError::OutOfRange));
    assert_eq!(hal.alloc_contiguous(0, 0), Err(PagingError::NotAligned));
    let space = hal.new_address_space().unwrap();
    space
        .map(
            0x4000_0000,
            run,
            16 * PAGE_SIZE,
            USER_RW,
            CachePolicy::Cached,
        )
        .unwrap();
    drop(space);
    hal.free_frames(run, 16).unwrap();
    assert_eq!(hal.free_frames(run, 1), Err(PagingError::NotMapped));
    assert_eq!(hal.free_count(), total, "every frame free again");
}

#[test]
fn without_1gib_support_aligned_gigabytes_get_2mib_entries() {
    let (m, _) = machine(2 * GB1 + MB2);
    m.hal().set_huge_1g(false);
    let space = m.hal().new_bare_address_space().unwrap();
    space
        .map(0x80_0000_0000, GB1, GB1, USER_RW, CachePolicy::Cached)
        .unwrap();
    assert_mapped(
        &m,
        &space,
        0x80_0000_0000,
        GB1,
        KB4,
        USER_RW,
        PageSize::Size2M,
    );
    assert_mapped(
        &m,
        &space,
        0x80_0000_0000 + GB1 - MB2,
        2 * GB1 - MB2,
        KB4,
        USER_RW,
        PageSize::Size2M,
    );
}

#[test]
fn the_inherent_api_batches_several_operations_into_one_flush() {
    use kernel_hal_bare::{Flush, X86PageTable};
    let m = SimMachine::new(16 << 20);
    let mem = m.hal().mem().clone();
    // SAFETY: `mem` is a simulated machine's allocator over its own window, alive
    // (through `m`) for the whole test, and the only allocator these tables use.
    let kernel = unsafe { X86PageTable::new_kernel(mem.window(), &*mem) }.unwrap();
    let start = mem.free_count();
    // SAFETY: as above.
    let mut space = unsafe { X86PageTable::new_user(&kernel, &*mem) }.unwrap();
    let mut flush = Flush::new(space.root());
    space
        .map(
            0x4000_0000,
            0x10_0000,
            2 * KB4,
            USER_RW,
            CachePolicy::Cached,
            &*mem,
            &mut flush,
        )
        .unwrap();
    space
        .map(
            0x4020_0000,
            0x20_0000,
            MB2,
            USER_RW,
            CachePolicy::Cached,
            &*mem,
            &mut flush,
        )
        .unwrap();
    assert_eq!(flush.addresses(), &[0x4000_0000, 0x4000_1000, 0x4020_0000]);
    assert_eq!(
        space.clear(0x4000_0000, 2 * MB2, &*mem, &mut flush),
        Ok(2 + 512)
    );
    assert_eq!(
        flush.freed_table_count(),
        3,
        "page table, directory and level-3 table"
    );
    let free_before_finish = mem.free_count();
    flush.finish(&**m.tlb(), &*mem);
    assert_eq!(
        mem.free_count(),
        free_before_finish + 3,
        "tables freed only by finish"
    );
    assert_eq!(
        m.tlb().page_flushes(),
        3 + 3 + 3,
        "one batch: three entries mapped, three cleared, three tables"
    );
    let mut flush = Flush::new(space.root());
    space.destroy(&mut flush);
    flush.finish(&**m.tlb(), &*mem);
    assert_eq!(mem.free_count(), start);
}

#[test]
fn an_existing_top_level_table_can_become_the_kernel_space() {
    use kernel_hal_bare::BareHal;
    let m = SimMachine::new(16 << 20);
    let mem = m.hal().mem().clone();
    let root = mem.alloc_frame().unwrap();
    mem.zero(root, PAGE_SIZE).unwrap();
    let free = mem.free_count();
    // SAFETY: `root` is a zeroed page-table frame of this machine used by nothing else.
    let hal = unsafe { BareHal::with_kernel_root(mem.clone(), m.tlb().clone(), root) }.unwrap();
    assert_eq!(
        mem.free_count(),
        free - 256,
        "every upper-half entry filled"
    );
    assert_eq!(hal.kernel_space().root(), root);
    let space = hal.new_bare_address_space().unwrap();
    hal.kernel_space()
        .map(
            KERNEL_BASE + GB1,
            0x10_0000,
            KB4,
            MMUFlags::READ,
            CachePolicy::Cached,
        )
        .unwrap();
    assert_eq!(
        walk(&m, space.root(), KERNEL_BASE + GB1).unwrap().paddr,
        0x10_0000
    );
}

#[test]
fn threads_can_map_disjoint_ranges_of_one_space_at_once() {
    use kernel_hal::Hal;
    let hal = std::sync::Arc::new(kernel_hal_bare::BareHal::new_simulated(64 << 20));
    let space: std::sync::Arc<dyn PageTable> = hal.new_address_space().unwrap().into();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let space = space.clone();
            std::thread::spawn(move || {
                for i in 0..200 {
                    let va = 0x4000_0000 + (t * 1000 + i) * KB4;
                    space
                        .map(va, (t * 1000 + i) * KB4, KB4, USER_RW, CachePolicy::Cached)
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    for t in 0..4 {
        for i in (0..200).step_by(17) {
            let va = 0x4000_0000 + (t * 1000 + i) * KB4;
            assert_eq!(space.query(va).unwrap().paddr, (t * 1000 + i) * KB4);
        }
    }
    assert_eq!(space.clear(0x4000_0000, 4000 * KB4), Ok(800));
}
