//! Resources: a kind, a range of that kind's address space, and the rule that a
//! resource can only hand out what it holds.

use crate::abi::*;
use crate::error::ZxResult;
use crate::object::{KObjectBase, KernelObject, KernelObjectExt};
use alloc::sync::Arc;

/// What a resource grants: `ZX_RSRC_KIND_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceKind {
    /// Physical addresses of device memory (`ZX_RSRC_KIND_MMIO`).
    Mmio,
    /// Interrupt vectors (`ZX_RSRC_KIND_IRQ`).
    Irq,
    /// x86 I/O ports (`ZX_RSRC_KIND_IOPORT`).
    Ioport,
    /// Everything (`ZX_RSRC_KIND_ROOT`); has no range.
    Root,
    /// Secure monitor calls (`ZX_RSRC_KIND_SMC`).
    Smc,
    /// Kernel facilities, one per `ZX_RSRC_SYSTEM_*_BASE` (`ZX_RSRC_KIND_SYSTEM`).
    System,
}

impl ResourceKind {
    /// The kind named by the low 16 bits of a `zx_resource_create` option word.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_INVALID_ARGS`: no such kind.
    pub fn from_raw(raw: u32) -> ZxResult<ResourceKind> {
        Ok(match raw {
            ZX_RSRC_KIND_MMIO => ResourceKind::Mmio,
            ZX_RSRC_KIND_IRQ => ResourceKind::Irq,
            ZX_RSRC_KIND_IOPORT => ResourceKind::Ioport,
            ZX_RSRC_KIND_ROOT => ResourceKind::Root,
            ZX_RSRC_KIND_SMC => ResourceKind::Smc,
            ZX_RSRC_KIND_SYSTEM => ResourceKind::System,
            _ => return Err(ZX_ERR_INVALID_ARGS),
        })
    }

    /// The `ZX_RSRC_KIND_*` value.
    pub fn raw(self) -> u32 {
        match self {
            ResourceKind::Mmio => ZX_RSRC_KIND_MMIO,
            ResourceKind::Irq => ZX_RSRC_KIND_IRQ,
            ResourceKind::Ioport => ZX_RSRC_KIND_IOPORT,
            ResourceKind::Root => ZX_RSRC_KIND_ROOT,
            ResourceKind::Smc => ZX_RSRC_KIND_SMC,
            ResourceKind::System => ZX_RSRC_KIND_SYSTEM,
        }
    }
}

/// A resource: the right to use `[base, base + size)` of its kind's address space
/// (the root resource: everything). Immutable once made.
pub struct Resource {
    base_obj: KObjectBase,
    kind: ResourceKind,
    flags: u32,
    base: u64,
    size: usize,
}

impl KernelObject for Resource {
    fn base(&self) -> &KObjectBase {
        &self.base_obj
    }
    fn obj_type(&self) -> zx_obj_type_t {
        ZX_OBJ_TYPE_RESOURCE
    }
}

impl Resource {
    /// The root resource, from which every other is made. An embedder gives a
    /// handle to it only to the processes it trusts with the machine.
    pub fn new_root() -> Arc<Resource> {
        let root = Resource {
            base_obj: KObjectBase::new(),
            kind: ResourceKind::Root,
            flags: 0,
            base: 0,
            size: 0,
        };
        root.set_name(b"root");
        Arc::new(root)
    }

    /// Creates a resource of `kind` over `[base, base + size)` named `name`
    /// (truncated to 31 bytes), which this resource must cover: the root resource
    /// covers everything, any other only its own kind and range. A root resource is
    /// made with base and size 0.
    ///
    /// # Errors
    ///
    /// - `ZX_ERR_INVALID_ARGS`: `flags` other than `ZX_RSRC_FLAG_EXCLUSIVE`; a
    ///   ranged kind with size 0 or an overflowing range; a root kind with a range.
    /// - `ZX_ERR_NOT_SUPPORTED`: `ZX_RSRC_FLAG_EXCLUSIVE` (exclusive reservations
    ///   are not built).
    /// - `ZX_ERR_ACCESS_DENIED`: this resource is not the root and is of another
    ///   kind, or its range does not cover the new one.
    pub fn create_child(
        &self,
        kind: ResourceKind,
        flags: u32,
        base: u64,
        size: usize,
        name: &[u8],
    ) -> ZxResult<Arc<Resource>> {
        if flags & !ZX_RSRC_FLAG_EXCLUSIVE != 0 {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if kind == ResourceKind::Root {
            if base != 0 || size != 0 {
                return Err(ZX_ERR_INVALID_ARGS);
            }
        } else if size == 0 || base.checked_add(size as u64).is_none() {
            return Err(ZX_ERR_INVALID_ARGS);
        }
        if !self.covers(kind, base, size as u64) {
            return Err(ZX_ERR_ACCESS_DENIED);
        }
        if flags & ZX_RSRC_FLAG_EXCLUSIVE != 0 {
            return Err(ZX_ERR_NOT_SUPPORTED);
        }
        let child = Resource {
            base_obj: KObjectBase::new(),
            kind,
            flags,
            base,
            size,
        };
        child.set_name(name);
        Ok(Arc::new(child))
    }

    /// Whether this resource grants `[base, base + size)` of `kind`.
    pub fn covers(&self, kind: ResourceKind, base: u64, size: u64) -> bool {
        if self.kind == ResourceKind::Root {
            return true;
        }
        let (Some(end), Some(own_end)) = (
            base.checked_add(size),
            self.base.checked_add(self.size as u64),
        ) else {
            return false;
        };
        self.kind == kind && base >= self.base && end <= own_end
    }

    /// Checks that this resource allows a physical VMO over `[paddr, paddr + size)`.
    ///
    /// # Errors
    ///
    /// `ZX_ERR_ACCESS_DENIED`: it is neither the root nor an MMIO resource covering
    /// the range.
    pub fn check_mmio(&self, paddr: u64, size: u64) -> ZxResult {
        if self.covers(ResourceKind::Mmio, paddr, size) {
            Ok(())
        } else {
            Err(ZX_ERR_ACCESS_DENIED)
        }
    }

    /// Whether this resource grants the system facility at `base` (a
    /// `ZX_RSRC_SYSTEM_*_BASE`), as the VMEX resource grants making VMOs executable.
    pub fn grants_system(&self, base: u64) -> bool {
        self.covers(ResourceKind::System, base, 1)
    }

    /// The kind.
    pub fn kind(&self) -> ResourceKind {
        self.kind
    }

    /// The `ZX_RSRC_FLAG_*` bits it was made with.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// The start of its range (0 for the root).
    pub fn range_base(&self) -> u64 {
        self.base
    }

    /// The size of its range (0 for the root).
    pub fn range_size(&self) -> usize {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_takes_only_what_its_parent_covers() {
        let root = Resource::new_root();
        let mmio = root
            .create_child(ResourceKind::Mmio, 0, 0x1000, 0x4000, b"dev")
            .unwrap();
        assert_eq!(mmio.name().as_bytes(), b"dev");
        assert!(mmio
            .create_child(ResourceKind::Mmio, 0, 0x2000, 0x1000, b"")
            .is_ok());
        for (kind, base, size) in [
            (ResourceKind::Mmio, 0x0, 0x1000),
            (ResourceKind::Mmio, 0x4000, 0x2000),
            (ResourceKind::Irq, 0x1000, 0x1000),
        ] {
            assert_eq!(
                mmio.create_child(kind, 0, base, size, b"").err(),
                Some(ZX_ERR_ACCESS_DENIED)
            );
        }
        assert_eq!(mmio.check_mmio(0x1000, 0x4000), Ok(()));
        assert_eq!(mmio.check_mmio(0x1000, 0x5000), Err(ZX_ERR_ACCESS_DENIED));
        assert_eq!(
            root.create_child(ResourceKind::Mmio, 0, u64::MAX, 2, b"")
                .err(),
            Some(ZX_ERR_INVALID_ARGS)
        );
    }
}
