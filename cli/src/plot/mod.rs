//! Pictures of a training run, as the CS231n course shows them: the loss per
//! iteration, train/val accuracy per epoch, and the first-layer weights drawn
//! as a grid of small images. Everything is drawn with plotters' bitmap
//! backend and the embedded DejaVu font, so no system font or graphics
//! library is needed. Pictures are drawn in memory, encoded as PNG with the
//! `image` crate and written with the one atomic write, so a crash or a full
//! disk never leaves half a picture.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ndarray::ArrayView2;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use self::png::{describe, render, write_png, DrawError};

mod png;

/// Pixel size (width, height) of the loss and accuracy charts.
pub const CHART_SIZE: (u32, u32) = (800, 500);
/// Approximate side in pixels that each weight tile is scaled up to.
pub const TILE_TARGET: usize = 32;
/// Gap in pixels between weight tiles (drawn black, as in CS231n).
pub const TILE_GAP: usize = 1;

const FONT: &str = "sans-serif";
const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);

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

/// Training loss per iteration (or epoch): title "Training loss", x axis
/// `x_label`, y axis "loss". Non-finite points are skipped (and counted in a
/// note); an empty series gives an empty chart with a note.
pub fn loss_curve(path: &Path, points: &[(f64, f64)], x_label: &str) -> Result<(), PlotError> {
    prepare_chart(path)?;
    let (pts, skipped) = finite_points(points);
    let x = axis_range(extent(pts.iter().map(|p| p.0)), 0.0);
    let y = axis_range(extent(pts.iter().map(|p| p.1)), 0.05);
    let err = draw_err(path, "drawing the loss curve");
    render(path, CHART_SIZE, &err, |root| {
        let mut chart = chart(root, "Training loss", (x, y), (x_label, "loss"), &err)?;
        chart
            .draw_series(line(&pts, TRAIN_COLOR.stroke_width(1)))
            .map_err(|e| err(&e))?;

        let note = match (pts.is_empty(), skipped) {
            (true, _) => "no finite data points".to_string(),
            (false, 0) => String::new(),
            (false, 1) => "1 non-finite point skipped".to_string(),
            (false, n) => format!("{n} non-finite points skipped"),
        };
        if !note.is_empty() {
            let area = chart.plotting_area().strip_coord_spec();
            let (w, h) = area.dim_in_pixel();
            let (at, anchor) = if pts.is_empty() {
                (
                    (w as i32 / 2, h as i32 / 2),
                    Pos::new(HPos::Center, VPos::Center),
                )
            } else {
                ((w as i32 - 8, 8), Pos::new(HPos::Right, VPos::Top))
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

/// Train and validation accuracy per epoch on one chart with a legend
/// ("train", "val"); y runs from 0 to 1 and values are clamped into it.
pub fn accuracy_curves(
    path: &Path,
    train: &[(f64, f64)],
    val: &[(f64, f64)],
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
    let err = draw_err(path, "drawing the accuracy curves");
    render(path, CHART_SIZE, &err, |root| {
        let title = "Classification accuracy";
        let mut chart = chart(root, title, (x, (0.0, 1.0)), ("epoch", "accuracy"), &err)?;
        for (name, pts, color) in [("train", &train, TRAIN_COLOR), ("val", &val, VAL_COLOR)] {
            chart
                .draw_series(line(pts, color.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
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

/// Integer scale factor that brings a tile of side `side` near `TILE_TARGET`.
fn tile_scale(side: usize) -> usize {
    ((TILE_TARGET + side / 2) / side.max(1)).max(1)
}

/// Columns and rows of the near-square grid for `units` tiles:
/// ceil(sqrt(units)) columns and as many rows as needed.
fn grid_shape(units: usize) -> (usize, usize) {
    let mut cols = (units as f64).sqrt() as usize;
    while cols * cols < units {
        cols += 1;
    }
    let cols = cols.max(1);
    (cols, units.div_ceil(cols).max(1))
}

/// Pixel size (width, height) of the picture `weight_grid` draws for
/// `units` hidden units and input images of `height` x `width`.
pub fn weight_grid_size(units: usize, height: usize, width: usize) -> (u32, u32) {
    let (cols, rows) = grid_shape(units);
    let scale = tile_scale(height.max(width));
    let w = cols * width * scale + (cols - 1) * TILE_GAP;
    let h = rows * height * scale + (rows - 1) * TILE_GAP;
    (w as u32, h as u32)
}

/// First-layer weights W1 (d x h, d = height*width*channels) as a grid of
/// images, one per hidden unit (column), each min-max normalised on its own.
/// `image` is (height, width, channels, channel_major): channels is 1 (grey)
/// or 3 (RGB); channel-major means all red values, then green, then blue
/// (CIFAR-10), otherwise the channels of each pixel are interleaved.
pub fn weight_grid(
    path: &Path,
    w1: ArrayView2<f32>,
    image: (usize, usize, usize, bool),
) -> Result<(), PlotError> {
    let (height, width, channels, channel_major) = image;
    check_output(path)?;
    if channels != 1 && channels != 3 {
        let msg = format!("images must have 1 or 3 channels, not {channels}");
        return Err(input_err(path, msg));
    }
    let (d, units) = w1.dim();
    if height == 0 || width == 0 || d != height * width * channels {
        let msg = format!(
            "W1 has {d} rows but a {height}x{width}x{channels} image has {} values",
            height * width * channels
        );
        return Err(input_err(path, msg));
    }
    if units == 0 {
        return Err(input_err(path, "W1 has no columns (hidden units)"));
    }

    let (cols, _) = grid_shape(units);
    let scale = tile_scale(height.max(width));
    let (gw, gh) = weight_grid_size(units, height, width);
    let (gw, gh) = (gw as usize, gh as usize);
    let mut buf = vec![0u8; gw * gh * 3]; // black background and gaps
    let mut tile = vec![0u8; d];
    for (unit, column) in w1.columns().into_iter().enumerate() {
        let extent = extent(column.iter().map(|&v| v as f64).filter(|v| v.is_finite()));
        for (t, &v) in tile.iter_mut().zip(column.iter()) {
            *t = match extent {
                Some((lo, hi)) if hi > lo && v.is_finite() => {
                    (255.0 * (v as f64 - lo) / (hi - lo)).round() as u8
                }
                _ => 128,
            };
        }
        let left = (unit % cols) * (width * scale + TILE_GAP);
        let top = (unit / cols) * (height * scale + TILE_GAP);
        for y in 0..height * scale {
            for x in 0..width * scale {
                let (py, px) = (y / scale, x / scale);
                let at = 3 * ((top + y) * gw + left + x);
                for c in 0..3 {
                    let ch = if channels == 1 { 0 } else { c };
                    let idx = if channel_major {
                        ch * height * width + py * width + px
                    } else {
                        (py * width + px) * channels + ch
                    };
                    buf[at + c] = tile[idx];
                }
            }
        }
    }

    write_png(path, &buf, (gw as u32, gh as u32))
}

#[cfg(test)]
mod tests;
