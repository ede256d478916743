//! Kernel objects, koids, handles and handle tables.

mod handle;

pub use handle::{Handle, HandleTable, MAX_HANDLES};

use crate::abi::*;
use crate::sync::Mutex;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};

/// Hands out koids: unique for the life of the program, never 0, never reused.
/// Koids are names, not state any object's correctness depends on, so one counter
/// shared by every machine in the program is fine.
static NEXT_KOID: AtomicU64 = AtomicU64::new(1024);

/// A fresh koid.
pub fn new_koid() -> zx_koid_t {
    NEXT_KOID.fetch_add(1, Ordering::Relaxed)
}

/// A kernel object name: at most `ZX_MAX_NAME_LEN - 1` bytes, NUL-padded.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Name([u8; ZX_MAX_NAME_LEN]);

impl Name {
    /// A name from `bytes`, truncated to `ZX_MAX_NAME_LEN - 1` bytes and at the first
    /// NUL, as `ZX_PROP_NAME` does.
    pub fn new(bytes: &[u8]) -> Name {
        let mut name = [0u8; ZX_MAX_NAME_LEN];
        let len = bytes
            .iter()
            .take(ZX_MAX_NAME_LEN - 1)
            .position(|&b| b == 0)
            .unwrap_or_else(|| bytes.len().min(ZX_MAX_NAME_LEN - 1));
        name[..len].copy_from_slice(&bytes[..len]);
        Name(name)
    }

    /// The 32 NUL-padded bytes, as `zx_info_*` records and `ZX_PROP_NAME` carry them.
    pub fn bytes(&self) -> [u8; ZX_MAX_NAME_LEN] {
        self.0
    }

    /// The name without its padding.
    pub fn as_bytes(&self) -> &[u8] {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(self.0.len());
        &self.0[..len]
    }
}

impl core::fmt::Debug for Name {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{:?}",
            core::str::from_utf8(self.as_bytes()).unwrap_or("<bytes>")
        )
    }
}

/// What every kernel object has: a koid and a name.
#[derive(Debug)]
pub struct KObjectBase {
    koid: zx_koid_t,
    name: Mutex<Name>,
}

impl KObjectBase {
    /// A base with a fresh koid and an empty name.
    pub fn new() -> KObjectBase {
        KObjectBase {
            koid: new_koid(),
            name: Mutex::new(Name::default()),
        }
    }
}

impl Default for KObjectBase {
    fn default() -> Self {
        Self::new()
    }
}

/// A kernel object that handles can refer to.
pub trait KernelObject: Any + Send + Sync {
    /// The common part: koid and name.
    fn base(&self) -> &KObjectBase;

    /// `ZX_OBJ_TYPE_*` of this object.
    fn obj_type(&self) -> zx_obj_type_t;

    /// The koid of a related object (`zx_info_handle_basic_t.related_koid`); 0 for
    /// the objects this crate has.
    fn related_koid(&self) -> zx_koid_t {
        0
    }

    /// Whether `ZX_PROP_NAME` applies to this type of object.
    fn has_name(&self) -> bool {
        true
    }
}

impl dyn KernelObject {
    /// The object's koid.
    pub fn koid(&self) -> zx_koid_t {
        self.base().koid
    }

    /// The object's name.
    pub fn name(&self) -> Name {
        *self.base().name.lock()
    }

    /// Replaces the object's name (see [`Name::new`] for truncation).
    pub fn set_name(&self, bytes: &[u8]) {
        *self.base().name.lock() = Name::new(bytes);
    }

    /// The object as a `T`, if it is one.
    pub fn downcast<T: KernelObject>(self: Arc<Self>) -> Option<Arc<T>> {
        let any: Arc<dyn Any + Send + Sync> = self;
        any.downcast::<T>().ok()
    }
}

/// Koid and name accessors for concrete object types.
pub trait KernelObjectExt {
    /// The object's koid.
    fn koid(&self) -> zx_koid_t;
    /// The object's name.
    fn name(&self) -> Name;
    /// Replaces the object's name.
    fn set_name(&self, bytes: &[u8]);
}

impl<T: KernelObject> KernelObjectExt for T {
    fn koid(&self) -> zx_koid_t {
        self.base().koid
    }
    fn name(&self) -> Name {
        *self.base().name.lock()
    }
    fn set_name(&self, bytes: &[u8]) {
        *self.base().name.lock() = Name::new(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_truncate_and_stop_at_nul() {
        let long = [b'a'; 40];
        assert_eq!(Name::new(&long).as_bytes().len(), ZX_MAX_NAME_LEN - 1);
        assert_eq!(Name::new(b"ab\0cd").as_bytes(), b"ab");
        assert_eq!(Name::new(b"").as_bytes(), b"");
        assert_eq!(Name::new(b"vmo").bytes()[3..], [0u8; 29]);
    }

    #[test]
    fn koids_are_unique_and_never_zero() {
        let a = new_koid();
        let b = new_koid();
        assert_ne!(a, 0);
        assert_ne!(a, b);
    }
}
