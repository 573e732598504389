//! `tapegrad train --recipe fast|best` and `--augment auto` on the built-in digits: the
//! recipes beat the plain defaults on the validation split, a run is deterministic and its
//! config.toml (which names the recipe and what the pilot tried) reproduces it, flags and
//! config files lay over a recipe, and bad names are refused.

use std::fs;
use std::path::Path;

use crate::common::*;

/// The validation accuracy of a digits run with split seed `seed` and `extra` flags.
fn val_accuracy(dir: &Path, seed: u64, extra: &[&str]) -> f64 {
    let out = dir.join(format!("seed{seed}-{}", extra.join("_")));
    let mut args = vec!["train", "-q", "--out"];
    let out_text = s(&out);
    args.push(&out_text);
    let seed_text = seed.to_string();
    args.extend(["--seed", &seed_text]);
    args.extend(extra);
    tapegrad(&args).ok();
    summary(&out)["val_accuracy"]
        .as_f64()
        .expect("val_accuracy")
}

#[test]
fn the_fast_and_best_recipes_beat_the_plain_defaults_on_the_digits_validation_split() {
    let tmp = tempdir();
    let seeds = [0, 1, 2];
    let mean = |extra: &[&str]| {
        seeds
            .iter()
            .map(|&seed| val_accuracy(tmp.path(), seed, extra))
            .sum::<f64>()
            / seeds.len() as f64
    };
    let plain = mean(&[]);
    let fast = mean(&["--recipe", "fast"]);
    let best = mean(&["--recipe", "best"]);
    assert!(fast > plain, "fast {fast} vs the defaults {plain}");
    assert!(best > plain, "best {best} vs the defaults {plain}");
}

#[test]
fn a_recipe_run_is_deterministic_and_its_config_toml_reproduces_it() {
    let tmp = tempdir();
    let run = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let mut args = vec![
            "train".to_owned(),
            "-q".to_owned(),
            "--out".to_owned(),
            s(&out),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let stdout = tapegrad(&args).ok().to_owned();
        let model = fs::read(out.join("model.safetensors")).expect("a model");
        (out, stdout, model)
    };
    let recipe = ["--recipe", "best", "--epochs", "12", "--hidden", "40"];
    let (first, stdout, model) = run("first", &recipe);
    assert!(
        stdout.contains("choosing the augmentation (--augment auto): 3 pilot runs of 3 epochs"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the best recipe for digits except epochs, hidden"),
        "the settings line names the recipe: {stdout}"
    );
    let (_, again, same) = run("again", &recipe);
    assert_eq!(model, same, "the same flags give the same model");
    assert!(again.contains("choosing the augmentation"), "{again}");

    let config = fs::read_to_string(first.join("config.toml")).unwrap();
    assert!(
        config.contains("# From --recipe best, with epochs, hidden given."),
        "{config}"
    );
    for tried in [
        "#   shift: val ",
        "#   shift + flip: val ",
        "#   affine: val ",
    ] {
        assert!(config.contains(tried), "the pilot's {tried}: {config}");
    }
    assert!(
        config.contains("augmentation chosen by 3 pilot runs"),
        "{config}"
    );
    assert!(config.contains("dropout = 0.2") && config.contains("hidden = [40]"));
    let (_, rerun, reproduced) = run("rerun", &["--config", &s(&first.join("config.toml"))]);
    assert!(
        !rerun.contains("choosing the augmentation"),
        "no pilot: {rerun}"
    );
    assert_eq!(
        model, reproduced,
        "config.toml reproduces the run bit for bit"
    );
}

#[test]
fn flags_and_config_files_lay_over_a_recipe() {
    let tmp = tempdir();
    let out = tmp.path().join("flags");
    let stdout = train_quietly(&out, 2, &["--recipe", "fast", "--hidden", "30"]);
    assert!(
        stdout.contains("the fast recipe for digits except"),
        "{stdout}"
    );
    let config = fs::read_to_string(out.join("config.toml")).unwrap();
    for line in [
        "hidden = [30]",
        "epochs = 2",
        "label_smoothing = 0.1",
        "dropout = 0.2",
    ] {
        assert!(config.contains(line), "{line}: {config}");
    }

    let file = tmp.path().join("settings.toml");
    fs::write(&file, "recipe = \"fast\"\nepochs = 3\ndropout = 0.1\n").unwrap();
    let out = tmp.path().join("file");
    tapegrad(["train", "-q", "--config", &s(&file), "--out", &s(&out)]).ok();
    let config = fs::read_to_string(out.join("config.toml")).unwrap();
    for line in ["epochs = 3", "dropout = 0.1", "label_smoothing = 0.1"] {
        assert!(config.contains(line), "{line}: {config}");
    }
    let flag = tmp.path().join("flag-over-file");
    let stdout = tapegrad([
        "train",
        "-q",
        "--config",
        &s(&file),
        "--recipe",
        "best",
        "--out",
        &s(&flag),
        "--augment",
        "none",
    ]);
    let stdout = stdout.ok();
    assert!(
        stdout.contains("the best recipe for digits"),
        "the flag's recipe wins: {stdout}"
    );
    assert!(
        !stdout.contains("choosing the augmentation"),
        "--augment none: {stdout}"
    );
}

#[test]
fn augment_auto_on_data_that_are_not_images_chooses_none_and_says_why() {
    let tmp = tempdir();
    let out = tmp.path().join("spiral");
    let stdout = train_quietly(&out, 3, &["--data", "spiral", "--augment", "auto"]);
    assert!(
        stdout.contains("augmentation: none (the data are not images"),
        "{stdout}"
    );
    let config = fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(!config.contains("[augment]"), "{config}");
    // Images whose settings refuse augmentation: no pilot is announced, none is run.
    let out = tmp.path().join("feature");
    let stdout = train_quietly(&out, 3, &["--augment", "auto", "--standardize", "feature"]);
    assert!(!stdout.contains("pilot runs"), "{stdout}");
    assert!(
        stdout.contains("their settings refuse augmentation"),
        "{stdout}"
    );
}

#[test]
fn unknown_recipes_and_settings_for_augment_auto_are_refused_naming_them() {
    let tmp = tempdir();
    let out = s(&tmp.path().join("never"));
    tapegrad(["train", "--recipe", "slow", "--out", &out]).input_error(&["slow", "fast", "best"]);
    let file = tmp.path().join("bad.toml");
    fs::write(&file, "recipe = \"slow\"\n").unwrap();
    tapegrad(["train", "--config", &s(&file), "--out", &out]).input_error(&[
        "bad.toml",
        "recipe = \"slow\"",
        "no recipe `slow`: choose fast or best",
    ]);
    fs::write(&file, "recipe = 3\n").unwrap();
    tapegrad(["train", "--config", &s(&file), "--out", &out])
        .input_error(&["bad.toml", "recipe = 3: not a string"]);
    tapegrad([
        "train",
        "--augment",
        "auto",
        "--augment-rotate",
        "5",
        "--out",
        &out,
    ])
    .input_error(&["--augment-rotate", "auto"]);
    tapegrad([
        "train",
        "--augment",
        "shift",
        "--augment-pixel-dropout",
        "1",
        "--out",
        &out,
    ])
    .input_error(&["--augment-pixel-dropout", "below 1"]);
    assert!(!tmp.path().join("never").exists(), "nothing was written");
}
