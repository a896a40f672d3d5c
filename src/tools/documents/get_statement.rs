//! get_statement: a customer's statement of account, as figures and a PDF.

use chrono::NaiveDate;
use serde_json::json;

use super::{DocumentLink, Documents, embed_field, refuse, warnings_field};
use crate::domain::documents::{self, EntryKind, StatementKind, StatementQuery};
use crate::domain::money::Currency;
use crate::domain::{InvoiceId, receivables};
use crate::schema::{Format, array, integer, string};
use crate::tools::declare::{HasShape, Shape, one_of};
use crate::tools::shapes::customer_id;
use crate::tools::{About, Annotations, Attached, Role, Tool, ToolContext, ToolFailure};

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
        kind: String = string().describe("invoice or refund (charges); payment, credit_note, write_off or void (credits); credit_applied (the customer's credit moved onto an invoice: neither)."),
        invoice_id: InvoiceId = string().pattern(InvoiceId::PATTERN).describe("The invoice concerned."),
        number: String = string().describe("The invoice's number, or the credit note's (credit_note, refund)."),
        note: Option<String> = string().nullable().describe("The payment's or refund's method and reference, the credit note's invoice and reason, or the reason for a write-off or void."),
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
        entries: Vec<StatementEntry> = array(StatementEntry::object()).describe("activity: every invoice, payment, credit note, refund, write-off, credit applied and void in the period, in date order; open_items: empty."),
        open_items: Vec<StatementItem> = array(StatementItem::object()).describe("open_items: the open invoices, oldest first; activity: empty."),
        closing_cents: i64 = integer().describe("Owed at the end of the statement's date: list_outstanding's balance_cents for that date (what is open less the customer's unapplied credit; negative when the business owes the customer)."),
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
    let customer = crate::tools::uri::encode(customer_id);
    let base = match kind {
        StatementKind::Activity { from, to } => format!("statement://{customer}/activity/{from}/{to}"),
        StatementKind::OpenItems { as_of } => format!("statement://{customer}/open-items/{as_of}"),
    };
    match currency {
        Some(c) => format!("{base}/{}", c.code()),
        None => base,
    }
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
        closing_formatted: s.closing().plain(),
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
