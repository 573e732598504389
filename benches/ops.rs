//! Forward + backward on the tape, in f32, at the shapes of the two-layer net and beyond.
//!
//! Each benchmark reuses one tape: every iteration clears it, records the op on `Arc`-shared
//! leaves (no copy), runs backward and recycles the gradients, so the numbers are the steady
//! state of a training loop, not first-step allocation.
//!
//! Throughput is in elements: for matmul the element count is the FLOP count of forward plus
//! backward (3 products of `2·m·k·n` FLOPs: `A·B`, `G·Bᵀ`, `Aᵀ·G`), so criterion's `Gelem/s` reads
//! as GFLOP/s; for relu and log_softmax it is the number of tensor elements.
//!
//! Run with `cargo bench --bench ops` (about a minute), or `-- --quick` for a rough pass.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::autograd::{Result, Tape, Var};

fn random(rng: &mut StdRng, rows: usize, cols: usize) -> Arc<Array2<f32>> {
    Arc::new(Array2::from_shape_simple_fn((rows, cols), || {
        rng.random_range(-1.0..1.0)
    }))
}

/// Benchmarks `f` (one input, both a parameter) as forward + `sum` + backward on a reused tape.
fn bench_unary(
    c: &mut Criterion,
    group: &str,
    shapes: &[(usize, usize)],
    f: for<'t> fn(Var<'t, f32>) -> Result<Var<'t, f32>>,
) {
    let mut g = c.benchmark_group(group);
    let mut rng = StdRng::seed_from_u64(1);
    for &(rows, cols) in shapes {
        let x = random(&mut rng, rows, cols);
        let mut tape = Tape::<f32>::new();
        g.throughput(Throughput::Elements((rows * cols) as u64));
        if rows * cols >= 1 << 20 {
            g.sampling_mode(SamplingMode::Flat).sample_size(10);
        } else {
            g.sampling_mode(SamplingMode::Auto).sample_size(50);
        }
        g.bench_function(BenchmarkId::from_parameter(format!("{rows}x{cols}")), |b| {
            b.iter(|| {
                tape.clear();
                let grads = {
                    let v = tape.param(Arc::clone(&x));
                    let grads = f(v).unwrap().sum().backward().unwrap();
                    black_box(grads.get(v));
                    grads
                };
                tape.recycle(grads);
            })
        });
    }
    g.finish();
}

fn matmul(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul_fwd_bwd");
    let mut rng = StdRng::seed_from_u64(0);
    for (m, k, n) in [(64, 64, 100), (200, 3072, 100), (1024, 3072, 1024)] {
        let (a, b) = (random(&mut rng, m, k), random(&mut rng, k, n));
        let mut tape = Tape::<f32>::new();
        let flops = 3 * 2 * m * k * n;
        g.throughput(Throughput::Elements(flops as u64));
        if flops > 1 << 30 {
            // ~20 GFLOP an iteration: ten single-iteration samples.
            g.sampling_mode(SamplingMode::Flat)
                .sample_size(10)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(4));
        } else {
            g.sampling_mode(SamplingMode::Auto)
                .sample_size(30)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(3));
        }
        let id = BenchmarkId::from_parameter(format!("{m}x{k}x{n}"));
        g.bench_function(id, |bench| {
            bench.iter(|| {
                tape.clear();
                let grads = {
                    let (va, vb) = (tape.param(Arc::clone(&a)), tape.param(Arc::clone(&b)));
                    let grads = va.matmul(vb).unwrap().sum().backward().unwrap();
                    black_box((grads.get(va), grads.get(vb)));
                    grads
                };
                tape.recycle(grads);
            })
        });
    }
    g.finish();
}

fn relu(c: &mut Criterion) {
    bench_unary(c, "relu_fwd_bwd", &[(200, 100), (1024, 1024)], |x| {
        Ok(x.relu())
    });
}

fn log_softmax(c: &mut Criterion) {
    bench_unary(
        c,
        "log_softmax_fwd_bwd",
        &[(200, 10), (200, 100), (1024, 1024)],
        |x| x.log_softmax(1),
    );
}

/// Per-op overhead of the tape: a chain of 1000 `add_scalar` on a one-element tensor.
fn tape_overhead(c: &mut Criterion) {
    let mut g = c.benchmark_group("tape_overhead");
    g.throughput(Throughput::Elements(1000)).sample_size(50);
    let mut tape = Tape::<f32>::new();
    g.bench_function("chain_1000_add_scalar", |b| {
        b.iter(|| {
            tape.clear();
            let grads = {
                let x = tape.param(ndarray::arr1(&[1.0f32]));
                let mut y = x;
                for _ in 0..1000 {
                    y = y.add_scalar(1.0);
                }
                let grads = y.sum().backward().unwrap();
                black_box(grads.get(x));
                grads
            };
            tape.recycle(grads);
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = matmul, relu, log_softmax, tape_overhead
}
criterion_main!(benches);
