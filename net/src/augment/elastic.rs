//! Simard et al. (2003)'s elastic distortion field: per pixel, a displacement `(dx, dy)` drawn
//! uniform in `(-1, 1)`, smoothed by a Gaussian of standard deviation `sigma` (normalised, so a
//! constant field stays constant; the image's edge pixels repeat beyond it) and multiplied by
//! `alpha`. Small `sigma` gives a near-random field that tears the image; large `sigma` a
//! near-constant one, a translation; Simard's 28x28 digits use `sigma = 4`, `alpha = 34`.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use tapegrad_autograd::gemm;

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

    /// The smoothing of a line of `n` values as an `n x n` matrix: row `i` holds the weights of
    /// output `i` on the inputs, the taps beyond the ends added to the end values (which repeat
    /// beyond the edges).
    ///
    /// ```
    /// use tapegrad_net::augment::elastic::GaussianKernel;
    /// let m = GaussianKernel::new(2.0).matrix(5);
    /// for row in m.rows() {
    ///     assert!((row.sum() - 1.0).abs() < 1e-6);
    /// }
    /// ```
    pub fn matrix(&self, n: usize) -> Array2<f32> {
        let r = self.radius() as isize;
        let last = n as isize - 1;
        let mut m = Array2::zeros((n, n));
        for i in 0..n {
            for (t, &tap) in self.taps.iter().enumerate() {
                let j = (i as isize + t as isize - r).clamp(0, last) as usize;
                m[[i, j]] += tap;
            }
        }
        m
    }
}

/// The displacement fields of one image shape: `alpha · G_y · U · G_xᵀ` for each of two noise
/// planes `U` (dx and dy), with `G` the Gaussian's [matrix](GaussianKernel::matrix) along each
/// axis. Smoothing is two small matrix products on the tape's kernel: both planes at once down
/// the columns, then each along its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ElasticField {
    /// `G_y`, `height x height`.
    down: Array2<f32>,
    /// `alpha · G_xᵀ`, `width x width`.
    across: Array2<f32>,
    height: usize,
    width: usize,
}

impl ElasticField {
    /// The fields of `sigma` and `alpha` for images of `height x width` pixels.
    pub fn new(sigma: f64, alpha: f64, height: usize, width: usize) -> Self {
        let kernel = GaussianKernel::new(sigma);
        ElasticField {
            down: kernel.matrix(height),
            across: kernel.matrix(width).reversed_axes() * alpha as f32,
            height,
            width,
        }
    }

    /// Scratch values [`draw`](Self::draw) and [`smooth`](Self::smooth) need: 4 planes.
    pub fn scratch_len(&self) -> usize {
        4 * self.height * self.width
    }

    /// Smooths the two noise planes in `scratch[..2·height·width]`, laid out as one `height x
    /// 2·width` matrix (row `y` holds row `y` of dx, then of dy), and scales them by `alpha`:
    /// afterwards `scratch[..height·width]` holds dx and the next `height·width` values dy, both
    /// row-major. The rest of `scratch` (as long again) is workspace.
    pub fn smooth(&self, scratch: &mut [f32]) {
        let (h, w) = (self.height, self.width);
        let (noise, work) = scratch[..4 * h * w].split_at_mut(2 * h * w);
        let noise_view = ArrayView2::from_shape((h, 2 * w), &*noise).expect("2 planes");
        let mut down = ArrayViewMut2::from_shape((h, 2 * w), work).expect("2 planes");
        gemm(self.down.view(), noise_view, down.view_mut(), false);
        let (dx, dy) = noise.split_at_mut(h * w);
        for (plane, out) in [(0, dx), (1, dy)] {
            let cols = down.slice(s![.., plane * w..(plane + 1) * w]);
            let out = ArrayViewMut2::from_shape((h, w), out).expect("a plane");
            gemm(cols, self.across.view(), out, false);
        }
    }

    /// Draws a displacement field into `scratch` ([`scratch_len`](Self::scratch_len) values):
    /// uniform `[-1, 1)` noise, [smoothed](Self::smooth). Returns (dx, dy), each `height x
    /// width`, row-major.
    pub fn draw<'s>(&self, rng: &mut impl Rng, scratch: &'s mut [f32]) -> (&'s [f32], &'s [f32]) {
        let plane = self.height * self.width;
        // A fast generator seeded from `rng` for the many draws: two per 64 random bits.
        let mut fast = SmallRng::from_rng(rng);
        let unit = |bits: u64| (bits >> 40) as f32 * (1.0 / (1u32 << 23) as f32) - 1.0;
        for pair in scratch[..2 * plane].chunks_mut(2) {
            // 24 bits each as a multiple of 2^-23 in [0, 2), less 1: uniform in [-1, 1).
            let bits = fast.next_u64();
            pair[0] = unit(bits);
            if let Some(second) = pair.get_mut(1) {
                *second = unit(bits << 24);
            }
        }
        self.smooth(scratch);
        let (dx, rest) = scratch.split_at(plane);
        (dx, &rest[..plane])
    }
}
