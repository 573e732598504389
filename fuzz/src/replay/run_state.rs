//! Run states: `load_state` on the input as `state.safetensors`.

use tapegrad_net::checkpoint::load_state;

use crate::contract::bounded;
use crate::scratch::Scratch;

/// Replays one input; returns whether the reader accepted it: no panic, memory bound, and an `Ok` state has finite tensors (both
/// nets and the weight average, the mean, the optimizer's buffers), positive finite standard
/// deviations (std, if any) and as many classes as W2 has columns.
pub fn run(data: &[u8]) -> bool {
    let scratch = Scratch::new("run_state");
    let path = scratch.write("state.safetensors", data);
    let result = bounded("run state", data.len(), || load_state(&path));
    if !crate::contract::checking_results() {
        return result.is_ok();
    }
    let Ok(saved) = result else {
        return false;
    };
    let classes = saved.info.classes;
    super::nets::check("run state", "", &saved.run.net, classes);
    super::nets::check("run state", "best.", &saved.run.best, classes);
    super::nets::check_finite("run state", "mean", saved.mean.as_array().iter());
    super::nets::check_std("run state", &saved.mean);
    if let Some(average) = &saved.run.average {
        super::nets::check("run state", "avg.", &average.net, classes);
    }
    let optimizer = saved.run.step.optimizer();
    let state = optimizer.state();
    for (name, buffers) in optimizer.buffer_names().iter().zip(&state.buffers) {
        for (k, buffer) in buffers.iter().enumerate() {
            super::nets::check_finite("run state", &format!("opt.{name}{k}"), buffer);
        }
    }
    true
}
