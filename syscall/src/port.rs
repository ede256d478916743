//! `zx_port_*` and `zx_clock_get_monotonic`: ports as far as pagers need them (create,
//! queue a user packet, wait for a packet with a deadline) and the clock their
//! deadlines are measured on.

use crate::records::{Layout, PortPacketRecord};
use crate::{status, Process};
use zircon_object::abi::*;
use zircon_object::ipc::Port;
use zircon_object::object::Handle;

impl Process {
    /// Creates a port and writes its handle (`ZX_DEFAULT_PORT_RIGHTS`) to `out`.
    /// `ZX_PORT_BIND_TO_INTERRUPT` is accepted; with no interrupt objects to bind, it
    /// changes nothing.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: an option other than `ZX_PORT_BIND_TO_INTERRUPT`, or a
    ///   bad `out` (no handle is left behind then).
    /// - `ZX_ERR_NO_MEMORY`: the handle table is full.
    pub fn zx_port_create(&self, options: u32, out: usize) -> zx_status_t {
        status((|| {
            if options & !ZX_PORT_BIND_TO_INTERRUPT != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
            let port = Port::new(self.inner.aspace().hal().clone());
            self.install_handle(Handle::new(port, ZX_DEFAULT_PORT_RIGHTS), out)
                .map(|_| ())
        })())
    }

    /// Waits until the port has a packet or `deadline` (absolute, on
    /// [`zx_clock_get_monotonic`](Self::zx_clock_get_monotonic)'s clock) passes, and
    /// writes the packet at the front of the queue (a 48-byte `zx_port_packet_t`) to
    /// `packet`. `ZX_TIME_INFINITE` waits for ever; a deadline already past only looks.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE` (not a port), `ZX_ERR_ACCESS_DENIED`
    ///   (no `ZX_RIGHT_READ`), in that order.
    /// - `ZX_ERR_TIMED_OUT`: the deadline passed with the queue empty.
    /// - `ZX_ERR_INVALID_ARGS`: `packet` cannot take the record. The packet stays at
    ///   the front of the queue for the next waiter (Zircon loses it).
    pub fn zx_port_wait(&self, port: zx_handle_t, deadline: i64, packet: usize) -> zx_status_t {
        status((|| {
            let (port, _) = self.inner.get_object::<Port>(port, ZX_RIGHT_READ)?;
            port.wait_then(deadline, |received| {
                self.copy_out(packet, &PortPacketRecord::from_packet(received).to_bytes())
            })
            .map(drop)
        })())
    }

    /// Queues the 48-byte `zx_port_packet_t` at `packet` as a user packet: its key,
    /// status and 32-byte union are kept, its type becomes `ZX_PKT_TYPE_USER`
    /// whatever it was.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE` (not a port), `ZX_ERR_ACCESS_DENIED`
    ///   (no `ZX_RIGHT_WRITE`), in that order.
    /// - `ZX_ERR_INVALID_ARGS`: `packet` cannot be read.
    /// - `ZX_ERR_SHOULD_WAIT`: the port holds more than `Port::MAX_USER_PACKETS` user
    ///   packets (nothing is queued).
    pub fn zx_port_queue(&self, port: zx_handle_t, packet: usize) -> zx_status_t {
        status((|| {
            let (port, _) = self.inner.get_object::<Port>(port, ZX_RIGHT_WRITE)?;
            let mut bytes = [0u8; PortPacketRecord::SIZE];
            self.copy_in(packet, &mut bytes)?;
            port.queue(PortPacketRecord::read_from(&bytes).to_user_packet())
        })())
    }

    /// The monotonic clock in nanoseconds: the HAL's
    /// [`monotonic_ns`](kernel_hal::Hal::monotonic_ns), never going back, the clock of
    /// every deadline.
    pub fn zx_clock_get_monotonic(&self) -> i64 {
        self.inner.aspace().hal().monotonic_ns()
    }
}
