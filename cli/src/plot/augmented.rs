//! `augment.png`: what the run's augmentation does to its images: a few training examples,
//! each in a row, the original first (framed) and augmented versions after it, in the images'
//! own grey levels or colours (raw intensities, the mean image added back).

use std::path::Path;

use ndarray::ArrayView2;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::colour::grey_level;
use super::{check_output, draw_err, ensure_font, input_err, render, PlotError, FONT};
use tapegrad_net::data::ImageShape;

/// Side in pixels that tiles are scaled up towards (8x8 digits become 48x48).
const TILE_TARGET: usize = 56;
/// Gap in pixels between tiles, and the wider one after each row's original.
const GAP: usize = 3;
const ORIGINAL_GAP: usize = 14;
/// Height of the title band; margin around the body.
const TITLE: usize = 44;
const PAD: usize = 12;
/// The narrowest picture, and the width a title's character needs at its font size.
const MIN_WIDTH: usize = 520;
const TITLE_CHAR: usize = 10;
/// The grey of the background between tiles.
const BACKGROUND: u8 = 200;

/// Draws `augment.png` at `path`: row `r` of the grid is `originals` row `r` followed by
/// `augmented[r]`'s rows, every one an image of `shape` in raw units (the darkest value drawn
/// black, the lightest white, over the whole picture); `title` says what was drawn.
pub fn augment_picture(
    path: &Path,
    shape: ImageShape,
    originals: ArrayView2<'_, f32>,
    augmented: &[ArrayView2<'_, f32>],
    title: &str,
) -> Result<(), PlotError> {
    check_output(path)?;
    if shape.channels != 1 && shape.channels != 3 {
        let msg = format!("images must have 1 or 3 channels, not {}", shape.channels);
        return Err(input_err(path, msg));
    }
    let d = shape.len();
    let per_row = 1 + augmented.first().map_or(0, |a| a.nrows());
    let rows = originals.nrows();
    if d == 0
        || originals.ncols() != d
        || augmented.len() != rows
        || augmented
            .iter()
            .any(|a| a.ncols() != d || a.nrows() + 1 != per_row)
    {
        let msg = format!(
            "each row needs one original and the same number of augmented images of {d} values"
        );
        return Err(input_err(path, msg));
    }
    ensure_font().map_err(|message| PlotError::Font {
        path: path.to_path_buf(),
        message,
    })?;

    let all = || {
        originals
            .iter()
            .chain(augmented.iter().flat_map(|a| a.iter()))
    };
    let finite = all().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((0.0f32, 0.0f32), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let span = if hi > lo { (hi - lo) as f64 } else { 1.0 };
    let level = |v: f32| grey_level(2.0 * (v - lo) as f64 / span - 1.0);

    let side = shape.height.max(shape.width);
    let scale = ((TILE_TARGET + side / 2) / side).max(1);
    let (tw, th) = (shape.width * scale, shape.height * scale);
    let body_w = per_row * tw + (per_row - 1) * GAP + (ORIGINAL_GAP - GAP);
    let body_h = rows * th + rows.saturating_sub(1) * GAP;
    let title_w = 2 * PAD + TITLE_CHAR * title.chars().count();
    let width = (2 * PAD + body_w).max(MIN_WIDTH).max(title_w);
    let height = TITLE + body_h + PAD;
    let mut body = vec![BACKGROUND; body_w * body_h * 3];
    let mut tile = |image: &[f32], left: usize, top: usize| {
        for (y, x) in (0..th).flat_map(|y| (0..tw).map(move |x| (y, x))) {
            let (py, px) = (y / scale, x / scale);
            let rgb = match shape.channels {
                1 => [level(image[shape.index(py, px, 0)]); 3],
                _ => [0, 1, 2].map(|c| level(image[shape.index(py, px, c)])),
            };
            let at = 3 * ((top + y) * body_w + left + x);
            body[at..at + 3].copy_from_slice(&rgb);
        }
    };
    for (r, (original, versions)) in originals.rows().into_iter().zip(augmented).enumerate() {
        let top = r * (th + GAP);
        tile(&original.to_vec(), 0, top);
        for (i, image) in versions.rows().into_iter().enumerate() {
            let left = tw + ORIGINAL_GAP + i * (tw + GAP);
            tile(&image.to_vec(), left, top);
        }
    }

    let err = draw_err(path, "drawing the augmented images");
    render(path, (width as u32, height as u32), &err, |root| {
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let style = TextStyle::from((FONT, 18).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(title, (PAD as i32, TITLE as i32 / 2), style))
            .map_err(|e| err(&e))?;
        let element = BitMapElement::with_owned_buffer(
            (PAD as i32, TITLE as i32),
            (body_w as u32, body_h as u32),
            body,
        )
        .ok_or_else(|| input_err(path, "the augmented images have the wrong size"))?;
        root.draw(&element).map_err(|e| err(&e))?;
        Ok(())
    })
}
