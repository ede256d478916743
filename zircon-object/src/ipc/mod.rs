//! Inter-thread communication objects: ports, as far as pagers need them.

mod port;

pub use port::{
    KernelPacketId, PacketPayload, PageRequestCommand, PageRequestPacket, Port, PortPacket,
};
