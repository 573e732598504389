//! `tune.png`: a study's validation accuracy against each searched hyperparameter, one panel
//! each (a log axis for a log-uniform one, the choices side by side for a choice), every
//! trial a dot coloured by the rung it reached, the best trial ringed.

use std::path::Path;

use plotters::prelude::*;
use tapegrad_net::tune::{config_value, value_label, Collection, Distribution, TrialOutcome};

use super::accuracy::accuracy_range;
use super::{draw_err, prepare_chart, render, tick_label, PlotError, BEST_COLOR, FONT};

/// Pixel size of one panel.
const PANEL: (u32, u32) = (420, 320);
/// Panels per row.
const COLUMNS: usize = 3;
/// The colours of rungs 0, 1, 2, ... (the last repeats): light to dark.
const RUNG_COLORS: [RGBColor; 5] = [
    RGBColor(158, 202, 225),
    RGBColor(66, 146, 198),
    RGBColor(8, 81, 156),
    RGBColor(8, 48, 107),
    RGBColor(0, 0, 0),
];

/// How a panel's x axis places values.
enum Scale {
    /// log10 of the value.
    Log,
    /// The value.
    Linear,
    /// The index of the value's label among these.
    Categories(Vec<String>),
}

/// One panel: a hyperparameter, its scale, and each plotted trial's `(x, accuracy, rung)`.
struct Panel {
    name: &'static str,
    scale: Scale,
    points: Vec<(f64, f64, usize)>,
    best: Option<(f64, f64)>,
}

/// Draws `tune.png` at `path` for the trials of `collection` (diverged trials left out: they
/// have no model).
pub fn tune_picture(path: &Path, collection: &Collection) -> Result<(), PlotError> {
    prepare_chart(path)?;
    let study = &collection.study;
    let trials: Vec<_> = (collection.ranked.iter())
        .map(|(_, r)| r)
        .filter(|r| r.metrics.outcome != TrialOutcome::Diverged)
        .collect();
    let best = trials.first().map(|r| r.trial);
    let mut panels = Vec::new();
    for (name, distribution) in study.space.searched() {
        let scale = match distribution {
            Distribution::LogUniform(_) => Scale::Log,
            Distribution::Uniform(_) => Scale::Linear,
            Distribution::Choice(values) => {
                let mut labels: Vec<String> = Vec::new();
                for label in values.iter().map(value_label) {
                    if !labels.contains(&label) {
                        labels.push(label);
                    }
                }
                Scale::Categories(labels)
            }
        };
        let mut panel = Panel {
            name,
            scale,
            points: Vec::new(),
            best: None,
        };
        for r in &trials {
            let value = config_value(&r.config, name);
            let x = match &panel.scale {
                Scale::Log => value.as_f64().map(f64::log10),
                Scale::Linear => value.as_f64(),
                Scale::Categories(labels) => {
                    let label = value_label(&value);
                    // Spread a category's dots sideways, by trial, so they do not hide each
                    // other.
                    let jitter = ((r.trial as f64 * 0.618_034) % 1.0 - 0.5) * 0.4;
                    let at = labels.iter().position(|l| *l == label);
                    at.map(|i| i as f64 + jitter)
                }
            };
            let Some(x) = x.filter(|x| x.is_finite()) else {
                continue;
            };
            let point = (x, r.metrics.val_accuracy, r.rung);
            if Some(r.trial) == best {
                panel.best = Some((x, point.1));
            }
            panel.points.push(point);
        }
        panels.push(panel);
    }
    let rows = panels.len().div_ceil(COLUMNS).max(1);
    let columns = panels.len().clamp(1, COLUMNS);
    let size = (PANEL.0 * columns as u32, PANEL.1 * rows as u32 + 40);
    let y = accuracy_range(trials.iter().map(|r| r.metrics.val_accuracy));
    let rungs = study.rungs().len();
    let err = draw_err(path, "drawing tune.png");
    render(path, size, &err, |root| {
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let rung_note = match rungs {
            1 => String::new(),
            n => format!("; dots darker by rung reached (0 to {})", n - 1),
        };
        let title = match (best, trials.first()) {
            (Some(t), Some(r)) => format!(
                "{} trials of {} ({} search): val accuracy; best trial {t} ({:.2}%) \
                 ringed{rung_note}",
                study.trials,
                study.data,
                study.search.name(),
                100.0 * r.metrics.val_accuracy
            ),
            _ => format!(
                "{} trials of {}: none has a model",
                study.trials, study.data
            ),
        };
        let root = root.titled(&title, (FONT, 20)).map_err(|e| err(&e))?;
        let areas = root.split_evenly((rows, columns));
        for (area, panel) in areas.iter().zip(&panels) {
            let x = match &panel.scale {
                Scale::Categories(labels) => (-0.5, labels.len() as f64 - 0.5),
                _ => {
                    let xs = panel.points.iter().map(|p| p.0);
                    super::axis_range(super::extent(xs), 0.05)
                }
            };
            let caption = match panel.scale {
                Scale::Log => format!("{} (log scale)", panel.name),
                _ => panel.name.to_owned(),
            };
            let mut chart = ChartBuilder::on(area)
                .caption(caption, (FONT, 16))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(50)
                .build_cartesian_2d(x.0..x.1, y.0..y.1)
                .map_err(|e| err(&e))?;
            let format_x = |v: &f64| match &panel.scale {
                Scale::Log => format!("{:.0e}", 10f64.powf(*v)),
                Scale::Linear => tick_label(v),
                Scale::Categories(labels) => {
                    let i = v.round();
                    match (v - i).abs() < 1e-6 && i >= 0.0 {
                        true => labels.get(i as usize).cloned().unwrap_or_default(),
                        false => String::new(),
                    }
                }
            };
            let mut mesh = chart.configure_mesh();
            if let Scale::Categories(labels) = &panel.scale {
                mesh.x_labels(labels.len() + 1);
            }
            mesh.x_label_formatter(&format_x)
                .y_label_formatter(&|v| format!("{:.0}%", 100.0 * v))
                .y_desc("val accuracy")
                .label_style((FONT, 12))
                .axis_desc_style((FONT, 13))
                .draw()
                .map_err(|e| err(&e))?;
            for rung in 0..rungs {
                let color = RUNG_COLORS[rung.min(RUNG_COLORS.len() - 1)];
                let dots = (panel.points.iter())
                    .filter(|p| p.2 == rung)
                    .map(|&(x, y, _)| Circle::new((x, y), 4, color.filled()));
                chart.draw_series(dots).map_err(|e| err(&e))?;
            }
            let ring = (panel.best).map(|p| Circle::new(p, 9, BEST_COLOR.stroke_width(3)));
            chart.draw_series(ring).map_err(|e| err(&e))?;
        }
        Ok(())
    })
}
