//! Token prices: itemized price sheets and the blended per-token price.
//!
//! A [`PriceSheet`] prices a call by class: uncached input, cached input (a prefix-cache read),
//! output and reasoning output. A long-context tier (e.g. Anthropic's above 200k input)
//! replaces all of a call's rates when its input exceeds the threshold, as providers bill it;
//! a time-of-day period (DeepSeek's off-peak hours) replaces them during its window. The
//! blended price is one rate for every token, the arithmetic of press estimates ("30M tokens x
//! $30/M"); tokenfleet reports both side by side because for agents, whose input is mostly
//! cache reads, they differ by an order of magnitude.
//!
//! Sheets are written in the catalog or a scenario ([`PriceSheetSpec`]), or imported from the
//! public price tables most tools use: BerriAI/litellm's `model_prices_and_context_window.json`
//! ([`from_litellm`]) and pydantic/genai-prices' `data.json` ([`from_genai_prices`]).

mod clock;
mod genai_prices;
mod import;
mod litellm;
mod sheet;
#[cfg(test)]
mod sheet_tests;
mod spec;
#[cfg(test)]
mod testing;

pub use clock::{ClockError, parse_clock};
pub use genai_prices::from_genai_prices;
pub use import::ImportError;
pub use litellm::from_litellm;
pub use sheet::{Charge, PriceSheet, Rates, Usage, Window};
pub use spec::{PeriodSpec, PriceSheetSpec, SheetError, TierSpec};
