//! A training run flushes subnormal numbers to zero on its threads (they cost x86 a microcode
//! assist per operation, and dead units' weights decay into them) and restores the mode after.
#![cfg(target_arch = "x86_64")]

use std::ops::ControlFlow;

use tapegrad_autograd::FlushSubnormals;
use tapegrad_net::data::spiral_splits;
use tapegrad_net::train::{Progress, TrainConfig, Training};

#[test]
fn a_training_run_flushes_subnormals_while_it_runs_and_restores_the_mode_after() {
    let splits = spiral_splits(30, 3, 1).unwrap();
    let config = TrainConfig {
        hidden: vec![6],
        epochs: 2,
        ..TrainConfig::default()
    };
    let mut run = Training::<f32>::new(&config, 2, 3).unwrap();
    assert!(!FlushSubnormals::is_on());
    let mut seen = Vec::new();
    run.run(&config, &splits.train, &splits.val, |p| {
        if let Progress::Step { .. } = p {
            let on_pool = rayon::broadcast(|_| FlushSubnormals::is_on());
            seen.push(FlushSubnormals::is_on() && on_pool.iter().all(|&on| on));
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert!(!seen.is_empty() && seen.iter().all(|&on| on), "{seen:?}");
    assert!(!FlushSubnormals::is_on());
    assert!(!rayon::broadcast(|_| FlushSubnormals::is_on())
        .iter()
        .any(|&on| on));
}
