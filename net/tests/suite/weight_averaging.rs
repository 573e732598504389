//! Weight averaging in the training loop: EMA and SWA nets are what validation measures and
//! what the best model keeps, SWA starts at its epoch (at `swa_lr`), and a run state carries
//! the average so that a resumed run equals an uninterrupted one.

use std::ops::ControlFlow;
use std::path::Path;

use ndarray::Array1;
use tapegrad_net::checkpoint::{load_state, save_state, CheckpointError, ModelInfo};
use tapegrad_net::data::{spiral_splits, MeanImage, Splits};
use tapegrad_net::schedule::Schedule;
use tapegrad_net::tensor_file::{TensorFile, TensorFileError};
use tapegrad_net::train::{evaluate, Progress, TrainConfig, Training};

fn config(epochs: usize, ema: Option<f64>, swa_start: Option<usize>) -> TrainConfig {
    TrainConfig {
        hidden: vec![8],
        epochs,
        lr: 0.02,
        ema,
        swa_start,
        schedule: Schedule::Exponential { lr_decay: 0.9 },
        ..TrainConfig::default()
    }
}

fn splits() -> Splits {
    spiral_splits(60, 3, 1).unwrap()
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
fn ema_and_swa_runs_resume_from_their_state_exactly_as_uninterrupted_runs() {
    let splits = splits();
    let tmp = tempfile::tempdir().unwrap();
    for (name, ema, swa) in [("ema", Some(0.99), None), ("swa", None, Some(2))] {
        let path = tmp.path().join(format!("{name}.safetensors"));
        let (three, five) = (config(3, ema, swa), config(5, ema, swa));
        let mut run = Training::<f32>::new(&five, 2, 3).unwrap();
        train(&mut run, &three, &splits);
        assert!(run.average.as_ref().is_some_and(|a| a.count > 0), "{name}");
        save(&path, &run, &five);

        let mut resumed = load_state(&path).unwrap().run;
        assert_eq!(
            resumed.average, run.average,
            "{name}: the average round-trips"
        );
        train(&mut resumed, &five, &splits);
        train(&mut run, &five, &splits);
        assert_eq!(
            resumed.average, run.average,
            "{name}: resumed vs uninterrupted"
        );
        assert_eq!(resumed.best, run.best, "{name}");
        let without_time = |run: &Training<f32>| -> Vec<_> {
            let mut history = run.history.clone();
            history.iter_mut().for_each(|s| s.seconds = 0.0);
            history
        };
        assert_eq!(without_time(&resumed), without_time(&run), "{name}");
    }
}

#[test]
fn validation_measures_the_ema_net_and_the_best_model_is_it() {
    let splits = splits();
    let config = config(4, Some(0.9), None);
    let mut run = Training::<f32>::new(&config, 2, 3).unwrap();
    let mut checked = 0;
    run.run(&config, &splits.train, &splits.val, |p| {
        if let Progress::Epoch {
            stats,
            run,
            improved,
        } = p
        {
            let average = run.average.as_ref().unwrap();
            assert_eq!(average.count as usize, run.iteration, "one update per step");
            assert_ne!(average.net, run.net, "the average is not the trained net");
            let on_val = evaluate(
                &average.net,
                splits.val.features(),
                splits.val.labels(),
                config.reg,
            )
            .unwrap();
            assert_eq!(stats.val_loss, on_val.loss);
            assert_eq!(stats.val_accuracy, on_val.accuracy);
            if improved {
                assert_eq!(run.best, average.net);
            }
            checked += 1;
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(checked, 4);
}

#[test]
fn swa_measures_the_trained_net_before_its_start_and_the_average_from_it_at_swa_lr() {
    let splits = splits();
    let config = TrainConfig {
        swa_lr: Some(0.007),
        ..config(5, None, Some(3))
    };
    let mut run = Training::<f32>::new(&config, 2, 3).unwrap();
    run.run(&config, &splits.train, &splits.val, |p| {
        if let Progress::Epoch { stats, run, .. } = p {
            let average = run.average.as_ref().unwrap();
            let snapshots = stats.epoch.saturating_sub(2) as u64;
            assert_eq!(average.count, snapshots, "epoch {}", stats.epoch);
            let measured = if snapshots == 0 {
                &run.net
            } else {
                &average.net
            };
            assert!(
                std::ptr::eq(run.measured(), measured),
                "epoch {}",
                stats.epoch
            );
            assert_eq!(stats.lr == 0.007, stats.epoch >= 3, "epoch {}", stats.epoch);
        }
        ControlFlow::Continue(())
    })
    .unwrap();
}

#[test]
fn a_run_state_without_its_average_is_refused_naming_the_tensor() {
    let splits = splits();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.safetensors");
    let config = config(1, Some(0.99), None);
    let mut run = Training::<f32>::new(&config, 2, 3).unwrap();
    train(&mut run, &config, &splits);
    save(&path, &run, &config);
    let mut file = TensorFile::load(&path).unwrap();
    assert!(file.remove("avg.b2").is_some());
    file.save(&path).unwrap();
    let err = load_state(&path).err().expect("the state is refused");
    assert!(
        matches!(
            &err,
            CheckpointError::TensorFile(TensorFileError::MissingTensor { name, .. })
                if name == "avg.b2"
        ),
        "{err}"
    );
}
