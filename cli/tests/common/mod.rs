//! Helpers shared by the CLI's integration tests: running the `tapegrad` binary, checking
//! how it failed, and writing small data files in the real on-disk formats (written here by
//! hand from the format descriptions, not with the library's readers, so the tests check the
//! formats and not just the library's own idea of them).

#![allow(dead_code)] // each test binary uses a different part of this module

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::Command;

pub mod eval_output;
pub mod process;
pub mod tune_files;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Out {
    /// The exit code (-1 if killed by a signal).
    pub code: i32,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
}

/// Runs `tapegrad ARGS` in the system temporary directory (so that a test that forgets
/// `--out` cannot litter the source tree with `runs/`).
pub fn tapegrad<I, S>(args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    tapegrad_in(&std::env::temp_dir(), args)
}

/// Runs `tapegrad ARGS` with `dir` as the working directory.
pub fn tapegrad_in<I, S>(dir: &Path, args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = Command::new(env!("CARGO_BIN_EXE_tapegrad"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .expect("the tapegrad binary runs");
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl Out {
    /// Asserts exit code 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts a failure with exit `code` whose stderr is a clean error message (starts with
    /// `error: `, no panic, no backtrace) containing every one of `needles`.
    #[track_caller]
    pub fn fails_with(&self, code: i32, needles: &[&str]) -> &str {
        assert_eq!(
            self.code, code,
            "expected exit code {code}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.starts_with("error: "),
            "stderr does not start with 'error: ':\n{}",
            self.stderr
        );
        for bad in ["panicked", "backtrace", "RUST_BACKTRACE", "thread 'main'"] {
            assert!(
                !self.stderr.to_lowercase().contains(&bad.to_lowercase()),
                "stderr has panic text '{bad}':\n{}",
                self.stderr
            );
        }
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr does not mention '{needle}':\n{}",
                self.stderr
            );
        }
        &self.stderr
    }

    /// Bad usage or bad input: exit code 2, with a clean message naming `needles`.
    #[track_caller]
    pub fn input_error(&self, needles: &[&str]) -> &str {
        self.fails_with(2, needles)
    }

    /// A failure while running: exit code 1, with a clean message naming `needles`.
    #[track_caller]
    pub fn running_error(&self, needles: &[&str]) -> &str {
        self.fails_with(1, needles)
    }
}

/// `path` as a string for messages and `--data` specs (test paths are UTF-8).
pub fn s(path: &Path) -> String {
    path.to_str().expect("test paths are UTF-8").to_owned()
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// `train --epochs N --out DIR -q` plus `extra` flags (the built-in digits unless `extra`
/// names `--data`; the exponential schedule unless it names one or `--resume`); asserts
/// success and returns stdout.
#[track_caller]
pub fn train_quietly(out: &Path, epochs: usize, extra: &[&str]) -> String {
    let mut args = vec![
        "train".to_owned(),
        "--epochs".to_owned(),
        epochs.to_string(),
        "--out".to_owned(),
        s(out),
        "-q".to_owned(),
    ];
    // A schedule that does not depend on the run's length, so that a new run can be resumed
    // to more epochs (a resumed run keeps its own schedule).
    if !extra.contains(&"--resume") && !extra.contains(&"--schedule") {
        args.extend(["--schedule".to_owned(), "exponential".to_owned()]);
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    tapegrad(&args).ok().to_owned()
}

/// The run folder's summary.json.
#[track_caller]
pub fn summary(dir: &Path) -> serde_json::Value {
    let path = dir.join("summary.json");
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The run folder's metrics.csv: the header fields and the rows' fields.
#[track_caller]
pub fn metrics(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let path = dir.join("metrics.csv");
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect());
    let header = lines.next().expect("metrics.csv has a header");
    (header, lines.collect())
}

/// Asserts that `path` exists and starts with the PNG signature.
#[track_caller]
pub fn assert_png(path: &Path) {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 100,
        "{} is not a PNG file",
        path.display()
    );
}

/// Asserts that the run folder's report.html shows every picture, the summary's test accuracy
/// and the weights as images exactly when the data are images (a heat map otherwise).
#[track_caller]
pub fn assert_report(dir: &Path, summary: &serde_json::Value, images: bool) {
    let path = dir.join("report.html");
    let html =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    for picture in ["loss.png", "accuracy.png", "weights.png"] {
        assert!(
            html.contains(&format!("<img src=\"{picture}\"")),
            "report.html shows {picture}"
        );
    }
    let test = format!(
        "<th>test_accuracy</th><td>{}</td>",
        summary["test_accuracy"]
    );
    assert!(html.contains(&test), "report.html has {test}");
    assert!(
        html.contains("<h2>Settings (config.toml)</h2>\n<pre>"),
        "the config"
    );
    assert_eq!(html.contains("one image per hidden unit"), images, "{html}");
    assert_eq!(html.contains("as a heat map"), !images, "{html}");
}

/// Asserts a run folder written by a successful `train`: model, state, metrics (header and
/// `epochs` rows), summary, the three pictures and report.html (the weights as images exactly
/// when the data are images). Returns the summary.
#[track_caller]
pub fn assert_run_folder(dir: &Path, epochs: usize, images: bool) -> serde_json::Value {
    for file in ["model.safetensors", "state.safetensors", "config.toml"] {
        let len = fs::metadata(dir.join(file))
            .unwrap_or_else(|e| panic!("{file} in {}: {e}", dir.display()))
            .len();
        assert!(len > 8, "{file} is empty");
    }
    let (header, rows) = metrics(dir);
    assert_eq!(
        header,
        [
            "epoch",
            "iteration",
            "loss",
            "val_loss",
            "train_accuracy",
            "val_accuracy",
            "lr",
            "seconds"
        ]
    );
    assert_eq!(rows.len(), epochs, "one metrics row per epoch: {rows:?}");
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), header.len(), "row {k}: {row:?}");
        assert_eq!(row[0], (k + 1).to_string(), "epoch column of row {k}");
        let loss: f64 = row[2].parse().expect("loss is a number");
        assert!(loss.is_finite() && loss >= 0.0, "loss {loss}");
    }
    for picture in ["loss.png", "accuracy.png", "weights.png"] {
        assert_png(&dir.join(picture));
    }
    let summary = summary(dir);
    assert_report(dir, &summary, images);
    for key in ["train_accuracy", "val_accuracy"] {
        let a = summary[key].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&a), "{key} = {}", summary[key]);
    }
    assert_eq!(summary["model"], "model.safetensors");
    assert_eq!(summary["hyperparameters"]["epochs"], epochs);
    summary
}

/// A small deterministic byte generator (xorshift64*), so the data files are the same on
/// every run without a dependency.
pub struct Bytes(u64);

impl Bytes {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Bytes(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next byte.
    pub fn next_byte(&mut self) -> u8 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
    }
}

/// Bytes of one CIFAR-10 record: the label byte, then 1,024 red, 1,024 green and 1,024 blue
/// bytes (each channel a 32x32 image, row by row). Pixels are noise plus a brightness that
/// depends on the label, so the classes are learnable.
pub const CIFAR_RECORD: usize = 1 + 3 * 32 * 32;

/// One CIFAR-10 record with `label`.
pub fn cifar_record(label: u8, noise: &mut Bytes) -> Vec<u8> {
    let mut record = Vec::with_capacity(CIFAR_RECORD);
    record.push(label);
    for channel in 0..3u8 {
        for _ in 0..32 * 32 {
            let base = label.wrapping_mul(20).wrapping_add(channel * 7);
            record.push(base.wrapping_add(noise.next_byte() / 8));
        }
    }
    record
}

/// `n` CIFAR-10 records with labels `first, first + 1, ...` modulo 10.
pub fn cifar_records(n: usize, first: usize, seed: u64) -> Vec<u8> {
    let mut noise = Bytes::new(seed);
    (0..n)
        .flat_map(|i| cifar_record(((first + i) % 10) as u8, &mut noise))
        .collect()
}

/// The CIFAR-10 training files.
pub const CIFAR_TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];

/// Writes `data_batch_1.bin` .. `data_batch_5.bin` with `per_file` records each and
/// `test_batch.bin` with `test` records into `dir` (created). The reader holds out the last
/// 1,000 training examples for validation, so `5 * per_file` must exceed 1,000 for training
/// to work.
pub fn write_cifar10(dir: &Path, per_file: usize, test: usize) {
    fs::create_dir_all(dir).expect("create the CIFAR-10 directory");
    for (k, name) in CIFAR_TRAIN_FILES.iter().enumerate() {
        let bytes = cifar_records(per_file, k * per_file, k as u64 + 1);
        fs::write(dir.join(name), bytes).expect("write a CIFAR-10 batch");
    }
    fs::write(dir.join("test_batch.bin"), cifar_records(test, 0, 99)).expect("write test");
}

/// IDX magic number of unsigned-byte images (3 dimensions: count, rows, columns).
pub const IDX_IMAGES: u32 = 0x0000_0803;
/// IDX magic number of unsigned-byte labels (1 dimension: count).
pub const IDX_LABELS: u32 = 0x0000_0801;

/// An IDX images file: big-endian magic, count, rows, columns, then the pixels. Pixels are
/// noise plus a label-dependent brightness (labels `i % 10`).
pub fn idx_images(count: usize, rows: usize, cols: usize, seed: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(16 + count * rows * cols);
    for word in [IDX_IMAGES, count as u32, rows as u32, cols as u32] {
        bytes.extend(word.to_be_bytes());
    }
    let mut noise = Bytes::new(seed);
    for i in 0..count {
        for _ in 0..rows * cols {
            bytes.push(((i % 10) as u8 * 20).wrapping_add(noise.next_byte() / 8));
        }
    }
    bytes
}

/// An IDX labels file: big-endian magic, count, then one byte per label.
pub fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(8 + labels.len());
    bytes.extend(IDX_LABELS.to_be_bytes());
    bytes.extend((labels.len() as u32).to_be_bytes());
    bytes.extend(labels);
    bytes
}

/// Labels `0, 1, ..., 9, 0, ...` for `count` examples.
pub fn cyclic_labels(count: usize) -> Vec<u8> {
    (0..count).map(|i| (i % 10) as u8).collect()
}

/// The four MNIST file names: train images, train labels, test images, test labels.
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Writes the four MNIST IDX files into `dir` (created): `train` and `test` images of
/// `rows x cols` pixels; the test files gzipped (`.gz` appended) when `gzip_test` is set.
/// The reader holds out the last 5,000 training examples for validation, so `train` must
/// exceed 5,000 for training to work.
pub fn write_mnist(
    dir: &Path,
    train: usize,
    test: usize,
    (rows, cols): (usize, usize),
    gzip_test: bool,
) {
    fs::create_dir_all(dir).expect("create the MNIST directory");
    let files = [
        idx_images(train, rows, cols, 1),
        idx_labels(&cyclic_labels(train)),
        idx_images(test, rows, cols, 2),
        idx_labels(&cyclic_labels(test)),
    ];
    for (k, (name, bytes)) in MNIST_FILES.iter().zip(files).enumerate() {
        if gzip_test && k >= 2 {
            fs::write(dir.join(format!("{name}.gz")), gzip(&bytes)).expect("write MNIST .gz");
        } else {
            fs::write(dir.join(name), bytes).expect("write MNIST");
        }
    }
}

/// A CSV file of `rows` examples with `features` features and labels `i % classes`, with a
/// header line; the features are noisy one-hot codes of the label, so they are learnable.
pub fn write_csv(path: &Path, rows: usize, features: usize, classes: usize) {
    let mut text: String = (0..features).map(|j| format!("x{j},")).collect();
    text.push_str("label\n");
    let mut noise = Bytes::new(7);
    for i in 0..rows {
        let label = i % classes;
        for j in 0..features {
            let signal = if j % classes == label { 1.0 } else { 0.0 };
            let x = signal + (f64::from(noise.next_byte()) - 127.5) / 1000.0;
            text.push_str(&format!("{x:.4},"));
        }
        text.push_str(&format!("{label}\n"));
    }
    fs::write(path, text).expect("write the CSV file");
}

/// `bytes` as a gzip file, with "stored" (uncompressed) deflate blocks: a valid gzip stream
/// that needs no compressor.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let chunks: Vec<&[u8]> = if bytes.is_empty() {
        vec![&[]]
    } else {
        bytes.chunks(65_535).collect()
    };
    for (k, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(k + 1 == chunks.len())); // BFINAL, BTYPE = 00 (stored)
        let len = chunk.len() as u16;
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(*chunk);
    }
    out.extend(crc32(bytes).to_le_bytes());
    out.extend((bytes.len() as u32).to_le_bytes());
    out
}

/// CRC-32 (IEEE 802.3, reflected), as gzip's trailer needs it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
