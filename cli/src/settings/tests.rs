use std::fs;

use clap::Parser;
use tapegrad_net::monitor::Monitor;
use tapegrad_net::OptimizerKind;

use super::*;
use crate::args::{Cli, Command};

/// `tapegrad train ARGS` as parsed.
fn train_args(args: &[&str]) -> TrainArgs {
    let cli = Cli::try_parse_from(["tapegrad", "train"].iter().chain(args)).unwrap();
    match cli.command {
        Command::Train(a) => a,
        _ => unreachable!("a train command"),
    }
}

/// A config file with `text` in a fresh folder; returns the folder and the path.
fn config_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.toml");
    fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path)
}

#[test]
fn no_flags_and_no_file_give_the_data_sources_defaults() {
    let settings = Settings::resolve(&train_args(&["--data", "spiral"])).unwrap();
    assert_eq!(settings.config, TrainConfig::for_data(&settings.data));
    assert!(settings.given.is_empty());
    assert!(settings.describe().ends_with("(the defaults for spiral)"));
    let digits = Settings::resolve(&train_args(&[])).unwrap();
    assert_eq!(digits.data, DataSpec::default());
}

#[test]
fn flags_override_the_file_which_overrides_the_defaults() {
    let (_dir, path) = config_file("data = \"spiral:20,3\"\nhidden = 7\nlr = 0.5\n");
    let settings = Settings::resolve(&train_args(&["--config", &path, "--lr", "0.25"])).unwrap();
    let defaults = TrainConfig::for_data(&settings.data);
    assert_eq!(settings.data.to_string(), "spiral:20,3");
    assert_eq!(settings.config.hidden, [7], "from the file");
    assert_eq!(settings.config.lr, 0.25, "the flag wins");
    assert_eq!(settings.config.reg, defaults.reg, "the default");
    assert_eq!(settings.given, ["hidden", "lr"]);
    let data_flag = train_args(&["--config", &path, "--data", "digits"]);
    assert_eq!(
        Settings::resolve(&data_flag).unwrap().data,
        DataSpec::default()
    );
}

#[test]
fn a_new_schedule_kind_replaces_the_old_settings_and_the_same_kind_keeps_them() {
    let base = TrainConfig::for_data(&DataSpec::default());
    let cosine = Settings::resolve(&train_args(&[
        "--schedule",
        "cosine",
        "--warmup-epochs",
        "3",
    ]));
    assert_eq!(
        cosine.unwrap().config.schedule,
        Schedule::Cosine {
            warmup_epochs: 3,
            min_lr: 0.0
        }
    );
    let (_dir, path) = config_file("[schedule]\nkind = \"step\"\nstep_epochs = 4\n");
    let step = Settings::resolve(&train_args(&["--config", &path, "--lr-decay", "0.25"]));
    assert_eq!(
        step.unwrap().config.schedule,
        Schedule::Step {
            step_epochs: 4,
            lr_decay: 0.25
        }
    );
    let kind = base.schedule.kind().replace('_', "-");
    let same = Settings::resolve(&train_args(&["--schedule", &kind])).unwrap();
    assert_eq!(same.config.schedule, base.schedule);
    let momentum = Settings::resolve(&train_args(&["--optimizer", "momentum"])).unwrap();
    assert_eq!(momentum.config.optimizer, OptimizerKind::MOMENTUM);
}

#[test]
fn a_schedule_flag_the_schedule_does_not_take_names_the_flags_it_takes() {
    let args = train_args(&["--schedule", "step", "--warmup-epochs", "2"]);
    let e = Settings::resolve(&args).unwrap_err();
    assert_eq!(e.code, 2);
    assert!(
        e.message.starts_with("--warmup-epochs: the step schedule"),
        "{}",
        e.message
    );
    assert!(e.message.contains("--lr-decay") && e.message.contains("--step-epochs"));
    let e = Settings::resolve(&train_args(&["--schedule", "constant", "--min-lr", "0"]));
    assert!(e.unwrap_err().message.contains("it takes none"));
}

#[test]
fn a_bad_config_file_is_named_with_what_is_wrong() {
    let (_dir, path) = config_file("hidden = 7\nhiden = 8\n");
    let e = Settings::resolve(&train_args(&["--config", &path])).unwrap_err();
    assert_eq!(e.code, 2);
    assert!(
        e.message.contains(&path) && e.message.contains("hiden"),
        "{}",
        e.message
    );

    let (_dir, path) = config_file("hidden = \"many\"\n");
    let e = Settings::resolve(&train_args(&["--config", &path])).unwrap_err();
    assert!(
        e.message.contains("many") || e.message.contains("string"),
        "{}",
        e.message
    );

    let (_dir, path) = config_file("hidden = \n");
    let e = Settings::resolve(&train_args(&["--config", &path])).unwrap_err();
    assert!(e.message.contains("line 1"), "{}", e.to_terminal());

    let (_dir, path) = config_file("data = \"imagenet:/x\"\n");
    let e = Settings::resolve(&train_args(&["--config", &path])).unwrap_err();
    assert!(e.message.contains("imagenet"), "{}", e.message);

    let e = Settings::resolve(&train_args(&["--config", "/no/such/run.toml"])).unwrap_err();
    assert!(e.message.contains("/no/such/run.toml"), "{}", e.message);
}

#[test]
fn a_config_file_larger_than_the_limit_is_refused_unread() {
    let (_dir, path) = config_file(&"#".repeat(MAX_CONFIG_FILE_BYTES as usize + 1));
    let e = Settings::resolve(&train_args(&["--config", &path])).unwrap_err();
    assert!(e.message.contains("larger than"), "{}", e.message);
}

#[test]
fn config_toml_reads_back_into_the_same_settings() {
    let args = train_args(&[
        "--data",
        "spiral:30,4",
        "--schedule",
        "plateau",
        "--plateau-patience",
        "2",
        "--monitor",
        "val_accuracy",
        "--patience",
        "9",
        "--lr",
        "0.0123456789",
        "--seed",
        "9223372036854775807",
    ]);
    let first = Settings::resolve(&args).unwrap();
    let (_dir, path) = config_file(&first.to_toml().unwrap());
    let again = Settings::resolve(&train_args(&["--config", &path])).unwrap();
    assert_eq!(again.data, first.data);
    assert_eq!(again.config, first.config);
    assert_eq!(again.config.monitor, Monitor::ValAccuracy);
    assert_eq!(again.config.patience, Some(9));
}

#[test]
fn a_seed_beyond_what_toml_holds_is_refused_naming_the_flag() {
    let e = Settings::resolve(&train_args(&["--seed", "9223372036854775808"])).unwrap_err();
    assert_eq!(e.code, 2);
    assert!(
        e.message.starts_with("--seed 9223372036854775808: "),
        "{}",
        e.message
    );
}
