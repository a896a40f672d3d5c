//! What a handler returns: a declared output, or a keyed write's kept reply.

use crate::domain::idempotency::{Keyed, Written};
use crate::schema::ToolSchema;

/// A tool's output type: its published schema and its JSON text. Implemented by every type
/// declared with [`output!`](crate::output), and by [`Reply`].
pub trait Output: Send + 'static {
    fn schema() -> ToolSchema;
    /// Where the declaration and the Rust type disagree (see [`Declared`](super::declare::Declared)).
    fn disagreements() -> Vec<String>;
    /// A fingerprint of the published schema, kept with a keyed reply: a reply kept by a
    /// version of Tally whose output differed is not replayed as if it were current.
    fn shape() -> &'static str;
    /// Serialized once: this text is the reply's `structuredContent`.
    fn into_json(self) -> serde_json::Result<String>;
    /// The structured content and the document that goes with it, if any.
    fn into_parts(self) -> serde_json::Result<(String, Option<Attachment>)>
    where
        Self: Sized,
    {
        Ok((self.into_json()?, None))
    }
}

/// A document a tool result links to (a `resource_link`), and embeds (a `resource` with its
/// bytes as a base64 blob) only when the caller asked and it fits under the embedding cap.
/// `resources/read` on the link's URI serves the same bytes.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub uri: String,
    /// A file name, e.g. `INV-000042.pdf`.
    pub name: String,
    pub title: String,
    pub mime_type: &'static str,
    pub bytes: bytes::Bytes,
    pub embed: bool,
}

/// An output with a document.
pub struct Attached<O> {
    pub output: O,
    pub attachment: Attachment,
}

impl<O: Output> Output for Attached<O> {
    fn schema() -> ToolSchema {
        O::schema()
    }

    fn disagreements() -> Vec<String> {
        O::disagreements()
    }

    fn shape() -> &'static str {
        O::shape()
    }

    fn into_json(self) -> serde_json::Result<String> {
        self.output.into_json()
    }

    fn into_parts(self) -> serde_json::Result<(String, Option<Attachment>)> {
        Ok((self.output.into_json()?, Some(self.attachment)))
    }
}

/// A write's reply. With an idempotency key the domain keeps the reply's JSON text with the
/// key (see [`Keyed`]): the first call and every repeat answer with those very bytes.
#[derive(Debug)]
pub enum Reply<O> {
    Value(O),
    Kept(String),
}

impl<O: Output> Reply<O> {
    /// The key for a write whose domain result `T` is replied as `O`.
    pub fn key<T>(key: Option<String>) -> Option<Keyed<T>>
    where
        O: From<T>,
    {
        key.map(|key| Keyed { key, keep: keep::<T, O>, shape: O::shape() })
    }
}

/// Serializing a declared output cannot fail: its maps have string keys and its numbers are
/// integers.
fn keep<T, O: Output + From<T>>(result: T) -> String {
    O::from(result).into_json().expect("a declared output serializes")
}

impl<T, O: From<T>> From<Written<T>> for Reply<O> {
    fn from(written: Written<T>) -> Self {
        match written {
            Written::Value(v) => Self::Value(v.into()),
            Written::Kept(text) | Written::Replayed(text) => Self::Kept(text),
        }
    }
}

impl<O: Output> Output for Reply<O> {
    fn schema() -> ToolSchema {
        O::schema()
    }

    fn disagreements() -> Vec<String> {
        O::disagreements()
    }

    fn shape() -> &'static str {
        O::shape()
    }

    fn into_json(self) -> serde_json::Result<String> {
        match self {
            Self::Value(v) => v.into_json(),
            Self::Kept(text) => Ok(text),
        }
    }
}
