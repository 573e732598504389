//! `weights.png`: the first layer's weights W1 (d inputs x h hidden units), with a title and a
//! colour scale. For image data each hidden unit's column is drawn as an image (a grid of
//! tiles, each weight at least [`MIN_CELL`] pixels wide); for other data W1 is drawn as a heat
//! map, inputs down and hidden units across. Big layers show their first [`MAX_TILES`] units,
//! or the first [`MAX_HEAT_MAP`] inputs and units, and the title says so.

use std::path::Path;

use ndarray::ArrayView2;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::colour::{colour_bar, grey_level, scale_end, ColourMap, BAR_AREA};
use super::{check_output, draw_err, ensure_font, input_err, render, tick_label, PlotError, FONT};

/// The fewest pixels a weight is drawn with, across and down.
pub const MIN_CELL: usize = 4;
/// The most hidden units drawn as image tiles.
pub const MAX_TILES: usize = 100;
/// The most inputs, and the most hidden units, drawn in the heat map.
pub const MAX_HEAT_MAP: usize = 256;
/// Side in pixels that small image tiles are scaled up towards (8x8 digits become 48x48).
const TILE_TARGET: usize = 48;
/// Gap in pixels between image tiles.
const TILE_GAP: usize = 2;
/// The grey level of the gaps between tiles.
const GAP_GREY: u8 = 170;
/// Height of the title band; margin around the body.
const TITLE: usize = 44;
const PAD: usize = 12;
/// Space for the heat map's tick labels and axis names (left, below).
const AXIS_LEFT: usize = 70;
const AXIS_BELOW: usize = 50;
/// The narrowest picture (so the title fits) and the shortest colour bar.
const MIN_WIDTH: usize = 560;
const MIN_BAR: usize = 160;

/// How the weights were laid out; the picture's size follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsLayout {
    /// One image per hidden unit, in a grid.
    Tiles {
        /// Image (height, width, channels, channel-major) of the inputs.
        image: (usize, usize, usize, bool),
        /// Hidden units drawn, and in the layer.
        shown: usize,
        units: usize,
        /// Grid columns and rows.
        cols: usize,
        rows: usize,
        /// Pixels per weight, across and down.
        scale: usize,
    },
    /// A heat map of W1: one row per input, one column per hidden unit.
    HeatMap {
        /// Inputs drawn, and in the layer.
        inputs: usize,
        of_inputs: usize,
        /// Hidden units drawn, and in the layer.
        units: usize,
        of_units: usize,
        /// Pixels of one weight: (across, down).
        cell: (usize, usize),
    },
}

impl WeightsLayout {
    /// The layout for W1 of `inputs` x `units` and, for image data, the image shape.
    fn new(inputs: usize, units: usize, image: Option<(usize, usize, usize, bool)>) -> Self {
        match image {
            Some(image) => {
                let shown = units.min(MAX_TILES);
                let mut cols = (shown as f64).sqrt() as usize;
                while cols * cols < shown {
                    cols += 1;
                }
                let side = image.0.max(image.1).max(1);
                let scale = ((TILE_TARGET + side / 2) / side).max(MIN_CELL);
                let rows = shown.div_ceil(cols.max(1)).max(1);
                let cols = cols.max(1);
                WeightsLayout::Tiles {
                    image,
                    shown,
                    units,
                    cols,
                    rows,
                    scale,
                }
            }
            None => {
                let (shown_in, shown_units) = (inputs.min(MAX_HEAT_MAP), units.min(MAX_HEAT_MAP));
                let across = (800 / shown_units).clamp(MIN_CELL, 32);
                let down = (400 / shown_in).clamp(MIN_CELL, 64);
                WeightsLayout::HeatMap {
                    inputs: shown_in,
                    of_inputs: inputs,
                    units: shown_units,
                    of_units: units,
                    cell: (across, down),
                }
            }
        }
    }

    /// Pixels per weight, (across, down).
    pub fn cell(&self) -> (usize, usize) {
        match *self {
            WeightsLayout::Tiles { scale, .. } => (scale, scale),
            WeightsLayout::HeatMap { cell, .. } => cell,
        }
    }

    /// The size in pixels of the weights themselves (tiles and gaps, or the heat map).
    fn body(&self) -> (usize, usize) {
        match *self {
            WeightsLayout::Tiles {
                image,
                cols,
                rows,
                scale,
                ..
            } => (
                cols * image.1 * scale + (cols - 1) * TILE_GAP,
                rows * image.0 * scale + (rows - 1) * TILE_GAP,
            ),
            WeightsLayout::HeatMap {
                inputs,
                units,
                cell,
                ..
            } => (units * cell.0, inputs * cell.1),
        }
    }

    /// Where the body's top-left corner is in the picture.
    fn body_at(&self) -> (usize, usize) {
        match self {
            WeightsLayout::Tiles { .. } => (PAD, TITLE),
            WeightsLayout::HeatMap { .. } => (AXIS_LEFT, TITLE),
        }
    }

    /// The picture's size in pixels (width, height).
    pub fn size(&self) -> (u32, u32) {
        let (w, h) = self.body();
        let (left, top) = self.body_at();
        let below = match self {
            WeightsLayout::Tiles { .. } => PAD,
            WeightsLayout::HeatMap { .. } => AXIS_BELOW,
        };
        let width = (left + w + PAD + BAR_AREA as usize).max(MIN_WIDTH);
        (width as u32, (top + h.max(MIN_BAR) + below) as u32)
    }

    /// The title, saying what is drawn and what was left out.
    fn title(&self) -> String {
        match *self {
            WeightsLayout::Tiles {
                image,
                shown,
                units,
                ..
            } => {
                let part = match shown < units {
                    true => format!("first {shown} of {units} hidden units"),
                    false => format!("{units} hidden units"),
                };
                format!(
                    "First-layer weights: one {}x{} image per unit, {part}",
                    image.0, image.1
                )
            }
            WeightsLayout::HeatMap {
                inputs,
                of_inputs,
                units,
                of_units,
                ..
            } => {
                let count = |n: usize, of: usize, what: &str| match n < of {
                    true => format!("first {n} of {of} {what}"),
                    false => format!("{of} {what}"),
                };
                format!(
                    "First-layer weights W1: {} x {}",
                    count(inputs, of_inputs, "inputs"),
                    count(units, of_units, "hidden units")
                )
            }
        }
    }

    /// The body as RGB pixels (grey gaps between tiles, which white, the colour of 0, would
    /// hide), each weight divided by `end` and coloured.
    fn paint(&self, w1: ArrayView2<f32>, end: f64) -> Vec<u8> {
        let (bw, bh) = self.body();
        let mut buf = vec![GAP_GREY; bw * bh * 3];
        let mut fill = |x0: usize, y0: usize, (cw, ch): (usize, usize), rgb: [u8; 3]| {
            for y in y0..y0 + ch {
                for x in x0..x0 + cw {
                    buf[3 * (y * bw + x)..3 * (y * bw + x) + 3].copy_from_slice(&rgb);
                }
            }
        };
        match *self {
            WeightsLayout::Tiles {
                image: (h, w, c, channel_major),
                shown,
                cols,
                scale,
                ..
            } => {
                for unit in 0..shown {
                    let left = (unit % cols) * (w * scale + TILE_GAP);
                    let top = (unit / cols) * (h * scale + TILE_GAP);
                    for (py, px) in (0..h).flat_map(|y| (0..w).map(move |x| (y, x))) {
                        let value = |ch: usize| {
                            let row = match channel_major {
                                true => ch * h * w + py * w + px,
                                false => (py * w + px) * c + ch,
                            };
                            w1[[row, unit]] as f64 / end
                        };
                        let rgb = match c {
                            1 => ColourMap::Diverging.colour(value(0)).rgb().into(),
                            _ => [
                                grey_level(value(0)),
                                grey_level(value(1)),
                                grey_level(value(2)),
                            ],
                        };
                        fill(left + px * scale, top + py * scale, (scale, scale), rgb);
                    }
                }
            }
            WeightsLayout::HeatMap {
                inputs,
                units,
                cell,
                ..
            } => {
                for (i, u) in (0..inputs).flat_map(|i| (0..units).map(move |u| (i, u))) {
                    let rgb = ColourMap::Diverging
                        .colour(w1[[i, u]] as f64 / end)
                        .rgb()
                        .into();
                    fill(u * cell.0, i * cell.1, cell, rgb);
                }
            }
        }
        buf
    }
}

/// Draws `weights.png` at `path` from W1 (d x h); `image` is the inputs' (height, width,
/// channels, channel-major) for image data (channels 1 or 3; channel-major means all red
/// values, then green, then blue, as in CIFAR-10), None for other data. Returns the layout drawn.
pub fn weights_picture(
    path: &Path,
    w1: ArrayView2<f32>,
    image: Option<(usize, usize, usize, bool)>,
) -> Result<WeightsLayout, PlotError> {
    check_output(path)?;
    let (d, units) = w1.dim();
    if let Some((height, width, channels, _)) = image {
        if channels != 1 && channels != 3 {
            let msg = format!("images must have 1 or 3 channels, not {channels}");
            return Err(input_err(path, msg));
        }
        if height == 0 || width == 0 || d != height * width * channels {
            let msg = format!(
                "W1 has {d} rows but a {height}x{width}x{channels} image has {} values",
                height * width * channels
            );
            return Err(input_err(path, msg));
        }
    }
    if d == 0 || units == 0 {
        let msg = format!("W1 is {d} x {units}: it has no inputs or no hidden units");
        return Err(input_err(path, msg));
    }
    ensure_font().map_err(|message| PlotError::Font {
        path: path.to_path_buf(),
        message,
    })?;

    let layout = WeightsLayout::new(d, units, image);
    let end = scale_end(w1.iter().copied());
    let body = layout.paint(w1, end);
    let ((bw, bh), (left, top)) = (layout.body(), layout.body_at());
    let size = layout.size();
    let err = draw_err(path, "drawing the weights");
    render(path, size, &err, |root| {
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let title_style =
            TextStyle::from((FONT, 18).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(
            layout.title(),
            (PAD as i32, TITLE as i32 / 2),
            title_style,
        ))
        .map_err(|e| err(&e))?;
        let element = BitMapElement::with_owned_buffer(
            (left as i32, top as i32),
            (bw as u32, bh as u32),
            body,
        )
        .ok_or_else(|| input_err(path, "the weights picture has the wrong size"))?;
        root.draw(&element).map_err(|e| err(&e))?;
        if let WeightsLayout::HeatMap { inputs, units, .. } = layout {
            let corners = [
                (left as i32 - 1, top as i32 - 1),
                ((left + bw) as i32, (top + bh) as i32),
            ];
            root.draw(&Rectangle::new(corners, BLACK.stroke_width(1)))
                .map_err(|e| err(&e))?;
            heat_map_axes(root, &layout, (inputs, units), &err)?;
        }
        let (map, caption) = match image {
            Some((_, _, 3, _)) => (ColourMap::Grey, "weight (per channel)"),
            _ => (ColourMap::Diverging, "weight"),
        };
        let bar_x = (size.0 - BAR_AREA) as i32 + 20;
        let bar_h = bh.max(MIN_BAR) as i32 - 20;
        colour_bar(
            root,
            (bar_x, top as i32 + 20),
            bar_h,
            (map, end, caption),
            &err,
        )
    })?;
    Ok(layout)
}

/// Tick labels (input and unit numbers, from 0, at cell centres) and axis names around the
/// heat map.
fn heat_map_axes(
    root: &super::Root<'_>,
    layout: &WeightsLayout,
    (inputs, units): (usize, usize),
    err: super::ErrFn,
) -> Result<(), PlotError> {
    let ((cw, ch), (left, top)) = (layout.cell(), layout.body_at());
    let (bw, bh) = layout.body();
    let style = TextStyle::from((FONT, 12).into_font());
    // About one label every 60 pixels across and 30 down, on round numbers.
    let step = |n: usize, px: usize, every: usize| {
        let raw = (n * every).div_ceil(px.max(1)).max(1);
        [1, 2, 5, 10, 20, 25, 50, 100]
            .into_iter()
            .find(|&s| s >= raw)
            .unwrap_or(raw)
    };
    for u in (0..units).step_by(step(units, bw, 60)) {
        let x = (left + u * cw + cw / 2) as i32;
        let at = (x, (top + bh + 4) as i32);
        let text = Text::new(
            tick_label(&(u as f64)),
            at,
            style.pos(Pos::new(HPos::Center, VPos::Top)),
        );
        root.draw(&text).map_err(|e| err(&e))?;
    }
    for i in (0..inputs).step_by(step(inputs, bh, 30)) {
        let y = (top + i * ch + ch / 2) as i32;
        let at = ((left - 6) as i32, y);
        let text = Text::new(
            tick_label(&(i as f64)),
            at,
            style.pos(Pos::new(HPos::Right, VPos::Center)),
        );
        root.draw(&text).map_err(|e| err(&e))?;
    }
    let axis = TextStyle::from((FONT, 14).into_font());
    let below = ((left + bw / 2) as i32, (top + bh + 24) as i32);
    root.draw(&Text::new(
        "hidden unit",
        below,
        axis.pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(|e| err(&e))?;
    let beside = (6, (top + bh / 2) as i32);
    let vertical = axis
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Center, VPos::Top));
    root.draw(&Text::new("input", beside, vertical))
        .map_err(|e| err(&e))?;
    Ok(())
}
