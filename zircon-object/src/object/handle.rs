//! Handles (an object plus rights) and the per-process handle table.

use super::KernelObject;
use crate::abi::*;
use crate::error::ZxResult;
use alloc::sync::Arc;
use alloc::vec::Vec;
use hashbrown::hash_map::Entry;
use hashbrown::HashMap;

/// A reference to a kernel object together with the rights it grants.
#[derive(Clone)]
pub struct Handle {
    /// The object.
    pub object: Arc<dyn KernelObject>,
    /// What the holder may do with it (`ZX_RIGHT_*` bits).
    pub rights: zx_rights_t,
}

impl Handle {
    /// A handle to `object` with `rights`.
    pub fn new(object: Arc<dyn KernelObject>, rights: zx_rights_t) -> Handle {
        Handle { object, rights }
    }
}

/// The most handles one table holds; past it, adding gives `ZX_ERR_NO_MEMORY`.
pub const MAX_HANDLES: usize = 1 << 18;

/// A process's handles, by value.
///
/// Values are never 0 and always have the low two bits set (`value & 3 == 3`), as
/// Zircon's are. They come from a counter, so a closed value is not handed out again
/// until the counter wraps (after 2^29 allocations; values stay below 2^31, so they
/// are positive as `i32` too), and then only if it is free.
pub struct HandleTable {
    handles: HashMap<zx_handle_t, Handle>,
    next: u32,
}

impl Default for HandleTable {
    fn default() -> Self {
        Self::new()
    }
}

impl HandleTable {
    /// An empty table.
    pub fn new() -> HandleTable {
        HandleTable {
            handles: HashMap::new(),
            next: 1,
        }
    }

    /// Installs `handle` and returns its value.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NO_MEMORY`: the table holds [`MAX_HANDLES`] handles.
    pub fn add(&mut self, handle: Handle) -> ZxResult<zx_handle_t> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(ZX_ERR_NO_MEMORY);
        }
        loop {
            let value = (self.next << 2) | 3;
            self.next = (self.next + 1) & ((1 << 29) - 1);
            if self.next == 0 {
                self.next = 1;
            }
            if let Entry::Vacant(slot) = self.handles.entry(value) {
                slot.insert(handle);
                return Ok(value);
            }
        }
    }

    /// The handle with value `value`.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`: no live handle has that value.
    pub fn get(&self, value: zx_handle_t) -> ZxResult<Handle> {
        self.handles.get(&value).cloned().ok_or(ZX_ERR_BAD_HANDLE)
    }

    /// Installs a second handle to the object behind `value`, with the rights
    /// `derive` makes of the original's, and returns its value: one lookup and
    /// one insert, the object's reference count raised once.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE` (no live handle has that value), whatever `derive`
    /// returns, then `ZX_ERR_NO_MEMORY` (the table is full); the table is
    /// unchanged on every error.
    pub fn duplicate(
        &mut self,
        value: zx_handle_t,
        derive: impl FnOnce(zx_rights_t) -> ZxResult<zx_rights_t>,
    ) -> ZxResult<zx_handle_t> {
        let original = self.handles.get(&value).ok_or(ZX_ERR_BAD_HANDLE)?;
        let rights = derive(original.rights)?;
        let copy = Handle::new(original.object.clone(), rights);
        self.add(copy)
    }

    /// The object behind `value` as a `T`, checked in Zircon's order: the handle
    /// exists, the object is a `T`, the handle holds every right in `rights`.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`, `ZX_ERR_WRONG_TYPE`, `ZX_ERR_ACCESS_DENIED`, in that order.
    pub fn get_object<T: KernelObject>(
        &self,
        value: zx_handle_t,
        rights: zx_rights_t,
    ) -> ZxResult<(Arc<T>, zx_rights_t)> {
        let handle = self.handles.get(&value).ok_or(ZX_ERR_BAD_HANDLE)?;
        let object = handle
            .object
            .clone()
            .downcast::<T>()
            .ok_or(ZX_ERR_WRONG_TYPE)?;
        if handle.rights & rights != rights {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        Ok((object, handle.rights))
    }

    /// Removes and returns the handle with value `value`.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`: no live handle has that value.
    pub fn remove(&mut self, value: zx_handle_t) -> ZxResult<Handle> {
        self.handles.remove(&value).ok_or(ZX_ERR_BAD_HANDLE)
    }

    /// How many handles the table holds.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Every handle, in no particular order.
    pub fn handles(&self) -> impl Iterator<Item = (&zx_handle_t, &Handle)> {
        self.handles.iter()
    }

    /// Removes every handle, returning them (so they can be dropped outside a lock).
    pub fn clear(&mut self) -> Vec<Handle> {
        self.handles.drain().map(|(_, h)| h).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{KObjectBase, KernelObject};

    struct Dummy(KObjectBase);
    impl KernelObject for Dummy {
        fn base(&self) -> &KObjectBase {
            &self.0
        }
        fn obj_type(&self) -> zx_obj_type_t {
            ZX_OBJ_TYPE_EVENT
        }
    }

    fn dummy() -> Arc<dyn KernelObject> {
        Arc::new(Dummy(KObjectBase::new()))
    }

    #[test]
    fn values_have_low_bits_set_and_are_not_reused_at_once() {
        let mut table = HandleTable::new();
        let a = table.add(Handle::new(dummy(), ZX_RIGHT_READ)).unwrap();
        assert_eq!(a & 3, 3);
        assert_ne!(a, 0);
        table.remove(a).unwrap();
        let b = table.add(Handle::new(dummy(), ZX_RIGHT_READ)).unwrap();
        assert_ne!(a, b);
        assert_eq!(table.remove(a).err(), Some(ZX_ERR_BAD_HANDLE));
    }

    #[test]
    fn get_object_checks_handle_then_type_then_rights() {
        let mut table = HandleTable::new();
        let h = table.add(Handle::new(dummy(), ZX_RIGHT_READ)).unwrap();
        assert_eq!(
            table.get_object::<Dummy>(0, 0).err(),
            Some(ZX_ERR_BAD_HANDLE)
        );
        assert!(table.get_object::<Dummy>(h, ZX_RIGHT_READ).is_ok());
        assert_eq!(
            table.get_object::<Dummy>(h, ZX_RIGHT_WRITE).err(),
            Some(ZX_ERR_ACCESS_DENIED)
        );
        struct Other(KObjectBase);
        impl KernelObject for Other {
            fn base(&self) -> &KObjectBase {
                &self.0
            }
            fn obj_type(&self) -> zx_obj_type_t {
                ZX_OBJ_TYPE_VMO
            }
        }
        // A wrong type wins over missing rights.
        assert_eq!(
            table.get_object::<Other>(h, ZX_RIGHT_WRITE).err(),
            Some(ZX_ERR_WRONG_TYPE)
        );
    }
}
