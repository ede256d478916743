//! Physical-memory exhaustion at every point: a HAL that fails the k-th frame
//! allocation, for every k a random syscall sequence reaches. The call that meets
//! the failure must return `ZX_ERR_NO_MEMORY` (or succeed, where it needs no frame
//! after all), and leave the address space (`ZX_INFO_PROCESS_MAPS`), the contents of
//! every VMO and the count of frames in use exactly as they were before it; a page
//! fault that cannot get a frame reports `ZX_ERR_NO_MEMORY` to the faulting thread.
//! The calls before it behave exactly as in a run without failure, and dropping
//! the process frees every frame (the `TestProcess` drop check).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use kernel_hal::{Hal, MMUFlags, PageTable, PagingError, PagingResult, PhysAddr, PhysMem};
use kernel_hal_unix::UnixHal;
use zircon_syscall::*;
use zircon_tests::{default_hal, new_process_over, TestProcess};

const PAGE: usize = 4096;
/// Scratch layout: out-parameters, the maps listing, one page of VMO contents, and
/// the data the writes copy from.
const OUT: usize = 0;
const MAPS: usize = 4096;
const MAPS_LEN: usize = 32 * 1024;
const CHUNK: usize = 36 * 1024;
const DATA: usize = 40 * 1024;

/// A machine that fails one chosen frame allocation (single or contiguous).
struct FailingHal {
    inner: UnixHal,
    /// Allocations made so far.
    count: AtomicUsize,
    /// The allocation (counted from 1) that fails; 0 for none.
    fail_at: AtomicUsize,
}

impl FailingHal {
    fn next_fails(&self) -> bool {
        self.count.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at.load(Ordering::SeqCst)
    }
}

impl PhysMem for FailingHal {
    fn alloc_frame(&self) -> PagingResult<PhysAddr> {
        if self.next_fails() {
            return Err(PagingError::NoMemory);
        }
        self.inner.alloc_frame()
    }
    fn alloc_contiguous(&self, count: usize, align_log2: usize) -> PagingResult<PhysAddr> {
        if self.next_fails() {
            return Err(PagingError::NoMemory);
        }
        self.inner.alloc_contiguous(count, align_log2)
    }
    fn free_frames(&self, paddr: PhysAddr, count: usize) -> PagingResult<()> {
        self.inner.free_frames(paddr, count)
    }
    fn read(&self, paddr: PhysAddr, buf: &mut [u8]) -> PagingResult<()> {
        self.inner.read(paddr, buf)
    }
    fn write(&self, paddr: PhysAddr, buf: &[u8]) -> PagingResult<()> {
        self.inner.write(paddr, buf)
    }
    fn zero(&self, paddr: PhysAddr, len: usize) -> PagingResult<()> {
        self.inner.zero(paddr, len)
    }
    fn copy(&self, dst: PhysAddr, src: PhysAddr, len: usize) -> PagingResult<()> {
        self.inner.copy(dst, src, len)
    }
    fn free_count(&self) -> usize {
        self.inner.free_count()
    }
    fn total_count(&self) -> usize {
        self.inner.total_count()
    }
}

impl Hal for FailingHal {
    fn new_address_space(&self) -> PagingResult<Box<dyn PageTable>> {
        self.inner.new_address_space()
    }
}

/// One step of a sequence, with its choices as raw numbers: the runner turns them
/// into handles, addresses and sizes from the live state.
#[derive(Clone, Copy, Debug)]
enum Op {
    CreateVmo {
        pages: usize,
        resizable: bool,
    },
    WriteVmo {
        which: usize,
        at: usize,
        len: usize,
    },
    CommitVmo {
        which: usize,
    },
    DecommitOrZero {
        which: usize,
        zero: bool,
    },
    Map {
        which: usize,
        commit: bool,
    },
    CommitMapping {
        which: usize,
    },
    WriteUser {
        which: usize,
        at: usize,
        len: usize,
    },
    Fault {
        which: usize,
        at: usize,
        write: bool,
    },
    Snapshot {
        which: usize,
    },
    SetSize {
        which: usize,
        pages: usize,
    },
    Protect {
        which: usize,
        writable: bool,
    },
    Unmap {
        which: usize,
    },
    Close {
        which: usize,
    },
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn sequence(seed: u64, len: usize) -> Vec<Op> {
    let mut rng = Rng(seed);
    let mut ops = vec![
        Op::CreateVmo {
            pages: 4,
            resizable: true,
        },
        Op::Map {
            which: 0,
            commit: false,
        },
    ];
    while ops.len() < len {
        let (a, b, c) = (rng.below(64), rng.below(8), rng.below(3 * PAGE));
        ops.push(match rng.below(13) {
            0 => Op::CreateVmo {
                pages: 1 + b,
                resizable: a % 2 == 0,
            },
            1 => Op::WriteVmo {
                which: a,
                at: c,
                len: 1 + rng.below(2 * PAGE),
            },
            2 => Op::CommitVmo { which: a },
            3 => Op::DecommitOrZero {
                which: a,
                zero: b % 2 == 0,
            },
            4 => Op::Map {
                which: a,
                commit: b % 2 == 0,
            },
            5 => Op::CommitMapping { which: a },
            6 => Op::WriteUser {
                which: a,
                at: c,
                len: 1 + rng.below(2 * PAGE),
            },
            7 => Op::Fault {
                which: a,
                at: c,
                write: b % 3 != 0,
            },
            8 => Op::Snapshot { which: a },
            9 => Op::SetSize { which: a, pages: b },
            10 => Op::Protect {
                which: a,
                writable: b % 2 == 0,
            },
            11 => Op::Unmap { which: a },
            _ => Op::Close { which: a },
        });
    }
    ops
}

/// The live state a sequence builds, in the process's own values.
struct World {
    p: TestProcess,
    hal: Arc<FailingHal>,
    /// VMO handles (closed ones stay, marked).
    vmos: Vec<(u32, bool)>,
    /// Mappings: (base, len), removed when unmapped.
    maps: Vec<(usize, usize)>,
}

/// What must not change across a call that failed for lack of memory.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    maps: Vec<u8>,
    vmos: Vec<Vec<u8>>,
    frames: usize,
}

impl Snapshot {
    /// What differs from `other`, in a few words.
    fn difference(&self, other: &Snapshot) -> String {
        let mut parts = Vec::new();
        if self.maps != other.maps {
            parts.push("the maps listing".to_string());
        }
        if self.vmos != other.vmos {
            parts.push("VMO contents".to_string());
        }
        if self.frames != other.frames {
            parts.push(format!(
                "frames in use ({} -> {})",
                self.frames, other.frames
            ));
        }
        parts.join(", ")
    }
}

impl World {
    fn new(fail_at: usize) -> World {
        let machine = default_hal();
        let hal = Arc::new(FailingHal {
            inner: machine.clone(),
            count: AtomicUsize::new(0),
            fail_at: AtomicUsize::new(0),
        });
        let p = new_process_over(hal.clone(), machine);
        // Count from here: the scratch area's frames are not part of the sequence.
        hal.count.store(0, Ordering::SeqCst);
        hal.fail_at.store(fail_at, Ordering::SeqCst);
        World {
            p,
            hal,
            vmos: Vec::new(),
            maps: Vec::new(),
        }
    }

    fn out_u32(&self) -> u32 {
        let mut b = [0u8; 4];
        self.p.read_memory(self.p.scratch() + OUT, &mut b).unwrap();
        u32::from_le_bytes(b)
    }

    fn out_usize(&self) -> usize {
        let mut b = [0u8; 8];
        self.p.read_memory(self.p.scratch() + OUT, &mut b).unwrap();
        usize::from_le_bytes(b)
    }

    fn vmo(&self, which: usize) -> Option<u32> {
        let live: Vec<u32> = self.vmos.iter().filter(|v| !v.1).map(|v| v.0).collect();
        (!live.is_empty()).then(|| live[which % live.len()])
    }

    fn mapping(&self, which: usize) -> Option<(usize, usize)> {
        (!self.maps.is_empty()).then(|| self.maps[which % self.maps.len()])
    }

    fn snapshot(&self) -> Snapshot {
        let s = self.p.scratch();
        let st = self.p.zx_object_get_info(
            self.p.zx_process_self(),
            ZX_INFO_PROCESS_MAPS,
            s + MAPS,
            MAPS_LEN,
            s + OUT,
            s + OUT + 8,
        );
        assert_eq!(st, ZX_OK);
        let mut maps = vec![0u8; MAPS_LEN];
        self.p.read_memory(s + MAPS, &mut maps).unwrap();
        let mut actual = [0u8; 8];
        self.p.read_memory(s + OUT, &mut actual).unwrap();
        maps.extend_from_slice(&actual);
        let mut vmos = Vec::new();
        for &(h, closed) in &self.vmos {
            if closed {
                continue;
            }
            assert_eq!(self.p.zx_vmo_get_size(h, s + OUT), ZX_OK);
            let size = self.out_usize();
            let mut bytes = Vec::with_capacity(size);
            for off in (0..size).step_by(PAGE) {
                assert_eq!(self.p.zx_vmo_read(h, s + CHUNK, off as u64, PAGE), ZX_OK);
                let mut page = vec![0u8; PAGE];
                self.p.read_memory(s + CHUNK, &mut page).unwrap();
                bytes.extend_from_slice(&page);
            }
            vmos.push(bytes);
        }
        Snapshot {
            maps,
            vmos,
            frames: self.p.frames_in_use(),
        }
    }

    /// Runs `op`, returning its status (`None` when the state offers nothing to
    /// run it on).
    fn run(&mut self, op: Op) -> Option<i32> {
        let p = &self.p;
        let s = p.scratch();
        let root = p.zx_vmar_root_self();
        let rw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
        Some(match op {
            Op::CreateVmo { pages, resizable } => {
                let options = if resizable { ZX_VMO_RESIZABLE } else { 0 };
                let st = p.zx_vmo_create((pages * PAGE) as u64, options, s + OUT);
                if st == ZX_OK {
                    self.vmos.push((self.out_u32(), false));
                }
                st
            }
            Op::WriteVmo { which, at, len } => {
                p.write_memory(s + DATA, &vec![0xA5; len]).unwrap();
                p.zx_vmo_write(self.vmo(which)?, s + DATA, at as u64, len)
            }
            Op::CommitVmo { which } => {
                let h = self.vmo(which)?;
                assert_eq!(p.zx_vmo_get_size(h, s + OUT), ZX_OK);
                let size = self.out_usize() as u64;
                p.zx_vmo_op_range(h, ZX_VMO_OP_COMMIT, 0, size, 0, 0)
            }
            Op::DecommitOrZero { which, zero } => {
                let op = if zero {
                    ZX_VMO_OP_ZERO
                } else {
                    ZX_VMO_OP_DECOMMIT
                };
                p.zx_vmo_op_range(self.vmo(which)?, op, 0, PAGE as u64, 0, 0)
            }
            Op::Map { which, commit } => {
                let h = self.vmo(which)?;
                assert_eq!(p.zx_vmo_get_size(h, s + OUT), ZX_OK);
                let len = self.out_usize().max(PAGE);
                let options = rw | if commit { ZX_VM_MAP_RANGE } else { 0 };
                let st = p.zx_vmar_map(root, options, 0, h, 0, len, s + OUT);
                if st == ZX_OK {
                    self.maps.push((self.out_usize(), len));
                }
                st
            }
            Op::CommitMapping { which } => {
                let (base, len) = self.mapping(which)?;
                p.zx_vmar_op_range(root, ZX_VMAR_OP_COMMIT, base, len, 0, 0)
            }
            Op::WriteUser { which, at, len } => {
                // Within one page: a copy across pages that runs out of frames
                // part-way keeps the pages before (as Zircon's user copies do).
                let (base, mlen) = self.mapping(which)?;
                let at = at % mlen;
                let len = len.min(PAGE - at % PAGE);
                let data = vec![0x3C; len];
                match p.write_memory(base + at, &data) {
                    Ok(()) => ZX_OK,
                    Err(e) => e,
                }
            }
            Op::Fault { which, at, write } => {
                let (base, len) = self.mapping(which)?;
                let access = if write {
                    MMUFlags::WRITE
                } else {
                    MMUFlags::READ
                };
                match p.object().aspace().fault(base + at % len, access) {
                    Ok(()) => ZX_OK,
                    Err(e) => e.raw(),
                }
            }
            Op::Snapshot { which } => {
                let h = self.vmo(which)?;
                let st =
                    p.zx_vmo_create_child(h, ZX_VMO_CHILD_SNAPSHOT, 0, 2 * PAGE as u64, s + OUT);
                if st == ZX_OK {
                    self.vmos.push((self.out_u32(), false));
                }
                st
            }
            Op::SetSize { which, pages } => {
                p.zx_vmo_set_size(self.vmo(which)?, (pages * PAGE) as u64)
            }
            Op::Protect { which, writable } => {
                let (base, _) = self.mapping(which)?;
                let perms = if writable { rw } else { ZX_VM_PERM_READ };
                p.zx_vmar_protect(root, perms, base, PAGE)
            }
            Op::Unmap { which } => {
                let (base, len) = self.mapping(which)?;
                let st = p.zx_vmar_unmap(root, base, len);
                if st == ZX_OK {
                    self.maps.retain(|m| m.0 != base);
                }
                st
            }
            Op::Close { which } => {
                let h = self.vmo(which)?;
                let st = p.zx_handle_close(h);
                for v in &mut self.vmos {
                    if v.0 == h {
                        v.1 = true;
                    }
                }
                st
            }
        })
    }
}

/// Runs `ops` with no failure and returns each step's status and the allocation
/// count after it.
fn dry_run(ops: &[Op]) -> Vec<(Option<i32>, usize)> {
    let mut w = World::new(0);
    let mut steps = Vec::new();
    for &op in ops {
        let st = w.run(op);
        steps.push((st, w.hal.count.load(Ordering::SeqCst)));
    }
    steps
}

/// For every allocation `k` the sequence makes: fail it, and check the call that
/// meets the failure.
fn exhaust_every_allocation(seed: u64, len: usize) -> (usize, usize) {
    let ops = sequence(seed, len);
    let steps = dry_run(&ops);
    let total = steps.last().map_or(0, |s| s.1);
    let mut no_memory = 0;
    for k in 1..=total {
        let failing = steps.iter().position(|s| s.1 >= k).expect("k is reached");
        let mut w = World::new(k);
        for (i, &op) in ops.iter().enumerate().take(failing) {
            assert_eq!(
                w.run(op),
                steps[i].0,
                "seed {seed:#x}, k {k}: step {i} {op:?} changed"
            );
        }
        let before = w.snapshot();
        let st = w.run(ops[failing]);
        let op = ops[failing];
        assert!(
            w.hal.count.load(Ordering::SeqCst) >= k,
            "seed {seed:#x}, k {k}: {op:?} did not reach the allocation"
        );
        // The kernel's user copy reports every failure as INVALID_ARGS (as a
        // syscall's copy-out would); it must still change nothing.
        let user_copy_failed =
            matches!(op, Op::WriteUser { .. }) && st == Some(ZX_ERR_INVALID_ARGS);
        match st {
            _ if user_copy_failed => {
                no_memory += 1;
                let after = w.snapshot();
                if after != before {
                    panic!(
                        "seed {seed:#x}, k {k}: {op:?} failed but changed {}",
                        before.difference(&after)
                    );
                }
            }
            Some(ZX_ERR_NO_MEMORY) => {
                no_memory += 1;
                let after = w.snapshot();
                if after != before {
                    panic!(
                        "seed {seed:#x}, k {k}: {op:?} failed with NO_MEMORY but changed {}",
                        before.difference(&after)
                    );
                }
            }
            Some(ZX_OK) => {}
            other => panic!("seed {seed:#x}, k {k}: {op:?} returned {other:?}"),
        }
        // Dropping `w` closes every handle; the drop check counts the frames.
    }
    (total, no_memory)
}

/// Random sequences tried (60 calls each).
const SEQUENCES: u64 = 40;

#[test]
fn every_failed_frame_allocation_leaves_everything_as_it_was() {
    let mut allocations = 0;
    let mut failures = 0;
    for seed in 0..SEQUENCES {
        let (total, no_memory) = exhaust_every_allocation(0xF2A3_0000 + seed, 60);
        allocations += total;
        failures += no_memory;
    }
    println!("{allocations} allocations failed one at a time; {failures} calls said NO_MEMORY");
    assert!(
        allocations > 50,
        "the sequences allocated only {allocations} frames"
    );
    assert!(
        failures > allocations / 2,
        "most failures must reach the caller"
    );
}
