//! archive_tax_rate: retire a rate; invoices that carry it keep it.

use super::TaxRate;
use crate::domain::TaxRateId;
use crate::domain::tax::TaxRateService;
use crate::tools::shapes::{idempotency_key, tax_rate_id};
use crate::tools::{About, Annotations, Reply, Role, Tool, ToolContext, ToolFailure};

pub struct ArchiveTaxRate(pub TaxRateService);

crate::params! {
    pub struct ArchiveTaxRateParams {
        tax_rate_id: TaxRateId = tax_rate_id(),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for ArchiveTaxRate {
    type Params = ArchiveTaxRateParams;
    type Output = Reply<TaxRate>;

    fn about() -> About {
        About {
            name: "archive_tax_rate",
            title: "Archive tax rate",
            description: "Archive a tax rate: no new or updated line may name it, and drafts that carry it must be \
                updated before they are sent. Issued invoices keep it. Archiving twice changes nothing.",
            annotations: Annotations::ADDITIVE,
            role: Role::Admin,
        }
    }

    async fn call(&self, ctx: ToolContext, p: ArchiveTaxRateParams) -> Result<Reply<TaxRate>, ToolFailure> {
        let key = Reply::<TaxRate>::key(p.idempotency_key);
        Ok(self.0.archive(&ctx.actor(), p.tax_rate_id, key).await?.into())
    }
}
