//! `accuracy.png`: train and validation accuracy per epoch, the y axis ranged to the data (so
//! that 86–92% is not a strip at the top of a 0–1 axis), and the run's best epoch marked.

use std::path::Path;

use plotters::prelude::*;

use super::{
    axis_range, chart, draw_err, extent, finite_points, line, prepare_chart, render, PlotError,
    BEST_COLOR, CHART_SIZE, FONT, TRAIN_COLOR, VAL_COLOR,
};

/// The smallest margin drawn above and below the accuracies, as a fraction (1 point of %).
const MIN_MARGIN: f64 = 0.01;

/// The y range of the accuracy chart for these accuracies: their extent with a margin of a
/// tenth of it (at least [`MIN_MARGIN`]) on both sides, kept inside 0–1; 0–1 when there are none.
pub fn accuracy_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    match extent(values.filter(|v| v.is_finite()).map(|v| v.clamp(0.0, 1.0))) {
        None => (0.0, 1.0),
        Some((lo, hi)) => {
            let pad = (0.1 * (hi - lo)).max(MIN_MARGIN);
            ((lo - pad).max(0.0), (hi + pad).min(1.0))
        }
    }
}

/// Draws `accuracy.png` at `path`: train and val accuracy per epoch with a legend, and, when
/// `best_epoch` is given, a vertical line at it and a ring on its validation accuracy.
/// Non-finite points are skipped; values are clamped into 0–1.
pub fn accuracy_curves(
    path: &Path,
    train: &[(f64, f64)],
    val: &[(f64, f64)],
    best_epoch: Option<usize>,
) -> Result<(), PlotError> {
    prepare_chart(path)?;
    let clamp = |pts: &[(f64, f64)]| -> Vec<(f64, f64)> {
        finite_points(pts)
            .0
            .into_iter()
            .map(|(x, y)| (x, y.clamp(0.0, 1.0)))
            .collect()
    };
    let (train, val) = (clamp(train), clamp(val));
    let x = axis_range(extent(train.iter().chain(&val).map(|p| p.0)), 0.02);
    let y = accuracy_range(train.iter().chain(&val).map(|p| p.1));
    let best = best_epoch.map(|e| (e as f64, val.iter().find(|p| p.0 == e as f64)));
    let err = draw_err(path, "drawing the accuracy curves");
    render(path, CHART_SIZE, &err, |root| {
        let title = "Classification accuracy";
        let mut chart = chart(root, title, (x, y), ("epoch", "accuracy"), &err)?;
        for (name, pts, color) in [("train", &train, TRAIN_COLOR), ("val", &val, VAL_COLOR)] {
            chart
                .draw_series(line(pts, color.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        if let Some((epoch, point)) = best {
            let label = match point {
                Some((_, acc)) => format!("best epoch {epoch} (val {:.2}%)", 100.0 * acc),
                None => format!("best epoch {epoch}"),
            };
            let style = BEST_COLOR.stroke_width(1);
            let rule = PathElement::new([(epoch, y.0), (epoch, y.1)], style);
            chart
                .draw_series(std::iter::once(rule))
                .map_err(|e| err(&e))?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x + 10, y - 6), (x + 10, y + 6)], style));
            let ring = point.map(|&p| Circle::new(p, 7, BEST_COLOR.stroke_width(2)));
            chart.draw_series(ring).map_err(|e| err(&e))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        Ok(())
    })
}
