//! Simard et al. (2003)'s elastic distortion field: per pixel, a displacement `(dx, dy)` drawn
//! uniform in `(-1, 1)`, smoothed by a Gaussian of standard deviation `sigma` (normalised, so a
//! constant field stays constant; the image's edge pixels repeat beyond it) and multiplied by
//! `alpha`. Small `sigma` gives a near-random field that tears the image; large `sigma` a
//! near-constant one, a translation; Simard's 28x28 digits use `sigma = 4`, `alpha = 34`.

use rand::Rng;

/// The taps of a normalised Gaussian of standard deviation `sigma`, cut at `⌈3σ⌉` pixels either
/// side of the centre (99.7% of its mass).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianKernel {
    taps: Vec<f32>,
}

impl GaussianKernel {
    /// The kernel for `sigma` (positive; [`Augment::check`](super::Augment::check) bounds it by
    /// [`MAX_SIGMA`](super::MAX_SIGMA)).
    ///
    /// ```
    /// use tapegrad_net::augment::elastic::GaussianKernel;
    /// let k = GaussianKernel::new(1.0);
    /// assert_eq!(k.radius(), 3);
    /// assert!((k.taps().iter().sum::<f32>() - 1.0).abs() < 1e-6);
    /// ```
    pub fn new(sigma: f64) -> Self {
        let radius = (3.0 * sigma).ceil().max(0.0) as usize;
        let raw: Vec<f64> = (0..=2 * radius)
            .map(|i| {
                let d = i as f64 - radius as f64;
                (-d * d / (2.0 * sigma * sigma)).exp()
            })
            .collect();
        let total: f64 = raw.iter().sum();
        GaussianKernel {
            taps: raw.iter().map(|t| (t / total) as f32).collect(),
        }
    }

    /// Taps either side of the centre.
    pub fn radius(&self) -> usize {
        self.taps.len() / 2
    }

    /// The weights, `2 * radius + 1` of them, summing to 1.
    pub fn taps(&self) -> &[f32] {
        &self.taps
    }

    /// Smooths `line` (`len` values `stride` apart, starting at `start` in `input`) into the
    /// same places of `output`, repeating the end values beyond the ends.
    fn smooth_line(
        &self,
        input: &[f32],
        output: &mut [f32],
        start: usize,
        stride: usize,
        len: usize,
    ) {
        let r = self.radius() as isize;
        let last = len as isize - 1;
        for i in 0..len as isize {
            let mut sum = 0.0f32;
            for (t, &tap) in self.taps.iter().enumerate() {
                let j = (i + t as isize - r).clamp(0, last) as usize;
                sum += tap * input[start + j * stride];
            }
            output[start + i as usize * stride] = sum;
        }
    }

    /// Smooths `field` (`height x width`, row-major) in place along both axes, using `tmp`
    /// (as long as `field`) as scratch.
    pub fn smooth(&self, field: &mut [f32], tmp: &mut [f32], height: usize, width: usize) {
        for y in 0..height {
            self.smooth_line(field, tmp, y * width, 1, width);
        }
        for x in 0..width {
            self.smooth_line(tmp, field, x, width, height);
        }
    }
}

/// Fills `dx` and `dy` (`height x width` each, row-major) with a random displacement field:
/// uniform `(-1, 1)` draws smoothed by `kernel`, times `alpha`; `tmp` (as long as `dx`) is
/// scratch.
pub fn draw_field(
    rng: &mut impl Rng,
    kernel: &GaussianKernel,
    alpha: f32,
    (height, width): (usize, usize),
    dx: &mut [f32],
    dy: &mut [f32],
    tmp: &mut [f32],
) {
    for field in [dx, dy] {
        for v in field.iter_mut() {
            *v = rng.random_range(-1.0f32..1.0);
        }
        kernel.smooth(field, tmp, height, width);
        for v in field.iter_mut() {
            *v *= alpha;
        }
    }
}
