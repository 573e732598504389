//! Pictures of a training run: the loss per step with a smoothed curve, the epoch means and the
//! validation loss ([`loss`]); train/val accuracy per epoch with the best epoch marked
//! ([`accuracy`]); a study's validation accuracy against each searched hyperparameter
//! ([`tune`]); the first layer's weights as images or as a heat map, with a colour scale
//! ([`weights`], [`colour`]); a few training images beside their augmented versions
//! ([`augmented`]); and `report.html`, one page with all of them ([`report`]).
//! Everything is drawn with plotters' bitmap backend and the embedded DejaVu font, so no system
//! font or graphics library is needed. Pictures are drawn in memory, encoded as PNG with the
//! `image` crate and written with the one atomic write, so a crash or a full disk never leaves
//! half a picture.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

pub use self::accuracy::accuracy_curves;
pub use self::augmented::augment_picture;
pub use self::loss::{loss_curves, LossSeries};
use self::png::{describe, render, DrawError};
pub use self::report::{write_report, Report};
pub use self::tune::tune_picture;
pub use self::weights::weights_picture;

mod accuracy;
mod augmented;
mod colour;
mod loss;
mod png;
mod report;
mod tune;
mod weights;

/// Pixel size (width, height) of the loss and accuracy charts.
pub const CHART_SIZE: (u32, u32) = (800, 500);
const FONT: &str = "sans-serif";
const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);
const EPOCH_COLOR: RGBColor = RGBColor(44, 160, 44);
const BEST_COLOR: RGBColor = RGBColor(214, 39, 40);

type Root<'b> = DrawingArea<BitMapBackend<'b>, Shift>;
type Chart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type ErrFn<'e> = &'e dyn Fn(&DrawError) -> PlotError;

/// Why a picture could not be made; every variant names the output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlotError {
    /// The arguments do not describe a picture (bad W1 shape, not a `.png`
    /// path, missing output directory).
    Input { path: PathBuf, message: String },
    /// The embedded font could not be registered with plotters.
    Font { path: PathBuf, message: String },
    /// plotters failed while drawing, or the PNG encoder failed.
    Draw { path: PathBuf, message: String },
    /// The PNG could not be written (the message names the file and the cause).
    Write { path: PathBuf, message: String },
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (path, what, message) = match self {
            PlotError::Input { path, message } => (path, "bad input", message),
            PlotError::Font { path, message } => (path, "font registration failed", message),
            PlotError::Draw { path, message } => (path, "drawing failed", message),
            PlotError::Write { message, .. } => return f.write_str(message),
        };
        write!(f, "cannot plot {}: {what}: {message}", path.display())
    }
}

impl std::error::Error for PlotError {}

/// Register the embedded DejaVu Sans as plotters' "sans-serif" font (once per
/// process). Without it, any text makes plotters fail with `FontUnavailable`.
pub fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "the embedded DejaVu Sans font is not a valid font".to_string())
        })
        .clone()
}

fn input_err(path: &Path, message: impl Into<String>) -> PlotError {
    let (path, message) = (path.to_path_buf(), message.into());
    PlotError::Input { path, message }
}

fn draw_err(path: &Path, what: &'static str) -> impl Fn(&DrawError) -> PlotError {
    let path = path.to_path_buf();
    move |e| PlotError::Draw {
        path: path.clone(),
        message: format!("{what}: {}", describe(e)),
    }
}

/// Checks done before any drawing: a `.png` name and an existing directory.
fn check_output(path: &Path) -> Result<(), PlotError> {
    let ext = path.extension().and_then(|e| e.to_str());
    if !ext.is_some_and(|e| e.eq_ignore_ascii_case("png")) {
        return Err(input_err(path, "the file name must end in .png"));
    }
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => Err(input_err(
            path,
            format!("directory {} does not exist", dir.display()),
        )),
        _ => Ok(()),
    }
}

/// The finite points of a series, and how many were skipped.
fn finite_points(points: &[(f64, f64)]) -> (Vec<(f64, f64)>, usize) {
    let finite: Vec<_> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let skipped = points.len() - finite.len();
    (finite, skipped)
}

/// (min, max) of the values, or None for an empty iterator.
fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// A drawable range: widened when it is a single value, plus `margin` (a
/// fraction of the span) on both sides.
fn axis_range(extent: Option<(f64, f64)>, margin: f64) -> (f64, f64) {
    match extent {
        None => (0.0, 1.0),
        Some((lo, hi)) if hi > lo => {
            let pad = (hi - lo) * margin;
            if pad.is_finite() {
                (lo - pad, hi + pad)
            } else {
                (lo, hi)
            }
        }
        Some((v, _)) => {
            let pad = if v == 0.0 { 1.0 } else { v.abs() * 0.1 };
            (v - pad, v + pad)
        }
    }
}

/// Tick label: whole numbers without a decimal point ("100", not "100.0"),
/// other values with at most six decimals and no trailing zeros.
fn tick_label(v: &f64) -> String {
    let v = *v;
    if (v - v.round()).abs() <= 1e-9 * v.abs().max(1.0) {
        return format!("{:.0}", v.round() + 0.0); // + 0.0 turns -0 into 0
    }
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A line with a marker on every point when there are few points.
fn line(pts: &[(f64, f64)], style: ShapeStyle) -> LineSeries<BitMapBackend<'static>, (f64, f64)> {
    let marker = if pts.len() <= 50 { 3 } else { 0 };
    LineSeries::new(pts.iter().copied(), style).point_size(marker)
}

/// Fills the picture white and draws the title, axes, grid and tick labels.
fn chart<'a, 'b>(
    root: &'a Root<'b>,
    title: &str,
    (x, y): ((f64, f64), (f64, f64)),
    (x_desc, y_desc): (&str, &str),
    err: ErrFn,
) -> Result<Chart<'a, 'b>, PlotError> {
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 24))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&tick_label)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(|e| err(&e))?;
    Ok(chart)
}

fn prepare_chart(path: &Path) -> Result<(), PlotError> {
    check_output(path)?;
    let path = path.to_path_buf();
    ensure_font().map_err(|message| PlotError::Font { path, message })
}

#[cfg(test)]
mod tests;
