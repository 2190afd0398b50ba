//! What each served model is and what its tokens sell for.

use tokenfleet_models::ModelArch;
use tokenfleet_models::money::TokenPrice;
use tokenfleet_models::prices::PriceSheet;

/// A model's prices in one named set.
#[derive(Debug, Clone)]
pub struct ModelPrice {
    pub set: String,
    pub sheet: PriceSheet,
    /// One price for every token.
    pub blended: TokenPrice,
    /// Where the blended price came from ("scenario" or "3:1 blend of the sheet").
    pub blended_source: String,
}

/// A model the run serves, with what its tokens sell for.
#[derive(Debug, Clone)]
pub struct ServedModel {
    pub id: String,
    pub name: String,
    pub arch: ModelArch,
    /// One entry per price set (`Setup::price_sets`); the first is billed.
    pub prices: Vec<ModelPrice>,
    /// Pools serving the model.
    pub pools: Vec<usize>,
}

impl ServedModel {
    /// The billed price sheet.
    pub fn sheet(&self) -> &PriceSheet {
        &self.prices[0].sheet
    }
    /// The billed set's blended price.
    pub fn blended(&self) -> TokenPrice {
        self.prices[0].blended
    }
}
