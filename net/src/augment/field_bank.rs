//! A bank of elastic displacement fields drawn once, from which each example's field is taken
//! in one of its symmetries: the elastic kind's per-image cost is then a table look-up, not a
//! Gaussian smoothing (which cost an epoch +56% on 28x28 images when done per image).
//!
//! Smoothed uniform noise is stationary and isotropic: mirroring a field along either axis,
//! transposing a square one or negating it gives another field of the same distribution. An
//! image's `dx` and `dy` are each one of the bank's fields in one of these (up to 16) forms, so
//! a bank of `n` fields offers about `(16 n)²` distinct displacements.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::elastic::ElasticField;

/// The most fields a bank holds.
pub const MAX_FIELDS: usize = 512;
/// The most values a bank holds (fewer, larger fields for large images): 64 MiB of `f32`.
pub const MAX_VALUES: usize = 1 << 24;
/// The fixed seed the bank is drawn from: the bank is a table, the same for every run; the
/// randomness of a run is in which field each image takes.
const BANK_SEED: u64 = 0x005E_EDF1_E1D5;

/// Fields in the bank of images of `plane` pixels: [`MAX_FIELDS`], or fewer (an even number,
/// at least 2) to stay under [`MAX_VALUES`].
///
/// ```
/// use tapegrad_net::augment::field_bank::{bank_size, MAX_FIELDS};
/// assert_eq!(bank_size(28 * 28), MAX_FIELDS);
/// assert_eq!((bank_size(1 << 20), bank_size(1 << 30)), (16, 2));
/// ```
pub fn bank_size(plane: usize) -> usize {
    (MAX_VALUES / plane.max(1)).clamp(2, MAX_FIELDS) & !1
}

/// Smoothed, scaled displacement fields of one image shape.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldBank {
    /// `count` planes of `height x width`, row-major.
    fields: Vec<f32>,
    height: usize,
    width: usize,
}

/// One field of the bank in one of its symmetries, for one displacement component.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    start: usize,
    mirror_x: bool,
    mirror_y: bool,
    transpose: bool,
    sign: f32,
}

impl FieldBank {
    /// The bank of `field`'s displacements ([`MAX_FIELDS`], or fewer to stay under
    /// [`MAX_VALUES`], at least 2).
    pub fn new(field: &ElasticField, height: usize, width: usize) -> Self {
        let plane = (height * width).max(1);
        let count = bank_size(plane);
        let mut fields = Vec::with_capacity(count * plane);
        let mut scratch = vec![0.0; field.scratch_len()];
        let mut rng = StdRng::seed_from_u64(BANK_SEED);
        while fields.len() < count * plane {
            let (dx, dy) = field.draw(&mut rng, &mut scratch);
            fields.extend_from_slice(dx);
            fields.extend_from_slice(dy);
        }
        FieldBank {
            fields,
            height,
            width,
        }
    }

    /// Fields in the bank.
    pub fn len(&self) -> usize {
        self.fields.len() / (self.height * self.width).max(1)
    }

    /// Whether the bank holds no field (never, for a bank made by [`new`](Self::new)).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// A random field in a random symmetry (transposes only for square images).
    pub fn pick(&self, rng: &mut impl Rng) -> Pick {
        let bits: u32 = rng.random();
        Pick {
            start: rng.random_range(0..self.len()) * self.height * self.width,
            mirror_x: bits & 1 != 0,
            mirror_y: bits & 2 != 0,
            transpose: bits & 4 != 0 && self.height == self.width,
            sign: if bits & 8 != 0 { -1.0 } else { 1.0 },
        }
    }

    /// The displacement of `pick` at pixel (`x`, `y`).
    pub fn at(&self, pick: Pick, x: usize, y: usize) -> f32 {
        let x = if pick.mirror_x { self.width - 1 - x } else { x };
        let y = if pick.mirror_y {
            self.height - 1 - y
        } else {
            y
        };
        let (x, y) = if pick.transpose { (y, x) } else { (x, y) };
        pick.sign * self.fields[pick.start + y * self.width + x]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pick_reads_a_bank_field_mirrored_transposed_or_negated_and_nothing_else() {
        let field = ElasticField::new(2.0, 10.0, 6, 6);
        let bank = FieldBank::new(&field, 6, 6);
        assert_eq!(bank.len(), MAX_FIELDS);
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..50 {
            let pick = bank.pick(&mut rng);
            let plain = Pick {
                mirror_x: false,
                mirror_y: false,
                transpose: false,
                sign: 1.0,
                ..pick
            };
            for (x, y) in [(0, 0), (1, 4), (5, 2)] {
                let mx = if pick.mirror_x { 5 - x } else { x };
                let my = if pick.mirror_y { 5 - y } else { y };
                let (sx, sy) = if pick.transpose { (my, mx) } else { (mx, my) };
                assert_eq!(bank.at(pick, x, y), pick.sign * bank.at(plain, sx, sy));
            }
        }
    }

    #[test]
    fn a_rectangular_bank_never_transposes() {
        let field = ElasticField::new(1.0, 1.0, 4, 6);
        let bank = FieldBank::new(&field, 4, 6);
        let mut rng = StdRng::seed_from_u64(1);
        assert!((0..64).all(|_| !bank.pick(&mut rng).transpose));
    }
}
