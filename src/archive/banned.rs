//! Banned content, amavisd-new style: rules over the chain of names and types from the message
//! root to each object.
//!
//! Not implemented yet: see the archive issue. No content is banned.

use crate::object::Object;
use crate::report::Finding;
use serde::{Deserialize, Serialize};

/// Banned-content rules (`[banned]` in the configuration).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BannedRules {}

impl BannedRules {
    /// Checks every object, appending a `Banned` finding for each one a rule bans.
    pub fn check(&self, _objects: &[Object<'_>], _out: &mut Vec<Finding>) {}
}
