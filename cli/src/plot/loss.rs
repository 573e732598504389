//! `loss.png`: the loss of every step drawn faintly (on long runs it is a band of noise), a
//! smoothed curve over it, the mean training loss of each epoch and the validation loss at each
//! epoch's end.
//!
//! The smoothed curve is a centred moving average: the mean of the [`smoothing_window`] steps
//! around each step (fewer at the two ends, where the window is cut off). Unlike an exponential
//! moving average it does not lag behind the raw loss, so a drop in the loss shows at the step
//! where it happened.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    axis_range, chart, draw_err, extent, finite_points, line, prepare_chart, render, PlotError,
    CHART_SIZE, EPOCH_COLOR, FONT, TRAIN_COLOR, VAL_COLOR,
};

/// The series `loss.png` shows, each as (step, loss) points; non-finite points are skipped.
#[derive(Debug, Clone, Copy, Default)]
pub struct LossSeries<'a> {
    /// The training loss of every optimizer step.
    pub steps: &'a [(f64, f64)],
    /// The mean training loss of each epoch, at the epoch's middle step.
    pub epoch_means: &'a [(f64, f64)],
    /// The validation loss of each epoch, at the epoch's last step.
    pub val: &'a [(f64, f64)],
}

/// The width in steps of the centred moving average for `n` steps: about a fiftieth of the run
/// and always odd, so that it is centred; 1 (no smoothing) below 100 steps.
pub fn smoothing_window(n: usize) -> usize {
    (n / 50) | 1
}

/// The centred moving average of `points` over `window` points (cut off at both ends): each
/// point keeps its x and gets the mean y of the points around it.
pub fn smooth(points: &[(f64, f64)], window: usize) -> Vec<(f64, f64)> {
    let half = window / 2;
    let mut prefix = Vec::with_capacity(points.len() + 1);
    prefix.push(0.0);
    for (_, y) in points {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + y);
    }
    (0..points.len())
        .map(|i| {
            let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(points.len()));
            (points[i].0, (prefix[hi] - prefix[lo]) / (hi - lo) as f64)
        })
        .collect()
}

/// Draws `loss.png` at `path`: title "Training loss", x axis "step", y axis "loss", a legend,
/// and a note counting the non-finite points skipped (or saying there is no data).
pub fn loss_curves(path: &Path, series: LossSeries<'_>) -> Result<(), PlotError> {
    prepare_chart(path)?;
    let (steps, skipped_steps) = finite_points(series.steps);
    let (means, skipped_means) = finite_points(series.epoch_means);
    let (val, skipped_val) = finite_points(series.val);
    let skipped = skipped_steps + skipped_means + skipped_val;
    let window = smoothing_window(steps.len());
    let smoothed = smooth(&steps, window);
    let all = || steps.iter().chain(&means).chain(&val);
    let x = axis_range(extent(all().map(|p| p.0)), 0.0);
    let y = axis_range(extent(all().map(|p| p.1)), 0.05);
    let err = draw_err(path, "drawing the loss curves");
    render(path, CHART_SIZE, &err, |root| {
        let mut chart = chart(root, "Training loss", (x, y), ("step", "loss"), &err)?;
        let raw_style = TRAIN_COLOR.mix(0.25).stroke_width(1);
        let smooth_style = TRAIN_COLOR.stroke_width(2);
        let smooth_name = match window {
            1 => "loss per step".to_string(),
            w => format!("mean of {w} steps (centred)"),
        };
        // (legend, points, style, markers): only the per-epoch curves may get markers.
        let mut curves = Vec::new();
        if window > 1 {
            curves.push(("loss per step".to_string(), &steps, raw_style, false));
        }
        let epoch_style = EPOCH_COLOR.stroke_width(2);
        curves.push(("epoch mean (train)".into(), &means, epoch_style, true));
        curves.push(("validation".into(), &val, VAL_COLOR.stroke_width(2), true));
        // The smoothed curve last, on top: where the epoch means follow it they are hidden.
        curves.push((smooth_name, &smoothed, smooth_style, false));
        for (name, pts, style, markers) in curves {
            if pts.is_empty() {
                continue;
            }
            let series = match markers {
                true => line(pts, style),
                false => LineSeries::new(pts.iter().copied(), style),
            };
            chart
                .draw_series(series)
                .map_err(|e| err(&e))?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        }
        if !steps.is_empty() || !means.is_empty() || !val.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(|e| err(&e))?;
        }

        let empty = steps.is_empty() && means.is_empty() && val.is_empty();
        let note = match (empty, skipped) {
            (true, _) => "no finite data points".to_string(),
            (false, 0) => String::new(),
            (false, 1) => "1 non-finite point skipped".to_string(),
            (false, n) => format!("{n} non-finite points skipped"),
        };
        if !note.is_empty() {
            let area = chart.plotting_area().strip_coord_spec();
            let (w, h) = area.dim_in_pixel();
            let (at, anchor) = match empty {
                true => (
                    (w as i32 / 2, h as i32 / 2),
                    Pos::new(HPos::Center, VPos::Center),
                ),
                false => ((8, h as i32 - 8), Pos::new(HPos::Left, VPos::Bottom)),
            };
            let style = TextStyle::from((FONT, 16).into_font())
                .color(&RED)
                .pos(anchor);
            area.draw(&Text::new(note, at, style))
                .map_err(|e| err(&e))?;
        }
        Ok(())
    })
}
