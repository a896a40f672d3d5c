//! Document tools: the seller's business profile, and invoice and statement PDFs. Each render
//! returns its figures as structured content, which stands on its own, plus a `resource_link` to
//! the PDF (`invoice://{invoice_id}/pdf`, `statement://…`), which `resources/read` serves as an
//! `application/pdf` blob. The PDF is embedded in the result only when the caller sets `embed`
//! and it is at most [`EMBED_LIMIT`] bytes: many clients handle large embedded blobs badly.

mod get_business_profile;
mod get_statement;
mod render_credit_note;
mod render_invoice;
mod set_business_profile;

use crate::domain::documents::links::LinkSigner;
use crate::domain::documents::profile::BusinessProfile as Profile;
use crate::domain::documents::{Document, DocumentService};
use crate::schema::{Field, array, boolean, integer, string};
use crate::tools::{Attachment, ToolContext, ToolError, ToolFailure};
use chrono::{DateTime, Utc};
use serde_json::json;

pub use get_business_profile::GetBusinessProfile;
pub use get_statement::{GetStatement, STATEMENT_ROWS_SHOWN, statement_uri};
pub use render_credit_note::RenderCreditNote;
pub use render_invoice::RenderInvoice;
pub use set_business_profile::SetBusinessProfile;

/// The largest PDF embedded in a tool result, in bytes: a few pages of invoice (about 200 000
/// base64 characters). Larger ones are linked only.
pub const EMBED_LIMIT: usize = 150 * 1024;

pub const PDF: &str = "application/pdf";

/// What renders documents, and signs their download links when a key is configured.
#[derive(Clone)]
pub struct Documents {
    pub service: DocumentService,
    pub links: Option<LinkSigner>,
}

impl Documents {
    pub(super) fn link(&self, tenant: &str, uri: &str) -> (Option<String>, Option<DateTime<Utc>>) {
        match &self.links {
            Some(signer) => {
                let (url, expires) = signer.sign(tenant, uri, Utc::now());
                (Some(url), Some(expires))
            }
            None => (None, None),
        }
    }

    pub(super) fn attach(
        &self,
        ctx: &ToolContext,
        uri: String,
        title: String,
        doc: Document,
        embed: bool,
    ) -> (DocumentLink, Attachment, Vec<String>) {
        let mut warnings = doc.rendered.warnings.clone();
        let size = doc.rendered.pdf.len();
        let embedded = embed && size <= EMBED_LIMIT;
        if embed && !embedded {
            warnings.push(format!(
                "The PDF is {size} bytes, over the {EMBED_LIMIT}-byte embedding limit: it is linked, not embedded; read it with resources/read"
            ));
        }
        let (download_url, download_expires_at) = self.link(ctx.tenant_id(), &uri);
        let link = DocumentLink {
            uri: uri.clone(),
            name: doc.filename.clone(),
            mime_type: PDF.into(),
            size_bytes: size as i64,
            sha256: doc.sha256,
            pages: doc.rendered.pages as i64,
            standard: crate::render::STANDARD.into(),
            embedded,
            download_url,
            download_expires_at,
        };
        let attachment = Attachment {
            uri,
            name: doc.filename,
            title,
            mime_type: PDF,
            bytes: doc.rendered.pdf.into(),
            embed: embedded,
        };
        (link, attachment, warnings)
    }
}

crate::output! {
    /// Where the PDF is and what it is.
    pub struct DocumentLink {
        uri: String = string().describe("Read it with resources/read: an application/pdf blob."),
        name: String = string().describe("A file name to save it under."),
        mime_type: String = string().describe("application/pdf."),
        size_bytes: i64 = integer().min(1).describe("Size of the PDF."),
        sha256: String = string().describe("SHA-256 of the PDF, hex: the same data gives the same bytes."),
        pages: i64 = integer().min(1).describe("Page count."),
        standard: String = string().describe("The archival standard it meets (PDF/A-3u)."),
        embedded: bool = boolean().describe("True when the PDF is also embedded in this result (embed was set and it fits)."),
        download_url: Option<String> = string().nullable().describe("A signed link a person can open without a token, or null when the server has no link key."),
        download_expires_at: Option<DateTime<Utc>> = string().nullable().describe("When download_url stops working (RFC 3339), or null."),
    }
}

pub(super) fn warnings_field() -> Field {
    array(string()).describe("Anything the reader should know: characters no bundled font covers (printed as U+FFFD), a PDF too large to embed.")
}

pub(super) fn embed_field() -> Field {
    boolean()
        .default(json!(false))
        .describe("Also embed the PDF in the result as a base64 blob, if it is at most 153600 bytes. Default false: the resource_link and resources/read serve it either way.")
}

crate::output! {
    pub struct BusinessProfile {
        legal_name: String = string().describe("The seller's legal name, as printed."),
        address: Option<String> = string().multiline().nullable().describe("Postal address, or null."),
        tax_id: Option<String> = string().nullable().describe("VAT or tax number, or null."),
        email: Option<String> = string().nullable().describe("Contact e-mail, or null."),
        phone: Option<String> = string().nullable().describe("Phone, or null."),
        payment_instructions: Option<String> = string().multiline().nullable().describe("Bank details or other instructions printed under How to pay, or null."),
        payment_link: Option<String> = string().nullable().describe("A payment page, printed under How to pay, or null."),
        footer: Option<String> = string().nullable().describe("Printed at the foot of every page, or null."),
        logo: Option<String> = string().nullable().describe("image/png or image/svg+xml when a logo is set, else null."),
        logo_bytes: i64 = integer().min(0).describe("Size of the logo; 0 without one."),
        time_zone: String = string().describe("The business's IANA time zone; its today is the default date everywhere."),
        amount_format: String = string().describe("How documents write amounts, e.g. 1,234.56."),
        updated_at: Option<DateTime<Utc>> = string().nullable().describe("When an admin last set it (RFC 3339), or null: documents then print the tenant's name alone."),
    }
}

impl From<Profile> for BusinessProfile {
    fn from(p: Profile) -> Self {
        Self {
            logo_bytes: p.logo.as_ref().map_or(0, |l| l.len() as i64),
            legal_name: p.legal_name,
            address: p.address,
            tax_id: p.tax_id,
            email: p.email,
            phone: p.phone,
            payment_instructions: p.payment_instructions,
            payment_link: p.payment_link,
            footer: p.footer,
            logo: p.logo_type,
            time_zone: p.time_zone,
            amount_format: p.amount_format,
            updated_at: p.updated_at,
        }
    }
}

/// A refusal of one argument, with what was expected.
pub(super) fn refuse(path: &str, message: String, expected: &str) -> ToolFailure {
    ToolError::invalid_field(path, message, expected).into()
}
