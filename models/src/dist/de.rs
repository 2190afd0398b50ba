//! Reading a [`DistSpec`]: a tagged table, or a bare value that is a constant.
//!
//! Deserialization is written by hand because a derived internally tagged enum cannot also
//! accept a bare string or number; the table form still goes through a derived `Tagged` enum
//! so that unknown families and fields are refused with serde's own messages.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::spec::{Component, DistSpec, EmpiricalSpec, LogNormalSpec, ShapeSpec};
use crate::units::{Quantity, Unit};

impl<'de, U: Unit> Deserialize<'de> for DistSpec<U> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The tagged table form; separate so that a bare value can be a constant.
        #[derive(Deserialize)]
        #[serde(
            tag = "dist",
            rename_all = "lowercase",
            deny_unknown_fields,
            bound = ""
        )]
        enum Tagged<U: Unit> {
            Constant {
                value: Quantity<U>,
            },
            #[serde(rename = "lognormal", alias = "log-normal")]
            LogNormal(LogNormalSpec<U>),
            Pareto {
                min: Quantity<U>,
                alpha: f64,
                #[serde(default)]
                max: Option<Quantity<U>>,
            },
            Exponential {
                mean: Quantity<U>,
            },
            Uniform {
                min: Quantity<U>,
                max: Quantity<U>,
            },
            Weibull(ShapeSpec<U>),
            Gamma(ShapeSpec<U>),
            Empirical(EmpiricalSpec),
            Mixture {
                components: Vec<Component<U>>,
            },
        }

        struct V<U>(PhantomData<U>);
        impl<'de, U: Unit> Visitor<'de> for V<U> {
            type Value = DistSpec<U>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a {} or a distribution table {{ dist = \"constant\" | \"lognormal\" | \"pareto\" | \"exponential\" | \"uniform\" | \"weibull\" | \"gamma\" | \"empirical\" | \"mixture\", ... }}",
                    U::WHAT
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                let value: Quantity<U> = s.parse().map_err(E::custom)?;
                Ok(DistSpec::Constant { value })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                let value = Quantity::<U>::deserialize(de::value::F64Deserializer::<E>::new(v))?;
                Ok(DistSpec::Constant { value })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = Tagged::<U>::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(match t {
                    Tagged::Constant { value } => DistSpec::Constant { value },
                    Tagged::LogNormal(spec) => DistSpec::LogNormal(spec),
                    Tagged::Pareto { min, alpha, max } => DistSpec::Pareto { min, alpha, max },
                    Tagged::Exponential { mean } => DistSpec::Exponential { mean },
                    Tagged::Uniform { min, max } => DistSpec::Uniform { min, max },
                    Tagged::Weibull(s) => DistSpec::Weibull(s),
                    Tagged::Gamma(s) => DistSpec::Gamma(s),
                    Tagged::Empirical(s) => DistSpec::Empirical(s),
                    Tagged::Mixture { components } => DistSpec::Mixture { components },
                })
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::*;
    use crate::dist::testing::spec;
    use crate::units::{SecondsUnit, TokenUnit};
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn bare_values_are_constants_and_units_apply() {
        let d = spec::<SecondsUnit>(r#""10s""#).resolve().unwrap();
        assert_eq!(d.sample(&mut Xoshiro256PlusPlus::seed_from_u64(0)), 10.0);
        let e = spec::<SecondsUnit>(r#"{ dist = "exponential", mean = "2min" }"#)
            .resolve()
            .unwrap();
        assert_eq!(e.mean(), 120.0);
    }

    #[test]
    fn bad_specs_explain_themselves() {
        let e = spec::<TokenUnit>(r#"{ dist = "lognormal", p10 = "30M" }"#)
            .resolve()
            .unwrap_err();
        assert!(e.0.contains("exactly two"), "{e}");
        let e = spec::<TokenUnit>(r#"{ dist = "lognormal", p10 = "100M", p90 = "30M" }"#)
            .resolve()
            .unwrap_err();
        assert!(e.0.contains("must be larger"), "{e}");
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct W {
            d: DistSpec<TokenUnit>,
        }
        let e = toml::from_str::<W>(r#"d = { dist = "cauchy", x = 1 }"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `cauchy`"), "{e}");
        let e = toml::from_str::<W>(r#"d = { dist = "pareto", min = 1, alpha = 2, typo = 3 }"#)
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `typo`"), "{e}");
    }

    #[test]
    fn specs_serialize_back_to_what_they_parse_from() {
        for text in [
            r#"{ dist = "weibull", shape = 1.5, scale = "1000" }"#,
            r#"{ dist = "gamma", shape = 2.0, mean = "500" }"#,
            r#"{ dist = "empirical", values = [1.0, 2.0] }"#,
            r#"{ dist = "mixture", components = [{ weight = 0.5, dist = "constant", value = "0" }, { weight = 0.5, dist = "lognormal", p50 = "10", sigma = 1.0 }] }"#,
        ] {
            let a = spec::<TokenUnit>(text);
            #[derive(Serialize, Deserialize)]
            #[serde(bound = "")]
            struct W<U: Unit> {
                d: DistSpec<U>,
            }
            let back = toml::to_string(&W { d: a.clone() }).unwrap();
            let b: W<TokenUnit> = toml::from_str(&back).unwrap();
            assert_eq!(format!("{a:?}"), format!("{:?}", b.d), "{back}");
        }
    }
}
