//! PDF rendering: a typst template plus JSON data in, a PDF/A-3u document out. It knows nothing
//! of invoices: the domain's document service writes the templates and the data.
//!
//! - **Fonts ship in the binary** (typst-assets: Libertinus Serif, New Computer Modern, DejaVu
//!   Sans Mono; Latin, Greek and Cyrillic among them). A character no bundled font covers is
//!   printed as U+FFFD and reported in [`Rendered::warnings`], never dropped silently: typst
//!   itself would print nothing and say nothing.
//! - **Deterministic**: the document id comes from the caller's `ident` and its date from the
//!   data, never the clock, so the same data gives the same bytes.
//! - **Off the async runtime**: [`Renderer::render`] runs typst on the blocking pool behind its
//!   own semaphore, so a burst of statements waits for a render slot instead of starving tool
//!   calls of runtime threads.
//! - **One feature**: typst is behind the default `pdf` feature; a build without it (the fuzz
//!   targets') refuses every render with [`RenderError::Unavailable`].

#[cfg(not(feature = "pdf"))]
#[path = "absent.rs"]
mod engine;
#[cfg(feature = "pdf")]
#[path = "typeset.rs"]
mod engine;
#[cfg(feature = "pdf")]
mod world;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use engine::covered;
use serde_json::Value;
use tokio::sync::Semaphore;

/// The archival standard every document meets: PDF/A-3 (ISO 19005-3), level U — embedded,
/// subsetted fonts with Unicode maps, so text can be searched and extracted — and the part that
/// permits attachments, as Factur-X/ZUGFeRD e-invoices need.
pub const STANDARD: &str = "PDF/A-3u";

/// One document to render.
pub struct Job {
    /// The typst template (the main source).
    pub template: &'static str,
    /// Sources the template imports, by path: `("/common.typ", text)`.
    pub modules: &'static [(&'static str, &'static str)],
    /// Read in the template as `json(bytes(sys.inputs.data))`.
    pub data: Value,
    /// Names the document: hashed into the PDF's document id. Stable for the same document.
    pub ident: String,
    /// The document's date (the PDF's creation date, and typst's `today`).
    pub date: NaiveDate,
    /// Files the template may read, such as `("/logo.png", bytes)`.
    pub files: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Clone)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    pub pages: usize,
    /// Characters no bundled font covers, each printed as U+FFFD.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The template or a file it read was refused (an image that is no image, say).
    #[error("the document could not be typeset: {0}")]
    Typeset(String),
    #[error("the render task failed")]
    Task,
    #[error("this build of Tally has no PDF renderer (built without the `pdf` feature)")]
    Unavailable,
}

/// What stands in for a character no font has.
const REPLACEMENT: char = '\u{FFFD}';

#[derive(Clone)]
pub struct Renderer {
    slots: Arc<Semaphore>,
}

impl Renderer {
    /// At most `concurrency` documents are typeset at once; more wait for a slot.
    pub fn new(concurrency: usize) -> Self {
        engine::warm();
        Self { slots: Arc::new(Semaphore::new(concurrency.max(1))) }
    }

    /// Renders on the blocking pool once a slot is free.
    pub async fn render(&self, job: Job) -> Result<Rendered, RenderError> {
        let queued = Instant::now();
        let slot = self.slots.clone().acquire_owned().await.map_err(|_| RenderError::Task)?;
        metrics::histogram!("tally_document_render_wait_seconds").record(queued.elapsed().as_secs_f64());
        // The slot goes with the render, not with this future: a caller that gives up (a timeout,
        // a disconnect, a cancel) cannot free it while typst is still at work.
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            render(job)
        })
        .await
        .map_err(|_| RenderError::Task)?
    }
}

/// Renders on the calling thread (tests, the `render` command).
pub fn render(mut job: Job) -> Result<Rendered, RenderError> {
    let started = Instant::now();
    let warnings = cover(&mut job.data);
    let (pdf, pages) = engine::typeset(&job)?;
    metrics::histogram!("tally_document_render_seconds").record(started.elapsed().as_secs_f64());
    Ok(Rendered { pdf, pages, warnings })
}

/// Replaces, in every string of `data`, what no bundled font can print: a tab or other control
/// character, or a space no font has, becomes a plain space (PDF/A refuses a glyph a font lacks);
/// any other character no font covers becomes U+FFFD, and the warnings say which.
fn cover(data: &mut Value) -> Vec<String> {
    let mut missing = BTreeSet::new();
    visit(data, &mut |s: &mut String| {
        if s.chars().all(|c| c == '\n' || (!c.is_control() && covered(c))) {
            return;
        }
        *s = s
            .chars()
            .map(|c| match c {
                '\n' => c,
                c if c.is_control() => ' ',
                c if covered(c) => c,
                c if c.is_whitespace() => ' ',
                c => {
                    missing.insert(c);
                    REPLACEMENT
                }
            })
            .collect();
    });
    missing
        .into_iter()
        .map(|c| {
            format!("U+{:04X} ({c}) is in no bundled font (Latin, Greek, Cyrillic): printed as {REPLACEMENT}", c as u32)
        })
        .collect()
}

fn visit(value: &mut Value, f: &mut impl FnMut(&mut String)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| visit(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| visit(v, f)),
        _ => {}
    }
}

#[cfg(all(test, feature = "pdf"))]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_bundled_fonts_cover_latin_greek_cyrillic_and_the_replacement() {
        for c in "Aé€ΑΩαωАЯаяЁё".chars().chain([REPLACEMENT]) {
            assert!(covered(c), "{c} (U+{:04X}) is not covered", c as u32);
        }
    }

    #[test]
    fn an_uncovered_character_is_replaced_and_reported() {
        let mut data = json!({ "name": "Acme 中文", "lines": [{ "d": "a\tb\u{7}c\u{3000}d\ne" }] });
        let warnings = cover(&mut data);
        assert_eq!(data["name"], "Acme \u{FFFD}\u{FFFD}");
        assert_eq!(data["lines"][0]["d"], "a b c d\ne", "controls and unprintable spaces become spaces");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("U+4E2D (中)"), "{warnings:?}");
    }
}
