//! The step's five matrix products at the four standard shapes, through tapegrad's own packed
//! kernel and through the `gemm` crate, side by side (f32, the threads `gemm` would use).
//!
//! Throughput is in elements = FLOPs (`2·m·k·n`), so criterion's `Gelem/s` reads as GFLOP/s.
//! Run with `cargo bench --bench gemm` (about two minutes), `-- cifar` for one shape.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::autograd::{gemm_with, threads_for, Kernel};
use tapegrad_benchmark::SHAPES;

fn random(rng: &mut StdRng, rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-1.0..1.0))
}

/// One product of the step: its name, `c (+)= a · b` and whether it accumulates.
type Product<'a> = (
    &'static str,
    ArrayView2<'a, f32>,
    ArrayView2<'a, f32>,
    ArrayViewMut2<'a, f32>,
    bool,
);

fn products(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(3);
    for shape in SHAPES {
        let (n, d, h, k) = (shape.n, shape.d, shape.h, shape.c);
        let (x, w1, a1) = (
            random(&mut rng, n, d),
            random(&mut rng, d, h),
            random(&mut rng, n, h),
        );
        let (w2, g2) = (random(&mut rng, h, k), random(&mut rng, n, k));
        let (mut z1, mut z2) = (Array2::zeros((n, h)), Array2::zeros((n, k)));
        let (mut dw2, mut da1, mut dw1) = (
            Array2::zeros((h, k)),
            Array2::zeros((n, h)),
            Array2::zeros((d, h)),
        );
        let step: [Product; 5] = [
            ("X·W1", x.view(), w1.view(), z1.view_mut(), false),
            ("a1·W2", a1.view(), w2.view(), z2.view_mut(), false),
            ("a1ᵀ·dz2", a1.t(), g2.view(), dw2.view_mut(), true),
            ("dz2·W2ᵀ", g2.view(), w2.t(), da1.view_mut(), false),
            ("Xᵀ·dz1", x.t(), a1.view(), dw1.view_mut(), true),
        ];
        for (name, a, b, mut out, accumulate) in step {
            let mut g = c.benchmark_group(format!("gemm/{}/{name}", shape.name));
            let (m, inner, cols) = (a.nrows(), a.ncols(), b.ncols());
            g.throughput(Throughput::Elements((2 * m * inner * cols) as u64))
                .sample_size(20)
                .warm_up_time(Duration::from_millis(300))
                .measurement_time(Duration::from_secs(1));
            let threads = threads_for(m, inner, cols);
            let kernels = [
                ("packed", Kernel::auto::<f32>(m, inner, cols)),
                ("gemm-crate", Kernel::GemmCrate),
            ];
            for (label, kernel) in kernels {
                let id = BenchmarkId::new(label, format!("{m}x{inner}x{cols}"));
                g.bench_function(id, |bench| {
                    bench.iter(|| {
                        gemm_with(kernel, threads, a, b, out.view_mut(), accumulate);
                        black_box(&out);
                    })
                });
            }
            g.finish();
        }
    }
}

criterion_group!(benches, products);
criterion_main!(benches);
