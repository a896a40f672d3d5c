//! create_credit_note: correct a sent or paid invoice, wholly, by line, or by an amount.

use chrono::NaiveDate;
use serde_json::json;

use crate::domain::invoices::credit_notes::figures::{CreditRequest, LineCredit, LineCreditBy};
use crate::domain::invoices::credit_notes::{CreditReason, ExcessTo, NewCreditNote, RefundDetails};
use crate::domain::payments::PaymentMethod;
use crate::domain::{InvoiceId, InvoiceService};
use crate::schema::decimal;
use crate::schema::{Format, array, boolean, integer, string};
use crate::tools::Reply;
use crate::tools::Role;
use crate::tools::ToolError;
use crate::tools::declare::one_of;
use crate::tools::outputs::CreditNoteReceipt;
use crate::tools::shapes::{Exact, idempotency_key, invoice_id, payment_method};
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct CreateCreditNote(pub InvoiceService);

crate::params! {
    /// One invoice line to credit: by quantity returned, or by an amount.
    pub struct CreditLineParams {
        line_no: i32 = integer().range(1, 100).describe("The invoice line's line_no (get_invoice)."),
        quantity: Option<Exact> = decimal(4).between("0.0001", "1000000").optional().describe("How many of the line's units to credit (e.g. returned), up to what is left of it. Give quantity or amount_cents."),
        amount_cents: Option<i64> = integer().range(1, 10_000_000_000_000).optional().describe("An amount of the line to credit, as priced (tax included when the invoice's prices are), e.g. a price correction. Give quantity or amount_cents."),
    }
}

crate::params! {
    /// How the excess is paid back.
    pub struct RefundParams {
        refunded_on: Option<NaiveDate> = string().format(Format::Date).optional().describe("The day the money went back, YYYY-MM-DD; defaults to the credit note's date. Not before it, not in the future."),
        method: PaymentMethod = payment_method().default(json!("bank_transfer")).describe("How it was paid back; defaults to bank_transfer."),
        reference: Option<String> = string().min_len(1).max_len(200).optional().describe("The refund's reference (bank reference, card refund id)."),
    }
}

crate::params! {
    pub struct CreateCreditNoteParams {
        invoice_id: InvoiceId = invoice_id().describe("The sent, overdue or paid invoice to correct: inv_ followed by 32 hex digits."),
        reason: CreditReason = one_of::<CreditReason>().describe("Why: duplicate, order_change, product_unsatisfactory, pricing_error or other."),
        memo: Option<String> = string().multiline().max_len(2000).optional().describe("A note printed on the credit note."),
        whole: bool = boolean().default(json!(false)).describe("true: credit everything the invoice still has to credit. Give exactly one of whole, lines and amount_cents."),
        lines: Option<Vec<CreditLineParams>> = array(CreditLineParams::object()).min_items(1).max_items(100).optional().describe("Invoice lines to credit, each by quantity or amount; the invoice's allowances and charges are credited in proportion."),
        amount_cents: Option<i64> = integer().range(1, 10_000_000_000_000).optional().describe("A custom amount to credit in one tax group, as priced (tax included when the invoice's prices are); Tally adds the group's tax."),
        tax_group: Option<String> = string().min_len(1).max_len(100).optional().describe("With amount_cents: the tax group, as category:percent (e.g. S:19) from the invoice's tax_breakdown. Needed when the invoice has more than one group."),
        description: Option<String> = string().min_len(1).max_len(500).optional().describe("With amount_cents: the credit note line's text, e.g. \"Price correction\"."),
        issue_date: Option<NaiveDate> = string().format(Format::Date).optional().describe("The credit note's date, YYYY-MM-DD; defaults to today. Not in the future, not before the invoice's date or the latest credit note's."),
        excess_to: Option<ExcessTo> = one_of::<ExcessTo>().optional().describe("Required when the credit note is more than what is still due (the invoice was paid): where the already-paid part goes. refund (paid back now), customer_credit (kept for the customer's later invoices in this currency), or out_of_band (settled outside Tally)."),
        refund: Option<RefundParams> = RefundParams::object().optional().describe("With excess_to refund: when and how it was paid back."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

fn refuse(path: &str, message: &str, expected: &str) -> ToolFailure {
    ToolError::invalid_field(path, message.to_owned(), expected).into()
}

impl CreateCreditNoteParams {
    /// What to credit: exactly one of whole, lines and amount_cents; the fields that go with
    /// each only with it.
    fn request(&self) -> Result<CreditRequest, ToolFailure> {
        let given = [self.whole, self.lines.is_some(), self.amount_cents.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(refuse(
                "whole",
                "say what to credit: exactly one of whole (true), lines, or amount_cents",
                "whole: true, or lines: [{line_no, quantity | amount_cents}], or amount_cents (with tax_group)",
            ));
        }
        if self.amount_cents.is_none() {
            for (field, given) in [("tax_group", self.tax_group.is_some()), ("description", self.description.is_some())]
            {
                if given {
                    return Err(refuse(
                        field,
                        &format!("{field} goes with amount_cents only"),
                        "no tax_group or description without amount_cents",
                    ));
                }
            }
        }
        if self.refund.is_some() && self.excess_to != Some(ExcessTo::Refund) {
            return Err(refuse("refund", "refund goes with excess_to: refund", "excess_to: refund, or no refund"));
        }
        if self.whole {
            return Ok(CreditRequest::Whole);
        }
        if let Some(amount) = self.amount_cents {
            return Ok(CreditRequest::Amount {
                group: self.tax_group.clone(),
                amount,
                description: self.description.clone().unwrap_or_else(|| match self.reason {
                    CreditReason::PricingError => "Price correction".into(),
                    CreditReason::Duplicate => "Duplicate invoice".into(),
                    CreditReason::OrderChange => "Order change".into(),
                    CreditReason::ProductUnsatisfactory => "Product unsatisfactory".into(),
                    CreditReason::Void | CreditReason::Other => "Credit".into(),
                }),
            });
        }
        let mut credits = Vec::new();
        for (i, l) in self.lines.iter().flatten().enumerate() {
            let by = match (l.quantity, l.amount_cents) {
                (Some(q), None) => LineCreditBy::Quantity(q.0),
                (None, Some(a)) => LineCreditBy::Amount(a),
                _ => {
                    return Err(refuse(
                        &format!("lines[{i}]"),
                        "give exactly one of quantity and amount_cents",
                        "quantity (e.g. 1) or amount_cents (e.g. 500)",
                    ));
                }
            };
            credits.push(LineCredit { line_no: l.line_no, by });
        }
        Ok(CreditRequest::Lines(credits))
    }
}

impl Tool for CreateCreditNote {
    type Params = CreateCreditNoteParams;
    type Output = Reply<CreditNoteReceipt>;

    fn about() -> About {
        About {
            name: "create_credit_note",
            title: "Create credit note",
            description: "Correct a sent, overdue or paid invoice with a credit note (an issued invoice is never \
                edited): the whole invoice, some lines (by quantity returned or by amount), or an amount in one tax \
                group, with a reason. Tally computes its tax like the invoice's and never credits more than was \
                invoiced (per line and per tax group). The part up to what is still due reduces the invoice; if \
                the invoice was paid, the rest must go somewhere: excess_to refund, customer_credit or \
                out_of_band (the error says how much). It takes the next number of the credit note series \
                (CN-000001). Returns the credit note and the invoice's new status and amount due. Always send an \
                idempotency_key.",
            annotations: Annotations::ADDITIVE,
            role: Role::Admin,
        }
    }

    async fn call(&self, ctx: ToolContext, p: CreateCreditNoteParams) -> Result<Reply<CreditNoteReceipt>, ToolFailure> {
        let request = p.request()?;
        let new = NewCreditNote {
            request,
            reason: p.reason,
            memo: p.memo,
            issue_date: p.issue_date,
            excess_to: p.excess_to,
            refund: p.refund.map(|r| RefundDetails {
                refunded_on: r.refunded_on,
                method: r.method,
                reference: r.reference,
            }),
        };
        let key = Reply::<CreditNoteReceipt>::key(p.idempotency_key);
        Ok(self.0.create_credit_note(&ctx.actor(), p.invoice_id, new, key).await?.into())
    }
}
