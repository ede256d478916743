//! Calls `dispatch` 100,000 times with random syscall numbers and arguments from a fixed
//! seed, drawn by `zircon_tests::syscall_gen` (which the cargo-fuzz target shares).
//! Arguments lean toward values that reach deep into the calls: live handle values,
//! pointers into, around and outside the scratch area, addresses the fuzzer's own calls
//! returned, page-aligned and unaligned sizes, zero, `usize::MAX`, valid option bits.
//! Nothing may panic or fault the host, the calls on device memory and device objects
//! never take or free a frame (checked after each such call), and every frame must be
//! free again when each process is dropped (the `TestProcess` drop check).

use zircon_syscall::*;
use zircon_tests::new_process;
use zircon_tests::syscall_gen::{Fuzzer, SplitMix64};

const PAGE: usize = 4096;
const ROUNDS: usize = 100;
const CALLS_PER_ROUND: usize = 1000;

#[test]
fn dispatch_survives_100_000_random_calls_and_frees_every_frame() {
    let mut rng = SplitMix64(0x0005_eed0_fd15_a7c4);
    // Successes by syscall number; every call of the table must get some.
    let mut ok_by_call = vec![0usize; SYSCALLS.len() + 1];
    let mut bad_syscall = 0usize;
    let mut checked = 0usize;
    let (mut references, mut modified) = (0usize, 0usize);
    for _ in 0..ROUNDS {
        let mut f = Fuzzer::new();
        for _ in 0..CALLS_PER_ROUND {
            match f.step(&mut rng) {
                // Success: ZX_OK, or the handle value the two `*_self` calls answer.
                (number, status) if status >= 0 && (number as usize) < ok_by_call.len() => {
                    ok_by_call[number as usize] += 1
                }
                (_, ZX_ERR_BAD_SYSCALL) => bad_syscall += 1,
                _ => {}
            }
        }
        if f.check_address_space() {
            checked += 1;
        }
        references += f
            .child_options
            .iter()
            .filter(|&&o| o & ZX_VMO_CHILD_REFERENCE != 0)
            .count();
        modified += f
            .child_options
            .iter()
            .filter(|&&o| o & ZX_VMO_CHILD_SNAPSHOT_MODIFIED != 0)
            .count();
        f.close_all();
        // Dropping `f` checks that every frame of its HAL is free again.
    }
    // The inputs got past argument checking into every call of the table.
    for call in SYSCALLS {
        let count = ok_by_call[call.number as usize];
        assert!(count > 0, "{} never succeeded", call.name);
    }
    assert!(bad_syscall > 0);
    // The newer child kinds were made too.
    assert!(references > 0 && modified > 0, "{references} {modified}");
    // Most rounds leave the scratch area usable, so the tree could be checked.
    assert!(checked > ROUNDS / 2, "only {checked} rounds checked");
}

#[test]
fn unknown_syscall_numbers_are_bad_syscall() {
    let p = new_process();
    let past_the_end = SYSCALLS.len() as u32 + 1;
    for number in [0u32, past_the_end, past_the_end + 1, 1000, u32::MAX] {
        assert_eq!(p.dispatch(number, [0; 8]), ZX_ERR_BAD_SYSCALL);
    }
}

#[test]
fn dispatch_reaches_the_calls_with_their_arguments_in_order() {
    let p = new_process();
    let s = p.scratch();
    assert_eq!(
        p.dispatch(SYS_VMO_CREATE, [3 * PAGE, 0, s, 0, 0, 0, 0, 0]),
        ZX_OK
    );
    let mut b = [0u8; 4];
    p.read_memory(s, &mut b).unwrap();
    let vmo = u32::from_ne_bytes(b) as usize;
    assert_eq!(
        p.dispatch(SYS_VMO_GET_SIZE, [vmo, s + 8, 0, 0, 0, 0, 0, 0]),
        ZX_OK
    );
    let mut size = [0u8; 8];
    p.read_memory(s + 8, &mut size).unwrap();
    assert_eq!(u64::from_ne_bytes(size), 3 * PAGE as u64);
    assert_eq!(
        p.dispatch(SYS_VMAR_ROOT_SELF, [0; 8]) as u32,
        p.zx_vmar_root_self()
    );
    assert_eq!(
        p.dispatch(SYS_PROCESS_SELF, [0; 8]) as u32,
        p.zx_process_self()
    );
    assert_eq!(
        p.dispatch(SYS_HANDLE_CLOSE, [vmo, 0, 0, 0, 0, 0, 0, 0]),
        ZX_OK
    );
    assert_eq!(
        p.dispatch(SYS_HANDLE_CLOSE, [vmo, 0, 0, 0, 0, 0, 0, 0]),
        ZX_ERR_BAD_HANDLE
    );
}
