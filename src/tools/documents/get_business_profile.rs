//! get_business_profile: the seller's details printed on documents.

use super::BusinessProfile;
use crate::domain::documents::DocumentService;
use crate::tools::{About, Annotations, Role, Tool, ToolContext, ToolFailure};

pub struct GetBusinessProfile(pub DocumentService);

crate::params! {
    pub struct GetBusinessProfileParams {}
}

impl Tool for GetBusinessProfile {
    type Params = GetBusinessProfileParams;
    type Output = BusinessProfile;

    fn about() -> About {
        About {
            name: "get_business_profile",
            title: "Get business profile",
            description: "The seller's details printed on every invoice and statement: legal name, address, tax id, \
                contact, payment instructions, footer and logo.",
            annotations: Annotations::READ_ONLY,
            role: Role::Admin,
        }
    }

    async fn call(&self, ctx: ToolContext, _: GetBusinessProfileParams) -> Result<BusinessProfile, ToolFailure> {
        Ok(self.0.profile(ctx.tenant_id()).await?.into())
    }
}
