//! `tokenfleet catalog [hardware|models|prices] [--json]`: what is built in.

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::json;
use tokenfleet_models::Catalog;
use tokenfleet_models::precision::Precision;

#[derive(Clone, Copy, ValueEnum)]
enum Part {
    Hardware,
    Models,
    Prices,
}

#[derive(Args)]
pub struct CatalogArgs {
    /// Which part to list (all if omitted).
    part: Option<Part>,
    /// Print JSON (every figure with its source and date) instead of tables.
    #[arg(long)]
    json: bool,
}

fn opt(v: Option<f64>, scale: f64, digits: usize) -> String {
    v.map_or("-".into(), |x| format!("{:.*}", digits, x / scale))
}

pub fn catalog(a: CatalogArgs) -> Result<()> {
    let c = Catalog::builtin()?;
    let parts: Vec<Part> = match a.part {
        Some(p) => vec![p],
        None => vec![Part::Hardware, Part::Models, Part::Prices],
    };
    if a.json {
        let mut out = serde_json::Map::new();
        for p in parts {
            match p {
                Part::Hardware => {
                    let v: Vec<_> = c
                        .devices
                        .values()
                        .map(|(spec, hw)| json!({ "resolved": hw, "written": spec }))
                        .collect();
                    out.insert("hardware".into(), json!(v));
                }
                Part::Models => {
                    let v: Vec<_> = c
                        .models
                        .values()
                        .map(|m| {
                            json!({
                                "id": m.id, "name": m.name, "hf": m.hf, "price_sheet": m.price_sheet,
                                "total_params": m.arch.total_params(),
                                "active_params": m.arch.active_params(),
                                "kv_bytes_per_token_bf16": m.arch.kv_bytes_per_token(Precision::Bf16),
                                "published": m.published, "architecture": m.arch,
                            })
                        })
                        .collect();
                    out.insert("models".into(), json!(v));
                }
                Part::Prices => {
                    let v: Vec<_> = c
                        .sheets
                        .values()
                        .map(|(spec, sheet)| json!({ "resolved": sheet, "written": spec }))
                        .collect();
                    out.insert("prices".into(), json!(v));
                }
            }
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for p in parts {
        match p {
            Part::Hardware => {
                println!(
                    "{:<14} {:<5} {:>8} {:>9} {:>8} {:>8} {:>9} {:>9} {:>6} {:>7} {:>9} {:>9}",
                    "hardware",
                    "kind",
                    "bf16 TF",
                    "fp8|i8 TF",
                    "fp4 TF",
                    "mem GB",
                    "mem TB/s",
                    "link GB/s",
                    "TDP W",
                    "idle W",
                    "price $",
                    "rent $/h"
                );
                for (_, hw) in c.devices.values() {
                    println!(
                        "{:<14} {:<5} {:>8.0} {:>9} {:>8} {:>8.1} {:>9.2} {:>9.0} {:>6.0} {:>6.0}{} {:>9} {:>9}",
                        hw.id,
                        format!("{:?}", hw.kind).to_lowercase(),
                        hw.bf16_flops / 1e12,
                        opt(hw.fp8_flops.or(hw.int8_ops), 1e12, 0),
                        opt(hw.fp4_flops, 1e12, 0),
                        hw.memory_bytes / 1e9,
                        hw.memory_bandwidth / 1e12,
                        hw.scaleup_bandwidth / 1e9,
                        hw.tdp_w,
                        hw.idle_w,
                        if hw.idle_estimated { "*" } else { " " },
                        opt(hw.price_usd, 1.0, 0),
                        opt(hw.rent.map(|r| r.usd_per_hour), 1.0, 2),
                    );
                }
                println!(
                    "  * idle power estimated (no measurement published); sources: --json or models/catalog/hardware.toml\n"
                );
            }
            Part::Models => {
                println!(
                    "{:<22} {:>7} {:>9} {:>9} {:>10} {:>8} {:>8}",
                    "model", "layers", "total B", "active B", "KV KiB/tok", "context", "experts"
                );
                for m in c.models.values() {
                    println!(
                        "{:<22} {:>7} {:>9.1} {:>9.1} {:>10.1} {:>8} {:>8}",
                        m.id,
                        m.arch.layers,
                        m.arch.total_params() / 1e9,
                        m.arch.active_params() / 1e9,
                        m.arch.kv_bytes_per_token(Precision::Bf16) / 1024.0,
                        m.arch.max_context,
                        m.arch
                            .moe
                            .as_ref()
                            .map_or("dense".into(), |e| format!("{}/{}", e.active, e.experts)),
                    );
                }
                println!(
                    "  KV at BF16; architectures from the owners' config.json (models/catalog/models)\n"
                );
            }
            Part::Prices => {
                println!(
                    "{:<22} {:>9} {:>9} {:>9}  tiers   ($ per million tokens)",
                    "price sheet", "input", "cached", "output"
                );
                for (id, (_, s)) in &c.sheets {
                    let tiers: Vec<String> = s
                        .tiers
                        .iter()
                        .map(|(above, r)| {
                            format!(
                                "above {}k: {}/{}/{}",
                                above / 1000,
                                r.input.usd_per_mtok(),
                                r.cached_input.usd_per_mtok(),
                                r.output.usd_per_mtok()
                            )
                        })
                        .collect();
                    println!(
                        "{:<22} {:>9} {:>9} {:>9}  {}",
                        id,
                        s.base.input.usd_per_mtok(),
                        s.base.cached_input.usd_per_mtok(),
                        s.base.output.usd_per_mtok(),
                        tiers.join("; ")
                    );
                }
                println!();
            }
        }
    }
    Ok(())
}
