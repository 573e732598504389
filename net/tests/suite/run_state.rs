//! The run state through the library: what `save_state` writes, `load_state` reads back
//! exactly (nets, optimizer state of every rule, counters, history, configuration), so a
//! resumed run continues bit for bit; optimizer state that does not fit is refused.

use std::ops::ControlFlow;
use std::path::Path;

use ndarray::Array1;
use tapegrad_net::checkpoint::{load_state, save_state, CheckpointError, ModelInfo};
use tapegrad_net::data::{spiral_splits, MeanImage, Splits};
use tapegrad_net::optim::OptimError;
use tapegrad_net::tensor_file::TensorFile;
use tapegrad_net::train::{TrainConfig, Training};
use tapegrad_net::OptimizerKind;

fn config(optimizer: OptimizerKind, epochs: usize) -> TrainConfig {
    TrainConfig {
        hidden: vec![6],
        epochs,
        lr: 0.01,
        optimizer,
        ..TrainConfig::default()
    }
}

fn train(run: &mut Training<f32>, config: &TrainConfig, splits: &Splits) {
    run.run(config, &splits.train, &splits.val, |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
}

fn save(path: &Path, run: &Training<f32>, config: &TrainConfig) {
    let info = ModelInfo {
        dataset: "spiral".into(),
        classes: 3,
        image: None,
        input_scale: 1.0,
        extra: config.fields().into_iter().collect(),
    };
    let mean = MeanImage::from_array(Array1::zeros(2));
    save_state(path, run, config, &mean, &info).unwrap();
}

#[test]
fn every_optimizers_run_state_round_trips_and_resumes_bit_for_bit() {
    let splits = spiral_splits(30, 3, 1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for kind in [
        OptimizerKind::Sgd,
        OptimizerKind::MOMENTUM,
        OptimizerKind::ADAM,
    ] {
        let path = tmp.path().join(format!("{}.safetensors", kind.name()));
        let two = config(kind, 2);
        let mut run = Training::<f32>::new(&two, 2, 3).unwrap();
        train(&mut run, &two, &splits);
        save(&path, &run, &two);

        let saved = load_state(&path).unwrap();
        let loaded = &saved.run;
        assert_eq!(saved.config, two, "{}", kind.name());
        assert_eq!(loaded.net, run.net);
        assert_eq!(loaded.best, run.best);
        assert_eq!((loaded.epoch, loaded.iteration), (run.epoch, run.iteration));
        assert_eq!(loaded.history, run.history);
        assert_eq!(
            loaded.step.optimizer().state(),
            run.step.optimizer().state()
        );
        assert_eq!(
            saved.info.extra.get("optimizer.kind").map(String::as_str),
            Some(kind.name())
        );

        let three = config(kind, 3);
        let mut resumed = saved.run;
        train(&mut resumed, &three, &splits);
        train(&mut run, &three, &splits);
        assert_eq!(
            resumed.net,
            run.net,
            "{}: resumed vs uninterrupted",
            kind.name()
        );
        assert_eq!(
            resumed.step.optimizer().state(),
            run.step.optimizer().state()
        );
    }
}

#[test]
fn adam_state_without_its_second_moments_is_refused_naming_the_file() {
    let splits = spiral_splits(30, 3, 1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.safetensors");
    let config = config(OptimizerKind::ADAM, 1);
    let mut run = Training::<f32>::new(&config, 2, 3).unwrap();
    train(&mut run, &config, &splits);
    save(&path, &run, &config);
    let mut file = TensorFile::load(&path).unwrap();
    for k in 0..4 {
        assert!(file.remove(&format!("opt.v{k}")).is_some());
    }
    file.save(&path).unwrap();
    let err = load_state(&path).err().expect("the state is refused");
    assert!(
        matches!(
            err,
            CheckpointError::Optimizer {
                source: OptimError::StateCount {
                    buffer: "v",
                    expected: 4,
                    found: 0,
                    ..
                },
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn a_run_with_dropout_label_smoothing_and_tanh_resumes_bit_for_bit() {
    let splits = spiral_splits(30, 3, 1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.safetensors");
    let with = |epochs| TrainConfig {
        hidden: vec![12, 8],
        activation: tapegrad_net::Activation::Tanh,
        dropout: 0.3,
        label_smoothing: 0.1,
        ..config(OptimizerKind::ADAM, epochs)
    };
    let two = with(2);
    let mut run = Training::<f32>::new(&two, 2, 3).unwrap();
    train(&mut run, &two, &splits);
    save(&path, &run, &two);
    let saved = load_state(&path).unwrap();
    assert_eq!(saved.config, two);
    assert_eq!(saved.run.net.activation(), tapegrad_net::Activation::Tanh);

    let three = with(3);
    let mut resumed = saved.run;
    train(&mut resumed, &three, &splits);
    train(&mut run, &three, &splits);
    assert_eq!(resumed.net, run.net, "resumed vs uninterrupted");
    let losses = |r: &Training<f32>| -> Vec<(f64, f64)> {
        r.history.iter().map(|e| (e.loss, e.val_loss)).collect()
    };
    assert_eq!(losses(&resumed), losses(&run));
}
