use rand::SeedableRng;

use super::*;
use crate::optim::OptimizerKind;
use crate::schedule::Schedule;

#[test]
fn default_space_searches_every_row_with_a_default_and_draws_valid_configurations() {
    let space = SearchSpace::defaults();
    let base = TrainConfig::default();
    space.check(&base).unwrap();
    let names: Vec<&str> = space.searched().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["lr", "reg", "hidden", "batch_size", "optimizer", "schedule"]
    );
    let mut rng = StdRng::seed_from_u64(1);
    let (mut kinds, mut depths) = (
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    );
    for _ in 0..200 {
        let c = space.draw(&mut rng, &base).unwrap();
        c.validate().unwrap();
        assert!(
            (1e-4..=1e-1).contains(&c.lr) && (1e-6..=1e-2).contains(&c.reg),
            "{c:?}"
        );
        assert!([32, 64, 128].contains(&c.batch_size));
        kinds.insert((c.optimizer.name(), c.schedule.kind()));
        depths.insert(c.hidden.len());
        assert_eq!(
            (c.epochs, c.seed, c.init_std),
            (base.epochs, base.seed, base.init_std)
        );
    }
    assert_eq!(
        kinds.len(),
        6,
        "every optimizer with every schedule: {kinds:?}"
    );
    assert_eq!(depths.len(), 2);
}

#[test]
fn a_kind_name_is_that_kind_with_its_usual_constants_and_a_table_sets_them() {
    let base = TrainConfig::default();
    let set_to = |key: &str, value: Value| set(&base, key, value).unwrap();
    assert_eq!(
        set_to("optimizer", json!("momentum")).optimizer,
        OptimizerKind::MOMENTUM
    );
    let step = set_to("schedule", json!({"kind": "step", "step_epochs": 5}));
    assert_eq!(
        step.schedule,
        Schedule::Step {
            step_epochs: 5,
            lr_decay: 0.5
        }
    );
    assert_eq!(set_to("hidden", json!(64)).hidden, [64]);
    assert_eq!(set_to("batch_size", json!(47.6)).batch_size, 48);
    assert!(set(&base, "optimizer", json!("adamw"))
        .unwrap_err()
        .contains("adamw"));
}

#[test]
fn a_search_space_file_reads_every_distribution_and_overlays_the_defaults() {
    let text = r#"
        lr = { log_uniform = [1e-3, 1e-1] }
        init_std = { uniform = [0.001, 0.1] }
        hidden = { choice = [[32], [64, 32]] }
        optimizer = { choice = ["sgd", { kind = "momentum", mu = 0.5 }] }
    "#;
    let file = SearchSpace::from_toml(text, Path::new("space.toml")).unwrap();
    assert_eq!(file.0["lr"], Distribution::log_uniform(1e-3, 1e-1));
    assert_eq!(file.0["init_std"], Distribution::Uniform([0.001, 0.1]));
    let space = SearchSpace::defaults().overlaid(file);
    assert_eq!(space.0["lr"], Distribution::log_uniform(1e-3, 1e-1));
    assert_eq!(space.0["reg"], Distribution::log_uniform(1e-6, 1e-2));
    space.check(&TrainConfig::default()).unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    let mus: std::collections::BTreeSet<String> = (0..50)
        .map(|_| {
            format!(
                "{:?}",
                space
                    .draw(&mut rng, &TrainConfig::default())
                    .unwrap()
                    .optimizer
            )
        })
        .collect();
    assert_eq!(mus.len(), 2, "{mus:?}");
}

#[test]
fn search_space_file_errors_name_the_file_and_the_key() {
    let path = Path::new("conf/space.toml");
    for (text, needles) in [
        (
            "lr = { log_uniform = [1e-3] }",
            &["conf/space.toml", "key 'lr'"][..],
        ),
        (
            "lr = { normal = [0, 1] }",
            &["conf/space.toml", "key 'lr'", "log_uniform"],
        ),
        (
            "dropuot = { uniform = [0, 1] }",
            &["conf/space.toml", "'dropuot'", "lr, reg"],
        ),
        (
            "reg = { log_uniform = [0.0, 1.0] }",
            &["conf/space.toml", "key 'reg'", "0 < MIN"],
        ),
        (
            "hidden = { choice = [] }",
            &["key 'hidden'", "at least one value"],
        ),
        ("lr = [", &["conf/space.toml", "line 1"]),
    ] {
        let e = SearchSpace::from_toml(text, path).unwrap_err().to_string();
        for needle in needles {
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}

#[test]
fn values_that_make_an_invalid_configuration_are_refused_naming_key_and_value() {
    let base = TrainConfig::default();
    let with = |key: &str, d: Distribution| {
        let space = SearchSpace([(key.to_owned(), d)].into_iter().collect());
        space.check(&base).unwrap_err().to_string()
    };
    let e = with("hidden", Distribution::choice([vec![10], vec![0]]));
    assert!(e.starts_with("hidden ") && e.contains("[0]"), "{e}");
    let e = with("batch_size", Distribution::choice([0]));
    assert!(e.starts_with("batch_size "), "{e}");
    let e = with("optimizer", Distribution::choice(["adamw"]));
    assert!(e.starts_with("optimizer ") && e.contains("adamw"), "{e}");
    let e = with("lr", Distribution::log_uniform(1e-2, 1e-3));
    assert!(e.starts_with("lr "), "{e}");
}

#[test]
fn labels_are_short_names() {
    assert_eq!(value_label(&json!([200, 100])), "200,100");
    assert_eq!(value_label(&json!({"kind": "adam", "beta1": 0.9})), "adam");
    assert_eq!(value_label(&json!(32)), "32");
    assert_eq!(
        value_label(&config_value(&TrainConfig::default(), "schedule")),
        "one_cycle"
    );
}

#[test]
fn the_regularisers_activation_and_augmentation_are_searched_from_a_space_file() {
    let text = r#"
        dropout = { uniform = [0.1, 0.5] }
        label_smoothing = { choice = [0.0, 0.1] }
        ema = { choice = [0.99, 0.999] }
        activation = { choice = ["relu", "tanh"] }
        augment = { choice = ["none", "shift"] }
    "#;
    let file = SearchSpace::from_toml(text, Path::new("space.toml")).unwrap();
    let space = SearchSpace::defaults().overlaid(file);
    space.check(&TrainConfig::default()).unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    let (mut kinds, mut activations, mut smoothing) = (
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    );
    for _ in 0..60 {
        let c = space.draw(&mut rng, &TrainConfig::default()).unwrap();
        c.validate().unwrap();
        assert!((0.1..=0.5).contains(&c.dropout), "{c:?}");
        assert!(matches!(c.ema, Some(d) if d == 0.99 || d == 0.999), "{c:?}");
        kinds.insert(c.augment.kind());
        activations.insert(format!("{:?}", c.activation));
        smoothing.insert(c.label_smoothing.to_bits());
    }
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert_eq!(activations.len(), 2, "{activations:?}");
    assert_eq!(smoothing.len(), 2);
}
