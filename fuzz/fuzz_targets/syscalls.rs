//! Decodes the fuzzer's input into up to `MAX_CALLS` syscalls (number and eight
//! argument words, drawn by `zircon_tests::syscall_gen` from the input bytes, fitting
//! the signatures of `zircon_syscall::SYSCALLS`) and runs
//! them through `Process::dispatch` on a fresh process. A panic is a finding: a
//! positive status, a panic inside a call, an address space that is not a
//! well-formed tree afterwards, or (when the process is dropped) a frame that was
//! never freed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zircon_tests::syscall_gen::{ByteEntropy, Fuzzer};

/// The most calls one input makes.
const MAX_CALLS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let mut bytes = ByteEntropy::new(data);
    let mut fuzzer = Fuzzer::new();
    for _ in 0..MAX_CALLS {
        if bytes.is_empty() {
            break;
        }
        fuzzer.step(&mut bytes);
    }
    fuzzer.check_address_space();
    fuzzer.close_all();
    // Dropping the fuzzer drops its process, which checks that every frame is free.
});
