//! The parties an invoice names: the seller (the tenant's business profile) and the buyer (the
//! customer). When an invoice is issued both are copied onto it (`seller_snapshot()` and
//! `buyer_snapshot()`, see migrations/), and every document of an issued invoice prints that
//! copy: a later change to the profile or the customer never reaches an issued invoice. Drafts
//! print the live parties, read through the same two functions.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::types::Json;

use super::DomainError;
use super::money::AmountStyle;

/// The seller as printed: the business profile's printed fields and which logo it had. (A field
/// a snapshot lacks reads as None.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    pub legal_name: String,
    pub address: Option<String>,
    pub tax_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub payment_instructions: Option<String>,
    pub payment_link: Option<String>,
    pub footer: Option<String>,
    /// The logo by content hash (its bytes are kept in `business_logos`, never changed).
    pub logo_sha256: Option<String>,
    pub logo_type: Option<String>,
    /// How its documents write amounts, by example (`1,234.56`); see [`AmountStyle`].
    pub amount_format: Option<String>,
}

impl Seller {
    pub fn amount_style(&self) -> AmountStyle {
        self.amount_format.as_deref().and_then(AmountStyle::parse).unwrap_or_default()
    }
}

/// The buyer as printed. `name` is None only on invoices issued, before names were required at
/// send, to a customer Tally had no record of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    pub customer_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub billing_address: Option<String>,
    pub tax_id: Option<String>,
}

/// Both parties of one invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parties {
    pub seller: Seller,
    pub buyer: Buyer,
}

/// The live parties, for a draft: the tenant's seller and `customer_id`'s buyer (its id
/// alone when the tenant has no record of it).
pub(crate) async fn live(conn: &mut PgConnection, tenant: &str, customer_id: &str) -> Result<Parties, DomainError> {
    let (seller, buyer): (Json<Seller>, Option<Json<Buyer>>) =
        sqlx::query_as("select seller_snapshot($1), buyer_snapshot($1, $2)")
            .bind(tenant)
            .bind(customer_id)
            .fetch_one(conn)
            .await?;
    let buyer = buyer.map(|b| b.0).unwrap_or_else(|| Buyer {
        customer_id: customer_id.to_owned(),
        name: None,
        email: None,
        billing_address: None,
        tax_id: None,
    });
    Ok(Parties { seller: seller.0, buyer })
}

/// The parties frozen on an issued invoice, or None for a draft.
pub(crate) async fn frozen(
    conn: &mut PgConnection,
    tenant: &str,
    invoice: uuid::Uuid,
) -> Result<Option<Parties>, DomainError> {
    /// The two frozen columns; both null on a draft.
    type Frozen = (Option<Json<Seller>>, Option<Json<Buyer>>);
    let row: Option<Frozen> =
        sqlx::query_as("select seller, buyer from invoices where tenant_id = $1 and invoice_id = $2")
            .bind(tenant)
            .bind(invoice)
            .fetch_optional(conn)
            .await?;
    Ok(match row {
        Some((Some(seller), Some(buyer))) => Some(Parties { seller: seller.0, buyer: buyer.0 }),
        _ => None,
    })
}

/// The logo a seller names, from the tenant's kept logos.
pub(crate) async fn logo(
    conn: &mut PgConnection,
    tenant: &str,
    seller: &Seller,
) -> Result<Option<Vec<u8>>, DomainError> {
    let Some(sha) = &seller.logo_sha256 else { return Ok(None) };
    Ok(sqlx::query_scalar("select bytes from business_logos where tenant_id = $1 and sha256 = $2")
        .bind(tenant)
        .bind(sha)
        .fetch_optional(conn)
        .await?)
}
