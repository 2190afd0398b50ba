//! The built-in catalog: devices, models and price sheets compiled into the binary.
//!
//! The data lives in `models/catalog/` as TOML and the owners' `config.json` files, each figure
//! with its source and date, and is included with `include_str!` so that the binary is
//! self-contained. Scenarios add their own devices, models and sheets on top
//! ([`Catalog::add_device`] and friends); an id defined by a scenario shadows the built-in one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::hardware::{DeviceSpec, Hardware, Sourced};
use crate::llm::ModelArch;
use crate::prices::{PriceSheet, PriceSheetSpec};
use crate::units::{Bytes, Tokens, UsdPerKwh};

const HARDWARE_TOML: &str = include_str!("../catalog/hardware.toml");
const PRICES_TOML: &str = include_str!("../catalog/prices.toml");
const MODELS_TOML: &str = include_str!("../catalog/models.toml");
const ELECTRICITY_TOML: &str = include_str!("../catalog/electricity.toml");

macro_rules! configs {
    ($($f:literal),* $(,)?) => {
        &[$(($f, include_str!(concat!("../catalog/models/", $f)))),*]
    };
}
const CONFIGS: &[(&str, &str)] = configs!(
    "MiniMaxAI--MiniMax-M2.5_config.json",
    "Qwen--Qwen3-235B-A22B_config.json",
    "Qwen--Qwen3-32B_config.json",
    "Qwen--Qwen3.5-397B-A17B_config.json",
    "Qwen--Qwen3-Coder-480B-A35B-Instruct_config.json",
    "deepseek-ai--DeepSeek-V3.2_config.json",
    "deepseek-ai--DeepSeek-V3_config.json",
    "meta-llama--Llama-2-70b-hf_config.json",
    "meta-llama--Meta-Llama-3.1-405B_config.json",
    "meta-llama--Meta-Llama-3.1-70B_config.json",
    "meta-llama--Meta-Llama-3.1-8B_config.json",
    "moonshotai--Kimi-K2-Instruct_config.json",
    "moonshotai--Kimi-K2.5_config.json",
    "nvidia--GLM-5-NVFP4_config.json",
    "openai--gpt-oss-120b_config.json",
);

/// The published figures of a model, for validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    pub total_params: Tokens,
    pub active_params: Tokens,
    /// "all" (embedding and output head counted in active parameters), "layers" (neither
    /// counted) or "head" (the output head counted, the input embedding not: OpenAI's).
    pub active_convention: String,
    #[serde(default)]
    pub kv_bytes_per_token: Option<Bytes>,
    pub source: String,
    pub date: String,
}

/// A model entry of the catalog index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub hf: String,
    pub config: String,
    #[serde(default)]
    pub price_sheet: Option<String>,
    #[serde(default)]
    pub published: Option<Published>,
}

/// A model with its architecture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    pub id: String,
    pub name: String,
    pub hf: String,
    pub price_sheet: Option<String>,
    pub published: Option<Published>,
    pub arch: ModelArch,
}

/// An error in the catalog data (built-in or added by a scenario).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct CatalogError {
    pub what: String,
    pub reason: String,
}

/// An electricity region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub price: Sourced<UsdPerKwh>,
}

/// Devices, models, price sheets and electricity regions by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub devices: BTreeMap<String, (DeviceSpec, Hardware)>,
    /// Median idle/TDP ratio of the built-in devices with a measured idle power; estimates the
    /// idle power of devices without one.
    pub idle_fraction: f64,
    pub models: BTreeMap<String, Model>,
    pub sheets: BTreeMap<String, (PriceSheetSpec, PriceSheet)>,
    pub regions: BTreeMap<String, Region>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HardwareFile {
    device: Vec<DeviceSpec>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PricesFile {
    sheet: Vec<PriceSheetSpec>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ElectricityFile {
    region: Vec<Region>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelsFile {
    model: Vec<ModelEntry>,
}

fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, CatalogError> {
    let de = toml::Deserializer::parse(text).map_err(|e| CatalogError {
        what: file.to_string(),
        reason: e.to_string(),
    })?;
    T::deserialize(de).map_err(|e| CatalogError {
        what: file.to_string(),
        reason: e.to_string(),
    })
}

impl Catalog {
    /// The built-in catalog. Fails only if the shipped data is broken (a test guards that).
    pub fn builtin() -> Result<Catalog, CatalogError> {
        let mut c = Catalog::default();
        let hw: HardwareFile = parse("catalog/hardware.toml", HARDWARE_TOML)?;
        let mut ratios: Vec<f64> = hw
            .device
            .iter()
            .filter_map(DeviceSpec::idle_ratio)
            .collect();
        ratios.sort_by(f64::total_cmp);
        c.idle_fraction = match ratios.len() {
            0 => 0.0,
            n if n % 2 == 1 => ratios[n / 2],
            n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
        };
        for d in hw.device {
            c.add_device(d)?;
        }
        let prices: PricesFile = parse("catalog/prices.toml", PRICES_TOML)?;
        for s in prices.sheet {
            c.add_sheet(s)?;
        }
        let regions: ElectricityFile = parse("catalog/electricity.toml", ELECTRICITY_TOML)?;
        for r in regions.region {
            c.regions.insert(r.id.clone(), r);
        }
        let models: ModelsFile = parse("catalog/models.toml", MODELS_TOML)?;
        for m in models.model {
            let text = CONFIGS
                .iter()
                .find(|(f, _)| *f == m.config)
                .map(|(_, t)| *t)
                .ok_or_else(|| CatalogError {
                    what: format!("model `{}`", m.id),
                    reason: format!("config file {} is not compiled in", m.config),
                })?;
            c.add_model(m, text)?;
        }
        Ok(c)
    }

    pub fn add_device(&mut self, spec: DeviceSpec) -> Result<(), CatalogError> {
        let hw = spec.resolve(self.idle_fraction).map_err(|e| CatalogError {
            what: format!("device `{}`", spec.id),
            reason: e.to_string(),
        })?;
        self.devices.insert(spec.id.clone(), (spec, hw));
        Ok(())
    }

    pub fn add_sheet(&mut self, spec: PriceSheetSpec) -> Result<(), CatalogError> {
        let sheet = spec.resolve().map_err(|e| CatalogError {
            what: format!("price sheet `{}`", spec.id),
            reason: e.to_string(),
        })?;
        self.sheets.insert(spec.id.clone(), (spec, sheet));
        Ok(())
    }

    /// Adds a model from its index entry and the text of its `config.json`.
    pub fn add_model(&mut self, entry: ModelEntry, config_json: &str) -> Result<(), CatalogError> {
        let arch = ModelArch::from_hf_config(config_json).map_err(|e| CatalogError {
            what: format!("model `{}` ({})", entry.id, entry.config),
            reason: e.to_string(),
        })?;
        self.models.insert(
            entry.id.clone(),
            Model {
                id: entry.id,
                name: entry.name,
                hf: entry.hf,
                price_sheet: entry.price_sheet,
                published: entry.published,
                arch,
            },
        );
        Ok(())
    }

    pub fn hardware(&self, id: &str) -> Option<&Hardware> {
        self.devices.get(id).map(|(_, h)| h)
    }
    pub fn model(&self, id: &str) -> Option<&Model> {
        self.models.get(id)
    }
    pub fn sheet(&self, id: &str) -> Option<&PriceSheet> {
        self.sheets.get(id).map(|(_, s)| s)
    }
    pub fn device_ids(&self) -> String {
        self.devices.keys().cloned().collect::<Vec<_>>().join(", ")
    }
    pub fn model_ids(&self) -> String {
        self.models.keys().cloned().collect::<Vec<_>>().join(", ")
    }
    pub fn region_ids(&self) -> String {
        self.regions.keys().cloned().collect::<Vec<_>>().join(", ")
    }
    pub fn sheet_ids(&self) -> String {
        self.sheets.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precision::Precision;

    #[test]
    fn builtin_catalog_loads() {
        let c = Catalog::builtin().unwrap();
        assert!(c.hardware("h100-sxm").is_some());
        assert!(c.hardware("h200-sxm").is_some());
        // One model per compiled-in config.json.
        assert_eq!(c.models.len(), CONFIGS.len());
    }

    #[test]
    fn estimated_idle_power_uses_the_measured_median() {
        let c = Catalog::builtin().unwrap();
        assert!(
            c.idle_fraction > 0.05 && c.idle_fraction < 0.3,
            "{}",
            c.idle_fraction
        );
        for (id, (spec, hw)) in &c.devices {
            assert_eq!(hw.idle_estimated, spec.idle_power.is_none(), "{id}");
            if hw.idle_estimated {
                assert!((hw.idle_w - hw.tdp_w * c.idle_fraction).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn every_builtin_figure_has_a_source_and_date() {
        let c = Catalog::builtin().unwrap();
        for (id, (spec, _)) in &c.devices {
            assert!(
                spec.unsourced_fields().is_empty(),
                "device {id}: {:?}",
                spec.unsourced_fields()
            );
        }
        for (id, (spec, _)) in &c.sheets {
            assert!(
                spec.unsourced_fields().is_empty(),
                "sheet {id}: {:?}",
                spec.unsourced_fields()
            );
        }
        let dated = |d: &str| d.len() >= 4 && d[..4].chars().all(|c| c.is_ascii_digit());
        for (id, (spec, _)) in &c.devices {
            let toml = toml::to_string(spec).unwrap();
            assert!(
                !toml.contains("date = \"\""),
                "device {id} has an empty date"
            );
        }
        for (id, r) in &c.regions {
            let s = r
                .price
                .source
                .as_ref()
                .unwrap_or_else(|| panic!("region {id} has no source"));
            assert!(dated(&s.date), "region {id}: date {:?}", s.date);
        }
        for m in c.models.values() {
            let p = m.published.as_ref().expect("published figures");
            assert!(dated(&p.date), "model {}: date {:?}", m.id, p.date);
        }
    }

    /// Llama-2-70B is Llama-3.1-70B's shape with a smaller vocabulary and window (what the
    /// calibration on splitwise's Llama-2-70B measurements relies on).
    #[test]
    fn llama_2_70b_is_llama_3_1_70b_with_a_32k_vocabulary() {
        let c = Catalog::builtin().unwrap();
        let (l2, l3) = (
            &c.model("llama-2-70b").unwrap().arch,
            &c.model("llama-3.1-70b").unwrap().arch,
        );
        assert_eq!((l2.vocab, l2.max_context), (32_000, 4096));
        let as_l3 = ModelArch {
            vocab: l3.vocab,
            max_context: l3.max_context,
            ..l2.clone()
        };
        assert_eq!(&as_l3, l3);
    }

    /// gpt-oss-120b: 36 layers alternating a 128-token window and dense attention, 128 experts
    /// of which 4 are active. OpenAI's 116.83B total and 5.13B active (layers plus
    /// unembedding), and KV over the 18 dense layers only.
    #[test]
    fn gpt_oss_120b_keeps_per_token_kv_only_in_its_dense_layers() {
        let c = Catalog::builtin().unwrap();
        let m = &c.model("gpt-oss-120b").unwrap().arch;
        assert_eq!((m.layers, m.hidden, m.max_context), (36, 2880, 131_072));
        assert_eq!(m.native_precision, Precision::Fp4);
        let window = m.sliding_window.as_ref().unwrap();
        assert_eq!((window.layers, window.window), (18, 128));
        assert_eq!(m.full_attention_layers(), 18);
        assert!(m.linear_attention.is_none());
        let moe = m.moe.as_ref().unwrap();
        assert_eq!(
            (moe.experts, moe.active, moe.expert_intermediate),
            (128, 4, 2880)
        );
        assert_eq!((moe.shared_intermediate, moe.dense_layers), (0, 0));
        let rel = |a: f64, b: f64| (a / b - 1.0).abs();
        assert!(
            rel(m.total_params(), 116.83e9) < 0.005,
            "{}",
            m.total_params()
        );
        let active = m.active_layer_params() + m.head_params();
        assert!(rel(active, 5.13e9) < 0.005, "{active}");
        // 18 layers x 8 KV heads x 64 x (K, V) x 2 bytes: 36 KiB, not the 72 KiB of 36 layers.
        assert_eq!(m.kv_bytes_per_token(Precision::Bf16), 36.0 * 1024.0);
        // The windowed layers hold at most 128 tokens each: 18 x 128 x 2 KiB per sequence.
        assert_eq!(
            m.state_bytes_per_sequence(Precision::Bf16),
            18.0 * 128.0 * 2048.0
        );
        assert_eq!(m.attention_flops_per_pair(), 18.0 * 4.0 * 64.0 * 64.0);
    }

    /// Qwen3.5-397B-A17B: 45 Gated DeltaNet layers and 15 gated attention layers, 512 experts
    /// (10 active) plus a shared one, no dense MLP. Qwen's 397B total and 17B active, and KV
    /// over the 15 attention layers only.
    #[test]
    fn qwen3_5_keeps_per_token_kv_only_in_its_attention_layers() {
        let c = Catalog::builtin().unwrap();
        let m = &c.model("qwen3.5-397b-a17b").unwrap().arch;
        assert_eq!((m.layers, m.hidden, m.max_context), (60, 4096, 262_144));
        assert_eq!(m.native_precision, Precision::Bf16);
        assert_eq!(m.full_attention_layers(), 15);
        assert!(m.sliding_window.is_none());
        let la = m.linear_attention.as_ref().unwrap();
        assert_eq!(
            (la.layers, la.key_heads, la.value_heads, la.key_head_dim),
            (45, 16, 64, 128)
        );
        assert!(matches!(
            m.attention,
            crate::llm::Attention::Gqa {
                heads: 32,
                kv_heads: 2,
                head_dim: 256,
                output_gate: true
            }
        ));
        let moe = m.moe.as_ref().unwrap();
        assert_eq!(
            (moe.experts, moe.active, moe.expert_intermediate),
            (512, 10, 1024)
        );
        assert_eq!((moe.shared_intermediate, m.dense_intermediate), (1024, 0));
        let total = m.total_params();
        assert!((394e9..400e9).contains(&total), "{total}");
        let active = m.active_params();
        assert!((16.5e9..17.6e9).contains(&active), "{active}");
        // 15 layers x 2 KV heads x 256 x (K, V) x 2 bytes = 30 KiB per token.
        assert_eq!(m.kv_bytes_per_token(Precision::Bf16), 30.0 * 1024.0);
        // 45 layers x (64 heads x 128 x 128 + 3 x 12288 convolution inputs) x 2 bytes.
        let state = 45.0 * (64.0 * 128.0 * 128.0 + 3.0 * 12288.0) * 2.0;
        assert_eq!(m.state_bytes_per_sequence(Precision::Fp8), state);
    }

    /// The B300 (HGX, Blackwell Ultra): the B200's BF16 and FP8 rates, more dense FP4, 288 GB.
    #[test]
    fn b300_is_a_b200_with_more_memory_and_fp4() {
        let c = Catalog::builtin().unwrap();
        let (b300, b200) = (c.hardware("b300").unwrap(), c.hardware("b200").unwrap());
        assert_eq!((b300.memory_bytes, b300.memory_bandwidth), (288e9, 8e12));
        assert_eq!((b300.bf16_flops, b300.fp8_flops), (2.25e15, Some(4.5e15)));
        assert_eq!(
            (b300.bf16_flops, b300.fp8_flops),
            (b200.bf16_flops, b200.fp8_flops)
        );
        assert_eq!(b300.fp4_flops, Some(13.125e15));
        assert!(b300.fp4_flops > b200.fp4_flops);
        assert_eq!(b300.matmul(Precision::Fp4), (13.125e15, true));
        assert_eq!((b300.scaleup_domain, b300.scaleup_bandwidth), (8, 900e9));
        assert_eq!(
            (b300.tdp_w, b300.price_usd, b300.rent),
            (1200.0, Some(45_000.0), None)
        );
        assert!(b300.idle_estimated);
    }

    /// The derived architecture figures match the owners' published figures within 3%.
    #[test]
    fn derived_parameters_and_kv_match_published_figures() {
        let c = Catalog::builtin().unwrap();
        let mut report = Vec::new();
        for m in c.models.values() {
            let p = m.published.as_ref().unwrap();
            let total = m.arch.total_params();
            let active = match p.active_convention.as_str() {
                "all" => m.arch.active_params(),
                "layers" => m.arch.active_layer_params(),
                "head" => m.arch.active_layer_params() + m.arch.head_params(),
                other => panic!("model {}: unknown convention {other}", m.id),
            };
            let rel = |a: f64, b: f64| (a / b - 1.0).abs();
            report.push(format!(
                "{}: total {:.1}B vs {:.1}B, active {:.2}B vs {:.2}B",
                m.id,
                total / 1e9,
                p.total_params.get() / 1e9,
                active / 1e9,
                p.active_params.get() / 1e9
            ));
            assert!(
                rel(total, p.total_params.get()) < 0.03,
                "{}",
                report.last().unwrap()
            );
            assert!(
                rel(active, p.active_params.get()) < 0.03,
                "{}",
                report.last().unwrap()
            );
            if let Some(kv) = p.kv_bytes_per_token {
                let ours = m.arch.kv_bytes_per_token(Precision::Bf16);
                assert!(
                    rel(ours, kv.get()) < 0.03,
                    "{}: kv {ours} vs {}",
                    m.id,
                    kv.get()
                );
            }
        }
    }
}
