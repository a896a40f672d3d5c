//! create_tax_rate: a VAT rate or a sales-tax component the business's lines can name.

use super::TaxRate;
use crate::domain::tax::{NewTaxRate, TaxMode, TaxRateService, VatCategory};
use crate::schema::string;
use crate::tools::declare::one_of;
use crate::tools::shapes::{Exact, idempotency_key, percent};
use crate::tools::{About, Annotations, Reply, Role, Tool, ToolContext, ToolFailure};

pub struct CreateTaxRate(pub TaxRateService);

crate::params! {
    pub struct CreateTaxRateParams {
        name: String = string().min_len(1).max_len(100).describe("As printed, e.g. \"VAT 19%\", \"Reverse charge\", \"California state tax\"."),
        kind: TaxMode = one_of::<TaxMode>().describe("vat or sales_tax (none is refused)."),
        percent: Exact = percent().describe("The rate in percent, e.g. 19, 7.7, 6.25; 0 for categories Z, E, AE, K, G and O."),
        category: Option<VatCategory> = one_of::<VatCategory>().optional().describe("VAT only: S standard or reduced (rate > 0), Z zero-rated, E exempt, AE reverse charge, K intra-EU supply of goods, G export outside the EU, O outside the scope of VAT, L Canary Islands, M Ceuta and Melilla."),
        jurisdiction: Option<String> = string().min_len(1).max_len(100).optional().describe("Sales tax only: who levies it, e.g. \"CA\" or \"Los Angeles County\"."),
        exemption_reason_code: Option<String> = string().pattern("^[A-Z0-9-]{1,30}$").optional().describe("VAT E, AE, K, G, O: the VATEX code, e.g. VATEX-EU-132-1I. AE, K, G, O default to their usual code."),
        exemption_reason: Option<String> = string().min_len(1).max_len(300).optional().describe("VAT E, AE, K, G, O: the reason printed on the invoice, e.g. the exempting article. Required for E."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for CreateTaxRate {
    type Params = CreateTaxRateParams;
    type Output = Reply<TaxRate>;

    fn about() -> About {
        About {
            name: "create_tax_rate",
            title: "Create tax rate",
            description: "Create a tax rate invoice lines can name: a VAT rate with its category, or a US sales-tax \
                component with its jurisdiction. A rate is never edited: archive it (archive_tax_rate) and create \
                another, so issued invoices keep the rate they were issued with.",
            annotations: Annotations::ADDITIVE,
            role: Role::Admin,
        }
    }

    async fn call(&self, ctx: ToolContext, p: CreateTaxRateParams) -> Result<Reply<TaxRate>, ToolFailure> {
        let new = NewTaxRate {
            name: p.name,
            kind: p.kind,
            percent: p.percent.0,
            category: p.category,
            jurisdiction: p.jurisdiction,
            exemption_reason_code: p.exemption_reason_code,
            exemption_reason: p.exemption_reason,
        };
        let key = Reply::<TaxRate>::key(p.idempotency_key);
        Ok(self.0.create(&ctx.actor(), new, key).await?.into())
    }
}
