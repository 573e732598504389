//! What a saved model or run was trained on, and the data `eval`, `predict` and
//! `train --resume` apply it to: the data set and split seed the file records, unless a flag
//! names others; a flag that contradicts the file is an error (exit code 2) naming the flag
//! and what the model was trained on, unless `--allow-mismatch` asks for it.

use std::path::{Path, PathBuf};

use tapegrad_net::checkpoint::{self, ModelInfo, SavedModel};
use tapegrad_net::data::{self, DataSpec, Inputs};
use tapegrad_net::NetError;

use crate::args::{ModelArgs, Split};
use crate::failure::{Failure, Outcome};
use crate::run_folder::MODEL_FILE;

/// The metadata key holding the split seed (the `seed` hyperparameter).
const SEED_KEY: &str = "seed";

/// `--model` as a file: the model file inside it when it names a folder (a run folder).
pub fn model_file(flag: &Path) -> PathBuf {
    if flag.is_dir() {
        flag.join(MODEL_FILE)
    } else {
        flag.to_path_buf()
    }
}

/// Loads the model `--model` names (a file or a run folder); returns its file's path too.
/// Refuses non-finite weights and metadata that does not fit them (see `load_model`).
pub fn load_model(flag: &Path) -> Outcome<(PathBuf, SavedModel)> {
    let path = model_file(flag);
    if flag.is_dir() && !path.exists() {
        return Err(Failure::input(format!(
            "--model {}: the folder holds no {MODEL_FILE} (is it a run folder?)",
            flag.display()
        )));
    }
    let model = checkpoint::load_model(&path)?;
    Ok((path, model))
}

/// The data a model is applied to, and the seed to split it with.
#[derive(Debug, Clone)]
pub struct DataChoice {
    /// The data source.
    pub spec: DataSpec,
    /// The seed of its split.
    pub seed: u64,
    /// Whether it is the data the model was trained on (then the split is the model's).
    pub models_own: bool,
    /// Whether it comes from the model file rather than `--data`.
    pub recorded: bool,
}

/// The split seed a model records, if it records one.
pub fn recorded_seed(info: &ModelInfo) -> Option<u64> {
    info.extra.get(SEED_KEY).and_then(|s| s.parse().ok())
}

/// What a model was trained on, for messages: `digits (split seed 7)`.
pub fn describe(info: &ModelInfo) -> String {
    match recorded_seed(info) {
        Some(seed) => format!("{} (split seed {seed})", info.dataset),
        None => info.dataset.clone(),
    }
}

/// The data `eval` or `predict` applies `model` to: `--data` and `--seed` when given, else
/// what the model records. `--data` naming other data, or `--seed` another split of the
/// model's data (where the seed decides the split), is refused unless `--allow-mismatch`;
/// when the recorded files no longer exist, `--data` says where they moved.
pub fn choose_data(model_path: &Path, info: &ModelInfo, args: &ModelArgs) -> Outcome<DataChoice> {
    let recorded = info.dataset.parse::<DataSpec>().ok();
    let model = model_path.display();
    let (spec, models_own) = match (&args.data, recorded) {
        (None, Some(recorded)) => (recorded, true),
        (None, None) => {
            return Err(Failure::input(format!(
                "model {model} was trained on '{}', which is not a data source tapegrad \
                 reads: give --data",
                info.dataset
            )))
        }
        (Some(given), Some(recorded)) if given.same_source(&recorded) => (given.clone(), true),
        // The recorded files have moved: --data names where they are now.
        (Some(given), Some(recorded))
            if !is_there(&recorded) && given.name() == recorded.name() =>
        {
            (given.clone(), true)
        }
        (Some(given), _) if args.allow_mismatch => (given.clone(), false),
        (Some(given), _) => {
            return Err(Failure::input(format!(
                "--data {given} contradicts the model: {model} was trained on {}",
                describe(info)
            ))
            .line(
                "leave --data out to use the model's data, or add --allow-mismatch to use \
                 other data on purpose",
            )
            .line(format!(
                "(to score every row of a file, run: tapegrad predict --model {model} FILE)"
            )))
        }
    };
    let recorded_seed = recorded_seed(info);
    let seed = match (args.seed, recorded_seed) {
        (Some(given), Some(recorded))
            if given != recorded
                && models_own
                && spec.split_is_seeded()
                && !args.allow_mismatch =>
        {
            return Err(Failure::input(format!(
                "--seed {given} contradicts the model: {model} was trained on {}, so the \
                 splits of seed {given} mix in examples it trained on",
                describe(info)
            ))
            .line("leave --seed out to use the model's split, or add --allow-mismatch"));
        }
        (Some(given), _) => given,
        (None, Some(recorded)) => recorded,
        (None, None) if models_own && spec.split_is_seeded() => {
            return Err(Failure::input(format!(
                "model {model} records no split seed (metadata '{SEED_KEY}'), and the split \
                 of {spec} depends on it: give --seed, the seed it was trained with"
            )))
        }
        (None, None) => 0,
    };
    Ok(DataChoice {
        spec,
        seed,
        models_own,
        recorded: args.data.is_none(),
    })
}

/// Whether the files a spec names exist (built-in and generated data always do).
fn is_there(spec: &DataSpec) -> bool {
    spec.path().is_none_or(|path| path.exists())
}

/// The data a resumed run continues on: the one its state records; `--data` may repeat it
/// but not name other data.
pub fn resumed_data(
    given: Option<&DataSpec>,
    info: &ModelInfo,
    state_path: &Path,
) -> Outcome<DataSpec> {
    let recorded: DataSpec = info.dataset.parse().map_err(|e| {
        Failure::input(format!(
            "cannot resume from {}: its recorded data set is unreadable: {e}",
            state_path.display()
        ))
    })?;
    match given {
        Some(given) if !given.same_source(&recorded) => Err(Failure::input(format!(
            "--data {given} contradicts the run: {} was trained on {}",
            state_path.display(),
            describe(info)
        ))
        .line("leave --data out to resume on the run's own data")),
        Some(given) => Ok(given.clone()),
        None => Ok(recorded),
    }
}

/// The `split` of the chosen data as rows to score, in the data's own units, and the split's
/// name (`digits/test`).
pub fn load_split(choice: &DataChoice, split: Split) -> Outcome<(String, Inputs)> {
    let splits = data::load(&choice.spec, choice.seed).map_err(|e| {
        let failure = Failure::from(e);
        if choice.recorded {
            failure.line(format!(
                "({} is the data set the model file records; if it has moved, name it with --data)",
                choice.spec
            ))
        } else {
            failure
        }
    })?;
    let data = match split {
        Split::Train => splits.train,
        Split::Val => splits.val,
        Split::Test => splits.test.ok_or_else(|| {
            Failure::input(format!(
                "data {} has no test split; use --split val",
                choice.spec
            ))
        })?,
    };
    let name = data.name().to_owned();
    Ok((name, Inputs::from_dataset(data, choice.spec.input_scale())))
}

/// Checks that `inputs` have the model's feature count and brings them to the net's inputs
/// as training did (the model's `input_scale`, then its mean image); messages name the
/// model file and `source`.
pub fn preprocess(
    model_path: &Path,
    model: &SavedModel,
    inputs: &mut Inputs,
    source: &str,
) -> Outcome {
    let misfit = |e: Failure| {
        e.context(format!(
            "model {} does not fit data {source}",
            model_path.display()
        ))
    };
    let d = model.net.inputs();
    if inputs.features.ncols() != d {
        return Err(misfit(Failure::from(NetError::InputSize {
            expected: d,
            found: inputs.features.ncols(),
        })));
    }
    if let (Some(theirs), Some(ours)) = (inputs.image, model.info.image) {
        let hwc = |s: data::ImageShape| (s.height, s.width, s.channels);
        if hwc(theirs) != hwc(ours) {
            return Err(misfit(Failure::input(format!(
                "its images are {}x{}x{} (height x width x channels), the model's {}x{}x{}",
                theirs.height,
                theirs.width,
                theirs.channels,
                ours.height,
                ours.width,
                ours.channels
            ))));
        }
    }
    model
        .preprocess(inputs.features.view_mut(), inputs.units)
        .map_err(|e| misfit(e.into()))
}
