//! Device objects: resources, which grant the right to use ranges of physical
//! addresses (and other platform ranges) and gate the creation of physical VMOs.

mod resource;

pub use resource::{Resource, ResourceKind};
