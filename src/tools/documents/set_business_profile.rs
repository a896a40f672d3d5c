//! set_business_profile: change the seller's details and the business's time zone.

use base64::Engine;
use serde_json::json;

use super::{BusinessProfile, refuse};
use crate::domain::Patch;
use crate::domain::documents::{DocumentService, Logo, ProfileUpdate};
use crate::schema::{Field, Format, boolean, string};
use crate::tools::shapes::idempotency_key;
use crate::tools::{About, Annotations, Reply, Role, Tool, ToolContext, ToolFailure};

pub struct SetBusinessProfile(pub DocumentService);

/// A printed text field of the profile: absent keeps it, null clears it.
fn text(max: usize, what: &str) -> Field {
    string().min_len(1).max_len(max).optional().nullable().describe(&format!("{what} Omit to keep; null clears."))
}

crate::params! {
    pub struct SetBusinessProfileParams {
        legal_name: Option<String> = string().min_len(1).max_len(200).optional().describe("The seller's legal name, e.g. \"Acme Trading Ltd\"; the tenant's name until set."),
        #[serde(default)]
        address: Patch<String> = text(500, "Postal address, one line per line.").multiline(),
        #[serde(default)]
        tax_id: Patch<String> = text(50, "VAT or tax number."),
        #[serde(default)]
        email: Patch<String> = string().format(Format::Email).max_len(254).optional().nullable().describe("Contact e-mail printed on documents. Omit to keep; null clears."),
        #[serde(default)]
        phone: Patch<String> = text(50, "Phone printed on documents."),
        #[serde(default)]
        payment_instructions: Patch<String> = text(1000, "Bank details (IBAN, BIC) or other instructions, one line per line.").multiline(),
        #[serde(default)]
        payment_link: Patch<String> = text(500, "A payment page URL, printed under How to pay."),
        #[serde(default)]
        footer: Patch<String> = text(300, "Printed at the foot of every page, e.g. the company registration."),
        time_zone: Option<String> = string().min_len(1).max_len(64).optional().describe("The business's IANA time zone, e.g. Europe/Berlin: its today decides default dates, future-date refusals and overdue. UTC until set."),
        amount_format: Option<String> = string().min_len(1).max_len(16).optional().describe("How documents write amounts, one of 1,234.56 (until set), 1.234,56, 1 234,56, 1'234.56."),
        logo_base64: Option<String> = string()
                        .min_len(8)
                        .max_len(349_528)
                        .optional()
                        .describe("A PNG or SVG logo of at most 262144 bytes, base64-encoded. Omit to keep the current one."),
        remove_logo: bool = boolean().default(json!(false)).describe("Remove the logo (when logo_base64 is omitted)."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for SetBusinessProfile {
    type Params = SetBusinessProfileParams;
    type Output = Reply<BusinessProfile>;

    fn about() -> About {
        About {
            name: "set_business_profile",
            title: "Set business profile",
            description: "Set the seller's details printed on invoices and statements, and the business's time \
                zone. Changes only the fields you pass: an omitted field is kept, null clears it. Invoices already \
                issued keep the seller they were issued with. The logo is kept unless logo_base64 replaces it or \
                remove_logo is true; a logo that cannot be printed is refused.",
            annotations: Annotations::ADDITIVE,
            role: Role::Admin,
        }
    }

    async fn call(&self, ctx: ToolContext, p: SetBusinessProfileParams) -> Result<Reply<BusinessProfile>, ToolFailure> {
        let logo = match &p.logo_base64 {
            Some(b64) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|e| {
                    refuse(
                        "logo_base64",
                        format!("logo_base64 is not base64: {e}"),
                        "standard base64 (RFC 4648) of a PNG or SVG file",
                    )
                })?;
                Some(Logo::sniff(bytes)?)
            }
            None => None,
        };
        if logo.is_some() && p.remove_logo {
            return Err(refuse(
                "remove_logo",
                "remove_logo and logo_base64 contradict each other".into(),
                "one of them",
            ));
        }
        let update = ProfileUpdate {
            legal_name: p.legal_name,
            address: p.address,
            tax_id: p.tax_id,
            email: p.email,
            phone: p.phone,
            payment_instructions: p.payment_instructions,
            payment_link: p.payment_link,
            footer: p.footer,
            time_zone: p.time_zone,
            amount_format: p.amount_format,
            logo,
            remove_logo: p.remove_logo,
        };
        let key = Reply::<BusinessProfile>::key(p.idempotency_key);
        Ok(self.0.set_profile(&ctx.actor(), update, key).await?.into())
    }
}
