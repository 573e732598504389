//! `FlushSubnormals`: the processor's flush-to-zero modes, on for a scope on the calling thread
//! and every thread of the pool, and restored after.
#![cfg(target_arch = "x86_64")]

use std::hint::black_box;

use tapegrad_autograd::FlushSubnormals;

/// `1e-30 · 1e-10 = 1e-40`: subnormal in f32, zero when flushed.
fn subnormal_product() -> f32 {
    black_box(1e-30f32) * black_box(1e-10f32)
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

#[test]
fn flushing_covers_the_caller_and_every_pool_thread_and_is_restored_when_dropped() {
    let pool = pool(3);
    pool.install(|| {
        assert_ne!(subnormal_product(), 0.0);
        {
            let _flush = FlushSubnormals::new();
            assert!(FlushSubnormals::is_on());
            assert_eq!(subnormal_product(), 0.0);
            let on_pool = rayon::broadcast(|_| (FlushSubnormals::is_on(), subnormal_product()));
            assert_eq!(on_pool, vec![(true, 0.0); 3]);
        }
        assert!(!FlushSubnormals::is_on());
        assert_eq!(subnormal_product(), 1e-40);
        let on_pool = rayon::broadcast(|_| (FlushSubnormals::is_on(), subnormal_product()));
        assert_eq!(on_pool, vec![(false, 1e-40); 3]);
    });
}

#[test]
fn nested_guards_restore_the_mode_of_the_scope_around_them() {
    let pool = pool(2);
    pool.install(|| {
        let outer = FlushSubnormals::new();
        {
            let _inner = FlushSubnormals::new();
        }
        assert!(FlushSubnormals::is_on());
        assert!(rayon::broadcast(|_| FlushSubnormals::is_on())
            .into_iter()
            .all(|on| on));
        drop(outer);
        assert!(!FlushSubnormals::is_on());
    });
}
