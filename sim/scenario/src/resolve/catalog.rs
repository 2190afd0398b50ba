//! `[[device]]` and `[[model]]`: the built-in catalog with what the scenario adds to it (or
//! shadows in it), checked first because every other section looks names up in it.

use tokenfleet_models::catalog::{Catalog, ModelEntry};

use super::checker::Checker;
use crate::spec::scenario::Scenario;

/// The catalog the scenario is resolved against; `None` when the built-in one cannot be read
/// (nothing else can then be checked).
pub(crate) fn catalog(s: &Scenario, c: &mut Checker) -> Option<Catalog> {
    let mut catalog = match Catalog::builtin() {
        Ok(cat) => cat,
        Err(e) => {
            c.add("(built-in catalog)", e.to_string());
            return None;
        }
    };

    // Scenario-defined devices and models.
    for (i, d) in s.devices.iter().enumerate() {
        if let Err(e) = catalog.add_device(d.clone()) {
            c.add(format!("device[{i}]"), e.reason);
        }
    }
    for (i, m) in s.models.iter().enumerate() {
        let path = format!("model[{i}]");
        let text = match (&m.config, &m.hf_config) {
            (Some(file), None) => match c.read(format!("{path}.config"), file) {
                Some(t) => t,
                None => continue,
            },
            (None, Some(table)) => serde_json::to_string(table).unwrap_or_default(),
            _ => {
                c.add(path, "give exactly one of `config` (a config.json path) or `hf_config` (its keys inline)");
                continue;
            }
        };
        let entry = ModelEntry {
            id: m.id.clone(),
            name: m.name.clone().unwrap_or_else(|| m.id.clone()),
            hf: String::new(),
            config: m.config.clone().unwrap_or_else(|| "(inline)".into()),
            price_sheet: None,
            published: None,
        };
        if let Err(e) = catalog.add_model(entry, &text) {
            c.add(path, e.reason);
        }
    }
    Some(catalog)
}
