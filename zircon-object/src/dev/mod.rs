//! Device objects: resources, which grant the right to use ranges of physical
//! addresses (and other platform ranges) and gate the creation of physical VMOs;
//! IOMMUs, BTIs and pinned memory tokens, through which devices reach memory.

mod bti;
mod iommu;
mod resource;

pub use bti::{Bti, PinAddrs, Pmt};
pub use iommu::Iommu;
pub use resource::{Resource, ResourceKind};
