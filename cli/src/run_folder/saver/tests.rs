use std::collections::BTreeMap;
use std::fs;
use std::ops::ControlFlow;

use tapegrad_net::data::{self, Splits};
use tapegrad_net::train::Progress;

use super::*;

/// Spiral data with the mean subtracted, a config of `epochs` epochs, and the model info.
fn setup(epochs: usize) -> (Splits, TrainConfig, MeanImage, ModelInfo) {
    let mut splits = data::load(&"spiral:60,3".parse().unwrap(), 0).unwrap();
    let mean = MeanImage::fit_apply(&mut splits).unwrap();
    let config = TrainConfig {
        epochs,
        hidden: vec![8],
        ..TrainConfig::default()
    };
    let info = ModelInfo {
        dataset: "spiral:60,3".into(),
        classes: 3,
        image: None,
        input_scale: 1.0,
        extra: BTreeMap::new(),
    };
    (splits, config, mean, info)
}

/// Trains with a saver after every epoch, stopping after epoch `stop` (if any); returns the
/// run, the saver and the first save error.
fn train(
    dir: &Path,
    (splits, config, mean, info): &(Splits, TrainConfig, MeanImage, ModelInfo),
    stop: Option<usize>,
) -> (Training<f32>, Saver, Option<Failure>) {
    let toml = "hidden = 5\n".to_owned();
    let mut saver = Saver::new(dir, config.clone(), mean.clone(), info.clone(), toml);
    let mut run = Training::new(config, splits.train.dim(), splits.train.classes()).unwrap();
    let mut error = None;
    run.run(config, &splits.train, &splits.val, |p| {
        if let Progress::Epoch { run, improved, .. } = p {
            if let Err(e) = saver.epoch_done(run, improved) {
                error = Some(e);
                return ControlFlow::Break(());
            }
            if stop == Some(run.epoch) {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    (run, saver, error)
}

#[test]
fn epochs_between_saves_stay_in_memory_and_the_last_one_is_saved_when_the_run_stops() {
    let dir = tempfile::tempdir().unwrap();
    let setup = setup(50);
    let (run, mut saver, error) = train(dir.path(), &setup, Some(7));
    assert!(error.is_none());
    assert_eq!(run.epoch, 7);
    // Well within SAVE_INTERVAL and not the last epoch: nothing written yet.
    assert!(!dir.path().join(STATE_FILE).exists());
    assert!(!dir.path().join(CONFIG_FILE).exists());

    saver.flush(&run).unwrap();
    let state = checkpoint::load_state(&dir.path().join(STATE_FILE)).unwrap();
    assert_eq!(state.run.epoch, 7);
    assert_eq!(state.run.history.len(), 7);
    assert!(state.run.net == run.net && state.run.best == run.best);
    let model = checkpoint::load_model(&dir.path().join(MODEL_FILE)).unwrap();
    assert!(model.net == run.best);
    let metrics = fs::read_to_string(dir.path().join(METRICS_FILE)).unwrap();
    assert_eq!(metrics.lines().count(), 1 + 7);
    let settings = fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap();
    assert_eq!(
        settings, "hidden = 5\n",
        "the first save writes config.toml"
    );
    // Nothing pending any more.
    fs::remove_file(dir.path().join(STATE_FILE)).unwrap();
    saver.flush(&run).unwrap();
    assert!(!dir.path().join(STATE_FILE).exists());
}

#[test]
fn the_last_epoch_is_always_saved() {
    let dir = tempfile::tempdir().unwrap();
    let setup = setup(3);
    let (run, _, error) = train(dir.path(), &setup, None);
    assert!(error.is_none());
    let state = checkpoint::load_state(&dir.path().join(STATE_FILE)).unwrap();
    assert_eq!(state.run.epoch, 3);
    assert!(
        checkpoint::load_model(&dir.path().join(MODEL_FILE))
            .unwrap()
            .net
            == run.best
    );
}

#[test]
fn a_model_that_cannot_be_written_after_its_state_is_restored_from_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join(MODEL_FILE);
    // A directory in the model's place: the state is saved, the model's rename fails.
    fs::create_dir(&model_path).unwrap();
    fs::write(model_path.join("blocker"), b"").unwrap();
    let setup = setup(3);
    let (run, _, error) = train(dir.path(), &setup, None);
    let error = error.expect("the model save fails");
    let text = error.to_terminal();
    assert!(text.contains(&model_path.display().to_string()), "{text}");
    assert!(text.contains("`--resume` restores the model"), "{text}");

    let saved = checkpoint::load_state(&dir.path().join(STATE_FILE)).unwrap();
    assert_eq!(saved.run.epoch, 3, "the state was written first");
    assert!(
        !dir.path().join(METRICS_FILE).exists(),
        "nothing after the model"
    );
    fs::remove_dir_all(&model_path).unwrap();
    assert!(restore_model(dir.path(), &saved).unwrap());
    assert!(checkpoint::load_model(&model_path).unwrap().net == run.best);
    assert!(
        !restore_model(dir.path(), &saved).unwrap(),
        "then it is consistent"
    );
}

#[test]
fn a_resumed_runs_first_save_rewrites_the_model_with_its_new_metadata_even_without_a_better_net() {
    let dir = tempfile::tempdir().unwrap();
    let (splits, config, mean, info) = setup(2);
    let (run, _, error) = train(
        dir.path(),
        &(splits, config.clone(), mean.clone(), info.clone()),
        None,
    );
    assert!(error.is_none());
    // The run resumes with more epochs: its metadata changes, its best net not (yet).
    let mut more = info.clone();
    more.extra.insert("epochs".into(), "3".into());
    let config = TrainConfig {
        epochs: 2,
        ..config
    };
    let mut saver = Saver::new(dir.path(), config, mean, more, String::new());
    saver.epoch_done(&run, false).unwrap(); // epoch 2 of 2: saved at once
    let model = checkpoint::load_model(&dir.path().join(MODEL_FILE)).unwrap();
    let epochs = model.info.extra.get("epochs").map(String::as_str);
    assert_eq!(
        epochs,
        Some("3"),
        "the model file carries the resumed run's metadata"
    );
    assert!(model.net == run.best);
}
