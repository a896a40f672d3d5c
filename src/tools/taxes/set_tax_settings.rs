//! set_tax_settings: how the business taxes its invoices.

use serde_json::json;

use super::TaxSettings;
use crate::domain::tax::{TaxMode, TaxRateService, TaxSettings as Settings};
use crate::schema::boolean;
use crate::tools::declare::one_of;
use crate::tools::shapes::idempotency_key;
use crate::tools::{About, Annotations, Reply, Role, Tool, ToolContext, ToolFailure};

pub struct SetTaxSettings(pub TaxRateService);

crate::params! {
    pub struct SetTaxSettingsParams {
        tax_mode: TaxMode = one_of::<TaxMode>().describe("none: no tax. vat: VAT or GST, one rate per line, grouped by category and rate (EU, UK, AU, NZ, SG, CA). sales_tax: US sales tax, one or more components per line."),
        prices_include_tax: bool = boolean().default(json!(false)).describe("VAT only: unit prices include VAT unless an invoice says otherwise."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for SetTaxSettings {
    type Params = SetTaxSettingsParams;
    type Output = Reply<TaxSettings>;

    fn about() -> About {
        About {
            name: "set_tax_settings",
            title: "Set tax settings",
            description: "Set how the business taxes invoices: tax_mode none, vat or sales_tax, and whether prices \
                include VAT. Create its rates with create_tax_rate. Drafts made under other settings must be \
                updated before they are sent; issued invoices keep their figures.",
            annotations: Annotations::ADDITIVE,
            role: Role::Admin,
        }
    }

    async fn call(&self, ctx: ToolContext, p: SetTaxSettingsParams) -> Result<Reply<TaxSettings>, ToolFailure> {
        let settings = Settings { mode: p.tax_mode, prices_include_tax: p.prices_include_tax };
        let key = Reply::<TaxSettings>::key(p.idempotency_key);
        Ok(self.0.set_settings(&ctx.actor(), settings, key).await?.into())
    }
}
