//! [`Affine`]: where each pixel of an augmented image is sampled from, for a rotation, scale,
//! shear, translation and mirror drawn at random ([`Affine::draw`]) or given ([`Affine::new`]).

use rand::Rng;

use super::AffineRanges;

/// A map from an output pixel `(x, y)` to the point of the source image it shows: the inverse
/// of "shear along x, rotate and scale about the image's centre, translate, then (optionally)
/// mirror left to right".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// `source x = x_coef · (x, y, 1)`, the mirror, centre and shift folded in.
    x_coef: [f32; 3],
    /// `source y = y_coef · (x, y, 1)`.
    y_coef: [f32; 3],
}

impl Affine {
    /// The transform that rotates the image by `rotate` degrees (counter-clockwise on the
    /// screen, where y points down), scales it by `scale`, shears it by `shear` degrees along
    /// x, moves it by `shift` pixels `(x, y)` and then mirrors it left to right if `flip`, on
    /// an image of `height x width` pixels.
    ///
    /// ```
    /// use tapegrad_net::augment::affine::Affine;
    /// let id = Affine::new(0.0, 1.0, 0.0, (0.0, 0.0), false, 5, 5);
    /// assert_eq!(id.source(3, 1), (3.0, 1.0));
    /// let moved = Affine::new(0.0, 1.0, 0.0, (1.0, 0.0), false, 5, 5);
    /// assert_eq!(moved.source(3, 1), (2.0, 1.0)); // pixel 3 shows what was at 2
    /// ```
    pub fn new(
        rotate: f64,
        scale: f64,
        shear: f64,
        shift: (f64, f64),
        flip: bool,
        height: usize,
        width: usize,
    ) -> Self {
        // Forward: p' = s R(θ) Sh(φ) p, with R(θ) = [[c, s], [-s, c]] turning counter-clockwise
        // on a screen whose y points down, and Sh(φ) = [[1, tan φ], [0, 1]]. Its inverse is
        // Sh(-φ) R(-θ) / s.
        let (sin, cos) = rotate.to_radians().sin_cos();
        let tan = shear.to_radians().tan();
        let r_inv = [[cos, -sin], [sin, cos]];
        let inverse = [
            [
                (r_inv[0][0] - tan * r_inv[1][0]) / scale,
                (r_inv[0][1] - tan * r_inv[1][1]) / scale,
            ],
            [r_inv[1][0] / scale, r_inv[1][1] / scale],
        ];
        // Output pixel (x, y) → (x', y) with x' = last - x when mirroring → minus centre and
        // shift → times the inverse → plus centre.
        let (cx, cy) = ((width as f64 - 1.0) / 2.0, (height as f64 - 1.0) / 2.0);
        let (sign, start) = match flip {
            true => (-1.0, width as f64 - 1.0),
            false => (1.0, 0.0),
        };
        let (ox, oy) = (start - cx - shift.0, -cy - shift.1);
        let row = |m: [f64; 2], c: f64| {
            [
                (m[0] * sign) as f32,
                m[1] as f32,
                (c + m[0] * ox + m[1] * oy) as f32,
            ]
        };
        Affine {
            x_coef: row(inverse[0], cx),
            y_coef: row(inverse[1], cy),
        }
    }

    /// A random transform within `ranges` (each setting uniform in `±` its range; the scale in
    /// `1 ± scale`), mirrored if `flip` (the caller draws that).
    pub fn draw(
        rng: &mut impl Rng,
        ranges: AffineRanges,
        flip: bool,
        height: usize,
        width: usize,
    ) -> Self {
        let mut within = |r: f64| match r > 0.0 {
            true => rng.random_range(-r..=r),
            false => 0.0,
        };
        let rotate = within(ranges.rotate);
        let scale = 1.0 + within(ranges.scale);
        let shear = within(ranges.shear);
        let shift = (within(ranges.shift), within(ranges.shift));
        Affine::new(rotate, scale, shear, shift, flip, height, width)
    }

    /// The source point `(x, y)` that output pixel (`x`, `y`) shows.
    #[inline]
    pub fn source(&self, x: usize, y: usize) -> (f32, f32) {
        let (x, y) = (x as f32, y as f32);
        let (a, b) = (&self.x_coef, &self.y_coef);
        (a[0] * x + a[1] * y + a[2], b[0] * x + b[1] * y + b[2])
    }
}
