//! The user pager: a kernel object (`ZX_OBJ_TYPE_PAGER`) whose VMOs' page
//! requests become `ZX_PKT_TYPE_PAGE_REQUEST` packets on a port, which a user
//! thread reads and answers with the `zx_pager_*` calls.
//!
//! The pager holds its VMOs weakly (a VMO lives as long as its handles and
//! mappings); each VMO holds a [`PortProvider`], which holds the port weakly: a
//! port closed by its last handle leaves requests that nobody will answer, as in
//! Zircon. When the pager's last handle closes (its drop), every VMO it still has
//! is detached: outstanding requests fail with `ZX_ERR_BAD_STATE`, and, as in
//! Zircon, the port gets no more packets for them (not even
//! `ZX_PAGER_VMO_COMPLETE`). A detach through `zx_pager_detach_vmo`, or the
//! VMO's end, sends `ZX_PAGER_VMO_COMPLETE`. A request answered (or failed, or
//! ended by a detach) before the pager thread reads its packet takes the packet
//! back, so the pager never sees a request that is already answered.

use super::{PageProvider, PageRequest, PageRequestKind};
use crate::abi::*;
use crate::error::ZxResult;
use crate::ipc::{
    KernelPacketId, PacketPayload, PageRequestCommand, PageRequestPacket, Port, PortPacket,
};
use crate::object::{KObjectBase, KernelObject, KernelObjectExt};
use crate::sync::Mutex;
use crate::vm::{VmObject, VmoOptions};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel_hal::Hal;

/// A pager object: the VMOs created from it, by koid.
pub struct Pager {
    base: KObjectBase,
    hal: Arc<dyn Hal>,
    vmos: Mutex<BTreeMap<zx_koid_t, PagerVmo>>,
}

/// A VMO of a pager, and the provider that sends its packets.
type PagerVmo = (Weak<VmObject>, Arc<PortProvider>);

impl KernelObject for Pager {
    fn base(&self) -> &KObjectBase {
        &self.base
    }
    fn obj_type(&self) -> zx_obj_type_t {
        ZX_OBJ_TYPE_PAGER
    }
}

/// The provider of a user pager's VMO: queues each request as a packet with the
/// VMO's key on the port.
pub struct PortProvider {
    port: Weak<Port>,
    /// Set when the pager closed: nothing more is sent.
    closed: AtomicBool,
    /// The packets of requests not yet answered, to take back from the port when
    /// a request is answered before the pager reads it (as Zircon does).
    queued: Mutex<Vec<(PageRequest, KernelPacketId)>>,
}

impl PortProvider {
    fn send(
        &self,
        key: u64,
        command: PageRequestCommand,
        offset: u64,
        length: u64,
    ) -> Option<KernelPacketId> {
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        let port = self.port.upgrade()?;
        Some(port.queue_kernel(PortPacket {
            key,
            status: 0,
            payload: PacketPayload::PageRequest(PageRequestPacket {
                command,
                offset,
                length,
            }),
        }))
    }
}

impl PageProvider for PortProvider {
    fn page_request(&self, _vmo: &Arc<VmObject>, request: PageRequest) {
        let command = match request.kind {
            PageRequestKind::Read => PageRequestCommand::Read,
            PageRequestKind::Dirty => PageRequestCommand::Dirty,
        };
        if let Some(id) = self.send(request.key, command, request.offset, request.len) {
            self.queued.lock().push((request, id));
        }
    }

    fn answered(&self, request: PageRequest) {
        let id = {
            let mut queued = self.queued.lock();
            let Some(at) = queued.iter().position(|(r, _)| *r == request) else {
                return;
            };
            queued.swap_remove(at).1
        };
        if let Some(port) = self.port.upgrade() {
            port.cancel_kernel(id);
        }
    }

    fn detached(&self, key: u64) {
        self.send(key, PageRequestCommand::Complete, 0, 0);
    }
}

impl Pager {
    /// A pager with no VMOs.
    pub fn new(hal: Arc<dyn Hal>) -> Arc<Pager> {
        Arc::new(Pager {
            base: KObjectBase::new(),
            hal,
            vmos: Mutex::new(BTreeMap::new()),
        })
    }

    /// Creates a pager-backed VMO of `size` bytes whose requests go to `port`
    /// with `key` (`zx_pager_create_vmo`). `options` may hold `RESIZABLE` and
    /// `TRAP_DIRTY`.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `options` holds `DISCARDABLE`.
    /// - `ZX_ERR_OUT_OF_RANGE`: the size rounded up to pages is too large.
    pub fn create_vmo(
        &self,
        options: VmoOptions,
        port: &Arc<Port>,
        key: u64,
        size: u64,
    ) -> ZxResult<Arc<VmObject>> {
        let provider = Arc::new(PortProvider {
            port: Arc::downgrade(port),
            closed: AtomicBool::new(false),
            queued: Mutex::new(Vec::new()),
        });
        let vmo = VmObject::new_paged(self.hal.clone(), size, options, provider.clone(), key)?;
        let mut vmos = self.vmos.lock();
        if vmos.len() >= 64 && vmos.len().is_power_of_two() {
            vmos.retain(|_, (v, _)| v.strong_count() > 0);
        }
        vmos.insert(vmo.koid(), (Arc::downgrade(&vmo), provider));
        Ok(vmo)
    }

    /// Whether `vmo` was created from this pager.
    pub fn owns(&self, vmo: &VmObject) -> bool {
        self.vmos.lock().contains_key(&vmo.koid())
    }

    /// Checks that `vmo` was created from this pager, for the calls that name
    /// both.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_INVALID_ARGS`: it was not.
    pub fn check_owns(&self, vmo: &VmObject) -> ZxResult {
        if self.owns(vmo) {
            Ok(())
        } else {
            Err(ZX_ERR_INVALID_ARGS)
        }
    }
}

impl Drop for Pager {
    /// The last handle is gone: every VMO still alive is detached, silently.
    fn drop(&mut self) {
        let vmos: Vec<Arc<VmObject>> = self
            .vmos
            .get_mut()
            .values()
            .filter_map(|(vmo, provider)| {
                provider.closed.store(true, Ordering::Release);
                vmo.upgrade()
            })
            .collect();
        for vmo in vmos {
            // Every VMO here is pager-backed, so the detach cannot fail.
            let _ = vmo.detach_pager();
        }
    }
}
