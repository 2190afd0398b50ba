//! Test helpers shared by the distribution tests.

use serde::Deserialize;

use super::spec::DistSpec;
use crate::units::Unit;

/// A spec read from inline TOML, as a scenario field would hold it.
pub(super) fn spec<U: Unit>(s: &str) -> DistSpec<U> {
    #[derive(Deserialize)]
    #[serde(bound = "")]
    struct W<U: Unit> {
        d: DistSpec<U>,
    }
    toml::from_str::<W<U>>(&format!("d = {s}")).unwrap().d
}
