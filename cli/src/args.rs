//! The command line, as clap derives it.
//!
//! The doc comments here are `--help` text, written for a terminal: `<data>` and `[:POINTS]`
//! are placeholders there, not HTML tags or links.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use tapegrad_net::augment::AUGMENT_KINDS;
use tapegrad_net::config::Setting;
use tapegrad_net::data::{DataSpec, FORMATS};
use tapegrad_net::monitor::Monitor;
use tapegrad_net::schedule::SCHEDULE_KINDS;
use tapegrad_net::train::{Recipe, AUTO, RECIPE_NAMES};
use tapegrad_net::tune::Shard;
use tapegrad_net::{Activation, OptimizerKind};

/// Train and inspect a two-layer neural net (tapegrad's autodiff tape on ndarray).
///
/// Exit codes: 0 ok, 1 failure while running (e.g. the loss diverged), 2 bad usage or bad input,
/// 3 `tune collect` on a study with trials missing.
#[derive(Debug, Parser)]
#[command(
    name = "tapegrad",
    version,
    propagate_version = true,
    after_long_help = format!("Data sources (--data):\n{}", data_formats())
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
// Parsed once per process: the size of `train`'s many flags costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Train the net and write a run folder (model, metrics, pictures).
    Train(TrainArgs),
    /// Report a saved model's accuracy, loss, confusion matrix and per-class precision,
    /// recall and F1 on the data it was trained on (its held-out test split by default).
    Eval(EvalArgs),
    /// Score every row of a CSV, IDX or picture file (or a split of the model's data): the
    /// predicted class and its probability, as CSV.
    Predict(PredictArgs),
    /// Check the net's gradients: tape vs closed form vs the per-example form of the
    /// specification (docs/two-layer-net-gradients.md) vs
    /// central differences, on random nets.
    Gradcheck(GradcheckArgs),
    /// Random search over learning rate, regularisation and hidden sizes, whole or sharded
    /// across machines (`--shard K/N`, then `tune collect`); keeps the best model.
    Tune(TuneArgs),
    /// Print the net's recorded tape as Graphviz DOT (render with `dot -Tsvg`).
    Graph(GraphArgs),
    /// Time one training step (tape and closed form) at the standard shapes.
    Bench(BenchArgs),
}

/// The update rule, as a flag value (and a config file's `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerFlag {
    /// Minibatch SGD: w -= lr * dw.
    Sgd,
    /// SGD with momentum 0.9.
    Momentum,
    /// Adam (beta1 0.9, beta2 0.999, eps 1e-8).
    Adam,
}

impl OptimizerFlag {
    /// The library's optimizer for this flag.
    pub fn kind(self) -> OptimizerKind {
        match self {
            OptimizerFlag::Sgd => OptimizerKind::Sgd,
            OptimizerFlag::Momentum => OptimizerKind::MOMENTUM,
            OptimizerFlag::Adam => OptimizerKind::ADAM,
        }
    }
}

/// Where the data comes from.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// The data source (help from the table of formats, [`data_help`]).
    #[arg(
        long,
        value_parser = parse_spec,
        help = data_help("[default: digits; with --resume, the run's]"),
        long_help = format!("{}\n\n{}", data_help("[default: digits; with --resume, the run's]"), data_formats())
    )]
    pub data: Option<DataSpec>,
}

impl DataArgs {
    /// The data `--data` names, or the built-in digits when it is not given.
    pub fn spec(&self) -> DataSpec {
        self.data.clone().unwrap_or_default()
    }
}

/// `tapegrad train`.
///
/// Settings come from, in order of precedence: the flags given, the `--config` file, the
/// `--recipe`, and the defaults of the data source (printed at the start of the run).
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// The data source (help from the table of formats, [`data_help`]).
    #[arg(
        long,
        value_parser = parse_spec,
        help = data_help("[default: digits]"),
        long_help = format!("{}\n\n{}", data_help("[default: digits]"), data_formats())
    )]
    pub data: Option<DataSpec>,
    /// A TOML file of settings: `data` and any hyperparameter below, by its name with
    /// underscores (`batch_size = 64`; the schedule and optimizer as tables, `[schedule]
    /// kind = "cosine"`). Flags given override it. Every run folder's config.toml is one,
    /// which reproduces the run.
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    pub config: Option<PathBuf>,
    /// A documented set of settings for a goal, laid over the data source's defaults (the
    /// README's "Recipes" lists them): fast (the quickest good result) | best (the lowest
    /// error in about ten minutes on two cores: longer runs with dropout, label smoothing,
    /// weight averaging and --augment auto). The --config file and the flags given override
    /// it; the run's config.toml holds every setting it chose. A config file may name one
    /// as `recipe = "best"`.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "resume",
        value_parser = PossibleValuesParser::new(RECIPE_NAMES).try_map(|name| name.parse::<Recipe>())
    )]
    pub recipe: Option<Recipe>,
    #[command(flatten)]
    pub hyper: HyperFlags,
    /// Threads for the matrix products and the other parallel passes of a step (default: all
    /// cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run folder for the model, metrics and pictures [default: runs/<data>-<time>, with -2,
    /// -3, ... when taken]. It must be new or empty unless --resume or --overwrite.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its last saved state (after Ctrl-C, a crash, or to train
    /// longer with --epochs). The run keeps its saved data and hyperparameters; only --epochs,
    /// --threads and --quiet apply (--data may repeat the run's data, not name other data).
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// Replace the earlier run in --out: delete its files first. A folder holding anything
    /// else is never cleared.
    #[arg(long, requires = "out", conflicts_with = "resume")]
    pub overwrite: bool,
    /// No progress (the settings and the summary are still printed).
    #[arg(long, short)]
    pub quiet: bool,
}

/// The flags that set a hyperparameter: each is named as the field of
/// [`TrainConfig`] it sets, and serialises under that name (a flag not given is left out), so
/// that the flags given lay over the config file and the defaults key by key.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct HyperFlags {
    /// Hidden units h, or one size per hidden layer (`512,256` trains a net of three layers).
    #[arg(long, value_delimiter = ',', num_args = 1, value_name = "H[,H...]")]
    pub hidden: Option<Vec<usize>>,
    /// Regularisation strength lambda of lambda * (sum W1^2 + sum W2^2 + ...).
    #[arg(long)]
    pub reg: Option<f64>,
    /// Learning rate (the peak, for the cosine warm-up and one-cycle).
    #[arg(long)]
    pub lr: Option<f64>,
    #[command(flatten)]
    pub schedule: ScheduleFlags,
    /// Examples per minibatch.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Passes over the training data (at most, with --patience).
    #[arg(long)]
    pub epochs: Option<usize>,
    #[command(flatten)]
    pub optimizer: OptimizerFlags,
    /// Standard deviation of the initial weights (biases start at 0).
    #[arg(long)]
    pub init_std: Option<f64>,
    /// Seed of the initial weights, the data split and the shuffles: the same seed gives
    /// bit-identical results [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// The validation metric that picks the best model (the one saved), stops early and drives
    /// the plateau schedule: val_loss | val_accuracy.
    #[arg(long, value_parser = parse_monitor)]
    pub monitor: Option<Monitor>,
    /// Stop when the monitored metric has not improved for N epochs [default: never].
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
    /// The hidden units' nonlinearity: relu (the document's) | tanh | sigmoid | leaky_relu
    /// (slope 0.01) [default: relu].
    #[arg(long, value_name = "ACT", value_parser = parse_activation)]
    pub activation: Option<Activation>,
    /// Inverted dropout: the probability P (0 <= P < 1) of zeroing each hidden unit's output
    /// in training; evaluation never drops [default: 0].
    #[arg(long, value_name = "P")]
    pub dropout: Option<f64>,
    /// Label smoothing E (0 <= E <= 1) of the training loss, PyTorch's definition: targets
    /// (1-E) onehot + E/c. The reported val_loss stays the plain cross-entropy [default: 0].
    #[arg(long, value_name = "E")]
    pub label_smoothing: Option<f64>,
    /// Validate and save an exponential moving average of the weights with this decay (0 <
    /// DECAY < 1, e.g. 0.999), updated after every step with the warm-up decay min(DECAY, (1 +
    /// t) / (10 + t)); training steps the raw weights [default: no average].
    #[arg(long, value_name = "DECAY")]
    pub ema: Option<f64>,
    /// Validate and save the equal-weight average of the weights at the end of each epoch from
    /// epoch N on (stochastic weight averaging) [default: no average].
    #[arg(long, value_name = "N")]
    pub swa_start: Option<usize>,
    /// With --swa-start: a constant learning rate for the averaged epochs [default: the
    /// schedule's].
    #[arg(long)]
    pub swa_lr: Option<f64>,
    /// After subtracting the mean image, divide the inputs by the training split's standard
    /// deviation: none | feature (each feature's own, at least 0.1 x the global one, so blank
    /// pixels do not blow up) | global (one over all features). Stored in the model file;
    /// eval and predict apply it [default: none].
    #[arg(long, value_name = "KIND")]
    pub standardize: Option<tapegrad_net::data::Standardize>,
    #[command(flatten)]
    pub augment: AugmentFlags,
}

/// Data augmentation's flags (the `[augment]` table of a config file). Lengths are in pixels,
/// angles in degrees; each setting not given takes its kind's default.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct AugmentFlags {
    /// Redraw every training image at random each epoch: none | shift (whole pixels, ±1) |
    /// affine (rotation ±12°, scale ±12%, shear ±12°, shift ±3 px; bilinear) | elastic
    /// (Simard 2003: alpha 34, sigma 4, with half the affine ranges) | auto (short pilot runs
    /// of one-pixel shifts, the same with mirroring, and affine; the best validation accuracy
    /// is kept and written to config.toml). Image data only.
    #[arg(id = "augment", long = "augment", value_name = "KIND", value_parser = PossibleValuesParser::new(AUGMENT_KINDS.into_iter().chain([AUTO])))]
    pub kind: Option<String>,
    /// affine, elastic: the largest rotation, in degrees either way.
    #[arg(id = "augment_rotate", long = "augment-rotate", value_name = "DEG")]
    pub rotate: Option<f64>,
    /// affine, elastic: the largest change of size, as a fraction (0.1: 90% to 110%).
    #[arg(id = "augment_scale", long = "augment-scale", value_name = "F")]
    pub scale: Option<f64>,
    /// affine, elastic: the largest shear along x, in degrees either way.
    #[arg(id = "augment_shear", long = "augment-shear", value_name = "DEG")]
    pub shear: Option<f64>,
    /// The largest translation, in pixels either way (shift: a whole number).
    #[arg(id = "augment_shift", long = "augment-shift", value_name = "PX")]
    pub shift: Option<f64>,
    /// elastic: the displacement field's scale alpha, in pixels.
    #[arg(id = "elastic_alpha", long = "elastic-alpha", value_name = "A")]
    pub alpha: Option<f64>,
    /// elastic: the width sigma of the Gaussian smoothing the field, in pixels.
    #[arg(id = "elastic_sigma", long = "elastic-sigma", value_name = "S")]
    pub sigma: Option<f64>,
    /// Also mirror images left to right, half of the time (clothes, objects; not digits).
    #[arg(
        id = "augment_flip",
        long = "augment-flip",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub flip: Option<bool>,
    /// Pixel dropout: each pixel of an augmented image becomes background (a raw 0) with
    /// probability P (0 <= P < 1), the others scaled by 1/(1-P) [default: 0].
    #[arg(
        id = "augment_pixel_dropout",
        long = "augment-pixel-dropout",
        value_name = "P"
    )]
    pub pixel_dropout: Option<f64>,
}

/// The flag that sets augmentation setting `key` (`rotate`: `--augment-rotate`; `alpha`:
/// `--elastic-alpha`; `kind`: `--augment`).
pub fn augment_flag(key: &str) -> String {
    match key {
        "kind" => "--augment".to_owned(),
        "alpha" | "sigma" => format!("--elastic-{key}"),
        _ => format!("--augment-{}", key.replace('_', "-")),
    }
}

/// The learning-rate schedule's flags (the `[schedule]` table of a config file).
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct ScheduleFlags {
    /// Learning-rate schedule: constant | step | exponential | cosine (linear warm-up, then
    /// half a cosine per step) | one-cycle | plateau (cut when the monitored metric stalls).
    #[arg(id = "schedule", long = "schedule", value_name = "KIND", value_parser = parse_schedule)]
    pub kind: Option<String>,
    /// step, exponential, plateau: the factor of each cut (exponential: after every epoch).
    #[arg(long)]
    pub lr_decay: Option<f64>,
    /// step: epochs between two cuts.
    #[arg(long, value_name = "N")]
    pub step_epochs: Option<usize>,
    /// cosine: epochs of linear warm-up.
    #[arg(long, value_name = "N")]
    pub warmup_epochs: Option<usize>,
    /// cosine: the rate at the last step; plateau: the lowest rate.
    #[arg(long)]
    pub min_lr: Option<f64>,
    /// plateau: epochs without improvement tolerated before a cut.
    #[arg(long, value_name = "N")]
    pub plateau_patience: Option<usize>,
    /// one-cycle: the fraction of the steps spent rising to --lr.
    #[arg(long)]
    pub pct_start: Option<f64>,
}

/// The optimizer's flag (the `[optimizer]` table of a config file).
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct OptimizerFlags {
    /// Update rule: sgd | momentum (0.9) | adam (0.9, 0.999, 1e-8).
    #[arg(id = "optimizer", long = "optimizer", value_enum)]
    pub kind: Option<OptimizerFlag>,
}

/// Which part of a data set to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Split {
    /// The training examples.
    Train,
    /// The validation examples.
    Val,
    /// The test examples (the format's test file, or the held-out split).
    Test,
}

/// The saved model `eval` and `predict` apply, and the data set it was trained on.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// A model file written by `tapegrad train`, or a run folder holding one
    /// (model.safetensors).
    #[arg(long)]
    pub model: PathBuf,
    /// The data source (help from the table of formats, [`data_help`]).
    #[arg(
        long,
        value_parser = parse_spec,
        help = data_help("[default: the one the model was trained on]. Other data than the model's needs --allow-mismatch."),
        long_help = format!("{}\n\n{}", data_help("[default: the one the model was trained on]. Other data than the model's needs --allow-mismatch."), data_formats())
    )]
    pub data: Option<DataSpec>,
    /// Seed of the data split [default: the model's]. Another seed than the model's needs
    /// --allow-mismatch: it puts examples the model trained on into the test split.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Use --data and --seed even where they contradict what the model was trained on.
    #[arg(long)]
    pub allow_mismatch: bool,
}

/// `tapegrad eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Which split of the data [default: test].
    #[arg(long, value_enum, default_value_t = Split::Test)]
    pub split: Split,
}

/// Whether `predict` inverts a grey picture's brightness before scoring it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Invert {
    /// Invert when the picture's border is light and the model's mean image's border is
    /// dark (a dark drawing on white paper, for a model of light digits on black), or the
    /// other way round.
    Auto,
    /// Always invert (255 becomes 0).
    Yes,
    /// Never invert.
    No,
}

/// `tapegrad predict`.
#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Files to score instead of a split of --data: CSV (as many columns as the model has
    /// inputs, or one more: a label), IDX images (every image), PNG or JPEG pictures.
    #[arg(value_name = "FILE", conflicts_with_all = ["data", "split", "seed"])]
    pub inputs: Vec<PathBuf>,
    /// Which split of --data to score [default: test].
    #[arg(long, value_enum, default_value_t = Split::Test)]
    pub split: Split,
    /// Add every class's probability (columns p0, p1, ...).
    #[arg(long)]
    pub probabilities: bool,
    /// Invert a grey picture (PNG or JPEG) before scoring it: light-on-dark vs dark-on-light.
    #[arg(long, value_enum, default_value_t = Invert::Auto)]
    pub invert: Invert,
}

/// `tapegrad gradcheck`.
#[derive(Debug, Clone, Args)]
pub struct GradcheckArgs {
    /// Number of random nets to check.
    #[arg(long, default_value_t = 5)]
    pub nets: usize,
    /// Seed of the random nets.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// `tapegrad tune`: run a study's trials (all of them, or one shard's), or merge finished
/// shards with `tapegrad tune collect`.
///
/// A study is its search space, seed, trial count and shared settings: trial i's configuration
/// depends on nothing else, so the same flags run the same trial i on any machine. Each trial
/// writes its own folder, OUT/trial-0007/ (model and result.json). Without --shard the whole
/// study runs and is collected into OUT (results.csv, the best model and its config.toml,
/// summary.json, tune.png); with --shard K/N only the trials with i mod N == K run (every
/// shard into the same OUT, or each into its own), and `tapegrad tune collect` merges. With
/// --search halving, trials climb rungs of more and more epochs, the best 1/eta of each rung
/// continuing from their saved state; its shards share OUT and take each other's work. Ctrl-C
/// stops after the current epoch (exit code 130); --resume continues.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TuneArgs {
    /// Merge finished shards instead of running trials.
    #[command(subcommand)]
    pub command: Option<TuneCommand>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of trials in the study (random configurations).
    #[arg(long, default_value_t = 12)]
    pub trials: usize,
    /// Epochs per trial: the most a trial runs (the last rung of --search halving).
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// A search-space file: TOML, one line per hyperparameter searched, as
    /// `lr = { log_uniform = [1e-4, 1e-2] }`, `hidden = { choice = [[100], [200, 100]] }`
    /// (also `uniform = [MIN, MAX]`); over the default space, under the flags below.
    #[arg(long, value_name = "FILE")]
    pub space: Option<PathBuf>,
    /// Learning rates are drawn log-uniformly from this range [default: 1e-4 1e-1].
    #[arg(long, num_args = 2, value_names = ["MIN", "MAX"])]
    pub lr: Option<Vec<f64>>,
    /// Regularisation strengths are drawn log-uniformly from this range [default: 1e-6 1e-2].
    #[arg(long, num_args = 2, value_names = ["MIN", "MAX"])]
    pub reg: Option<Vec<f64>>,
    /// Hidden sizes to choose from; each one size, or one per hidden layer
    /// [default: 50 100 200 100,50].
    #[arg(long, num_args = 1.., value_name = "H[,H...]", value_parser = parse_hidden_choice)]
    pub hidden: Option<Vec<HiddenChoice>>,
    /// Batch sizes to choose from [default: 32 64 128].
    #[arg(long, num_args = 1.., value_name = "N")]
    pub batch_size: Option<Vec<usize>>,
    /// Update rules to choose from, each with its usual constants [default: adam momentum].
    #[arg(long, num_args = 1.., value_enum)]
    pub optimizer: Option<Vec<OptimizerFlag>>,
    /// Learning-rate schedules to choose from, each with its usual settings (constant, step,
    /// exponential, cosine, one-cycle, plateau) [default: constant exponential one-cycle].
    #[arg(long, num_args = 1.., value_name = "KIND", value_parser = parse_schedule)]
    pub schedule: Option<Vec<String>>,
    /// How trials spend their epochs: `random` runs every trial for --epochs; `halving`
    /// (successive halving) runs every trial for --min-epochs, then continues the best 1/eta
    /// to eta times the epochs, and so on up to --epochs; `asha` promotes a trial as soon as
    /// it is in the best 1/eta of its rung so far. Halving and ASHA shards must share --out.
    #[arg(long, value_enum, default_value_t = SearchFlag::Random)]
    pub search: SearchFlag,
    /// Epochs of halving's first rung [default: as many rungs as the trials fill:
    /// epochs / eta^floor(log_eta trials)].
    #[arg(long, value_name = "EPOCHS")]
    pub min_epochs: Option<usize>,
    /// Halving's reduction factor: the best 1/eta of a rung go on, to eta times its epochs
    /// [default: 3].
    #[arg(long)]
    pub eta: Option<usize>,
    /// Seed of the study: of each trial's draw, the data split and every trial's training.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run only the trials i with i mod N == K (K from 0 to N-1); needs --out, the study
    /// folder (shared by the shards, or one per shard).
    #[arg(long, value_name = "K/N", value_parser = parse_shard, requires = "out")]
    pub shard: Option<Shard>,
    /// Continue the study in --out: skip the trials that are finished (those with a
    /// trial-NNNN/result.json), run the others. The flags must be the study's.
    #[arg(long, requires = "out", conflicts_with = "overwrite")]
    pub resume: bool,
    /// Threads for the matrix products and the other parallel passes of a step (default: all
    /// cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// The study folder [default: runs/tune-<data>-<time>, with -2, -3, ... when taken].
    /// Without --shard or --resume it must be new or empty unless --overwrite.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the earlier run in --out: delete its files first. A folder holding anything
    /// else is never cleared.
    #[arg(long, requires = "out")]
    pub overwrite: bool,
}

/// `tune --search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchFlag {
    /// Every trial runs all --epochs.
    Random,
    /// Successive halving (synchronous: the same result in one process or many).
    Halving,
    /// Asynchronous successive halving (ASHA): promotes as results arrive, never waits; its
    /// promotions depend on timing across shards.
    Asha,
}

/// `tapegrad tune`'s subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum TuneCommand {
    /// Merge the finished trials of study folders, shard folders or trial folders into one
    /// ranked results.csv, the best model, its config.toml and summary.json. Exit codes: 0 all
    /// of the study's trials were found; 3 some are missing (they are named; the files are
    /// written for the trials found); 2 bad input (no trial, or trials of different studies).
    Collect(CollectArgs),
}

/// `tapegrad tune collect`.
#[derive(Debug, Clone, Args)]
pub struct CollectArgs {
    /// Study, shard or trial folders.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged files [default: the first DIR].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One `--hidden` choice of `tune`: one size per hidden layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenChoice(pub Vec<usize>);

/// Parses a `tune --hidden` choice: `100` or `512,256`.
fn parse_hidden_choice(s: &str) -> Result<HiddenChoice, String> {
    let sizes: Result<Vec<usize>, _> = s.split(',').map(|h| h.trim().parse::<usize>()).collect();
    match sizes {
        Ok(sizes) if !sizes.contains(&0) => Ok(HiddenChoice(sizes)),
        _ => Err(format!(
            "'{s}' is not hidden sizes: one whole number of at least 1 per hidden layer, \
             separated by commas"
        )),
    }
}

/// Parses `--shard K/N`.
fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
        .map_err(|e: tapegrad_net::tune::TuneError| e.to_string())
}

/// `tapegrad graph`.
#[derive(Debug, Clone, Args)]
pub struct GraphArgs {
    /// Inputs d.
    #[arg(long, default_value_t = 64)]
    pub inputs: usize,
    /// Hidden units h, or one size per hidden layer (`512,256`).
    #[arg(long, value_delimiter = ',', num_args = 1, value_name = "H[,H...]",
          default_values_t = [100])]
    pub hidden: Vec<usize>,
    /// Classes c.
    #[arg(long, default_value_t = 10)]
    pub classes: usize,
    /// Examples in the recorded batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
}

/// `tapegrad bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Only this shape: tiny, cifar, mnist800 or large (default: all).
    #[arg(long)]
    pub shape: Option<String>,
    /// Seconds of timed steps per shape and variant.
    #[arg(long, default_value_t = 1.0)]
    pub budget: f64,
    /// Element type of the step.
    #[arg(long, value_enum, default_value_t = Dtype::F32)]
    pub dtype: Dtype,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Threads for the matrix products and the other parallel passes of a step (default: all
    /// cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// The matrix kernel's instruction set (default: the widest this CPU has), to measure a
    /// narrower one on a wider machine.
    #[arg(long, value_enum)]
    pub isa: Option<IsaArg>,
}

/// An instruction set of the matrix kernel, as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IsaArg {
    /// Plain Rust, any CPU.
    Scalar,
    /// x86-64 AVX2 with FMA.
    Avx2,
    /// x86-64 AVX-512F with AVX-512VL.
    Avx512,
}

impl From<IsaArg> for tapegrad_autograd::Isa {
    fn from(isa: IsaArg) -> Self {
        match isa {
            IsaArg::Scalar => tapegrad_autograd::Isa::Scalar,
            IsaArg::Avx2 => tapegrad_autograd::Isa::Avx2,
            IsaArg::Avx512 => tapegrad_autograd::Isa::Avx512,
        }
    }
}

/// An element type, as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dtype {
    /// 32-bit floats.
    F32,
    /// 64-bit floats.
    F64,
}

/// Parses a `--data` value.
/// `--data`'s help, from the table of formats: `Data source: digits | spiral[:POINTS,CLASSES]
/// | ...`, then `default`.
fn data_help(default: &str) -> String {
    let forms: Vec<&str> = FORMATS.iter().map(|f| f.syntax).collect();
    format!("Data source: {} {default}", forms.join(" | "))
}

/// The data formats, one line each: the syntax and what the data is.
fn data_formats() -> String {
    let width = FORMATS.iter().map(|f| f.syntax.len()).max().unwrap_or(0);
    let lines: Vec<String> = FORMATS
        .iter()
        .map(|f| format!("  {:width$}  {}", f.syntax, f.about))
        .collect();
    lines.join("\n")
}

fn parse_spec(s: &str) -> Result<DataSpec, String> {
    s.parse::<DataSpec>().map_err(|e| e.to_string())
}

/// Parses a `--monitor` value.
fn parse_monitor(s: &str) -> Result<Monitor, String> {
    Monitor::ALL
        .into_iter()
        .find(|m| m.name() == s)
        .ok_or_else(|| format!("'{s}' is not one of val_loss, val_accuracy"))
}

/// Parses an `--activation` value (`leaky-relu` and `leaky_relu` alike).
fn parse_activation(s: &str) -> Result<Activation, String> {
    s.replace('-', "_").parse()
}

/// Parses a `--schedule` value into its `kind` (`one-cycle` and `one_cycle` alike).
fn parse_schedule(s: &str) -> Result<String, String> {
    let kind = s.replace('-', "_");
    if SCHEDULE_KINDS.contains(&kind.as_str()) {
        Ok(kind)
    } else {
        let kinds: Vec<String> = SCHEDULE_KINDS.iter().map(|k| k.replace('_', "-")).collect();
        Err(format!("'{s}' is not one of {}", kinds.join(", ")))
    }
}

/// How the user sets a hyperparameter: its `train` flag (`--batch-size`, `--warmup-epochs`),
/// or, for a setting that has none, its key in a config file (`schedule.div_factor`).
pub fn flag(setting: Setting) -> String {
    let name = setting.name();
    let long = name.replace('_', "-");
    let train = Cli::command()
        .find_subcommand("train")
        .map(|c| {
            c.get_arguments()
                .any(|a| a.get_long() == Some(long.as_str()))
        })
        .unwrap_or(false);
    match setting {
        Setting::Augment(key) => augment_flag(key),
        _ if train => format!("--{long}"),
        Setting::Schedule(key) => format!("schedule.{key}"),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        // clap's own checks: no two arguments with one id or one flag, and so on.
        Cli::command().debug_assert();
    }

    #[test]
    fn a_setting_is_blamed_on_its_flag_or_else_its_config_key() {
        assert_eq!(flag(Setting::BatchSize), "--batch-size");
        assert_eq!(flag(Setting::Schedule("warmup_epochs")), "--warmup-epochs");
        assert_eq!(flag(Setting::Schedule("div_factor")), "schedule.div_factor");
        assert_eq!(flag(Setting::Augment("rotate")), "--augment-rotate");
        assert_eq!(flag(Setting::Augment("sigma")), "--elastic-sigma");
    }
}
