//! The object layer's lock: a spin lock whose every hold is marked with
//! [`kernel_hal::held::LockHeld`], so that a backend resolving faults on the
//! faulting thread can tell when that thread holds one (see that module).

use core::ops::{Deref, DerefMut};

use kernel_hal::held::LockHeld;

/// A mutual-exclusion lock over `T` (a spin lock), marked while held.
#[derive(Debug, Default)]
pub struct Mutex<T: ?Sized> {
    inner: spin::Mutex<T>,
}

/// Access to a [`Mutex`]'s value; the lock (and its mark) is released when it drops.
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    // Declared first, so it drops (unlocking) before the mark goes.
    guard: spin::MutexGuard<'a, T>,
    _held: LockHeld,
}

impl<T> Mutex<T> {
    /// A new unlocked lock over `value`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            inner: spin::Mutex::new(value),
        }
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock and returns the guard.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        // The mark comes first: waiting for the lock counts as holding it.
        let held = LockHeld::new();
        MutexGuard {
            guard: self.inner.lock(),
            _held: held,
        }
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}
