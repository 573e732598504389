//! Pictures (PNG, JPEG) as a model's input, for `tapegrad predict`.
//!
//! This is file decoding for the command line, so it lives here, beside the `image` crate
//! the CLI already uses to draw its plots; the library keeps to the data sets' formats and
//! stays free of image codecs. Steps, each documented in the README:
//!
//! 1. read at most [`MAX_PICTURE_FILE_BYTES`] and decode within [`MAX_PICTURE_SIDE`] and
//!    [`MAX_PICTURE_DECODED_BYTES`] (the decoder checks the header's size before it
//!    allocates);
//! 2. scale it, keeping its aspect ratio, to fit the model's image with `image`'s
//!    `thumbnail`: an output pixel is the mean of the picture's pixels it covers (area
//!    averaging, the way the digits' 8x8 block counts and MNIST's anti-aliased images came
//!    about), and a picture smaller than the model's image is interpolated;
//! 3. lay transparent pixels over white, convert to the model's channels (grey is the sRGB
//!    luma, 0.2126 R + 0.7152 G + 0.0722 B) as intensities in `[0, 1]`, and centre it on a
//!    canvas of the model's size filled with the picture's own border colour;
//! 4. invert (`x → 1 - x`) as `--invert` says: `auto` inverts a grey picture whose border is
//!    light when the border of the model's mean image is dark, or the other way round, so
//!    that a dark digit drawn on white meets a model of light digits on black (MNIST, the
//!    built-in digits) the way its training images looked.
//!
//! The row is then in the units of the model's training images after `input_scale`
//! (intensities in `[0, 1]`), so only the mean image remains to subtract.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;

use image::io::{Limits, Reader};
use image::{DynamicImage, ImageFormat};
use tapegrad_net::checkpoint::SavedModel;
use tapegrad_net::data::ImageShape;
use tapegrad_net::limits::{MAX_PICTURE_DECODED_BYTES, MAX_PICTURE_FILE_BYTES, MAX_PICTURE_SIDE};

use crate::args::Invert;
use crate::failure::{Failure, Outcome};

/// The picture formats read (the `image` crate's features that the CLI enables).
const FORMATS: [ImageFormat; 2] = [ImageFormat::Png, ImageFormat::Jpeg];

/// A picture as one row of the model's inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    /// `height x width x channels` intensities in `[0, 1]`, in the model's layout.
    pub row: Vec<f32>,
    /// Whether it was inverted.
    pub inverted: bool,
}

/// Whether `path` starts like a PNG or JPEG file (by its first bytes, not its name).
pub fn is_picture(path: &Path) -> bool {
    let mut head = Vec::with_capacity(16);
    let read = File::open(path).and_then(|f| f.take(16).read_to_end(&mut head));
    read.is_ok()
        && image::guess_format(&head)
            .map(|f| FORMATS.contains(&f))
            .unwrap_or(false)
}

/// Reads the picture at `path` as one input row of `model` (see the module's steps).
pub fn read_picture(path: &Path, model: &SavedModel, invert: Invert) -> Outcome<Picture> {
    let bad = |what: String| Failure::input(format!("picture {}: {what}", path.display()));
    let shape = model.info.image.ok_or_else(|| {
        bad(format!(
            "the model was trained on {}, which are not images (its file records no image \
             shape), so it cannot score pictures",
            model.info.dataset
        ))
    })?;
    if shape.channels != 1 && shape.channels != 3 {
        return Err(bad(format!(
            "the model's images have {} channels; pictures are read as 1 (grey) or 3 (RGB)",
            shape.channels
        )));
    }
    let (width, height) = match (u32::try_from(shape.width), u32::try_from(shape.height)) {
        (Ok(w), Ok(h)) => (w, h),
        _ => {
            return Err(bad(
                "the model's image shape is too large for a picture".into()
            ))
        }
    };
    let picture = decode(path)?;
    let small = picture.thumbnail(width, height).to_rgba32f();
    // Transparent pixels over white; then grey or RGB intensities.
    let pixel = |x: u32, y: u32| -> [f32; 3] {
        let [r, g, b, a] = small.get_pixel(x, y).0;
        [r, g, b].map(|c| (c * a + (1.0 - a)).clamp(0.0, 1.0))
    };
    let to_channels = |rgb: [f32; 3]| -> [f32; 3] {
        if shape.channels == 1 {
            let luma = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
            [luma, luma, luma]
        } else {
            rgb
        }
    };
    let (sw, sh) = small.dimensions();
    let border = border_colour(sw, sh, |x, y| to_channels(pixel(x, y)));
    let (left, top) = ((width - sw) / 2, (height - sh) / 2);
    let mut row = vec![0.0f32; shape.len()];
    for y in 0..height {
        for x in 0..width {
            let inside = (left..left + sw).contains(&x) && (top..top + sh).contains(&y);
            let value = if inside {
                to_channels(pixel(x - left, y - top))
            } else {
                border
            };
            for (c, v) in value.iter().enumerate().take(shape.channels) {
                row[shape.index(y as usize, x as usize, c)] = *v;
            }
        }
    }
    let inverted = match invert {
        Invert::Yes => true,
        Invert::No => false,
        Invert::Auto => {
            let model_border = border_mean(shape, |i| model.mean.as_array()[i]);
            let picture_border = border_mean(shape, |i| row[i]);
            shape.channels == 1 && (picture_border > 0.5) != (model_border > 0.5)
        }
    };
    if inverted {
        row.iter_mut().for_each(|v| *v = 1.0 - *v);
    }
    Ok(Picture { row, inverted })
}

/// Decodes a PNG or JPEG file within the picture limits.
fn decode(path: &Path) -> Outcome<DynamicImage> {
    let bad = |what: String| Failure::input(format!("picture {}: {what}", path.display()));
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(MAX_PICTURE_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    if bytes.len() as u64 > MAX_PICTURE_FILE_BYTES {
        return Err(bad(format!(
            "it holds more than {MAX_PICTURE_FILE_BYTES} bytes, the most a picture may hold"
        )));
    }
    let mut reader = Reader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    if !reader.format().is_some_and(|f| FORMATS.contains(&f)) {
        return Err(bad("it is not a PNG or JPEG file".into()));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_PICTURE_SIDE);
    limits.max_image_height = Some(MAX_PICTURE_SIDE);
    limits.max_alloc = Some(MAX_PICTURE_DECODED_BYTES);
    reader.limits(limits);
    reader.decode().map_err(|e| {
        bad(format!(
            "cannot decode it: {e} (at most {MAX_PICTURE_SIDE} pixels a side and \
             {MAX_PICTURE_DECODED_BYTES} bytes decoded)"
        ))
    })
}

/// The outermost pixels of a `height x width` image, as `(y, x)`, each once.
fn border(height: usize, width: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..height).flat_map(move |y| {
        let edge_row = y == 0 || y + 1 == height;
        let step = if edge_row {
            1
        } else {
            width.saturating_sub(1).max(1)
        };
        (0..width).step_by(step).map(move |x| (y, x))
    })
}

/// The mean colour of the border of a `w x h` picture.
fn border_colour(w: u32, h: u32, pixel: impl Fn(u32, u32) -> [f32; 3]) -> [f32; 3] {
    let mut sum = [0.0f64; 3];
    let mut n = 0usize;
    for (y, x) in border(h as usize, w as usize) {
        for (s, v) in sum.iter_mut().zip(pixel(x as u32, y as u32)) {
            *s += f64::from(v);
        }
        n += 1;
    }
    sum.map(|s| (s / n.max(1) as f64) as f32)
}

/// The mean of an image's border over its channels; `value(i)` is feature `i`.
fn border_mean(shape: ImageShape, value: impl Fn(usize) -> f32) -> f32 {
    let mut sum = 0.0f64;
    let mut n = 0usize;
    for (y, x) in border(shape.height, shape.width) {
        for c in 0..shape.channels {
            sum += f64::from(value(shape.index(y, x, c)));
            n += 1;
        }
    }
    (sum / n.max(1) as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::border;

    #[test]
    fn border_visits_each_outermost_pixel_once() {
        let cells: Vec<_> = border(3, 4).collect();
        assert_eq!(
            cells,
            [
                (0, 0),
                (0, 1),
                (0, 2),
                (0, 3),
                (1, 0),
                (1, 3),
                (2, 0),
                (2, 1),
                (2, 2),
                (2, 3)
            ]
        );
        assert_eq!(border(1, 1).collect::<Vec<_>>(), [(0, 0)]);
        assert_eq!(border(3, 1).count(), 3);
    }
}
