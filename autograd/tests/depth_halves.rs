//! A finished product (`linear_relu`, `linear`) wider than twice its height whose inner
//! dimension is two kernel depth blocks is cut by depth between two threads (each half packs
//! its own rows of W, then `C + P` and the finish run row by row): the values have the bits of
//! the one-thread product, which stores the first block's product and adds the second's, on
//! every instruction set and thread count.
//!
//! Its own binary: it sets the process-wide instruction set and thread count.

use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad_autograd::{set_isa, set_threads, Element, Isa, Tape};

/// `relu(x·w + b)` (or `x·w + b`) of random operands, as bits.
fn layer_bits<T: Element>(m: usize, k: usize, n: usize, relu: bool) -> Vec<u64> {
    let mut rng = StdRng::seed_from_u64((m * 31 + k * 7 + n) as u64);
    let mut random = |shape: (usize, usize)| {
        Array2::from_shape_simple_fn(shape, || T::cast(rng.random_range(-1.0..1.0)))
    };
    let (x, w) = (random((m, k)), random((k, n)));
    let b: Array1<T> = random((1, n)).row(0).to_owned();
    let tape = Tape::<T>::new();
    let (x, w, b) = (tape.constant(x), tape.param(w), tape.param(b));
    let y = if relu {
        x.linear_relu(w, b).unwrap()
    } else {
        x.linear(w, b).unwrap()
    };
    y.value().iter().map(|v| v.as_f64().to_bits()).collect()
}

#[test]
fn products_cut_by_depth_between_threads_have_the_one_thread_bits() {
    // The mnist800 forward (784 = 392 + 392 in f32), an odd depth (401 + 400), f64's shallower
    // blocks (200 = 100 + 100 at AVX-512 and AVX2), and a product of one block (no cut).
    let shapes = [
        (128, 784, 800),
        (16, 801, 96),
        (20, 200, 130),
        (24, 100, 100),
    ];
    for isa in Isa::ALL.into_iter().filter(|isa| isa.is_supported()) {
        set_isa(Some(isa)).unwrap();
        for &(m, k, n) in &shapes {
            for relu in [true, false] {
                set_threads(1);
                let (one32, one64) = (
                    layer_bits::<f32>(m, k, n, relu),
                    layer_bits::<f64>(m, k, n, relu),
                );
                for threads in [2, 3] {
                    set_threads(threads);
                    let what = format!("{isa:?} {m}x{k}x{n} relu {relu}, {threads} threads");
                    assert_eq!(layer_bits::<f32>(m, k, n, relu), one32, "f32 {what}");
                    assert_eq!(layer_bits::<f64>(m, k, n, relu), one64, "f64 {what}");
                }
            }
        }
    }
    set_threads(0);
    set_isa(None).unwrap();
}
