//! IOMMUs and the device views of memory they give: the dummy IOMMU, whose device
//! addresses are the physical addresses.

use crate::abi::*;
use crate::error::ZxResult;
use crate::object::{KObjectBase, KernelObject};
use alloc::sync::Arc;

/// An IOMMU. Only the dummy kind exists: it translates nothing, so a device
/// address is the physical address and every range is reachable.
pub struct Iommu {
    base: KObjectBase,
}

impl KernelObject for Iommu {
    fn base(&self) -> &KObjectBase {
        &self.base
    }
    fn obj_type(&self) -> zx_obj_type_t {
        ZX_OBJ_TYPE_IOMMU
    }
    fn has_name(&self) -> bool {
        false
    }
}

impl Iommu {
    /// Creates an IOMMU of `kind` (`ZX_IOMMU_TYPE_*`) from its descriptor.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_NOT_SUPPORTED`: a kind other than `ZX_IOMMU_TYPE_DUMMY`.
    /// - `ZX_ERR_INVALID_ARGS`: a dummy descriptor that is not exactly
    ///   `zx_iommu_desc_dummy_t` long.
    pub fn new(kind: u32, desc: &[u8]) -> ZxResult<Arc<Iommu>> {
        if kind != ZX_IOMMU_TYPE_DUMMY {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        if desc.len() != core::mem::size_of::<zx_iommu_desc_dummy_t>() {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        Ok(Arc::new(Iommu {
            base: KObjectBase::new(),
        }))
    }
}
