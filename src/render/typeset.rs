//! The typst engine: the bundled fonts, one compile and the PDF/A-3u export.

use std::sync::LazyLock;

use chrono::Datelike;
use typst::foundations::Smart;
use typst::text::Font;
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use super::{Job, RenderError, world};

/// typst memoizes (comemo) across compilations in a process-wide cache that only grows until
/// told to evict: without eviction a server's RSS climbed past 900 MB in a minute of renders.
/// After each document, entries unused in the last few compilations go; the fonts' and the shared
/// template's stay warm.
const CACHE_AGE: usize = 4;

/// The bundled fonts, parsed once per process.
static FONTS: LazyLock<Vec<Font>> =
    LazyLock::new(|| typst_assets::fonts().flat_map(|data| Font::iter(typst::foundations::Bytes::new(data))).collect());

/// Parses the fonts now rather than on the first document.
pub fn warm() {
    LazyLock::force(&FONTS);
}

/// Whether a bundled font has a glyph for `c`.
pub fn covered(c: char) -> bool {
    FONTS.iter().any(|f| f.info().coverage.contains(c as u32))
}

/// The PDF and its page count.
pub fn typeset(job: &Job) -> Result<(Vec<u8>, usize), RenderError> {
    let typeset = compile(job);
    typst::comemo::evict(CACHE_AGE);
    release_freed_memory();
    typeset
}

/// Hands the pages a document freed back to the system. glibc keeps freed memory in the arena of
/// the thread that freed it (a blocking-pool thread, typst's rayon threads), where the next
/// document, on another thread, cannot reuse it; so each peak stacked on the last one's leftovers.
/// In the bench (5 s each, one run) eight invoice renders at once peaked at 51 MB instead of 62,
/// and a 500-row statement at 89 MB instead of 108. The next document faults its pages in again;
/// render CPU per invoice stayed within the runs' noise (14.2 ms, against 14.4–15.1 without).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of glibc's own arenas to the kernel; it
    // touches no memory the program holds.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn compile(job: &Job) -> Result<(Vec<u8>, usize), RenderError> {
    let world = world::DocumentWorld::new(job, &FONTS);
    let document: PagedDocument = typst::compile(&world).output.map_err(|errors| {
        RenderError::Typeset(errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))
    })?;
    let date = typst::foundations::Datetime::from_ymd_hms(
        job.date.year(),
        job.date.month() as u8,
        job.date.day() as u8,
        0,
        0,
        0,
    )
    .ok_or_else(|| RenderError::Typeset(format!("date {} is out of range", job.date)))?;
    let options = PdfOptions {
        ident: Smart::Custom(job.ident.clone()),
        creator: Smart::Custom(Some(format!("Tally {} (typst 0.15.1)", env!("CARGO_PKG_VERSION")))),
        timestamp: Some(Timestamp::new_utc(date)),
        standards: PdfStandards::new(&[PdfStandard::A_3u]).expect("PDF/A-3u is a valid standard on its own"),
        // Untagged: tags make long tables about six times larger, and PDF/A-3u does not need them.
        tagged: false,
        ..PdfOptions::default()
    };
    let pdf = typst_pdf::pdf(&document, &options).map_err(|errors| {
        RenderError::Typeset(errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))
    })?;
    Ok((pdf, document.pages().len()))
}
