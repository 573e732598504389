//! Redrawing an image through a map of source points: bilinear [`warp`] and the exact
//! whole-pixel [`shift`].
//!
//! Images may have had an offset subtracted from every pixel (the training set's mean image):
//! `pixels[p] = raw[p] - offset[p]`. Resampling happens in raw units, where the background
//! outside the image is 0: the output is `Σ w_k raw[k] - offset[p]`, computed as
//! `Σ w_k pixels[k] + (Σ w_k offset[k] - offset[p])` so that a pixel copied from its own place
//! comes back bit for bit, and a pixel whose whole neighbourhood is outside the image becomes
//! `-offset[p]`, exactly what a blank raw pixel becomes.

use crate::data::ImageShape;

/// Draws `out` (one image of `shape`) by sampling `pixels` bilinearly at `source(x, y)` for
/// each output pixel (`x`, `y`), every channel alike; neighbours outside the image count as raw
/// 0 (see the module docs for `offset`, which has one value per feature, like `pixels`).
///
/// With zero offset the output lies within the range of the input's values and 0: every
/// output is a convex combination of input pixels and the background.
pub fn warp(
    pixels: &[f32],
    offset: &[f32],
    shape: ImageShape,
    source: impl Fn(usize, usize) -> (f64, f64),
    out: &mut [f32],
) {
    let (h, w) = (shape.height as isize, shape.width as isize);
    for y in 0..shape.height {
        for x in 0..shape.width {
            let (sx, sy) = source(x, y);
            let (fx, fy) = (sx.floor(), sy.floor());
            let (ax, ay) = ((sx - fx) as f32, (sy - fy) as f32);
            // Saturating: a point far outside stays outside.
            let (x0, y0) = (fx as isize, fy as isize);
            let corners = [
                (x0, y0, (1.0 - ax) * (1.0 - ay)),
                (x0 + 1, y0, ax * (1.0 - ay)),
                (x0, y0 + 1, (1.0 - ax) * ay),
                (x0 + 1, y0 + 1, ax * ay),
            ];
            for c in 0..shape.channels {
                let p = shape.index(y, x, c);
                let (mut value, mut background) = (0.0f32, 0.0f32);
                for &(cx, cy, weight) in &corners {
                    if weight != 0.0 && (0..w).contains(&cx) && (0..h).contains(&cy) {
                        let k = shape.index(cy as usize, cx as usize, c);
                        value += weight * pixels[k];
                        background += weight * offset[k];
                    }
                }
                out[p] = value + (background - offset[p]);
            }
        }
    }
}

/// Draws `out` (one image of `shape`) as `pixels` moved by `(dx, dy)` whole pixels (right and
/// down), mirrored left to right first if `flip`; pixels moved in from outside are blank (raw
/// 0; see the module docs for `offset`). Exact: no interpolation.
pub fn shift(
    pixels: &[f32],
    offset: &[f32],
    shape: ImageShape,
    (dx, dy): (isize, isize),
    flip: bool,
    out: &mut [f32],
) {
    let (h, w) = (shape.height as isize, shape.width as isize);
    for y in 0..shape.height {
        let sy = y as isize - dy;
        for x in 0..shape.width {
            let moved = x as isize - dx;
            let sx = if flip { w - 1 - moved } else { moved };
            let inside = (0..w).contains(&sx) && (0..h).contains(&sy);
            for c in 0..shape.channels {
                let p = shape.index(y, x, c);
                out[p] = if inside {
                    let k = shape.index(sy as usize, sx as usize, c);
                    pixels[k] + (offset[k] - offset[p])
                } else {
                    -offset[p]
                };
            }
        }
    }
}
