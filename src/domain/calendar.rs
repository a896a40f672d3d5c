//! Business dates. A tenant's "today" is the date in its own time zone (set with the business
//! profile, UTC until then): the default `as_of` of every report, the latest day a payment or an
//! issue date may carry, and the day invoices fall overdue. It is read from Postgres
//! (`tenant_today()`, see migrations/), so every replica and every query agree on it.

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::DomainError;

/// The current tenant's today, on a transaction scoped to it.
pub(crate) async fn today(conn: &mut PgConnection) -> Result<NaiveDate, DomainError> {
    Ok(sqlx::query_scalar("select tenant_today()").fetch_one(conn).await?)
}

/// An IANA time zone name Postgres knows (`Europe/Berlin`, `Pacific/Kiritimati`, `UTC`; also the
/// fixed `Etc/GMT+12`, which is UTC−12: IANA keeps POSIX's inverted sign there). Abbreviations
/// (`EST`) and bare POSIX offsets (`UTC+3`, also inverted) are refused: they do not follow daylight
/// saving, or mean the opposite of what they seem to.
pub(crate) async fn check_time_zone(conn: &mut PgConnection, name: &str) -> Result<(), DomainError> {
    let named = name == "UTC" || (name.contains('/') && !name.starts_with("posix/") && !name.starts_with("right/"));
    let known: bool = named
        && sqlx::query_scalar("select exists (select 1 from pg_timezone_names where name = $1)")
            .bind(name)
            .fetch_one(conn)
            .await?;
    if known {
        return Ok(());
    }
    Err(DomainError::InvalidInput {
        field: "time_zone",
        message: format!("{name:?} is not an IANA time zone name"),
        expected: "an IANA time zone such as Europe/Berlin, America/New_York, Asia/Tokyo or UTC".into(),
    })
}

/// Refuses a time zone whose today is earlier than a day the books already hold (an issue date, a
/// payment date or a void date of the current tenant): moving there would put that record in the
/// future, and the rule that nothing is dated after today would no longer hold.
pub(crate) async fn check_zone_keeps_the_books_past(conn: &mut PgConnection, zone: &str) -> Result<(), DomainError> {
    let (their_today, latest): (NaiveDate, Option<NaiveDate>) = sqlx::query_as(
        "select (now() at time zone $1)::date,
                greatest((select max(issue_date) from invoices where tenant_id = current_setting('app.tenant_id', true)),
                         (select max(void_date) from invoices where tenant_id = current_setting('app.tenant_id', true)),
                         (select max(paid_on) from payments where tenant_id = current_setting('app.tenant_id', true)))",
    )
    .bind(zone)
    .fetch_one(conn)
    .await?;
    match latest {
        Some(latest) if latest > their_today => Err(DomainError::InvalidInput {
            field: "time_zone",
            message: format!(
                "In {zone} it is still {their_today}, but the books already hold a record dated {latest}: \
                 moving there would date it in the future. Set this time zone once {latest} has begun there."
            ),
            expected: format!("a time zone in which {latest} has begun"),
        }),
        _ => Ok(()),
    }
}

/// Refuses a day after `today`: `what` is the field, `why` says what the day records.
pub(crate) fn not_after_today(
    field: &'static str,
    day: NaiveDate,
    today: NaiveDate,
    why: &str,
) -> Result<(), DomainError> {
    if day <= today {
        return Ok(());
    }
    Err(DomainError::InvalidInput {
        field,
        message: format!("{field} {day} is after today ({today} in the business's time zone); {why}"),
        expected: format!("a date on or before {today}"),
    })
}
