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

/// Where pixel (`x`, `y`) of channel `c` sits in a row of features: `c·cs + y·ys + x·xs`.
#[derive(Debug, Clone, Copy)]
struct Strides {
    xs: usize,
    ys: usize,
    cs: usize,
}

impl Strides {
    fn of(shape: ImageShape) -> Self {
        let (h, w, c) = (shape.height, shape.width, shape.channels);
        match shape.channel_major || c == 1 {
            true => Strides {
                xs: 1,
                ys: w,
                cs: h * w,
            },
            false => Strides {
                xs: c,
                ys: w * c,
                cs: 1,
            },
        }
    }
}

/// Scratch values [`warp`] needs for an image of `shape`: the image in raw units and five
/// values per pixel of a row.
pub fn warp_scratch_len(shape: ImageShape) -> usize {
    shape.len() + 5 * shape.width
}

/// Draws `out` (one image of `shape`) by sampling `pixels` bilinearly at `source(x, y)` for
/// each output pixel (`x`, `y`), every channel alike; neighbours outside the image count as raw
/// 0 (see the module docs for `offset`, which has one value per feature, like `pixels`).
///
/// `scratch` ([`warp_scratch_len`] values) holds the image in raw units and a row's sample
/// points. With zero offset the output lies within the range of the input's values and 0:
/// every output is a convex combination of input pixels and the background.
pub fn warp(
    pixels: &[f32],
    offset: &[f32],
    shape: ImageShape,
    source: impl Fn(usize, usize) -> (f32, f32),
    scratch: &mut [f32],
    out: &mut [f32],
) {
    let (h, w) = (shape.height as isize, shape.width as isize);
    let s = Strides::of(shape);
    let channels = shape.channels;
    let (pixels, offset) = (&pixels[..shape.len()], &offset[..shape.len()]);
    let (raw, rows) = scratch[..warp_scratch_len(shape)].split_at_mut(shape.len());
    for ((r, &p), &o) in raw.iter_mut().zip(pixels).zip(offset) {
        *r = p + o;
    }
    let raw = &*raw;
    let width = shape.width;
    let (ax, rest) = rows.split_at_mut(width);
    let (ay, rest) = rest.split_at_mut(width);
    // Integers kept in the bits of f32 scratch values (`f32::from_bits`, read back with
    // `to_bits`): the floors, and the first neighbour's index (`OUTSIDE` unless all four
    // neighbours are inside).
    let (fx, rest) = rest.split_at_mut(width);
    let (fy, first) = rest.split_at_mut(width);
    const OUTSIDE: u32 = u32::MAX;
    let (xs, ys) = (s.xs as i32, s.ys as i32);
    for y in 0..shape.height {
        // A row's sample points first, in loops without branches or library calls that the
        // compiler can turn into vector code.
        for x in 0..width {
            (ax[x], ay[x]) = source(x, y);
        }
        for x in 0..width {
            let (ix, floor_x) = floor(ax[x]);
            let (iy, floor_y) = floor(ay[x]);
            let inside = ix >= 0 && iy >= 0 && ix < w as i32 - 1 && iy < h as i32 - 1;
            let k = iy.wrapping_mul(ys).wrapping_add(ix.wrapping_mul(xs)) as u32;
            first[x] = f32::from_bits(if inside { k } else { OUTSIDE });
            (fx[x], fy[x]) = (f32::from_bits(ix as u32), f32::from_bits(iy as u32));
            ax[x] -= floor_x;
            ay[x] -= floor_y;
        }
        for x in 0..width {
            let p = y * s.ys + x * s.xs;
            let (ax, ay) = (ax[x], ay[x]);
            let weights = [
                (1.0 - ax) * (1.0 - ay),
                ax * (1.0 - ay),
                (1.0 - ax) * ay,
                ax * ay,
            ];
            if first[x].to_bits() != OUTSIDE {
                // All four neighbours inside: the common case, without checks.
                let k = first[x].to_bits() as usize;
                if ax == 0.0 && ay == 0.0 {
                    // A whole-pixel move: an exact copy.
                    for o in (0..channels).map(|c| c * s.cs) {
                        out[p + o] = pixels[k + o] + (offset[k + o] - offset[p + o]);
                    }
                    continue;
                }
                if channels == 1 {
                    // Grey: the two rows of two neighbours as slices, one check each.
                    let (top, bottom) = (&raw[k..k + 2], &raw[k + s.ys..k + s.ys + 2]);
                    let top = weights[0] * top[0] + weights[1] * top[1];
                    let bottom = weights[2] * bottom[0] + weights[3] * bottom[1];
                    out[p] = (top + bottom) - offset[p];
                    continue;
                }
                let ks = [k, k + s.xs, k + s.ys, k + s.ys + s.xs];
                for o in (0..channels).map(|c| c * s.cs) {
                    let raw = |k: usize| raw[k + o];
                    let top = weights[0] * raw(ks[0]) + weights[1] * raw(ks[1]);
                    let bottom = weights[2] * raw(ks[2]) + weights[3] * raw(ks[3]);
                    out[p + o] = (top + bottom) - offset[p + o];
                }
                continue;
            }
            let (x0, y0) = (
                fx[x].to_bits() as i32 as isize,
                fy[x].to_bits() as i32 as isize,
            );
            let corners = [(x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1)];
            for c in 0..channels {
                let o = c * s.cs;
                let (mut value, mut background) = (0.0f32, 0.0f32);
                for (&(cx, cy), &wt) in corners.iter().zip(&weights) {
                    if wt != 0.0 && (0..w).contains(&cx) && (0..h).contains(&cy) {
                        let k = cy as usize * s.ys + cx as usize * s.xs + o;
                        value += wt * pixels[k];
                        background += wt * offset[k];
                    }
                }
                out[p + o] = value + (background - offset[p + o]);
            }
        }
    }
}

/// `⌊v⌋` as an integer and as an `f32`, for `v` clamped to ±2^21 first (far outside any
/// image either way; NaN counts as -2^21), without a library call (`f32::floor` is one on x86-64 without SSE4.1)
/// or a saturating conversion: adding 1.5·2^23 rounds `v` to an integer held in the sum's low
/// mantissa bits.
#[inline]
fn floor(v: f32) -> (i32, f32) {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23
    const LIMIT: f32 = 2_097_152.0; // 2^21
    #[allow(clippy::manual_clamp)] // clamp keeps NaN; max turns it into -LIMIT
    let v = v.max(-LIMIT).min(LIMIT);
    let sum = v + MAGIC;
    let (rounded, nearest) = (sum - MAGIC, sum.to_bits() as i32 - MAGIC.to_bits() as i32);
    let above = rounded > v;
    (
        nearest - i32::from(above),
        rounded - if above { 1.0 } else { 0.0 },
    )
}

/// Draws `out` (one image of `shape`) as `pixels`, mirrored left to right first if `flip`, moved
/// by `(dx, dy)` whole pixels (right and down); pixels moved in from outside are blank (raw
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
    let s = Strides::of(shape);
    let (pixels, offset) = (&pixels[..shape.len()], &offset[..shape.len()]);
    for c in 0..shape.channels {
        let o = c * s.cs;
        for y in 0..shape.height {
            let sy = y as isize - dy;
            let row = o + y * s.ys;
            for x in 0..shape.width {
                let moved = x as isize - dx;
                let sx = if flip { w - 1 - moved } else { moved };
                let p = row + x * s.xs;
                out[p] = if (0..w).contains(&sx) && (0..h).contains(&sy) {
                    let k = o + sy as usize * s.ys + sx as usize * s.xs;
                    pixels[k] + (offset[k] - offset[p])
                } else {
                    -offset[p]
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::floor;

    #[test]
    fn floor_matches_the_library_floor_and_clamps_far_and_nan_points() {
        for v in [
            0.0f32,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            2.999,
            -2.001,
            27.5,
            -3.0,
            1e5 + 0.25,
        ] {
            assert_eq!(floor(v), (v.floor() as i32, v.floor()), "{v}");
        }
        assert_eq!(floor(1e30).0, 1 << 21);
        assert_eq!(floor(f32::NAN).0, -(1 << 21));
        assert_eq!(floor(f32::NEG_INFINITY).0, -(1 << 21));
    }
}
