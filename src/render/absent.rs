//! A build without the `pdf` feature (the fuzz targets'): no typst, so every render is refused
//! with [`RenderError::Unavailable`] and every tool but the document ones works as usual.

use super::{Job, RenderError};

pub fn warm() {}

pub fn covered(_: char) -> bool {
    true
}

pub fn typeset(_: &Job) -> Result<(Vec<u8>, usize), RenderError> {
    Err(RenderError::Unavailable)
}
