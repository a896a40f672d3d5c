//! Document tools: the seller's business profile, and invoice and statement PDFs. Each render
//! returns its figures as structured content, which stands on its own, plus a `resource_link` to
//! the PDF (`invoice://{invoice_id}/pdf`, `statement://…`), which `resources/read` serves as an
//! `application/pdf` blob. The PDF is embedded in the result only when the caller sets `embed`
//! and it is at most [`EMBED_LIMIT`] bytes: many clients handle large embedded blobs badly.

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::declare::{HasShape, Shape, one_of};
use super::outputs::InvoiceSummary;
use super::shapes::{customer_id, idempotency_key, invoice_id};
use super::{About, Annotations, Attached, Attachment, Reply, Role, Tool, ToolContext, ToolError, ToolFailure};
use crate::domain::documents::links::LinkSigner;
use crate::domain::documents::profile::BusinessProfile as Profile;
use crate::domain::documents::{
    self, Document, DocumentService, EntryKind, Logo, ProfileUpdate, StatementKind, StatementQuery,
};
use crate::domain::money::{self, Currency};
use crate::domain::{InvoiceId, Patch, receivables};
use crate::schema::{Field, Format, array, boolean, integer, string};

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
    fn link(&self, tenant: &str, uri: &str) -> (Option<String>, Option<DateTime<Utc>>) {
        match &self.links {
            Some(signer) => {
                let (url, expires) = signer.sign(tenant, uri, Utc::now());
                (Some(url), Some(expires))
            }
            None => (None, None),
        }
    }

    fn attach(
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

fn warnings_field() -> Field {
    array(string()).describe("Anything the reader should know: characters no bundled font covers (printed as U+FFFD), a PDF too large to embed.")
}

fn embed_field() -> Field {
    boolean()
        .default(json!(false))
        .describe("Also embed the PDF in the result as a base64 blob, if it is at most 153600 bytes. Default false: the resource_link and resources/read serve it either way.")
}

// ---------------------------------------------------------------------------------------------

pub struct RenderInvoice(pub Documents);

crate::params! {
    pub struct RenderInvoiceParams {
        invoice_id: InvoiceId = invoice_id(),
        embed: bool = embed_field(),
    }
}

crate::output! {
    pub struct RenderedInvoice {
        ..invoice: InvoiceSummary;
        total_formatted: String = string().describe("The total written with the currency's minor unit."),
        document: DocumentLink = DocumentLink::object().describe("The PDF."),
        warnings: Vec<String> = warnings_field(),
    }
}

impl Tool for RenderInvoice {
    type Params = RenderInvoiceParams;
    type Output = Attached<RenderedInvoice>;

    fn about() -> About {
        About {
            name: "render_invoice",
            title: "Render invoice PDF",
            description: "The invoice as a PDF to send the customer: seller and buyer, number, dates, terms, lines, \
                total, amount paid and amount due, payment instructions, page X of Y. Drafts are watermarked \
                DRAFT and have no number; void invoices say VOID. Returns the figures and a resource_link \
                (invoice://{invoice_id}/pdf) to read with resources/read; set embed to also get the PDF inline.",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: RenderInvoiceParams) -> Result<Attached<RenderedInvoice>, ToolFailure> {
        let rendered = self.0.service.invoice(ctx.tenant_id(), p.invoice_id).await?;
        let summary = rendered.invoice.summary;
        let uri = format!("invoice://{}/pdf", summary.invoice_id);
        let title = match &summary.number {
            Some(n) => format!("Invoice {n}"),
            None => format!("Draft invoice {}", summary.invoice_id),
        };
        let total_formatted = money::format(summary.total_cents, &summary.currency);
        let (document, attachment, warnings) = self.0.attach(&ctx, uri, title, rendered.document, p.embed);
        let output = RenderedInvoice { invoice: summary.into(), total_formatted, document, warnings };
        Ok(Attached { output, attachment })
    }
}

// ---------------------------------------------------------------------------------------------

pub struct GetStatement(pub Documents);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementMode {
    Activity,
    OpenItems,
}

impl HasShape for StatementMode {
    fn shape() -> Shape {
        Shape::OneOf(vec!["activity", "open_items"])
    }
}

crate::params! {
    pub struct GetStatementParams {
        customer_id: String = customer_id().describe("The business's own key for the customer."),
        kind: StatementMode = one_of::<StatementMode>()
                        .default(json!("activity"))
                        .describe("activity: everything between from and to with a running balance (default); open_items: the invoices open at as_of."),
        from: Option<NaiveDate> = string().format(Format::Date).optional().describe("activity: the first day, YYYY-MM-DD (required)."),
        to: Option<NaiveDate> = string().format(Format::Date).optional().describe("activity: the last day, YYYY-MM-DD; defaults to today."),
        as_of: Option<NaiveDate> = string().format(Format::Date).optional().describe("open_items: the day, YYYY-MM-DD; defaults to today."),
        currency: Option<Currency> = string().format(Format::Currency).optional().describe("Only this ISO-4217 currency; default every currency, one section each."),
        rows_after: u32 = integer().range(0, 5000).default(json!(0)).describe("Skip this many rows (entries or open items, across sections): pass the previous answer's next_rows_after for the next rows. The PDF always holds every row."),
        embed: bool = embed_field(),
    }
}

/// The most rows (entries and open items) one get_statement result lists as data; the PDF holds
/// them all. About 10 000 tokens of text.
pub const STATEMENT_ROWS_SHOWN: usize = 100;

crate::output! {
    pub struct StatementEntry {
        date: NaiveDate = string().format(Format::Date).describe("The day, YYYY-MM-DD."),
        kind: String = string().describe("invoice (a charge), payment or void (credits)."),
        invoice_id: InvoiceId = string().pattern(InvoiceId::PATTERN).describe("The invoice concerned."),
        number: String = string().describe("Its number."),
        note: Option<String> = string().nullable().describe("The payment's method and reference, or the void's reason."),
        charge_cents: i64 = integer().min(0).describe("Added to the balance, in minor units."),
        credit_cents: i64 = integer().min(0).describe("Taken off the balance, in minor units."),
        balance_cents: i64 = integer().describe("The running balance after this entry."),
    }
}

crate::output! {
    pub struct StatementItem {
        invoice_id: InvoiceId = string().pattern(InvoiceId::PATTERN).describe("The open invoice."),
        number: String = string().describe("Its number."),
        issue_date: NaiveDate = string().format(Format::Date).describe("When it was sent."),
        due_date: Option<NaiveDate> = string().format(Format::Date).nullable().describe("When it is due, or null."),
        original_cents: i64 = integer().min(0).describe("Its total."),
        open_cents: i64 = integer().min(1).describe("What is still open on it at the statement's date."),
        days_late: i64 = integer().min(0).describe("Days past due at the statement's date; 0 when not yet due."),
    }
}

crate::output! {
    pub struct StatementAging {
        current_cents: i64 = integer().min(0).describe("Not yet due."),
        days_1_30_cents: i64 = integer().min(0).describe("1-30 days past due."),
        days_31_60_cents: i64 = integer().min(0).describe("31-60 days past due."),
        days_61_90_cents: i64 = integer().min(0).describe("61-90 days past due."),
        over_90_cents: i64 = integer().min(0).describe("Over 90 days past due."),
    }
}

crate::output! {
    pub struct StatementSection {
        currency: String = string().format(Format::Currency).describe("Every amount of the section is in it."),
        opening_cents: i64 = integer().describe("activity: the balance brought forward (owed at the end of the day before from); open_items: 0."),
        entries: Vec<StatementEntry> = array(StatementEntry::object()).describe("activity: every invoice, payment and void in the period, in date order; open_items: empty."),
        open_items: Vec<StatementItem> = array(StatementItem::object()).describe("open_items: the open invoices, oldest first; activity: empty."),
        closing_cents: i64 = integer().min(0).describe("Owed at the end of the statement's date: list_outstanding's outstanding_cents for that date."),
        closing_formatted: String = string().describe("closing_cents written with the currency's minor unit."),
        aging: StatementAging = StatementAging::object().describe("closing_cents by days past due at the statement's date, as list_outstanding gives it."),
    }
}

crate::output! {
    pub struct Statement {
        customer_id: String = string().describe("The customer."),
        customer_name: String = string().describe("As printed."),
        kind: String = string().describe("activity or open_items."),
        from: Option<NaiveDate> = string().format(Format::Date).nullable().describe("activity: the first day; null for open items."),
        to: NaiveDate = string().format(Format::Date).describe("The statement's date: balances and aging are as of its end."),
        sections: Vec<StatementSection> = array(StatementSection::object()).describe("One per currency, by code. Every figure is whole; the rows listed are at most 100 (see rows_total)."),
        rows_total: u32 = integer().min(0).describe("How many rows (entries or open items) the statement has, across sections; the PDF prints them all."),
        next_rows_after: Option<u32> = integer().min(1).nullable().describe("When more rows follow those listed: pass as rows_after for the next ones; null when none follow."),
        document: DocumentLink = DocumentLink::object().describe("The PDF."),
        warnings: Vec<String> = warnings_field(),
    }
}

/// The URI a statement is read at (RFC 6570 simple expansion: reserved characters escaped).
pub fn statement_uri(customer_id: &str, kind: StatementKind, currency: Option<&Currency>) -> String {
    let customer = crate::tools::resources::encode(customer_id);
    let base = match kind {
        StatementKind::Activity { from, to } => format!("statement://{customer}/activity/{from}/{to}"),
        StatementKind::OpenItems { as_of } => format!("statement://{customer}/open-items/{as_of}"),
    };
    match currency {
        Some(c) => format!("{base}/{}", c.code()),
        None => base,
    }
}

fn refuse(path: &str, message: String, expected: &str) -> ToolFailure {
    ToolError::invalid_field(path, message, expected).into()
}

impl GetStatement {
    /// The period the params ask for, with the cross-field rules checked.
    fn kind(p: &GetStatementParams, today: NaiveDate) -> Result<StatementKind, ToolFailure> {
        match p.kind {
            StatementMode::Activity => {
                if p.as_of.is_some() {
                    return Err(refuse(
                        "as_of",
                        "as_of is for open_items statements; an activity statement takes from and to".into(),
                        "no as_of with kind activity",
                    ));
                }
                let Some(from) = p.from else {
                    return Err(refuse(
                        "from",
                        "An activity statement needs from, its first day".into(),
                        "a date, YYYY-MM-DD",
                    ));
                };
                let to = p.to.unwrap_or(today);
                if from > to {
                    return Err(refuse("from", format!("from {from} is after to {to}"), "from on or before to"));
                }
                Ok(StatementKind::Activity { from, to })
            }
            StatementMode::OpenItems => {
                if let Some(field) = [("from", p.from), ("to", p.to)].iter().find_map(|(n, v)| v.map(|_| *n)) {
                    return Err(refuse(
                        field,
                        format!("{field} is for activity statements; an open_items statement takes as_of"),
                        "no from or to with kind open_items",
                    ));
                }
                Ok(StatementKind::OpenItems { as_of: p.as_of.unwrap_or(today) })
            }
        }
    }
}

impl Tool for GetStatement {
    type Params = GetStatementParams;
    type Output = Attached<Statement>;

    fn about() -> About {
        About {
            name: "get_statement",
            title: "Customer statement",
            description: "A customer's statement of account as figures and a PDF, one section per currency. \
                kind activity (default): the balance brought forward at from, every invoice, payment and void \
                to the end of to with a running balance, and the closing balance. kind open_items: the invoices \
                open at as_of with original and open amounts. Both end with the aging table (current, 1-30, \
                31-60, 61-90, over 90 days) as of the statement's date; the figures equal list_outstanding's for \
                that date. The statement ends today at the latest. Lists at most 100 rows as data (the PDF \
                has them all): page with rows_after = next_rows_after. Returns a resource_link (statement://...) \
                to read with resources/read; set embed to also get the PDF inline.",
            annotations: Annotations::READ_ONLY,
            role: Role::Viewer,
        }
    }

    async fn call(&self, ctx: ToolContext, p: GetStatementParams) -> Result<Attached<Statement>, ToolFailure> {
        let today = self.0.service.today(ctx.tenant_id()).await?;
        let kind = Self::kind(&p, today)?;
        let query = StatementQuery { customer_id: p.customer_id.clone(), kind, currency: p.currency.clone() };
        let st = self.0.service.statement(ctx.tenant_id(), &query).await?;
        let uri = statement_uri(&p.customer_id, kind, p.currency.as_ref());
        let title = format!("Statement for {} to {}", st.customer_name, kind.end());
        let (document, attachment, warnings) = self.0.attach(&ctx, uri, title, st.document, p.embed);
        let rows_total: usize = st.figures.sections.iter().map(|s| s.entries.len() + s.open_items.len()).sum();
        let mut skip = p.rows_after as usize;
        let mut room = STATEMENT_ROWS_SHOWN;
        let sections = st
            .figures
            .sections
            .into_iter()
            .map(|mut sec| {
                // The rows listed: `rows_after` skipped, then at most `room` across sections.
                for rows in [&mut sec.entries as &mut dyn RowList, &mut sec.open_items] {
                    let n = rows.len();
                    let skipped = skip.min(n);
                    rows.window(skipped, room);
                    skip -= skipped;
                    room -= rows.len();
                }
                section(sec)
            })
            .collect();
        let shown_to = p.rows_after as usize + STATEMENT_ROWS_SHOWN;
        let next_rows_after = (shown_to < rows_total).then_some(shown_to as u32);
        let (kind_name, from) = match kind {
            StatementKind::Activity { from, .. } => ("activity", Some(from)),
            StatementKind::OpenItems { .. } => ("open_items", None),
        };
        let output = Statement {
            customer_id: st.customer_id,
            customer_name: st.customer_name,
            kind: kind_name.into(),
            from,
            to: kind.end(),
            sections,
            rows_total: rows_total as u32,
            next_rows_after,
            document,
            warnings,
        };
        Ok(Attached { output, attachment })
    }
}

/// A section's list of rows, windowed without caring which kind of row it holds.
trait RowList {
    fn len(&self) -> usize;
    /// Drops the first `skip` rows and keeps at most `keep` of the rest.
    fn window(&mut self, skip: usize, keep: usize);
}

impl<T> RowList for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn window(&mut self, skip: usize, keep: usize) {
        self.drain(..skip);
        self.truncate(keep);
    }
}

fn section(s: documents::statement::Section) -> StatementSection {
    let receivables::Aging { current_cents, days_1_30_cents, days_31_60_cents, days_61_90_cents, over_90_cents } =
        s.aging;
    StatementSection {
        closing_formatted: money::format(s.closing_cents, &s.currency),
        entries: s
            .entries
            .into_iter()
            .map(|e| StatementEntry {
                date: e.date,
                kind: e.kind.as_str().into(),
                invoice_id: e.invoice_id,
                number: e.number,
                note: e.note,
                charge_cents: e.charge_cents,
                credit_cents: e.credit_cents,
                balance_cents: e.balance_cents,
            })
            .collect(),
        open_items: s
            .open_items
            .into_iter()
            .map(|i| StatementItem {
                invoice_id: i.invoice_id,
                number: i.number,
                issue_date: i.issued_on,
                due_date: i.due_date,
                original_cents: i.original_cents,
                open_cents: i.open_cents,
                days_late: i.days_late,
            })
            .collect(),
        currency: s.currency,
        opening_cents: s.opening_cents,
        closing_cents: s.closing_cents,
        aging: StatementAging { current_cents, days_1_30_cents, days_31_60_cents, days_61_90_cents, over_90_cents },
    }
}

const _: fn(EntryKind) -> &'static str = EntryKind::as_str;

// ---------------------------------------------------------------------------------------------

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
