//! `--augment auto` (the `best` recipe's): the pilot runs that choose a new run's
//! augmentation, with their progress and the lines they leave on standard output and in
//! config.toml.

use std::io::{self, Write};
use std::ops::ControlFlow;
use std::time::Instant;

use tapegrad_net::augment::Augment;
use tapegrad_net::data::{MeanImage, Splits};
use tapegrad_net::train::{
    choose_augment, pilot_candidates, pilot_epochs, AugmentTrial, Progress, TrainConfig,
};

use crate::failure::{Failure, Outcome};
use crate::interrupt::Interrupt;
use crate::progress::TrainProgress;
use crate::settings::Settings;

/// Runs the pilot for `settings` (whose augmentation is to be chosen) on `splits`, then sets
/// the augmentation it chose and notes what it tried. Returns its seconds.
pub fn choose(
    settings: &mut Settings,
    splits: &Splits,
    mean: &MeanImage,
    quiet: bool,
    interrupt: &Interrupt,
) -> Outcome<f64> {
    let started = Instant::now();
    let config = settings.config.clone();
    let tried = pilot_candidates(&config, splits.train.image()).len();
    let epochs = pilot_epochs(config.epochs);
    let mut stdout = io::stdout();
    if tried > 1 {
        let _ = writeln!(
            stdout,
            "choosing the augmentation (--augment auto): {tried} pilot runs of {epochs} epochs"
        );
    }
    let steps = splits.train.len().div_ceil(config.batch_size.max(1)) * epochs;
    let mut current: Option<(Augment, TrainProgress)> = None;
    let mut lines = Vec::new();
    let observe = |augment: &Augment, p: Progress<'_, f32>| {
        if current.as_ref().is_none_or(|(a, _)| a != augment) {
            if let Some((_, bar)) = &current {
                bar.finish();
            }
            current = Some((*augment, TrainProgress::new(quiet, steps, epochs)));
        }
        let Some((_, bar)) = current.as_mut() else {
            return ControlFlow::Continue(());
        };
        match p {
            Progress::Step { epoch, loss, .. } => bar.step(epoch, loss),
            Progress::Epoch {
                stats, improved, ..
            } => bar.epoch(stats, improved),
        }
        match interrupt.requested() {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        }
    };
    let done = |trial: &AugmentTrial| lines.push(trial_line(trial));
    let choice = choose_augment(
        &config,
        &splits.train,
        &splits.val,
        Some(mean),
        observe,
        done,
    );
    if let Some((_, bar)) = &current {
        bar.finish();
    }
    let choice = choice?.ok_or_else(|| {
        Failure::interrupted("interrupted while choosing the augmentation: nothing was saved")
    })?;
    for line in &lines {
        let _ = writeln!(stdout, "  {line}");
    }
    let seconds = started.elapsed().as_secs_f64();
    let summary = match choice.trials.is_empty() {
        true => {
            "augmentation: none (the data are not images, or their settings refuse augmentation)"
                .to_owned()
        }
        false => format!(
            "augmentation chosen by {} pilot runs of {epochs} epochs ({seconds:.1}s): {}",
            choice.trials.len(),
            describe(&choice.chosen)
        ),
    };
    let _ = writeln!(stdout, "{summary}");
    settings.pilot_note = std::iter::once(summary)
        .chain(lines.iter().map(|l| format!("  {l}")))
        .collect();
    settings.config = TrainConfig {
        augment: choice.chosen,
        ..config
    };
    settings.choose_augment = false;
    Ok(seconds)
}

/// `flip: val 89.62% (best at epoch 6 of the pilot, 12.1s)`.
fn trial_line(trial: &AugmentTrial) -> String {
    format!(
        "{}: val {:.2}%, loss {:.4} (best at epoch {}, {:.1}s)",
        describe(&trial.augment),
        100.0 * trial.val_accuracy,
        trial.val_loss,
        trial.epoch,
        trial.seconds
    )
}

/// An augmentation as the pilot names it: `none`, `flip` (mirroring alone), its kind, or its
/// kind `+ flip` when it also mirrors (`shift + flip`).
fn describe(augment: &Augment) -> String {
    match augment {
        Augment::Shift {
            shift: 0.0,
            flip: true,
            pixel_dropout: 0.0,
        } => "flip".to_owned(),
        other if other.flips() => format!("{} + flip", other.kind()),
        other => other.kind().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapegrad_net::data::ImageShape;
    use tapegrad_net::train::augment_candidates;

    #[test]
    fn the_pilot_names_each_of_its_candidates_differently() {
        let names: Vec<String> = augment_candidates(Some(ImageShape::grey(28, 28)))
            .iter()
            .map(describe)
            .collect();
        assert_eq!(names, ["shift", "shift + flip", "affine"]);
        let mirror = Augment::Shift {
            shift: 0.0,
            flip: true,
            pixel_dropout: 0.0,
        };
        assert_eq!(describe(&mirror), "flip");
    }
}
