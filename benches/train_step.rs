//! One SGD step of the two-layer net, through the tape and through the hand-written closed
//! form, at the peers' shapes (`../shared/peers/README.md`): tiny 64,64,100,10 · cifar
//! 200,3072,100,10 · mnist800 128,784,800,10 · large 1024,3072,1024,10; f32 and f64.
//!
//! Throughput is the step's FLOP count (`4ndh + 6nhc`) as elements, so criterion's `Gelem/s`
//! reads as GFLOP/s, comparable with the peers' table. `tape` and `closed_form` share a group
//! per shape and type, so their ratio comes from one run.
//!
//! `cargo bench --bench train_step` (a few minutes); `-- cifar` for one shape; set the thread
//! count with `TAPEGRAD_THREADS` (default: all cores).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tapegrad::autograd::{set_threads, Element};
use tapegrad_benchmark::{StepBench, StepShape, SHAPES};

fn bench_shape<T: Element>(c: &mut Criterion, shape: StepShape) {
    let mut group = c.benchmark_group(format!("train_step/{}/{}", shape.name, T::NAME));
    group.throughput(Throughput::Elements(shape.flops() as u64));
    if shape.flops() > 1e9 {
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(8));
    } else {
        group.measurement_time(Duration::from_secs(3));
    }
    group.warm_up_time(Duration::from_secs(1));
    let mut tape = StepBench::<T>::new(shape);
    group.bench_function("tape", |b| {
        b.iter(|| black_box(tape.tape_step().expect("the step runs")))
    });
    let mut closed = StepBench::<T>::new(shape);
    group.bench_function("closed_form", |b| {
        b.iter(|| black_box(closed.closed_form_step().expect("the step runs")))
    });
    group.finish();
}

fn train_step(c: &mut Criterion) {
    if let Some(n) = std::env::var("TAPEGRAD_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        set_threads(n);
    }
    for shape in SHAPES {
        bench_shape::<f32>(c, shape);
        bench_shape::<f64>(c, shape);
    }
}

criterion_group!(benches, train_step);
criterion_main!(benches);
