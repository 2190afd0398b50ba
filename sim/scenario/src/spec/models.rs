//! `[[model]]`: models a scenario adds to (or shadows in) the built-in catalog. Devices
//! (`[[device]]`) are written as the catalog's own `DeviceSpec`.

use serde::{Deserialize, Serialize};

/// A model added by the scenario: a `config.json` file or the same keys inline.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Path to a Hugging Face config.json, relative to the scenario file.
    #[serde(default)]
    pub config: Option<String>,
    /// The config.json keys inline.
    #[serde(default)]
    pub hf_config: Option<toml::Table>,
}
