//! The CS231n synthetic spiral: 2-D points on `K` noisy arms, for demos.

use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use super::{DataError, Dataset, SplitFractions, Splits};
use crate::limits::{check_classes, quote};

/// Default points per arm for the `spiral` data spec.
pub const SPIRAL_DEFAULT_POINTS: usize = 100;

/// Default number of arms (classes) for the `spiral` data spec.
pub const SPIRAL_DEFAULT_CLASSES: usize = 3;

/// The most points a spiral may have in all (`POINTS x CLASSES`): 1,000,000 (16 MB).
pub const SPIRAL_MAX_POINTS: usize = 1_000_000;

/// The number of points of a spiral, or why there cannot be such a spiral: at least one point
/// per class and one class, at most [`MAX_CLASSES`](crate::limits::MAX_CLASSES) classes and [`SPIRAL_MAX_POINTS`] points.
pub(crate) fn spiral_size(points_per_class: usize, classes: usize) -> Result<usize, String> {
    if points_per_class == 0 {
        return Err("needs at least one point per class".to_owned());
    }
    check_classes(classes)?;
    points_per_class
        .checked_mul(classes)
        .filter(|&n| n <= SPIRAL_MAX_POINTS)
        .ok_or_else(|| {
            format!(
                "{points_per_class} points per class times {classes} classes is more than \
                 {SPIRAL_MAX_POINTS} points"
            )
        })
}

/// Standard deviation of the angle noise, in radians (CS231n's 0.2).
const NOISE: f64 = 0.2;

/// Generates the classic CS231n spiral: `classes` arms of `points_per_class` points each, in
/// class order. Arm `j`'s point `i` has radius `r = i / (N - 1)` (from 0 to 1) and angle
/// `t = 4j + 4 r + 0.2 z` with `z` standard normal from `StdRng::seed_from_u64(seed)`; its
/// features are `(r sin t, r cos t)` and its label `j`. Named `"spiral"`. At most
/// [`SPIRAL_MAX_POINTS`] points in all and [`MAX_CLASSES`](crate::limits::MAX_CLASSES) classes.
///
/// ```
/// let s = tapegrad_net::data::spiral(100, 3, 0)?;
/// assert_eq!((s.len(), s.dim(), s.classes()), (300, 2, 3));
/// assert_eq!(s.class_counts(), vec![100, 100, 100]);
/// # Ok::<(), tapegrad_net::data::DataError>(())
/// ```
pub fn spiral(points_per_class: usize, classes: usize, seed: u64) -> Result<Dataset, DataError> {
    let n = spiral_size(points_per_class, classes)
        .map_err(|reason| DataError::Invalid(format!("spiral: {reason}")))?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut features = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    let steps = (points_per_class - 1).max(1) as f64;
    for j in 0..classes {
        for i in 0..points_per_class {
            let r = i as f64 / steps;
            let z: f64 = rng.sample(StandardNormal);
            let t = 4.0 * j as f64 + 4.0 * r + NOISE * z;
            features.push((r * t.sin()) as f32);
            features.push((r * t.cos()) as f32);
            labels.push(j);
        }
    }
    let features = Array2::from_shape_vec((n, 2), features)
        .map_err(|e| DataError::Invalid(format!("spiral: {e}")))?;
    Dataset::new("spiral", features, labels, classes, None)
}

/// A spiral (see [`spiral`]) split at random from the same `seed` into 70% train, 15%
/// validation and 15% test (see [`Dataset::shuffle_split`]).
pub fn spiral_splits(
    points_per_class: usize,
    classes: usize,
    seed: u64,
) -> Result<Splits, DataError> {
    spiral(points_per_class, classes, seed)?.shuffle_split(SplitFractions::default(), seed)
}

/// Checks spiral's `--data` argument `POINTS,CLASSES` (see [`spiral_size`]) and returns its
/// canonical form: `""` for the default size, so that `spiral:100,3` is `spiral`.
pub(crate) fn spiral_argument(arg: &str) -> Result<String, String> {
    let parsed = arg
        .split_once(',')
        .and_then(|(p, c)| Some((p.trim().parse().ok()?, c.trim().parse().ok()?)));
    let Some((points_per_class, classes)) = parsed else {
        return Err(format!(
            "spiral's argument '{}' is not POINTS,CLASSES (two positive integers)",
            quote(arg)
        ));
    };
    spiral_size(points_per_class, classes)
        .map_err(|reason| format!("spiral:{points_per_class},{classes} {reason}"))?;
    Ok(
        if (points_per_class, classes) == (SPIRAL_DEFAULT_POINTS, SPIRAL_DEFAULT_CLASSES) {
            String::new()
        } else {
            format!("{points_per_class},{classes}")
        },
    )
}

/// Loads `spiral[:POINTS,CLASSES]` from its canonical argument ([`spiral_argument`]; `""` for
/// the default size), split by `seed` ([`spiral_splits`]).
pub(crate) fn load_spiral(arg: &str, seed: u64) -> Result<Splits, DataError> {
    let (points_per_class, classes) = if arg.is_empty() {
        (SPIRAL_DEFAULT_POINTS, SPIRAL_DEFAULT_CLASSES)
    } else {
        arg.split_once(',')
            .and_then(|(p, c)| Some((p.parse().ok()?, c.parse().ok()?)))
            .ok_or_else(|| {
                DataError::Invalid(format!(
                    "spiral's argument '{}' is not POINTS,CLASSES",
                    quote(arg)
                ))
            })?
    };
    spiral_splits(points_per_class, classes, seed)
}
