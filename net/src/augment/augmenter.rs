//! [`Augmenter`]: one run's augmentation, drawing a minibatch's augmented images on all cores
//! into buffers allocated once.

use ndarray::{ArrayView2, ArrayViewMut2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use thiserror::Error;

use super::affine::Affine;
use super::elastic::ElasticField;
use super::field_bank::FieldBank;
use super::{resample, Augment};
use crate::config::ConfigError;
use crate::data::ImageShape;

/// Why a run's augmentation cannot start.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AugmentError {
    /// Augmentation needs images, and the data are plain feature rows.
    #[error("the data set {data} has no image shape: augmentation ({kind}) moves pixels, so it needs images")]
    NoImage {
        /// The kind asked for.
        kind: &'static str,
        /// The data set's name.
        data: String,
    },
    /// The offset (mean image) does not have one value per feature.
    #[error("augment: the mean image has {found} values but the images have {expected} features")]
    Offset {
        /// Features per image.
        expected: usize,
        /// Values of the offset.
        found: usize,
    },
    /// A setting is out of range.
    #[error(transparent)]
    Setting(#[from] ConfigError),
}

/// The seed of one example's transform in one epoch: a hash (SplitMix64's finaliser) of the run
/// seed, the epoch and the example's index in the training set, and of nothing else.
///
/// ```
/// use tapegrad_net::augment::example_seed;
/// assert_eq!(example_seed(1, 2, 3), example_seed(1, 2, 3));
/// assert_ne!(example_seed(1, 2, 3), example_seed(1, 3, 2));
/// ```
pub fn example_seed(seed: u64, epoch: usize, index: usize) -> u64 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    mix(mix(mix(seed) ^ epoch as u64) ^ index as u64)
}

/// A run's augmentation: the settings, the image shape, the offset subtracted from the images
/// (the mean image, or zeros), and the buffers of one minibatch.
#[derive(Debug, Clone)]
pub struct Augmenter {
    transform: Transform,
    /// One augmented image per row of the largest batch.
    images: Vec<f32>,
    /// Per row of the largest batch, the elastic kind's scratch.
    scratch: Vec<f32>,
}

impl Augmenter {
    /// The augmentation `augment` of images of `image`'s shape (`None`: the data have none, an
    /// error unless `augment` is none), whose pixels had `offset` subtracted (`None`: nothing),
    /// in minibatches of at most `batch` images. `Ok(None)` when `augment` is none. `data`
    /// names the data set in errors.
    pub fn new(
        augment: &Augment,
        image: Option<ImageShape>,
        offset: Option<&[f32]>,
        batch: usize,
        data: &str,
    ) -> Result<Option<Self>, AugmentError> {
        if augment.is_none() {
            return Ok(None);
        }
        augment.check()?;
        let Some(shape) = image else {
            return Err(AugmentError::NoImage {
                kind: augment.kind(),
                data: data.to_owned(),
            });
        };
        let d = shape.len();
        let offset = match offset {
            Some(o) if o.len() != d => {
                return Err(AugmentError::Offset {
                    expected: d,
                    found: o.len(),
                })
            }
            Some(o) => o.to_vec(),
            None => vec![0.0; d],
        };
        let bank = match *augment {
            Augment::Elastic { sigma, alpha, .. } => {
                let field = ElasticField::new(sigma, alpha, shape.height, shape.width);
                Some(FieldBank::new(&field, shape.height, shape.width))
            }
            _ => None,
        };
        let transform = Transform {
            augment: *augment,
            shape,
            offset,
            bank,
        };
        Ok(Some(Augmenter {
            images: vec![0.0; batch * d],
            scratch: vec![0.0; batch * transform.scratch_len()],
            transform,
        }))
    }

    /// The image shape augmented.
    pub fn shape(&self) -> ImageShape {
        self.transform.shape
    }

    /// The augmented images of the training examples `rows` of `features` in epoch `epoch` of a
    /// run seeded `seed`, one per row (`rows.len()` of them, at most the `batch` given to
    /// [`new`](Self::new)), drawn in parallel on rayon's threads; each depends only on
    /// (`seed`, `epoch`, its row index), whatever the thread count.
    ///
    /// # Panics
    /// If `rows` holds more than `batch` rows, or `features` does not have the image's number
    /// of columns.
    pub fn batch(
        &mut self,
        seed: u64,
        epoch: usize,
        features: ArrayView2<'_, f32>,
        rows: &[usize],
    ) -> ArrayView2<'_, f32> {
        let transform = &self.transform;
        let d = transform.shape.len();
        assert_eq!(features.ncols(), d, "features of the image's size");
        let n = rows.len();
        let per_row = transform.scratch_len();
        let (images, scratch) = (&mut self.images[..n * d], &mut self.scratch);
        let work = |(i, image): (usize, &mut [f32]), scratch: &mut [f32]| {
            let row = features.row(rows[i]);
            let seed = example_seed(seed, epoch, rows[i]);
            match row.as_slice() {
                Some(pixels) => transform.draw(seed, pixels, scratch, image),
                None => transform.draw(seed, &row.to_vec(), scratch, image),
            }
        };
        if per_row == 0 {
            images
                .par_chunks_mut(d)
                .enumerate()
                .for_each(|job| work(job, &mut []));
        } else {
            images
                .par_chunks_mut(d)
                .enumerate()
                .zip(scratch.par_chunks_mut(per_row))
                .for_each(|(job, scratch)| work(job, scratch));
        }
        ArrayView2::from_shape((n, d), &self.images[..n * d]).expect("n rows of d features")
    }

    /// Draws the images training example `index` (`pixels`) becomes in epochs 1, 2, ... of a
    /// run seeded `seed`, one per row of `out`: for pictures of what the augmentation does.
    pub fn variants(
        &self,
        pixels: &[f32],
        seed: u64,
        index: usize,
        mut out: ArrayViewMut2<'_, f32>,
    ) {
        let t = &self.transform;
        let mut scratch = vec![0.0; t.scratch_len()];
        let mut image = vec![0.0; t.shape.len()];
        for (i, mut row) in out.rows_mut().into_iter().enumerate() {
            t.draw(
                example_seed(seed, i + 1, index),
                pixels,
                &mut scratch,
                &mut image,
            );
            row.assign(&ndarray::ArrayView1::from(&image));
        }
    }

    /// Draws one augmented image of `pixels` into `out` (both of the image's size) from the
    /// transform seeded `seed` ([`example_seed`] in training).
    pub fn draw(&self, seed: u64, pixels: &[f32], out: &mut [f32]) {
        let mut scratch = vec![0.0; self.transform.scratch_len()];
        self.transform.draw(seed, pixels, &mut scratch, out);
    }
}

/// The settings and fixed data of a run's augmentation (no buffers).
#[derive(Debug, Clone)]
struct Transform {
    augment: Augment,
    shape: ImageShape,
    /// Subtracted from every raw image; one value per feature.
    offset: Vec<f32>,
    /// The elastic kind's bank of displacement fields.
    bank: Option<FieldBank>,
}

impl Transform {
    /// Scratch values one image's draw needs: an image in raw units for the kinds that
    /// resample bilinearly.
    fn scratch_len(&self) -> usize {
        match self.augment {
            Augment::Affine { .. } | Augment::Elastic { .. } => {
                resample::warp_scratch_len(self.shape)
            }
            Augment::None | Augment::Shift { .. } => 0,
        }
    }

    /// Draws one augmented image of `pixels` into `out` from the transform seeded `seed`;
    /// `scratch` holds [`scratch_len`](Self::scratch_len) values.
    fn draw(&self, seed: u64, pixels: &[f32], scratch: &mut [f32], out: &mut [f32]) {
        let mut rng = StdRng::seed_from_u64(seed);
        let flip = self.augment.flips() && rng.random_bool(0.5);
        let (h, w) = (self.shape.height, self.shape.width);
        match self.augment {
            Augment::None => out.copy_from_slice(pixels),
            Augment::Shift { shift, .. } => {
                let k = shift as i64;
                let dx = rng.random_range(-k..=k) as isize;
                let dy = rng.random_range(-k..=k) as isize;
                resample::shift(pixels, &self.offset, self.shape, (dx, dy), flip, out);
            }
            Augment::Affine { .. } => {
                let ranges = self.augment.affine_ranges().expect("affine has ranges");
                let map = Affine::draw(&mut rng, ranges, flip, h, w);
                let source = |x, y| map.source(x, y);
                resample::warp(pixels, &self.offset, self.shape, source, scratch, out);
            }
            Augment::Elastic { .. } => {
                let ranges = self.augment.affine_ranges().expect("elastic has ranges");
                let map = Affine::draw(&mut rng, ranges, flip, h, w);
                let bank = self.bank.as_ref().expect("elastic has a field bank");
                let (dx, dy) = (bank.pick(&mut rng), bank.pick(&mut rng));
                let source = |x: usize, y: usize| {
                    let (sx, sy) = map.source(x, y);
                    (sx + bank.at(dx, x, y), sy + bank.at(dy, x, y))
                };
                resample::warp(pixels, &self.offset, self.shape, source, scratch, out);
            }
        }
        let p = self.augment.pixel_dropout();
        if p > 0.0 {
            let scale = (1.0 / (1.0 - p)) as f32;
            for (v, offset) in out.iter_mut().zip(&self.offset) {
                // A raw value is v + offset; a dropped pixel becomes a raw 0.
                *v = match rng.random_bool(p) {
                    true => -offset,
                    false => (*v + offset) * scale - offset,
                };
            }
        }
    }
}
