//! Model files: `load_model` on the input as `model.safetensors`.

use tapegrad_net::checkpoint::load_model;

use crate::contract::bounded;
use crate::scratch::Scratch;

/// Replays one input; returns whether the reader accepted it: no panic, memory bound, and an `Ok` model has finite tensors (W1, b1,
/// W2, b2, mean), positive finite standard deviations (std, if any) and as many classes as W2
/// has columns.
pub fn run(data: &[u8]) -> bool {
    let scratch = Scratch::new("model_file");
    let path = scratch.write("model.safetensors", data);
    let result = bounded("model file", data.len(), || load_model(&path));
    if !crate::contract::checking_results() {
        return result.is_ok();
    }
    let Ok(model) = result else {
        return false;
    };
    super::nets::check("model file", "", &model.net, model.info.classes);
    super::nets::check_finite("model file", "mean", model.mean.as_array().iter());
    super::nets::check_std("model file", &model.mean);
    true
}
