//! Blocking on the host: the monotonic clock and futex waits behind
//! [`Hal::wait_word`](kernel_hal::Hal::wait_word).

use kernel_hal::{WaitOutcome, DEADLINE_INFINITE};
use std::sync::atomic::{AtomicU32, Ordering};

/// The host's `CLOCK_MONOTONIC` in nanoseconds.
pub(crate) fn monotonic_ns() -> i64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call,
    // and CLOCK_MONOTONIC is always available on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec
        .saturating_mul(1_000_000_000)
        .saturating_add(now.tv_nsec)
}

/// Sleeps while `word` holds `expected`, until woken or `deadline_ns` passes.
pub(crate) fn wait_word(word: &AtomicU32, expected: u32, deadline_ns: i64) -> WaitOutcome {
    let timeout = if deadline_ns == DEADLINE_INFINITE {
        None
    } else {
        let left = deadline_ns.saturating_sub(monotonic_ns());
        if left <= 0 {
            return WaitOutcome::TimedOut;
        }
        Some(libc::timespec {
            tv_sec: left / 1_000_000_000,
            tv_nsec: left % 1_000_000_000,
        })
    };
    let timeout_ptr = timeout
        .as_ref()
        .map_or(core::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live AtomicU32, so its address is valid, aligned and
    // readable for the call (the kernel only reads it, atomically); `timeout_ptr`
    // is null or points at a timespec that outlives the call. FUTEX_WAIT with the
    // private flag touches nothing else.
    let woken = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            timeout_ptr,
        )
    };
    if woken == -1
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT)
        && word.load(Ordering::Acquire) == expected
    {
        return WaitOutcome::TimedOut;
    }
    WaitOutcome::Woken
}

/// Wakes every thread sleeping on `word`.
pub(crate) fn wake_word(word: &AtomicU32) {
    // SAFETY: as in `wait_word`; FUTEX_WAKE only uses the address as a key.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_wait_with_a_past_deadline_times_out_at_once() {
        let word = AtomicU32::new(0);
        assert_eq!(
            wait_word(&word, 0, monotonic_ns() - 1),
            WaitOutcome::TimedOut
        );
    }

    #[test]
    fn a_wait_on_a_changed_word_returns_at_once() {
        let word = AtomicU32::new(1);
        assert_eq!(wait_word(&word, 0, DEADLINE_INFINITE), WaitOutcome::Woken);
    }

    #[test]
    fn a_finite_wait_sleeps_until_its_deadline() {
        let word = AtomicU32::new(0);
        let start = monotonic_ns();
        let deadline = start + 20_000_000;
        while wait_word(&word, 0, deadline) == WaitOutcome::Woken {}
        assert!(monotonic_ns() >= deadline);
    }

    #[test]
    fn a_wake_ends_an_infinite_wait() {
        let word = Arc::new(AtomicU32::new(0));
        let sleeper = {
            let word = word.clone();
            std::thread::spawn(move || {
                while word.load(Ordering::Acquire) == 0 {
                    assert_eq!(wait_word(&word, 0, DEADLINE_INFINITE), WaitOutcome::Woken);
                }
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        word.store(1, Ordering::Release);
        wake_word(&word);
        sleeper.join().expect("the sleeper wakes");
    }
}
