//! Writes the seeds: a few small valid inputs per fuzz target, in each target's input form
//! (see `tapegrad_fuzz::replay`), each accepted by its reader. Usage: `gen_seeds [DIR]`
//! writes `DIR/TARGET/NAME` (`DIR` defaults to `seeds`); `fuzz/run.sh` fuzzes from
//! `fuzz/seeds/TARGET` and `fuzz/corpus/TARGET`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use ndarray::Array1;
use tapegrad_fuzz::framing::join;
use tapegrad_net::checkpoint::{save_model, save_state, ModelInfo, SavedModel};
use tapegrad_net::data::{
    ImageShape, MeanImage, Standardize, CIFAR10_RECORD, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC,
};
use tapegrad_net::optim::OptimizerState;
use tapegrad_net::train::{EpochStats, TrainConfig, Training};
use tapegrad_net::{Init, Mlp, OptimizerKind};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

/// `n` CIFAR-10 records with labels `first, first + 1, ...` (mod 10) and varied pixels.
fn cifar_records(n: usize, first: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * CIFAR10_RECORD);
    for i in 0..n {
        out.push((first + i as u8) % 10);
        out.extend((0..CIFAR10_RECORD - 1).map(|p| (p * 7 + i * 13) as u8));
    }
    out
}

/// An IDX images file of `n` images of `rows x cols` pixels.
fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut out = IDX_IMAGES_MAGIC.to_be_bytes().to_vec();
    for d in [n, rows, cols] {
        out.extend(d.to_be_bytes());
    }
    out.extend((0..n * rows * cols).map(|p| (p * 31) as u8));
    out
}

/// An IDX labels file of `n` labels `0, 1, 2, ...` (mod 10).
fn idx_labels(n: u32) -> Vec<u8> {
    let mut out = IDX_LABELS_MAGIC.to_be_bytes().to_vec();
    out.extend(n.to_be_bytes());
    out.extend((0..n).map(|i| (i % 10) as u8));
    out
}

/// A tiny model: `d` inputs, 3 hidden units, `c` classes.
fn tiny_model(d: usize, c: usize, image: Option<ImageShape>) -> SavedModel {
    let mut extra = BTreeMap::new();
    extra.insert("reg".to_owned(), "0.0001".to_owned());
    SavedModel {
        net: Mlp::new(&[d, 3, c], Init { std: 1e-2, seed: 7 }).expect("a valid net"),
        mean: MeanImage::from_array(Array1::from_iter((0..d).map(|i| i as f32 / 10.0))),
        info: ModelInfo {
            dataset: "digits".to_owned(),
            classes: c,
            image,
            input_scale: 1.0 / 16.0,
            extra,
        },
    }
}

fn saved_bytes(dir: &Path, save: impl FnOnce(&Path)) -> Vec<u8> {
    let path = dir.join("seed.safetensors");
    save(&path);
    let bytes = std::fs::read(&path).expect("the seed was written");
    std::fs::remove_file(&path).expect("the seed can be removed");
    bytes
}

fn run_state_seed(dir: &Path, kind: OptimizerKind, epochs_done: usize) -> Vec<u8> {
    run_state_seed_with(dir, kind, epochs_done, None, Standardize::None)
}

/// A run state whose config averages with `ema` and standardises as `standardize`.
fn run_state_seed_with(
    dir: &Path,
    kind: OptimizerKind,
    epochs_done: usize,
    ema: Option<f64>,
    standardize: Standardize,
) -> Vec<u8> {
    let config = TrainConfig {
        hidden: vec![3],
        epochs: 5,
        optimizer: kind,
        ema,
        standardize,
        ..TrainConfig::default()
    };
    let (d, c) = (4, 3);
    let mut run = Training::<f32>::new(&config, d, c).expect("a valid net");
    let sizes = [d * 3, 3, 3 * c, c];
    let buffers = |x: f32| sizes.iter().map(|&n| vec![x; n]).collect::<Vec<_>>();
    if kind != OptimizerKind::Sgd {
        let names = run.step.optimizer().buffer_names().len();
        let state = OptimizerState {
            steps: 12,
            buffers: (0..names)
                .map(|i| buffers(if i == 0 { 0.01 } else { 0.001 }))
                .collect(),
        };
        run.step
            .optimizer_mut()
            .load_state(state, &sizes)
            .expect("the seed's optimizer state fits the net");
    }
    run.epoch = epochs_done;
    run.iteration = epochs_done * 4;
    run.history = (1..=epochs_done)
        .map(|epoch| EpochStats {
            epoch,
            iteration: epoch * 4,
            loss: 1.0 / epoch as f64,
            val_loss: 1.1 / epoch as f64,
            train_accuracy: 0.5,
            val_accuracy: 0.4,
            lr: 1e-3,
            seconds: 0.01,
        })
        .collect();
    if let Some(average) = run.average.as_mut() {
        average.count = run.iteration as u64;
    }
    let mut mean = MeanImage::from_array(Array1::zeros(d));
    if !standardize.is_none() {
        mean = mean.with_std(Array1::from_iter((0..d).map(|i| 0.5 + i as f32)));
    }
    let info = tiny_model(d, c, None).info;
    saved_bytes(dir, |path| {
        save_state(path, &run, &config, &mean, &info).expect("the state can be saved")
    })
}

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "seeds".to_owned()),
    );
    let mut seeds: Vec<(&str, String, Vec<u8>)> = Vec::new();
    let mut add = |target, name: &str, bytes| seeds.push((target, name.to_owned(), bytes));

    for (name, per_file, gz) in [
        ("one-record", 1, false),
        ("two-records", 2, false),
        ("gz", 2, true),
    ] {
        let files: Vec<Vec<u8>> = (0..6)
            .map(|f| cifar_records(per_file, f as u8))
            .map(|b| if gz { gzip(&b) } else { b })
            .collect();
        let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        add("cifar10", name, join(1 | if gz { 0x80 } else { 0 }, &refs));
    }

    for (name, n, rows, cols, val) in [
        ("3x2x2", 3, 2, 2, 1),
        ("5x4x3", 5, 4, 3, 2),
        ("4x28x28", 4, 28, 28, 1),
    ] {
        let files = [
            idx_images(n, rows, cols),
            idx_labels(n),
            idx_images(2, rows, cols),
            idx_labels(2),
        ];
        let plain: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        add("idx_plain", name, join(val, &plain));
        let gzipped: Vec<Vec<u8>> = files.iter().map(|f| gzip(f)).collect();
        let gz: Vec<&[u8]> = gzipped.iter().map(Vec::as_slice).collect();
        add("idx_gz", name, join(val, &gz));
    }

    let rows: String = (0..12)
        .map(|i| format!("{}.5,{},-{i}e-1,{}\n", i, i * 2, i % 3))
        .collect();
    add(
        "csv",
        "header",
        join(0, &[format!("a,b,c,label\n{rows}").as_bytes()]),
    );
    add(
        "csv",
        "no-header-crlf",
        join(2, &[rows.replace('\n', "\r\n").as_bytes()]),
    );
    let quoted: String = (0..10)
        .map(|i| format!("\"{i}\", {}.25 ,\"{}.0\"\n\n", i + 1, i % 2))
        .collect();
    add("csv", "quoted-blank-lines", join(4, &[quoted.as_bytes()]));
    add("csv", "gz", join(1, &[gzip(rows.as_bytes()).as_slice()]));

    for spec in [
        "digits",
        "spiral",
        "spiral:10,3",
        "Spiral: 7 , 2",
        "cifar10:/data/cifar",
        "mnist:/data/mnist",
        "csv:data.csv",
        "CSV:a:b.csv",
    ] {
        add(
            "data_spec",
            &spec.replace(['/', ':', ' ', ','], "_"),
            spec.as_bytes().to_vec(),
        );
    }

    let tmp = std::env::temp_dir().join(format!("tapegrad-gen-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("a temporary directory");
    let model =
        |m: SavedModel| saved_bytes(&tmp, |p| save_model(p, &m).expect("the model can be saved"));
    add(
        "model_file",
        "image",
        model(tiny_model(4, 2, Some(ImageShape::grey(2, 2)))),
    );
    add("model_file", "plain", model(tiny_model(3, 3, None)));
    let mut standardized = tiny_model(3, 2, None);
    standardized.mean = standardized
        .mean
        .with_std(Array1::from(vec![0.25, 1.0, 4.0]));
    add("model_file", "standardized", model(standardized));
    add(
        "run_state",
        "sgd-fresh",
        run_state_seed(&tmp, OptimizerKind::Sgd, 0),
    );
    add(
        "run_state",
        "adam-2-epochs",
        run_state_seed(&tmp, OptimizerKind::ADAM, 2),
    );
    add(
        "run_state",
        "momentum",
        run_state_seed(&tmp, OptimizerKind::Momentum { mu: 0.9 }, 1),
    );
    add(
        "run_state",
        "ema-standardized",
        run_state_seed_with(
            &tmp,
            OptimizerKind::ADAM,
            2,
            Some(0.99),
            Standardize::Feature,
        ),
    );
    std::fs::remove_dir_all(&tmp).expect("the temporary directory can be removed");

    for (target, name, bytes) in seeds {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir).expect("the corpus directory can be created");
        std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("a seed can be written");
    }
}
