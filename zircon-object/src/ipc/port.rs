//! Ports: queues of packets that threads wait on.
//!
//! Two kinds of packet arrive. *User* packets come from `zx_port_queue`; a port
//! holds a bounded number of them, as Zircon's does, so a caller that never drains
//! its port is refused with `ZX_ERR_SHOULD_WAIT` instead of eating kernel memory.
//! *Kernel* packets (a pager's page requests) are queued by objects that own one
//! packet per outstanding request: they are never counted against that bound, so a
//! port flooded with user packets still delivers every page request, and their
//! number is bounded by the requests their owner has outstanding. A kernel sender
//! may take back a packet nobody has received yet ([`Port::cancel_kernel`]), for a
//! request that was answered or abandoned before the pager read it.
//!
//! A port lives as long as something holds an `Arc<Port>`: its handles, and a
//! thread inside [`Port::wait`]. A kernel sender holds a `Weak<Port>` instead, so
//! that closing the port's last handle closes the port: the queued packets go with
//! it, and the sender's `upgrade` failing is how it learns that nobody will ever
//! read its requests (Zircon's pager treats that port as a pager that never
//! answers).

use crate::abi::*;
use crate::error::ZxResult;
use crate::object::{KObjectBase, KernelObject};
use crate::sync::{Mutex, Signal};
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use kernel_hal::Hal;

/// One packet as a port carries it: the fields of `zx_port_packet_t`, with its
/// type and union as a Rust enum. (Its 48-byte ABI layout lives in the syscall
/// layer, which decodes and encodes it.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortPacket {
    /// The key the sender chose (a pager's: the key given at `zx_pager_create_vmo`).
    pub key: u64,
    /// A status the sender chose (`ZX_OK` for page requests).
    pub status: zx_status_t,
    /// The type and its payload.
    pub payload: PacketPayload,
}

/// What a packet carries, by `zx_port_packet_t.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketPayload {
    /// `ZX_PKT_TYPE_USER`: 32 bytes the queuing thread chose.
    User([u8; 32]),
    /// `ZX_PKT_TYPE_PAGE_REQUEST`: a pager-backed VMO asks for something.
    PageRequest(PageRequestPacket),
}

impl PacketPayload {
    /// The `ZX_PKT_TYPE_*` value of this payload.
    pub fn packet_type(&self) -> u32 {
        match self {
            PacketPayload::User(_) => ZX_PKT_TYPE_USER,
            PacketPayload::PageRequest(_) => ZX_PKT_TYPE_PAGE_REQUEST,
        }
    }
}

/// `zx_packet_page_request_t`: a request about a byte range of a pager-backed VMO
/// (page aligned, except for `Complete`, whose range is 0..0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequestPacket {
    /// What is asked.
    pub command: PageRequestCommand,
    /// Start of the range, in bytes into the VMO.
    pub offset: u64,
    /// Length of the range in bytes.
    pub length: u64,
}

/// `zx_packet_page_request_t.command`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum PageRequestCommand {
    /// `ZX_PAGER_VMO_READ`: supply the range (`zx_pager_supply_pages`) or fail it.
    Read = ZX_PAGER_VMO_READ,
    /// `ZX_PAGER_VMO_COMPLETE`: the VMO was detached; no request will follow.
    Complete = ZX_PAGER_VMO_COMPLETE,
    /// `ZX_PAGER_VMO_DIRTY`: let the range become dirty (`ZX_PAGER_OP_DIRTY`) or
    /// fail it.
    Dirty = ZX_PAGER_VMO_DIRTY,
}

impl PageRequestCommand {
    /// The command with ABI value `raw`, if it is one.
    pub fn from_raw(raw: u16) -> Option<PageRequestCommand> {
        match raw {
            ZX_PAGER_VMO_READ => Some(PageRequestCommand::Read),
            ZX_PAGER_VMO_COMPLETE => Some(PageRequestCommand::Complete),
            ZX_PAGER_VMO_DIRTY => Some(PageRequestCommand::Dirty),
            _ => None,
        }
    }
}

/// Names a kernel packet while it is queued, for [`Port::cancel_kernel`]. Unique
/// within its port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KernelPacketId(u64);

/// A port: a FIFO of packets, and the threads waiting for one.
pub struct Port {
    base: KObjectBase,
    hal: Arc<dyn Hal>,
    state: Mutex<PortState>,
    /// Notified whenever a packet is queued or put back.
    arrived: Signal,
}

/// The queue, under the port's lock (a leaf lock: nothing else is taken under it).
///
/// Invariants: `user_packets` counts the `Origin::User` entries of `queue`; every
/// kernel id appears at most once, in `queue` or in `in_flight`.
struct PortState {
    queue: VecDeque<Queued>,
    user_packets: usize,
    next_kernel_id: u64,
    /// Kernel packets a waiter has taken but not yet delivered, with whether their
    /// sender cancelled them meanwhile (then a failed delivery drops them instead
    /// of putting them back).
    in_flight: Vec<(KernelPacketId, bool)>,
}

struct Queued {
    packet: PortPacket,
    origin: Origin,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    User,
    Kernel(KernelPacketId),
}

impl KernelObject for Port {
    fn base(&self) -> &KObjectBase {
        &self.base
    }
    fn obj_type(&self) -> zx_obj_type_t {
        ZX_OBJ_TYPE_PORT
    }
    fn has_name(&self) -> bool {
        false
    }
}

impl Port {
    /// The bound on queued user packets. As in Zircon, the check is made before
    /// the new packet is counted: a queue already holding more than this many
    /// refuses, so `MAX_USER_PACKETS + 1` packets fit.
    pub const MAX_USER_PACKETS: usize = 4096;

    /// An empty port whose waiters sleep and wake through `hal`.
    pub fn new(hal: Arc<dyn Hal>) -> Arc<Port> {
        Arc::new(Port {
            base: KObjectBase::new(),
            hal,
            state: Mutex::new(PortState {
                queue: VecDeque::new(),
                user_packets: 0,
                next_kernel_id: 0,
                in_flight: Vec::new(),
            }),
            arrived: Signal::new(),
        })
    }

    /// Queues a user packet at the back (`zx_port_queue`).
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: the payload is not [`PacketPayload::User`] (kernel
    ///   packets go through [`queue_kernel`](Self::queue_kernel)).
    /// - `ZX_ERR_SHOULD_WAIT`: the port holds more than
    ///   [`MAX_USER_PACKETS`](Self::MAX_USER_PACKETS) user packets; nothing is queued.
    pub fn queue(&self, packet: PortPacket) -> ZxResult {
        if !matches!(packet.payload, PacketPayload::User(_)) {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        {
            let mut state = self.state.lock();
            if state.user_packets > Self::MAX_USER_PACKETS {
                return Err(ZX_ERR_SHOULD_WAIT);
            }
            state.queue.push_back(Queued {
                packet,
                origin: Origin::User,
            });
            state.user_packets += 1;
        }
        self.arrived.notify_all(&*self.hal);
        Ok(())
    }

    /// Queues a packet the kernel sends (a page request) at the back. It never
    /// fails and is never refused for a full queue: the caller owns the packet's
    /// slot (one per request it has outstanding) and may take it back with
    /// [`cancel_kernel`](Self::cancel_kernel) until a waiter receives it.
    pub fn queue_kernel(&self, packet: PortPacket) -> KernelPacketId {
        let id = {
            let mut state = self.state.lock();
            let id = KernelPacketId(state.next_kernel_id);
            state.next_kernel_id += 1;
            state.queue.push_back(Queued {
                packet,
                origin: Origin::Kernel(id),
            });
            id
        };
        self.arrived.notify_all(&*self.hal);
        id
    }

    /// Takes back the kernel packet `id` if no waiter has received it. Returns
    /// whether it did: `false` means a waiter received it (or is receiving it:
    /// should that delivery fail, the packet is dropped, not put back).
    pub fn cancel_kernel(&self, id: KernelPacketId) -> bool {
        let mut state = self.state.lock();
        if let Some(at) = state
            .queue
            .iter()
            .position(|q| q.origin == Origin::Kernel(id))
        {
            state.queue.remove(at);
            return true;
        }
        if let Some(entry) = state.in_flight.iter_mut().find(|(i, _)| *i == id) {
            entry.1 = true;
        }
        false
    }

    /// Waits for the packet at the front and returns it (`zx_port_wait`).
    ///
    /// `deadline_ns` is on [`Hal::monotonic_ns`]'s clock; `ZX_TIME_INFINITE` waits
    /// for ever, a deadline already past only looks.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_TIMED_OUT`: the deadline passed with the queue empty.
    pub fn wait(&self, deadline_ns: i64) -> ZxResult<PortPacket> {
        self.wait_then(deadline_ns, |_| Ok(()))
    }

    /// Like [`wait`](Self::wait), but the packet counts as received only if
    /// `deliver` (called with no lock held, so it may copy to user memory) returns
    /// `Ok`. Otherwise the packet goes back to the front of the queue, so a bad
    /// output pointer loses no packet, and `deliver`'s error is returned.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_TIMED_OUT` as for `wait`; any error of `deliver`.
    pub fn wait_then(
        &self,
        deadline_ns: i64,
        deliver: impl FnOnce(&PortPacket) -> ZxResult,
    ) -> ZxResult<PortPacket> {
        let taken = self.arrived.wait_until(&*self.hal, deadline_ns, || {
            let mut state = self.state.lock();
            let taken = state.queue.pop_front()?;
            match taken.origin {
                Origin::User => state.user_packets -= 1,
                Origin::Kernel(id) => state.in_flight.push((id, false)),
            }
            Some(taken)
        })?;
        let packet = taken.packet;
        let result = deliver(&packet);
        let mut put_back = result.is_err();
        {
            let mut state = self.state.lock();
            if let Origin::Kernel(id) = taken.origin {
                if let Some(at) = state.in_flight.iter().position(|(i, _)| *i == id) {
                    let (_, cancelled) = state.in_flight.swap_remove(at);
                    put_back &= !cancelled;
                }
            }
            if put_back {
                if taken.origin == Origin::User {
                    state.user_packets += 1;
                }
                state.queue.push_front(taken);
            }
        }
        if put_back {
            self.arrived.notify_all(&*self.hal);
        }
        result.map(|()| packet)
    }

    /// How many packets are queued (of both kinds).
    pub fn queued(&self) -> usize {
        self.state.lock().queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ModelHal;
    use kernel_hal::DEADLINE_INFINITE;

    fn user(key: u64) -> PortPacket {
        PortPacket {
            key,
            status: -7,
            payload: PacketPayload::User([key as u8; 32]),
        }
    }

    fn read_request(key: u64, offset: u64) -> PortPacket {
        PortPacket {
            key,
            status: 0,
            payload: PacketPayload::PageRequest(PageRequestPacket {
                command: PageRequestCommand::Read,
                offset,
                length: 4096,
            }),
        }
    }

    #[test]
    fn packets_come_out_in_the_order_they_went_in() {
        let port = Port::new(ModelHal::new(4));
        port.queue(user(1)).unwrap();
        port.queue_kernel(read_request(2, 0));
        port.queue(user(3)).unwrap();
        assert_eq!(port.wait(0), Ok(user(1)));
        assert_eq!(port.wait(0), Ok(read_request(2, 0)));
        assert_eq!(port.wait(0), Ok(user(3)));
        assert_eq!(port.wait(0), Err(ZX_ERR_TIMED_OUT));
    }

    #[test]
    fn a_full_port_refuses_user_packets_but_not_kernel_ones() {
        let port = Port::new(ModelHal::new(4));
        for key in 0..=Port::MAX_USER_PACKETS as u64 {
            port.queue(user(key)).unwrap();
        }
        assert_eq!(port.queue(user(0)), Err(ZX_ERR_SHOULD_WAIT));
        port.queue_kernel(read_request(9, 4096));
        assert_eq!(port.queued(), Port::MAX_USER_PACKETS + 2);
        // Draining one user packet makes room for one more.
        assert_eq!(port.wait(0), Ok(user(0)));
        assert_eq!(port.queue(user(1)), Ok(()));
        assert_eq!(port.queue(user(1)), Err(ZX_ERR_SHOULD_WAIT));
    }

    #[test]
    fn queue_takes_only_user_packets() {
        let port = Port::new(ModelHal::new(4));
        assert_eq!(port.queue(read_request(1, 0)), Err(ZX_ERR_INVALID_ARGS));
        assert_eq!(port.queued(), 0);
    }

    #[test]
    fn a_cancelled_kernel_packet_is_never_delivered() {
        let port = Port::new(ModelHal::new(4));
        let first = port.queue_kernel(read_request(1, 0));
        let second = port.queue_kernel(read_request(1, 4096));
        assert!(port.cancel_kernel(first));
        assert!(!port.cancel_kernel(first));
        assert_eq!(port.wait(0), Ok(read_request(1, 4096)));
        assert!(!port.cancel_kernel(second));
    }

    #[test]
    fn a_failed_delivery_puts_the_packet_back_in_front() {
        let port = Port::new(ModelHal::new(4));
        port.queue(user(1)).unwrap();
        port.queue_kernel(read_request(2, 0));
        let refused = port.wait_then(0, |_| Err(ZX_ERR_INVALID_ARGS));
        assert_eq!(refused, Err(ZX_ERR_INVALID_ARGS));
        assert_eq!(port.wait(0), Ok(user(1)));
        assert_eq!(
            port.wait_then(0, |_| Err(ZX_ERR_INVALID_ARGS)),
            Err(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(port.wait(0), Ok(read_request(2, 0)));
    }

    #[test]
    fn a_kernel_packet_cancelled_during_a_failed_delivery_is_dropped() {
        let port = Port::new(ModelHal::new(4));
        let id = port.queue_kernel(read_request(1, 0));
        let result = port.wait_then(0, |_| {
            assert!(!port.cancel_kernel(id));
            Err(ZX_ERR_INVALID_ARGS)
        });
        assert_eq!(result, Err(ZX_ERR_INVALID_ARGS));
        assert_eq!(port.queued(), 0);
    }

    #[test]
    fn a_waiter_times_out_on_an_empty_port() {
        let hal = ModelHal::new(4);
        let port = Port::new(hal.clone());
        let deadline = hal.monotonic_ns() + 1_000_000;
        assert_eq!(port.wait(deadline), Err(ZX_ERR_TIMED_OUT));
        assert!(hal.monotonic_ns() >= deadline);
    }

    #[test]
    fn a_blocked_waiter_wakes_for_a_packet_from_another_thread() {
        extern crate std;
        let port = Port::new(ModelHal::new(4));
        let waiter = {
            let port = port.clone();
            std::thread::spawn(move || port.wait(DEADLINE_INFINITE))
        };
        port.queue_kernel(read_request(5, 8192));
        assert_eq!(waiter.join().unwrap(), Ok(read_request(5, 8192)));
    }

    #[test]
    fn commands_round_trip_through_their_abi_values() {
        for command in [
            PageRequestCommand::Read,
            PageRequestCommand::Complete,
            PageRequestCommand::Dirty,
        ] {
            assert_eq!(PageRequestCommand::from_raw(command as u16), Some(command));
        }
        assert_eq!(PageRequestCommand::from_raw(3), None);
    }
}
