//! What a pool costs: rented or owned devices (`rent`, `own`, or the catalog's figures), and
//! the electricity and PUE it pays on top (the pool's own, else `[energy]`).

use tokenfleet_models::Money;
use tokenfleet_models::catalog::Catalog;
use tokenfleet_models::hardware::Hardware;
use tokenfleet_models::prices::{ClockError, Window, parse_clock};
use tokenfleet_setup::CostMode;

use super::checker::Checker;
use crate::spec::cluster::{PoolSpec, RentSpec};
use crate::spec::energy::{ElectricitySpec, EnergySpec};

/// How the pool's devices are paid for.
pub(crate) fn cost(c: &mut Checker, path: &str, p: &PoolSpec, hw: &Hardware) -> Option<CostMode> {
    Some(match (&p.rent, &p.own) {
        (Some(_), Some(_)) => {
            c.add(
                format!("{path}.own"),
                "give either `rent` or `own`, not both",
            );
            return None;
        }
        (Some(r), None) => match rent_price(*r, hw) {
            Ok(v) => CostMode::Rent {
                usd_per_device_hour: v,
            },
            Err(e) => {
                c.add(format!("{path}.rent"), e.to_string());
                return None;
            }
        },
        (None, Some(o)) => {
            let price = match o.price.map(|p| p.get()).or(hw.price_usd) {
                Some(p) => p,
                None => {
                    c.add(
                        format!("{path}.own.price"),
                        format!(
                            "no purchase price for `{}` in the catalog; give own.price",
                            hw.id
                        ),
                    );
                    return None;
                }
            };
            let years = o.depreciation.get() / (365.25 * 86_400.0);
            if years < 0.25 {
                c.add(
                    format!("{path}.own.depreciation"),
                    "must be at least 3 months",
                );
                return None;
            }
            CostMode::Own {
                price_usd: price,
                depreciation_years: years,
                overhead: o.overhead.get(),
                cost_of_capital: o.cost_of_capital.get(),
            }
        }
        (None, None) => match hw.rent {
            Some(r) => CostMode::Rent {
                usd_per_device_hour: r.usd_per_hour,
            },
            None => match hw.price_usd {
                Some(price) => CostMode::Own {
                    price_usd: price,
                    depreciation_years: tokenfleet_setup::DEFAULT_DEPRECIATION_YEARS,
                    overhead: 0.0,
                    cost_of_capital: 0.0,
                },
                None => {
                    c.add(format!("{path}.rent"), format!("the catalog has neither a rent nor a price for `{}`; give `rent` or `own`", hw.id));
                    return None;
                }
            },
        },
    })
}

/// The pool's electricity per UTC hour of the day and its label; a price that cannot be read
/// is reported at the field that gave it (the pool's or `[energy]`'s).
pub(crate) fn electricity(
    c: &mut Checker,
    path: &str,
    p: &PoolSpec,
    energy: &EnergySpec,
    catalog: &Catalog,
) -> Option<([i128; 24], String)> {
    let espec = p
        .electricity
        .clone()
        .unwrap_or_else(|| energy.electricity.clone());
    match tariff(&espec, catalog) {
        Ok(t) => Some(t),
        Err(e) => {
            let field = if p.electricity.is_some() {
                format!("{path}.electricity")
            } else {
                "energy.electricity".into()
            };
            c.add(field, e.to_string());
            None
        }
    }
}

/// The pool's PUE (its own, else `[energy]`'s); one outside [1, 3] is a problem, but the pool
/// is still checked with it.
pub(crate) fn pue(c: &mut Checker, path: &str, p: &PoolSpec, energy: &EnergySpec) -> f64 {
    let pue = p.pue.unwrap_or(energy.pue);
    if !(1.0..=3.0).contains(&pue) {
        c.add(
            match p.pue {
                Some(_) => format!("{path}.pue"),
                None => "energy.pue".to_string(),
            },
            format!("PUE {pue} is outside [1, 3]"),
        );
    }
    pue
}

/// Why a rent cannot be priced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum RentError {
    /// A point of the market range for a device the catalog has no range for.
    #[error("the catalog has no rental range for `{device}`; give a price such as \"$2.50/h\"")]
    NoRange { device: String },
}

/// Why an electricity price cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum TariffError {
    #[error(
        "unknown electricity region `{id}`; accepted: {accepted}, a price such as \"$0.08/kWh\", or {{ peak, off_peak, peak_hours }}"
    )]
    UnknownRegion { id: String, accepted: String },
    #[error("peak_hours {0:?}: expected \"HH:MM-HH:MM\"")]
    PeakHours(String),
    #[error(transparent)]
    Clock(#[from] ClockError),
}

/// A rent from the scenario: a price, or a point of the catalog's market range.
fn rent_price(r: RentSpec, hw: &Hardware) -> Result<f64, RentError> {
    let range = || {
        hw.rent.ok_or_else(|| RentError::NoRange {
            device: hw.id.clone(),
        })
    };
    Ok(match r {
        RentSpec::Price(p) => p.get(),
        RentSpec::Low => range()?.low,
        RentSpec::Typical => range()?.usd_per_hour,
        RentSpec::High => range()?.high,
    })
}

/// Electricity per UTC hour of the day (pico-dollars per kWh) and a label for reports.
fn tariff(e: &ElectricitySpec, catalog: &Catalog) -> Result<([i128; 24], String), TariffError> {
    let pico = |usd: f64| Money::from_usd(usd).pico();
    Ok(match e {
        ElectricitySpec::Price(p) => ([pico(p.get()); 24], format!("${}/kWh", p.get())),
        ElectricitySpec::Region(id) => {
            let r = catalog
                .regions
                .get(id)
                .ok_or_else(|| TariffError::UnknownRegion {
                    id: id.clone(),
                    accepted: catalog.region_ids(),
                })?;
            let v = r.price.value.get();
            ([pico(v); 24], format!("{} (${v}/kWh)", r.name))
        }
        ElectricitySpec::Tariff(t) => {
            let (a, b) = t
                .peak_hours
                .split_once('-')
                .ok_or_else(|| TariffError::PeakHours(t.peak_hours.clone()))?;
            let start = parse_clock(a)?;
            let end = parse_clock(b)? % 1440;
            let w = Window {
                start_min: start,
                end_min: end,
            };
            let mut hours = [0i128; 24];
            for (h, slot) in hours.iter_mut().enumerate() {
                // The local minute at the middle of UTC hour h decides the rate for that hour.
                let local = ((h as i32 * 60 + 30 + t.timezone * 60).rem_euclid(1440)) as u32;
                *slot = pico(if w.contains(local) {
                    t.peak.get()
                } else {
                    t.off_peak.get()
                });
            }
            (
                hours,
                format!(
                    "${}/kWh peak {} (UTC{:+}), ${}/kWh off-peak",
                    t.peak.get(),
                    t.peak_hours,
                    t.timezone,
                    t.off_peak.get()
                ),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_they_did_when_they_were_strings() {
        assert_eq!(
            RentError::NoRange {
                device: "x1".into()
            }
            .to_string(),
            "the catalog has no rental range for `x1`; give a price such as \"$2.50/h\""
        );
        let catalog = Catalog::builtin().unwrap();
        let tariff_of = |peak_hours: &str| {
            let t = crate::spec::energy::TariffSpec {
                peak: "$0.2/kWh".parse().unwrap(),
                off_peak: "$0.1/kWh".parse().unwrap(),
                peak_hours: peak_hours.into(),
                timezone: 0,
            };
            tariff(&ElectricitySpec::Tariff(t), &catalog)
        };
        assert_eq!(
            tariff_of("9to17").unwrap_err().to_string(),
            "peak_hours \"9to17\": expected \"HH:MM-HH:MM\""
        );
        assert_eq!(
            tariff_of("noon-17:00").unwrap_err().to_string(),
            parse_clock("noon").unwrap_err().to_string()
        );
        assert!(tariff_of("09:00-17:00").is_ok());
        let e = tariff(&ElectricitySpec::Region("mars".into()), &catalog).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "unknown electricity region `mars`; accepted: {}, a price such as \"$0.08/kWh\", or {{ peak, off_peak, peak_hours }}",
                catalog.region_ids()
            )
        );
    }
}
