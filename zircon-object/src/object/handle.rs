//! Handles (an object plus rights) and the per-process handle table.

use super::KernelObject;
use crate::abi::*;
use crate::error::ZxResult;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;

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
pub const MAX_HANDLES: usize = 1 << INDEX_BITS;

/// Bits of a handle value that name its slot in the table, above the low two.
const INDEX_BITS: u32 = 18;

/// Bits of a handle value above the index: the slot's generation. Values stay
/// below 2^31, so they are positive as `i32` too.
const GENERATION_BITS: u32 = 31 - 2 - INDEX_BITS;

/// How many free slots wait before the longest-free one is used again: below
/// that, the table grows instead.
const REUSE_AFTER: usize = 16;

/// A process's handles, by value.
///
/// Values are never 0 and always have the low two bits set (`value & 3 == 3`), as
/// Zircon's are. Above them, a value holds the index of its slot in the table and
/// the slot's generation, which moves on each time a handle leaves the slot; so
/// finding a handle by value is an index and a compare, and installing or removing
/// one allocates nothing once the table has grown. A closed value is not handed out
/// again soon: a freed slot waits until more than `REUSE_AFTER` (16) slots are free
/// and it is the longest-free of them, and its value comes back only after
/// 2^11 generations, so after at least 16 x 2^11 closes.
///
/// A duplicate shares its original's reference to the object, counted in the
/// table (under the table's lock), so duplicating and closing never touch the
/// object's own (atomic) reference count; the table lets go of the object when
/// the last handle sharing the reference goes.
pub struct HandleTable {
    /// Slot `i` holds the handle whose value has index `i`, if any, and that
    /// value (the value its next handle gets, when empty).
    slots: Vec<Slot>,
    /// The empty slots, the longest empty first.
    free: VecDeque<u32>,
    /// How many slots hold a handle.
    len: usize,
    /// The references to objects the handles share, by index.
    shared: Vec<Shared>,
    /// The unused entries of `shared`.
    unused: Vec<u32>,
}

/// One place in a [`HandleTable`].
struct Slot {
    value: zx_handle_t,
    /// The handle: its entry in `shared` and its rights.
    handle: Option<(u32, zx_rights_t)>,
}

/// A reference to an object, shared by a handle and its duplicates.
struct Shared {
    object: Option<Arc<dyn KernelObject>>,
    /// How many handles share it.
    handles: usize,
}

/// The slot index in handle value `value`.
fn slot_index(value: zx_handle_t) -> usize {
    ((value >> 2) & ((1 << INDEX_BITS) - 1)) as usize
}

/// `value` with its slot's generation moved on.
fn next_generation(value: zx_handle_t) -> zx_handle_t {
    let shift = 2 + INDEX_BITS;
    let generation = ((value >> shift) + 1) & ((1 << GENERATION_BITS) - 1);
    (generation << shift) | (value & ((1 << shift) - 1))
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
            slots: Vec::new(),
            free: VecDeque::new(),
            len: 0,
            shared: Vec::new(),
            unused: Vec::new(),
        }
    }

    /// Installs `handle` and returns its value.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_NO_MEMORY`: the table holds [`MAX_HANDLES`] handles.
    pub fn add(&mut self, handle: Handle) -> ZxResult<zx_handle_t> {
        if self.len >= MAX_HANDLES {
            return Err(ZX_ERR_NO_MEMORY);
        }
        let entry = Shared {
            object: Some(handle.object),
            handles: 0,
        };
        let at = match self.unused.pop() {
            Some(at) => {
                self.shared[at as usize] = entry;
                at
            }
            None => {
                self.shared.push(entry);
                (self.shared.len() - 1) as u32
            }
        };
        Ok(self.install(at, handle.rights))
    }

    /// Puts a handle sharing entry `at` with `rights` in a slot, and returns its
    /// value. The caller has checked that the table is not full.
    fn install(&mut self, at: u32, rights: zx_rights_t) -> zx_handle_t {
        self.shared[at as usize].handles += 1;
        let reuse = self.free.len() > REUSE_AFTER || self.slots.len() >= MAX_HANDLES;
        let index = match self.free.pop_front() {
            Some(index) if reuse => index as usize,
            other => {
                if let Some(index) = other {
                    self.free.push_front(index);
                }
                self.slots.push(Slot {
                    value: ((self.slots.len() as u32) << 2) | 3,
                    handle: None,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.handle = Some((at, rights));
        self.len += 1;
        slot.value
    }

    /// The live handle with value `value`: its entry in `shared` and its rights.
    fn find(&self, value: zx_handle_t) -> ZxResult<(u32, zx_rights_t)> {
        match self.slots.get(slot_index(value)) {
            Some(Slot {
                value: v,
                handle: Some(handle),
            }) if *v == value => Ok(*handle),
            _ => Err(ZX_ERR_BAD_HANDLE),
        }
    }

    /// The object shared through entry `at`.
    fn object(&self, at: u32) -> ZxResult<&Arc<dyn KernelObject>> {
        self.shared[at as usize]
            .object
            .as_ref()
            .ok_or(ZX_ERR_INTERNAL)
    }

    /// The handle with value `value`.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`: no live handle has that value.
    pub fn get(&self, value: zx_handle_t) -> ZxResult<Handle> {
        let (at, rights) = self.find(value)?;
        Ok(Handle::new(self.object(at)?.clone(), rights))
    }

    /// Installs a second handle to the object behind `value`, with the rights
    /// `derive` makes of the original's, and returns its value.
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
        let (at, rights) = self.find(value)?;
        let rights = derive(rights)?;
        if self.len >= MAX_HANDLES {
            return Err(ZX_ERR_NO_MEMORY);
        }
        Ok(self.install(at, rights))
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
        let (at, held) = self.find(value)?;
        let object = self
            .object(at)?
            .clone()
            .downcast::<T>()
            .ok_or(ZX_ERR_WRONG_TYPE)?;
        if held & rights != rights {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        Ok((object, held))
    }

    /// Takes the handle `value` out of its slot, returning its entry in `shared`
    /// (still counting it) and its rights.
    fn take(&mut self, value: zx_handle_t) -> ZxResult<(u32, zx_rights_t)> {
        let index = slot_index(value);
        let handle = match self.slots.get_mut(index) {
            Some(slot) if slot.value == value => slot.handle.take(),
            _ => None,
        }
        .ok_or(ZX_ERR_BAD_HANDLE)?;
        self.slots[index].value = next_generation(value);
        self.free.push_back(index as u32);
        self.len -= 1;
        Ok(handle)
    }

    /// Counts one handle fewer sharing entry `at`; returns the reference if that
    /// was the last one.
    fn release(&mut self, at: u32) -> Option<Arc<dyn KernelObject>> {
        let entry = &mut self.shared[at as usize];
        entry.handles -= 1;
        if entry.handles > 0 {
            return None;
        }
        self.unused.push(at);
        entry.object.take()
    }

    /// Removes and returns the handle with value `value`.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`: no live handle has that value.
    pub fn remove(&mut self, value: zx_handle_t) -> ZxResult<Handle> {
        let (at, rights) = self.take(value)?;
        let object = match self.release(at) {
            Some(object) => object,
            None => self.object(at)?.clone(),
        };
        Ok(Handle::new(object, rights))
    }

    /// Removes the handle with value `value`, and returns the table's reference
    /// to its object if no other handle here shares it (for the caller to drop
    /// outside the table's lock).
    ///
    /// # Errors
    ///
    /// `ZX_ERR_BAD_HANDLE`: no live handle has that value.
    pub fn close(&mut self, value: zx_handle_t) -> ZxResult<Option<Arc<dyn KernelObject>>> {
        let (at, _) = self.take(value)?;
        Ok(self.release(at))
    }

    /// How many handles the table holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every handle with its value, in no particular order.
    pub fn handles(&self) -> impl Iterator<Item = (zx_handle_t, Handle)> + '_ {
        self.slots.iter().filter_map(|slot| {
            let (at, rights) = slot.handle?;
            let object = self.object(at).ok()?.clone();
            Some((slot.value, Handle::new(object, rights)))
        })
    }

    /// Removes every handle, returning them (so they can be dropped outside a lock).
    pub fn clear(&mut self) -> Vec<Handle> {
        let values: Vec<zx_handle_t> = self.handles().map(|(value, _)| value).collect();
        values
            .into_iter()
            .filter_map(|value| self.remove(value).ok())
            .collect()
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

    #[test]
    fn a_closed_value_is_not_handed_out_again_for_32768_closes() {
        let mut table = HandleTable::new();
        let original = table.add(Handle::new(dummy(), ZX_RIGHT_READ)).unwrap();
        let mut seen = alloc::collections::BTreeSet::new();
        // Under Miri, a few rounds of slot reuse (every round is minutes there).
        let closes = if cfg!(miri) {
            4 * REUSE_AFTER
        } else {
            REUSE_AFTER << GENERATION_BITS
        };
        for _ in 0..closes {
            let dup = table.duplicate(original, Ok).unwrap();
            assert_eq!(dup & 3, 3);
            assert!(dup < 1 << 31, "positive as an i32");
            assert!(seen.insert(dup), "value {dup:#x} handed out twice");
            table.close(dup).unwrap();
            assert_eq!(table.get(dup).err(), Some(ZX_ERR_BAD_HANDLE));
        }
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn a_duplicate_keeps_the_object_until_the_last_handle_to_it_goes() {
        let mut table = HandleTable::new();
        let object = dummy();
        let weak = Arc::downgrade(&object);
        let a = table
            .add(Handle::new(object, ZX_RIGHT_READ | ZX_RIGHT_WRITE))
            .unwrap();
        let b = table.duplicate(a, |_| Ok(ZX_RIGHT_READ)).unwrap();
        assert_eq!(table.get(b).unwrap().rights, ZX_RIGHT_READ);
        assert_eq!(
            table.duplicate(a, |_| Err(ZX_ERR_INVALID_ARGS)).err(),
            Some(ZX_ERR_INVALID_ARGS)
        );
        assert_eq!(table.len(), 2);
        assert!(table.close(a).unwrap().is_none(), "b still refers to it");
        assert!(weak.upgrade().is_some());
        assert_eq!(
            table.get_object::<Dummy>(b, ZX_RIGHT_READ).unwrap().1,
            ZX_RIGHT_READ
        );
        let last = table.close(b).unwrap();
        assert!(last.is_some());
        drop(last);
        assert!(weak.upgrade().is_none(), "the table let go of the object");
        assert!(table.is_empty());
        // A removed handle carries its own reference, whether or not others share.
        let c = table.add(Handle::new(dummy(), ZX_RIGHT_READ)).unwrap();
        let d = table.duplicate(c, Ok).unwrap();
        let removed = table.remove(c).unwrap();
        assert_eq!(removed.object.koid(), table.get(d).unwrap().object.koid());
        assert_eq!(table.clear().len(), 1);
        assert_eq!(table.handles().count(), 0);
    }
}
