//! The other commands (gradcheck, tune, graph, bench), --help and --version.

mod common;

use std::fs;

use common::*;

#[test]
fn gradcheck_on_3_nets_passes_with_a_worst_error_below_1e_6() {
    let stdout = tapegrad(["gradcheck", "--nets", "3"]).ok().to_owned();
    let rows = stdout
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.parse::<usize>().is_ok())
        })
        .count();
    assert_eq!(rows, 3, "one row per net: {stdout}");
    let worst: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("worst: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no 'worst:' line in {stdout}"))
        .parse()
        .expect("the worst error is a number");
    assert!(worst < 1e-6, "worst relative error {worst}");
}

#[test]
fn tune_with_2_trials_writes_results_with_2_rows_and_a_usable_model() {
    let tmp = tempdir();
    let out = tmp.path().join("tune");
    // One-layer choices, so that no `hidden` field is quoted for this plain split.
    let out_dir = s(&out);
    let args = ["tune", "--trials", "2", "--epochs", "2", "--out", &out_dir];
    let stdout = tapegrad(args.iter().chain(&["--hidden", "50", "100", "200"]))
        .ok()
        .to_owned();
    assert!(stdout.contains("best: "), "{stdout}");
    let results = fs::read_to_string(out.join("results.csv")).unwrap();
    let mut lines = results.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    // Every hyperparameter of the trial, not only the searched ones.
    for name in [
        "rank",
        "lr",
        "reg",
        "hidden",
        "schedule.kind",
        "monitor",
        "batch_size",
        "init_std",
        "seed",
        "epochs",
        "optimizer.kind",
        "train_accuracy",
        "val_accuracy",
        "outcome",
    ] {
        assert!(header.contains(&name), "{name} missing from {header:?}");
    }
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2, "{results}");
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), header.len(), "{results}");
        assert_eq!(row[0], (k + 1).to_string());
        assert_eq!(row[column("outcome")], "completed");
        assert_eq!(row[column("epochs")], "2");
        let lr: f64 = row[column("lr")].parse().unwrap();
        assert!(
            (1e-4..=1e-1).contains(&lr),
            "lr {lr} outside the default range"
        );
        let hidden = row[column("hidden")];
        assert!(["50", "100", "200"].contains(&hidden), "hidden {hidden}");
    }
    let val = |row: &Vec<&str>| row[column("val_accuracy")].parse::<f64>().unwrap();
    assert!(
        val(&rows[0]) >= val(&rows[1]),
        "sorted by validation accuracy"
    );
    tapegrad(["eval", "--model", &s(&out.join("model.safetensors"))]).ok();
}

#[test]
fn graph_prints_the_tape_as_dot_with_the_nets_operations() {
    let stdout = tapegrad(["graph"]).ok().to_owned();
    assert!(stdout.starts_with("digraph tape {"), "{stdout}");
    assert!(stdout.trim_end().ends_with('}'), "{stdout}");
    for op in [
        "linear_relu\\n",
        "linear\\n",
        "log_softmax",
        "W1",
        "b1",
        "W2",
        "b2",
        "->",
    ] {
        assert!(stdout.contains(op), "no {op} in the DOT");
    }
    let small = tapegrad([
        "graph",
        "--inputs",
        "3",
        "--hidden",
        "4",
        "--classes",
        "2",
        "--batch-size",
        "5",
    ])
    .ok()
    .to_owned();
    assert!(
        small.contains("[5, 3]") && small.contains("[3, 4]"),
        "{small}"
    );
}

#[test]
fn bench_of_the_tiny_shape_prints_a_table_line() {
    let stdout = tapegrad(["bench", "--shape", "tiny", "--budget", "0.05"])
        .ok()
        .to_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one row: {stdout}");
    assert!(lines[0].contains("tape ms"), "{stdout}");
    let fields: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(fields[0], "tiny", "{stdout}");
    let ms: f64 = fields[2].parse().expect("tape ms is a number");
    assert!(ms > 0.0 && ms.is_finite());
}

#[test]
fn bench_json_prints_parseable_json() {
    let stdout = tapegrad(["bench", "--shape", "tiny", "--budget", "0.05", "--json"])
        .ok()
        .to_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON object");
    assert_eq!(v["shape"], "tiny");
    for key in [
        "tape_ms",
        "closed_form_ms",
        "tape_gflops",
        "closed_form_gflops",
    ] {
        let x = v[key].as_f64().unwrap_or_else(|| panic!("{key} in {v}"));
        assert!(x > 0.0 && x.is_finite(), "{key} = {x}");
    }
}

#[test]
fn bench_isa_runs_the_kernel_it_names_or_refuses_one_this_cpu_lacks() {
    for (flag, name) in [("scalar", "Scalar"), ("avx2", "Avx2"), ("avx512", "Avx512")] {
        let args = [
            "bench", "--shape", "tiny", "--budget", "0.02", "--json", "--isa", flag,
        ];
        let out = tapegrad(args);
        if out.code == 0 {
            let v: serde_json::Value = serde_json::from_str(out.ok().trim()).expect("JSON");
            assert_eq!(v["isa"], name, "{v}");
        } else {
            out.fails_with(2, &["--isa", name, "cannot run"]);
        }
    }
    // Every CPU has the scalar kernel, so that one always runs.
    assert_eq!(
        tapegrad(["bench", "--shape", "tiny", "--budget", "0.02", "--isa", "scalar"]).code,
        0
    );
}

/// Every flag each command takes, from cli/src/args.rs.
const FLAGS: [(&str, &[&str]); 7] = [
    (
        "train",
        &[
            "--data",
            "--hidden",
            "--reg",
            "--lr",
            "--schedule",
            "--lr-decay",
            "--step-epochs",
            "--warmup-epochs",
            "--min-lr",
            "--plateau-patience",
            "--pct-start",
            "--batch-size",
            "--epochs",
            "--optimizer",
            "--init-std",
            "--seed",
            "--monitor",
            "--patience",
            "--config",
            "--threads",
            "--out",
            "--resume",
            "--quiet",
            "-q",
            "--help",
            "--version",
        ],
    ),
    (
        "eval",
        &[
            "--model",
            "--data",
            "--split",
            "--seed",
            "--allow-mismatch",
            "--help",
        ],
    ),
    (
        "predict",
        &[
            "--model",
            "--data",
            "--split",
            "--seed",
            "--allow-mismatch",
            "--probabilities",
            "--invert",
            "--help",
        ],
    ),
    ("gradcheck", &["--nets", "--seed", "--help"]),
    (
        "tune",
        &[
            "--data",
            "--trials",
            "--epochs",
            "--lr",
            "--reg",
            "--hidden",
            "--optimizer",
            "--batch-size",
            "--schedule",
            "--space",
            "--search",
            "--min-epochs",
            "--eta",
            "--seed",
            "--threads",
            "--out",
            "--help",
        ],
    ),
    (
        "graph",
        &[
            "--inputs",
            "--hidden",
            "--classes",
            "--batch-size",
            "--help",
        ],
    ),
    (
        "bench",
        &[
            "--shape",
            "--budget",
            "--json",
            "--threads",
            "--isa",
            "--help",
        ],
    ),
];

#[test]
fn help_of_each_command_mentions_every_flag() {
    for (command, flags) in FLAGS {
        let run = tapegrad([command, "--help"]);
        let stdout = run.ok();
        assert!(
            stdout.contains(&format!("Usage: tapegrad {command}")),
            "{stdout}"
        );
        for flag in flags {
            assert!(
                stdout.contains(flag),
                "`{command} --help` does not mention {flag}"
            );
        }
        // `help COMMAND` says the same.
        assert_eq!(tapegrad(["help", command]).ok(), stdout, "help {command}");
    }
}

#[test]
fn top_level_help_lists_every_command_data_source_and_exit_code() {
    let stdout = tapegrad(["--help"]).ok().to_owned();
    for (command, _) in FLAGS {
        assert!(stdout.contains(command), "--help does not list {command}");
    }
    for word in [
        "digits",
        "spiral",
        "cifar10:DIR",
        "mnist:DIR",
        "csv:FILE",
        "Exit codes",
    ] {
        assert!(stdout.contains(word), "--help does not mention {word}");
    }
}

#[test]
fn version_prints_the_package_version() {
    let expected = format!("tapegrad {}", env!("CARGO_PKG_VERSION"));
    assert_eq!(tapegrad(["--version"]).ok().trim(), expected);
    assert_eq!(tapegrad(["-V"]).ok().trim(), expected);
    // clap names the subcommand: `tapegrad-train 0.1.0`.
    let train = tapegrad(["train", "--version"]).ok().trim().to_owned();
    assert!(train.ends_with(env!("CARGO_PKG_VERSION")), "{train}");
}
