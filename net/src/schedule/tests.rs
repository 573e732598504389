use super::*;

const LR: f64 = 0.1;

fn at(epoch: usize, step: usize, steps_per_epoch: usize, epochs: usize) -> Position {
    Position {
        epoch,
        step,
        steps_per_epoch,
        epochs,
    }
}

/// Every step's rate of a run of `epochs` epochs of `steps` steps, with no history.
fn rates(schedule: Schedule, steps: usize, epochs: usize) -> Vec<f64> {
    (0..epochs)
        .flat_map(|e| (0..steps).map(move |s| at(e, s, steps, epochs)))
        .map(|p| schedule.lr(LR, p, &[], Monitor::ValLoss))
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
}

#[test]
fn constant_keeps_the_rate_at_every_step() {
    assert!(rates(Schedule::Constant, 3, 4).iter().all(|&r| r == LR));
}

#[test]
fn step_cuts_the_rate_by_its_factor_every_step_epochs() {
    let step = Schedule::Step {
        step_epochs: 3,
        lr_decay: 0.5,
    };
    let r = rates(step, 2, 7);
    let expected = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25].map(|f| f * LR);
    for (e, want) in expected.iter().enumerate() {
        assert!(
            close(r[2 * e], *want) && close(r[2 * e + 1], *want),
            "epoch {e}: {r:?}"
        );
    }
}

#[test]
fn exponential_multiplies_by_the_decay_after_every_epoch_and_not_within_one() {
    let r = rates(Schedule::Exponential { lr_decay: 0.9 }, 3, 4);
    for e in 0..4 {
        let want = LR * 0.9f64.powi(e as i32);
        assert!(r[3 * e..3 * e + 3].iter().all(|&x| close(x, want)), "{r:?}");
    }
}

#[test]
fn cosine_warms_up_linearly_then_anneals_to_min_lr_at_the_last_step() {
    let min_lr = 0.001;
    let cosine = Schedule::Cosine {
        warmup_epochs: 1,
        min_lr,
    };
    // 4 warm-up steps, then 8 annealing steps.
    let r = rates(cosine, 4, 3);
    for k in 0..4 {
        assert!(
            close(r[k], LR * (k + 1) as f64 / 4.0),
            "warm-up step {k}: {r:?}"
        );
    }
    assert!(
        close(r[4], LR),
        "the first annealing step is at the peak: {r:?}"
    );
    assert!(close(r[11], min_lr), "the last step is at min_lr: {r:?}");
    // Step 7 is 3/7 of the way down.
    let t = 3.0 / 7.0;
    let want = min_lr + (LR - min_lr) * (1.0 + (PI * t).cos()) / 2.0;
    assert!(close(r[7], want), "{} vs {want}", r[7]);
    assert!(
        r[4..].windows(2).all(|w| w[1] < w[0]),
        "annealing decreases: {r:?}"
    );
}

#[test]
fn cosine_without_warmup_starts_at_the_peak() {
    let r = rates(
        Schedule::Cosine {
            warmup_epochs: 0,
            min_lr: 0.0,
        },
        5,
        2,
    );
    assert!(close(r[0], LR) && r[9].abs() < 1e-18, "{r:?}");
}

#[test]
fn one_cycle_follows_pytorchs_one_cycle_lr() {
    // torch.optim.lr_scheduler.OneCycleLR(max_lr=0.1, total_steps=10) (pct_start 0.3,
    // div_factor 25, final_div_factor 1e4, cosine annealing): the peak is at step 2, the
    // end at step 9.
    let one_cycle = Schedule::OneCycle {
        pct_start: 0.3,
        div_factor: 25.0,
        final_div_factor: 1e4,
    };
    let r = rates(one_cycle, 5, 2);
    let (start, end) = (LR / 25.0, LR / 25.0 / 1e4);
    let anneal = |from: f64, to: f64, t: f64| to + (from - to) / 2.0 * (1.0 + (PI * t).cos());
    assert!(close(r[0], start), "{r:?}");
    assert!(close(r[1], anneal(start, LR, 0.5)), "{r:?}");
    assert!(close(r[2], LR), "{r:?}");
    assert!(close(r[5], anneal(LR, end, 3.0 / 7.0)), "{r:?}");
    assert!(close(r[9], end), "{r:?}");
}

fn epoch(epoch: usize, val_loss: f64) -> EpochStats {
    EpochStats {
        epoch,
        iteration: epoch,
        loss: val_loss,
        val_loss,
        train_accuracy: 0.5,
        val_accuracy: 0.5,
        lr: LR,
        seconds: 0.0,
    }
}

#[test]
fn plateau_cuts_after_more_than_patience_epochs_without_improvement_down_to_min_lr() {
    let plateau = Schedule::Plateau {
        lr_decay: 0.1,
        plateau_patience: 2,
        min_lr: 2e-4,
    };
    let losses = [1.0, 0.8, 0.9, 0.9, 0.9, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8];
    let history: Vec<EpochStats> = (losses.iter().enumerate())
        .map(|(k, &l)| epoch(k + 1, l))
        .collect();
    let lr_after = |n: usize| {
        let p = at(n, 0, 1, 20);
        plateau.lr(LR, p, &history[..n], Monitor::ValLoss)
    };
    assert!(close(lr_after(4), LR), "two bad epochs are tolerated");
    assert!(close(lr_after(5), LR * 0.1), "the third cuts");
    assert!(
        close(lr_after(8), LR * 0.1),
        "0.7 improved: the count restarted"
    );
    assert!(
        close(lr_after(9), LR * 0.01),
        "three more bad epochs cut again"
    );
    assert!(close(lr_after(12), 2e-4), "never below min_lr");
}

#[test]
fn plateau_watches_accuracy_upwards() {
    let plateau = Schedule::Plateau {
        lr_decay: 0.5,
        plateau_patience: 0,
        min_lr: 0.0,
    };
    let mut history = vec![epoch(1, 1.0), epoch(2, 1.0)];
    history[0].val_accuracy = 0.5;
    history[1].val_accuracy = 0.6;
    let p = at(2, 0, 1, 10);
    assert!(close(plateau.lr(LR, p, &history, Monitor::ValAccuracy), LR));
    assert!(close(
        plateau.lr(LR, p, &history, Monitor::ValLoss),
        LR * 0.5
    ));
}

#[test]
fn a_kind_alone_takes_its_default_settings_and_unknown_settings_are_refused() {
    let cosine: Schedule = serde_json::from_str(r#"{"kind":"cosine"}"#).unwrap();
    assert_eq!(
        cosine,
        Schedule::Cosine {
            warmup_epochs: DEFAULT_WARMUP_EPOCHS,
            min_lr: 0.0
        }
    );
    let one_cycle: Schedule = serde_json::from_str(r#"{"kind":"one_cycle"}"#).unwrap();
    assert_eq!(one_cycle.kind(), "one_cycle");
    let wrong = serde_json::from_str::<Schedule>(r#"{"kind":"step","warmup_epochs":2}"#);
    assert!(wrong.unwrap_err().to_string().contains("warmup_epochs"));
    for kind in SCHEDULE_KINDS {
        let parsed: Schedule = serde_json::from_str(&format!(r#"{{"kind":"{kind}"}}"#)).unwrap();
        assert_eq!(parsed.kind(), kind);
        assert_eq!(parsed.check(LR, 10), Ok(()), "{kind}'s defaults are valid");
    }
}

#[test]
fn check_names_the_setting_at_fault() {
    let name = |s: Schedule| s.check(LR, 5).unwrap_err().0;
    assert_eq!(
        name(Schedule::Cosine {
            warmup_epochs: 5,
            min_lr: 0.0
        }),
        "warmup_epochs"
    );
    assert_eq!(
        name(Schedule::Cosine {
            warmup_epochs: 0,
            min_lr: LR
        }),
        "min_lr"
    );
    assert_eq!(
        name(Schedule::Step {
            step_epochs: 0,
            lr_decay: 0.5
        }),
        "step_epochs"
    );
    assert_eq!(
        name(Schedule::Plateau {
            lr_decay: 1.0,
            plateau_patience: 1,
            min_lr: 0.0
        }),
        "lr_decay"
    );
    assert_eq!(
        name(Schedule::OneCycle {
            pct_start: 1.0,
            div_factor: 25.0,
            final_div_factor: 1e4
        }),
        "pct_start"
    );
    assert_eq!(
        name(Schedule::Exponential { lr_decay: f64::NAN }),
        "lr_decay"
    );
}
