//! The splitwise measurements (`splitwise_llama2_70b_a100_h100.csv`): static batches of
//! Llama-2-70B on A100 and H100, the time of the prefill iteration and of one decode
//! iteration, and on A100 the mean power.

use std::collections::BTreeMap;

use crate::data::csv::Csv;
use crate::error::CalibrateError;

pub const SPLITWISE_CSV: &str = "splitwise_llama2_70b_a100_h100.csv";

/// One splitwise measurement: a static batch of `batch` prompts of `prompt` tokens, then
/// `tokens` decode steps (means over the repeated runs).
#[derive(Debug, Clone, PartialEq)]
pub struct SplitwisePoint {
    /// Catalog device id.
    pub hardware: String,
    pub tp: u32,
    pub prompt: u32,
    pub batch: u32,
    pub tokens: u32,
    /// Time of the batch's prefill iteration.
    pub prompt_s: f64,
    /// Time of one decode iteration.
    pub token_s: f64,
    /// Mean power over the run as a fraction of the device's TDP (A100 rows only; the H100
    /// rows carry no power measurement).
    pub power_of_tdp: Option<f64>,
}

/// Splitwise rows are averaged per (hardware, tp, prompt, batch, tokens).
type SplitwiseKey = (String, u32, u32, u32, u32);

/// Parses the splitwise file: Llama-2-70B rows on A100 and H100 (not the power-capped H100),
/// averaged over repeated runs of the same configuration.
pub fn parse_splitwise(text: &str) -> Result<Vec<SplitwisePoint>, CalibrateError> {
    let csv = Csv::parse(SPLITWISE_CSV, text)?;
    let c = |n| csv.col(n);
    let (model, hw, prompt, batch, tokens) = (
        c("model")?,
        c("hardware")?,
        c("prompt_size")?,
        c("batch_size")?,
        c("token_size")?,
    );
    let (pt, tt, tp) = (c("prompt_time")?, c("token_time")?, c("tensor_parallel")?);
    let avg_power = c("average_power")?;
    // (prompt s, token s, power sum, rows, rows with power)
    let mut groups: BTreeMap<SplitwiseKey, (f64, f64, f64, u32, u32)> = BTreeMap::new();
    for row in &csv.rows {
        if csv.text(row, model) != "llama2-70b" {
            continue;
        }
        let hardware = match csv.text(row, hw) {
            "a100-80gb" => "a100-80gb-sxm",
            "h100-80gb" => "h100-sxm",
            _ => continue,
        };
        let key = (
            hardware.to_string(),
            csv.get(row, tp)?,
            csv.get(row, prompt)?,
            csv.get(row, batch)?,
            csv.get(row, tokens)?,
        );
        let e = groups.entry(key).or_insert((0.0, 0.0, 0.0, 0, 0));
        e.0 += csv.get::<f64>(row, pt)? / 1e3;
        e.1 += csv.get::<f64>(row, tt)? / 1e3;
        e.3 += 1;
        // Zero means "not measured" in this file.
        let power: f64 = csv.get(row, avg_power)?;
        if power > 0.0 {
            e.2 += power;
            e.4 += 1;
        }
    }
    Ok(groups
        .into_iter()
        .map(
            |((hardware, tp, prompt, batch, tokens), (p, t, w, n, nw))| SplitwisePoint {
                hardware,
                tp,
                prompt,
                batch,
                tokens,
                prompt_s: p / n as f64,
                token_s: t / n as f64,
                power_of_tdp: (nw > 0).then(|| w / nw as f64),
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_runs_are_averaged_and_unmeasured_power_is_none() {
        let text = "model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,prompt_time,token_time,e2e_time,tensor_parallel\n\
             llama2-70b,a100-80gb,512,1,128,1,0.7,200,50,0,2\n\
             llama2-70b,a100-80gb,512,1,128,1,0.8,100,60,0,2\n\
             llama2-70b,h100-80gb,512,1,128,0,0,80,20,0,2\n\
             llama2-70b,h100-80gb-pcap,512,1,128,0,0,80,20,0,2\n\
             bloom-176b,a100-80gb,512,1,128,1,0.7,200,50,0,8\n";
        let rows = parse_splitwise(text).unwrap();
        assert_eq!(rows.len(), 2);
        let a100 = &rows[0];
        assert_eq!(a100.hardware, "a100-80gb-sxm");
        assert_eq!(
            (a100.tp, a100.prompt, a100.batch, a100.tokens),
            (2, 512, 1, 128)
        );
        assert!((a100.prompt_s - 0.15).abs() < 1e-12 && (a100.token_s - 0.055).abs() < 1e-12);
        assert!((a100.power_of_tdp.unwrap() - 0.75).abs() < 1e-12);
        assert_eq!(rows[1].hardware, "h100-sxm");
        assert_eq!(rows[1].power_of_tdp, None);
    }
}
