//! The colour scale of the weights picture: how a weight becomes a colour, and the bar that
//! shows it with values.
//!
//! All weights share one scale, symmetric around 0, so that colours compare across units and
//! the bar can name values. Its end is the 99th percentile of |w| rather than the largest, so
//! that one outlier does not wash out the rest; weights beyond it take the end colour.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ErrFn, PlotError, Root, FONT};

/// Width in pixels of the colour bar itself.
const BAR_WIDTH: i32 = 16;
/// Width in pixels the bar and its labels take on the right of the picture.
pub const BAR_AREA: u32 = 110;

/// How a weight, divided by the scale's end, becomes a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourMap {
    /// Blue below 0, white at 0, red above: one value per pixel (heat maps, grey images).
    Diverging,
    /// Black at the negative end, mid-grey at 0, white at the positive end: each channel of an
    /// RGB image on its own.
    Grey,
}

impl ColourMap {
    /// The colour of `t`, the weight over the scale's end (clamped into -1..=1).
    pub fn colour(self, t: f64) -> RGBColor {
        let t = if t.is_finite() {
            t.clamp(-1.0, 1.0)
        } else {
            0.0
        };
        match self {
            ColourMap::Diverging => {
                let (end, s) = match t < 0.0 {
                    true => ((33.0, 102.0, 172.0), -t),
                    false => ((178.0, 24.0, 43.0), t),
                };
                let mix = |c: f64| (255.0 + (c - 255.0) * s).round() as u8;
                RGBColor(mix(end.0), mix(end.1), mix(end.2))
            }
            ColourMap::Grey => {
                let v = grey_level(t);
                RGBColor(v, v, v)
            }
        }
    }
}

/// The grey level of `t` in -1..=1: 0 (black) at -1, 128 at 0, 255 (white) at 1.
pub fn grey_level(t: f64) -> u8 {
    let t = if t.is_finite() {
        t.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    (127.5 + 127.5 * t).round() as u8
}

/// The end of the shared scale: the 99th percentile of the finite |w|; 1 when that is 0 or
/// there are none, so that a net of zeros is drawn in the middle colour.
pub fn scale_end(weights: impl Iterator<Item = f32>) -> f64 {
    let mut magnitudes: Vec<f32> = weights.filter(|w| w.is_finite()).map(f32::abs).collect();
    if magnitudes.is_empty() {
        return 1.0;
    }
    let at = (magnitudes.len() - 1) * 99 / 100;
    let (_, &mut end, _) = magnitudes.select_nth_unstable_by(at, f32::total_cmp);
    if end > 0.0 {
        end as f64
    } else {
        1.0
    }
}

/// A value for a label: three significant digits, no exponent for the sizes weights have.
pub fn value_label(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".to_string();
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    format!("{v:.decimals$}")
}

/// Draws the colour bar of `map` from `-end` (bottom) to `+end` (top) at pixel `(x, y)` of
/// `root`, `height` pixels tall, with its values at both ends and 0, and `caption` above it.
pub fn colour_bar(
    root: &Root<'_>,
    (x, y): (i32, i32),
    height: i32,
    (map, end, caption): (ColourMap, f64, &str),
    err: ErrFn,
) -> Result<(), PlotError> {
    let height = height.max(2);
    for row in 0..height {
        let t = 1.0 - 2.0 * row as f64 / (height - 1) as f64;
        let band = Rectangle::new(
            [(x, y + row), (x + BAR_WIDTH, y + row + 1)],
            map.colour(t).filled(),
        );
        root.draw(&band).map_err(|e| err(&e))?;
    }
    let frame = Rectangle::new([(x, y), (x + BAR_WIDTH, y + height)], BLACK.stroke_width(1));
    root.draw(&frame).map_err(|e| err(&e))?;
    let label_style = TextStyle::from((FONT, 13).into_font());
    let ticks = [(0, end), (height / 2, 0.0), (height - 1, -end)];
    for (row, value) in ticks {
        let tick = PathElement::new(
            [(x + BAR_WIDTH, y + row), (x + BAR_WIDTH + 4, y + row)],
            BLACK,
        );
        root.draw(&tick).map_err(|e| err(&e))?;
        let style = label_style.pos(Pos::new(HPos::Left, VPos::Center));
        let text = Text::new(value_label(value), (x + BAR_WIDTH + 7, y + row), style);
        root.draw(&text).map_err(|e| err(&e))?;
    }
    let style = label_style.pos(Pos::new(HPos::Left, VPos::Bottom));
    root.draw(&Text::new(caption.to_string(), (x - 4, y - 4), style))
        .map_err(|e| err(&e))?;
    Ok(())
}
