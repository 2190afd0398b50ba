//! sweep.csv and bands.csv: every run, and the bands of every figure per point.

use tokenfleet_analysis::sweep::{Band, METRICS, grid};

use super::SweepFile;
use crate::error::{ReportError, format_err};

pub(super) fn sweep_csv(f: &SweepFile) -> Result<Vec<u8>, ReportError> {
    let e = format_err("sweep.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = vec!["point".into(), "seed_index".into(), "seed".into()];
    head.extend(f.varies.iter().map(|v| v.path.clone()));
    head.extend(f.draws.iter().map(|d| format!("drawn:{}", d.path)));
    head.extend(["agents", "plan_hardware", "plan_tp", "plan_replicas"].map(String::from));
    head.extend(METRICS.iter().map(|(n, _)| n.to_string()));
    w.write_record(&head).map_err(&e)?;
    for r in &f.rows {
        let mut rec: Vec<String> = vec![
            r.point.to_string(),
            r.seed_index.to_string(),
            r.seed.to_string(),
        ];
        rec.extend(r.values.iter().cloned());
        rec.extend(r.drawn.iter().cloned());
        rec.push(r.agents.to_string());
        match &r.plan {
            Some((h, tp, n)) => rec.extend([h.clone(), tp.to_string(), n.to_string()]),
            None => rec.extend([String::new(), String::new(), String::new()]),
        }
        rec.extend(METRICS.iter().map(|(_, m)| m(&r.headline).to_string()));
        w.write_record(&rec).map_err(&e)?;
    }
    w.into_inner().map_err(format_err("sweep.csv"))
}

pub(super) fn bands_csv(f: &SweepFile, b: &[Vec<Band>]) -> Result<Vec<u8>, ReportError> {
    let e = format_err("bands.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = vec!["point".into()];
    head.extend(f.varies.iter().map(|v| v.path.clone()));
    for (n, _) in METRICS {
        head.extend([format!("{n}_p10"), format!("{n}_p50"), format!("{n}_p90")]);
    }
    w.write_record(&head).map_err(&e)?;
    for (p, values) in grid(&f.varies).iter().enumerate() {
        let mut rec = vec![p.to_string()];
        rec.extend(values.iter().cloned());
        for band in &b[p] {
            rec.extend([band.p10, band.p50, band.p90].map(|x| x.to_string()));
        }
        w.write_record(&rec).map_err(&e)?;
    }
    w.into_inner().map_err(format_err("bands.csv"))
}
