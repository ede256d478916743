//! SCAFFOLD ONLY (branch `scaffold`): the shape of the real helpers.
#![allow(missing_docs)]
use std::ops::Deref;

pub struct TestProcess {
    process: zircon_syscall::Process,
}

/// A fresh process on its own unix HAL, with a 64 KiB read-write committed scratch area.
/// Dropping it checks that every frame of its HAL is free again (panics otherwise).
pub fn new_process() -> TestProcess {
    TestProcess {
        process: zircon_syscall::Process,
    }
}

impl TestProcess {
    /// Base of 64 KiB of read-write, committed user memory.
    pub fn scratch(&self) -> usize {
        0
    }
    /// Frames allocated from this process's HAL right now.
    pub fn frames_in_use(&self) -> usize {
        0
    }
}

impl Deref for TestProcess {
    type Target = zircon_syscall::Process;
    fn deref(&self) -> &zircon_syscall::Process {
        &self.process
    }
}
