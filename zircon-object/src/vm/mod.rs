//! Virtual memory: VMOs, mappings and the VMAR tree.

mod child;
pub mod mapping;
pub mod pager;
pub mod reclaim;
mod request;
mod shootdown;
pub mod vmar;
pub mod vmo;

pub use mapping::VmMapping;
pub use pager::{DirtyState, PageProvider, PageRequest, PageRequestKind};
pub use reclaim::{Reclaimer, ReclaimingHal};
pub use request::{AllocateRequest, MapRequest, Placement, VmPerms, VmarOp};
pub use vmar::{AddressSpace, MapsEntry, MapsEntryKind, VmAddressRegion};
pub use vmo::{EvictionHint, LockTaken, PageState, VmObject, VmoOptions, PAGER_FAILURE_STATUSES};

#[cfg(any(test, feature = "guest-tests"))]
pub(crate) mod child_tests;
#[cfg(any(test, feature = "guest-tests"))]
pub(crate) mod tests;
