use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::*;
use crate::train::TrainConfig;
use crate::tune::{Search, SearchSpace, TrialMetrics};

fn study(trials: usize, epochs: usize) -> Study {
    let base = TrainConfig {
        epochs,
        ..TrainConfig::default()
    };
    let search = Search::Halving {
        min_epochs: 1,
        eta: 3,
    };
    Study::new(
        "digits".into(),
        0,
        trials,
        SearchSpace::defaults(),
        base,
        search,
    )
    .unwrap()
}

fn result(study: &Study, trial: usize, rung: usize, val_accuracy: f64) -> TrialResult {
    let outcome = match val_accuracy {
        0.0 => TrialOutcome::Diverged,
        _ => TrialOutcome::Completed,
    };
    TrialResult {
        trial,
        rung,
        study: study.clone(),
        config: study.trial_config(trial).unwrap(),
        metrics: TrialMetrics {
            outcome,
            best_epoch: 1,
            epochs_run: study.rungs()[rung].epochs,
            val_accuracy,
            val_loss: (val_accuracy > 0.0).then_some(1.0 - val_accuracy),
            train_accuracy: val_accuracy,
            seconds: 0.0,
        },
    }
}

#[test]
fn each_rung_promotes_the_brute_force_top_third_of_the_rung_before() {
    let s = study(27, 27);
    let mut rng = StdRng::seed_from_u64(5);
    let mut results = Vec::new();
    let mut ladder = Ladder::new(&s, [], []);
    for rung in 0..s.rungs().len() {
        let entrants = ladder
            .entrants(rung)
            .expect("decided: the rung before is complete");
        let accuracies: Vec<f64> = entrants
            .iter()
            .map(|_| rng.random_range(0.5..1.0))
            .collect();
        if rung > 0 {
            // Brute force: every result of the rung before, sorted by accuracy, the top third.
            let mut before: Vec<(f64, usize)> = (results.iter())
                .filter(|r: &&TrialResult| r.rung == rung - 1)
                .map(|r| (r.metrics.val_accuracy, r.trial))
                .collect();
            before.sort_by(|a, b| b.0.total_cmp(&a.0));
            let top: Vec<usize> = before
                .iter()
                .take(s.rungs()[rung].trials)
                .map(|p| p.1)
                .collect();
            assert_eq!(entrants, top, "rung {rung}");
        }
        assert_eq!(entrants.len(), [27, 9, 3, 1][rung]);
        for (&t, &a) in entrants.iter().zip(&accuracies) {
            assert!(ladder.entrants(rung + 1).is_none() || rung + 1 == s.rungs().len());
            results.push(result(&s, t, rung, a));
        }
        ladder = Ladder::new(&s, results.clone(), []);
    }
    assert!(ladder.is_complete() && ladder.todo(Shard::WHOLE, true).is_empty());
    assert_eq!(ladder.waiting_on(), None);
}

#[test]
fn a_rung_is_undecided_until_every_entrant_of_the_rung_before_has_finished() {
    let s = study(9, 9);
    let mut results: Vec<TrialResult> = (0..8)
        .map(|t| result(&s, t, 0, 0.5 + t as f64 / 100.0))
        .collect();
    let ladder = Ladder::new(&s, results.clone(), []);
    assert_eq!(ladder.entrants(1), None);
    assert_eq!(ladder.todo(Shard::WHOLE, true), [(0, 8)]);
    assert_eq!(ladder.waiting_on(), Some((0, vec![8])));
    // Trial 8 diverges: never promoted; ties broken by index.
    results.push(result(&s, 8, 0, 0.0));
    results[0].metrics.val_accuracy = 0.57;
    let ladder = Ladder::new(&s, results, []);
    assert_eq!(ladder.entrants(1), Some(vec![7, 0, 6]));
    assert_eq!(ladder.todo(Shard::WHOLE, true), [(1, 7), (1, 0), (1, 6)]);
    assert!(!ladder.is_complete());
}

#[test]
fn a_shard_takes_its_own_work_first_and_the_others_only_when_stealing() {
    let s = study(9, 9);
    let shard: Shard = "1/3".parse().unwrap();
    let ladder = Ladder::new(&s, [result(&s, 4, 0, 0.9)], []);
    assert_eq!(
        ladder.todo(shard, false),
        [(0, 1), (0, 7)],
        "its own, finished ones left out"
    );
    let all = ladder.todo(shard, true);
    assert_eq!(&all[..2], [(0, 1), (0, 7)]);
    let mut rest: Vec<usize> = all[2..].iter().map(|w| w.1).collect();
    rest.shuffle(&mut StdRng::seed_from_u64(0));
    rest.sort_unstable();
    assert_eq!(rest, [0, 2, 3, 5, 6, 8]);
}

#[test]
fn a_random_search_is_one_rung_of_every_trial() {
    let base = TrainConfig::default();
    let s = Study::new(
        "digits".into(),
        0,
        4,
        SearchSpace::defaults(),
        base,
        Search::Random,
    )
    .unwrap();
    let ladder = Ladder::new(&s, (0..4).map(|t| result(&s, t, 0, 0.9)), []);
    assert!(ladder.is_complete());
    assert_eq!(ladder.rungs.len(), 1);
}

#[test]
fn asha_promotes_the_best_third_of_what_a_rung_holds_so_far_and_each_trial_once() {
    let base = TrainConfig {
        epochs: 9,
        ..TrainConfig::default()
    };
    let asha = Search::Asha {
        min_epochs: 1,
        eta: 3,
    };
    let s = Study::new("digits".into(), 0, 9, SearchSpace::defaults(), base, asha).unwrap();
    // Two results: nothing to promote yet (the best third of 2 is none); rung 0 goes on.
    let two = [result(&s, 0, 0, 0.5), result(&s, 1, 0, 0.9)];
    let ladder = Ladder::new(&s, two.clone(), []);
    assert!(ladder.promotable().is_empty());
    assert_eq!(ladder.todo(Shard::WHOLE, true)[0], (0, 2));
    assert!(!ladder.is_complete());
    // Six results: the best two, best first, unless already claimed.
    let six: Vec<TrialResult> = (0..6)
        .map(|t| result(&s, t, 0, 0.5 + t as f64 / 20.0))
        .collect();
    let ladder = Ladder::new(&s, six.clone(), [(1, 5)]);
    let p = ladder.promotable();
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].rung, p[0].trial, p[0].place, p[0].of), (1, 4, 1, 6));
    // A claimed promotion not yet run comes first, then the one to claim, then rung 0.
    assert_eq!(
        &ladder.todo(Shard::WHOLE, true)[..3],
        [(1, 5), (1, 4), (0, 6)]
    );
    assert_eq!(ladder.entrants(1), Some(vec![5]));
}
