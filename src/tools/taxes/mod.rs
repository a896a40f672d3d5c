//! Tax tools: the business's tax mode and its tax rates. One tool per file.

mod archive_tax_rate;
mod create_tax_rate;
mod list_tax_rates;
mod set_tax_settings;

use chrono::{DateTime, Utc};

pub use archive_tax_rate::ArchiveTaxRate;
pub use create_tax_rate::CreateTaxRate;
pub use list_tax_rates::ListTaxRates;
pub use set_tax_settings::SetTaxSettings;

use super::declare::one_of;
use super::shapes::Exact;
use crate::domain::TaxRateId;
use crate::domain::tax::{TaxMode, TaxRate as Rate, TaxSettings as Settings};
use crate::schema::{array, boolean, decimal, string};

crate::output! {
    pub struct TaxRate {
        tax_rate_id: TaxRateId = string().pattern(TaxRateId::PATTERN).describe("The rate's id: txr_ + 32 hex digits; lines name it in tax_rate_ids."),
        name: String = string().describe("The rate's name, as printed."),
        kind: TaxMode = one_of::<TaxMode>().describe("vat or sales_tax."),
        percent: Exact = decimal(4).describe("The rate, in percent."),
        category: Option<String> = string().nullable().describe("VAT category, or null for sales tax."),
        jurisdiction: Option<String> = string().nullable().describe("Sales-tax jurisdiction, or null for VAT."),
        exemption_reason_code: Option<String> = string().nullable().describe("Exemption reason code (VATEX-EU-…), or null."),
        exemption_reason: Option<String> = string().nullable().describe("Exemption reason as printed, or null."),
        created_at: DateTime<Utc> = string().describe("When it was created (RFC 3339, UTC)."),
        archived_at: Option<DateTime<Utc>> = string().nullable().describe("When it was archived, or null: an archived rate is kept on the invoices that carry it, and no new line may name it."),
    }
}

crate::output! {
    pub struct TaxSettings {
        tax_mode: TaxMode = one_of::<TaxMode>().describe("none (no tax), vat (VAT/GST: one rate per line) or sales_tax (US: state, county, city components)."),
        prices_include_tax: bool = boolean().describe("Whether unit prices include VAT by default."),
    }
}

crate::output! {
    pub struct TaxRates {
        ..settings: TaxSettings;
        tax_rates: Vec<TaxRate> = array(TaxRate::object()).describe("The business's rates, oldest first."),
    }
}

impl From<Rate> for TaxRate {
    fn from(r: Rate) -> Self {
        Self {
            tax_rate_id: r.tax_rate_id,
            name: r.name,
            kind: r.kind,
            percent: Exact(r.percent),
            category: r.category.map(|c| c.code().to_owned()),
            jurisdiction: r.jurisdiction,
            exemption_reason_code: r.exemption_reason_code,
            exemption_reason: r.exemption_reason,
            created_at: r.created_at,
            archived_at: r.archived_at,
        }
    }
}

impl From<Settings> for TaxSettings {
    fn from(s: Settings) -> Self {
        Self { tax_mode: s.mode, prices_include_tax: s.prices_include_tax }
    }
}
