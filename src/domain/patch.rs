//! A field of a partial update: left as it is, cleared, or set. Updates that change "only the
//! fields given" take these, so that an absent field and an explicit `null` mean different things.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Absent: keep the current value.
    #[default]
    Keep,
    /// `null`: clear it.
    Clear,
    /// A value: set it.
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Self::Keep)
    }

    /// The value after the update, given the current one.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Self::Keep => current,
            Self::Clear => None,
            Self::Set(value) => Some(value),
        }
    }

    pub fn as_ref(&self) -> Patch<&T> {
        match self {
            Self::Keep => Patch::Keep,
            Self::Clear => Patch::Clear,
            Self::Set(value) => Patch::Set(value),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Self::Keep => Patch::Keep,
            Self::Clear => Patch::Clear,
            Self::Set(value) => Patch::Set(f(value)),
        }
    }
}

/// Absent is the field's default (declare it `#[serde(default)]`); `null` clears; a value sets.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Self::Clear,
            Some(value) => Self::Set(value),
        })
    }
}

/// For idempotency fingerprints: keep, clear and set are three different requests.
impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Keep => s.serialize_str("$keep"),
            Self::Clear => s.serialize_none(),
            Self::Set(value) => value.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Patch;

    #[derive(serde::Deserialize)]
    struct Update {
        #[serde(default)]
        phone: Patch<String>,
    }

    #[test]
    fn absent_null_and_value_differ() {
        let read = |json: &str| serde_json::from_str::<Update>(json).unwrap().phone;
        assert_eq!(read("{}"), Patch::Keep);
        assert_eq!(read(r#"{"phone":null}"#), Patch::Clear);
        assert_eq!(read(r#"{"phone":"+1 555"}"#), Patch::Set("+1 555".to_owned()));
        assert_eq!(Patch::Keep.apply(Some(1)), Some(1));
        assert_eq!(Patch::<i32>::Clear.apply(Some(1)), None);
        assert_eq!(Patch::Set(2).apply(Some(1)), Some(2));
    }
}
