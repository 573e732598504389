//! Pictures drawn in memory and written as PNG files: plotters draws into an RGB buffer, the
//! `image` crate encodes it, and the one atomic write puts it in place, so a crash or a full disk
//! never leaves half a picture.

use std::path::Path;

use image::codecs::png::PngEncoder;
use image::{ColorType, ImageEncoder};
use plotters::backend::RGBPixel;
use plotters::prelude::*;
use plotters_backend::DrawingErrorKind;
use tapegrad_net::atomic_write::write_atomic;

use super::{ErrFn, PlotError, Root};

/// What plotters reports when drawing fails.
pub type DrawError = DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

/// What went wrong in plotters, as a sentence (its own messages are `Debug` dumps).
pub fn describe(e: &DrawError) -> &'static str {
    match e {
        DrawingAreaErrorKind::BackendError(DrawingErrorKind::FontError(_)) => {
            "the embedded font cannot draw the text"
        }
        DrawingAreaErrorKind::BackendError(DrawingErrorKind::DrawingError(_)) => {
            "the in-memory picture does not have the size it was made with"
        }
        DrawingAreaErrorKind::SharingError => "the picture was drawn on from two places at once",
        DrawingAreaErrorKind::LayoutError => "the chart does not fit the picture",
    }
}

/// A white picture of `size` in memory, drawn on by `draw`, then written to `path` as a PNG.
pub fn render(
    path: &Path,
    size: (u32, u32),
    err: ErrFn,
    draw: impl FnOnce(&Root<'_>) -> Result<(), PlotError>,
) -> Result<(), PlotError> {
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut pixels, size)
            .map_err(|e| {
                err(&DrawingAreaErrorKind::BackendError(
                    DrawingErrorKind::DrawingError(e),
                ))
            })?;
        let root = backend.into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| err(&e))?;
    }
    write_png(path, &pixels, size)
}

/// Encodes RGB `pixels` of `(width, height)` as PNG and writes them atomically to `path`.
pub fn write_png(path: &Path, pixels: &[u8], (width, height): (u32, u32)) -> Result<(), PlotError> {
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(pixels, width, height, ColorType::Rgb8)
        .map_err(|e| PlotError::Draw {
            path: path.to_path_buf(),
            message: format!("encoding the PNG: {e}"),
        })?;
    write_atomic(path, &png).map_err(|e| PlotError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
