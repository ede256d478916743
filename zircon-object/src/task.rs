//! The minimal task object the syscall layer needs: a process is a handle table
//! and an address space.

use crate::abi::*;
use crate::error::ZxResult;
use crate::object::{Handle, HandleTable, KObjectBase, KernelObject};
use crate::sync::{Mutex, MutexGuard};
use crate::vm::{AddressSpace, VmAddressRegion};
use alloc::sync::Arc;
use kernel_hal::Hal;

/// A process: its handles and its address space with the root region.
///
/// A process's handle table may hold a handle to the process itself, which is a
/// reference cycle: [`Process::exit`] closes every handle and breaks it.
pub struct Process {
    base: KObjectBase,
    aspace: Arc<AddressSpace>,
    root_vmar: Arc<VmAddressRegion>,
    handles: Mutex<HandleTable>,
}

impl KernelObject for Process {
    fn base(&self) -> &KObjectBase {
        &self.base
    }
    fn obj_type(&self) -> zx_obj_type_t {
        ZX_OBJ_TYPE_PROCESS
    }
}

impl Process {
    /// A new process with an empty handle table and a fresh address space from
    /// `hal`.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NO_MEMORY`: the HAL could not create an address space.
    pub fn new(hal: Arc<dyn Hal>) -> ZxResult<Arc<Process>> {
        let aspace = AddressSpace::new(hal)?;
        let root_vmar = aspace.root_vmar();
        Ok(Arc::new(Process {
            base: KObjectBase::new(),
            aspace,
            root_vmar,
            handles: Mutex::new(HandleTable::new()),
        }))
    }

    /// The address space.
    pub fn aspace(&self) -> &Arc<AddressSpace> {
        &self.aspace
    }

    /// The root region's handle object.
    pub fn root_vmar(&self) -> &Arc<VmAddressRegion> {
        &self.root_vmar
    }

    /// The handle table, locked. Never hold it while calling into a VMO or region:
    /// dropping a handle may drop an object.
    pub fn handles(&self) -> MutexGuard<'_, HandleTable> {
        self.handles.lock()
    }

    /// Installs `handle`, returning its value.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NO_MEMORY`: the table is full.
    pub fn add_handle(&self, handle: Handle) -> ZxResult<zx_handle_t> {
        self.handles.lock().add(handle)
    }

    /// The object behind `value` as a `T`, with the handle's rights; see
    /// [`HandleTable::get_object`].
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED`, in that order.
    pub fn get_object<T: KernelObject>(
        &self,
        value: zx_handle_t,
        rights: zx_rights_t,
    ) -> ZxResult<(Arc<T>, zx_rights_t)> {
        self.handles.lock().get_object(value, rights)
    }

    /// Removes the handle `value` and returns it (dropped by the caller, outside the
    /// table's lock).
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`: no such handle.
    pub fn remove_handle(&self, value: zx_handle_t) -> ZxResult<Handle> {
        self.handles.lock().remove(value)
    }

    /// Closes every handle. Mappings stay until the address space goes.
    pub fn exit(&self) {
        let handles = self.handles.lock().clear();
        drop(handles);
    }
}
