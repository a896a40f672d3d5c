//! Decimal numbers read exactly. A JSON number arrives as a float; its shortest round-trip
//! spelling is the text the caller wrote (for any number with fewer than 16 significant digits),
//! so that text, not the float, is what a [`decimal`](super::decimal) field's value is.

use rust_decimal::Decimal;
use serde_json::{Number, Value};

/// The decimal a JSON number spells, or None (beyond what a decimal holds).
pub fn parse_number(n: &Number) -> Option<Decimal> {
    let text = n.to_string();
    text.parse::<Decimal>().ok().or_else(|| Decimal::from_scientific(&text).ok()).map(|d| d.normalize())
}

/// A decimal as a JSON number: an integer when it is whole, else the float whose shortest
/// spelling is the decimal's own (`1.5`, `8.875`).
pub fn to_json(d: Decimal) -> Value {
    let d = d.normalize();
    if d.scale() == 0
        && let Ok(i) = i64::try_from(d)
    {
        return Value::from(i);
    }
    d.to_string().parse::<f64>().ok().and_then(Number::from_f64).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_read_as_written() {
        let read = |v: Value| parse_number(v.as_number().unwrap()).unwrap().to_string();
        assert_eq!(read(json!(1.1)), "1.1");
        assert_eq!(read(json!(0.1)), "0.1");
        assert_eq!(read(json!(2)), "2");
        assert_eq!(read(json!(1.0)), "1");
        assert_eq!(read(json!(8.875)), "8.875");
        assert_eq!(read(json!(0.0001)), "0.0001");
        assert_eq!(read(serde_json::from_str::<Value>("1e-7").unwrap()), "0.0000001");
        assert_eq!(to_json("1.5000".parse().unwrap()), json!(1.5));
        assert_eq!(to_json("3.0000".parse().unwrap()), json!(3));
        assert_eq!(to_json("8.875".parse().unwrap()).to_string(), "8.875");
    }
}
