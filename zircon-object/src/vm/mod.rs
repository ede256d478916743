//! Virtual memory: VMOs, mappings and the VMAR tree.

mod child;
pub mod mapping;
pub mod vmar;
pub mod vmo;

pub use mapping::VmMapping;
pub use vmar::{AddressSpace, MapsEntry, MapsEntryKind, VmAddressRegion};
pub use vmo::VmObject;

#[cfg(any(test, feature = "guest-tests"))]
pub(crate) mod child_tests;
#[cfg(any(test, feature = "guest-tests"))]
pub(crate) mod tests;
