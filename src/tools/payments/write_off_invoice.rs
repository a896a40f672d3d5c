//! write_off_invoice: close what is still due on an invoice as a bad debt.

use chrono::NaiveDate;

use crate::domain::invoices::settle::WriteOff;
use crate::domain::{InvoiceId, InvoiceService};
use crate::schema::{Format, string};
use crate::tools::Reply;
use crate::tools::Role;
use crate::tools::outputs::Settled;
use crate::tools::shapes::{idempotency_key, invoice_id};
use crate::tools::{About, Annotations, Tool, ToolContext, ToolFailure};

pub struct WriteOffInvoice(pub InvoiceService);

crate::params! {
    pub struct WriteOffInvoiceParams {
        invoice_id: InvoiceId = invoice_id(),
        reason: String = string().min_len(1).max_len(500).describe("Why it will not be paid, e.g. \"Customer insolvent, claim filed 2026-11-02\"."),
        written_off_on: Option<NaiveDate> = string().format(Format::Date).optional().describe("The day it is written off, YYYY-MM-DD; defaults to today. Not in the future, not before the invoice's date."),
        idempotency_key: Option<String> = idempotency_key(),
    }
}

impl Tool for WriteOffInvoice {
    type Params = WriteOffInvoiceParams;
    type Output = Reply<Settled>;

    fn about() -> About {
        About {
            name: "write_off_invoice",
            title: "Write off invoice",
            description: "Close everything still due on a sent or overdue invoice as a bad debt, with a reason. \
                The invoice becomes written_off; payments already received stay on record. A write-off is not a \
                tax document (not a credit note): it shows in aging, statements and the invoice's history. \
                Returns the amount written off.",
            annotations: Annotations::DESTRUCTIVE,
            role: Role::Admin,
        }
    }

    async fn call(&self, ctx: ToolContext, p: WriteOffInvoiceParams) -> Result<Reply<Settled>, ToolFailure> {
        let key = Reply::<Settled>::key(p.idempotency_key);
        let w = WriteOff { reason: p.reason, written_off_on: p.written_off_on };
        Ok(self.0.write_off(&ctx.actor(), p.invoice_id, w, key).await?.into())
    }
}
