//! Taxes: a tenant's tax mode and rates, the one calculation ([`engine`]), the EN 16931 rules
//! checked before an invoice is issued ([`rules`]) and VAT ids ([`vat_id`]).

pub mod engine;
pub mod rates;
pub mod rules;
pub mod vat_id;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use engine::{Adjustment, AdjustmentKind, CalcError, Calculation, Discount, Draft, Line};
pub use rates::{NewTaxRate, TaxRate, TaxRateService, TaxSettings};

/// How a tenant taxes its invoices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum TaxMode {
    /// No tax: what the lines add up to is what is due.
    #[default]
    None,
    /// Value added tax (EU and UK VAT; AU, NZ, SG and CA GST work the same way): one rate per line,
    /// grouped by category and rate, EN 16931.
    Vat,
    /// US sales tax: one or more components (state, county, city…) per line, each its own group.
    SalesTax,
}

impl TaxMode {
    pub const ALL: [Self; 3] = [Self::None, Self::Vat, Self::SalesTax];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Vat => "vat",
            Self::SalesTax => "sales_tax",
        }
    }
}

/// A VAT category (EN 16931 BT-151, UNTDID 5305 as EN 16931 restricts it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum VatCategory {
    /// Standard or reduced rate, above zero.
    S,
    /// Zero-rated by national law.
    Z,
    /// Exempt (e.g. Directive 2006/112/EC art. 132).
    E,
    /// Reverse charge: the buyer accounts for the VAT.
    AE,
    /// Intra-community supply of goods (art. 138).
    K,
    /// Export outside the EU.
    G,
    /// Outside the scope of VAT.
    O,
    /// Canary Islands general indirect tax (IGIC).
    L,
    /// Ceuta and Melilla tax (IPSI).
    M,
}

impl VatCategory {
    pub const ALL: [Self; 9] = [Self::S, Self::Z, Self::E, Self::AE, Self::K, Self::G, Self::O, Self::L, Self::M];

    pub fn code(self) -> &'static str {
        match self {
            Self::S => "S",
            Self::Z => "Z",
            Self::E => "E",
            Self::AE => "AE",
            Self::K => "K",
            Self::G => "G",
            Self::O => "O",
            Self::L => "L",
            Self::M => "M",
        }
    }

    /// The EN 16931 rule-id prefix of the category's rules (`BR-AE-…`; K's are `BR-IC-…`).
    pub fn rule_prefix(self) -> &'static str {
        match self {
            Self::K => "IC",
            Self::L => "IG",
            Self::M => "IP",
            other => other.code(),
        }
    }

    /// What the rate must be: S above zero; Z, E, AE, K, G zero; O none (kept as 0); L, M any.
    pub fn rate_rule(self) -> RateRule {
        match self {
            Self::S => RateRule::AboveZero,
            Self::Z | Self::E | Self::AE | Self::K | Self::G | Self::O => RateRule::Zero,
            Self::L | Self::M => RateRule::Any,
        }
    }

    /// Whether an exemption reason (BT-120/121) is required (E, AE, K, G, O) or forbidden (the rest).
    pub fn needs_exemption_reason(self) -> bool {
        matches!(self, Self::E | Self::AE | Self::K | Self::G | Self::O)
    }

    /// The reason code and text the law's usual case gives, for a rate created without one (E
    /// has none: the exempting article must be named).
    pub fn default_exemption(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::AE => Some(("VATEX-EU-AE", "Reverse charge")),
            Self::K => Some(("VATEX-EU-IC", "Intra-Community supply")),
            Self::G => Some(("VATEX-EU-G", "Export outside the EU")),
            Self::O => Some(("VATEX-EU-O", "Not subject to VAT")),
            _ => None,
        }
    }

    /// Whether the seller must show a VAT id (every category but O).
    pub fn needs_seller_vat_id(self) -> bool {
        self != Self::O
    }

    /// Whether the buyer must show a VAT id (reverse charge and intra-community supply).
    pub fn needs_buyer_vat_id(self) -> bool {
        matches!(self, Self::AE | Self::K)
    }
}

/// What a category allows a rate to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateRule {
    AboveZero,
    Zero,
    Any,
}

/// A tax as a line carries it: a copy of the tax rate, frozen on the invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedRate {
    pub tax_rate_id: String,
    pub name: String,
    /// The percentage, exact (19, 7.7, 8.875).
    #[serde(with = "rust_decimal::serde::str")]
    pub percent: Decimal,
    /// VAT rates: the category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<VatCategory>,
    /// Sales-tax rates: the jurisdiction (e.g. "CA", "Los Angeles County").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption_reason_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption_reason: Option<String>,
}

impl AppliedRate {
    /// What groups lines: a VAT group is one category at one rate, whichever rate record names
    /// it (EN 16931 has one breakdown per category and rate); a sales-tax group is one component.
    pub fn group_key(&self, mode: TaxMode) -> String {
        match (mode, self.category) {
            (TaxMode::Vat, Some(category)) => format!("{}:{}", category.code(), self.percent.normalize()),
            _ => self.tax_rate_id.clone(),
        }
    }

    /// The words a document must print for this rate's category, if any: the exemption text, or
    /// "Reverse charge".
    pub fn wording(&self) -> Option<String> {
        let category = self.category?;
        if !category.needs_exemption_reason() {
            return None;
        }
        let text = self.exemption_reason.clone().or_else(|| category.default_exemption().map(|(_, t)| t.to_owned()));
        match category {
            VatCategory::AE => Some(match text {
                Some(t) if t != "Reverse charge" => format!("Reverse charge: {t}"),
                _ => "Reverse charge".to_owned(),
            }),
            _ => text,
        }
    }
}

/// A percentage as written in results and documents: `19`, `7.7`, `8.875`.
pub fn percent_text(p: Decimal) -> String {
    p.normalize().to_string()
}

#[cfg(test)]
mod golden_tests;
