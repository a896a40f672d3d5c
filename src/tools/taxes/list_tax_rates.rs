//! list_tax_rates: the business's tax settings and rates.

use serde_json::json;

use super::{TaxRate, TaxRates, TaxSettings};
use crate::domain::tax::TaxRateService;
use crate::schema::boolean;
use crate::tools::{About, Annotations, Role, Tool, ToolContext, ToolFailure};

pub struct ListTaxRates(pub TaxRateService);

crate::params! {
    pub struct ListTaxRatesParams {
        include_archived: bool = boolean().default(json!(false)).describe("Also list archived rates."),
    }
}

impl Tool for ListTaxRates {
    type Params = ListTaxRatesParams;
    type Output = TaxRates;

    fn about() -> About {
        About {
            name: "list_tax_rates",
            title: "List tax rates",
            description: "The business's tax mode (none, vat, sales_tax), whether its prices include tax, and its \
                tax rates with their ids, which invoice lines name in tax_rate_ids.",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: ListTaxRatesParams) -> Result<TaxRates, ToolFailure> {
        let settings = self.0.settings(ctx.tenant_id()).await?;
        let rates = self.0.list(ctx.tenant_id(), p.include_archived).await?;
        Ok(TaxRates {
            settings: TaxSettings::from(settings),
            tax_rates: rates.into_iter().map(TaxRate::from).collect(),
        })
    }
}
